from __future__ import annotations

from typing import Any

import pytest

from distillguard.enforce.output import (
    Logprobs,
    OutputControls,
    Reasoning,
    default_controls,
    restrict_request,
)
from distillguard.errors import BadRequest, ConfigurationError, PermissionDenied

CHAT = "openai.chat.completions"
STRICT = OutputControls(
    reasoning=Reasoning.NONE,
    logprobs=Logprobs.REFUSE,
    logit_bias=False,
    max_n=1,
    max_tokens=256,
    max_thinking_tokens=0,
)


def test_unrestricted_controls_return_the_same_body() -> None:
    body = {"model": "m", "logprobs": True, "logit_bias": {"1": 5}, "n": 4}
    assert restrict_request(CHAT, body, OutputControls()) is body


@pytest.mark.parametrize(
    ("endpoint", "body", "match"),
    [
        (CHAT, {"logit_bias": {"50256": -100}}, "logit_bias"),
        (CHAT, {"logprobs": True, "top_logprobs": 3}, "logprobs"),
        ("openai.completions", {"logprobs": 0}, "logprobs"),
        ("openai.responses", {"include": ["message.output_text.logprobs"]}, "logprobs"),
        ("openai.responses", {"top_logprobs": 2}, "logprobs"),
        (CHAT, {"n": 2}, "n=2"),
        ("openai.completions", {"best_of": 3}, "best_of=3"),
    ],
)
def test_refusals_are_permission_denied_with_a_clear_message(
    endpoint: str, body: dict[str, Any], match: str
) -> None:
    with pytest.raises(PermissionDenied, match=match) as exc:
        restrict_request(endpoint, body, STRICT)
    assert exc.value.status == 403


def test_allowed_fields_pass_and_input_is_not_modified() -> None:
    body = {"messages": [], "logprobs": False, "n": 1, "max_tokens": 9999, "logit_bias": {}}
    out = restrict_request(CHAT, body, STRICT)
    assert out["max_tokens"] == 256 and body["max_tokens"] == 9999


def test_max_tokens_is_set_when_absent_and_uses_the_key_the_client_used() -> None:
    assert restrict_request(CHAT, {}, STRICT)["max_tokens"] == 256
    out = restrict_request(CHAT, {"max_completion_tokens": 5000}, STRICT)
    assert out == {"max_completion_tokens": 256}
    assert restrict_request("openai.responses", {}, STRICT)["max_output_tokens"] == 256


def test_drop_removes_logprobs_silently() -> None:
    controls = OutputControls(logprobs=Logprobs.DROP)
    out = restrict_request(CHAT, {"logprobs": True, "top_logprobs": 5}, controls)
    assert "logprobs" not in out and "top_logprobs" not in out
    out = restrict_request(
        "openai.responses", {"include": ["message.output_text.logprobs", "x"]}, controls
    )
    assert out["include"] == ["x"]


def test_top_logprobs_capped_and_never_with_logit_bias_when_verified() -> None:
    verified = default_controls("org")
    out = restrict_request(CHAT, {"logprobs": True, "top_logprobs": 20}, verified)
    assert out["top_logprobs"] == 5
    assert restrict_request("openai.completions", {"logprobs": 5}, verified)["logprobs"] == 5
    with pytest.raises(PermissionDenied, match="combined"):
        restrict_request(CHAT, {"logprobs": True, "logit_bias": {"1": 1}}, verified)
    assert restrict_request(CHAT, {"logit_bias": {"1": 1}}, verified)["logit_bias"] == {"1": 1}


def test_below_verified_tier_logprobs_and_logit_bias_are_off_by_default() -> None:
    for level in ("none", "email", "phone", "payment"):
        controls = default_controls(level)
        with pytest.raises(PermissionDenied):
            restrict_request(CHAT, {"logprobs": True}, controls)
        with pytest.raises(PermissionDenied):
            restrict_request(CHAT, {"logit_bias": {"7": 3}}, controls)
    with pytest.raises(ConfigurationError):
        default_controls("superuser")


def test_wrong_types_are_bad_request() -> None:
    with pytest.raises(BadRequest, match="n must be an integer"):
        restrict_request(CHAT, {"n": "2"}, STRICT)
    with pytest.raises(BadRequest, match="max_tokens"):
        restrict_request(CHAT, {"max_tokens": "lots"}, STRICT)


def test_openai_reasoning_effort_is_lowered() -> None:
    out = restrict_request(CHAT, {"reasoning_effort": "high"}, STRICT)
    assert out["reasoning_effort"] == "minimal"
    capped = OutputControls(max_thinking_tokens=2000)
    out = restrict_request("openai.responses", {"reasoning": {"effort": "high"}}, capped)
    assert out["reasoning"] == {"effort": "low"}


def test_anthropic_thinking_budget_capped_or_disabled() -> None:
    body = {"max_tokens": 20000, "thinking": {"type": "enabled", "budget_tokens": 16000}}
    capped = restrict_request(
        "anthropic.messages", body, OutputControls(max_tokens=8000, max_thinking_tokens=4000)
    )
    assert capped == {"max_tokens": 8000, "thinking": {"type": "enabled", "budget_tokens": 4000}}
    short = restrict_request("anthropic.messages", body, OutputControls(max_tokens=1000))
    assert short["thinking"] == {"type": "disabled"}  # below the API's 1,024-token minimum
    off = restrict_request("anthropic.messages", body, STRICT)
    assert off == {"max_tokens": 256, "thinking": {"type": "disabled"}}


def test_merge_takes_the_stricter_of_each_field() -> None:
    a = OutputControls(reasoning=Reasoning.SUMMARISED, max_tokens=500, logprobs=Logprobs.DROP)
    b = OutputControls(max_tokens=100, logit_bias=False, max_top_logprobs=2)
    merged = a.merge(b)
    assert merged == OutputControls(
        reasoning=Reasoning.SUMMARISED,
        max_tokens=100,
        logprobs=Logprobs.DROP,
        logit_bias=False,
        max_top_logprobs=2,
    )
    assert merged.merge(OutputControls(reasoning=Reasoning.NONE)).reasoning is Reasoning.NONE


def test_controls_round_trip_through_a_mapping() -> None:
    assert OutputControls.from_mapping(STRICT.to_dict()) == STRICT
    with pytest.raises(ConfigurationError, match="unknown key"):
        OutputControls.from_mapping({"temperature": 0})
