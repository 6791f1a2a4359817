from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from distillguard.detect.store import Store
from distillguard.logs.rejects import RejectSink

from .scenario import write_scenario


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One small local Spark session for the whole test run (JVM start-up takes seconds)."""
    from distillguard.detect.engine.spark import spark_session

    session = spark_session(
        "local[1]",
        memory="512m",
        config={"spark.sql.shuffle.partitions": "1", "spark.default.parallelism": "1"},
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def scenario_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """A detection store of the hand-made scenario, in memory (tables requests and ips).

    The addresses get network kinds and ASNs, and the campaign and some hobbyists move to a
    model first seen on day 6, so that every per-account feature has something to measure.
    """
    folder = tmp_path_factory.mktemp("scenario-store")
    write_scenario(folder)
    store = Store()
    store.ingest(folder / "requests", RejectSink(None))
    store.db.execute(
        "UPDATE ips SET asn = 64500 + hash(client_ip) % 7, kind = "
        "['residential', 'hosting', 'vpn', 'mobile', NULL][1 + CAST(hash(client_ip) % 5 AS INT)]"
    )
    store.db.execute(
        "UPDATE requests SET model = 'model-b' WHERE ts >= TIMESTAMPTZ '2026-04-07 00:00:00+00' "
        "AND (account_id LIKE 'acct-c%' OR (account_id LIKE 'acct-h%' AND hash(ts) % 3 = 0))"
    )
    yield store.db
    store.close()
