"""Pairs and edges: one contract suite for every engine, and the SQL they replaced."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from distillguard.detect.config import load_config
from distillguard.detect.linking.edges import CONTENT_KINDS, build_edges, named_pairs_sql
from distillguard.detect.linking.evidence import build_evidence
from distillguard.detect.signup import compute_signup
from distillguard.logs.reader import read_accounts
from distillguard.logs.rejects import RejectSink

from ..scenario import write_scenario
from .contract import KINDS, PAIRS, RING, SETTINGS, dataset, key_weight
from .test_evidence import store

Pairs = dict[tuple[str, str, str], dict[str, Any]]
Edges = dict[tuple[str, str], dict[str, Any]]


def links_on_duckdb(
    requests: pa.Table, ips: pa.Table, signup: pa.Table, candidates: pa.Table
) -> tuple[pa.Table, pa.Table]:
    """(pair_kinds, edges) of the contract's kinds and settings, built in a DuckDB store."""
    db = store(requests, ips, signup, candidates)
    build_evidence(db, KINDS)
    build_edges(db, KINDS, **SETTINGS)
    return (
        db.sql(named_pairs_sql()).to_arrow_table(),
        db.sql("SELECT * FROM edges").to_arrow_table(),
    )


@pytest.fixture(scope="module", params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def tables(request: pytest.FixtureRequest) -> tuple[pa.Table, pa.Table]:
    if request.param == "duckdb":
        return links_on_duckdb(*dataset())
    from distillguard.detect.engine.spark import links_on_spark

    links = links_on_spark(*dataset(), KINDS, session=request.getfixturevalue("spark"), **SETTINGS)
    return links.pair_kinds, links.edges


@pytest.fixture(scope="module")
def pairs(tables: tuple[pa.Table, pa.Table]) -> Pairs:
    return {(r["src"], r["dst"], r["kind"]): r for r in tables[0].to_pylist()}


@pytest.fixture(scope="module")
def edges(tables: tuple[pa.Table, pa.Table]) -> Edges:
    return {(r["src"], r["dst"]): r for r in tables[1].to_pylist()}


def test_columns_and_types(tables: tuple[pa.Table, pa.Table]) -> None:
    pair_kinds, edges = tables
    assert pair_kinds.schema.names == ["src", "dst", "kind", "shared", "weight"]
    assert edges.schema.names == ["src", "dst", "weight", "kinds", "kind_list"]
    assert pair_kinds.schema.field("shared").type == edges.schema.field("kinds").type == pa.int64()
    assert (
        pair_kinds.schema.field("weight").type == edges.schema.field("weight").type == pa.float64()
    )


def test_the_planned_pairs_and_no_others(pairs: Pairs) -> None:
    outside = {k: r["shared"] for k, r in pairs.items() if k[2] != "email_pattern"}
    assert outside == {k: len(df) for k, df in PAIRS.items()}
    assert all(src < dst for src, dst, _ in pairs)


def test_weights_follow_the_rarity_formula(pairs: Pairs) -> None:
    for key, df in PAIRS.items():
        assert pairs[key]["weight"] == pytest.approx(key_weight(key[2], df), rel=1e-12), key


def test_a_key_held_by_more_than_max_df_accounts_links_nobody(pairs: Pairs) -> None:
    cards = {(s, d) for s, d, kind in pairs if kind == "payment"}
    assert cards == {("pay-5", "pay-6"), ("pay-5", "pay-7"), ("pay-6", "pay-7")}


def test_only_candidates_are_linked_but_everyone_counts_for_rarity(pairs: Pairs) -> None:
    assert not [k for k in pairs if "plain" in k]
    # df 3 with "plain", not 2
    weight = pairs[("cand-a", "cand-b", "signup_burst")]["weight"]
    assert weight == pytest.approx(key_weight("signup_burst", [3]), rel=1e-12)
    assert weight < key_weight("signup_burst", [2])


def test_beyond_pair_cap_a_ring_keeps_the_group_connected(pairs: Pairs) -> None:
    ring = [(s, d) for s, d, kind in pairs if kind == "email_pattern"]
    neighbours = SETTINGS["neighbours"]
    assert len(ring) == len(set(ring)) == neighbours * len(RING)  # not all 66 pairs
    degree = Counter(a for pair in ring for a in pair)
    assert set(degree) == set(RING)  # not "ring-custom"
    assert set(degree.values()) == {2 * neighbours}
    reached, todo = {RING[0]}, [RING[0]]
    while todo:
        here = todo.pop()
        for s, d in ring:
            for a, b in ((s, d), (d, s)):
                if a == here and b not in reached:
                    reached.add(b)
                    todo.append(b)
    assert reached == set(RING)
    for s, d in ring:
        assert pairs[(s, d, "email_pattern")]["weight"] == pytest.approx(
            key_weight("email_pattern", [len(RING)]), rel=1e-12
        )


def test_an_edge_sums_its_kinds(pairs: Pairs, edges: Edges) -> None:
    for (src, dst), edge in edges.items():
        kinds = sorted(k for s, d, k in pairs if (s, d) == (src, dst))
        assert edge["kind_list"] == ",".join(kinds) and edge["kinds"] == len(kinds)
        assert edge["weight"] == pytest.approx(sum(pairs[(src, dst, k)]["weight"] for k in kinds))


def test_content_alone_needs_min_edge_weight(pairs: Pairs, edges: Edges) -> None:
    mixed, full = SETTINGS["min_mixed_weight"], SETTINGS["min_edge_weight"]
    assert {k for _, _, k in pairs if k in CONTENT_KINDS} == set(CONTENT_KINDS)
    # the same prompts only: enough for a mixed pair, not for content alone
    assert mixed <= pairs[("txt-a", "txt-b", "template")]["weight"] < full
    assert ("txt-a", "txt-b") not in edges
    # the same prompts and a TLS fingerprint with user agent: linked on the mixed rule
    assert edges[("mix-a", "mix-b")]["kind_list"] == "ja4_agent,template"
    assert mixed <= edges[("mix-a", "mix-b")]["weight"] < full
    # much shared content alone
    assert edges[("copy-a", "copy-b")]["kind_list"] == "lsh,system_prompt,template,template_sync"
    assert edges[("copy-a", "copy-b")]["weight"] >= full
    # infrastructure: one address within the hour and the network, not the network alone
    assert edges[("ip-a", "ip-b")]["kinds"] == 2
    assert ("ip-a", "ip-c") not in edges and pairs[("ip-a", "ip-c", "prefix_day")]["weight"] < mixed


def test_every_strong_enough_pair_is_an_edge(pairs: Pairs, edges: Edges) -> None:
    totals: dict[tuple[str, str], float] = {}
    mixed: set[tuple[str, str]] = set()
    for (src, dst, kind), row in pairs.items():
        totals[(src, dst)] = totals.get((src, dst), 0.0) + row["weight"]
        if kind not in CONTENT_KINDS:
            mixed.add((src, dst))
    strong = {
        pair
        for pair, weight in totals.items()
        if weight >= SETTINGS["min_edge_weight"]
        or (weight >= SETTINGS["min_mixed_weight"] and pair in mixed)
    }
    assert set(edges) == strong
    assert len(strong) == 1 + 1 + 1 + 3 + 1 + 2 * len(RING)  # ip, mix, copy, pay, cand, ring


# The hand-written DuckDB SQL that the Ibis definitions replaced, kept verbatim as a fixed
# reference (evidence for the default kinds, then the edges' steps): on a realistic store the
# new definitions must link the very same pairs with the very same weights.
REFERENCE_EVIDENCE_SQL = """
CREATE OR REPLACE TABLE evidence AS SELECT DISTINCT * FROM (
SELECT account_id, 'ip_window' AS kind, hash(client_ip, epoch_ms(ts) // 3600000) AS key FROM requests r
UNION ALL
SELECT r.account_id, 'prefix_day', hash(i.prefix, epoch_ms(r.ts) // 86400000) FROM requests r JOIN ips i USING (client_ip) WHERE i.prefix IS NOT NULL
UNION ALL
SELECT account_id, 'ja4_agent', hash(tls_ja4, user_agent) FROM requests r WHERE tls_ja4 IS NOT NULL AND user_agent IS NOT NULL
UNION ALL
SELECT account_id, 'template', hash(template) FROM requests r WHERE template <> 0
UNION ALL
SELECT account_id, 'lsh', hash(lsh_0) FROM requests r WHERE lsh_0 <> 0 UNION ALL SELECT account_id, 'lsh', hash(lsh_1) FROM requests r WHERE lsh_1 <> 0
UNION ALL
SELECT account_id, 'template_sync', hash(lsh_0, epoch_ms(ts) // 1800000) FROM requests r WHERE lsh_0 <> 0
UNION ALL
SELECT account_id, 'system_prompt', hash(system_hash) FROM requests r WHERE system_hash <> 0
UNION ALL
SELECT account_id, 'payment', hash(payment_fingerprint) FROM account_signup WHERE payment_fingerprint IS NOT NULL
UNION ALL
SELECT account_id, 'email_pattern', hash(email_pattern) FROM account_signup WHERE email_pattern IS NOT NULL AND email_kind <> 'custom'
UNION ALL
SELECT account_id, 'signup_burst', hash(created_hour) FROM account_signup WHERE burst_ratio >= 3
UNION ALL
SELECT account_id, 'signup_network', hash(signup_prefix) FROM account_signup WHERE signup_prefix IS NOT NULL
) e(account_id, kind, key)
"""
REFERENCE_EDGES_SQL = """
CREATE OR REPLACE TABLE key_df AS
SELECT kind, key, count(*) AS df FROM evidence GROUP BY ALL HAVING count(*) >= {min_accounts};

CREATE OR REPLACE TABLE key_members AS
SELECT e.kind, e.key, e.account_id, d.df,
       row_number() OVER (PARTITION BY e.kind, e.key ORDER BY hash(e.account_id)) AS pos,
       count(*) OVER (PARTITION BY e.kind, e.key) AS m
FROM evidence e
JOIN key_df d USING (kind, key)
JOIN kind_limits l USING (kind)
JOIN candidates c USING (account_id)
WHERE d.df <= l.max_df;

CREATE OR REPLACE TABLE key_pairs AS
SELECT a.kind, a.key, a.df, a.account_id AS src, b.account_id AS dst
FROM key_members a JOIN key_members b
  ON a.kind = b.kind AND a.key = b.key AND a.pos < b.pos
WHERE a.m <= {pair_cap} AND a.m >= 2
UNION ALL
SELECT a.kind, a.key, a.df,
       least(a.account_id, b.account_id), greatest(a.account_id, b.account_id)
FROM key_members a
CROSS JOIN range(1, {neighbours} + 1) j(step)
JOIN key_members b
  ON a.kind = b.kind AND a.key = b.key AND b.pos = ((a.pos - 1 + j.step) % a.m) + 1
WHERE a.m > {pair_cap};

CREATE OR REPLACE TABLE pair_kinds AS
SELECT least(p.src, p.dst) AS src, greatest(p.src, p.dst) AS dst, p.kind,
       count(*) AS shared,
       any_value(l.weight) * (1 - exp(-sum(ln({n} / p.df) / ln({n})))) AS weight
FROM key_pairs p JOIN kind_limits l USING (kind)
WHERE p.src <> p.dst
GROUP BY 1, 2, 3;

CREATE OR REPLACE TABLE edges AS
SELECT src, dst, sum(weight) AS weight, count(*) AS kinds,
       string_agg(kind, ',' ORDER BY kind) AS kind_list
FROM pair_kinds GROUP BY src, dst
HAVING sum(weight) >= {min_edge_weight}
    OR (sum(weight) >= {min_mixed_weight} AND bool_or(kind NOT IN ({content_kinds})));
"""


def _reference(db: duckdb.DuckDBPyConnection, settings: dict[str, Any]) -> None:
    kinds = load_config().key_kinds()
    db.execute(REFERENCE_EVIDENCE_SQL)
    row = db.execute("SELECT count(DISTINCT account_id) FROM evidence").fetchone()
    n = max(int(row[0]) if row else 0, 2) + 1
    db.execute(
        "CREATE OR REPLACE TEMP TABLE kind_limits (kind VARCHAR, weight DOUBLE, max_df BIGINT)"
    )
    db.executemany(
        "INSERT INTO kind_limits VALUES (?, ?, ?)",
        [(name, kind.weight, kind.max_df) for name, kind in kinds.items()],
    )
    content = ", ".join(f"'{k}'" for k in CONTENT_KINDS)
    db.execute(REFERENCE_EDGES_SQL.format(n=float(n), content_kinds=content, **settings))


def test_same_links_as_the_sql_it_replaced(
    scenario_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    db = scenario_db
    write_scenario(tmp_path)
    db.register("incoming", read_accounts(tmp_path / "accounts.jsonl", RejectSink(None)))
    db.execute("CREATE OR REPLACE TABLE accounts AS SELECT * FROM incoming")
    db.unregister("incoming")
    compute_signup(db)
    db.execute("CREATE OR REPLACE TABLE candidates AS SELECT DISTINCT account_id FROM requests")
    link = load_config().linking
    settings = {
        "min_accounts": int(link["min_accounts"]),
        "pair_cap": int(link["pair_cap"]),
        "neighbours": int(link["neighbours"]),
        "min_edge_weight": 0.5,
        "min_mixed_weight": 0.3,
    }
    _reference(db, settings)
    for table in ("evidence", "pair_kinds", "edges"):
        db.execute(f"CREATE OR REPLACE TEMP TABLE reference_{table} AS FROM {table}")
    build_evidence(db, load_config().key_kinds())
    build_edges(db, load_config().key_kinds(), **settings)

    def groups(table: str) -> set[tuple[str, tuple[str, ...]]]:
        # keys are hashes: compare which accounts share one, not the numbers
        rows = db.execute(
            f"SELECT kind, list(account_id ORDER BY account_id) FROM {table} GROUP BY kind, key"
        ).fetchall()
        return {(kind, tuple(accounts)) for kind, accounts in rows}

    assert groups("evidence") == groups("reference_evidence")
    # a ring: some keys have more candidates than pair_cap
    assert max(len(a) for k, a in groups("evidence") if k == "ja4_agent") > settings["pair_cap"]
    tables = {"pair_kinds": named_pairs_sql(), "edges": "SELECT * FROM edges"}
    for table, key in (("pair_kinds", "src, dst, kind"), ("edges", "src, dst")):
        got = db.sql(f"FROM ({tables[table]}) ORDER BY {key}").to_arrow_table().to_pylist()
        want = (
            db.sql(f"SELECT * FROM reference_{table} ORDER BY {key}").to_arrow_table().to_pylist()
        )
        assert len(got) == len(want) > 100
        for new, old in zip(got, want, strict=True):
            assert new == {**old, "weight": pytest.approx(old["weight"], rel=1e-12)}
    # the stored pair_kinds are the edges' pairs only, by kind
    stored = db.sql("FROM pair_kinds ORDER BY src, dst, kind").to_arrow_table().to_pylist()
    linked = db.sql(
        f"FROM ({named_pairs_sql()}) SEMI JOIN edges USING (src, dst) ORDER BY src, dst, kind"
    )
    assert stored == linked.to_arrow_table().to_pylist()
    assert len(stored) < db.sql(f"SELECT count(*) FROM ({named_pairs_sql()})").fetchall()[0][0]
    assert not db.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'key_%'"
    ).fetchall()  # the old steps' tables are gone
