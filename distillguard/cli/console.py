"""``distillguard console``: the investigator's web console over one dataset."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import click

from distillguard.errors import ConfigurationError

_PATH = click.Path(path_type=Path)


@click.command()
@click.option("--findings", type=_PATH, help="findings.json (dg.findings.v1) of a detection run")
@click.option("--requests", "requests_path", type=_PATH, help="request log file or directory")
@click.option("--accounts", "accounts_path", type=_PATH, help="accounts file (dg.account.v1)")
@click.option("--audit", "audit_path", type=_PATH, help="JSON Lines audit file for actions")
@click.option(
    "--enforce-store",
    help="enforcement store URL (memory://, redis://...); actions then go through distillguard.enforce",
)
@click.option(
    "--users", "users_path", type=_PATH, help="TOML file with [users.<name>] role and password_hash"
)
@click.option(
    "--user",
    "user_specs",
    multiple=True,
    help="name:role:password (role analyst or admin); repeatable",
)
@click.option(
    "--secret",
    envvar="DG_CONSOLE_SECRET",
    help="session signing key (env DG_CONSOLE_SECRET); random if unset",
)
@click.option("--secure-cookies", is_flag=True, help="mark cookies Secure (when served over HTTPS)")
@click.option(
    "--rejects", "rejects_path", type=_PATH, help="where to write records set aside while loading"
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8700, show_default=True, type=int)
@click.option(
    "--hash-password",
    is_flag=True,
    help="prompt for a password, print its scrypt hash for a users file, exit",
)
def console(
    findings: Path | None,
    requests_path: Path | None,
    accounts_path: Path | None,
    audit_path: Path | None,
    enforce_store: str | None,
    users_path: Path | None,
    user_specs: tuple[str, ...],
    secret: str | None,
    secure_cookies: bool,
    rejects_path: Path | None,
    host: str,
    port: int,
    hash_password: bool,
) -> None:
    """Serve the web console: campaigns, accounts, actions, search."""
    from distillguard.console.auth import hash_password as make_hash
    from distillguard.console.auth import parse_user_option, read_users

    if hash_password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        click.echo(make_hash(password))
        return
    if findings is None:
        raise click.UsageError("--findings is required")
    users = read_users(users_path) if users_path else {}
    for spec in user_specs:
        user = parse_user_option(spec)
        users[user.name] = user
    if not users:
        raise ConfigurationError(
            "no console users: give --users users.toml or --user name:role:password"
        )

    import uvicorn

    from distillguard.console.app import create_app
    from distillguard.console.dataset import Dataset
    from distillguard.console.sinks import open_sink

    started = time.perf_counter()
    dataset = Dataset.load(findings, requests_path, accounts_path, rejects_path)
    rejected = sum(dataset.rejects.values())
    click.echo(
        f"loaded {dataset.request_count:,} requests, {len(dataset.findings.campaigns)} campaigns,"
        f" {rejected} records set aside, in {time.perf_counter() - started:.1f} s",
        err=True,
    )
    audit = audit_path or Path("console-audit.jsonl")
    sink = open_sink(enforce_store, audit)
    where = f"the enforcement store {enforce_store} and " if enforce_store else ""
    click.echo(f"actions go to {where}the audit log {audit}", err=True)
    if not secret:
        click.echo("no --secret given: sessions end when the console restarts", err=True)
    key = secret.encode() if secret else secrets.token_bytes(32)
    app = create_app(dataset, users, sink, secret=key, secure_cookies=secure_cookies)
    uvicorn.run(app, host=host, port=port, log_level=os.environ.get("DG_LOG_LEVEL", "info"))
