"""``distillguard evaluate``: score dg.findings.v1 against dg.labels.v1."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option(
    "--findings",
    "findings_path",
    required=True,
    type=click.Path(path_type=Path),
    help="findings.json (dg.findings.v1).",
)
@click.option(
    "--labels",
    "labels_path",
    required=True,
    type=click.Path(path_type=Path),
    help="labels.jsonl (dg.labels.v1).",
)
@click.option(
    "--requests",
    "requests_path",
    type=click.Path(path_type=Path),
    help="Request counts: a JSON map {account_id: n}, or dg.request.v1 files/directory to count. "
    "Default: the labels' 'requests' fields (written by distillguard simulate).",
)
@click.option(
    "--json", "json_path", type=click.Path(path_type=Path), help="Write the report as JSON here."
)
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(path_type=Path),
    help="Write set-aside records here (JSON Lines). Default: beside --json.",
)
def evaluate(
    findings_path: Path,
    labels_path: Path,
    requests_path: Path | None,
    json_path: Path | None,
    rejects_path: Path | None,
) -> None:
    """Account precision/recall/F1/FPR overall and per persona, and campaign overlap."""
    import orjson
    from rich.console import Console

    from distillguard.errors import StorageError
    from distillguard.evaluate import read_findings, read_labels, read_request_counts, score
    from distillguard.evaluate.table import render

    findings = read_findings(findings_path)
    labels, rejects = read_labels(labels_path)
    counts = None
    if requests_path is not None:
        counts, count_rejects = read_request_counts(requests_path)
        rejects += count_rejects
    report = score(findings, labels, counts)
    report.rejects[:0] = rejects
    if rejects_path is None and json_path is not None:
        rejects_path = json_path.with_name(json_path.stem + ".rejects.jsonl")
    try:
        if json_path is not None:
            json_path.write_bytes(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2))
        if rejects_path is not None and report.rejects:
            rejects_path.write_bytes(
                b"".join(orjson.dumps(r.to_dict()) + b"\n" for r in report.rejects)
            )
    except OSError as exc:
        raise StorageError(f"cannot write the evaluation output: {exc}") from exc
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    render(report, console)
