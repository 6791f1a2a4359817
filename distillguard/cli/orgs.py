"""``distillguard orgs``: create, list, show, suspend and reinstate organizations."""

from __future__ import annotations

import click

from distillguard.cli.dbopt import (
    db_option,
    echo_fields,
    echo_json,
    echo_table,
    json_option,
    open_store,
)
from distillguard.controlplane.records import VERIFICATION_LEVELS, OrgRecord


@click.group()
def orgs() -> None:
    """Manage organizations."""


@orgs.command("create")
@click.argument("name")
@click.option(
    "--verification", type=click.Choice(VERIFICATION_LEVELS), default="none", show_default=True
)
@click.option("--id", "org_id", default=None, help="Use this identifier instead of a fresh org_….")
@db_option
@json_option
def create(
    name: str, verification: str, org_id: str | None, db_url: str | None, as_json: bool
) -> None:
    """Create an organization called NAME."""
    with open_store(db_url) as store:
        org = store.create_org(name, verification=verification, org_id=org_id)
    _show(org, as_json)


@orgs.command("list")
@click.option("--status", type=click.Choice(["active", "suspended"]), default=None)
@db_option
@json_option
def list_(status: str | None, db_url: str | None, as_json: bool) -> None:
    """List organizations."""
    with open_store(db_url) as store:
        records = store.list_orgs(status=status)
    if as_json:
        echo_json([org.to_dict() for org in records])
        return
    echo_table(
        f"{len(records)} organization(s)",
        ("org_id", "name", "verification", "status", "created_at"),
        ((o.org_id, o.name, o.verification, o.status, o.to_dict()["created_at"]) for o in records),
    )


@orgs.command("show")
@click.argument("org_id")
@db_option
@json_option
def show(org_id: str, db_url: str | None, as_json: bool) -> None:
    """Show one organization."""
    with open_store(db_url) as store:
        org = store.get_org(org_id)
    _show(org, as_json)


@orgs.command("suspend")
@click.argument("org_id")
@click.option(
    "--reason", required=True, help="Why (kept for the audit trail, not shown to clients)."
)
@db_option
@json_option
def suspend(org_id: str, reason: str, db_url: str | None, as_json: bool) -> None:
    """Suspend an organization: every key of its accounts is refused."""
    with open_store(db_url) as store:
        org = store.suspend_org(org_id, reason)
    _show(org, as_json)


@orgs.command("reinstate")
@click.argument("org_id")
@db_option
@json_option
def reinstate(org_id: str, db_url: str | None, as_json: bool) -> None:
    """Lift an organization's suspension."""
    with open_store(db_url) as store:
        org = store.reinstate_org(org_id)
    _show(org, as_json)


def _show(org: OrgRecord, as_json: bool) -> None:
    if as_json:
        echo_json(org.to_dict())
    else:
        echo_fields(f"organization {org.org_id}", org.to_dict())
