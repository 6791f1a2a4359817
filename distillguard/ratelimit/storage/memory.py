"""The in-process limiter: the default storage and the reference behaviour.

Exact under asyncio concurrency because :meth:`MemoryLimiter.acquire` never awaits: the
whole check-and-charge runs without yielding to the event loop. It charges demands in
order and, when one does not fit, gives back what it already took, so a refused request
leaves every counter as it found it. Counters belong to one process; many gateway
processes need ``redis://``.

Memory stays bounded: rate buckets live in two generations that rotate every
``max(60 s, longest period seen)``; a bucket untouched for a whole generation is full again
and is simply forgotten. Daily counters are dropped when the UTC day changes, expired
leases and empty concurrency counters are swept once a second and once a rotation.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence

from distillguard.errors import ConfigurationError, InputError
from distillguard.ratelimit import gcra
from distillguard.ratelimit.base import Decision, Demand, Lease, LimitKind, LimitState
from distillguard.ratelimit.concurrency import DEFAULT_LEASE_TTL_S, Slots
from distillguard.ratelimit.daily import DAY_US, DailyCounters, until_midnight_us
from distillguard.ratelimit.gcra import US, Bucket
from distillguard.ratelimit.records import admitted, state

_RATE = LimitKind.RATE
_DAILY = LimitKind.DAILY
_SWEEP_US = US
_MIN_ROTATION_US = 60 * US


class MemoryLimiter:
    """A :class:`~distillguard.ratelimit.base.Limiter` held in this process.

    ``clock`` returns unix seconds (injectable for tests); ``lease_ttl_s`` is the longest a
    request may hold its concurrency slots without settling; ``concurrency_retry_s`` is the
    retry hint given when a concurrency limit refuses (a slot frees when any request ends).

    Example::

        limiter = MemoryLimiter()
        decision = await limiter.acquire(demands)
    """

    def __init__(
        self,
        *,
        lease_ttl_s: float = DEFAULT_LEASE_TTL_S,
        concurrency_retry_s: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not lease_ttl_s > 0:
            raise ConfigurationError(f"lease_ttl_s must be > 0, got {lease_ttl_s}")
        self._clock = clock
        self._lease_us = gcra.period_us(lease_ttl_s)
        self._concurrency_retry_s = concurrency_retry_s
        now = self._now()
        self._buckets: dict[str, Bucket] = {}
        self._old_buckets: dict[str, Bucket] = {}
        self._daily = DailyCounters(now)
        self._slots: dict[str, Slots] = {}
        self._leases: dict[str, int] = {}  # lease id -> acquire time (µs), in expiry order
        self._ids = itertools.count(1)
        self._rotation_us = _MIN_ROTATION_US
        self._next_rotation = now + self._rotation_us
        self._next_sweep = now + _SWEEP_US

    def _now(self) -> int:
        return int(self._clock() * US)

    async def acquire(self, demands: Sequence[Demand]) -> Decision:
        """Admit all ``demands`` or none (see :class:`~distillguard.ratelimit.base.Limiter`)."""
        now = int(self._clock() * US)
        if now >= self._next_sweep:
            self._sweep(now)
        daily = self._daily
        if now // DAY_US != daily.day:
            daily.roll(now)
        buckets = self._buckets
        lease_id = f"m{next(self._ids)}"
        states: list[LimitState] = []
        for demand in demands:
            rule = demand.rule
            kind = rule.kind
            if demand.cost < 0:
                self._give_back(demands, len(states), lease_id)
                raise InputError(f"demand {demand.key!r}: cost must be >= 0, got {demand.cost}")
            if kind is _RATE:
                bucket = buckets.get(demand.key)
                if bucket is None or bucket.rule is not rule:
                    bucket = self._bucket(demand, now)
                level = bucket.take(demand.cost, now)
                if level < 0:
                    break
                left = (bucket.capacity - level) // bucket.period
                states.append(state(demand, left, level / bucket.drain_per_s))
            elif kind is _DAILY:
                count = daily.take(demand.key, demand.cost, rule.limit)
                if count < 0:
                    break
                left = rule.limit - count
                reset = until_midnight_us(now) / US if count else 0.0
                states.append(state(demand, left, reset))
            else:
                slots = self._slots.get(demand.key)
                if slots is None:
                    slots = self._slots[demand.key] = Slots()
                limit = rule.limit
                if not slots.take(lease_id, demand.cost, limit, now, now + self._lease_us):
                    break
                states.append(state(demand, limit - slots.used, 0.0))
        else:
            self._leases[lease_id] = now
            held = demands if type(demands) is tuple else tuple(demands)
            return admitted(lease_id, held, tuple(states))
        self._give_back(demands, len(states), lease_id)
        return self._refusal(demands, now)

    def _bucket(self, demand: Demand, now: int) -> Bucket:
        """The bucket of ``demand`` bound to its rule: found, promoted or created."""
        key = demand.key
        bucket = self._buckets.get(key) or self._old_buckets.pop(key, None)
        if bucket is None:
            bucket = Bucket(demand.rule, now)
        elif bucket.rule is not demand.rule:
            bucket.drain(now)
            bucket.bind(demand.rule)
        if bucket.period > self._rotation_us:
            self._rotation_us = bucket.period
        self._buckets[key] = bucket
        return bucket

    def _find_bucket(self, key: str) -> Bucket | None:
        return self._buckets.get(key) or self._old_buckets.get(key)

    def _give_back(self, demands: Sequence[Demand], taken: int, lease_id: str) -> None:
        for demand in demands[:taken]:
            kind = demand.rule.kind
            if kind is _RATE:
                self._buckets[demand.key].give_back(demand.cost)
            elif kind is _DAILY:
                self._daily.give_back(demand.key, demand.cost)
            else:
                self._slots[demand.key].release(lease_id)

    def _refusal(self, demands: Sequence[Demand], now: int) -> Decision:
        """States of every demand without charging, and the one that blocks longest."""
        states = []
        blocking: LimitState | None = None
        for demand in demands:
            rule = demand.rule
            limit, cost = rule.limit, demand.cost
            retry: float | None
            if rule.kind is _RATE:
                bucket = self._bucket(demand, now)
                bucket.drain(now)
                remaining = bucket.remaining()
                reset = bucket.reset_us() / US
                retry_us = bucket.retry_us(cost)
                retry = None if retry_us is None else retry_us / US
                fits = retry_us == 0
            elif rule.kind is _DAILY:
                count = self._daily.count(demand.key)
                remaining = max(limit - count, 0)
                midnight = until_midnight_us(now) / US
                reset = midnight if count > 0 else 0.0
                fits = count + cost <= limit
                retry = None if cost > limit else midnight
            else:
                slots = self._slots.get(demand.key) or Slots()
                slots.purge(now)
                remaining = slots.remaining(limit)
                reset = 0.0
                fits = slots.used + cost <= limit
                retry = None if cost > limit else self._concurrency_retry_s
            if fits:
                states.append(state(demand, remaining, reset))
                continue
            blocked = state(demand, remaining, reset, retry)
            states.append(blocked)
            if blocking is None or _later(retry, blocking.retry_after_s):
                blocking = blocked
        return Decision(False, tuple(states), blocking)

    async def settle(self, lease: Lease, actual: Mapping[str, int]) -> None:
        """Release the lease's slots and correct its token reservations; idempotent."""
        _check_actual(actual)
        started = self._leases.pop(lease.id, None)
        if started is None:
            return
        now = self._now()
        self._daily.roll(now)
        day = started // DAY_US
        for demand in lease.demands:
            rule = demand.rule
            if rule.kind is LimitKind.CONCURRENCY:
                slots = self._slots.get(demand.key)
                if slots is not None:
                    slots.release(lease.id)
                continue
            real = actual.get(rule.name)
            if real is None or real == demand.cost:
                continue
            delta = real - demand.cost
            if rule.kind is _RATE:
                if delta < 0 and self._find_bucket(demand.key) is None:
                    continue  # already full again and forgotten
                self._bucket(demand, now).adjust(delta, now)
            else:
                self._daily.adjust(demand.key, delta, day)

    def holds(self, lease_id: str) -> bool:
        """Whether ``lease_id`` was issued here and is not settled or expired yet."""
        return lease_id in self._leases

    async def check(self) -> None:
        """Always ready."""

    async def aclose(self) -> None:
        """Nothing to release."""

    def _sweep(self, now: int) -> None:
        self._next_sweep = now + _SWEEP_US
        leases = self._leases
        oldest = now - self._lease_us
        while leases:
            lease_id = next(iter(leases))
            if leases[lease_id] > oldest:
                break
            del leases[lease_id]
        if now >= self._next_rotation:
            self._old_buckets = self._buckets
            self._buckets = {}
            self._next_rotation = now + self._rotation_us
            for key, slots in list(self._slots.items()):
                slots.purge(now)
                if not slots.leases:
                    del self._slots[key]


def _later(retry: float | None, than: float | None) -> bool:
    if than is None:
        return False
    return retry is None or retry > than


def _check_actual(actual: Mapping[str, int]) -> None:
    for name, value in actual.items():
        if not isinstance(value, int) or value < 0:
            raise InputError(f"settle: actual[{name!r}] must be an int >= 0, got {value!r}")
