"""Schema migrations, run programmatically with Alembic.

The migration scripts ship inside the package (:mod:`distillguard.controlplane.migrations`), so an
installed distillguard can create and upgrade its database without an ``alembic.ini``:
``distillguard db upgrade`` calls :func:`upgrade`, and opening the default SQLite database
upgrades it on the spot.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from distillguard.controlplane.database import storage_errors
from distillguard.errors import StorageError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock file, upgrade one process at a time
    fcntl = None  # type: ignore[assignment]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_PG_LOCK_KEY = 0x6467_6370  # "dgcp": any constant shared by every distillguard process


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str:
    """The newest revision shipped with this version of distillguard."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise RuntimeError("no migrations found in the package")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or ``None`` for an empty database."""
    with storage_errors("reading the schema revision"), engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Bring the schema up to ``revision`` (default: the newest) and return the new revision.

    Safe to call on an up-to-date database, and from several processes at once: PostgreSQL
    serialises upgrades with an advisory lock, SQLite with a lock file beside the database.
    """
    with _file_lock(engine), storage_errors("upgrading the schema"), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        command.upgrade(_config(connection), revision)
    return current_revision(engine)


def downgrade(engine: Engine, revision: str) -> str | None:
    """Step the schema back to ``revision`` (``base`` removes every table)."""
    with storage_errors("downgrading the schema"), engine.begin() as connection:
        command.downgrade(_config(connection), revision)
    return current_revision(engine)


@contextmanager
def _file_lock(engine: Engine) -> Iterator[None]:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or fcntl is None:
        yield
        return
    try:
        handle = open(f"{database}.migrate-lock", "a")  # noqa: SIM115 - held across the yield
    except OSError as exc:
        raise StorageError(f"cannot create the migration lock beside {database}: {exc}") from exc
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
