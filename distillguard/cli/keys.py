"""``distillguard keys``: create, list and revoke API keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from distillguard.cli.dbopt import db_option, echo_json, echo_table, json_option, open_store


@click.group()
def keys() -> None:
    """Manage API keys (the secret is shown once, at creation)."""


@keys.command("create")
@click.argument("account_id")
@click.option("--name", default="", help="A label for the key, e.g. the machine using it.")
@click.option("--expires-in-days", type=click.FloatRange(min=0, min_open=True), default=None)
@db_option
@json_option
def create(
    account_id: str, name: str, expires_in_days: float | None, db_url: str | None, as_json: bool
) -> None:
    """Create a key for ACCOUNT_ID and print its secret (only this once)."""
    expires_at = None
    if expires_in_days is not None:
        expires_at = datetime.now(UTC) + timedelta(days=expires_in_days)
    with open_store(db_url) as store:
        created = store.create_key(account_id, name=name, expires_at=expires_at)
    if as_json:
        echo_json({**created.record.to_dict(), "secret": created.secret})
        return
    click.echo(f"created {created.record.key_id} for {account_id}")
    click.echo("API key (shown only now; store it safely):")
    click.echo(created.secret)


@keys.command("list")
@click.option("--account", "account_id", default=None, help="Only keys of this account.")
@db_option
@json_option
def list_(account_id: str | None, db_url: str | None, as_json: bool) -> None:
    """List keys (never their secrets)."""
    with open_store(db_url) as store:
        records = store.list_keys(account_id=account_id)
    if as_json:
        echo_json([key.to_dict() for key in records])
        return
    rows = [key.to_dict() for key in records]
    echo_table(
        f"{len(rows)} key(s)",
        ("key_id", "account_id", "name", "state", "created_at", "expires_at", "last_used_at"),
        (
            (
                r["key_id"],
                r["account_id"],
                r["name"],
                r["state"],
                r["created_at"],
                r["expires_at"],
                r["last_used_at"],
            )
            for r in rows
        ),
    )


@keys.command("revoke")
@click.argument("key_id")
@db_option
@json_option
def revoke(key_id: str, db_url: str | None, as_json: bool) -> None:
    """Revoke KEY_ID for good; the gateway refuses it after its next refresh."""
    with open_store(db_url) as store:
        record = store.revoke_key(key_id)
    if as_json:
        echo_json(record.to_dict())
    else:
        click.echo(f"revoked {record.key_id} (account {record.account_id})")
