from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from distillguard.cli.main import cli

from console.sample_dataset import SamplePaths


def test_report_command_writes_every_format(sample: SamplePaths, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["report", "--findings", str(sample.findings), "--requests", str(sample.requests)]
    args += ["--accounts", str(sample.accounts), "--out", str(out)]
    args += ["--format", "html", "--format", "md", "--format", "json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {
        "report.html",
        "report.md",
        "report.json",
        "rejects.jsonl",
    }
    assert orjson.loads((out / "report.json").read_bytes())["overall"]["accounts"] == 8
    assert len((out / "rejects.jsonl").read_text().splitlines()) == 2
