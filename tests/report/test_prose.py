from __future__ import annotations

from datetime import date

from distillguard.report.prose import (
    about,
    capability_words,
    interactions,
    listing,
    percent,
    period,
)


def test_counts_read_like_a_letter() -> None:
    assert about(24_613) == "about 25,000"
    assert about(25_000) == "25,000"
    assert about(6) == "6"
    assert about(3_412_000) == "about 3.4 million"
    assert interactions(28_790_000) == "28.8 million"
    assert interactions(2_000_000) == "2 million"
    assert interactions(180) == "180"


def test_periods() -> None:
    assert period(date(2026, 4, 2), date(2026, 6, 28)) == "between April and June 2026"
    assert period(date(2026, 4, 1), date(2026, 4, 10)) == "between 1 and 10 April 2026"
    assert period(date(2026, 3, 28), date(2026, 4, 5)) == "between 28 March and 5 April 2026"
    assert period(date(2025, 11, 2), date(2026, 2, 1)) == "between November 2025 and February 2026"
    assert period(date(2026, 4, 1), date(2026, 4, 1)) == "on 1 April 2026"


def test_lists_and_capabilities() -> None:
    assert listing(["a"]) == "a" and listing(["a", "b"]) == "a and b"
    shares = {"coding": 0.4, "reasoning": 0.3, "agentic_planning": 0.2, "math": 0.05}
    assert capability_words(shares) == ["coding", "reasoning", "agentic planning"]
    assert capability_words({"math": 0.05, "other": 0.9}) == ["mathematics"]
    assert percent(0.001) == "<1%" and percent(0.5) == "50%"
