from __future__ import annotations

import re

import pytest

from distillguard.gateway.limitheaders import go_duration, limit_headers, rfc3339_in, throttle_error
from distillguard.ratelimit.base import Decision, Demand, LimitKind, LimitState, Rule

RPM = Rule("rpm", LimitKind.RATE, 60)
ITPM = Rule("itpm", LimitKind.RATE, 10_000)
OTPM = Rule("otpm", LimitKind.RATE, 2_000)
DAILY = Rule("daily_requests", LimitKind.DAILY, 100, 86_400.0)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.012, "12ms"),
        (0.0001, "1ms"),
        (1, "1s"),
        (1.5, "1.5s"),
        (360, "6m0s"),
        (90.25, "1m30.25s"),
        (3600, "1h0m0s"),
    ],
)
def test_go_durations(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


def test_rfc3339_reset() -> None:
    assert rfc3339_in(1.2, now=0.0) == "1970-01-01T00:00:02Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", rfc3339_in(5))


def _state(
    rule: Rule, remaining: int, reset: float, cost: int = 1, scope: str = "key"
) -> LimitState:
    return LimitState(Demand(f"{scope}:x:{rule.name}", scope, rule, cost), remaining, reset)


def test_openai_headers_use_the_tightest_counter() -> None:
    decision = Decision(
        True,
        (
            _state(RPM, 50, 10.0, scope="account"),
            _state(RPM, 10, 50.0),
            _state(ITPM, 9_000, 6.0),
            _state(OTPM, 500, 45.0),
        ),
    )
    headers = limit_headers(decision, "openai")
    assert headers["x-ratelimit-limit-requests"] == "60"
    assert headers["x-ratelimit-remaining-requests"] == "10"
    assert headers["x-ratelimit-reset-requests"] == "50s"
    assert headers["x-ratelimit-remaining-tokens"] == "500"
    assert headers["x-ratelimit-limit-tokens"] == "2000"


def test_anthropic_headers_have_four_families() -> None:
    decision = Decision(True, (_state(RPM, 10, 5.0), _state(ITPM, 9_000, 6.0), _state(OTPM, 5, 1)))
    headers = limit_headers(decision, "anthropic")
    for family in ("requests", "tokens", "input-tokens", "output-tokens"):
        assert f"anthropic-ratelimit-{family}-limit" in headers
        assert headers[f"anthropic-ratelimit-{family}-reset"].endswith("Z")
    assert headers["anthropic-ratelimit-input-tokens-remaining"] == "9000"
    assert headers["anthropic-ratelimit-output-tokens-remaining"] == "5"


def test_no_rules_no_headers() -> None:
    assert limit_headers(Decision(True, ()), "openai") == {}


def _refusal(rule: Rule, retry: float | None, cost: int = 1) -> Decision:
    blocking = LimitState(Demand(f"key:x:{rule.name}", "key", rule, cost), 0, 30.0, retry)
    return Decision(False, (blocking,), blocking=blocking)


def test_short_wait_gets_retry_after_headers() -> None:
    error = throttle_error(_refusal(RPM, 1.2), "openai", model="gpt-x")
    assert error.status == 429 and error.limit_type == "requests"
    assert error.headers["retry-after"] == "2"  # rounded up
    assert error.headers["retry-after-ms"] == "1200"
    assert error.should_retry is None  # the SDK's own rule (retry 429) applies
    assert "gpt-x" in error.message and "Please try again in 1.2s" in error.message


def test_token_limit_is_type_tokens() -> None:
    assert throttle_error(_refusal(ITPM, 3.0, 50), "openai", model="m").limit_type == "tokens"


def test_long_wait_or_daily_cap_says_do_not_retry() -> None:
    error = throttle_error(_refusal(DAILY, 40_000.0), "anthropic", model="m")
    assert error.should_retry is False
    assert error.headers["retry-after"] == "40000"  # informative; the SDK will not wait it


def test_cost_above_the_limit_says_do_not_retry() -> None:
    error = throttle_error(_refusal(OTPM, None, cost=5_000), "openai", model="m")
    assert error.should_retry is False
    assert "retry-after" not in error.headers
    assert "larger than the limit" in error.message


def test_agrees_with_the_limiter_header_view() -> None:
    from distillguard.ratelimit.plan import header_view

    daily_tokens = Rule("daily_tokens", LimitKind.DAILY, 1_000_000, 86_400.0)
    decision = Decision(
        True,
        (
            _state(RPM, 10, 5.0),
            _state(RPM, 10, 9.0, scope="account"),
            _state(DAILY, 4, 3600.0),
            _state(ITPM, 800, 6.0),
            _state(OTPM, 900, 1.0),
            _state(daily_tokens, 700, 80_000.0),
        ),
    )
    view = header_view(decision)
    openai = limit_headers(decision, "openai")
    assert openai["x-ratelimit-remaining-requests"] == str(view.requests_remaining)
    assert openai["x-ratelimit-limit-requests"] == str(view.requests_limit)
    assert openai["x-ratelimit-reset-requests"] == go_duration(view.requests_reset_s or 0)
    assert openai["x-ratelimit-remaining-tokens"] == str(view.tokens_remaining)
    assert openai["x-ratelimit-limit-tokens"] == str(view.tokens_limit)
    anthropic = limit_headers(decision, "anthropic")
    assert anthropic["anthropic-ratelimit-input-tokens-remaining"] == str(
        view.input_tokens_remaining
    )
    assert anthropic["anthropic-ratelimit-output-tokens-limit"] == str(view.output_tokens_limit)
