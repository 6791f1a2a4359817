"""What the gateway knows about an authenticated caller, and the tier limits that apply.

The gateway never talks to the SQL database per request: an :class:`Authenticator` keeps an
in-memory view of keys and accounts, refreshed in the background.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

SCOPES: tuple[str, ...] = ("key", "account", "org", "ip", "ip24", "ip48")
RULES: tuple[str, ...] = (
    "rpm",  # requests per minute
    "itpm",  # input tokens per minute
    "otpm",  # output tokens per minute
    "concurrent",  # requests in flight
    "daily_requests",  # requests per UTC day
    "daily_tokens",  # input + output tokens per UTC day
)


class KeyStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"
    SUSPENDED = "suspended"  # the account (or organization) is suspended


@dataclass(frozen=True, slots=True)
class TierLimits:
    """Limits of one usage tier: ``limits[scope][rule] = amount``; a missing entry is unlimited."""

    tier: int
    name: str
    limits: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    def get(self, scope: str, rule: str) -> int | None:
        return self.limits.get(scope, {}).get(rule)


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: the key, its account and organization, and the tier."""

    key_id: str
    account_id: str
    org_id: str | None
    tier: TierLimits
    status: KeyStatus = KeyStatus.ACTIVE
    verification: str = "none"
    account_created: float | None = None  # POSIX time the account was created, when known


class Authenticator(Protocol):
    """Maps a presented secret to a :class:`Principal`.

    Raises :class:`~distillguard.errors.AuthError` for an unknown or malformed key and
    :class:`~distillguard.errors.PermissionDenied` for a revoked, expired or suspended one.
    Must be cheap (an in-memory lookup plus a constant-time hash compare).
    """

    def authenticate(self, secret: str) -> Principal: ...
