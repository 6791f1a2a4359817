"""The per-account features and the account graph on Apache Spark, beyond one machine.

The same Ibis definitions as the embedded DuckDB run (:mod:`distillguard.detect.behaviour`,
:mod:`distillguard.detect.linking.evidence`, :mod:`distillguard.detect.linking.edges`),
compiled to Spark SQL and run by a PySpark session: in-process ``local[N]`` by default, or a
cluster's ``spark://host:port`` master. Inputs are Parquet files or folders (for instance the
detection store's tables written with DuckDB's ``COPY requests TO 'requests' (FORMAT parquet)``)
or Arrow tables; results come back as Arrow tables with the columns and types of
``account_features``, ``pair_kinds`` and ``edges``. Evidence keys are Spark's 64-bit
``xxhash64`` (its ``hash`` has 32 bits: too many chance collisions among millions of keys).

Needs the optional extra (``pip install 'distillguard[spark]'``) and a Java runtime 17 or newer;
either missing is a :class:`~distillguard.errors.ConfigurationError` that says what to install.

Example::

    from distillguard.detect.config import load_config
    from distillguard.detect.engine.spark import features_on_spark, links_on_spark

    table = features_on_spark("export/requests", "export/ips", master="local[4]")
    links = links_on_spark(
        "export/requests", "export/ips", "export/account_signup", "export/candidates",
        load_config().key_kinds(), min_accounts=2, pair_cap=40, neighbours=4,
        min_edge_weight=2.0, master="local[4]",
    )
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TypeAlias

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from distillguard.detect.behaviour import account_features
from distillguard.detect.config import KeyKind
from distillguard.detect.engine.sql import is_hash, nodes
from distillguard.detect.linking.edges import edges, pair_kinds
from distillguard.detect.linking.evidence import evidence
from distillguard.errors import ConfigurationError

if TYPE_CHECKING:
    from ibis.backends.pyspark import Backend
    from pyspark.sql import DataFrame, SparkSession

Source: TypeAlias = pa.Table | str | Path  # an Arrow table, or a Parquet file or folder

_MASTER = re.compile(r"local(\[(\d+|\*)\])?|spark://[\w.-]+(:\d+)?(,[\w.-]+(:\d+)?)*")
_INSTALL = "pip install 'distillguard[spark]'"


def spark_session(
    master: str = "local[*]",
    *,
    memory: str = "2g",
    config: Mapping[str, str] | None = None,
) -> SparkSession:
    """A Spark session for the features (the process's active one if there is one).

    ``master`` is ``local``, ``local[N]``, ``local[*]`` or ``spark://host:port``; ``memory`` is
    the driver's heap. Sessions run in UTC (the features' hours and days are UTC ones), without
    web UI or console progress bars; ``config`` adds or overrides Spark settings.
    """
    if not _MASTER.fullmatch(master):
        raise ConfigurationError(
            f"unknown Spark master {master!r}: use local, local[N], local[*] or spark://host:port"
        )
    builder = (
        _session_class()
        .builder.master(master)
        .appName("distillguard-detect")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", memory)
        .config("spark.sql.session.timeZone", "UTC")
    )
    if master.startswith("local"):
        # executors live in this process: no need to listen beyond loopback
        builder = builder.config("spark.driver.host", "127.0.0.1").config(
            "spark.driver.bindAddress", "127.0.0.1"
        )
    for key, value in (config or {}).items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:  # pyspark raises its own runtime errors when the JVM fails
        raise ConfigurationError(f"cannot start Spark with master {master}: {exc}") from exc


def features_on_spark(
    requests: Source,
    ips: Source,
    *,
    session: SparkSession | None = None,
    master: str = "local[*]",
) -> pa.Table:
    """``account_features`` of ``requests`` and ``ips`` computed by Spark, as an Arrow table.

    ``requests`` has the columns of :data:`distillguard.detect.store.KEPT` (at least those the
    features read), ``ips`` has ``client_ip``, ``prefix``, ``asn`` and ``kind``. Without a
    ``session``, the active one is used or one is started on ``master`` (:func:`spark_session`)
    and stopped afterwards. Ibis sets the session's time zone to UTC.
    """
    own = session is None and _session_class().getActiveSession() is None
    spark = session if session is not None else spark_session(master)
    names = {"requests": f"dg_requests_{uuid.uuid4().hex}", "ips": f"dg_ips_{uuid.uuid4().hex}"}
    try:
        _frame(spark, requests).createOrReplaceTempView(names["requests"])
        _frame(spark, ips).createOrReplaceTempView(names["ips"])
        con = ibis.pyspark.connect(spark)
        expr = account_features(con.table(names["requests"]), con.table(names["ips"]))
        result = spark.sql(str(con.compile(expr))).toArrow()
        return result.cast(_utc(expr.schema().to_pyarrow()))
    finally:
        for name in names.values():
            spark.catalog.dropTempView(name)
        if own:
            spark.stop()


class Links(NamedTuple):
    """The account graph computed by :func:`links_on_spark`."""

    pair_kinds: pa.Table
    edges: pa.Table


def links_on_spark(
    requests: Source,
    ips: Source,
    signup: Source,
    candidates: Source,
    kinds: Mapping[str, KeyKind],
    *,
    min_accounts: int,
    pair_cap: int,
    neighbours: int,
    min_edge_weight: float,
    min_mixed_weight: float | None = None,
    session: SparkSession | None = None,
    master: str = "local[*]",
) -> Links:
    """``pair_kinds`` and ``edges`` of the accounts' shared evidence computed by Spark.

    The same step as :func:`~distillguard.detect.linking.evidence.build_evidence` followed by
    :func:`~distillguard.detect.linking.edges.build_edges`, with the same settings. ``signup``
    is the ``account_signup`` table, ``candidates`` has one column ``account_id``. Evidence
    and ``pair_kinds`` are cached in the session while the step runs. Sessions as in
    :func:`features_on_spark`.
    """
    own = session is None and _session_class().getActiveSession() is None
    spark = session if session is not None else spark_session(master)
    inputs = {"requests": requests, "ips": ips, "signup": signup, "candidates": candidates}
    try:
        con = ibis.pyspark.connect(spark)
        with _views(spark, con, inputs) as tables:
            keys = evidence(tables["requests"], tables["ips"], tables["signup"], kinds)
            with _cached(spark, con, keys) as cached_keys:
                pairs = pair_kinds(
                    cached_keys,
                    tables["candidates"],
                    kinds,
                    min_accounts=min_accounts,
                    pair_cap=pair_cap,
                    neighbours=neighbours,
                )
                with _cached(spark, con, pairs) as cached_pairs:
                    linked = edges(
                        cached_pairs,
                        min_edge_weight=min_edge_weight,
                        min_mixed_weight=min_mixed_weight,
                    )
                    return Links(_arrow(spark, con, cached_pairs), _arrow(spark, con, linked))
    finally:
        if own:
            spark.stop()


@contextmanager
def _views(
    spark: SparkSession, con: Backend, sources: Mapping[str, Source]
) -> Iterator[dict[str, ir.Table]]:
    """Ibis tables over temporary views of ``sources``, dropped afterwards."""
    names = {key: f"dg_{key}_{uuid.uuid4().hex}" for key in sources}
    try:
        for key, source in sources.items():
            _frame(spark, source).createOrReplaceTempView(names[key])
        yield {key: con.table(name) for key, name in names.items()}
    finally:
        for name in names.values():
            spark.catalog.dropTempView(name)


@contextmanager
def _cached(spark: SparkSession, con: Backend, expr: ir.Table) -> Iterator[ir.Table]:
    """``expr`` computed once and kept in the session (a step that later ones read twice)."""
    name = f"dg_step_{uuid.uuid4().hex}"
    frame = spark.sql(_spark_sql(con, expr)).cache()
    frame.createOrReplaceTempView(name)
    try:
        yield con.table(name)
    finally:
        spark.catalog.dropTempView(name)
        frame.unpersist()


def _spark_sql(con: Backend, expr: ir.Table) -> str:
    """``expr`` as Spark SQL, with 64-bit ``xxhash64`` for Ibis's hashes."""
    tree = con.compiler.to_sqlglot(expr)
    for node in nodes(tree):
        if is_hash(node):
            node.set("this", "xxhash64")
    return str(tree.sql(dialect=con.dialect))


