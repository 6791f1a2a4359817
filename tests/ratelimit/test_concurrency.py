from __future__ import annotations

from distillguard.ratelimit.concurrency import Slots


def test_slots_are_held_released_and_expire() -> None:
    slots = Slots()
    assert slots.take("a", 1, 2, now=0, expiry=100)
    assert slots.take("b", 1, 2, now=10, expiry=110)
    assert not slots.take("c", 1, 2, now=20, expiry=120)
    slots.release("a")
    slots.release("a")  # twice: nothing more is freed
    assert slots.used == 1 and slots.remaining(2) == 1
    assert slots.take("c", 1, 2, now=30, expiry=130)
    assert not slots.take("d", 1, 2, now=109, expiry=209)
    assert slots.take("d", 1, 2, now=110, expiry=210)  # b expired at 110
    assert set(slots.leases) == {"c", "d"}


def test_a_lease_holding_several_slots() -> None:
    slots = Slots()
    assert slots.take("a", 2, 3, now=0, expiry=10)
    assert slots.take("a", 1, 3, now=0, expiry=10)
    assert slots.used == 3
    slots.release("a")
    assert slots.used == 0
