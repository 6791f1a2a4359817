"""The limiter contract, run against every storage (memory and a real Redis)."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from distillguard.errors import InputError
from distillguard.ratelimit.base import Decision, Demand, Limiter
from distillguard.ratelimit.daily import until_midnight_us

from .conftest import Factory, demand


async def admitted(limiter: Limiter, demands: list[Demand], times: int) -> list[Decision]:
    return [await limiter.acquire(demands) for _ in range(times)]


async def test_admits_exactly_the_limit(make_limiter: Factory, prefix: str) -> None:
    limiter = await make_limiter()
    rpm = [demand(prefix, "rpm", 5, period_s=60.0)]
    decisions = await admitted(limiter, rpm, 6)
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.states[0].remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    refused = decisions[5]
    assert refused.lease is None
    assert refused.blocking is not None and refused.blocking.demand == rpm[0]
    # one unit refills every 60 / 5 = 12 s
    assert refused.blocking.retry_after_s == pytest.approx(12.0, abs=0.5)
    assert refused.states[0].reset_s == pytest.approx(60.0, abs=0.5)


async def test_refusal_charges_nothing(make_limiter: Factory, prefix: str) -> None:
    limiter = await make_limiter()
    roomy = demand(prefix, "rpm", 10)
    daily = demand(prefix, "daily_requests", 10)
    slots = demand(prefix, "concurrent", 10)
    tight = demand(prefix, "otpm", 1, subject="t")
    assert (await limiter.acquire([tight])).allowed
    refused = await limiter.acquire([roomy, daily, slots, tight])
    assert not refused.allowed
    assert refused.blocking is not None and refused.blocking.demand == tight
    assert [s.remaining for s in refused.states] == [10, 10, 10, 0]
    decisions = await admitted(limiter, [roomy, daily, slots], 10)
    assert all(d.allowed for d in decisions)
    assert not (await limiter.acquire([roomy])).allowed


async def test_blocking_is_the_longest_wait(make_limiter: Factory, prefix: str) -> None:
    limiter = await make_limiter()
    short = demand(prefix, "rpm", 1, period_s=60.0)
    long = demand(prefix, "itpm", 1, period_s=600.0)
    await limiter.acquire([short, long])
    refused = await limiter.acquire([short, long])
    assert refused.blocking is not None and refused.blocking.demand == long
    assert refused.blocking.retry_after_s == pytest.approx(600.0, abs=1.0)


async def test_budget_refills_continuously(make_limiter: Factory, prefix: str) -> None:
    limiter = await make_limiter()
    rps = [demand(prefix, "rpm", 4, period_s=0.8)]  # one unit back every 0.2 s
    assert all(d.allowed for d in await admitted(limiter, rps, 4))
    refused = await limiter.acquire(rps)
    assert not refused.allowed
    assert refused.blocking is not None
    retry = refused.blocking.retry_after_s
    assert retry is not None and 0.0 < retry <= 0.2
    await asyncio.sleep(retry + 0.02)
    assert (await limiter.acquire(rps)).allowed
    await asyncio.sleep(0.85)
    assert all(d.allowed for d in await admitted(limiter, rps, 4))


async def test_cost_above_the_limit_never_fits(make_limiter: Factory, prefix: str) -> None:
    limiter = await make_limiter()
    for name in ("itpm", "daily_tokens", "concurrent"):
        too_big = demand(prefix, name, 10, cost=11)
        refused = await limiter.acquire([too_big])
        assert not refused.allowed
        assert refused.blocking is not None and refused.blocking.retry_after_s is None
        assert (await limiter.acquire([demand(prefix, name, 10, cost=10)])).allowed


async def test_daily_cap_counts_the_utc_day(make_limiter: Factory, prefix: str) -> None:
    limiter = await make_limiter()
    assert (await limiter.acquire([demand(prefix, "daily_tokens", 3, cost=2)])).allowed
    refused = await limiter.acquire([demand(prefix, "daily_tokens", 3, cost=2)])
    assert not refused.allowed
    assert refused.blocking is not None and refused.blocking.retry_after_s is not None
    to_midnight = until_midnight_us(int(time.time() * 1_000_000)) / 1_000_000
    assert refused.blocking.retry_after_s == pytest.approx(to_midnight, abs=2.0)
    last = await limiter.acquire([demand(prefix, "daily_tokens", 3, cost=1)])
    assert last.allowed
    assert last.states[0].remaining == 0
    assert last.states[0].reset_s == pytest.approx(to_midnight, abs=2.0)


async def test_concurrency_slots_are_held_until_settled(make_limiter: Factory, prefix: str) -> None:
    limiter = await make_limiter()
    slots = [demand(prefix, "concurrent", 2)]
    first, second, third = await admitted(limiter, slots, 3)
    assert first.allowed and second.allowed and not third.allowed
    assert third.blocking is not None and third.blocking.retry_after_s == pytest.approx(1.0)
    assert first.lease is not None
    await limiter.settle(first.lease, {})
    fourth = await limiter.acquire(slots)
    assert fourth.allowed and fourth.states[0].remaining == 0


async def test_settle_corrects_reservations_down(make_limiter: Factory, prefix: str) -> None:
    limiter = await make_limiter()
    otpm = demand(prefix, "otpm", 100, cost=80)
    tokens = demand(prefix, "daily_tokens", 100, cost=80)
    decision = await limiter.acquire([otpm, tokens])
    assert decision.lease is not None
    assert not (await limiter.acquire([otpm])).allowed
    await limiter.settle(decision.lease, {"otpm": 20, "daily_tokens": 20})
    again = await limiter.acquire([otpm, tokens])
    assert again.allowed
    assert [s.remaining for s in again.states] == [0, 0]


async def test_settle_corrects_reservations_up(make_limiter: Factory, prefix: str) -> None:
    limiter = await make_limiter()
    itpm = demand(prefix, "itpm", 100, cost=10)
    tokens = demand(prefix, "daily_tokens", 100, cost=10)
    decision = await limiter.acquire([itpm, tokens])
    assert decision.lease is not None
    await limiter.settle(decision.lease, {"itpm": 150, "daily_tokens": 95})
    refused = await limiter.acquire([demand(prefix, "itpm", 100, cost=1)])
    assert not refused.allowed and refused.states[0].remaining == 0
    assert refused.blocking is not None and refused.blocking.retry_after_s is not None
    assert (await limiter.acquire([demand(prefix, "daily_tokens", 100, cost=5)])).allowed
    assert not (await limiter.acquire([demand(prefix, "daily_tokens", 100, cost=1)])).allowed


async def test_settle_never_goes_below_zero(make_limiter: Factory, prefix: str) -> None:
    limiter = await make_limiter()
    itpm = demand(prefix, "itpm", 100, cost=50)
    decision = await limiter.acquire([itpm])
    assert decision.lease is not None
    await limiter.settle(decision.lease, {"itpm": 0})
    second = await limiter.acquire([demand(prefix, "itpm", 100, cost=100)])
    assert second.allowed
    assert not (await limiter.acquire([demand(prefix, "itpm", 100, cost=1)])).allowed


async def test_settling_twice_is_a_no_op(make_limiter: Factory, prefix: str) -> None:
    limiter = await make_limiter()
    itpm = demand(prefix, "itpm", 100, cost=10)
    slots = demand(prefix, "concurrent", 1)
    first = await limiter.acquire([itpm, slots])
    assert first.lease is not None
    await limiter.settle(first.lease, {"itpm": 60})
    second = await limiter.acquire([itpm, slots])
    assert second.allowed
    await limiter.settle(first.lease, {"itpm": 60})
    await limiter.settle(first.lease, {"itpm": 0})
    assert not (await limiter.acquire([slots])).allowed  # second still holds the only slot
    state = (await limiter.acquire([demand(prefix, "itpm", 100, cost=30)])).states[0]
    assert state.remaining == 0  # 60 + 10 + 30: neither repeat settle changed the count


async def test_settle_rejects_negative_actuals(make_limiter: Factory, prefix: str) -> None:
    limiter = await make_limiter()
    decision = await limiter.acquire([demand(prefix, "itpm", 100, cost=10)])
    assert decision.lease is not None
    with pytest.raises(InputError):
        await limiter.settle(decision.lease, {"itpm": -1})


async def test_expired_leases_free_their_slots(make_limiter: Factory, prefix: str) -> None:
    limiter = await make_limiter(lease_ttl_s=0.4)
    slots = [demand(prefix, "concurrent", 1)]
    lost = await limiter.acquire(slots)  # never settled, as if the process had crashed
    assert lost.allowed and lost.lease is not None
    assert not (await limiter.acquire(slots)).allowed
    await asyncio.sleep(0.45)
    fresh = await limiter.acquire(slots)
    assert fresh.allowed
    await limiter.settle(lost.lease, {})  # too late: must not free the fresh lease's slot
    assert not (await limiter.acquire(slots)).allowed


async def test_many_tasks_never_over_admit(make_limiter: Factory, prefix: str) -> None:
    limiter = await make_limiter()
    rpm = demand(prefix, "rpm", 37)
    tokens = demand(prefix, "itpm", 10_000, cost=100)
    decisions = await asyncio.gather(*(limiter.acquire([rpm, tokens]) for _ in range(120)))
    assert sum(d.allowed for d in decisions) == 37


async def test_concurrent_holders_stay_within_slots(make_limiter: Factory, prefix: str) -> None:
    limiter = await make_limiter()
    slots = [demand(prefix, "concurrent", 3)]
    in_flight = peak = served = 0

    async def request() -> None:
        nonlocal in_flight, peak, served
        while True:
            decision = await limiter.acquire(slots)
            if decision.allowed:
                break
            await asyncio.sleep(0.002)
        assert decision.lease is not None
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            await asyncio.sleep(random.uniform(0.001, 0.005))
        finally:
            in_flight -= 1
            served += 1
            await limiter.settle(decision.lease, {})

    await asyncio.gather(*(request() for _ in range(30)))
    assert served == 30
    assert peak == 3
    after = await admitted(limiter, slots, 4)
    assert [d.allowed for d in after] == [True, True, True, False]


async def test_negative_costs_are_refused_without_charging(
    make_limiter: Factory, prefix: str
) -> None:
    limiter = await make_limiter()
    rpm = demand(prefix, "rpm", 1)
    with pytest.raises(InputError, match="cost"):
        await limiter.acquire([rpm, demand(prefix, "itpm", 10, cost=-5)])
    assert (await limiter.acquire([rpm])).allowed
