"""Exit addresses: where a confident campaign's accounts send most of an address's requests."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb

from distillguard.detect.campaigns import Campaign
from distillguard.detect.exits import add_exit_addresses

LAST = datetime(2026, 4, 13, 12, 0)
FARM = ["farm-1", "farm-2", "farm-3"]
ESTABLISHED = {"regular": 400}  # days since sign-up; every other account signed up 5 days ago
# (account, address, requests, hours before the window's last request)
TRAFFIC = [
    ("farm-1", "203.0.113.7", 3, 1),  # the farm's own exit
    ("farm-2", "203.0.113.7", 1, 2),
    ("farm-1", "203.0.113.8", 1, 5),  # an exit used once, by the farm only
    ("farm-2", "198.51.100.1", 2, 1),  # a carrier NAT the farm passed through
    ("newcomer", "198.51.100.1", 5, 1),
    ("farm-3", "192.0.2.50", 2, 72),  # an exit last used three days ago
    ("farm-3", "2001:db8::1", 1, 3),
    ("other-farm", "192.0.2.99", 4, 1),  # a campaign below the bar
    ("farm-1", None, 1, 1),  # no address recorded
    ("farm-2", "203.0.113.20", 1, 1),  # the farm and a suspect outnumber a new account
    ("suspect", "203.0.113.20", 1, 1),
    ("newcomer", "203.0.113.20", 1, 1),
    ("suspect", "203.0.113.21", 5, 1),  # a suspect's address that no campaign member used
    ("farm-1", "203.0.113.30", 3, 1),  # somebody's home: an established account sends from it
    ("regular", "203.0.113.30", 1, 30),
    ("farm-2", "203.0.113.31", 3, 1),  # an account with no record counts as established
    ("ghost", "203.0.113.31", 1, 1),
]


def _db() -> duckdb.DuckDBPyConnection:
    db = duckdb.connect()
    db.execute("CREATE TABLE requests (account_id VARCHAR, client_ip VARCHAR, ts TIMESTAMPTZ)")
    db.executemany(
        "INSERT INTO requests VALUES (?, ?, ?::TIMESTAMP AT TIME ZONE 'UTC')",
        [(a, ip, LAST - timedelta(hours=h)) for a, ip, n, h in TRAFFIC for _ in range(n)],
    )
    db.execute("CREATE TABLE account_signup (account_id VARCHAR, created_at TIMESTAMPTZ)")
    accounts = {a for a, *_ in TRAFFIC} - {"ghost"}
    db.executemany(
        "INSERT INTO account_signup VALUES (?, ?::TIMESTAMP AT TIME ZONE 'UTC')",
        [(a, LAST - timedelta(days=ESTABLISHED.get(a, 5))) for a in sorted(accounts)],
    )
    return db


def _campaign(cid: str, members: list[str], confidence: float) -> Campaign:
    return Campaign(
        campaign_id=cid,
        community=1,
        account_ids=members,
        requests=10,
        first_seen=LAST,
        last_seen=LAST,
        confidence=confidence,
        capabilities={},
        infrastructure={"ips": 5},
        evidence={},
    )


def _exits(suspects: tuple[str, ...] = ("suspect",), **knobs: float) -> tuple[int, list[list[str]]]:
    campaigns = [_campaign("C0001", FARM, 0.95), _campaign("C0002", ["other-farm"], 0.7)]
    settings = {
        "min_confidence": 0.9,
        "share": 0.5,
        "recent_hours": 48,
        "limit": 100,
        "max_age_days": 30,
    } | knobs
    n = add_exit_addresses(_db(), campaigns, suspects, **settings)  # type: ignore[arg-type]
    return n, [c.infrastructure["exit_addresses"] for c in campaigns]


def test_lists_the_confident_campaigns_own_recent_addresses_busiest_first() -> None:
    n, (farm, other) = _exits()
    # not the NAT (2 of 7 requests), not the address last used 72 h ago, not the suspect's own
    # address (no member used it), not the homes of established accounts; ties by address text
    assert farm == ["203.0.113.7", "2001:db8::1", "203.0.113.20", "203.0.113.8"]
    assert other == []  # confidence 0.7 < 0.9
    assert n == 4


def test_suspects_requests_count_on_the_campaigns_side() -> None:
    farm = _exits(suspects=())[1][0]
    assert "203.0.113.20" not in farm  # the farm alone sent 1 of its 3 requests
    assert _exits(suspects=("suspect", "farm-3"))[1][0] == _exits()[1][0]  # a member stays one


def test_an_established_account_keeps_its_address_off_the_list_at_any_share() -> None:
    for share in (0.5, 0.1):
        farm = _exits(share=share)[1][0]
        assert "203.0.113.30" not in farm and "203.0.113.31" not in farm
    # once the regular counts as young (signed up within 500 days), its address is an exit
    assert "203.0.113.30" in _exits(max_age_days=500)[1][0]


def test_knobs_change_what_is_listed() -> None:
    assert _exits(share=0.25)[1][0] == [
        "203.0.113.7",
        "198.51.100.1",
        "2001:db8::1",
        "203.0.113.20",
        "203.0.113.8",
    ]
    assert _exits(recent_hours=96)[1][0] == [
        "203.0.113.7",
        "192.0.2.50",
        "2001:db8::1",
        "203.0.113.20",
        "203.0.113.8",
    ]
    assert _exits(limit=1)[1][0] == ["203.0.113.7"]
    assert _exits(min_confidence=0.5)[1][1] == ["192.0.2.99"]
    assert _exits(limit=0) == (0, [[], []])
