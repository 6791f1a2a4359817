"""Memory storage specifics: an injected clock makes time exact, and memory stays bounded."""

from __future__ import annotations

import pytest

from distillguard.errors import ConfigurationError
from distillguard.ratelimit.base import Demand, LimitKind, Rule
from distillguard.ratelimit.daily import DAY_US
from distillguard.ratelimit.storage import from_url
from distillguard.ratelimit.storage.memory import MemoryLimiter

from ..conftest import demand


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_refill_is_exact_to_the_microsecond() -> None:
    clock = Clock()
    limiter = MemoryLimiter(clock=clock)
    rpm = [demand("", "rpm", 3, period_s=1.0)]
    assert all([(await limiter.acquire(rpm)).allowed for _ in range(3)])
    refused = await limiter.acquire(rpm)
    assert refused.blocking is not None and refused.blocking.retry_after_s == 0.333334  # rounded up
    clock.now += 0.333333  # a third of a second, rounded down to the microsecond
    assert not (await limiter.acquire(rpm)).allowed
    clock.now += 0.000001
    assert (await limiter.acquire(rpm)).allowed


async def test_daily_counters_reset_at_utc_midnight() -> None:
    clock = Clock(float(20_000 * DAY_US // 1_000_000) - 1.0)  # one second before midnight
    limiter = MemoryLimiter(clock=clock)
    cap = [demand("", "daily_requests", 1)]
    first = await limiter.acquire(cap)
    refused = await limiter.acquire(cap)
    assert refused.blocking is not None and refused.blocking.retry_after_s == pytest.approx(1.0)
    clock.now += 1.0
    assert (await limiter.acquire(cap)).allowed
    assert first.lease is not None
    await limiter.settle(first.lease, {"daily_requests": 0})  # yesterday's: changes nothing today
    assert not (await limiter.acquire(cap)).allowed


async def test_idle_buckets_are_forgotten() -> None:
    clock = Clock()
    limiter = MemoryLimiter(clock=clock)
    for n in range(1000):
        await limiter.acquire([demand("", "rpm", 10, period_s=60.0, subject=f"ip{n}")])
    assert len(limiter._buckets) == 1000
    for _ in range(3):
        clock.now += 61.0
        await limiter.acquire([demand("", "rpm", 10, period_s=60.0, subject="busy")])
    assert len(limiter._buckets) + len(limiter._old_buckets) == 1


async def test_rotation_waits_for_the_longest_period() -> None:
    clock = Clock()
    limiter = MemoryLimiter(clock=clock)
    hourly = [demand("", "itpm", 1, period_s=3600.0)]
    assert (await limiter.acquire(hourly)).allowed
    for _ in range(50):
        clock.now += 61.0
        await limiter.acquire([demand("", "rpm", 10, subject="other")])
    assert not (await limiter.acquire(hourly)).allowed  # 50 minutes: not refilled, not forgotten


async def test_expired_leases_are_swept() -> None:
    clock = Clock()
    limiter = MemoryLimiter(clock=clock, lease_ttl_s=10.0)
    decision = await limiter.acquire([demand("", "concurrent", 1)])
    assert decision.lease is not None and limiter.holds(decision.lease.id)
    clock.now += 11.0
    await limiter.acquire([])
    assert not limiter.holds(decision.lease.id)


async def test_invalid_rules_and_options_are_configuration_errors() -> None:
    limiter = MemoryLimiter()
    bad = Demand("k", "key", Rule("rpm", LimitKind.RATE, 10, 0.0), 1)
    with pytest.raises(ConfigurationError, match="period_s"):
        await limiter.acquire([bad])
    with pytest.raises(ConfigurationError):
        MemoryLimiter(lease_ttl_s=0)
    with pytest.raises(ConfigurationError):
        from_url("memory://", no_such_option=1)


async def test_duplicate_keys_in_one_request_are_charged_twice() -> None:
    limiter = MemoryLimiter()
    same = demand("", "rpm", 3)
    assert (await limiter.acquire([same, same])).allowed
    assert not (await limiter.acquire([same, same])).allowed
    assert (await limiter.acquire([same])).allowed


def test_from_url_builds_a_memory_limiter_and_ignores_failover() -> None:
    limiter = from_url("memory://", failover="closed", lease_ttl_s=30.0)
    assert isinstance(limiter, MemoryLimiter)
