"""Campaign membership: a community's core, and accounts attached to it by their edges."""

from __future__ import annotations

from itertools import combinations

import duckdb
import pytest

from distillguard.detect.campaigns import build_campaigns

CORE = [f"core-{i}" for i in range(6)]


def _db(edges: list[tuple[str, str, float]]) -> duckdb.DuckDBPyConnection:
    """The tables build_campaigns reads: one community of everyone with an edge."""
    db = duckdb.connect()
    db.execute(
        "CREATE TABLE edges (src VARCHAR, dst VARCHAR, weight DOUBLE, kinds BIGINT, "
        "kind_list VARCHAR)"
    )
    db.executemany(
        "INSERT INTO edges VALUES (?, ?, ?, 2, 'email_pattern,signup_burst')",
        [(min(a, b), max(a, b), w) for a, b, w in edges],
    )
    db.execute(
        "CREATE TABLE pair_kinds AS SELECT src, dst, unnest(string_split(kind_list, ',')) AS "
        "kind, 1::BIGINT AS shared, weight / 2 AS weight FROM edges"
    )
    db.execute(
        "CREATE TABLE communities AS SELECT account_id, 1 AS community, 0 AS degree FROM "
        "(SELECT src AS account_id FROM edges UNION SELECT dst FROM edges)"
    )
    db.execute(
        "CREATE TABLE requests AS SELECT account_id, TIMESTAMP '2026-04-13 01:00:00' AS ts, "
        "'10.0.0.1' AS client_ip, 0::UTINYINT AS domain FROM communities"
    )
    db.execute("CREATE TABLE ips (client_ip VARCHAR, prefix VARCHAR, asn BIGINT, kind VARCHAR)")
    # every account signed up three days before the last request, but "veteran" two years ago
    db.execute(
        "CREATE TABLE account_signup AS SELECT account_id, CASE account_id WHEN 'veteran' "
        "THEN TIMESTAMPTZ '2024-04-13 00:00:00+00' ELSE TIMESTAMPTZ '2026-04-10 00:00:00+00' "
        "END AS created_at FROM communities"
    )
    return db


def _edges() -> list[tuple[str, str, float]]:
    core = [(a, b, 2.5) for a, b in combinations(CORE, 2)]
    return [
        *core,
        # two edges, 2.4 in all, into the core: a young member of the farm
        ("young", "core-0", 1.2),
        ("young", "core-1", 1.2),
        # the same two edges, but no extraction signal of its own
        ("bystander", "core-2", 1.2),
        ("bystander", "core-3", 1.2),
        # one strong edge: not enough
        ("single", "core-4", 3.0),
        # the young member's edges, but an account two years old
        ("veteran", "core-2", 1.2),
        ("veteran", "core-5", 1.2),
        # two edges weighing less than attach_weight
        ("weak", "core-0", 0.9),
        ("weak", "core-5", 0.9),
    ]


OWN = {a: 0.6 for a in CORE} | {
    "young": 0.3,
    "bystander": 0.0,
    "single": 0.4,
    "weak": 0.4,
    "veteran": 0.4,
}


def test_the_core_is_the_members_with_three_links() -> None:
    (campaign,) = build_campaigns(_db(_edges()), OWN, min_size=5)
    assert sorted(campaign.account_ids) == CORE


def test_an_account_with_edges_to_the_core_and_a_signal_of_its_own_is_attached() -> None:
    (campaign,) = build_campaigns(_db(_edges()), OWN, min_size=5, attach_links=2, attach_weight=2.0)
    assert sorted(campaign.account_ids) == sorted([*CORE, "young"])


def test_attached_accounts_leave_the_confidence_alone() -> None:
    (plain,) = build_campaigns(_db(_edges()), OWN, min_size=5)
    (attached,) = build_campaigns(_db(_edges()), OWN, min_size=5, attach_links=2, attach_weight=2.0)
    assert plain.confidence > 0
    assert attached.confidence == pytest.approx(plain.confidence)


def test_a_core_too_small_for_a_campaign_attaches_nobody() -> None:
    edges = [(a, b, 2.5) for a, b in combinations(CORE[:4], 2)]
    edges += [("young", "core-0", 1.2), ("young", "core-1", 1.2)]
    assert build_campaigns(_db(edges), OWN, min_size=5, attach_links=2, attach_weight=2.0) == []


def test_only_a_confident_core_attaches() -> None:
    (plain,) = build_campaigns(_db(_edges()), OWN, min_size=5)
    above = plain.confidence + 0.01
    (campaign,) = build_campaigns(
        _db(_edges()), OWN, min_size=5, attach_links=2, attach_weight=2.0, attach_confidence=above
    )
    assert sorted(campaign.account_ids) == CORE
    (campaign,) = build_campaigns(
        _db(_edges()),
        OWN,
        min_size=5,
        attach_links=2,
        attach_weight=2.0,
        attach_confidence=plain.confidence,
    )
    assert "young" in campaign.account_ids
