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
