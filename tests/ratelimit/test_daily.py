from __future__ import annotations

from distillguard.ratelimit.daily import DAY_US, DailyCounters, day_of, until_midnight_us


def test_day_arithmetic() -> None:
    assert day_of(DAY_US * 20_000 + 5) == 20_000
    assert until_midnight_us(DAY_US * 20_000 + 5) == DAY_US - 5
    assert until_midnight_us(DAY_US * 20_000) == DAY_US


def test_counters_cap_roll_and_correct() -> None:
    counters = DailyCounters(DAY_US * 7)
    assert counters.take("k", 3, 5) == 3
    assert counters.take("k", 3, 5) == -1
    counters.give_back("k", 3)
    assert counters.count("k") == 0
    counters.take("k", 4, 5)
    counters.adjust("k", -10, 7)
    assert counters.count("k") == 0
    counters.adjust("k", 2, 6)  # another day's lease: ignored
    assert counters.count("k") == 0
    counters.take("k", 5, 5)
    counters.roll(DAY_US * 8)
    assert counters.count("k") == 0 and counters.day == 8
