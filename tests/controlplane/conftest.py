from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from distillguard.controlplane import migrator
from distillguard.controlplane.database import create_database_engine
from distillguard.controlplane.store import ControlPlaneStore
from distillguard.controlplane.tiers import default_tiers

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def migrated_postgres(postgres_url: str) -> str:
    """The session's PostgreSQL database with the control-plane schema at head."""
    engine = create_database_engine(postgres_url)
    try:
        migrator.upgrade(engine)
    finally:
        engine.dispose()
    return postgres_url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with the schema at head, the default tiers and nothing else.

    SQLite: a fresh file per test. PostgreSQL: the session database, emptied and re-seeded.
    """
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/controlplane.db"
    url: str = request.getfixturevalue("migrated_postgres")
    engine = create_database_engine(url)
    try:
        if migrator.current_revision(engine) != migrator.head_revision():
            migrator.upgrade(engine)  # a migration test stepped back
        with engine.begin() as connection:
            connection.execute(text("TRUNCATE dg_api_keys, dg_accounts, dg_orgs, dg_tiers"))
        ControlPlaneStore(engine).tiers.replace_all(default_tiers())
    finally:
        engine.dispose()
    return url


@pytest.fixture
def store(db_url: str) -> Iterator[ControlPlaneStore]:
    opened = ControlPlaneStore.open(db_url, migrate=True)
    try:
        yield opened
    finally:
        opened.close()
