from __future__ import annotations

import io
import json

from distillguard.controlplane.accountimport import import_accounts
from distillguard.controlplane.auth import CachedAuthenticator
from distillguard.controlplane.store import ControlPlaneStore

GOOD = {
    "account_id": "acct_sim_1",
    "org_id": "org_sim_1",
    "created_at": "2026-01-05T10:00:00Z",
    "email": "kim@uni.example",
    "signup_ip": "198.51.100.4",
    "verification": "email",
    "program": "education",
    "tier": 1,
    "persona_hint": "ignored extra field",
}


def lines(*records: object) -> list[bytes]:
    return [r if isinstance(r, bytes) else json.dumps(r).encode() for r in records]


def test_import_keeps_good_records_and_explains_bad_ones(store: ControlPlaneStore) -> None:
    store.create_account(account_id="acct_taken")
    report = import_accounts(
        store,
        lines(
            GOOD,
            b"{not json",
            [1, 2],
            {**GOOD, "account_id": "acct_2", "created_at": None},
            {**GOOD, "account_id": "acct_3", "created_at": "last tuesday"},
            {**GOOD, "account_id": "acct_4", "tier": "gold"},
            {**GOOD, "account_id": "acct_5", "signup_ip": "10.0.0.999"},
            {**GOOD, "account_id": "acct_taken"},
            {**GOOD, "account_id": "acct_7", "tier": 77},
            {**GOOD, "account_id": "acct_8", "program": "vip"},
            b"   ",
            {**GOOD, "account_id": "acct_10", "org_id": None, "tier": None, "email": None},
        ),
    )
    assert [a.account_id for a in report.imported] == ["acct_sim_1", "acct_10"]
    assert [(r.line, r.reason) for r in report.rejects] == [
        (2, "malformed_json"),
        (3, "not_an_object"),
        (4, "missing_field"),
        (5, "bad_timestamp"),
        (6, "wrong_type"),
        (7, "invalid_value"),
        (8, "refused"),
        (9, "refused"),
        (10, "invalid_value"),
    ]
    assert report.reasons()["refused"] == 2
    imported = store.get_account("acct_sim_1")
    assert imported.tier == 1  # kept as recorded, though tier 1 asks for payment on upgrades
    assert imported.email_domain == "uni.example"
    assert store.get_org("org_sim_1").name == "org_sim_1"
    assert store.get_account("acct_10").tier == 0


def test_import_with_keys_round_trips_through_the_authenticator(store: ControlPlaneStore) -> None:
    records = [{**GOOD, "account_id": f"acct_{i}", "org_id": None} for i in range(5)]
    report = import_accounts(store, lines(*records), create_keys=True, batch_size=2)
    assert len(report.imported) == len(report.keys) == 5
    auth = CachedAuthenticator(store.engine)
    assert {auth.authenticate(k.secret).account_id for k in report.keys} == {
        f"acct_{i}" for i in range(5)
    }
    exported = io.BytesIO()
    store.export_accounts(exported)
    assert len(exported.getvalue().splitlines()) == 5
