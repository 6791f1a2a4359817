"""Plain records returned by the control-plane store, and the dg.account.v1 export format.

The store hands out these frozen dataclasses rather than ORM objects, so callers never hold a
database session open and cannot change a row by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# Highest completed check, weakest first (the order matters: tiers require a minimum level).
VERIFICATION_LEVELS: tuple[str, ...] = ("none", "email", "phone", "payment", "id", "org")
PROGRAMS: tuple[str, ...] = (
    "standard",
    "education",
    "startup",
    "research",
    "enterprise",
    "partner",
)
STATUSES: tuple[str, ...] = ("active", "suspended")

# The field names of dg.account.v1, in the order of the specification.
ACCOUNT_V1_FIELDS: tuple[str, ...] = (
    "account_id",
    "org_id",
    "created_at",
    "email",
    "email_domain",
    "signup_ip",
    "signup_user_agent",
    "payment_fingerprint",
    "payment_country",
    "country",
    "verification",
    "program",
    "tier",
)


def verification_rank(level: str) -> int:
    """Position of ``level`` in :data:`VERIFICATION_LEVELS` (``none`` is 0)."""
    return VERIFICATION_LEVELS.index(level)


def utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime; naive values (as SQLite returns them) are UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def rfc3339(moment: datetime | None) -> str | None:
    """RFC 3339 UTC text with a ``Z`` suffix, e.g. ``2026-01-02T03:04:05.123456Z``."""
    if moment is None:
        return None
    return utc(moment).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class OrgRecord:
    """An organization: a group of accounts billed and verified together."""

    org_id: str
    name: str
    verification: str
    status: str
    status_reason: str | None
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "org_id": self.org_id,
            "name": self.name,
            "verification": self.verification,
            "status": self.status,
            "status_reason": self.status_reason,
            "created_at": rfc3339(self.created_at),
        }


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """An account with every dg.account.v1 field, plus its enforcement status."""

    account_id: str
    org_id: str | None
    created_at: datetime
    email: str | None
    email_domain: str | None
    signup_ip: str | None
    signup_user_agent: str | None
    payment_fingerprint: str | None
    payment_country: str | None
    country: str | None
    verification: str
    program: str
    tier: int | None
    status: str
    status_reason: str | None

    def to_account_v1(self, *, include_email: bool = True) -> dict[str, Any]:
        """The dg.account.v1 record: exactly the specification's fields, UTC ``Z`` timestamps.

        With ``include_email=False`` the full address is withheld and only its domain exported.
        """
        record: dict[str, Any] = {name: getattr(self, name) for name in ACCOUNT_V1_FIELDS}
        record["created_at"] = rfc3339(self.created_at)
        if not include_email:
            record["email"] = None
        return record

    def to_dict(self) -> dict[str, Any]:
        """The dg.account.v1 fields plus ``status`` and ``status_reason`` (for admin views)."""
        return {
            **self.to_account_v1(),
            "status": self.status,
            "status_reason": self.status_reason,
        }


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """The public view of an API key: never the secret, nor its hash."""

    key_id: str
    account_id: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def state(self, now: datetime | None = None) -> str:
        """``active``, ``revoked`` or ``expired`` at ``now`` (default: the current time)."""
        if self.revoked_at is not None:
            return "revoked"
        moment = now or datetime.now(UTC)
        if self.expires_at is not None and utc(self.expires_at) <= moment:
            return "expired"
        return "active"

    def to_dict(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "account_id": self.account_id,
            "name": self.name,
            "state": self.state(),
            "created_at": rfc3339(self.created_at),
            "expires_at": rfc3339(self.expires_at),
            "revoked_at": rfc3339(self.revoked_at),
            "last_used_at": rfc3339(self.last_used_at),
        }


@dataclass(frozen=True, slots=True)
class CreatedKey:
    """A key just created: ``secret`` is the full API key, shown once and never stored."""

    record: KeyRecord
    secret: str
