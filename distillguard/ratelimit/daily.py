"""Daily caps (``daily_requests``, ``daily_tokens``): fixed UTC-day counters.

A daily cap is a plain counter per UTC calendar day: it starts at zero at 00:00 UTC and
refuses a charge that would take it over the limit. A fixed window is the right shape here
(unlike per-minute rates) because a day is what the caps are sold as and what a customer
can reason about; the two-windows-at-the-edge burst is bounded by the per-minute rules.

The day number is ``unix_microseconds // DAY_US``; Redis computes it from its own ``TIME``
so every gateway process agrees on when the day rolls over. A lease remembers the day it
was charged on, and a settle only corrects that day's counter (after midnight the old
counter no longer matters).
"""

from __future__ import annotations

DAY_US = 86_400 * 1_000_000


def day_of(now_us: int) -> int:
    """The UTC day number of a unix time in microseconds."""
    return now_us // DAY_US


def until_midnight_us(now_us: int) -> int:
    """Microseconds from ``now_us`` to the next 00:00 UTC."""
    return DAY_US - now_us % DAY_US


class DailyCounters:
    """Today's counters, keyed by demand key; cleared when the UTC day changes."""

    __slots__ = ("counts", "day")

    def __init__(self, now_us: int) -> None:
        self.day = day_of(now_us)
        self.counts: dict[str, int] = {}

    def roll(self, now_us: int) -> None:
        """Forget yesterday when ``now_us`` is on a later day."""
        day = now_us // DAY_US
        if day != self.day:
            self.day = day
            self.counts = {}

    def take(self, key: str, cost: int, limit: int) -> int:
        """Charge ``cost`` if the day's count stays within ``limit``; return the new count,
        or -1 (nothing charged)."""
        count = self.counts.get(key, 0) + cost
        if count <= limit:
            self.counts[key] = count
            return count
        return -1

    def give_back(self, key: str, cost: int) -> None:
        """Undo a :meth:`take` (all-or-nothing rollback)."""
        self.counts[key] -= cost

    def adjust(self, key: str, delta: int, day: int) -> None:
        """Correct a charge made on ``day`` by ``delta`` (never below zero)."""
        if day != self.day or key not in self.counts:
            return
        count = self.counts[key] + delta
        self.counts[key] = count if count > 0 else 0

    def count(self, key: str) -> int:
        return self.counts.get(key, 0)
