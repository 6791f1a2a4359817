from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from distillguard.cli.main import cli
from distillguard.controlplane.auth import CachedAuthenticator
from distillguard.errors import PermissionDenied


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_create_list_revoke_and_authenticate(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/keys.db"
    account = json.loads(run("accounts", "create", "--db", db, "--json"))["account_id"]
    created = json.loads(
        run(
            "keys",
            "create",
            account,
            "--name",
            "ci",
            "--expires-in-days",
            "30",
            "--db",
            db,
            "--json",
        )
    )
    assert created["secret"].startswith(f"dg-{created['key_id']}-")
    assert created["expires_at"] is not None

    auth = CachedAuthenticator.from_url(db)
    try:
        assert auth.authenticate(created["secret"]).account_id == account
        listed = json.loads(run("keys", "list", "--account", account, "--db", db, "--json"))
        assert [k["key_id"] for k in listed] == [created["key_id"]]
        assert all("secret" not in k for k in listed)
        assert created["key_id"] in run("keys", "revoke", created["key_id"], "--db", db)
        assert json.loads(run("keys", "list", "--db", db, "--json"))[0]["state"] == "revoked"
        auth.refresh()
        with pytest.raises(PermissionDenied):
            auth.authenticate(created["secret"])
    finally:
        auth.close()


def test_human_output_shows_the_secret_once(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/keys.db"
    account = json.loads(run("accounts", "create", "--db", db, "--json"))["account_id"]
    text = run("keys", "create", account, "--db", db)
    secret = text.strip().splitlines()[-1]
    assert secret.startswith("dg-key_")
    assert secret not in run("keys", "list", "--db", db)
