"""Alembic environment: runs on the connection handed over by the migrator, or on a URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from distillguard.controlplane.database import create_database_engine
from distillguard.controlplane.models import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    config = context.config
    if context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            target_metadata=Base.metadata,
            literal_binds=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_database_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.begin() as own:
            _run(own)
    finally:
        engine.dispose()


_main()
