from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from distillguard.cli.main import cli, main


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_create_list_show_suspend(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/orgs.db"
    org = json.loads(run("orgs", "create", "Acme Labs", "--db", db, "--json"))
    assert org["org_id"].startswith("org_") and org["name"] == "Acme Labs"
    assert json.loads(run("orgs", "list", "--db", db, "--json")) == [org]
    assert "Acme Labs" in run("orgs", "list", "--db", db)
    assert "Acme Labs" in run("orgs", "show", org["org_id"], "--db", db)
    assert (
        json.loads(
            run("orgs", "suspend", org["org_id"], "--reason", "fraud", "--db", db, "--json")
        )["status"]
        == "suspended"
    )
    assert (
        json.loads(run("orgs", "reinstate", org["org_id"], "--db", db, "--json"))["status"]
        == "active"
    )


def test_missing_org_exits_with_not_found_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["orgs", "show", "org_missing", "--db", f"sqlite:///{tmp_path}/orgs.db"])
    assert exc.value.code == 5
    assert "org_missing" in capsys.readouterr().err


def test_unknown_database_scheme_exits_with_configuration_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["orgs", "list", "--db", "mysql://x/y"])
    assert exc.value.code == 2
    assert "unsupported database URL scheme" in capsys.readouterr().err
