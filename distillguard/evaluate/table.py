"""Prints an evaluation :class:`~distillguard.evaluate.metrics.Report` as rich tables."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from distillguard.evaluate.metrics import Report


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.2f}%"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def render(report: Report, console: Console) -> None:
    """Overall account metrics, benign FPR per persona, recall per campaign persona, campaigns."""
    c = report.accounts
    overall = Table(title="Accounts")
    for name in ("TP", "FP", "FN", "TN", "precision", "recall", "F1", "FPR", "AUC"):
        overall.add_column(name, justify="right")
    overall.add_row(
        str(c.tp),
        str(c.fp),
        str(c.fn),
        str(c.tn),
        _num(c.precision),
        _num(c.recall),
        _num(c.f1),
        _pct(c.fpr),
        _num(c.auc),
    )
    console.print(overall)

    benign = Table(title="Benign personas (false positives)")
    for name in ("persona", "accounts", "flagged", "FPR"):
        benign.add_column(name, justify="left" if name == "persona" else "right")
    for persona, entry in sorted(report.benign_personas.items()):
        benign.add_row(persona, str(entry.accounts), str(entry.flagged), _pct(entry.rate))
    console.print(benign)

    malicious = Table(title="Campaign personas (recall)")
    for name in ("persona", "accounts", "flagged", "recall"):
        malicious.add_column(name, justify="left" if name == "persona" else "right")
    for persona, entry in sorted(report.malicious_personas.items()):
        malicious.add_row(persona, str(entry.accounts), str(entry.flagged), _pct(entry.rate))
    console.print(malicious)

    campaigns = Table(title="Campaigns (best-matching found campaign)")
    for name in (
        "campaign",
        "accounts",
        "requests",
        "flagged",
        "best match",
        "Jaccard",
        "accounts covered",
        "requests covered",
        "found campaigns",
    ):
        campaigns.add_column(
            name, justify="left" if name in ("campaign", "best match") else "right"
        )
    for camp in report.campaigns:
        campaigns.add_row(
            camp.campaign_id,
            str(camp.accounts),
            "—" if camp.requests is None else f"{camp.requests:,}",
            _pct(camp.flagged_share),
            camp.best_match or "—",
            _num(camp.jaccard),
            _pct(camp.accounts_covered),
            _pct(camp.requests_covered),
            str(camp.found_campaigns),
        )
    console.print(campaigns)
    if report.unlabelled_findings:
        console.print(
            f"[yellow]{report.unlabelled_findings} findings about accounts without a label were ignored[/]"
        )
    if report.rejects:
        console.print(
            f"[yellow]{len(report.rejects)} records set aside[/] (see the rejects in the JSON output)"
        )
