from __future__ import annotations

import pytest

from distillguard.errors import ConfigurationError
from distillguard.ratelimit.base import LimitKind, Rule
from distillguard.ratelimit.gcra import Bucket, period_us, validate


def bucket(limit: int, period_s: float = 60.0, stamp: int = 0) -> Bucket:
    return Bucket(Rule("rpm", LimitKind.RATE, limit, period_s), stamp)


def test_burst_is_the_full_limit_then_refills_continuously() -> None:
    b = bucket(6)
    assert [b.take(1, 0) >= 0 for _ in range(7)] == [True] * 6 + [False]
    assert b.retry_us(1) == 10_000_000
    assert b.take(1, 9_999_999) == -1
    assert b.take(1, 10_000_000) == 60_000_000 * 6
    assert b.remaining() == 0
    assert b.reset_us() == 60_000_000


def test_costs_and_corrections() -> None:
    b = bucket(1000)
    assert b.take(700, 0) >= 0
    assert b.take(301, 0) == -1
    assert b.remaining() == 300
    b.adjust(-650, 0)
    assert b.remaining() == 950
    b.adjust(-5000, 0)
    assert b.level == 0
    b.adjust(1500, 0)  # the real cost exceeded the budget
    assert b.remaining() == 0
    assert b.retry_us(1) == 30_060_000


def test_a_cost_over_the_limit_never_fits() -> None:
    b = bucket(10)
    assert b.retry_us(11) is None
    assert b.take(11, 10**12) == -1


def test_give_back_restores_the_level() -> None:
    b = bucket(10, stamp=5)
    b.take(3, 5)
    b.take(4, 5)
    b.give_back(4)
    assert b.remaining() == 7


def test_a_clock_going_back_does_not_refill() -> None:
    b = bucket(10, stamp=1_000_000)
    b.take(10, 1_000_000)
    assert b.drain(0) == 10 * period_us(60.0)
    assert b.take(1, 0) == -1


def test_rebinding_to_another_rule() -> None:
    b = bucket(10)
    b.take(10, 0)
    b.bind(Rule("rpm", LimitKind.RATE, 20, 60.0))
    assert b.remaining() == 10


def test_validate() -> None:
    validate("rpm", 0, 1.0)
    with pytest.raises(ConfigurationError, match="limit"):
        validate("rpm", -1, 1.0)
    with pytest.raises(ConfigurationError, match="period_s"):
        validate("rpm", 1, -1.0)
    with pytest.raises(ConfigurationError, match="too large"):
        validate("itpm", 200_000_000, 60.0)
    validate("itpm", 100_000_000, 60.0)
    assert period_us(0.7) == 700_000
