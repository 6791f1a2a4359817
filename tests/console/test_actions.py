from __future__ import annotations

from pathlib import Path

import pytest

from distillguard.console.actions import AuditFile, status_of
from distillguard.errors import InputError


def test_audit_file_appends_and_survives_restart(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    sink = AuditFile(path)
    sink.apply("h1", "suspend", "campaign member", actor="ada", campaign_id="C-hydra")
    sink.apply("h1", "reinstate", "appeal accepted", actor="ada")
    sink.apply("h2", "throttle", "burst", actor="ada")
    path.open("a").write("not json\n")
    again = AuditFile(path)
    assert again.skipped == 1
    assert [e.action for e in again.history("h1")] == ["suspend", "reinstate"]
    assert again.history("h1")[0].campaign_id == "C-hydra"
    assert status_of(again.history("h1")) == "active"
    assert status_of(again.history("h2")) == "throttle"
    assert [e.account_id for e in again.recent(2)] == ["h2", "h1"]


def test_bad_actions_are_refused(tmp_path: Path) -> None:
    sink = AuditFile(tmp_path / "a.jsonl")
    with pytest.raises(InputError, match="unknown action"):
        sink.apply("h1", "delete", "x", actor="ada")
    with pytest.raises(InputError, match="reason"):
        sink.apply("h1", "suspend", "   ", actor="ada")
    assert sink.history("h1") == []
