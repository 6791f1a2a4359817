"""``distillguard simulate --closed-loop``: run the loop with a progress bar and print its figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from distillguard.errors import ConfigurationError


def _hours(text: str, option: str) -> int:
    from distillguard.enforce.actions import parse_duration

    try:
        seconds = parse_duration(text, option).total_seconds()
    except ConfigurationError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None
    if seconds % 3600:
        raise click.BadParameter(f"{text!r} must be a whole number of hours", param_hint=option)
    return int(seconds // 3600)


def run(
    console: Console,
    *,
    out: Path,
    every: str,
    window: str,
    replacement_age: str | None = None,
    **options: Any,
) -> None:
    """Run the closed loop into ``out`` and print the summary tables."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from distillguard.closedloop import REPORT_NAME, LoopOptions, run_closed_loop

    loop = LoopOptions(
        out=out,
        every_hours=_hours(every, "--every"),
        window_hours=_hours(window, "--window"),
        replacement_age_hours=_hours(replacement_age, "--replacement-age")
        if replacement_age
        else 0,
        **options,
    )
    with Progress(
        TextColumn("closed loop"),
        BarColumn(),
        TextColumn("day {task.fields[day]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("loop", total=None, day=0)

        def progress(hour: int, hours: int) -> None:
            bar.update(task, completed=hour, total=hours, day=hour // 24)

        report = run_closed_loop(loop, progress)
    render(console, report)
    console.print(f"report: {out / REPORT_NAME}")


def render(console: Console, report: dict[str, Any]) -> None:
    """Print the campaign and persona tables of a closed-loop report."""
    det = report["detection"]
    console.print(
        f"[bold]{report['requests']:,}[/] requests over {report['days']} days, "
        f"{det['runs']} detection runs ({det['seconds_mean']:.2f} s mean, "
        f"{det['seconds_max']:.2f} s max), {det['changes']:,} enforcement changes, "
        f"{report['seconds']:.0f} s in all"
    )
    campaigns = Table(title="Campaigns: what they still got")
    for column in ("campaign", "requests", "served", "useful", "tokens", "contained after"):
        campaigns.add_column(column, justify="left" if column == "campaign" else "right")
    campaigns.add_column("accounts (bought)", justify="right")
    campaigns.add_column("cost / useful", justify="right")
    for cid, c in report["campaigns"].items():
        hours = c["containment_hours"]
        cost = c["cost_per_useful_response"]
        campaigns.add_row(
            cid,
            f"{c['requests']:,}",
            f"{c['yield_responses']:.2%}",
            f"{c['yield_useful']:.2%}",
            f"{c['yield_output_tokens']:.2%}",
            "not contained" if hours is None else f"{hours:.0f} h",
            f"{c['accounts_original'] + c['accounts_bought']:,} ({c['accounts_bought']:,})",
            "∞" if cost is None else f"${cost:,.2f}",
        )
    campaigns.add_row(
        "[bold]all",
        "",
        f"[bold]{report['campaign_yield_responses']:.2%}",
        f"[bold]{report['campaign_yield_useful']:.2%}",
        f"[bold]{report['campaign_yield_output_tokens']:.2%}",
        "",
        "",
        "",
    )
    console.print(campaigns)
    personas = Table(title="Benign collateral: requests throttled, degraded, challenged or blocked")
    for column in ("persona", "requests", "affected", "share"):
        personas.add_column(column, justify="left" if column == "persona" else "right")
    for name, p in report["personas"].items():
        personas.add_row(
            name, f"{p['requests']:,}", f"{p['affected']:,}", f"{p['affected_share']:.3%}"
        )
    personas.add_row(
        "[bold]all",
        f"[bold]{report['benign_requests']:,}",
        f"[bold]{report['benign_affected']:,}",
        f"[bold]{report['benign_affected_share']:.3%}",
    )
    console.print(personas)
