from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest
from sqlalchemy import text

from distillguard.controlplane.records import ACCOUNT_V1_FIELDS
from distillguard.controlplane.store import ControlPlaneStore
from distillguard.errors import Conflict, InputError, NotFound

from conftest import SPEC_DIR

RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def test_org_create_list_get_suspend_reinstate(store: ControlPlaneStore) -> None:
    org = store.create_org("Acme Labs", verification="org")
    assert org.org_id.startswith("org_")
    assert store.get_org(org.org_id) == org
    suspended = store.suspend_org(org.org_id, "shared payment card with a campaign")
    assert (suspended.status, suspended.status_reason) == (
        "suspended",
        "shared payment card with a campaign",
    )
    assert [o.org_id for o in store.list_orgs(status="suspended")] == [org.org_id]
    assert store.reinstate_org(org.org_id).status == "active"
    assert store.list_orgs(status="suspended") == []


def test_account_gets_prefixed_id_domain_and_lowest_tier(store: ControlPlaneStore) -> None:
    account = store.create_account(email="Ada@Example.COM", signup_ip="2001:db8::0:1", country="de")
    assert account.account_id.startswith("acct_")
    assert account.email_domain == "example.com"
    assert account.signup_ip == "2001:db8::1"
    assert account.country == "DE"
    assert account.tier == 0
    assert account.status == "active"
    assert store.get_account(account.account_id) == account


def test_account_in_org_and_filters(store: ControlPlaneStore) -> None:
    org = store.create_org("Acme")
    inside = store.create_account(org_id=org.org_id)
    store.create_account()
    assert [a.account_id for a in store.list_accounts(org_id=org.org_id)] == [inside.account_id]
    assert len(store.list_accounts()) == 2
    assert len(store.list_accounts(limit=1)) == 1


def test_account_with_unknown_org_is_not_found(store: ControlPlaneStore) -> None:
    with pytest.raises(NotFound, match="org_nope"):
        store.create_account(org_id="org_nope")


BAD_FIELDS = [
    ("email", "not-an-address", "name@domain"),
    ("signup_ip", "300.1.1.1", "IPv4 or IPv6"),
    ("country", "Germany", "alpha-2"),
    ("payment_country", "1A", "alpha-2"),
    ("verification", "passport", "verification"),
    ("program", "vip", "program"),
]


def test_account_bad_fields_are_input_errors(store: ControlPlaneStore) -> None:
    for field, value, message in BAD_FIELDS:
        with pytest.raises(InputError, match=message):
            store.create_account(**{field: value})  # type: ignore[arg-type]
    assert store.list_accounts() == []


def test_tier_needs_its_verification(store: ControlPlaneStore) -> None:
    with pytest.raises(Conflict, match="requires verification 'payment'"):
        store.create_account(verification="email", tier=2)
    account = store.create_account(verification="email")
    with pytest.raises(Conflict):
        store.set_account_tier(account.account_id, 3)
    store.set_account_verification(account.account_id, "payment")
    assert store.set_account_tier(account.account_id, 3).tier == 3
    with pytest.raises(NotFound, match="tier 42"):
        store.set_account_tier(account.account_id, 42)


def test_duplicate_account_id_is_a_conflict(store: ControlPlaneStore) -> None:
    store.create_account(account_id="acct_fixed")
    with pytest.raises(Conflict, match="already exists"):
        store.create_account(account_id="acct_fixed")


def test_suspend_needs_a_reason_and_reinstate_clears_it(store: ControlPlaneStore) -> None:
    account = store.create_account()
    with pytest.raises(InputError, match="reason"):
        store.suspend_account(account.account_id, "  ")
    assert store.suspend_account(account.account_id, "campaign c-7").status_reason == "campaign c-7"
    reinstated = store.reinstate_account(account.account_id)
    assert (reinstated.status, reinstated.status_reason) == ("active", None)


def test_key_secret_is_never_stored(store: ControlPlaneStore) -> None:
    account = store.create_account()
    created = store.create_key(account.account_id, name="laptop")
    secret_part = created.secret.rsplit("-", 1)[1]
    assert created.secret.startswith(f"dg-{created.record.key_id}-")
    with store.engine.connect() as connection:
        dump = repr(connection.execute(text("SELECT * FROM dg_api_keys")).all())
    assert created.record.key_id in dump
    assert secret_part not in dump


def test_keys_list_revoke_and_state(store: ControlPlaneStore) -> None:
    account = store.create_account()
    first = store.create_key(account.account_id).record
    second = store.create_key(
        account.account_id, expires_at=datetime.now(UTC) + timedelta(days=1)
    ).record
    assert [k.key_id for k in store.list_keys(account_id=account.account_id)] == [
        first.key_id,
        second.key_id,
    ]
    revoked = store.revoke_key(first.key_id)
    assert revoked.state() == "revoked"
    assert store.revoke_key(first.key_id).revoked_at == revoked.revoked_at
    assert second.state() == "active"
    assert second.state(now=datetime.now(UTC) + timedelta(days=2)) == "expired"


def test_key_rules(store: ControlPlaneStore) -> None:
    account = store.create_account()
    with pytest.raises(InputError, match="future"):
        store.create_key(account.account_id, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    with pytest.raises(NotFound):
        store.create_key("acct_missing")
    store.suspend_account(account.account_id, "abuse")
    with pytest.raises(Conflict, match="suspended"):
        store.create_key(account.account_id)


def test_record_key_use(store: ControlPlaneStore) -> None:
    account = store.create_account()
    key = store.create_key(account.account_id).record
    moment = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    store.record_key_use({key.key_id: moment, "key_deleted": moment})
    assert store.get_key(key.key_id).last_used_at == moment


def test_export_is_valid_account_v1(store: ControlPlaneStore) -> None:
    schema = json.loads((SPEC_DIR / "account.v1.schema.json").read_text())
    org = store.create_org("Acme", verification="org")
    store.create_account(
        org_id=org.org_id,
        email="bob@example.org",
        signup_ip="203.0.113.9",
        signup_user_agent="curl/8",
        payment_fingerprint="fp_123",
        payment_country="US",
        country="US",
        verification="org",
        program="enterprise",
        tier=5,
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    store.create_account()
    out = io.BytesIO()
    assert store.export_accounts(out) == 2
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    for record in records:
        jsonschema.validate(record, schema, format_checker=jsonschema.FormatChecker())
        assert tuple(record) == ACCOUNT_V1_FIELDS
        assert RFC3339_Z.match(record["created_at"])
    assert records[0]["created_at"] == "2026-01-02T03:04:05Z"
    assert records[0]["tier"] == 5 and records[0]["email"] == "bob@example.org"

    withheld = io.BytesIO()
    store.export_accounts(withheld, include_email=False)
    first = json.loads(withheld.getvalue().splitlines()[0])
    assert first["email"] is None and first["email_domain"] == "example.org"


def test_check_passes_on_a_live_database(store: ControlPlaneStore) -> None:
    store.check()
