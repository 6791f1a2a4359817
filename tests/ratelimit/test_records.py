from __future__ import annotations

import dataclasses

import pytest

from distillguard.ratelimit.base import Decision, Demand, Lease, LimitKind, LimitState, Rule
from distillguard.ratelimit.records import admitted, state

DEMAND = Demand("k", "key", Rule("rpm", LimitKind.RATE, 5), 1)


def test_state_equals_the_dataclass_and_stays_frozen() -> None:
    built = state(DEMAND, 3, 1.5, 0.25)
    assert built == LimitState(DEMAND, 3, 1.5, 0.25)
    assert state(DEMAND, 3, 1.5) == LimitState(DEMAND, 3, 1.5)
    assert hash(built) == hash(LimitState(DEMAND, 3, 1.5, 0.25))
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.remaining = 4  # type: ignore[misc]


def test_admitted_equals_the_dataclasses() -> None:
    states = (state(DEMAND, 4, 12.0),)
    assert admitted("m1", (DEMAND,), states) == Decision(True, states, None, Lease("m1", (DEMAND,)))
    assert admitted("m1", (DEMAND,), states).degraded is False
