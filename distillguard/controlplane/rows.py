"""Rows and records: validating new account rows, and turning ORM rows into frozen records.

Shared by :mod:`~distillguard.controlplane.store` and the bulk import; nothing here touches the
database except :func:`get_row`.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from distillguard.controlplane.identifiers import ACCOUNT_PREFIX, new_id
from distillguard.controlplane.models import Account, ApiKey, Organization
from distillguard.controlplane.records import PROGRAMS, AccountRecord, KeyRecord, OrgRecord, utc
from distillguard.controlplane.tiers import validate_verification
from distillguard.errors import InputError, NotFound


def new_account_row(
    *,
    account_id: str | None = None,
    org_id: str | None = None,
    created_at: datetime | None = None,
    email: str | None = None,
    email_domain: str | None = None,
    signup_ip: str | None = None,
    signup_user_agent: str | None = None,
    payment_fingerprint: str | None = None,
    payment_country: str | None = None,
    country: str | None = None,
    verification: str = "none",
    program: str = "standard",
    tier: int | None = None,
) -> Account:
    """Validate dg.account.v1 fields into an unsaved row; raises :class:`InputError`."""
    if email is not None and (email.count("@") != 1 or not email.split("@")[1]):
        raise InputError(f"email {email!r} is not an address of the form name@domain")
    if email_domain is None and email is not None:
        email_domain = email.split("@")[1].lower()
    if signup_ip is not None:
        try:
            signup_ip = str(ipaddress.ip_address(signup_ip))
        except ValueError as exc:
            raise InputError(f"signup IP {signup_ip!r} is not an IPv4 or IPv6 address") from exc
    if program not in PROGRAMS:
        raise InputError(f"program {program!r} is not one of {', '.join(PROGRAMS)}")
    return Account(
        account_id=identifier(account_id, ACCOUNT_PREFIX),
        org_id=org_id,
        created_at=utc(created_at) if created_at is not None else datetime.now(UTC),
        email=email,
        email_domain=email_domain,
        signup_ip=signup_ip,
        signup_user_agent=signup_user_agent,
        payment_fingerprint=payment_fingerprint,
        payment_country=country_code(payment_country, "payment country"),
        country=country_code(country, "country"),
        verification=validate_verification(verification),
        program=program,
        tier=tier,
        status="active",
    )


def get_row(session: Session, model: Any, ident: str, what: str) -> Any:
    row = session.get(model, ident)
    if row is None:
        raise NotFound(f"{what} {ident!r} does not exist")
    return row


def identifier(given: str | None, prefix: str) -> str:
    if given is None:
        return new_id(prefix)
    if not given.strip() or len(given) > 64:
        raise InputError(f"identifier {given!r} must have 1 to 64 characters")
    return given


def check_status(status: str) -> str:
    if status not in ("active", "suspended"):
        raise InputError(f"status {status!r} is not one of active, suspended")
    return status


def check_reason(reason: str) -> str:
    if not reason.strip():
        raise InputError("a suspension needs a reason (it is shown to the operator and logged)")
    return reason.strip()


def country_code(code: str | None, what: str) -> str | None:
    if code is None:
        return None
    if len(code) != 2 or not code.isalpha() or not code.isascii():
        raise InputError(f"{what} {code!r} is not an ISO 3166-1 alpha-2 code such as US or DE")
    return code.upper()


def org_record(row: Organization) -> OrgRecord:
    return OrgRecord(
        org_id=row.org_id,
        name=row.name,
        verification=row.verification,
        status=row.status,
        status_reason=row.status_reason,
        created_at=utc(row.created_at),
    )


def account_record(row: Account) -> AccountRecord:
    return AccountRecord(
        account_id=row.account_id,
        org_id=row.org_id,
        created_at=utc(row.created_at),
        email=row.email,
        email_domain=row.email_domain,
        signup_ip=row.signup_ip,
        signup_user_agent=row.signup_user_agent,
        payment_fingerprint=row.payment_fingerprint,
        payment_country=row.payment_country,
        country=row.country,
        verification=row.verification,
        program=row.program,
        tier=row.tier,
        status=row.status,
        status_reason=row.status_reason,
    )


def key_record(row: ApiKey) -> KeyRecord:
    def aware(moment: datetime | None) -> datetime | None:
        return utc(moment) if moment is not None else None

    return KeyRecord(
        key_id=row.key_id,
        account_id=row.account_id,
        name=row.name,
        created_at=utc(row.created_at),
        expires_at=aware(row.expires_at),
        revoked_at=aware(row.revoked_at),
        last_used_at=aware(row.last_used_at),
    )
