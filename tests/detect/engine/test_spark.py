"""The features on Spark: the same numbers as DuckDB, Parquet in, clear errors without Spark."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from distillguard.detect.behaviour import compute_features
from distillguard.detect.engine.spark import features_on_spark, spark_session
from distillguard.errors import ConfigurationError

from ..contract import dataset
from ..test_behaviour import assert_same_features, features_on_duckdb


@pytest.mark.spark
def test_same_features_as_duckdb_on_the_scenario(
    spark: Any, scenario_db: duckdb.DuckDBPyConnection
) -> None:
    compute_features(scenario_db)
    want = scenario_db.sql("SELECT * FROM account_features ORDER BY account_id").to_arrow_table()
    requests = scenario_db.sql("SELECT * FROM requests").to_arrow_table()
    ips = scenario_db.sql("SELECT * FROM ips").to_arrow_table()
    got = features_on_spark(requests, ips, session=spark).sort_by("account_id")
    assert got.schema.names == want.schema.names
    assert [f.type for f in got.schema if f.name != "first_seen" and f.name != "last_seen"] == [
        f.type for f in want.schema if f.name != "first_seen" and f.name != "last_seen"
    ]  # timestamps differ only in the zone's name (UTC, Etc/UTC)
    assert_same_features(got.to_pylist(), want.to_pylist())


@pytest.mark.spark
def test_reads_parquet(spark: Any, tmp_path: Path) -> None:
    requests, ips = dataset()
    (tmp_path / "requests").mkdir()
    pq.write_table(requests.slice(0, 20), tmp_path / "requests" / "part-0.parquet")
    pq.write_table(requests.slice(20), tmp_path / "requests" / "part-1.parquet")
    pq.write_table(ips, tmp_path / "ips.parquet")
    got = features_on_spark(tmp_path / "requests", tmp_path / "ips.parquet", session=spark)
    want = features_on_duckdb(requests, ips)
    assert_same_features(got.sort_by("account_id").to_pylist(), want.to_pylist())
    with pytest.raises(ConfigurationError, match="no Parquet file"):
        features_on_spark(tmp_path / "missing", ips, session=spark)


def test_an_unknown_master_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="unknown Spark master 'yarn'"):
        spark_session("yarn")


def test_without_pyspark_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(ConfigurationError, match=r"pip install 'distillguard\[spark\]'"):
        spark_session("local[1]")


def test_without_java_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigurationError, match=r"no java on PATH.*default-jre-headless"):
        spark_session("local[1]")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(ConfigurationError, match=r"JAVA_HOME=.* has no bin/java"):
        spark_session("spark://spark-master:7077")


@pytest.mark.spark
def test_uses_the_active_session_and_leaves_it_running(spark: Any) -> None:
    requests, ips = dataset()
    got = features_on_spark(requests, ips, master="local[1]")
    assert got.num_rows == 7
    assert spark.range(3).count() == 3  # still running
