"""``distillguard tiers``: show, edit, import and export the usage-tier table."""

from __future__ import annotations

from pathlib import Path

import click

from distillguard.cli.dbopt import db_option, echo_json, echo_table, json_option, open_store
from distillguard.controlplane.principal import RULES, SCOPES
from distillguard.controlplane.tierfile import FORMATS, dump_tiers, format_from_path, load_tiers
from distillguard.controlplane.tiers import TierSpec
from distillguard.errors import InputError


@click.group()
def tiers() -> None:
    """Manage usage tiers and their limits."""


@tiers.command("list")
@db_option
@json_option
def list_(db_url: str | None, as_json: bool) -> None:
    """List tiers with their per-account limits."""
    with open_store(db_url) as store:
        table = store.tiers.all()
    if as_json:
        echo_json([spec.to_dict() for spec in table])
        return
    echo_table(
        f"{len(table)} tier(s); account-scope limits (- = unlimited)",
        ("tier", "name", "requires", *RULES),
        (
            (
                spec.tier,
                spec.name,
                spec.required_verification,
                *(spec.limits.get("account", {}).get(r) for r in RULES),
            )
            for spec in table
        ),
    )


@tiers.command("show")
@click.argument("tier", type=int)
@db_option
@json_option
def show(tier: int, db_url: str | None, as_json: bool) -> None:
    """Show every limit of TIER."""
    with open_store(db_url) as store:
        spec = store.tiers.get(tier)
    _show(spec, as_json)


@tiers.command("set")
@click.argument("tier", type=int)
@click.option("--scope", type=click.Choice(SCOPES), required=True)
@click.option("--rule", type=click.Choice(RULES), required=True)
@click.option("--value", type=click.IntRange(min=0), default=None, help="New amount.")
@click.option("--unlimited", is_flag=True, help="Remove the limit instead.")
@db_option
@json_option
def set_(
    tier: int,
    scope: str,
    rule: str,
    value: int | None,
    unlimited: bool,
    db_url: str | None,
    as_json: bool,
) -> None:
    """Set one limit of TIER, e.g. ``tiers set 2 --scope account --rule rpm --value 500``."""
    if (value is None) == (not unlimited):
        raise InputError("give exactly one of --value N or --unlimited")
    with open_store(db_url) as store:
        spec = store.tiers.set_limit(tier, scope, rule, None if unlimited else value)
    _show(spec, as_json)


@tiers.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default=None, help="Default: from the suffix."
)
@db_option
def import_(path: Path, fmt: str | None, db_url: str | None) -> None:
    """Replace the whole tier table with the one in PATH (JSON or TOML)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    specs = load_tiers(text, fmt or format_from_path(str(path)))
    with open_store(db_url) as store:
        table = store.tiers.replace_all(specs)
    click.echo(f"imported {len(table)} tier(s) from {path}")


@tiers.command("export")
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True), default="-")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Default: from the suffix, else toml.",
)
@db_option
def export(path: str, fmt: str | None, db_url: str | None) -> None:
    """Write the whole tier table to PATH (default: stdout) as TOML or JSON."""
    if fmt is None:
        fmt = "toml" if path == "-" else format_from_path(path)
    with open_store(db_url) as store:
        text = dump_tiers(store.tiers.all(), fmt)
    if path == "-":
        click.echo(text, nl=False)
        return
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from exc
    click.echo(f"exported the tier table to {path}", err=True)


def _show(spec: TierSpec, as_json: bool) -> None:
    if as_json:
        echo_json(spec.to_dict())
        return
    echo_table(
        f"tier {spec.tier} ({spec.name}), requires verification {spec.required_verification!r}",
        ("scope", *RULES),
        (
            (scope, *(spec.limits.get(scope, {}).get(r) for r in RULES))
            for scope in SCOPES
            if scope in spec.limits
        ),
    )
