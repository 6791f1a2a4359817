from __future__ import annotations

import json
from collections.abc import Iterator

import jsonschema
import pytest
from fastapi.testclient import TestClient

from distillguard.controlplane.adminapi import create_admin_app
from distillguard.controlplane.auth import CachedAuthenticator
from distillguard.controlplane.store import ControlPlaneStore
from distillguard.errors import ConfigurationError, PermissionDenied

from conftest import SPEC_DIR

TOKEN = "admin-token-for-tests-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(store: ControlPlaneStore) -> Iterator[TestClient]:
    with TestClient(create_admin_app(store, TOKEN)) as test_client:
        yield test_client


def test_every_route_needs_the_token() -> None:
    store = ControlPlaneStore.open("sqlite:///:memory:")
    try:
        with TestClient(create_admin_app(store, TOKEN)) as client:
            for path in ("/accounts", "/openapi.json", "/tiers", "/keys", "/orgs/org_x"):
                for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
                    response = client.get(path, headers=headers)
                    assert response.status_code == 401, (path, headers)
                    assert response.json()["error"]["type"] == "authentication"
                    assert response.headers["www-authenticate"] == "Bearer"
            assert client.post("/accounts", json={}).status_code == 401
    finally:
        store.close()


def test_openapi_documents_the_routes(client: TestClient) -> None:
    document = client.get("/openapi.json", headers=AUTH).json()
    for path in (
        "/orgs",
        "/accounts",
        "/accounts/export",
        "/accounts/{account_id}/suspend",
        "/keys",
        "/keys/{key_id}/revoke",
        "/tiers/{tier}",
    ):
        assert path in document["paths"]
    assert "AccountCreate" in document["components"]["schemas"]
    assert "HTTPBearer" in document["components"]["securitySchemes"]


def test_account_and_key_created_through_the_api_authenticate(
    client: TestClient, store: ControlPlaneStore
) -> None:
    org = client.post("/orgs", headers=AUTH, json={"name": "Acme", "verification": "org"})
    assert org.status_code == 201
    account = client.post(
        "/accounts",
        headers=AUTH,
        json={
            "email": "ada@example.com",
            "org_id": org.json()["org_id"],
            "verification": "payment",
            "tier": 1,
        },
    )
    assert account.status_code == 201
    account_id = account.json()["account_id"]
    key = client.post("/keys", headers=AUTH, json={"account_id": account_id, "name": "ci"})
    assert key.status_code == 201
    secret = key.json()["secret"]
    assert "secret" not in client.get(f"/keys/{key.json()['key_id']}", headers=AUTH).json()

    auth = CachedAuthenticator(store.engine)
    assert auth.authenticate(secret).account_id == account_id

    suspended = client.post(
        f"/accounts/{account_id}/suspend", headers=AUTH, json={"reason": "campaign"}
    )
    assert suspended.json()["status"] == "suspended"
    auth.refresh()
    with pytest.raises(PermissionDenied):
        auth.authenticate(secret)
    assert (
        client.post(f"/accounts/{account_id}/reinstate", headers=AUTH).json()["status"] == "active"
    )
    assert (
        client.post(f"/keys/{key.json()['key_id']}/revoke", headers=AUTH).json()["state"]
        == "revoked"
    )
    assert (
        client.put(f"/accounts/{account_id}/tier", headers=AUTH, json={"tier": 4}).status_code
        == 409
    )
    verified = client.put(
        f"/accounts/{account_id}/verification", headers=AUTH, json={"verification": "id"}
    )
    assert verified.json()["verification"] == "id"
    assert (
        client.put(f"/accounts/{account_id}/tier", headers=AUTH, json={"tier": 4}).json()["tier"]
        == 4
    )


def test_malformed_and_invalid_requests_are_4xx(client: TestClient) -> None:
    bad_json = client.post(
        "/accounts", headers={**AUTH, "Content-Type": "application/json"}, content=b"{oops"
    )
    assert bad_json.status_code == 422
    assert client.post("/accounts", headers=AUTH, json={"program": "vip"}).status_code == 422
    assert client.post("/accounts", headers=AUTH, json={"unknown_field": 1}).status_code == 422
    bad_ip = client.post("/accounts", headers=AUTH, json={"signup_ip": "1.2.3"})
    assert bad_ip.status_code == 400 and "IPv4" in bad_ip.json()["error"]["message"]
    assert client.post("/accounts", headers=AUTH, json={"tier": 5}).status_code == 409
    assert client.get("/accounts/acct_missing", headers=AUTH).status_code == 404
    assert (
        client.post("/keys", headers=AUTH, json={"account_id": "acct_missing"}).status_code == 404
    )
    assert client.get("/tiers/not-a-number", headers=AUTH).status_code == 422
    assert (
        client.put(
            "/tiers/1", headers=AUTH, json={"name": "x", "limits": {"account": {"rpm": -3}}}
        ).status_code
        == 400
    )
    assert client.post("/orgs/org_x/suspend", headers=AUTH, json={}).status_code == 422


def test_tiers_get_set_and_replace(client: TestClient) -> None:
    assert len(client.get("/tiers", headers=AUTH).json()) >= 5
    changed = client.patch(
        "/tiers/2/limits", headers=AUTH, json={"scope": "account", "rule": "rpm", "value": 500}
    )
    assert changed.json()["limits"]["account"]["rpm"] == 500
    removed = client.patch(
        "/tiers/2/limits", headers=AUTH, json={"scope": "ip", "rule": "rpm", "value": None}
    )
    assert "rpm" not in removed.json()["limits"]["ip"]
    put = client.put(
        "/tiers/9",
        headers=AUTH,
        json={"name": "partner", "required_verification": "org", "limits": {"org": {"rpm": 1}}},
    )
    assert put.json() == {
        "tier": 9,
        "name": "partner",
        "required_verification": "org",
        "description": "",
        "limits": {"org": {"rpm": 1}},
    }
    assert client.delete("/tiers/9", headers=AUTH).status_code == 204
    table = client.put(
        "/tiers", headers=AUTH, json={"tiers": [{"tier": 0, "name": "only", "limits": {}}]}
    )
    assert [t["name"] for t in table.json()] == ["only"]


def test_export_streams_account_v1(client: TestClient) -> None:
    schema = json.loads((SPEC_DIR / "account.v1.schema.json").read_text())
    client.post("/accounts", headers=AUTH, json={"email": "a@b.org", "country": "FR"})
    response = client.get("/accounts/export", headers=AUTH, params={"include_email": "false"})
    assert response.headers["content-type"].startswith("application/x-ndjson")
    (line,) = response.text.splitlines()
    record = json.loads(line)
    jsonschema.validate(record, schema)
    assert record["email"] is None and record["email_domain"] == "b.org"


def test_short_tokens_are_refused(store: ControlPlaneStore) -> None:
    with pytest.raises(ConfigurationError, match="at least 16"):
        create_admin_app(store, "short")


def test_mounts_under_admin(store: ControlPlaneStore) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    outer = Starlette(routes=[Mount("/admin", app=create_admin_app(store, TOKEN))])
    with TestClient(outer) as client:
        assert client.get("/admin/tiers").status_code == 401
        assert len(client.get("/admin/tiers", headers=AUTH).json()) >= 5
        assert "/tiers" in client.get("/admin/openapi.json", headers=AUTH).json()["paths"]
