from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from enforce_factories import NOW, make_action
from hypothesis import given, settings
from hypothesis import strategies as st

from distillguard.enforce.actions import ActionKind
from distillguard.enforce.audit import MemoryAuditLog, replay
from distillguard.enforce.enforcer import Enforcer
from distillguard.enforce.store import MemoryStore
from distillguard.errors import InputError, NotFound


def _enforcer() -> Enforcer:
    return Enforcer(MemoryStore(), MemoryAuditLog())


def test_apply_records_one_entry_per_change_and_skips_repeats() -> None:
    enforcer = _enforcer()
    action = make_action("account:a", ActionKind.THROTTLE)
    assert [e.change.op for e in enforcer.apply([action], now=NOW)] == ["apply"]
    assert enforcer.apply([action], now=NOW) == []  # nothing changed, nothing recorded
    longer = replace(action, expires_at=NOW + timedelta(days=9))
    assert [e.change.op for e in enforcer.apply([longer], now=NOW)] == ["renew"]
    worse = make_action("account:a", ActionKind.SUSPEND)
    (entry,) = enforcer.apply([worse], now=NOW)
    assert entry.change.op == "change" and entry.change.previous == longer
    assert enforcer.store.get("account:a", now=NOW.timestamp()) == worse


def test_policy_never_downgrades_but_operators_can() -> None:
    enforcer = _enforcer()
    enforcer.apply([make_action("account:a", ActionKind.SUSPEND)], now=NOW)
    mild = make_action("account:a", ActionKind.MONITOR)
    assert enforcer.apply([mild], now=NOW) == []
    assert [e.change.op for e in enforcer.apply([mild], now=NOW, force=True)] == ["change"]


def test_reinstate_needs_an_action_and_a_reason() -> None:
    enforcer = _enforcer()
    with pytest.raises(NotFound):
        enforcer.reinstate("account:a", reason="x", actor="op", now=NOW)
    enforcer.apply([make_action("account:a")], now=NOW)
    with pytest.raises(InputError, match="reason"):
        enforcer.reinstate("account:a", reason=" ", actor="op", now=NOW)
    entry = enforcer.reinstate("account:a", reason="false positive", actor="op", now=NOW)
    assert entry.change.op == "reinstate" and entry.change.new is None
    assert enforcer.store.get("account:a", now=NOW.timestamp()) is None


def test_expired_action_is_applied_afresh() -> None:
    enforcer = _enforcer()
    enforcer.apply([make_action("account:a", hours=1)], now=NOW)
    later = NOW + timedelta(hours=2)
    (entry,) = enforcer.apply([make_action("account:a", at=later)], now=later)
    assert entry.change.op == "apply" and entry.change.previous is None


def test_rebuild_restores_a_lost_store() -> None:
    enforcer = _enforcer()
    enforcer.apply([make_action("account:a"), make_action("key:k", hours=1)], now=NOW)
    fresh = Enforcer(MemoryStore(), enforcer.audit)
    result = fresh.rebuild(now=NOW + timedelta(hours=2))
    assert result.problems == []
    assert [a.subject for a in fresh.store.actions()] == ["account:a"]


def _deadline(action: object) -> float:
    expires = action.expires_at  # type: ignore[attr-defined]
    return float("inf") if expires is None else float(expires.timestamp())


def _review(action: object) -> float:
    review = action.review_at  # type: ignore[attr-defined]
    return float("-inf") if review is None else float(review.timestamp())


SUBJECTS = st.sampled_from(["account:a", "account:b", "key:k", "prefix:192.0.2.0/24"])
STEP = st.tuples(
    st.sampled_from(["apply", "force", "reinstate"]),
    SUBJECTS,
    st.sampled_from(list(ActionKind)),
    st.sampled_from([1.0, 5.0, 48.0, None]),  # action lifetime in hours (None: review date)
    st.floats(min_value=0, max_value=12),  # hours that pass before this step
)


@settings(max_examples=60, deadline=None)
@given(st.lists(STEP, max_size=30))
def test_replaying_the_log_rebuilds_the_state(steps: list[tuple[Any, ...]]) -> None:
    enforcer = _enforcer()
    now = NOW
    model: dict[str, object] = {}  # subject -> action, kept by this test independently
    changes = 0
    for op, subject, kind, hours, wait in steps:
        now = now + timedelta(hours=wait)
        current = model.get(subject)
        if current is not None and not current.active(now):  # type: ignore[attr-defined]
            current = None
        if op == "reinstate":
            if current is None:
                with pytest.raises(NotFound):
                    enforcer.reinstate(subject, reason="r", actor="op", now=now)
                continue
            enforcer.reinstate(subject, reason="r", actor="op", now=now)
            model.pop(subject)
            changes += 1
            continue
        action = make_action(subject, kind, at=now, hours=hours)
        written = enforcer.apply([action], now=now, force=op == "force")
        expected: str | None
        if current is None:
            expected = "apply"
        elif action.same_effect(current):  # type: ignore[arg-type]
            longer = _deadline(action) > _deadline(current)
            expected = "renew" if longer or _review(action) > _review(current) else None
        elif kind.severity < current.kind.severity and op != "force":  # type: ignore[attr-defined]
            expected = None
        else:
            expected = "change"
        assert [e.change.op for e in written] == ([expected] if expected else [])
        if expected:
            model[subject] = action
            changes += 1
    entries = list(enforcer.audit.entries())
    assert len(entries) == changes  # exactly one entry per state change
    result = replay(entries)
    assert result.problems == []
    store_state = {a.subject: a for a in enforcer.store.actions() if a.active(now)}
    assert {a.subject: a for a in result.active(now)} == store_state
