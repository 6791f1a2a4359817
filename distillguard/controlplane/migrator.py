"""Schema migrations, run programmatically with Alembic.

The migration scripts ship inside the package (:mod:`distillguard.controlplane.migrations`), so an
installed distillguard can create and upgrade its database without an ``alembic.ini``:
``distillguard db upgrade`` calls :func:`upgrade`, and opening the default SQLite database
upgrades it on the spot.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from distillguard.controlplane.database import storage_errors

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


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

    Safe to call on an up-to-date database. If another process upgrades the same database at the
    same moment, the loser's failure is ignored once the database is at the target.
    """
    try:
        with storage_errors("upgrading the schema"), engine.begin() as connection:
            command.upgrade(_config(connection), revision)
    except Exception as exc:
        if isinstance(exc.__cause__, OperationalError | ProgrammingError) and (
            current_revision(engine) == head_revision()
        ):
            return head_revision()
        raise
    return current_revision(engine)


def downgrade(engine: Engine, revision: str) -> str | None:
    """Step the schema back to ``revision`` (``base`` removes every table)."""
    with storage_errors("downgrading the schema"), engine.begin() as connection:
        command.downgrade(_config(connection), revision)
    return current_revision(engine)
