from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from distillguard.cli.main import cli
from distillguard.errors import InputError, NotFound


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/tiers.db"


def test_list_and_show(db: str) -> None:
    table = json.loads(run("tiers", "list", "--db", db, "--json"))
    assert len(table) >= 5 and table[0]["tier"] == 0
    assert "tier-2" in run("tiers", "list", "--db", db)
    assert json.loads(run("tiers", "show", "2", "--db", db, "--json"))["name"] == "tier-2"
    assert "ip24" in run("tiers", "show", "2", "--db", db)


def test_set_and_unset_one_limit(db: str) -> None:
    spec = json.loads(
        run(
            "tiers",
            "set",
            "2",
            "--scope",
            "account",
            "--rule",
            "rpm",
            "--value",
            "500",
            "--db",
            db,
            "--json",
        )
    )
    assert spec["limits"]["account"]["rpm"] == 500
    spec = json.loads(
        run(
            "tiers",
            "set",
            "2",
            "--scope",
            "ip48",
            "--rule",
            "concurrent",
            "--unlimited",
            "--db",
            db,
            "--json",
        )
    )
    assert "concurrent" not in spec["limits"]["ip48"]
    result = CliRunner().invoke(
        cli, ["tiers", "set", "2", "--scope", "key", "--rule", "rpm", "--db", db]
    )
    assert isinstance(result.exception, InputError)
    result = CliRunner().invoke(
        cli, ["tiers", "set", "99", "--scope", "key", "--rule", "rpm", "--value", "1", "--db", db]
    )
    assert isinstance(result.exception, NotFound)


@pytest.mark.parametrize("suffix", ["toml", "json"])
def test_export_edit_import_round_trip(db: str, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"tiers.{suffix}"
    run("tiers", "export", str(path), "--db", db)
    text = path.read_text()
    edited = text.replace('"tier-1"', '"starter"')
    assert edited != text
    path.write_text(edited)
    assert "imported 6 tier(s)" in run("tiers", "import", str(path), "--db", db)
    assert json.loads(run("tiers", "show", "1", "--db", db, "--json"))["name"] == "starter"


def test_export_to_stdout_is_toml(db: str) -> None:
    assert run("tiers", "export", "--db", db).startswith("[[tiers]]")


def test_bad_import_is_an_input_error(db: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"tiers": [{"tier": 0, "name": "x", "limits": {"moon": {}}}]}')
    result = CliRunner().invoke(cli, ["tiers", "import", str(path), "--db", db])
    assert isinstance(result.exception, InputError)
    assert "moon" in str(result.exception)
