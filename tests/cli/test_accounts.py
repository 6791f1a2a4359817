from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from distillguard.cli.main import cli
from distillguard.errors import Conflict, InputError, NotFound

from conftest import SPEC_DIR


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/cli.db"


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_create_with_every_field_then_show_as_json(db: str) -> None:
    org = json.loads(run("orgs", "create", "Acme", "--verification", "org", "--db", db, "--json"))
    created = json.loads(
        run(
            "accounts", "create", "--db", db, "--json",
            "--email", "ada@example.com", "--org", org["org_id"], "--verification", "payment",
            "--program", "startup", "--tier", "2", "--signup-ip", "198.51.100.7",
            "--signup-user-agent", "python-httpx/0.28", "--payment-fingerprint", "fp_9",
            "--payment-country", "gb", "--country", "GB", "--created-at", "2026-02-03T04:05:06Z",
        )
    )  # fmt: skip
    assert created["account_id"].startswith("acct_")
    assert created["org_id"] == org["org_id"]
    assert (created["tier"], created["program"], created["payment_country"]) == (2, "startup", "GB")
    assert created["created_at"] == "2026-02-03T04:05:06Z"
    shown = json.loads(run("accounts", "show", created["account_id"], "--db", db, "--json"))
    assert shown == created


def test_list_suspend_reinstate_set_tier(db: str) -> None:
    account = json.loads(
        run("accounts", "create", "--db", db, "--json", "--verification", "payment")
    )
    ident = account["account_id"]
    assert "suspended" in run("accounts", "suspend", ident, "--reason", "campaign c-3", "--db", db)
    listed = json.loads(run("accounts", "list", "--status", "suspended", "--db", db, "--json"))
    assert [a["account_id"] for a in listed] == [ident]
    assert listed[0]["status_reason"] == "campaign c-3"
    assert (
        json.loads(run("accounts", "reinstate", ident, "--db", db, "--json"))["status"] == "active"
    )
    assert json.loads(run("accounts", "set-tier", ident, "3", "--db", db, "--json"))["tier"] == 3
    result = CliRunner().invoke(cli, ["accounts", "set-tier", ident, "4", "--db", db])
    assert isinstance(result.exception, Conflict)
    run("accounts", "set-verification", ident, "id", "--db", db)
    assert json.loads(run("accounts", "set-tier", ident, "4", "--db", db, "--json"))["tier"] == 4
    table = run("accounts", "list", "--db", db)
    assert "1 account(s)" in table


def test_export_writes_valid_account_v1(db: str, tmp_path: Path) -> None:
    schema = json.loads((SPEC_DIR / "account.v1.schema.json").read_text())
    run("accounts", "create", "--db", db, "--email", "a@b.io")
    run("accounts", "create", "--db", db)
    out = tmp_path / "accounts.jsonl"
    result = CliRunner().invoke(cli, ["accounts", "export", "--db", db, "-o", str(out)])
    assert result.exit_code == 0
    assert "exported 2 account(s)" in result.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 2
    for record in records:
        jsonschema.validate(record, schema)
    stdout = run("accounts", "export", "--db", db, "--no-email")
    assert json.loads(stdout.splitlines()[0])["email"] is None


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["accounts", "show", "acct_none"], NotFound),
        (["accounts", "create", "--signup-ip", "nope"], InputError),
        (["accounts", "create", "--created-at", "yesterday"], InputError),
        (["accounts", "create", "--tier", "4"], Conflict),
    ],
)
def test_errors_are_distillguard_errors(db: str, args: list[str], error: type[Exception]) -> None:
    result = CliRunner().invoke(cli, [*args, "--db", db])
    assert isinstance(result.exception, error)


def test_bad_choice_is_a_usage_error(db: str) -> None:
    result = CliRunner().invoke(cli, ["accounts", "create", "--program", "vip", "--db", db])
    assert result.exit_code == 2
    assert "vip" in result.output


def test_import_writes_keys_and_rejects(db: str, tmp_path: Path) -> None:
    source = tmp_path / "accounts.jsonl"
    good = {
        "account_id": "acct_a",
        "created_at": "2026-01-01T00:00:00Z",
        "verification": "none",
        "program": "standard",
    }
    source.write_text(json.dumps(good) + "\n" + '{"account_id": 5}\n')
    keys = tmp_path / "keys.jsonl"
    summary = json.loads(
        run("accounts", "import", str(source), "--create-keys", str(keys), "--db", db, "--json")
    )
    assert summary["imported"] == 1 and summary["rejected"] == 1 and summary["keys"] == 1
    assert summary["reasons"] == {"missing_field": 1}
    assert (keys.stat().st_mode & 0o777) == 0o600
    key = json.loads(keys.read_text())
    assert key["account_id"] == "acct_a" and key["api_key"].startswith("dg-key_")
    rejects = [
        json.loads(line)
        for line in (tmp_path / "accounts.jsonl.rejects.jsonl").read_text().splitlines()
    ]
    assert rejects == [
        {
            "source": str(source),
            "line": 2,
            "reason": "missing_field",
            "message": "required field 'created_at' is missing",
        }
    ]
    text = run("accounts", "import", str(source), "--db", db)
    assert "imported 0 account(s)" in text and "refused: 1" in text
