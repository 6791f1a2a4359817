from __future__ import annotations

import pytest

from distillguard.controlplane.principal import RULES, Principal, TierLimits
from distillguard.errors import ConfigurationError, InputError
from distillguard.ratelimit import plan
from distillguard.ratelimit.base import Decision, LimitKind, LimitState
from distillguard.ratelimit.plan import demands_for, header_view, networks

TIER = TierLimits(
    1,
    "tier-1",
    {
        "key": {"rpm": 50, "itpm": 40_000, "otpm": 8_000, "concurrent": 4},
        "account": {"rpm": 100, "daily_requests": 5_000, "daily_tokens": 2_000_000},
        "org": {"itpm": 100_000},
        "ip": {"rpm": 30},
        "ip24": {"rpm": 120},
        "ip48": {"rpm": 240},
    },
)


def principal(org: str | None = "org_1", tier: TierLimits = TIER) -> Principal:
    return Principal("key_1", "acc_1", org, tier)


def test_every_rule_has_a_shape() -> None:
    assert set(plan._SHAPES) == set(RULES)


def test_ipv4_request_gets_every_scope_but_ip48() -> None:
    demands = demands_for(principal(), "203.0.113.7", input_tokens=800, max_tokens=1000)
    by_key = {d.key: d for d in demands}
    assert sorted(by_key) == sorted(
        [
            "dg:rl:key:key_1:rpm",
            "dg:rl:key:key_1:itpm",
            "dg:rl:key:key_1:otpm",
            "dg:rl:key:key_1:concurrent",
            "dg:rl:account:acc_1:rpm",
            "dg:rl:account:acc_1:daily_requests",
            "dg:rl:account:acc_1:daily_tokens",
            "dg:rl:org:org_1:itpm",
            "dg:rl:ip:203.0.113.7:rpm",
            "dg:rl:ip24:203.0.113.0/24:rpm",
        ]
    )
    costs = {d.key.rsplit(":", 1)[1] + "@" + d.scope: d.cost for d in demands}
    assert costs["rpm@key"] == 1
    assert costs["itpm@key"] == 800
    assert costs["otpm@key"] == 1000
    assert costs["concurrent@key"] == 1
    assert costs["daily_requests@account"] == 1
    assert costs["daily_tokens@account"] == 1800
    kinds = {d.rule.name: d.rule.kind for d in demands}
    assert kinds["concurrent"] is LimitKind.CONCURRENCY
    assert kinds["daily_tokens"] is LimitKind.DAILY
    assert kinds["itpm"] is LimitKind.RATE
    assert by_key["dg:rl:ip24:203.0.113.0/24:rpm"].rule.limit == 120


def test_ipv6_request_uses_the_48_and_no_org_when_there_is_none() -> None:
    demands = demands_for(principal(org=None), "2001:DB8:abcd:12::1", 10, 10)
    scopes = {d.scope for d in demands}
    assert "org" not in scopes and "ip24" not in scopes
    keys = {d.key for d in demands}
    assert "dg:rl:ip48:2001:db8:abcd::/48:rpm" in keys
    assert "dg:rl:ip:2001:db8:abcd:12::1:rpm" in keys


def test_networks() -> None:
    assert networks("10.1.2.3") == ("10.1.2.3", "10.1.2.0/24", None)
    assert networks("::ffff:10.1.2.3") == ("10.1.2.3", "10.1.2.0/24", None)
    assert networks("2001:db8::1") == ("2001:db8::1", None, "2001:db8::/48")
    assert networks("not-an-ip") == ("not-an-ip", None, None)


def test_unknown_address_keeps_only_the_ip_scope_and_none_skips_it() -> None:
    scopes = {d.scope for d in demands_for(principal(), "unix-socket", 1, 1)}
    assert "ip" in scopes and "ip24" not in scopes and "ip48" not in scopes
    assert not {"ip", "ip24", "ip48"} & {d.scope for d in demands_for(principal(), None, 1, 1)}


def test_fixed_cost_demands_are_reused() -> None:
    first = demands_for(principal(), "198.51.100.1", 5, 5)
    second = demands_for(principal(), "198.51.100.1", 9, 9)
    rpm = [d for d in first if d.rule.name == "rpm"]
    assert all(
        a is b for a, b in zip(rpm, [d for d in second if d.rule.name == "rpm"], strict=True)
    )
    assert [d.cost for d in second if d.rule.name == "itpm"] == [9, 9]


def test_a_changed_tier_is_recompiled() -> None:
    tighter = TierLimits(0, "tier-0", {"key": {"rpm": 5}})
    demands = demands_for(principal(tier=tighter), None, 0, 0)
    assert [(d.rule.name, d.rule.limit) for d in demands] == [("rpm", 5)]


def test_bad_inputs() -> None:
    with pytest.raises(InputError):
        demands_for(principal(), None, -1, 0)
    broken = TierLimits(9, "broken", {"key": {"rpm": -3}})
    with pytest.raises(ConfigurationError, match=r"key\.rpm"):
        demands_for(principal(tier=broken), None, 0, 0)


def test_header_view_picks_the_tightest_states() -> None:
    demands = demands_for(principal(), "203.0.113.7", 800, 1000)
    by_name_scope = {(d.rule.name, d.scope): d for d in demands}
    states = (
        LimitState(by_name_scope["rpm", "key"], 49, 1.2),
        LimitState(by_name_scope["rpm", "account"], 99, 0.6),
        LimitState(by_name_scope["rpm", "ip"], 29, 2.0),
        LimitState(by_name_scope["daily_requests", "account"], 4_000, 3600.0),
        LimitState(by_name_scope["itpm", "key"], 39_200, 1.2),
        LimitState(by_name_scope["itpm", "org"], 99_200, 0.5),
        LimitState(by_name_scope["otpm", "key"], 7_000, 7.5),
        LimitState(by_name_scope["daily_tokens", "account"], 1_998_200, 3600.0),
        LimitState(by_name_scope["concurrent", "key"], 3, 0.0),
    )
    view = header_view(Decision(True, states))
    assert (view.requests_limit, view.requests_remaining, view.requests_reset_s) == (30, 29, 2.0)
    assert (view.tokens_limit, view.tokens_remaining, view.tokens_reset_s) == (8_000, 7_000, 7.5)
    assert view.input_tokens_remaining == 39_200 and view.input_tokens_limit == 40_000
    assert view.output_tokens_limit == 8_000
    assert view.retry_after_s is None


def test_header_view_of_a_refusal_and_of_nothing() -> None:
    demand = demands_for(principal(), None, 0, 0)[0]
    blocking = LimitState(demand, 0, 60.0, 1.2)
    view = header_view(Decision(False, (blocking,), blocking))
    assert view.retry_after_s == 1.2 and view.requests_remaining == 0
    empty = header_view(Decision(False, (), None, degraded=True))
    assert empty.requests_limit is None and empty.tokens_limit is None
