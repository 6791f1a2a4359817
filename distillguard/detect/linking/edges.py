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

:func:`pair_kinds` and :func:`edges` only build Ibis expressions, so the same definitions run
on every engine Ibis compiles to: DuckDB inside ``distillguard detect`` (:func:`build_edges`),
Apache Spark beyond one machine (:mod:`distillguard.detect.engine.spark`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import duckdb
import ibis
import ibis.expr.types as ir

from distillguard.detect.config import KeyKind
from distillguard.detect.engine.sql import create_in_parts, duckdb_sql, table_schema

# What is asked, not who asks: many unrelated users send the same public prompts.
CONTENT_KINDS = ("template", "lsh", "template_sync", "system_prompt")


def pair_kinds(
    evidence: ir.Table,
    candidates: ir.Table,
    kinds: Mapping[str, KeyKind],
    *,
    min_accounts: int,
    pair_cap: int,
    neighbours: int,
    accounts: ir.Table | None = None,
    numbered: bool = False,
) -> ir.Table:
    """The ``pair_kinds`` table: per linked pair (``src`` < ``dst``) and kind, the number of
    keys they share (``shared``) and the saturated, rarity-weighted ``weight``.

    ``evidence`` is the table of :func:`~distillguard.detect.linking.evidence.evidence`,
    ``candidates`` has one column ``account_id``. Rarity counts every account in ``evidence``,
    or the ``accounts`` column of the one-row table ``accounts`` when given (for an
    ``evidence`` of some kinds only, built one kind at a time: see :func:`evidence_accounts`);
    only keys shared by ``min_accounts`` accounts or more, and by at most their kind's
    ``max_df``, link candidates. With ``numbered``, account ids are numbers given in the ring
    order (as ``account_numbers`` of :func:`~distillguard.detect.linking.evidence.build_evidence`
    gives them), which then orders the rings instead of a hash. Builds an expression and runs
    nothing.
    """
    members = _members(evidence, candidates, kinds, min_accounts, numbered)
    pairs = _all_pairs(members, pair_cap).union(_ring(members, pair_cap, neighbours))
    pairs = pairs.filter(pairs.src != pairs.dst)
    counted = evidence_accounts(evidence) if accounts is None else accounts
    n = (ibis.greatest(counted.accounts.as_scalar(), 2) + 1).cast("float64")
    found = pairs.group_by(
        src=ibis.least(pairs.src, pairs.dst), dst=ibis.greatest(pairs.src, pairs.dst), kind="kind"
    ).aggregate(shared=pairs.count(), rarity=((n / pairs.df).ln() / n.ln()).sum())
    weight = _per_kind(found.kind, {name: kind.weight for name, kind in kinds.items()})
    return found.select("src", "dst", "kind", "shared", weight=weight * (1 - (-found.rarity).exp()))


def evidence_accounts(evidence: ir.Table) -> ir.Table:
    """A one-row table: ``accounts``, the number of distinct accounts holding evidence (the
    ``N`` of rarity)."""
    return evidence.aggregate(accounts=evidence.account_id.nunique())


def edges(
    pair_kinds: ir.Table, *, min_edge_weight: float, min_mixed_weight: float | None = None
) -> ir.Table:
    """The ``edges`` table (src, dst, weight, kinds, kind_list) of the pairs linked strongly
    enough, from the table of :func:`pair_kinds`; rules as in :func:`build_edges`.
    """
    p = pair_kinds
    # the totals first, over every pair; the kind lists only for the pairs that are edges
    totals = p.group_by("src", "dst").aggregate(
        weight=p.weight.sum(), mixed=(~p.kind.isin(CONTENT_KINDS)).any()
    )
    mixed = min_edge_weight if min_mixed_weight is None else min_mixed_weight
    strong = totals.filter(
        (totals.weight >= min_edge_weight) | ((totals.weight >= mixed) & totals.mixed)
    )
    kept = p.semi_join(strong, ["src", "dst"])
    listed = kept.group_by("src", "dst").aggregate(
        kinds=kept.count(), kind_list=kept.kind.collect().sort().join(",")
    )
    linked = strong.join(listed, ["src", "dst"])
    return linked.select("src", "dst", "weight", "kinds", "kind_list")


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
    """(Re)build tables ``pair_numbers`` (every pair by kind, as in :func:`pair_kinds`, on the
    accounts' numbers: :func:`named_pairs_sql` names them), ``pair_kinds`` (the same for the
    pairs that are edges, with the accounts' ids) and ``edges`` (src, dst, weight, kinds,
    kind_list). At full scale there are some 200 million pairs by kind and a few hundred
    thousand edges, so only the edges' pairs are named.

    A pair is linked when its evidence weighs ``min_edge_weight``, or ``min_mixed_weight``
    (default: the same) when some of it is more than shared prompt content
    (:data:`CONTENT_KINDS`, which counts same-bucket prompts sent close in time as content too):
    addresses, networks, TLS fingerprints, payment instruments or sign-up traces. A young
    campaign has had little time to pile up evidence, but its members already share who they
    are, not only what they ask. Needs tables ``account_numbers`` and ``evidence_numbers`` of
    :func:`~distillguard.detect.linking.evidence.build_evidence` and ``candidates`` (one
    column ``account_id``).
    """
    # On the accounts' numbers (see build_evidence), named back at the end.
    db.execute(
        "CREATE OR REPLACE TEMP TABLE candidate_numbers AS "
        "SELECT n.number FROM candidates JOIN account_numbers n USING (account_id)"
    )
    evidence = table_schema(db, "evidence_numbers")
    db.execute(f"CREATE OR REPLACE TEMP TABLE evidence_accounts AS {_accounts_sql(evidence)}")
    # One statement per kind, so that only one kind's keys, rings and pairs are held at a time
    # (the kind is a column of every row, so the union of the parts is the whole; with no
    # kinds, one part of none: an empty table); rarity counts the accounts of every kind, once.
    parts: list[tuple[tuple[str, KeyKind], ...]] = [(item,) for item in sorted(kinds.items())]
    settings = (int(min_accounts), int(pair_cap), int(neighbours))
    queries = (_pair_kinds_sql(evidence, part, *settings) for part in parts or [()])
    create_in_parts(db, "pair_numbers", queries)
    edges_sql = _edges_sql(
        table_schema(db, "pair_numbers"),
        float(min_edge_weight),
        None if min_mixed_weight is None else float(min_mixed_weight),
    )
    db.execute(f"CREATE OR REPLACE TEMP TABLE edge_numbers AS {edges_sql}")
    linked = "(SELECT * FROM pair_numbers SEMI JOIN edge_numbers USING (src, dst))"
    db.execute(f"CREATE OR REPLACE TABLE pair_kinds AS {named_pairs_sql(linked)}")
    db.execute(f"CREATE OR REPLACE TABLE edges AS {named_pairs_sql('edge_numbers', EDGE_COLUMNS)}")
    for temporary in ("candidate_numbers", "evidence_accounts", "edge_numbers"):
        db.execute(f"DROP TABLE {temporary}")
    for stale in ("key_df", "key_members", "key_pairs"):  # steps of earlier versions' state
        db.execute(f"DROP TABLE IF EXISTS {stale}")


PAIR_COLUMNS = "kind, shared, weight"
EDGE_COLUMNS = "weight, kinds, kind_list"


def named_pairs_sql(table: str = "pair_numbers", columns: str = PAIR_COLUMNS) -> str:
    """A query naming the accounts of a table of numbered pairs (``src`` < ``dst`` by number;
    by default ``pair_numbers``, every pair by kind): ``src`` < ``dst`` again, by id."""
    return f"""
SELECT least(a.account_id, b.account_id) AS src, greatest(a.account_id, b.account_id) AS dst,
       {columns}
FROM {table} p
JOIN account_numbers a ON a.number = p.src
JOIN account_numbers b ON b.number = p.dst
"""


@functools.cache
def _pair_kinds_sql(
    evidence: ibis.Schema,
    kinds: tuple[tuple[str, KeyKind], ...],
    min_accounts: int,
    pair_cap: int,
    neighbours: int,
) -> str:
    table = ibis.table(evidence, name="evidence_numbers").rename(account_id="number")
    candidates = ibis.table({"number": "int32"}, name="candidate_numbers")
    expr = pair_kinds(
        table.filter(table.kind.isin([name for name, _ in kinds])),
        candidates.rename(account_id="number"),
        dict(kinds),
        min_accounts=min_accounts,
        pair_cap=pair_cap,
        neighbours=neighbours,
        accounts=ibis.table({"accounts": "int64"}, name="evidence_accounts"),
        numbered=True,
    )
    return duckdb_sql(expr)


@functools.cache
def _accounts_sql(evidence: ibis.Schema) -> str:
    table = ibis.table(evidence, name="evidence_numbers").rename(account_id="number")
    return duckdb_sql(evidence_accounts(table))


@functools.cache
def _edges_sql(schema: ibis.Schema, min_edge_weight: float, min_mixed_weight: float | None) -> str:
    expr = edges(
        ibis.table(schema, name="pair_numbers"),
        min_edge_weight=min_edge_weight,
        min_mixed_weight=min_mixed_weight,
    )
    return duckdb_sql(expr)


def _per_kind(kind: ir.StringValue, values: Mapping[str, float]) -> ir.NumericValue:
    """The setting of each row's kind (null for a kind without settings)."""
    if not values:
        return ibis.null("float64")
    return kind.cases(*values.items())


def _members(
    evidence: ir.Table,
    candidates: ir.Table,
    kinds: Mapping[str, KeyKind],
    min_accounts: int,
    numbered: bool,
) -> ir.Table:
    """Candidates holding a key worth linking on, with the key's ``df``, the number ``m`` of
    candidates holding it and each one's place ``pos`` (0 to m - 1) in the key's ring."""
    counted = evidence.group_by("kind", "key").aggregate(df=evidence.count())
    common = counted.filter(counted.df >= min_accounts)
    e = evidence.semi_join(candidates, "account_id").join(common, ["kind", "key"])
    max_df = _per_kind(e.kind, {name: kind.max_df for name, kind in kinds.items()})
    e = e.filter(e.kind.isin(list(kinds)), e.df <= max_df)
    key = ibis.window(group_by=[e.kind, e.key])
    # a pseudo-random order that every run of one engine repeats (the id breaks hash ties)
    order = [e.account_id] if numbered else [e.account_id.hash(), e.account_id]
    ring = ibis.window(group_by=[e.kind, e.key], order_by=order)
    return e.mutate(pos=ibis.row_number().over(ring), m=e.account_id.count().over(key))


def _all_pairs(members: ir.Table, pair_cap: int) -> ir.Table:
    small = members.filter(members.m >= 2, members.m <= pair_cap)
    a, b = small, small.view()
    joined = a.join(b, [a.kind == b.kind, a.key == b.key, a.pos < b.pos])
    return joined.select(a.kind, a.df, src=a.account_id, dst=b.account_id)


def _ring(members: ir.Table, pair_cap: int, neighbours: int) -> ir.Table:
    big = members.filter(members.m > pair_cap)
    steps = ibis.literal(list(range(1, neighbours + 1)), type="array<int64>")
    a = big.mutate(step=steps.unnest())
    b = big.view()
    joined = a.join(b, [a.kind == b.kind, a.key == b.key, b.pos == (a.pos + a.step) % a.m])
    return joined.select(
        a.kind,
        a.df,
        src=ibis.least(a.account_id, b.account_id),
        dst=ibis.greatest(a.account_id, b.account_id),
    )
