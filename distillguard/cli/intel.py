"""``distillguard intel``: share campaign indicators as STIX 2.1, import a partner's as a watchlist."""

from __future__ import annotations

from pathlib import Path

import click

from distillguard.errors import InputError

_PATH = click.Path(path_type=Path)


@click.group()
def intel() -> None:
    """Indicator sharing with other providers (STIX 2.1)."""


@intel.command("export")
@click.option("--findings", required=True, type=_PATH, help="findings.json (dg.findings.v1)")
@click.option(
    "--requests",
    "requests_path",
    type=_PATH,
    help="request logs: adds shared IPs, prefixes, JA4, templates",
)
@click.option("--accounts", "accounts_path", type=_PATH, help="accounts file (dg.account.v1)")
@click.option("--out", "out_path", required=True, type=_PATH, help="bundle file to write")
@click.option("--tlp", default="amber", show_default=True, help="white/clear, green, amber or red")
@click.option(
    "--producer",
    default="distillguard operator",
    show_default=True,
    help="name of the sharing organization",
)
@click.option("--campaign", "campaigns", multiple=True, help="only these campaign ids (repeatable)")
def export(
    findings: Path,
    requests_path: Path | None,
    accounts_path: Path | None,
    out_path: Path,
    tlp: str,
    producer: str,
    campaigns: tuple[str, ...],
) -> None:
    """Export the findings' campaigns as a STIX 2.1 bundle."""
    from distillguard.console.dataset import Dataset
    from distillguard.console.findings import read_findings
    from distillguard.intel.export import export_bundle, tlp_marking

    tlp_marking(tlp)  # fail on a bad level before loading anything
    parsed = read_findings(findings)
    data = (
        Dataset.from_findings(parsed, requests_path, accounts_path)
        if requests_path is not None or accounts_path is not None
        else None
    )
    bundle = export_bundle(
        parsed, data, tlp=tlp, producer=producer, campaign_ids=list(campaigns) or None
    )
    out_path.write_text(bundle.serialize(pretty=True), encoding="utf-8")
    counts: dict[str, int] = {}
    for obj in bundle.objects:
        counts[obj["type"]] = counts.get(obj["type"], 0) + 1
    click.echo(f"{out_path}: " + ", ".join(f"{n} {t}" for t, n in sorted(counts.items())))


@intel.command("import")
@click.argument("bundle", type=_PATH)
@click.option("--out", "out_path", required=True, type=_PATH, help="watchlist JSON to write")
def import_(bundle: Path, out_path: Path) -> None:
    """Turn a partner's STIX 2.1 bundle into a watchlist for detection."""
    from distillguard.intel.importer import import_bundle

    try:
        text = bundle.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{bundle}: no such bundle") from None
    watchlist = import_bundle(text)
    watchlist.save(out_path)
    kinds: dict[str, int] = {}
    for entry in watchlist.entries:
        kinds[entry.kind] = kinds.get(entry.kind, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "no entries"
    click.echo(f"{out_path}: {summary}; {watchlist.skipped} indicators skipped")


@intel.command("match")
@click.option(
    "--watchlist",
    "watchlist_path",
    required=True,
    type=_PATH,
    help="watchlist JSON from 'intel import'",
)
@click.option(
    "--requests", "requests_path", required=True, type=_PATH, help="request log file or directory"
)
@click.option("--out", "out_path", type=_PATH, help="write {account_id: reason} JSON here")
def match(watchlist_path: Path, requests_path: Path, out_path: Path | None) -> None:
    """Match request logs against a watchlist: the per-account signal detection can use."""
    import orjson

    from distillguard.intel.signal import watchlist_reasons
    from distillguard.intel.watchlist import Watchlist
    from distillguard.logs.reader import request_batches
    from distillguard.logs.rejects import RejectSink

    watchlist = Watchlist.load(watchlist_path)
    with RejectSink(None) as rejects:
        reasons = watchlist_reasons(watchlist, request_batches(requests_path, rejects))
    ranked = dict(sorted(reasons.items(), key=lambda kv: (-float(str(kv[1]["weight"])), kv[0])))
    if out_path is not None:
        out_path.write_bytes(orjson.dumps(ranked, option=orjson.OPT_INDENT_2))
    click.echo(f"{len(ranked)} accounts matched the watchlist ({rejects.total} records set aside)")
    for account, reason in list(ranked.items())[:20]:
        click.echo(f"  {account}  {reason['weight']}  {reason['detail']}")
