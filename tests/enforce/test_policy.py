from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from enforce_factories import NOW, account, campaign, findings

from distillguard.enforce import policy as policy_module
from distillguard.enforce.actions import ActionKind
from distillguard.enforce.policy import (
    Policy,
    apply_findings,
    load_policy,
    parse_policy,
    plan_findings,
)
from distillguard.enforce.store import MemoryStore
from distillguard.errors import ConfigurationError, InputError

POLICY = """
version = 1
[defaults]
duration = "2d"
[allowlist]
accounts = ["acc_vip"]
orgs = ["org_good"]
verification = "org"

[[rules]]
name = "suspend-campaign"
action = "suspend"
duration = "30d"
cascade = "campaign"
[rules.when]
flagged = true
campaign_confidence_min = 0.9

[[rules]]
name = "probe"
action = "degrade"
review_after = "3d"
[rules.when]
signals_any = ["logit_probe"]
[rules.degrade]
logprobs = false
logit_bias = false

[[rules]]
name = "watch"
action = "monitor"
[rules.when]
score_min = 0.3
"""


def test_shipped_default_policy_loads_and_acts() -> None:
    policy = load_policy()
    doc = findings(
        [account("a1", 0.95, flagged=True, campaign_id="c1"), account("b1", 0.4)],
        [campaign("c1", ["a1", "a2", "a3"], 0.95)],
    )
    actions = {a.subject: a for a in apply_findings(policy, doc, NOW)}
    assert {s: a.kind for s, a in actions.items()} == {
        "account:a1": ActionKind.SUSPEND,
        "account:a2": ActionKind.SUSPEND,
        "account:a3": ActionKind.SUSPEND,
        "account:b1": ActionKind.MONITOR,
    }
    assert all(a.expires_at is not None or a.review_at is not None for a in actions.values())


def test_shipped_default_policy_challenges_a_campaigns_sign_up_cohort() -> None:
    doc = findings(
        [
            account("a1", 0.95, flagged=True, campaign_id="c1"),
            account("sleeper", 0.6, signals=("campaign_cohort",)),
        ],
        [campaign("c1", ["a1", "a2", "a3"], 0.95)],
    )
    actions = {a.subject: a for a in apply_findings(load_policy(), doc, NOW)}
    cohort = actions["account:sleeper"]
    assert cohort.kind is ActionKind.CHALLENGE
    assert cohort.rule == "campaign-cohort"
    assert cohort.challenge is not None and cohort.challenge.required_verification == "id"
    assert cohort.expires_at == NOW + timedelta(days=14)


def _exits_doc(confidence: float) -> dict[str, Any]:
    farm = campaign("c1", ["a1", "a2", "a3"], confidence)
    farm["infrastructure"]["exit_addresses"] = ["203.0.113.7", "2001:DB8::1"]
    return findings([account("a1", 0.95, flagged=True, campaign_id="c1")], [farm])


def _with_exits() -> Policy:
    """The shipped policy with its campaign-exits rule turned on."""
    text = (Path(policy_module.__file__).parent / "default_policy.toml").read_text()
    assert text.count("enabled = false") == 1
    return parse_policy(text.replace("enabled = false", "enabled = true"))


def test_shipped_policy_leaves_exit_addresses_alone_until_the_rule_is_enabled() -> None:
    subjects = {a.subject for a in apply_findings(load_policy(), _exits_doc(0.95), NOW)}
    assert subjects == {"account:a1", "account:a2", "account:a3"}
    assert "campaign-exits" not in {r.name for r in load_policy().rules}


