from __future__ import annotations

from pathlib import Path

import pytest

from distillguard.controlplane.database import (
    DEFAULT_DATABASE_URL,
    create_database_engine,
    resolve_database_url,
)
from distillguard.controlplane.store import ControlPlaneStore
from distillguard.errors import ConfigurationError, StorageError


def test_url_resolution_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DG_DATABASE_URL", raising=False)
    assert resolve_database_url() == DEFAULT_DATABASE_URL
    monkeypatch.setenv("DG_DATABASE_URL", "sqlite:///env.db")
    assert resolve_database_url() == "sqlite:///env.db"
    assert resolve_database_url("sqlite:///arg.db") == "sqlite:///arg.db"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_postgres_urls_are_normalised(given: str, expected: str) -> None:
    assert resolve_database_url(given) == expected


@pytest.mark.parametrize("url", ["mysql://u@h/db", "redis://localhost", "just-a-path.db"])
def test_unknown_schemes_are_configuration_errors(url: str) -> None:
    with pytest.raises(ConfigurationError):
        resolve_database_url(url)


def test_default_sqlite_file_is_created_under_dg(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DG_DATABASE_URL", raising=False)
    store = ControlPlaneStore.open()
    try:
        assert len(store.tiers.all()) >= 5
    finally:
        store.close()
    assert (tmp_path / ".dg" / "distillguard.db").is_file()


def test_unreachable_server_is_a_storage_error() -> None:
    engine = create_database_engine("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    try:
        with pytest.raises(StorageError, match="database error"):
            ControlPlaneStore(engine).check()
    finally:
        engine.dispose()


def test_sqlite_in_memory_is_shared_across_sessions() -> None:
    store = ControlPlaneStore.open("sqlite:///:memory:")
    try:
        account = store.create_account()
        assert store.get_account(account.account_id) == account
    finally:
        store.close()
