"""Rate rules (``rpm``, ``itpm``, ``otpm``): GCRA, the token bucket with costs.

Why GCRA: it needs one small record per counter (no per-request log as a sliding log does),
it has no window edges where a fixed window lets twice the limit through, and it charges
arbitrary costs (tokens) exactly. The burst is the full limit of one period and the budget
refills continuously at ``limit / period``.

The record is the bucket's *level* and the time it was measured. Everything is integer
arithmetic in microseconds scaled so that one unit of cost is ``period_us`` level units and
the level drains by ``limit`` units per microsecond. The capacity is ``limit * period_us``.
GCRA's "theoretical arrival time" is ``stamp + level / limit``: the same algorithm, kept in
integers so that admission exactly at the limit is exact (no float rounding at the edge)
and Lua (doubles, exact up to 2**53) computes the very same numbers as Python.

A cost greater than the limit can never fit, however long one waits: ``retry_after`` is
``None``. A settle may push the level over the capacity (the real cost exceeded the
reservation); the bucket then refuses until it has drained below the capacity again.

``acquire.lua`` implements the same arithmetic for Redis.
"""

from __future__ import annotations

from distillguard.errors import ConfigurationError
from distillguard.ratelimit.base import Rule

US = 1_000_000


def period_us(period_s: float) -> int:
    """The rule period in whole microseconds."""
    return round(period_s * US)


EXACT = 2**53  # doubles (Lua's numbers) hold every integer below this


def validate(name: str, limit: int, period_s: float) -> None:
    """Raise :class:`ConfigurationError` for a rule that cannot be computed exactly."""
    if limit < 0:
        raise ConfigurationError(f"rule {name!r}: limit must be >= 0, got {limit}")
    if not period_s > 0:
        raise ConfigurationError(f"rule {name!r}: period_s must be > 0, got {period_s}")
    if limit * period_us(period_s) >= EXACT:
        raise ConfigurationError(
            f"rule {name!r}: limit x period is too large to count exactly "
            f"({limit} per {period_s} s); use a shorter period or a smaller unit"
        )


class Bucket:
    """One counter of a rate rule: its ``level`` measured at ``stamp`` (microseconds).

    The rule's constants are bound to the bucket (:meth:`bind`) so that the hot path reads
    attributes instead of recomputing them; a counter shared by subjects of different tiers
    (an address, a network) is re-bound when the rule object changes.
    """

    __slots__ = ("capacity", "drain_per_s", "level", "limit", "period", "rule", "stamp")

    def __init__(self, rule: Rule, stamp: int) -> None:
        self.level = 0
        self.stamp = stamp
        self.bind(rule)

    def bind(self, rule: Rule) -> None:
        """Use ``rule``'s limit and period from now on."""
        validate(rule.name, rule.limit, rule.period_s)
        self.rule = rule
        self.limit = rule.limit
        self.period = period_us(rule.period_s)
        self.capacity = self.limit * self.period
        # level / drain_per_s = seconds until full again (0.0 for a limit of 0)
        self.drain_per_s = self.limit * US if self.limit else float("inf")

    def drain(self, now: int) -> int:
        """Bring the level to ``now`` and return it (never below zero)."""
        if now > self.stamp:
            level = self.level - (now - self.stamp) * self.limit
            self.level = level if level > 0 else 0
            self.stamp = now
        return self.level

    def take(self, cost: int, now: int) -> int:
        """Charge ``cost`` if it fits; return the new level, or -1 (nothing charged)."""
        level = self.level
        stamp = self.stamp
        if now > stamp:
            if level:
                level -= (now - stamp) * self.limit
                if level < 0:
                    level = 0
            stamp = now
        level += cost * self.period
        if level <= self.capacity:
            self.level = level
            self.stamp = stamp
            return level
        return -1

    def give_back(self, cost: int) -> None:
        """Undo a :meth:`take` made at the same instant (all-or-nothing rollback)."""
        level = self.level - cost * self.period
        self.level = level if level > 0 else 0

    def adjust(self, delta: int, now: int) -> None:
        """Correct a reserved cost by ``delta`` units, up or down (never below zero)."""
        level = self.drain(now) + delta * self.period
        self.level = level if level > 0 else 0

    def remaining(self) -> int:
        """Whole units that still fit now (after :meth:`drain`)."""
        left = (self.capacity - self.level) // self.period
        return left if left > 0 else 0

    def reset_us(self) -> int:
        """Microseconds until the bucket is full again (after :meth:`drain`)."""
        return -(-self.level // self.limit) if self.limit else 0

    def retry_us(self, cost: int) -> int | None:
        """Microseconds until ``cost`` fits (0 if it fits now); ``None`` if it never can."""
        if cost > self.limit:
            return None
        excess = self.level + cost * self.period - self.capacity
        if excess <= 0:
            return 0
        return -(-excess // self.limit) if self.limit else None
