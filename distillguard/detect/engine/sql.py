"""Ibis expressions compiled to DuckDB SQL over a connection's own tables, and the tree walking
that the DuckDB and Spark runners share."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import duckdb
import ibis
import ibis.expr.types as ir
import sqlglot.expressions as sge
from ibis.backends.sql.compilers.duckdb import compiler


def table_schema(db: duckdb.DuckDBPyConnection, table: str) -> ibis.Schema:
    """The Ibis schema of DuckDB table ``table``."""
    # execute(), not sql(): a caller may have left a result unfetched on the connection
    described = db.execute(f"DESCRIBE {table}").fetchall()
    types = compiler.type_mapper
    return ibis.schema(
        {row[0]: types.from_string(row[1], nullable=row[2] == "YES") for row in described}
    )


def create_in_parts(db: duckdb.DuckDBPyConnection, table: str, queries: Iterable[str]) -> None:
    """(Re)create ``table`` as the union of ``queries`` (at least one), run one at a time, so
    that only one part's intermediate state is held in memory at once."""
    for number, query in enumerate(queries):
        if number == 0:
            db.execute(f"CREATE OR REPLACE TABLE {table} AS {query}")
        else:
            db.execute(f"INSERT INTO {table} {query}")


def duckdb_sql(expr: ir.Table) -> str:
    """``expr`` as one DuckDB query, as fast as hand-written SQL.

    Two rewrites of Ibis's output: a hash is DuckDB's own ``hash()`` (UBIGINT), not
    reinterpreted as a signed BIGINT through a BIT string (the same equalities, and an order
    that is a rotation of the signed one: the same rings); and the epoch of a ``TIMESTAMP WITH
    TIME ZONE`` is the instant's own, not that of its cast to a local ``TIMESTAMP``, which goes
    through ICU calendars (the same seconds in the store's UTC session, three times as fast).
    """
    tree = compiler.to_sqlglot(expr)
    for node in list(nodes(tree)):
        if _is_reinterpreted_hash(node):
            node.replace(node.this.this)
        elif isinstance(node, sge.TimeToUnix) and _is_cast(node.this, sge.DType.TIMESTAMP):
            node.set("this", node.this.this)
    return str(tree.sql(dialect=compiler.dialect))


def nodes(tree: sge.Expression) -> Iterator[sge.Expression]:
    """Every node of ``tree``, window clauses included (Ibis builds their parts as tuples,
    which sqlglot's own walk skips)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for value in node.args.values():
            for child in value if isinstance(value, (list, tuple)) else (value,):
                if isinstance(child, sge.Expression):
                    stack.append(child)


def _is_reinterpreted_hash(node: sge.Expression) -> bool:
    """``CAST(CAST(hash(...) AS BIT) AS BIGINT)``"""
    return (
        _is_cast(node, sge.DType.BIGINT)
        and _is_cast(node.this, sge.DType.BIT)
        and is_hash(node.this.this)
    )


def _is_cast(node: sge.Expression, to: sge.DType) -> bool:
    return isinstance(node, sge.Cast) and node.to.this == to


def is_hash(node: sge.Expression) -> bool:
    """Whether ``node`` calls the engine's ``hash`` function (as Ibis compiles ``.hash()``)."""
    return isinstance(node, sge.Anonymous) and str(node.this).lower() == "hash"
