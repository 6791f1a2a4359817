"""``distillguard accounts``: create, list, show, suspend, reinstate, retier and export accounts."""

from __future__ import annotations

import gzip
import os
import sys
from datetime import datetime
from pathlib import Path

import click
import orjson

from distillguard.cli.dbopt import (
    db_option,
    echo_fields,
    echo_json,
    echo_table,
    json_option,
    open_store,
)
from distillguard.controlplane.records import PROGRAMS, VERIFICATION_LEVELS, AccountRecord
from distillguard.errors import InputError


@click.group()
def accounts() -> None:
    """Manage accounts (the dg.account.v1 records)."""


@accounts.command("create")
@click.option("--email", default=None, help="Full e-mail address.")
@click.option("--email-domain", default=None, help="Domain only (derived from --email if omitted).")
@click.option("--org", "org_id", default=None, help="Organization id (org_…).")
@click.option(
    "--verification", type=click.Choice(VERIFICATION_LEVELS), default="none", show_default=True
)
@click.option("--program", type=click.Choice(PROGRAMS), default="standard", show_default=True)
@click.option(
    "--tier", type=click.IntRange(min=0), default=None, help="Usage tier (default: the lowest)."
)
@click.option("--signup-ip", default=None)
@click.option("--signup-user-agent", default=None)
@click.option("--payment-fingerprint", default=None, help="Opaque id of the payment instrument.")
@click.option("--payment-country", default=None, help="ISO 3166-1 alpha-2.")
@click.option("--country", default=None, help="Declared country, ISO 3166-1 alpha-2.")
@click.option("--created-at", default=None, help="Sign-up time (RFC 3339), for imports.")
@click.option(
    "--id", "account_id", default=None, help="Use this identifier instead of a fresh acct_…."
)
@db_option
@json_option
def create(
    email: str | None,
    email_domain: str | None,
    org_id: str | None,
    verification: str,
    program: str,
    tier: int | None,
    signup_ip: str | None,
    signup_user_agent: str | None,
    payment_fingerprint: str | None,
    payment_country: str | None,
    country: str | None,
    created_at: str | None,
    account_id: str | None,
    db_url: str | None,
    as_json: bool,
) -> None:
    """Create an account."""
    with open_store(db_url) as store:
        account = store.create_account(
            account_id=account_id,
            org_id=org_id,
            created_at=_timestamp(created_at) if created_at else None,
            email=email,
            email_domain=email_domain,
            signup_ip=signup_ip,
            signup_user_agent=signup_user_agent,
            payment_fingerprint=payment_fingerprint,
            payment_country=payment_country,
            country=country,
            verification=verification,
            program=program,
            tier=tier,
        )
    _show(account, as_json)


@accounts.command("list")
@click.option("--org", "org_id", default=None, help="Only accounts of this organization.")
@click.option("--status", type=click.Choice(["active", "suspended"]), default=None)
@click.option("--limit", type=click.IntRange(min=1), default=None)
@db_option
@json_option
def list_(
    org_id: str | None, status: str | None, limit: int | None, db_url: str | None, as_json: bool
) -> None:
    """List accounts, oldest first."""
    with open_store(db_url) as store:
        records = store.list_accounts(org_id=org_id, status=status, limit=limit)
    if as_json:
        echo_json([account.to_dict() for account in records])
        return
    echo_table(
        f"{len(records)} account(s)",
        (
            "account_id",
            "org_id",
            "email",
            "verification",
            "program",
            "tier",
            "status",
            "created_at",
        ),
        (
            (
                a.account_id,
                a.org_id,
                a.email or a.email_domain,
                a.verification,
                a.program,
                a.tier,
                a.status,
                a.to_dict()["created_at"],
            )
            for a in records
        ),
    )


@accounts.command("show")
@click.argument("account_id")
@db_option
@json_option
def show(account_id: str, db_url: str | None, as_json: bool) -> None:
    """Show one account."""
    with open_store(db_url) as store:
        account = store.get_account(account_id)
    _show(account, as_json)


@accounts.command("suspend")
@click.argument("account_id")
@click.option(
    "--reason", required=True, help="Why (kept for the audit trail, not shown to clients)."
)
@db_option
@json_option
def suspend(account_id: str, reason: str, db_url: str | None, as_json: bool) -> None:
    """Suspend an account: its keys are refused with 403."""
    with open_store(db_url) as store:
        account = store.suspend_account(account_id, reason)
    _show(account, as_json)


