"""Evidence keys: what two accounts can share, each as ``(account_id, kind, key)``.

Kinds (stable names, weighted in ``defaults.toml``):

- ``ip_window``: the same client address within a time window (SynchroTrap's ⟨U, T, C⟩ with C
  an address);
- ``prefix_day``: the same /24 or /48 network on the same day;
- ``ja4_agent``: the same TLS fingerprint with the same user agent;
- ``template`` / ``lsh``: the same masked-prompt fingerprint, or the same MinHash LSH bucket
  (near-duplicate prompts, paraphrases);
- ``template_sync``: the same LSH bucket within a short window (loosely synchronised activity);
- ``system_prompt``: the same system prompt;
- ``payment``, ``email_pattern``, ``signup_burst``, ``signup_network``: sign-up traces.

Keys are 64-bit hashes computed by the engine; only equal keys matter downstream (rarity), so
no key text is kept and keys of different engines need not agree.

:func:`evidence` only builds an Ibis expression over three tables (``requests`` with the
columns of :data:`distillguard.detect.store.KEPT`, ``ips``, ``account_signup``), so the same
definitions run on every engine Ibis compiles to: DuckDB inside ``distillguard detect``
(:func:`build_evidence`), Apache Spark beyond one machine (:mod:`distillguard.detect.engine.spark`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import duckdb
import ibis
import ibis.expr.types as ir

from distillguard.detect.config import KeyKind
from distillguard.detect.engine.sql import create_in_parts, duckdb_sql, table_schema


def evidence(
    requests: ir.Table, ips: ir.Table, signup: ir.Table, kinds: Mapping[str, KeyKind]
) -> ir.Table:
    """The ``evidence`` table: distinct (account_id, kind, key) for the kinds with a weight.

    ``signup`` is the ``account_signup`` table (:mod:`distillguard.detect.signup`). Builds an
    expression and runs nothing. Example, on Ibis's default backend with Arrow tables::

        keys = evidence(*map(ibis.memtable, (requests, ips, signup)), kinds).to_pyarrow()
    """
    return ibis.union(*evidence_by_kind(requests, ips, signup, kinds).values())


def evidence_by_kind(
    requests: ir.Table, ips: ir.Table, signup: ir.Table, kinds: Mapping[str, KeyKind]
) -> dict[str, ir.Table]:
    """The rows of :func:`evidence`, one distinct table per kind (their union is the whole,
    since the kind is a column): an engine short of memory can build them one at a time."""
    enabled = {name for name, kind in kinds.items() if kind.weight > 0}
    r, s = requests, signup
    parts: dict[str, list[ir.Table]] = {}

    def add(name: str, table: ir.Table, where: ir.BooleanValue, *values: ir.Value) -> None:
        if name not in enabled:
            return
        key = values[0].hash() if len(values) == 1 else _struct(*values).hash()
        parts.setdefault(name, []).append(
            table.filter(where).select(
                account_id=table.account_id, kind=ibis.literal(name), key=key
            )
        )

    if "ip_window" in enabled:
        add("ip_window", r, ibis.literal(True), r.client_ip, _window(r.ts, kinds["ip_window"]))
    if "prefix_day" in enabled:
        # an inner join: addresses without a network (none known) share no prefix
        p = r.join(ips.select("client_ip", "prefix"), "client_ip")
        add("prefix_day", p, p.prefix.notnull(), p.prefix, _window(p.ts, kinds["prefix_day"]))
    add("ja4_agent", r, r.tls_ja4.notnull() & r.user_agent.notnull(), r.tls_ja4, r.user_agent)
    add("template", r, r.template != 0, r.template)
    add("lsh", r, r.lsh_0 != 0, r.lsh_0)
    add("lsh", r, r.lsh_1 != 0, r.lsh_1)
    if "template_sync" in enabled:
        add("template_sync", r, r.lsh_0 != 0, r.lsh_0, _window(r.ts, kinds["template_sync"]))
    add("system_prompt", r, r.system_hash != 0, r.system_hash)
    add("payment", s, s.payment_fingerprint.notnull(), s.payment_fingerprint)
    add(
        "email_pattern",
        s,
        s.email_pattern.notnull() & (s.email_kind != "custom"),
        s.email_pattern,
    )
    add("signup_burst", s, s.burst_ratio >= 3, s.created_hour)
    add("signup_network", s, s.signup_prefix.notnull(), s.signup_prefix)
    if not parts:  # no kind has a weight: an empty table of the same shape
        parts[""] = [
            r.filter(ibis.literal(False)).select(
                account_id=r.account_id, kind=ibis.literal(""), key=r.account_id.hash()
            )
        ]
    return {name: ibis.union(*tables).distinct() for name, tables in parts.items()}


# Every account holding evidence gets a number, in the order of the linking rings (the hash of
# its id, the id breaking ties), so that the steps after this one join, sort and group small
# integers instead of 25-character ids: at full scale that is what keeps them in memory.
NUMBER_ACCOUNTS = """
CREATE OR REPLACE TABLE account_numbers AS
SELECT account_id, (row_number() OVER (ORDER BY hash(account_id), account_id))::INTEGER AS number
FROM (SELECT account_id FROM requests UNION SELECT account_id FROM account_signup)
"""

EVIDENCE_VIEW = """
CREATE VIEW evidence AS
SELECT n.account_id, e.kind, e.key FROM evidence_numbers e JOIN account_numbers n USING (number)
"""


def build_evidence(db: duckdb.DuckDBPyConnection, kinds: dict[str, KeyKind]) -> None:
    """(Re)build tables ``account_numbers`` (account_id, number) and ``evidence_numbers``
    (number, kind, key), and view ``evidence`` (account_id, kind, key) over the two; needs
    ``requests``, ``ips`` and ``account_signup``.

    One DuckDB statement per kind over the connection's own tables, so that only one kind's
    distinct keys are held at a time: at full scale the whole union at once needed more than
    8 GB.
    """
    schemas = (table_schema(db, t) for t in ("requests", "ips", "account_signup"))
    statements = _duckdb_sql(*schemas, tuple(sorted(kinds.items())))
    _drop(db, "evidence")
    db.execute(NUMBER_ACCOUNTS)
    numbered = (
        "SELECT n.number, e.kind, e.key FROM ({}) e JOIN account_numbers n USING (account_id)"
    )
    create_in_parts(db, "evidence_numbers", (numbered.format(sql) for sql in statements))
    db.execute(EVIDENCE_VIEW)


def _drop(db: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop table or view ``name`` if there is one (earlier versions kept a table)."""
    row = db.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchone()
    if row is not None:
        db.execute(f"DROP {'VIEW' if row[0] == 'VIEW' else 'TABLE'} {name}")


@functools.cache
def _duckdb_sql(
    requests: ibis.Schema,
    ips: ibis.Schema,
    signup: ibis.Schema,
    kinds: tuple[tuple[str, KeyKind], ...],
) -> tuple[str, ...]:
    tables = (
        ibis.table(requests, name="requests"),
        ibis.table(ips, name="ips"),
        ibis.table(signup, name="account_signup"),
    )
    return tuple(duckdb_sql(part) for part in evidence_by_kind(*tables, dict(kinds)).values())


def _window(ts: ir.TimestampValue, kind: KeyKind) -> ir.IntegerValue:
    """The number of the kind's time window (``window_minutes`` long, at least one) holding
    ``ts``."""
    return ts.epoch_seconds() // (max(kind.window_minutes, 1) * 60)


def _struct(*values: ir.Value) -> ir.StructValue:
    return ibis.struct({f"v{i}": value for i, value in enumerate(values)})
