from __future__ import annotations

from pathlib import Path

import pytest

from distillguard.console.actions import AuditFile
from distillguard.console.sinks import open_sink
from distillguard.errors import InputError
from distillguard.report.actions import read_actions


def test_reads_the_console_audit_file(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    sink = AuditFile(path)
    sink.apply("h1", "suspend", "member", actor="ada")
    sink.apply("h2", "throttle", "member", actor="ada")
    assert [(e.account_id, e.action) for e in read_actions(path)] == [
        ("h1", "suspend"),
        ("h2", "throttle"),
    ]


def test_reads_the_enforcement_audit_log(tmp_path: Path) -> None:
    path = tmp_path / "enforce.jsonl"
    sink = open_sink("memory://", path)
    sink.apply("h1", "suspend", "member", actor="ada", campaign_id="C-hydra")
    sink.apply("h1", "reinstate", "appeal", actor="ada")
    entries = read_actions(path)
    assert [(e.account_id, e.action) for e in entries] == [("h1", "suspend"), ("h1", "reinstate")]
    assert entries[0].campaign_id == "C-hydra"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        read_actions(tmp_path / "nope.jsonl")
