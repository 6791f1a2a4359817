"""Sign-up cohorts: accounts that share a confident campaign's payment, proxies or sign-up burst."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pytest

from distillguard.detect.campaigns import Campaign
from distillguard.detect.cohort import find_cohorts

BURST = datetime(2026, 4, 8, 9, 0)
LAST_REQUEST = datetime(2026, 4, 13, 12, 0)
MEMBERS = [f"farm-{i}" for i in range(8)]

# account, created, program, program_peers (sponsored sign-ups from other networks within the
# hour), payment instrument
Signup = tuple[str, datetime, str, int, str | None]


def _signups() -> list[Signup]:
    farm = [
        (a, BURST + timedelta(minutes=5 * i), "education", 7, "pm_farm" if i == 0 else None)
        for i, a in enumerate(MEMBERS)
    ]
    return [
        *farm,
        # a farm account that has not been linked (or has sent nothing yet)
        ("sleeper", BURST + timedelta(minutes=20), "research", 8, None),
        # the same minute, but through the standard path: a burst alone is not enough
        ("standard", BURST + timedelta(minutes=21), "standard", 0, None),
        # a sponsored sign-up in the span with no peers from other networks (a campus cohort)
        ("campus", BURST + timedelta(minutes=22), "education", 0, None),
        # pays with the card of farm-0, weeks later
        ("card", BURST + timedelta(days=3), "standard", 0, "pm_farm"),
        # the sleeper's trace, but two years old
        ("old", BURST - timedelta(days=700), "education", 8, "pm_farm"),
        # the sleeper's program burst, a day later: no members near it
        ("later", BURST + timedelta(days=1), "education", 8, None),
        # signed up from a proxy address the farm sends most of that address's requests from
        ("replacement", BURST + timedelta(days=4), "standard", 0, None),
        # signed up from a cafe's address the farm passed through once
        ("cafe", BURST + timedelta(days=4), "standard", 0, None),
    ]


SIGNUP_IPS = {"replacement": "203.0.113.7", "cafe": "198.51.100.1"}
# (account, address, requests in the window)
TRAFFIC = [
    ("farm-1", "203.0.113.7", 2),
    ("farm-2", "203.0.113.7", 1),
    ("passer-by", "203.0.113.7", 1),
    ("farm-3", "198.51.100.1", 1),
    ("regular", "198.51.100.1", 5),
]


def _db(signups: list[Signup]) -> duckdb.DuckDBPyConnection:
    db = duckdb.connect()
    db.execute(
        "CREATE TABLE account_signup (account_id VARCHAR, created_at TIMESTAMPTZ, "
        "program VARCHAR, program_peers BIGINT, payment_fingerprint VARCHAR, "
        "burst_peers BIGINT)"
    )
    for account, created, program, peers, payment in signups:
        others = sum(
            1 for s in signups if s[0] != account and abs(s[1] - created) <= timedelta(hours=1)
        )
        db.execute(
            "INSERT INTO account_signup VALUES (?, ?::TIMESTAMP AT TIME ZONE 'UTC', ?, ?, ?, ?)",
            [account, created, program, peers, payment, others],
        )
    db.execute(
        "CREATE TABLE accounts AS SELECT account_id, NULL::VARCHAR AS signup_ip FROM account_signup"
    )
    db.executemany(
        "UPDATE accounts SET signup_ip = ? WHERE account_id = ?",
        [(ip, a) for a, ip in SIGNUP_IPS.items()],
    )
    db.execute("CREATE TABLE requests (account_id VARCHAR, client_ip VARCHAR, ts TIMESTAMPTZ)")
    db.executemany(
        "INSERT INTO requests VALUES (?, ?, ?)",
        [(a, ip, LAST_REQUEST) for a, ip, n in TRAFFIC for _ in range(n)],
    )
    return db


def _campaign(confidence: float, members: list[str] = MEMBERS, cid: str = "C0001") -> Campaign:
    return Campaign(
        campaign_id=cid,
        community=1,
        account_ids=list(members),
        requests=100,
        first_seen=BURST,
        last_seen=LAST_REQUEST,
        confidence=confidence,
        capabilities={},
        infrastructure={},
        evidence={},
    )


def _found(
    db: duckdb.DuckDBPyConnection,
    campaigns: list[Campaign],
    cleared: frozenset[str] = frozenset(),
    **knobs: float,
) -> dict[str, str]:
    settings = {"min_confidence": 0.9, "min_members": 5, "share": 0.0, "max_age_days": 30} | knobs
    return {
        m.account_id: m.path
        for m in find_cohorts(
            db,
            campaigns,
            cleared,
            min_confidence=float(settings["min_confidence"]),
            min_members=int(settings["min_members"]),
            share=float(settings["share"]),
            max_age_days=int(settings["max_age_days"]),
        )
    }


def test_a_confident_campaign_names_its_sleepers_and_its_cardholders() -> None:
    assert _found(_db(_signups()), [_campaign(0.95)]) == {
        "sleeper": "burst",
        "card": "payment",
        "replacement": "network",
    }


def test_a_campaign_below_the_bar_names_nobody() -> None:
    assert _found(_db(_signups()), [_campaign(0.85)]) == {}


def test_members_of_another_campaign_are_left_to_it() -> None:
    other = _campaign(0.6, ["sleeper"], cid="C0002")
    assert _found(_db(_signups()), [_campaign(0.95), other]) == {
        "card": "payment",
        "replacement": "network",
    }


def test_the_members_must_dominate_the_sign_ups_of_the_span() -> None:
    crowd: list[Signup] = [
        (f"crowd-{i}", BURST + timedelta(minutes=20 + i), "standard", 0, None) for i in range(12)
    ]
    db = _db(_signups() + crowd)
    # 8 members among 8 + 12 + 4 others: a third of the span, under a share of a half
    assert "sleeper" not in _found(db, [_campaign(0.95)], share=0.5)
    assert _found(db, [_campaign(0.95)], share=0.25) == {
        "sleeper": "burst",
        "card": "payment",
        "replacement": "network",
    }


def test_an_account_whose_requests_ask_for_nothing_extraction_wants_is_left_out() -> None:
    cleared = frozenset({"sleeper"})
    assert "sleeper" not in _found(_db(_signups()), [_campaign(0.95)], cleared)


@pytest.mark.parametrize("members", [0, 9])
def test_too_few_members_in_the_span_or_cohorts_off(members: int) -> None:
    assert "sleeper" not in _found(_db(_signups()), [_campaign(0.95)], min_members=members)


def test_the_detail_names_the_campaign_and_the_trace() -> None:
    db = _db(_signups())
    (sleeper,) = [
        m
        for m in find_cohorts(
            db, [_campaign(0.95)], (), min_confidence=0.9, min_members=5, share=0.0, max_age_days=30
        )
        if m.account_id == "sleeper"
    ]
    assert sleeper.campaign_id == "C0001" and sleeper.path == "burst"
    assert sleeper.shared == 8
    assert "C0001" in sleeper.detail() and "sponsored program" in sleeper.detail()