@accounts.command("reinstate")
@click.argument("account_id")
@db_option
@json_option
def reinstate(account_id: str, db_url: str | None, as_json: bool) -> None:
    """Lift an account's suspension."""
    with open_store(db_url) as store:
        account = store.reinstate_account(account_id)
    _show(account, as_json)


@accounts.command("set-tier")
@click.argument("account_id")
@click.argument("tier", type=click.IntRange(min=0))
@db_option
@json_option
def set_tier(account_id: str, tier: int, db_url: str | None, as_json: bool) -> None:
    """Move an account to TIER (its verification must meet the tier's requirement)."""
    with open_store(db_url) as store:
        account = store.set_account_tier(account_id, tier)
    _show(account, as_json)


@accounts.command("set-verification")
@click.argument("account_id")
@click.argument("level", type=click.Choice(VERIFICATION_LEVELS))
@db_option
@json_option
def set_verification(account_id: str, level: str, db_url: str | None, as_json: bool) -> None:
    """Record the highest check ACCOUNT_ID has passed (unlocks tiers that require it)."""
    with open_store(db_url) as store:
        account = store.set_account_verification(account_id, level)
    _show(account, as_json)


@accounts.command("export")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True),
    default="-",
    show_default=True,
)
@click.option(
    "--no-email", is_flag=True, help="Withhold full addresses; export only their domains."
)
@db_option
def export(output: str, no_email: bool, db_url: str | None) -> None:
    """Write every account as dg.account.v1 JSON Lines."""
    with open_store(db_url) as store:
        if output == "-":
            count = store.export_accounts(sys.stdout.buffer, include_email=not no_email)
            sys.stdout.flush()
        else:
            try:
                with open(output, "wb") as out:
                    count = store.export_accounts(out, include_email=not no_email)
            except OSError as exc:
                raise InputError(f"cannot write {output}: {exc.strerror}") from exc
    click.echo(f"exported {count} account(s)", err=True)


@accounts.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--create-keys",
    "keys_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Create one API key per imported account and write them (secrets!) to this JSONL file.",
)
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write rejected records (default: beside PATH, *.rejects.jsonl).",
)
@db_option
@json_option
def import_(
    path: Path, keys_path: Path | None, rejects_path: Path | None, db_url: str | None, as_json: bool
) -> None:
    """Import dg.account.v1 JSON Lines (.jsonl or .jsonl.gz); bad records are set aside."""
    from distillguard.controlplane.accountimport import import_accounts

    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as lines, open_store(db_url) as store:
            report = import_accounts(store, lines, create_keys=keys_path is not None)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    if keys_path is not None:
        _write_private(
            keys_path,
            [
                {"account_id": k.record.account_id, "key_id": k.record.key_id, "api_key": k.secret}
                for k in report.keys
            ],
        )
    if report.rejects:
        rejects_path = rejects_path or path.with_name(
            path.name.removesuffix(".gz") + ".rejects.jsonl"
        )
        try:
            rejects_path.write_bytes(
                b"".join(
                    orjson.dumps({"source": str(path), **r.to_dict()}) + b"\n"
                    for r in report.rejects
                )
            )
        except OSError as exc:
            raise InputError(f"cannot write {rejects_path}: {exc.strerror}") from exc
    summary = {
        "imported": len(report.imported),
        "rejected": len(report.rejects),
        "reasons": report.reasons(),
        "keys": len(report.keys),
        "rejects_file": str(rejects_path) if report.rejects else None,
    }
    if as_json:
        echo_json(summary)
        return
    click.echo(f"imported {summary['imported']} account(s) from {path}")
    if report.keys:
        click.echo(f"created {len(report.keys)} key(s) in {keys_path} (keep this file secret)")
    if report.rejects:
        reasons = ", ".join(
            f"{reason}: {count}" for reason, count in sorted(report.reasons().items())
        )
        click.echo(f"rejected {len(report.rejects)} record(s) ({reasons}); see {rejects_path}")


def _write_private(path: Path, records: list[dict[str, str]]) -> None:
    """Write JSON Lines readable by the owner only (the file holds API keys)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(b"".join(orjson.dumps(record) + b"\n" for record in records))
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from exc


def _timestamp(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(
            f"{text!r} is not an RFC 3339 timestamp such as 2026-01-31T12:00:00Z"
        ) from exc


def _show(account: AccountRecord, as_json: bool) -> None:
    if as_json:
        echo_json(account.to_dict())
    else:
        echo_fields(f"account {account.account_id}", account.to_dict())
