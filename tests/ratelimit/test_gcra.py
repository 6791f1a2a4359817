from __future__ import annotations

import pytest

from distillguard.errors import ConfigurationError
from distillguard.ratelimit.gcra import Bucket, period_us, validate

PERIOD = period_us(60.0)


def test_burst_is_the_full_limit_then_refills_continuously() -> None:
    bucket = Bucket(0)
    assert all(bucket.take(1, 6, PERIOD, 0) for _ in range(6))
    assert not bucket.take(1, 6, PERIOD, 0)
    assert bucket.retry_us(1, 6, PERIOD) == 10_000_000
    assert not bucket.take(1, 6, PERIOD, 9_999_999)
    assert bucket.take(1, 6, PERIOD, 10_000_000)
    assert bucket.remaining(6, PERIOD) == 0
    assert bucket.reset_us(6) == 60_000_000


def test_costs_and_corrections() -> None:
    bucket = Bucket(0)
    assert bucket.take(700, 1000, PERIOD, 0)
    assert not bucket.take(301, 1000, PERIOD, 0)
    assert bucket.remaining(1000, PERIOD) == 300
    bucket.adjust(-650, 1000, PERIOD, 0)
    assert bucket.remaining(1000, PERIOD) == 950
    bucket.adjust(-5000, 1000, PERIOD, 0)
    assert bucket.level == 0
    bucket.adjust(1500, 1000, PERIOD, 0)  # the real cost exceeded the budget
    assert bucket.remaining(1000, PERIOD) == 0
    assert bucket.retry_us(1, 1000, PERIOD) == 30_060_000


def test_a_cost_over_the_limit_never_fits() -> None:
    bucket = Bucket(0)
    assert bucket.retry_us(11, 10, PERIOD) is None
    assert not bucket.take(11, 10, PERIOD, 10**12)


def test_give_back_restores_the_level() -> None:
    bucket = Bucket(0)
    bucket.take(3, 10, PERIOD, 5)
    bucket.take(4, 10, PERIOD, 5)
    bucket.give_back(4, PERIOD)
    assert bucket.remaining(10, PERIOD) == 7


def test_a_clock_going_back_does_not_refill() -> None:
    bucket = Bucket(1_000_000)
    bucket.take(10, 10, PERIOD, 1_000_000)
    assert bucket.drain(10, 0) == 10 * PERIOD


def test_validate() -> None:
    validate("rpm", 0, 1.0)
    with pytest.raises(ConfigurationError, match="limit"):
        validate("rpm", -1, 1.0)
    with pytest.raises(ConfigurationError, match="period_s"):
        validate("rpm", 1, -1.0)
    assert period_us(0.7) == 700_000
