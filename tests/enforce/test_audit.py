from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from enforce_factories import NOW, make_action

from distillguard.enforce.audit import (
    Change,
    JsonlAuditLog,
    MemoryAuditLog,
    open_audit,
    replay,
)


def _change(subject: str, hours: float = 0) -> Change:
    new = make_action(subject, at=NOW + timedelta(hours=hours))
    return Change(NOW + timedelta(hours=hours), subject, "apply", "t", "why", None, new)


def test_jsonl_log_round_trips_and_replays(tmp_path: Path) -> None:
    log = JsonlAuditLog(tmp_path / "audit.jsonl")
    first = log.append([_change("account:a")])
    second = log.append([_change("account:b", 1)])
    assert [e.seq for e in first + second] == [1, 2]
    assert second[0].prev_hash == first[0].hash
    read = list(log.entries())
    assert read == first + second
    result = replay(read)
    assert result.problems == []
    assert sorted(result.state) == ["account:a", "account:b"]


def test_two_writers_share_numbering(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    one, two = JsonlAuditLog(path), JsonlAuditLog(path)
    one.append([_change("account:a")])
    two.append([_change("account:b", 1)])
    one.append([_change("account:c", 2)])
    assert [e.seq for e in one.entries()] == [1, 2, 3]
    assert replay(one.entries()).problems == []


def test_tampering_and_removal_are_detected(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = JsonlAuditLog(path)
    log.append([_change("account:a"), _change("account:b", 1), _change("account:c", 2)])
    lines = path.read_text().splitlines()
    edited = json.loads(lines[0])
    edited["reason"] = "rewritten"
    path.write_text("\n".join([json.dumps(edited), lines[2]]) + "\n")
    problems = replay(log.entries()).problems
    assert any("does not match its hash" in p for p in problems)
    assert any("expected number 2" in p for p in problems)
    assert any("hash chain broken" in p for p in problems)


def test_unreadable_lines_are_counted_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = JsonlAuditLog(path)
    log.append([_change("account:a")])
    with path.open("a") as handle:
        handle.write("{not json\n")
    log.append([_change("account:b", 1)])  # the broken tail line does not block appends
    entries = list(log.entries())
    assert [e.seq for e in entries] == [1, 2]
    assert len(log.rejected) == 1 and log.rejected[0][0] == 2


def test_previous_state_mismatch_is_a_problem() -> None:
    log = MemoryAuditLog()
    log.append([_change("account:a")])
    wrong = Change(NOW, "account:a", "change", "t", "x", None, make_action("account:a"))
    log.append([wrong])
    assert replay(log.entries()).problems == ["entry 2: previous state of account:a differs"]


@pytest.mark.parametrize(
    ("target", "kind"), [("memory://", MemoryAuditLog), ("x.jsonl", JsonlAuditLog)]
)
def test_open_audit(tmp_path: Path, target: str, kind: type) -> None:
    path = target if target == "memory://" else str(tmp_path / target)
    assert isinstance(open_audit(path), kind)


def test_non_ascii_and_invalid_bytes(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = JsonlAuditLog(path)
    change = _change("account:é")
    log.append([replace_reason(change, "fraude confirmée — 確認")])
    with path.open("ab") as handle:
        handle.write(b"\xff\xfe garbage\n")
    log.append([_change("account:b", 1)])
    entries = list(log.entries())
    assert entries[0].change.reason == "fraude confirmée — 確認"
    assert [e.seq for e in entries] == [1, 2] and len(log.rejected) == 1
    assert replay(entries).problems == []


def replace_reason(change: Change, reason: str) -> Change:
    from dataclasses import replace

    return replace(change, reason=reason)