def test_shipped_exit_rule_challenges_a_confirmed_campaigns_exit_addresses() -> None:
    actions = {a.subject: a for a in apply_findings(_with_exits(), _exits_doc(0.95), NOW)}
    assert {s: a.kind for s, a in actions.items()} == {
        "account:a1": ActionKind.SUSPEND,
        "account:a2": ActionKind.SUSPEND,
        "account:a3": ActionKind.SUSPEND,
        "ip:203.0.113.7": ActionKind.CHALLENGE,
        "ip:2001:db8::1": ActionKind.CHALLENGE,
    }
    exit_ = actions["ip:203.0.113.7"]
    assert exit_.rule == "campaign-exits" and exit_.campaign_id == "c1"
    assert exit_.challenge is not None and exit_.challenge.required_verification == "payment"
    assert exit_.challenge.defer_to_account
    assert exit_.expires_at == NOW + timedelta(days=2)
    assert "exit address of campaign c1" in exit_.reason
    # at the gateway: any account below payment verification is stopped there, on any request
    store = MemoryStore()
    store.put_many(actions.values())
    now = NOW.timestamp()
    fresh = store.decide("acc_new", "key_new", None, "203.0.113.7", "email", now)
    assert fresh is not None and fresh.kind is ActionKind.CHALLENGE
    assert store.decide("acc_new", "key_new", None, "2001:db8::1", "phone", now) is not None
    assert store.decide("acc_paid", "key_paid", None, "203.0.113.7", "payment", now) is None
    assert store.decide("acc_new", "key_new", None, "203.0.113.8", "email", now) is None
    suspended = store.decide("a2", None, None, "203.0.113.7", "email", now)
    assert suspended is not None and suspended.label == "block"  # its own action, not the exit's


def test_exit_addresses_wait_for_a_confirmed_campaign() -> None:
    subjects = {a.subject for a in apply_findings(_with_exits(), _exits_doc(0.85), NOW)}
    assert not any(s.startswith("ip:") for s in subjects)
    assert "account:a2" in subjects  # the likely-campaign challenge still cascades


def test_bad_exit_addresses_set_the_campaign_aside() -> None:
    doc = _exits_doc(0.95)
    doc["campaigns"][0]["infrastructure"]["exit_addresses"] = ["203.0.113.7", "not-an-address"]
    plan = plan_findings(_with_exits(), doc, NOW)
    assert plan.rejected == [
        (
            "campaigns[0]",
            "infrastructure.exit_addresses: 'not-an-address' does not appear to "
            "be an IPv4 or IPv6 address",
        )
    ]
    assert not any(a.subject.startswith("ip:") for a in plan.actions)


def test_campaign_cascade_reaches_unlisted_members_with_evidence() -> None:
    policy = parse_policy(POLICY)
    doc = findings(
        [account("a1", 0.95, flagged=True, campaign_id="c1")],
        [campaign("c1", ["a1", "a2"], 0.92)],
    )
    actions = {a.subject: a for a in apply_findings(policy, doc, NOW)}
    assert actions["account:a2"].kind is ActionKind.SUSPEND
    assert actions["account:a2"].evidence["cascade_from"] == "a1"
    assert actions["account:a2"].campaign_id == "c1"
    assert actions["account:a1"].expires_at == NOW + timedelta(days=30)
    assert "cascade_from" not in actions["account:a1"].evidence


def test_low_campaign_confidence_does_not_cascade() -> None:
    policy = parse_policy(POLICY)
    doc = findings(
        [account("a1", 0.95, flagged=True, campaign_id="c1")], [campaign("c1", ["a1", "a2"], 0.5)]
    )
    actions = {a.subject: a.kind for a in apply_findings(policy, doc, NOW)}
    assert actions == {"account:a1": ActionKind.MONITOR}


def test_most_severe_matching_rule_wins_and_signals_match() -> None:
    policy = parse_policy(POLICY)
    doc = findings([account("p", 0.35, signals=("logit_probe",))])
    (action,) = apply_findings(policy, doc, NOW)
    assert action.kind is ActionKind.DEGRADE
    assert action.rule == "probe"
    assert action.degrade is not None and not action.degrade.logit_bias
    assert action.expires_at is None and action.review_at == NOW + timedelta(days=3)


def test_default_duration_applies_when_rule_gives_none() -> None:
    policy = parse_policy(POLICY)
    (action,) = apply_findings(policy, findings([account("m", 0.31)]), NOW)
    assert action.expires_at == NOW + timedelta(days=2)


