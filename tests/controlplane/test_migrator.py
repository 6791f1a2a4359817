from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import inspect

from distillguard.controlplane import migrator
from distillguard.controlplane.database import create_database_engine
from distillguard.controlplane.store import ControlPlaneStore
from distillguard.controlplane.tiers import default_tiers
from distillguard.errors import ConfigurationError

TABLES = {"dg_orgs", "dg_accounts", "dg_api_keys", "dg_tiers"}


def test_upgrade_from_empty_creates_and_seeds(db_url: str) -> None:
    engine = create_database_engine(db_url)
    try:
        migrator.downgrade(engine, "base")
        assert migrator.current_revision(engine) is None
        assert not TABLES & set(inspect(engine).get_table_names())
        assert migrator.upgrade(engine) == migrator.head_revision()
        assert set(inspect(engine).get_table_names()) >= TABLES
        assert ControlPlaneStore(engine).tiers.all() == default_tiers()
        assert migrator.upgrade(engine) == migrator.head_revision()  # idempotent
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_is_not_migrated_behind_the_operators_back(migrated_postgres: str) -> None:
    engine = create_database_engine(migrated_postgres)
    try:
        migrator.downgrade(engine, "base")
        with pytest.raises(ConfigurationError, match="db upgrade"):
            ControlPlaneStore.open(migrated_postgres)
        ControlPlaneStore.open(migrated_postgres, migrate=True).close()
        assert migrator.current_revision(engine) == migrator.head_revision()
    finally:
        migrator.upgrade(engine)
        engine.dispose()


def test_concurrent_opens_of_a_new_sqlite_file_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/race.db"
    errors: list[BaseException] = []

    def open_once() -> None:
        try:
            ControlPlaneStore.open(url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_once) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    engine = create_database_engine(url)
    try:
        assert migrator.current_revision(engine) == migrator.head_revision()
        assert len(ControlPlaneStore(engine).tiers.all()) == len(default_tiers())
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_concurrent_upgrades_on_postgres_all_succeed(migrated_postgres: str) -> None:
    engine = create_database_engine(migrated_postgres)
    migrator.downgrade(engine, "base")
    errors: list[BaseException] = []

    def upgrade_once() -> None:
        own = create_database_engine(migrated_postgres)
        try:
            migrator.upgrade(own)
        except BaseException as exc:
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=upgrade_once) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert len(ControlPlaneStore(engine).tiers.all()) == len(default_tiers())
    finally:
        migrator.upgrade(engine)
        engine.dispose()
