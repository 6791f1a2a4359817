"""Failover when Redis is unreachable: a closed port, and a proxy that cuts Redis off."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from prometheus_client import REGISTRY

from distillguard.errors import ConfigurationError, StorageError
from distillguard.ratelimit.failover import FailoverLimiter
from distillguard.ratelimit.storage import from_url
from distillguard.ratelimit.storage.memory import MemoryLimiter

from .conftest import demand
from .proxy import TcpProxy

pytestmark = [pytest.mark.redis, pytest.mark.usefixtures("purged")]


def errors(mode: str) -> float:
    return REGISTRY.get_sample_value("dg_limiter_storage_errors_total", {"mode": mode}) or 0.0


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def proxy(redis_url: str) -> AsyncIterator[TcpProxy]:
    target = urlsplit(redis_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 6379)
    await proxy.start()
    yield proxy
    await proxy.stop()


def proxied(redis_url: str, proxy: TcpProxy) -> str:
    return f"redis://127.0.0.1:{proxy.port}{urlsplit(redis_url).path}"


async def test_open_mode_limits_locally_while_redis_is_down(
    prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = from_url(f"redis://127.0.0.1:{closed_port()}/0", failover="open", key_prefix=prefix)
    before = errors("open")
    rpm = [demand(prefix, "rpm", 2), demand(prefix, "concurrent", 5)]
    with caplog.at_level(logging.WARNING, logger="distillguard.ratelimit.failover"):
        decisions = [await limiter.acquire(rpm) for _ in range(3)]
    assert [(d.allowed, d.degraded) for d in decisions] == [
        (True, True),
        (True, True),
        (False, True),
    ]
    assert errors("open") == before + 1  # the circuit stays open: one failure, not three
    record = next(r for r in caplog.records if getattr(r, "event", "") == "limiter_storage_error")
    assert record.operation == "acquire" and record.failover == "open"  # type: ignore[attr-defined]
    lease = decisions[0].lease
    assert lease is not None
    two_slots = [demand(prefix, "concurrent", 2)]
    assert not (await limiter.acquire(two_slots)).allowed  # both admitted requests hold one
    await limiter.settle(lease, {})  # settled in the local fallback that issued it
    assert (await limiter.acquire(two_slots)).allowed
    await limiter.aclose()


async def test_closed_mode_refuses_while_redis_is_down(prefix: str) -> None:
    limiter = from_url(f"redis://127.0.0.1:{closed_port()}/0", failover="closed")
    before = errors("closed")
    decision = await limiter.acquire([demand(prefix, "rpm", 100)])
    assert not decision.allowed and decision.degraded and decision.lease is None
    assert decision.blocking is not None and decision.blocking.retry_after_s == 1.0
    assert errors("closed") == before + 1
    with pytest.raises(StorageError):
        await limiter.check()
    assert errors("closed") == before + 2
    await limiter.aclose()


async def test_recovers_and_replays_settles_when_redis_returns(
    redis_url: str, proxy: TcpProxy, prefix: str
) -> None:
    limiter = from_url(
        proxied(redis_url, proxy), failover="closed", key_prefix=prefix, retry_interval_s=0.05
    )
    assert isinstance(limiter, FailoverLimiter)
    slot = [demand(prefix, "concurrent", 1)]
    held = await limiter.acquire(slot)
    assert held.allowed and not held.degraded and held.lease is not None

    await proxy.stop()
    assert (await limiter.acquire(slot)).degraded
    assert limiter.degraded
    await limiter.settle(held.lease, {})  # cannot reach Redis: queued, not raised

    await proxy.start()
    await asyncio.sleep(0.06)
    probe = await limiter.acquire([demand(prefix, "rpm", 10)])
    assert probe.allowed and not probe.degraded and not limiter.degraded
    replay = limiter._replay  # the queued settle is replayed in the background
    assert replay is not None
    await replay
    again = await limiter.acquire(slot)
    assert again.allowed and not again.degraded  # the slot held before the outage came back
    await limiter.aclose()


async def test_a_silent_redis_is_probed_by_one_request_at_a_time(
    redis_url: str, proxy: TcpProxy, prefix: str
) -> None:
    limiter = from_url(
        proxied(redis_url, proxy),
        failover="open",
        key_prefix=prefix,
        retry_interval_s=0.05,
        timeout_s=0.3,
    )
    rpm = [demand(prefix, "rpm", 100)]
    await proxy.stop()
    proxy.hang = True
    await proxy.start()
    before = errors("open")
    first = await limiter.acquire(rpm)  # waits for its timeout, then decides locally
    assert first.allowed and first.degraded
    await asyncio.sleep(0.06)
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def timed() -> float:
        await limiter.acquire(rpm)
        return loop.time() - started

    durations = sorted(await asyncio.gather(*(timed() for _ in range(5))))
    assert durations[-1] >= 0.25  # the probe waited for Redis
    assert durations[-2] < 0.2  # the others did not
    assert errors("open") == before + 2
    await limiter.aclose()


async def test_settle_failure_is_counted_not_raised(
    redis_url: str, proxy: TcpProxy, prefix: str
) -> None:
    limiter = from_url(proxied(redis_url, proxy), failover="open", key_prefix=prefix)
    decision = await limiter.acquire([demand(prefix, "rpm", 10)])
    assert decision.lease is not None and not decision.degraded
    await proxy.stop()
    before = errors("open")
    await limiter.settle(decision.lease, {})
    assert errors("open") == before + 1
    await limiter.aclose()


async def test_latency_is_observed(prefix: str) -> None:
    def count() -> float:
        value = REGISTRY.get_sample_value("dg_limiter_seconds_count", {"storage": "redis"})
        return value or 0.0

    limiter = FailoverLimiter(MemoryLimiter(), mode="open")
    before = count()
    await limiter.acquire([demand(prefix, "rpm", 1)])
    assert count() == before + 1
    await limiter.aclose()


def test_unknown_mode_and_scheme_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="failover mode"):
        FailoverLimiter(MemoryLimiter(), mode="sideways")
    with pytest.raises(ConfigurationError, match="memory://"):
        from_url("memcached://localhost")
