from __future__ import annotations

import doctest

from distillguard.controlplane.principal import TierLimits
from distillguard.enforce import throttling
from distillguard.enforce.actions import Throttle
from distillguard.enforce.throttling import throttled_limits

FREE = TierLimits(0, "free", {"account": {"rpm": 3, "daily_requests": 200}})
PAID = TierLimits(3, "tier-3", {"account": {"rpm": 5000}, "key": {"rpm": 1000}})
TIERS = {0: FREE, 3: PAID}


def test_lower_tier_replaces_the_limits() -> None:
    result = throttled_limits(PAID, Throttle(tier=0), TIERS)
    assert result.tier == 0 and result.get("account", "rpm") == 3
    assert result.get("key", "rpm") is None


def test_a_throttle_never_raises_limits() -> None:
    assert throttled_limits(FREE, Throttle(tier=3), TIERS).get("account", "rpm") == 3
    custom = throttled_limits(FREE, Throttle(limits={"rpm": 60, "itpm": 1000}), TIERS)
    assert custom.get("account", "rpm") == 3  # 60 is above the tier's own 3
    assert custom.get("account", "itpm") == 1000  # unlimited before, capped now


def test_doctest() -> None:
    assert doctest.testmod(throttling).failed == 0
