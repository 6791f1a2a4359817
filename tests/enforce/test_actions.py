from __future__ import annotations

import pytest

from distillguard.enforce.actions import Challenge
from distillguard.errors import ConfigurationError


def test_challenge_without_link_round_trips() -> None:
    challenge = Challenge(required_verification="phone", message="verify", link=None)
    assert Challenge.from_mapping(challenge.to_dict()) == challenge


def test_challenge_link_of_wrong_type_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="link"):
        Challenge.from_mapping({"link": 3})


def test_an_age_limit_reads_as_a_duration_and_round_trips_in_seconds() -> None:
    challenge = Challenge.from_mapping({"max_account_age": "30d", "defer_to_account": True})
    assert challenge.max_account_age == 30 * 86400
    assert challenge.to_dict()["max_account_age"] == 30 * 86400
    assert Challenge.from_mapping(challenge.to_dict()) == challenge
    assert "max_account_age" not in Challenge().to_dict()  # older records read back the same


def test_an_age_limit_exempts_only_accounts_known_to_be_old_enough() -> None:
    challenge = Challenge(max_account_age=100.0)
    assert challenge.exempts(account_created=0.0, now=100.0)
    assert not challenge.exempts(account_created=1.0, now=100.0)
    assert not challenge.exempts(account_created=None, now=100.0)
    assert not Challenge().exempts(account_created=0.0, now=1e9)
