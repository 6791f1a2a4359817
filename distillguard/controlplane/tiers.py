"""Usage tiers: what an account may consume, and the default tier table.

A tier holds limits as ``{scope: {rule: amount}}`` with the scopes and rules of
:mod:`distillguard.controlplane.principal`; a missing entry means unlimited. An account may only
be placed on a tier whose ``required_verification`` it has reached, so higher throughput costs a
fraudster real identity checks, not just another sign-up.

The default table follows the shape of the large providers' published usage tiers: OpenAI's
Free and Tier 1–5 (unlocked by cumulative spend of $5, $50, $100, $250 and $1,000) and
Anthropic's Tier 1–4. Per-account figures sit between the two providers' published numbers.
The other scopes are derived from the account limits:

* ``key`` — equal to the account: one key may use the whole account, several keys share it;
* ``org`` — four times the account: an organization holds several accounts;
* ``ip``, ``ip24``, ``ip48`` — two, eight and sixteen times the account. Addresses and networks
  are shared by NATs, offices and carriers, so IP limits must stay looser than account limits and
  only stop floods from a single source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from distillguard.controlplane.principal import RULES, SCOPES, TierLimits
from distillguard.controlplane.records import VERIFICATION_LEVELS
from distillguard.errors import InputError


@dataclass(frozen=True, slots=True)
class TierSpec:
    """One row of the tier table, as operators edit it."""

    tier: int
    name: str
    limits: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    required_verification: str = "none"
    description: str = ""

    def to_limits(self) -> TierLimits:
        """The read-only :class:`TierLimits` the gateway enforces."""
        return TierLimits(tier=self.tier, name=self.name, limits=self.limits)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "name": self.name,
            "required_verification": self.required_verification,
            "description": self.description,
            "limits": {scope: dict(rules) for scope, rules in self.limits.items()},
        }


def validate_limits(raw: object, *, where: str = "limits") -> dict[str, dict[str, int]]:
    """Check a ``{scope: {rule: amount}}`` mapping and return a clean copy.

    Raises :class:`InputError` naming the offending scope, rule or amount.
    """
    if not isinstance(raw, Mapping):
        raise InputError(f"{where} must be a table of scopes, got {type(raw).__name__}")
    clean: dict[str, dict[str, int]] = {}
    for scope, rules in raw.items():
        if scope not in SCOPES:
            raise InputError(f"{where}: unknown scope {scope!r}; use one of {', '.join(SCOPES)}")
        if not isinstance(rules, Mapping):
            raise InputError(f"{where}.{scope} must be a table of rules")
        clean[scope] = {}
        for rule, amount in rules.items():
            validate_rule(rule, where=f"{where}.{scope}")
            clean[scope][rule] = validate_amount(amount, where=f"{where}.{scope}.{rule}")
    return clean


def validate_rule(rule: object, *, where: str = "rule") -> str:
    if rule not in RULES:
        raise InputError(f"{where}: unknown rule {rule!r}; use one of {', '.join(RULES)}")
    return str(rule)


def validate_scope(scope: object) -> str:
    if scope not in SCOPES:
        raise InputError(f"unknown scope {scope!r}; use one of {', '.join(SCOPES)}")
    return str(scope)


def validate_amount(amount: object, *, where: str = "amount") -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise InputError(f"{where} must be a non-negative integer, got {amount!r}")
    return amount


def validate_verification(level: object, *, where: str = "verification") -> str:
    if level not in VERIFICATION_LEVELS:
        raise InputError(f"{where}: {level!r} is not one of {', '.join(VERIFICATION_LEVELS)}")
    return str(level)


def tier_from_dict(raw: object, *, where: str = "tier") -> TierSpec:
    """Build a validated :class:`TierSpec` from a dict (JSON/TOML import, admin API)."""
    if not isinstance(raw, Mapping):
        raise InputError(f"{where} must be a table, got {type(raw).__name__}")
    unknown = set(raw) - {"tier", "name", "limits", "required_verification", "description"}
    if unknown:
        raise InputError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    number = validate_amount(raw.get("tier"), where=f"{where}.tier")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"{where}.name must be a non-empty string")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise InputError(f"{where}.description must be a string")
    return TierSpec(
        tier=number,
        name=name.strip(),
        limits=validate_limits(raw.get("limits", {}), where=f"{where}.limits"),
        required_verification=validate_verification(
            raw.get("required_verification", "none"), where=f"{where}.required_verification"
        ),
        description=description,
    )


# Scope multipliers over the account limits (see the module docstring for the reasons).
_SCOPE_FACTORS: dict[str, int] = {"key": 1, "account": 1, "org": 4, "ip": 2, "ip24": 8, "ip48": 16}

# tier -> (name, required verification, description, account limits by rule)
_ACCOUNT_LIMITS: dict[int, tuple[str, str, str, dict[str, int]]] = {
    0: (
        "free",
        "none",
        "trial use before any payment",
        {
            "rpm": 5,
            "itpm": 20_000,
            "otpm": 4_000,
            "concurrent": 2,
            "daily_requests": 200,
            "daily_tokens": 200_000,
        },
    ),
    1: (
        "tier-1",
        "payment",
        "first payment ($5)",
        {
            "rpm": 50,
            "itpm": 50_000,
            "otpm": 10_000,
            "concurrent": 5,
            "daily_requests": 5_000,
            "daily_tokens": 2_000_000,
        },
    ),
    2: (
        "tier-2",
        "payment",
        "$50 spent, 7 days after first payment",
        {
            "rpm": 1_000,
            "itpm": 450_000,
            "otpm": 90_000,
            "concurrent": 20,
            "daily_requests": 50_000,
            "daily_tokens": 20_000_000,
        },
    ),
    3: (
        "tier-3",
        "payment",
        "$100 spent, 7 days after first payment",
        {
            "rpm": 2_000,
            "itpm": 800_000,
            "otpm": 160_000,
            "concurrent": 50,
            "daily_requests": 200_000,
            "daily_tokens": 80_000_000,
        },
    ),
    4: (
        "tier-4",
        "id",
        "$250 spent, 14 days after first payment, identity verified",
        {
            "rpm": 4_000,
            "itpm": 2_000_000,
            "otpm": 400_000,
            "concurrent": 100,
            "daily_requests": 1_000_000,
            "daily_tokens": 400_000_000,
        },
    ),
    5: (
        "tier-5",
        "org",
        "$1,000 spent, 30 days after first payment, verified organization",
        {
            "rpm": 10_000,
            "itpm": 10_000_000,
            "otpm": 2_000_000,
            "concurrent": 500,
            "daily_requests": 5_000_000,
            "daily_tokens": 2_000_000_000,
        },
    ),
}


def default_tiers() -> list[TierSpec]:
    """The tier table a new database is seeded with (tiers 0–5)."""
    table = []
    for number, (name, required, description, account) in sorted(_ACCOUNT_LIMITS.items()):
        limits = {
            scope: {rule: amount * factor for rule, amount in account.items()}
            for scope, factor in _SCOPE_FACTORS.items()
        }
        table.append(TierSpec(number, name, limits, required, description))
    return table
