from __future__ import annotations

from pathlib import Path

import pytest

from distillguard.console.actions import AuditFile
from distillguard.console.sinks import EnforcementSink, open_sink
from distillguard.errors import InputError


def test_without_a_store_actions_go_to_an_audit_file(tmp_path: Path) -> None:
    assert isinstance(open_sink(None, tmp_path / "a.jsonl"), AuditFile)


def test_enforcement_sink_puts_the_action_in_the_store(tmp_path: Path) -> None:
    sink = open_sink("memory://", tmp_path / "audit.jsonl")
    assert isinstance(sink, EnforcementSink)
    sink.apply("h1", "suspend", "campaign member", actor="ada", campaign_id="C-hydra")
    decision = sink.enforcer.store.decide(account_id="h1")
    assert decision is not None and decision.label == "block"
    sink.apply("h1", "reinstate", "appeal accepted", actor="ada")
    assert sink.enforcer.store.decide(account_id="h1") is None
    history = sink.history("h1")
    assert [e.action for e in history] == ["suspend", "reinstate"]
    assert history[0].campaign_id == "C-hydra" and history[1].reason == "appeal accepted"
    assert [e.account_id for e in sink.recent()] == ["h1", "h1"]


def test_enforcement_state_is_rebuilt_from_the_log(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    open_sink("memory://", path).apply("h2", "challenge", "verify", actor="ada")
    again = open_sink("memory://", path)
    assert isinstance(again, EnforcementSink)
    decision = again.enforcer.store.decide(account_id="h2")
    assert decision is not None and decision.label == "challenge"


def test_reinstating_nothing_is_an_input_error(tmp_path: Path) -> None:
    sink = open_sink("memory://", tmp_path / "audit.jsonl")
    with pytest.raises(InputError, match="nothing is in force"):
        sink.apply("h3", "reinstate", "why", actor="ada")
