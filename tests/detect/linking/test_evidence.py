"""Evidence keys in the DuckDB store: which rows each kind makes (the pairs they link, on every
engine, are checked by the contract suite in test_edges.py)."""

from __future__ import annotations

from collections import Counter

import duckdb
import pyarrow as pa
import pytest

from distillguard.detect.config import KeyKind
from distillguard.detect.linking.evidence import build_evidence

from .contract import KINDS, dataset


def store(
    requests: pa.Table, ips: pa.Table, signup: pa.Table, candidates: pa.Table
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection holding the linking step's input tables."""
    db = duckdb.connect()
    inputs = {"requests": requests, "ips": ips, "account_signup": signup, "candidates": candidates}
    for name, table in inputs.items():
        db.register("incoming", table)
        db.execute(f"CREATE TABLE {name} AS SELECT * FROM incoming")
        db.unregister("incoming")
    return db


@pytest.fixture(scope="module")
def db() -> duckdb.DuckDBPyConnection:
    db = store(*dataset())
    build_evidence(db, KINDS)
    return db


def _rows(db: duckdb.DuckDBPyConnection, where: str = "TRUE") -> Counter[tuple[str, str]]:
    found = db.execute(f"SELECT account_id, kind FROM evidence WHERE {where}").fetchall()
    return Counter((str(account), str(kind)) for account, kind in found)


def test_one_row_per_distinct_key(db: duckdb.DuckDBPyConnection) -> None:
    assert [c[0] for c in db.execute("DESCRIBE evidence").fetchall()] == [
        "account_id",
        "kind",
        "key",
    ]
    row = db.execute(
        "SELECT count(*), count(DISTINCT (account_id, kind, key)) FROM evidence"
    ).fetchone()
    assert row is not None and row[0] == row[1]
    rows = _rows(db)
    assert rows[("txt-a", "template")] == 2  # two templates, each sent twice
    assert rows[("copy-a", "template")] == 3
    assert rows[("copy-a", "lsh")] == 2  # both bands
    assert rows[("copy-a", "template_sync")] == rows[("copy-a", "system_prompt")] == 1
    assert rows[("ip-a", "ip_window")] == rows[("ip-a", "prefix_day")] == 1


def test_missing_traces_make_no_keys(db: duckdb.DuckDBPyConnection) -> None:
    rows = _rows(db)
    assert ("mix-c", "ja4_agent") not in rows  # a fingerprint without a user agent
    assert ("ring-custom", "email_pattern") not in rows  # a custom domain's pattern
    assert ("slow", "signup_burst") not in rows  # no burst
    assert ("txt-a", "prefix_day") not in rows  # an address of no known network
    assert not _rows(db, "kind = 'signup_network'")  # a kind without weight
    assert ("ring-01", "email_pattern") in rows and ("plain", "signup_burst") in rows


def test_windows_split_keys(db: duckdb.DuckDBPyConnection) -> None:
    shared = db.execute(
        "SELECT kind, list(account_id ORDER BY account_id) FROM evidence "
        "WHERE account_id LIKE 'ip-%' GROUP BY kind, key HAVING count(*) > 1 ORDER BY kind"
    ).fetchall()
    # the same address an hour apart is another key; the same /24 a day later too
    assert shared == [("ip_window", ["ip-a", "ip-b"]), ("prefix_day", ["ip-a", "ip-b", "ip-c"])]


def test_without_weighted_kinds_the_table_is_empty() -> None:
    db = store(*dataset())
    build_evidence(db, {"payment": KeyKind(0.0, 50, 0)})
    assert db.execute("SELECT count(*) FROM evidence").fetchone() == (0,)
    assert [c[0] for c in db.execute("DESCRIBE evidence").fetchall()] == [
        "account_id",
        "kind",
        "key",
    ]
