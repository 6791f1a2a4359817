"""One contract suite, run against every enforcement store (Redis included)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from enforce_factories import NOW, make_action

from distillguard.enforce.actions import ActionKind, Challenge
from distillguard.enforce.store import EnforcementStore, from_url
from distillguard.errors import ConfigurationError

T = NOW.timestamp()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest) -> Iterator[EnforcementStore]:
    if request.param == "memory":
        url = "memory://"
    else:
        base = request.getfixturevalue("redis_url")
        url = f"{base}?namespace=dg:test:{uuid.uuid4().hex}"
    opened = from_url(url)
    yield opened
    opened.replace_all([])
    opened.close()


def test_empty_store_decides_nothing(store: EnforcementStore) -> None:
    store.check()
    assert store.decide(account_id="a", key_id="k", org_id="o", ip="192.0.2.1", now=T) is None


def test_put_get_remove(store: EnforcementStore) -> None:
    action = make_action("account:a1")
    store.put(action)
    assert store.get("account:a1", now=T) == action
    assert store.actions() == [action]
    store.remove("account:a1")
    assert store.get("account:a1", now=T) is None
    assert store.actions() == []


def test_expired_actions_stop_applying_by_themselves(store: EnforcementStore) -> None:
    store.put(make_action("account:a1", hours=1))
    assert store.decide(account_id="a1", now=T + 3599) is not None
    assert store.decide(account_id="a1", now=T + 3600) is None
    assert store.get("account:a1", now=T + 3600) is None


def test_every_subject_kind_is_looked_up_and_most_severe_comes_first(
    store: EnforcementStore,
) -> None:
    store.put(make_action("key:k1", ActionKind.THROTTLE))
    store.put(make_action("org:o1", ActionKind.DEGRADE))
    store.put(make_action("ip:192.0.2.7", ActionKind.MONITOR))
    store.put(make_action("prefix:198.51.100.0/24", ActionKind.SUSPEND))
    decision = store.decide(account_id="a", key_id="k1", org_id="o1", ip="192.0.2.7", now=T)
    assert decision is not None
    assert [a.kind for a in decision.actions] == [
        ActionKind.DEGRADE,
        ActionKind.THROTTLE,
        ActionKind.MONITOR,
    ]
    assert decision.throttle is not None and decision.output is not None
    blocked = store.decide(account_id="a", ip="198.51.100.200", now=T)
    assert blocked is not None and blocked.label == "block"
    error = blocked.error()
    assert error is not None and error.status == 403
    assert error.headers["x-should-retry"] == "false"


def test_ipv6_prefix(store: EnforcementStore) -> None:
    store.put(make_action("prefix:2001:db8:1::/48", ActionKind.SUSPEND))
    assert store.decide(ip="2001:db8:1:ffff::1", now=T) is not None
    assert store.decide(ip="2001:db8:2::1", now=T) is None


def test_challenge_lifts_at_required_verification(store: EnforcementStore) -> None:
    store.put(make_action("account:a1", ActionKind.CHALLENGE))
    decision = store.decide(account_id="a1", verification="phone", now=T)
    assert decision is not None and decision.label == "challenge"
    error = decision.error()
    assert error is not None and "https://x.test/v" in error.message
    assert store.decide(account_id="a1", verification="id", now=T) is None


def test_an_address_challenge_can_defer_to_the_callers_own_action(
    store: EnforcementStore,
) -> None:
    exit_ = replace(
        make_action("ip:192.0.2.9", ActionKind.CHALLENGE),
        challenge=Challenge(required_verification="payment", defer_to_account=True),
    )
    store.put_many(
        [
            exit_,
            make_action("account:throttled", ActionKind.THROTTLE),
            make_action("key:k-watched", ActionKind.MONITOR),
            make_action("prefix:198.51.100.0/24", ActionKind.CHALLENGE),
        ]
    )
    fresh = store.decide(account_id="new", key_id="k-new", ip="192.0.2.9", now=T)
    assert fresh is not None and fresh.label == "challenge"
    # an account (or key) judged on its own evidence keeps that judgement at the address
    held = store.decide(account_id="throttled", ip="192.0.2.9", verification="email", now=T)
    assert held is not None and [a.kind for a in held.actions] == [ActionKind.THROTTLE]
    watched = store.decide(account_id="x", key_id="k-watched", ip="192.0.2.9", now=T)
    assert watched is not None and watched.label == "allow"
    # a challenge without the flag does not defer
    plain = store.decide(account_id="throttled", ip="198.51.100.4", now=T)
    assert plain is not None and plain.label == "challenge"
    assert store.decide(account_id="new", ip="192.0.2.9", verification="payment", now=T) is None
    assert store.get("ip:192.0.2.9", now=T) == exit_  # the flag survives the backend


def test_an_address_challenge_with_an_age_limit_passes_older_accounts(
    store: EnforcementStore,
) -> None:
    day = 86400.0
    exit_ = replace(
        make_action("ip:192.0.2.10", ActionKind.CHALLENGE),
        challenge=Challenge(required_verification="payment", max_account_age=30 * day),
    )
    store.put(exit_)

    def label(created: float | None) -> str | None:
        decision = store.decide(account_id="a", ip="192.0.2.10", now=T, account_created=created)
        return None if decision is None else decision.label

    assert label(T - 3 * day) == "challenge"  # a replacement account, days old
    assert label(T - 30 * day + 1) == "challenge"
    assert label(T - 30 * day) is None  # old enough
    assert label(T - 400 * day) is None  # a resident whose home address the farm borrowed
    assert label(None) == "challenge"  # age unknown: the challenge applies
    assert store.get("ip:192.0.2.10", now=T) == exit_  # the limit survives the backend


def test_prune_deletes_only_expired_actions(store: EnforcementStore) -> None:
    store.put_many([make_action("account:short", hours=1), make_action("account:long", hours=48)])
    assert store.prune(T + 7200) == 1
    assert [a.subject for a in store.actions()] == ["account:long"]
    assert store.prune(T + 7200) == 0


def test_put_many(store: EnforcementStore) -> None:
    batch = [make_action(f"account:m{i}") for i in range(50)]
    store.put_many(batch)
    assert store.actions() == sorted(batch, key=lambda a: a.subject)
    assert store.decide(account_id="m7", now=T) is not None


def test_replace_all(store: EnforcementStore) -> None:
    store.put(make_action("account:old"))
    store.replace_all([make_action("account:new")])
    assert [a.subject for a in store.actions()] == ["account:new"]
    assert store.get("account:old", now=T) is None


def test_unknown_scheme_is_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="scheme must be one of"):
        from_url("mongodb://x")


def test_decide_by_position_is_decide_by_keyword(store: EnforcementStore) -> None:
    # The gateway passes the caller by position on every request.
    store.put(make_action("key:k1", ActionKind.THROTTLE))
    store.put(make_action("prefix:198.51.100.0/24", ActionKind.DEGRADE))
    store.put(make_action("org:o1", ActionKind.CHALLENGE))
    cases = [
        ("a", "k1", "o1", "198.51.100.9", "none"),
        ("a", "k1", "o1", "198.51.100.9", "org"),
        ("a", "k2", None, "203.0.113.1", "none"),
        ("a", None, None, None, "none"),
        ("a", "k1", None, "not an address", "email"),
    ]
    for account, key, org, ip, level in cases:
        by_position = store.decide(account, key, org, ip, level, T)
        by_keyword = store.decide(
            account_id=account, key_id=key, org_id=org, ip=ip, verification=level, now=T
        )
        assert by_position == by_keyword
    assert store.decide("a", "k1", None, None, "none", T) is not None