def _arrow(spark: SparkSession, con: Backend, expr: ir.Table) -> pa.Table:
    return spark.sql(_spark_sql(con, expr)).toArrow().cast(expr.schema().to_pyarrow())


def _session_class() -> type[SparkSession]:
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ConfigurationError(f"the Spark engine needs pyspark: {_INSTALL}") from exc
    _check_java()
    return SparkSession


def _frame(spark: SparkSession, source: Source) -> DataFrame:
    if isinstance(source, pa.Table):
        return spark.createDataFrame(source)
    path = Path(source)
    if not path.exists():
        raise ConfigurationError(f"no Parquet file or folder at {path}")
    return spark.read.parquet(str(path))


def _utc(schema: pa.Schema) -> pa.Schema:
    """``schema`` with Spark's timestamps (instants, shown in the UTC session) marked as UTC."""
    return pa.schema(
        field.with_type(pa.timestamp("us", tz="UTC"))
        if pa.types.is_timestamp(field.type)
        else field
        for field in schema
    )


def _check_java() -> None:
    home = os.environ.get("JAVA_HOME")
    java = Path(home, "bin", "java") if home else shutil.which("java")
    if java is None or not Path(java).exists():
        where = f"JAVA_HOME={home} has no bin/java" if home else "no java on PATH"
        raise ConfigurationError(
            f"the Spark engine needs a Java runtime 17 or newer ({where}): install one "
            "(Debian: apt-get install default-jre-headless) or set JAVA_HOME"
        )
