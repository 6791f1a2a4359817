"""``distillguard detect``: find extraction campaigns in request logs."""

from __future__ import annotations

from pathlib import Path

import click

from distillguard.errors import InputError


def _since(value: str | None) -> tuple[bool, float | None]:
    if value is None:
        return False, None
    if value in ("last", "state"):
        return True, None
    from distillguard.logs.validate import parse_timestamp

    try:
        return True, parse_timestamp(value, "--since") / 1000.0
    except Exception as exc:
        raise InputError(f"--since: expected 'last' or an RFC 3339 time, got {value!r}") from exc


@click.command()
@click.option(
    "--requests",
    "requests_path",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="dg.request.v1 file or directory (JSON Lines or Parquet).",
)
@click.option(
    "--accounts",
    "accounts_path",
    type=click.Path(exists=True, path_type=Path),
    help="dg.account.v1 file or directory.",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output directory for findings.json, rejects.jsonl, summary.json and state/.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file overriding detect/defaults.toml.",
)
@click.option(
    "--since",
    "since",
    default=None,
    help="Incremental: keep state in OUT/state and ingest only new segments ('last'), or only segments modified after an RFC 3339 time.",
)
@click.option(
    "--asn-db",
    "asn_db",
    type=click.Path(exists=True, path_type=Path),
    help="Optional @ip-location-db/asn style CSV, or the npm package's directory, for AS "
    "numbers and network types.",
)
@click.option(
    "--watchlist",
    "watchlist",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A partner watchlist (from 'distillguard intel import'): matching requests add a "
    "partner_watchlist reason to their account's score.",
)
@click.option("--memory-limit", default=None, help="DuckDB memory limit, e.g. 8GB.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processes that decode and featurise log segments in parallel.",
)
@click.option("--quiet", is_flag=True, help="No progress bar or summary table.")
def detect(
    requests_path: Path,
    accounts_path: Path | None,
    out: Path,
    config_path: Path | None,
    since: str | None,
    asn_db: Path | None,
    watchlist: Path | None,
    memory_limit: str | None,
    workers: int,
    quiet: bool,
) -> None:
    """Read request logs and accounts, link accounts into campaigns, write dg.findings.v1."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from distillguard.detect.config import load_config
    from distillguard.detect.pipeline import DetectOptions, run_detection

    incremental, since_ts = _since(since)
    config = load_config(config_path)
    console = Console(stderr=True, quiet=quiet)
    with Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        TextColumn("{task.completed:,} requests"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("reading and featurising", total=None)
        options = DetectOptions(
            requests=requests_path,
            accounts=accounts_path,
            out=out,
            incremental=incremental,
            since=since_ts,
            asn_database=asn_db,
            watchlist=watchlist,
            memory_limit=memory_limit,
            workers=workers,
            progress=lambda n: progress.advance(task, n),
        )
        result = run_detection(options, config)
    summary = result.summary
    table = Table(title="distillguard detect", show_header=False)
    for key in (
        "requests_ingested",
        "requests_stored",
        "rejected",
        "accounts_analysed",
        "accounts_flagged",
        "campaigns",
    ):
        table.add_row(key.replace("_", " "), f"{summary.get(key, 0):,}")
    if summary.get("rejected_by_reason"):
        reasons = ", ".join(f"{k} {v}" for k, v in summary["rejected_by_reason"].items())
        table.add_row("rejected by reason", reasons)
    for campaign in result.campaigns[:5]:
        table.add_row(campaign.campaign_id, campaign.summary)
    console.print(table)
    console.print(f"findings: {out / 'findings.json'}")
