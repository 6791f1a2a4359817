from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from distillguard.closedloop.gateway import SUMMARY_TOKENS, Caller, GatewayModel
from distillguard.enforce.actions import Action, ActionKind, Challenge, Throttle
from distillguard.enforce.output import Logprobs, OutputControls, Reasoning
from distillguard.enforce.store.memory import MemoryStore

NOW = datetime(2026, 4, 10, 12, tzinfo=UTC)
T = NOW.timestamp()


def _record(**params: Any) -> dict[str, Any]:
    return {
        "ts": "2026-04-10T12:00:00.000Z",
        "request_id": "req_1",
        "account_id": "acct_a",
        "org_id": None,
        "api_key_id": "key_a",
        "client_ip": "203.0.113.7",
        "endpoint": "openai.chat.completions",
        "model": "aurora-1",
        "messages": [{"role": "user", "content": "think step by step"}],
        "params": {"max_tokens": 4000, **params},
        "status": 200,
        "input_tokens": 20,
        "output_tokens": 3000,
        "reasoning_tokens": 2000,
        "decision": "allow",
    }


def _model(kind: ActionKind, **extra: Any) -> GatewayModel:
    store = MemoryStore()
    store.put(
        Action(
            subject="account:acct_a",
            kind=kind,
            reason="test",
            actor="tester",
            created_at=NOW,
            expires_at=NOW + timedelta(days=1),
            **extra,
        )
    )
    return GatewayModel(store)


def test_no_action_serves_the_record_unchanged() -> None:
    model = GatewayModel(MemoryStore())
    record = _record()
    outcome = model.handle(record, T, Caller())
    assert outcome.served and not outcome.degraded and outcome.output_tokens == 3000
    assert record == _record()


def test_monitor_serves_everything() -> None:
    outcome = _model(ActionKind.MONITOR).handle(_record(), T, Caller())
    assert (outcome.decision, outcome.served, outcome.output_tokens) == ("allow", True, 3000)


def test_suspend_refuses_and_rewrites_the_log_record() -> None:
    record = _record()
    outcome = _model(ActionKind.SUSPEND).handle(record, T, Caller())
    assert (outcome.decision, outcome.status, outcome.served) == ("block", 403, False)
    assert record["status"] == 403 and record["decision"] == "block"
    assert record["output_tokens"] == 0 and record["response_text"] is None


def test_suspension_ends_with_its_expiry() -> None:
    later = (NOW + timedelta(days=2)).timestamp()
    assert _model(ActionKind.SUSPEND).handle(_record(), later, Caller()).served


def test_challenge_blocks_until_the_caller_has_the_level() -> None:
    model = _model(ActionKind.CHALLENGE, challenge=Challenge(required_verification="id"))
    refused = model.handle(_record(), T, Caller(verification="phone"))
    assert (refused.decision, refused.status) == ("challenge", 403)
    assert model.handle(_record(), T, Caller(verification="id")).served


def test_throttle_applies_the_lower_tier_on_the_simulated_clock() -> None:
    model = _model(ActionKind.THROTTLE, throttle=Throttle(limits={"rpm": 2}))
    first = [model.handle(_record(), T + i, Caller(tier=2)).decision for i in range(3)]
    assert first == ["throttle", "throttle", "throttle"]
    served = [model.handle(_record(), T + 3 + i, Caller(tier=2)).served for i in range(3)]
    assert served == [False, False, False]  # two a minute, and the minute is not over
    assert model.handle(_record(), T + 120, Caller(tier=2)).served


def test_degrade_withholds_reasoning_and_caps_output() -> None:
    controls = OutputControls(reasoning=Reasoning.NONE, max_tokens=2500)
    record = _record()
    outcome = _model(ActionKind.DEGRADE, degrade=controls).handle(record, T, Caller())
    assert (outcome.decision, outcome.served, outcome.degraded) == ("degrade", True, True)
    assert outcome.output_tokens == 500  # 2500 capped, 2000 of them reasoning withheld
    assert record["output_tokens"] == 2500 and record["decision"] == "degrade"


def test_summarised_reasoning_keeps_a_short_summary() -> None:
    controls = OutputControls(reasoning=Reasoning.SUMMARISED)
    outcome = _model(ActionKind.DEGRADE, degrade=controls).handle(_record(), T, Caller())
    assert outcome.output_tokens == 1000 + SUMMARY_TOKENS


def test_degrade_refuses_logprobs_in_the_providers_way() -> None:
    controls = OutputControls(logprobs=Logprobs.REFUSE)
    model = _model(ActionKind.DEGRADE, degrade=controls)
    refused = model.handle(_record(logprobs=True, top_logprobs=5), T, Caller())
    assert (refused.decision, refused.status, refused.served) == ("degrade", 403, False)
    assert model.handle(_record(), T, Caller()).served


def test_a_request_that_failed_anyway_is_not_counted_as_served() -> None:
    record = {**_record(), "status": 500, "output_tokens": 0}
    assert not GatewayModel(MemoryStore()).handle(dict(record), T, Caller()).served
    outcome = _model(ActionKind.SUSPEND).handle(record, T, Caller())
    assert not outcome.served and outcome.output_tokens == 0 and outcome.status == 403
