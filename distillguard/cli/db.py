"""``distillguard db``: create or upgrade the control-plane schema."""

from __future__ import annotations

import click

from distillguard.cli.dbopt import db_option


@click.group()
def db() -> None:
    """Manage the control-plane database."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target schema revision.")
@db_option
def upgrade(revision: str, db_url: str | None) -> None:
    """Create the tables or bring them up to date (safe to run again)."""
    from distillguard.controlplane import migrator
    from distillguard.controlplane.database import create_database_engine, resolve_database_url

    engine = create_database_engine(db_url)
    try:
        before = migrator.current_revision(engine)
        after = migrator.upgrade(engine, revision)
    finally:
        engine.dispose()
    target = _safe(resolve_database_url(db_url))
    if before == after:
        click.echo(f"{target} is already at revision {after}")
    else:
        click.echo(f"upgraded {target} from {before or 'empty'} to {after}")


@db.command("current")
@db_option
def current(db_url: str | None) -> None:
    """Print the schema revision of the database and the newest one available."""
    from distillguard.controlplane import migrator
    from distillguard.controlplane.database import create_database_engine

    engine = create_database_engine(db_url)
    try:
        revision = migrator.current_revision(engine)
    finally:
        engine.dispose()
    click.echo(f"current: {revision or 'none (empty database)'}")
    click.echo(f"newest:  {migrator.head_revision()}")


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
