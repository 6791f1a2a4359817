from __future__ import annotations

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
