"""Loading the authenticator's view of keys from the database, whole or since a generation.

Each API key becomes a :class:`KeyEntry`: its salt and hash, the ready-made
:class:`~distillguard.controlplane.principal.Principal`, its expiry, and the reason it must be
refused (revoked key, suspended account or organization) if any.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, union

from distillguard.controlplane.models import Account, ApiKey, Organization, State, Tier
from distillguard.controlplane.principal import Principal, TierLimits
from distillguard.controlplane.records import utc

UNLIMITED = TierLimits(tier=0, name="unlimited")

_SELECT = (
    select(
        ApiKey.key_id,
        ApiKey.salt,
        ApiKey.secret_hash,
        ApiKey.expires_at,
        ApiKey.revoked_at,
        Account.account_id,
        Account.org_id,
        Account.tier,
        Account.verification,
        Account.status,
        Organization.status,
        Account.created_at,
    )
    .join(Account, ApiKey.account_id == Account.account_id)
    .outerjoin(Organization, Account.org_id == Organization.org_id)
)


@dataclass(frozen=True, slots=True)
class KeyEntry:
    salt: bytes
    secret_hash: bytes
    principal: Principal
    expires_at: float | None  # epoch seconds
    refusal: str | None  # why the key is refused even with the right secret


def current_generation(connection: Connection) -> int | None:
    """The change counter the store bumps with every change that matters to authentication."""
    return connection.scalar(select(State.value).where(State.name == "generation"))


def load_tiers(connection: Connection) -> dict[int, TierLimits]:
    return {
        row.tier: TierLimits(tier=row.tier, name=row.name, limits=row.limits)
        for row in connection.execute(select(Tier.tier, Tier.name, Tier.limits))
    }


def load_keys(
    connection: Connection, tiers: Mapping[int, TierLimits], *, since: int | None = None
) -> dict[str, KeyEntry]:
    """Every key, or with ``since`` only keys whose key, account or organization row changed
    after that generation."""
    rows: Any = _SELECT
    if since is not None:
        # Three index-driven selects instead of one OR, which would scan every key.
        changed_orgs = select(Organization.org_id).where(Organization.generation > since)
        rows = union(
            _SELECT.where(ApiKey.generation > since),
            _SELECT.where(Account.generation > since),
            _SELECT.where(Account.org_id.in_(changed_orgs)),
        )
    lowest = tiers[min(tiers)] if tiers else UNLIMITED
    entries: dict[str, KeyEntry] = {}
    for (
        key_id,
        salt,
        digest,
        expires,
        revoked,
        account_id,
        org_id,
        tier,
        verification,
        status,
        org_status,
        account_created,
    ) in connection.execute(rows):
        refusal = None
        if revoked is not None:
            refusal = f"API key {key_id} has been revoked"
        elif status != "active":
            refusal = f"account {account_id} is suspended; contact support"
        elif org_status is not None and org_status != "active":
            refusal = f"organization {org_id} is suspended; contact support"
        entries[key_id] = KeyEntry(
            salt=bytes.fromhex(salt),
            secret_hash=bytes.fromhex(digest),
            principal=Principal(
                key_id=key_id,
                account_id=account_id,
                org_id=org_id,
                tier=tiers.get(tier, lowest) if tier is not None else lowest,
                verification=verification,
                account_created=utc(account_created).timestamp(),
            ),
            expires_at=utc(expires).timestamp() if expires is not None else None,
            refusal=refusal,
        )
    return entries
