"""``distillguard report``: written reports (HTML, Markdown, JSON) on the campaigns found."""

from __future__ import annotations

from pathlib import Path

import click

_PATH = click.Path(path_type=Path)


@click.command()
@click.option("--findings", required=True, type=_PATH, help="findings.json (dg.findings.v1)")
@click.option("--requests", "requests_path", type=_PATH, help="request log file or directory")
@click.option("--accounts", "accounts_path", type=_PATH, help="accounts file (dg.account.v1)")
@click.option(
    "--audit", "audit_path", type=_PATH, help="audit log (console or enforcement) for actions taken"
)
@click.option(
    "--out", "out_dir", required=True, type=_PATH, help="directory to write report.<ext> into"
)
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(["html", "md", "json"]),
    default=("html",),
    show_default=True,
    help="repeat for several formats",
)
@click.option("--title", help="title of the report")
def report(
    findings: Path,
    requests_path: Path | None,
    accounts_path: Path | None,
    audit_path: Path | None,
    out_dir: Path,
    formats: tuple[str, ...],
    title: str | None,
) -> None:
    """Write a report per campaign and overall: scale, period, capabilities, methods,
    infrastructure and actions taken, with charts; printable."""
    from distillguard.console.dataset import Dataset
    from distillguard.report.actions import read_actions
    from distillguard.report.render import SUFFIX, render
    from distillguard.report.summary import build_report

    out_dir.mkdir(parents=True, exist_ok=True)
    data = Dataset.load(findings, requests_path, accounts_path, out_dir / "rejects.jsonl")
    actions = read_actions(audit_path) if audit_path else []
    document = build_report(data, actions, title=title)
    for fmt in dict.fromkeys(formats):
        path = out_dir / f"report.{SUFFIX[fmt]}"
        path.write_text(render(document, fmt), encoding="utf-8")
        click.echo(str(path))
    rejected = sum(data.rejects.values())
    if rejected:
        click.echo(f"{rejected} records set aside; see {out_dir / 'rejects.jsonl'}", err=True)
