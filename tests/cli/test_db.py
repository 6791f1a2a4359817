from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from distillguard.cli.main import cli
from distillguard.controlplane import migrator


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_upgrade_then_current(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/sub/dir/cp.db"
    assert f"from empty to {migrator.head_revision()}" in run("db", "upgrade", "--db", db)
    assert "already at revision" in run("db", "upgrade", "--db", db)
    assert f"current: {migrator.head_revision()}" in run("db", "current", "--db", db)


def test_url_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DG_DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    run("db", "upgrade")
    assert (tmp_path / "env.db").is_file()


@pytest.mark.postgres
def test_upgrade_postgres_hides_password(postgres_url: str) -> None:
    out = run(
        "db", "upgrade", "--db", postgres_url.replace("postgresql+psycopg://", "postgresql://")
    )
    assert migrator.head_revision() in out
