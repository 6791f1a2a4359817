"""What a ``throttle`` action does to a caller's tier limits.

The rate limiter admits requests against a :class:`~distillguard.controlplane.principal.TierLimits`
(``limits[scope][rule] = amount``). :func:`throttled_limits` gives the limits to use instead for a
caller under a :class:`~distillguard.enforce.actions.Throttle`: the lower tier it names (a throttle
never raises limits, so a tier at or above the caller's is ignored), then each custom limit
applied at account scope as a ceiling.

>>> from distillguard.controlplane.principal import TierLimits
>>> free = TierLimits(0, "free", {"account": {"rpm": 3}})
>>> paid = TierLimits(2, "tier-2", {"account": {"rpm": 500, "itpm": 90000}})
>>> throttled_limits(paid, Throttle(tier=0, limits={"daily_requests": 50}), {0: free}).limits
{'account': {'rpm': 3, 'daily_requests': 50}}
"""

from __future__ import annotations

from collections.abc import Mapping

from distillguard.controlplane.principal import TierLimits
from distillguard.enforce.actions import Throttle


def throttled_limits(
    current: TierLimits, throttle: Throttle, tiers: Mapping[int, TierLimits]
) -> TierLimits:
    """The limits for a caller on ``current`` under ``throttle`` (``tiers`` by number)."""
    base = current
    if throttle.tier is not None and throttle.tier < current.tier and throttle.tier in tiers:
        base = tiers[throttle.tier]
    limits = {scope: dict(rules) for scope, rules in base.limits.items()}
    account = limits.setdefault("account", {})
    for rule, amount in throttle.limits.items():
        account[rule] = min(account.get(rule, amount), amount)
    return TierLimits(tier=base.tier, name=f"{base.name} (throttled)", limits=limits)
