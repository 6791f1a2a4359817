"""Weighted account-to-account edges from shared evidence keys, weighted by rarity.

A key shared by ``df`` accounts out of ``N`` carries ``weight(kind) * ln(N / df) / ln(N)``:
an address or prompt that many unrelated accounts share (a CGNAT egress, a university NAT, a
public benchmark item) says little about any pair of them, and keys shared by more than the
kind's ``max_df`` accounts are dropped altogether. Per pair and kind the key weights add up and
saturate (``1 - exp(-sum)``), so no single kind can make an edge on sheer repetition; the pair's
edge weight is the sum over kinds.

Only *candidate* accounts (own score at least ``candidate_score``) are linked, so a crowd of
ordinary users behind one address never becomes a component. Keys shared by at most
``pair_cap`` candidates link every pair; larger ones link each account to its ``neighbours``
next members in a fixed pseudo-random order (a ring), which keeps the graph linear in size
while a campaign sharing the key stays connected.
"""

from __future__ import annotations

import duckdb

from distillguard.detect.config import KeyKind

EDGES_SQL = """
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
# What is asked, not who asks: many unrelated users send the same public prompts.
CONTENT_KINDS = ("template", "lsh", "template_sync", "system_prompt")


def build_edges(
    db: duckdb.DuckDBPyConnection,
    kinds: dict[str, KeyKind],
    *,
    min_accounts: int,
    pair_cap: int,
    neighbours: int,
    min_edge_weight: float,
    min_mixed_weight: float | None = None,
) -> None:
    """(Re)build table ``edges`` (src, dst, weight, kinds, kind_list).

    A pair is linked when its evidence weighs ``min_edge_weight``, or ``min_mixed_weight``
    (default: the same) when some of it is more than shared prompt content
    (:data:`CONTENT_KINDS`, which counts same-bucket prompts sent close in time as content too):
    addresses, networks, TLS fingerprints, payment instruments or sign-up traces. A young
    campaign has had little time to pile up evidence, but its members already share who they
    are, not only what they ask. Needs tables ``evidence`` and ``candidates`` (one column
    ``account_id``).
    """
    row = db.execute("SELECT count(DISTINCT account_id) FROM evidence").fetchone()
    n = max(int(row[0]) if row else 0, 2) + 1
    limits = [(name, kind.weight, kind.max_df) for name, kind in kinds.items()]
    db.execute(
        "CREATE OR REPLACE TEMP TABLE kind_limits (kind VARCHAR, weight DOUBLE, max_df BIGINT)"
    )
    db.executemany("INSERT INTO kind_limits VALUES (?, ?, ?)", limits)
    db.execute(
        EDGES_SQL.format(
            min_accounts=int(min_accounts),
            pair_cap=int(pair_cap),
            neighbours=int(neighbours),
            min_edge_weight=float(min_edge_weight),
            min_mixed_weight=float(
                min_edge_weight if min_mixed_weight is None else min_mixed_weight
            ),
            content_kinds=", ".join(f"'{k}'" for k in CONTENT_KINDS),
            n=float(n),
        )
    )
