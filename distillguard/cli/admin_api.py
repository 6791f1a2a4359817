"""``distillguard admin-api``: serve the admin HTTP API with uvicorn."""

from __future__ import annotations

import click

from distillguard.cli.dbopt import db_option
from distillguard.errors import ConfigurationError


@click.command("admin-api")
@db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8081, show_default=True)
@click.option(
    "--admin-token",
    envvar="DG_ADMIN_TOKEN",
    default=None,
    help="Bearer token every request must carry (default: $DG_ADMIN_TOKEN).",
)
def admin_api(db_url: str | None, host: str, port: int, admin_token: str | None) -> None:
    """Serve the admin API (orgs, accounts, keys, tiers; OpenAPI at /openapi.json)."""
    if not admin_token:
        raise ConfigurationError("no admin token: pass --admin-token or set DG_ADMIN_TOKEN")
    import uvicorn

    from distillguard.controlplane.adminapi import create_admin_app
    from distillguard.controlplane.store import ControlPlaneStore

    store = ControlPlaneStore.open(db_url)
    try:
        app = create_admin_app(store, admin_token)
        uvicorn.run(app, host=host, port=port, log_level="info")
    finally:
        store.close()
