"""Where the control-plane database lives: URL resolution, engines and driver errors.

The URL comes from an explicit argument (the CLI's ``--db``), else the ``DG_DATABASE_URL``
environment variable, else :data:`DEFAULT_DATABASE_URL` — an SQLite file under ``.dg/`` in the
current directory, so a first run needs no setup. PostgreSQL URLs may be written
``postgresql://…`` or ``postgres://…``; both are normalised to the psycopg 3 driver.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from distillguard.errors import ConfigurationError, StorageError

DEFAULT_DATABASE_URL = "sqlite:///.dg/distillguard.db"
DATABASE_URL_ENV = "DG_DATABASE_URL"

# URL scheme -> the SQLAlchemy driver name used for it.
_DRIVERS: dict[str, str] = {
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
}


def resolve_database_url(url: str | None = None) -> str:
    """The database URL to use: ``url``, else ``$DG_DATABASE_URL``, else the default SQLite file.

    Raises :class:`ConfigurationError` for a scheme other than SQLite or PostgreSQL.

    >>> resolve_database_url("postgresql://u@db/dg")
    'postgresql+psycopg://u@db/dg'
    """
    chosen = url or os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL
    scheme, sep, rest = chosen.partition("://")
    if not sep:
        raise ConfigurationError(
            f"database URL {chosen!r} has no scheme; use sqlite:///path.db or postgresql://host/db"
        )
    driver = _DRIVERS.get(scheme.lower())
    if driver is None:
        raise ConfigurationError(
            f"unsupported database URL scheme {scheme!r}; use one of {', '.join(_DRIVERS)}"
        )
    return f"{driver}://{rest}"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_database_engine(url: str | None = None) -> Engine:
    """An engine for the resolved URL; the directory of an SQLite file is created if missing."""
    resolved = resolve_database_url(url)
    kwargs: dict[str, Any] = {}
    try:
        parsed = make_url(resolved)
    except ArgumentError as exc:
        raise ConfigurationError(f"invalid database URL {resolved!r}: {exc}") from exc
    if is_sqlite(resolved):
        database = parsed.database
        if database in (None, "", ":memory:"):
            # One shared connection, or every session would see its own empty database.
            kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            try:
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot create the directory for {database}: {exc}") from exc
            kwargs.update(connect_args={"check_same_thread": False, "timeout": 30})
    else:
        kwargs.update(pool_pre_ping=True)
    try:
        engine = create_engine(resolved, **kwargs)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise ConfigurationError(f"cannot use database URL {resolved!r}: {exc}") from exc
    if is_sqlite(resolved):
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


_BUSY_TIMEOUT_S = 30.0


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={int(_BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL lets the gateway's background refresh read while the CLI writes.
        _switch_to_wal(cursor)
    finally:
        cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    """Put the file in WAL mode, waiting out other connections that hold it.

    Switching the journal mode needs the file to itself, and SQLite answers "database is locked"
    at once, without its busy handler, while another connection holds it — which happens when
    several processes or threads open a new database together. So retry up to the busy timeout.
    """
    deadline = time.monotonic() + _BUSY_TIMEOUT_S
    pause = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


@contextmanager
def storage_errors(action: str) -> Iterator[None]:
    """Turn driver errors raised inside the block into :class:`StorageError`."""
    try:
        yield
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise StorageError(f"database error while {action}: {detail}") from exc
    except OSError as exc:
        raise StorageError(f"database error while {action}: {exc}") from exc