def test_allowlists_by_account_org_and_verification() -> None:
    policy = parse_policy(POLICY)
    doc = findings(
        [
            account("acc_vip", 0.99, flagged=True, campaign_id="c1"),
            account("o1", 0.99, flagged=True, campaign_id="c1"),
            account("v1", 0.99, flagged=True, campaign_id="c1"),
            account("x", 0.99, flagged=True, campaign_id="c1"),
        ],
        [campaign("c1", ["acc_vip", "o1", "v1", "x"], 0.99)],
    )
    records = {"o1": {"org_id": "org_good"}, "v1": {"verification": "org"}}
    plan = plan_findings(policy, doc, NOW, accounts=records)
    assert [a.subject for a in plan.actions] == ["account:x"]
    assert sorted(plan.allowlisted) == ["acc_vip", "o1", "v1"]


def test_bad_account_entries_are_set_aside_not_fatal() -> None:
    doc = findings([account("ok", 0.5), {"account_id": "bad", "score": 7}])
    plan = plan_findings(parse_policy(POLICY), doc, NOW)
    assert [a.subject for a in plan.actions] == ["account:ok"]
    assert plan.rejected == [("accounts[1]", "score must be a number in [0, 1]")]


def test_apply_findings_is_pure() -> None:
    policy = parse_policy(POLICY)
    doc = findings([account("a", 0.5)])
    assert apply_findings(policy, doc, NOW) == apply_findings(policy, doc, NOW)


def test_not_a_findings_document_is_input_error() -> None:
    with pytest.raises(InputError, match=r"dg\.findings\.v1"):
        apply_findings(parse_policy(POLICY), {"accounts": []}, NOW)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version = 1", "add at least one"),
        ('[[rules]]\nname="x"\naction="explode"\n[rules.when]\nflagged=true', "is not one of"),
        ('[[rules]]\nname="x"\naction="monitor"', "at least one condition"),
        (
            '[[rules]]\nname="x"\naction="throttle"\n[rules.when]\nflagged=true',
            r"needs a \[throttle\]",
        ),
        (
            '[[rules]]\nname="x"\naction="monitor"\nduration="soon"\n[rules.when]\nflagged=true',
            "30m, 12h",
        ),
        ('[[rules]]\nname="x"\naction="monitor"\n[rules.when]\nscore_min=3', "wrong type"),
        (
            '[[rules]]\nname="x"\naction="monitor"\n[rules.when]\nscore_min=0.1\n[rules.degrade]\nmax_n=1',
            "takes no",
        ),
        (
            '[[rules]]\nname="x"\naction="degrade"\n[rules.when]\nflagged=true\n[rules.degrade]\nreasoning="some"',
            "full, summarised, none",
        ),
        (
            '[[rules]]\nname="x"\naction="challenge"\n[rules.when]\nflagged=true\n[rules.challenge]\nrequired_verification="dna"',
            "required_verification",
        ),
        (
            '[[rules]]\nname="x"\naction="suspend"\ncascade="addresses"\n[rules.when]\nflagged=true',
            "challenge rules only",
        ),
        (
            '[[rules]]\nname="x"\naction="monitor"\ncascade="org"\n[rules.when]\nflagged=true',
            '"none", "campaign" or "addresses"',
        ),
        (
            '[[rules]]\nname="x"\naction="challenge"\n[rules.when]\nflagged=true\n[rules.challenge]\ndefer_to_account="yes"',
            "defer_to_account: must be true or false",
        ),
        (
            '[[rules]]\nname="x"\naction="challenge"\n[rules.when]\nflagged=true\n[rules.challenge]\nmax_account_age="a month"',
            "max_account_age: 'a month' is not a duration",
        ),
        (
            '[[rules]]\nname="x"\naction="challenge"\n[rules.when]\nflagged=true\n[rules.challenge]\nmax_account_age=true',
            "max_account_age: True is not a duration",
        ),
        (
            '[[rules]]\nname="x"\naction="monitor"\nenabled="no"\n[rules.when]\nflagged=true',
            "enabled: must be true or false",
        ),
        (
            '[[rules]]\nname="x"\naction="monitor"\nenabled=false\n[rules.when]\nflagged=true',
            "every rule is disabled",
        ),
        ("rules = [", "not valid TOML"),
        ('colour = "red"', "unknown top-level"),
    ],
)
def test_invalid_policy_says_what_to_fix(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_policy(text)


def test_missing_policy_file_is_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read policy"):
        load_policy(tmp_path / "nope.toml")
