from __future__ import annotations

import gzip
from pathlib import Path

import orjson
from click.testing import CliRunner

from distillguard.cli.demo import demo


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    result = CliRunner().invoke(demo, ["--dir", str(workdir)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "429" in result.output and "403" in result.output and "401" in result.output
    [segment] = list((workdir / "logs").glob("requests-*.jsonl.gz"))
    assert str(segment) in result.output.replace("\n", "")
    with gzip.open(segment, "rb") as handle:
        records = [orjson.loads(line) for line in handle]
    decisions = {r["decision"] for r in records}
    assert decisions == {"allow", "throttle", "block"}
    assert sum(r["status"] == 429 for r in records) >= 1
