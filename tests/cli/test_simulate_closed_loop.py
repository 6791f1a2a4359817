"""``distillguard simulate --closed-loop`` in-process: options in, tables and report out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from distillguard.cli.main import main


def test_closed_loop_prints_the_tables_and_writes_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "loop"
    args = ["simulate", "--closed-loop", "--scale", "0.001", "--seed", "11", "--days", "1"]
    main([*args, "--every", "6h", "--window", "1d", "--adaptive", "--out", str(out)])
    printed = capsys.readouterr().err
    assert "Campaigns: what they still got" in printed and "Benign collateral" in printed
    report = json.loads((out / "closed_loop.json").read_text())
    assert report["detection"]["runs"] == 4
    assert report["options"]["every_hours"] == 6 and report["options"]["window_hours"] == 24
    assert report["options"]["adaptive"] is True
    assert (out / "audit.jsonl").exists() and any((out / "requests").iterdir())


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [("--every", "90m", "whole number of hours"), ("--window", "soon", "not a duration")],
)
def test_closed_loop_refuses_bad_durations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, message: str
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "--closed-loop", option, value, "--out", str(tmp_path / "x")])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
