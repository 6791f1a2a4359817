"""Request and response bodies of the admin HTTP API (they make up its OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from distillguard.controlplane.records import AccountRecord, KeyRecord, OrgRecord
from distillguard.controlplane.tiers import TierSpec

Verification = Literal["none", "email", "phone", "payment", "id", "org"]
Program = Literal["standard", "education", "startup", "research", "enterprise", "partner"]
Scope = Literal["key", "account", "org", "ip", "ip24", "ip48"]
Rule = Literal["rpm", "itpm", "otpm", "concurrent", "daily_requests", "daily_tokens"]
Status = Literal["active", "suspended"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrgCreate(_Strict):
    name: str = Field(min_length=1, max_length=200)
    verification: Verification = "none"
    org_id: str | None = Field(default=None, min_length=1, max_length=64)


class OrgOut(BaseModel):
    org_id: str
    name: str
    verification: Verification
    status: Status
    status_reason: str | None
    created_at: datetime

    @classmethod
    def of(cls, record: OrgRecord) -> OrgOut:
        return cls.model_validate(record, from_attributes=True)


class Suspension(_Strict):
    reason: str = Field(min_length=1, max_length=2000)


class AccountCreate(_Strict):
    """The dg.account.v1 fields an operator may set; the rest are filled in."""

    account_id: str | None = Field(default=None, min_length=1, max_length=64)
    org_id: str | None = None
    created_at: datetime | None = None
    email: str | None = Field(default=None, max_length=320)
    email_domain: str | None = Field(default=None, max_length=255)
    signup_ip: str | None = None
    signup_user_agent: str | None = None
    payment_fingerprint: str | None = Field(default=None, max_length=128)
    payment_country: str | None = Field(default=None, min_length=2, max_length=2)
    country: str | None = Field(default=None, min_length=2, max_length=2)
    verification: Verification = "none"
    program: Program = "standard"
    tier: int | None = Field(default=None, ge=0)


class AccountOut(BaseModel):
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
    verification: Verification
    program: Program
    tier: int | None
    status: Status
    status_reason: str | None

    @classmethod
    def of(cls, record: AccountRecord) -> AccountOut:
        return cls.model_validate(record, from_attributes=True)


class TierChange(_Strict):
    tier: int = Field(ge=0)


class VerificationChange(_Strict):
    verification: Verification


class KeyCreate(_Strict):
    account_id: str = Field(min_length=1)
    name: str = Field(default="", max_length=200)
    expires_at: datetime | None = None


class KeyOut(BaseModel):
    key_id: str
    account_id: str
    name: str
    state: Literal["active", "revoked", "expired"]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, record: KeyRecord) -> KeyOut:
        return cls(
            key_id=record.key_id,
            account_id=record.account_id,
            name=record.name,
            state=record.state(),  # type: ignore[arg-type]
            created_at=record.created_at,
            expires_at=record.expires_at,
            revoked_at=record.revoked_at,
            last_used_at=record.last_used_at,
        )


class KeyCreated(KeyOut):
    """A new key; ``secret`` is the full API key and is shown only in this response."""

    secret: str


class TierBody(_Strict):
    name: str = Field(min_length=1, max_length=100)
    required_verification: Verification = "none"
    description: str = ""
    limits: dict[Scope, dict[Rule, int]] = Field(default_factory=dict)


class TierOut(TierBody):
    tier: int

    @classmethod
    def of(cls, spec: TierSpec) -> TierOut:
        return cls.model_validate(spec.to_dict())


class TierTableBody(_Strict):
    tiers: list[TierOut] = Field(min_length=1)


class LimitChange(_Strict):
    scope: Scope
    rule: Rule
    value: int | None = Field(description="new amount; null removes the limit (unlimited)", ge=0)
