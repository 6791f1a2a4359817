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

US = 1_000_000


def period_us(period_s: float) -> int:
    """The rule period in whole microseconds."""
    return round(period_s * US)


def validate(name: str, limit: int, period_s: float) -> None:
    """Raise :class:`ConfigurationError` for a rule that cannot be computed."""
    if limit < 0:
        raise ConfigurationError(f"rule {name!r}: limit must be >= 0, got {limit}")
    if not period_s > 0:
        raise ConfigurationError(f"rule {name!r}: period_s must be > 0, got {period_s}")


class Bucket:
    """One counter of a rate rule: its ``level`` measured at ``stamp`` (microseconds)."""

    __slots__ = ("level", "stamp")

    def __init__(self, stamp: int) -> None:
        self.level = 0
        self.stamp = stamp

    def drain(self, limit: int, now: int) -> int:
        """Bring the level to ``now`` and return it (never below zero)."""
        elapsed = now - self.stamp
        if elapsed > 0:
            level = self.level - elapsed * limit
            self.level = level if level > 0 else 0
            self.stamp = now
        return self.level

    def take(self, cost: int, limit: int, period: int, now: int) -> bool:
        """Charge ``cost`` if it fits under the capacity; return whether it did."""
        level = self.drain(limit, now) + cost * period
        if level <= limit * period:
            self.level = level
            return True
        return False

    def give_back(self, cost: int, period: int) -> None:
        """Undo a :meth:`take` made at the same instant (all-or-nothing rollback)."""
        level = self.level - cost * period
        self.level = level if level > 0 else 0

    def adjust(self, delta: int, limit: int, period: int, now: int) -> None:
        """Correct a reserved cost by ``delta`` units, up or down (never below zero)."""
        level = self.drain(limit, now) + delta * period
        self.level = level if level > 0 else 0

    def remaining(self, limit: int, period: int) -> int:
        """Whole units that still fit now."""
        left = (limit * period - self.level) // period
        return left if left > 0 else 0

    def reset_us(self, limit: int) -> int:
        """Microseconds until the bucket is full again."""
        if limit <= 0:
            return 0
        return -(-self.level // limit)

    def retry_us(self, cost: int, limit: int, period: int) -> int | None:
        """Microseconds until ``cost`` fits (0 if it fits now); ``None`` if it never can."""
        if cost > limit:
            return None
        excess = self.level + cost * period - limit * period
        return -(-excess // limit) if excess > 0 else 0
