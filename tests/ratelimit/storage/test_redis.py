"""Redis storage specifics: TTLs, scripts, errors, and many OS processes sharing one server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import struct
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
import redis.asyncio as aioredis

from distillguard.errors import ConfigurationError, StorageError
from distillguard.ratelimit.base import Demand, Lease, LimitKind, Rule
from distillguard.ratelimit.storage.memory import MemoryLimiter
from distillguard.ratelimit.storage.redis import RedisLimiter

from ..conftest import demand
from ..proxy import TcpProxy

pytestmark = [pytest.mark.redis, pytest.mark.usefixtures("purged")]
WORKER = Path(__file__).with_name("redis_worker.py")


@pytest.fixture
async def limiter(redis_url: str, prefix: str) -> AsyncIterator[RedisLimiter]:
    limiter = RedisLimiter.from_url(redis_url, key_prefix=prefix)
    yield limiter
    await limiter.aclose()


@pytest.fixture
async def client(redis_url: str, prefix: str) -> AsyncIterator[Any]:
    client: Any = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_every_key_has_a_ttl(limiter: RedisLimiter, client: Any, prefix: str) -> None:
    demands = [
        demand(prefix, "rpm", 10, period_s=60.0),
        demand(prefix, "daily_tokens", 100, cost=7),
        demand(prefix, "concurrent", 2),
    ]
    decision = await limiter.acquire(demands)
    assert decision.lease is not None
    keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
    assert len(keys) == 4  # three counters and the lease record
    for key in keys:
        ttl = await client.pttl(key)
        assert 0 < ttl <= 26 * 3600 * 1000, key
    # a rate bucket lives only until it is full again: one request of 10/min -> 6 s
    assert await client.pttl(f"{prefix}s:rpm") <= 6_001
    await limiter.settle(decision.lease, {})
    assert [key async for key in client.scan_iter(match=f"{prefix}lease:*", count=1000)] == []


async def test_script_is_reloaded_after_noscript(limiter: RedisLimiter, prefix: str) -> None:
    limiter._acquire.sha = "0" * 40  # as after SCRIPT FLUSH or a failover to a new primary
    decision = await limiter.acquire([demand(prefix, "rpm", 1)])
    assert decision.allowed
    assert limiter._acquire.sha != "0" * 40


async def test_rate_buckets_are_binary_and_other_values_count_as_empty(
    limiter: RedisLimiter, client: Any, prefix: str
) -> None:
    rpm = [demand(prefix, "rpm", 3)]
    await client.set(f"{prefix}s:rpm", "7200000000 1700000000000000", px=60_000)  # not ours
    decision = await limiter.acquire(rpm)
    assert decision.allowed and decision.states[0].remaining == 2
    stored = await client.get(f"{prefix}s:rpm")
    level, at = struct.unpack("<dd", stored)
    assert level == 3600 * 1_000_000  # one unit costs the period in µs (capacity: 3 of them)
    assert at > 1.7e15


async def test_processes_share_counters(redis_url: str, prefix: str) -> None:
    first = RedisLimiter.from_url(redis_url, key_prefix=prefix)
    second = RedisLimiter.from_url(redis_url, key_prefix=prefix)
    try:
        rpm = [demand(prefix, "rpm", 2)]
        results = [await first.acquire(rpm), await second.acquire(rpm), await first.acquire(rpm)]
        assert [d.allowed for d in results] == [True, True, False]
        lease = results[0].lease
        assert lease is not None
        await second.settle(lease, {})  # a lease can be settled by any process
    finally:
        await first.aclose()
        await second.aclose()


async def test_unreachable_server_raises_storage_error(prefix: str) -> None:
    limiter = RedisLimiter.from_url(f"redis://127.0.0.1:{closed_port()}/0", key_prefix=prefix)
    try:
        with pytest.raises(StorageError):
            await limiter.acquire([demand(prefix, "rpm", 1)])
        with pytest.raises(StorageError):
            await limiter.check()
    finally:
        await limiter.aclose()


async def test_check_pings(limiter: RedisLimiter) -> None:
    await limiter.check()


async def test_cancelled_acquire_does_not_keep_a_slot(
    limiter: RedisLimiter, client: Any, prefix: str
) -> None:
    slots = [demand(prefix, "concurrent", 5)]
    for delay in (0, 0.0002, 0.0005, 0.001):
        task = asyncio.create_task(limiter.acquire(slots))
        await asyncio.sleep(delay)
        task.cancel()
        decision = None
        with contextlib.suppress(asyncio.CancelledError):
            decision = await task
        if decision is not None and decision.lease is not None:
            await limiter.settle(decision.lease, {})
    await asyncio.gather(*limiter._background)
    assert await client.zcard(f"{prefix}s:concurrent") == 0


async def test_many_concurrent_acquires_share_one_connection(
    limiter: RedisLimiter, client: Any, prefix: str
) -> None:
    rpm = demand(prefix, "rpm", 700)
    slots = demand(prefix, "concurrent", 2000)
    decisions = await asyncio.gather(*(limiter.acquire([rpm, slots]) for _ in range(1000)))
    assert sum(d.allowed for d in decisions) == 700
    assert sorted(d.states[0].remaining for d in decisions if d.allowed) == list(range(700))
    assert await client.zcard(f"{prefix}s:concurrent") == 700
    await asyncio.gather(*(limiter.settle(d.lease, {}) for d in decisions if d.lease))
    assert await client.zcard(f"{prefix}s:concurrent") == 0


async def test_recovers_when_the_connection_is_cut(redis_url: str, prefix: str) -> None:
    target = urlsplit(redis_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 6379)
    await proxy.start()
    limiter = RedisLimiter.from_url(
        f"redis://127.0.0.1:{proxy.port}{target.path}", key_prefix=prefix, timeout_s=2.0
    )
    try:
        rpm = [demand(prefix, "rpm", 10)]
        assert (await limiter.acquire(rpm)).allowed
        await proxy.stop()  # as when Redis restarts
        with pytest.raises(StorageError):
            await limiter.acquire(rpm)
        with pytest.raises(StorageError):
            await limiter.check()
        await proxy.start()
        decision = await limiter.acquire(rpm)
        assert decision.allowed and decision.states[0].remaining == 8
    finally:
        await limiter.aclose()
        await proxy.stop()


async def test_an_acquire_whose_reply_is_lost_is_released_when_redis_answers(
    redis_url: str, prefix: str
) -> None:
    target = urlsplit(redis_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 6379)
    await proxy.start()
    limiter = RedisLimiter.from_url(
        f"redis://127.0.0.1:{proxy.port}{target.path}", key_prefix=prefix, timeout_s=0.3
    )
    try:
        slot = [demand(prefix, "concurrent", 1)]
        await limiter.check()
        proxy.mute = True  # the script runs and takes the slot; its reply never comes back
        with pytest.raises(StorageError, match="TimeoutError"):
            await limiter.acquire(slot)
        proxy.mute = False
        await limiter.check()  # Redis answers again: the lost lease is released
        await asyncio.gather(*limiter._background)
        assert (await limiter.acquire(slot)).allowed
    finally:
        await limiter.aclose()
        await proxy.stop()


@pytest.mark.integration
def test_processes_never_over_admit_and_return_every_slot(redis_url: str, prefix: str) -> None:
    processes, tasks = 3, 60
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), redis_url, prefix, str(processes), str(tasks)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    reports = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        reports.append(json.loads(out))
    assert [report["errors"] for report in reports] == [[]] * processes
    assert sum(report["admitted"] for report in reports) == 100  # RATE_LIMIT in the worker
    assert sum(report["cancelled"] for report in reports) > 0
    events = sorted(
        [(start, 1) for r in reports for start, _ in r["holds"]]
        + [(end, -1) for r in reports for _, end in r["holds"]],
        key=lambda e: (e[0], e[1]),
    )
    in_flight = peak = 0
    for _, step in events:
        in_flight += step
        peak = max(peak, in_flight)
    assert 1 <= peak <= 5  # SLOTS in the worker
    sync = redis.Redis.from_url(redis_url)
    try:
        assert sync.zcard(f"{prefix}s:concurrent") == 0
        assert list(sync.scan_iter(match=f"{prefix}lease:*", count=1000)) == []
    finally:
        sync.close()


@pytest.mark.parametrize("seed", range(8))
async def test_redis_agrees_with_memory_step_by_step(
    redis_url: str, prefix: str, seed: int
) -> None:
    """The Lua scripts and the Python algorithms decide every step identically."""
    rng = random.Random(seed)
    memory = MemoryLimiter()
    shared = RedisLimiter.from_url(redis_url, key_prefix=prefix, timeout_s=5.0)
    names = [("rpm", 5), ("itpm_tokens", 100), ("daily_tokens", 150), ("concurrent", 2)]
    held: list[tuple[Lease, Lease]] = []
    outcomes: set[bool] = set()
    try:
        for _ in range(40):
            if held and rng.random() < 0.35:
                pair = held.pop(rng.randrange(len(held)))
                actual = {"itpm_tokens": rng.randrange(120), "daily_tokens": rng.randrange(120)}
                await memory.settle(pair[0], actual)
                await shared.settle(pair[1], actual)
                continue
            chosen = rng.sample(names, rng.randrange(1, len(names) + 1))
            demands = [
                demand(prefix, name, limit, cost=rng.randrange(0, 70) if "tok" in name else 1)
                for name, limit in chosen
            ]
            mine, theirs = await memory.acquire(demands), await shared.acquire(demands)
            outcomes.add(mine.allowed)
            assert mine.allowed == theirs.allowed
            assert [s.remaining for s in mine.states] == [s.remaining for s in theirs.states]
            if not mine.allowed:
                assert mine.blocking is not None and theirs.blocking is not None
                assert mine.blocking.demand == theirs.blocking.demand
                assert (mine.blocking.retry_after_s is None) == (
                    theirs.blocking.retry_after_s is None
                )
            elif mine.lease is not None and theirs.lease is not None:
                held.append((mine.lease, theirs.lease))
        assert outcomes == {True, False}
    finally:
        await shared.aclose()


def test_bad_options_fail_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="no_such_option"):
        RedisLimiter.from_url("redis://127.0.0.1:6379/0", no_such_option=1)


async def test_rules_too_large_to_count_exactly_are_refused(limiter: RedisLimiter) -> None:
    huge = Demand("k", "key", Rule("itpm", LimitKind.RATE, 10**9, 60.0), 1)
    with pytest.raises(ConfigurationError, match="too large"):
        await limiter.acquire([huge])
