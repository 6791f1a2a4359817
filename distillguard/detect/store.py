"""Detection state in DuckDB: featurised requests, processed segments, accounts, addresses.

Ingest is the expensive step (decoding, validating and featurising every request in Python);
everything after it is SQL over the stored columns. The store remembers which log segments it
has ingested (path, size, modification time), so an incremental run (``detect --since``) reads
and featurises only new segments: its cost follows the new hour, while the SQL over the kept
columns stays vectorised and cheap.

Tables: ``requests`` (one row per valid request, content reduced to features), ``segments``,
``accounts`` (replaced on each run), ``ips`` (one row per distinct client address).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from distillguard.detect.enrich.network import AsnDatabase, prefix_of
from distillguard.detect.features.featurize import BatchFeaturizer
from distillguard.errors import StorageError
from distillguard.logs.files import discover
from distillguard.logs.reader import request_batches
from distillguard.logs.rejects import RejectSink

# Columns of the featurised batch that are kept (request ids, latencies and sources are not
# needed for detection and would only cost memory).
KEPT = (
    "ts", "account_id", "org_id", "api_key_id", "client_ip", "user_agent", "tls_ja4",
    "endpoint", "model", "n_user", "n_assistant", "prompt_chars", "max_tokens", "temperature",
    "n", "logprobs", "top_logprobs", "logit_bias_size", "tools", "thinking_budget", "status",
    "input_tokens", "output_tokens", "reasoning_tokens", "template", "system_hash", "intents",
    "domain", "lsh_0", "lsh_1",
)  # fmt: skip

Progress = Callable[[int], None]


def _featurised(
    segment: Path, rejects: RejectSink, featurizer: BatchFeaturizer, batch_size: int
) -> Iterator[pa.Table]:
    for batch in request_batches([segment], rejects, batch_size):
        yield featurizer(batch).select(list(KEPT))


def featurise_segment(
    segment: str, batch_size: int
) -> tuple[list[pa.Table], list[dict[str, object]], dict[str, int]]:
    """Worker-process entry: one segment's featurised tables, rejected records and counts."""
    rejects = RejectSink.collecting()
    tables = list(_featurised(Path(segment), rejects, _worker_featurizer(), batch_size))
    return tables, rejects.kept or [], dict(rejects.counts)


def _in_order(
    pool: ProcessPoolExecutor, segments: list[Path], batch_size: int, workers: int
) -> Iterator[tuple[Path, tuple[list[pa.Table], list[dict[str, object]], dict[str, int]]]]:
    """Featurised segments in order, with at most ``2 * workers`` in flight.

    ``pool.map`` would submit every segment at once, so when storing falls behind the
    workers, finished segments pile up in this process (at full scale, gigabytes of them).
    """
    pending: deque[tuple[Path, Future[Any]]] = deque()
    queue = iter(segments)
    for segment in queue:
        pending.append((segment, pool.submit(featurise_segment, str(segment), batch_size)))
        if len(pending) >= 2 * workers:
            break
    while pending:
        segment, future = pending.popleft()
        result = future.result()
        following = next(queue, None)
        if following is not None:
            pending.append((following, pool.submit(featurise_segment, str(following), batch_size)))
        yield segment, result


_FEATURIZER: list[BatchFeaturizer] = []


def _worker_featurizer() -> BatchFeaturizer:
    if not _FEATURIZER:
        _FEATURIZER.append(BatchFeaturizer())
    return _FEATURIZER[0]


class Store:
    """A DuckDB database holding detection state (in memory when ``path`` is None)."""

    def __init__(self, path: Path | None = None, *, memory_limit: str | None = None) -> None:
        try:
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            self.db = duckdb.connect(str(path) if path is not None else ":memory:")
            if memory_limit:
                self.db.execute(f"SET memory_limit = '{memory_limit}'")
            self.db.execute("SET preserve_insertion_order = false")
            # Hours and days (daily rhythm, active days) are UTC's, as in dg.request.v1,
            # whatever zone the machine is set to.
            self.db.execute("SET TimeZone = 'UTC'")
        except duckdb.Error as exc:
            raise StorageError(f"cannot open detection state {path}: {exc}") from exc
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS segments (path VARCHAR PRIMARY KEY, size BIGINT, "
            "mtime DOUBLE, rows BIGINT, rejected BIGINT)"
        )
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS ips (client_ip VARCHAR PRIMARY KEY, prefix VARCHAR, "
            "asn BIGINT, organization VARCHAR, kind VARCHAR)"
        )

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def new_segments(self, files: Iterable[Path], since: float | None = None) -> list[Path]:
        """Files not yet ingested (or changed since), optionally only those modified after
        ``since`` (a POSIX time)."""
        known = {
            row[0]: (row[1], row[2])
            for row in self.db.execute("SELECT path, size, mtime FROM segments").fetchall()
        }
        fresh = []
        for path in files:
            stat = path.stat()
            if since is not None and stat.st_mtime < since:
                continue
            if known.get(str(path)) != (stat.st_size, stat.st_mtime):
                fresh.append(path)
        return fresh

    def ingest(
        self,
        path: Path,
        rejects: RejectSink,
        *,
        since: float | None = None,
        featurizer: BatchFeaturizer | None = None,
        asn: AsnDatabase | None = None,
        progress: Progress | None = None,
        batch_size: int = 50_000,
        workers: int = 1,
    ) -> int:
        """Read, validate, featurise and store the new request segments under ``path``.

        Returns the number of requests stored. ``progress`` is called with each batch's size.
        With ``workers`` > 1, segments are decoded and featurised in that many processes
        (the Python-bound part of a run) while this process stores the results in order.
        """
        featurizer = featurizer or BatchFeaturizer()
        segments = self.new_segments(discover(path), since)
        total = 0
        if workers > 1 and len(segments) > 1:
            with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
                for segment, (tables, kept, _) in _in_order(pool, segments, batch_size, workers):
                    rejects.merge(kept)
                    total += self._store_segment(segment, tables, len(kept), asn, progress)
                    del tables  # a day of featurised rows: let it go before the next arrives
            return total
        for segment in segments:
            before = rejects.total
            stream = _featurised(segment, rejects, featurizer, batch_size)
            rows = self._store_segment(segment, stream, 0, asn, progress)
            self.db.execute(
                "UPDATE segments SET rejected = ? WHERE path = ?",
                [rejects.total - before, str(segment)],
            )
            total += rows
        return total

    def _store_segment(
        self,
        segment: Path,
        tables: Iterable[pa.Table],
        rejected: int,
        asn: AsnDatabase | None,
        progress: Progress | None,
    ) -> int:
        self.db.execute("DELETE FROM segments WHERE path = ?", [str(segment)])
        rows = 0
        for table in tables:
            self._append(table)
            self._add_ips(table.column("client_ip"), asn)
            rows += table.num_rows
            if progress is not None:
                progress(table.num_rows)
        stat = segment.stat()
        self.db.execute(
            "INSERT INTO segments VALUES (?, ?, ?, ?, ?)",
            [str(segment), stat.st_size, stat.st_mtime, rows, rejected],
        )
        return rows

    def _append(self, table: pa.Table) -> None:
        self.db.register("batch_view", table)
        try:
            exists = self.db.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'requests'"
            ).fetchone()
            if exists is None or exists[0] == 0:
                self.db.execute("CREATE TABLE requests AS SELECT * FROM batch_view")
            else:
                self.db.execute("INSERT INTO requests SELECT * FROM batch_view")
        finally:
            self.db.unregister("batch_view")

    def _add_ips(self, column: pa.ChunkedArray, asn: AsnDatabase | None) -> None:
        unique = column.unique().to_pylist()
        self.db.register("batch_ips", pa.table({"client_ip": unique}))
        try:
            fresh = [
                row[0]
                for row in self.db.execute(
                    "SELECT b.client_ip FROM batch_ips b ANTI JOIN ips i USING (client_ip)"
                ).fetchall()
            ]
        finally:
            self.db.unregister("batch_ips")
        if not fresh:
            return
        infos = [asn.lookup(ip) if asn is not None else None for ip in fresh]
        table = pa.table(
            {
                "client_ip": fresh,
                "prefix": [prefix_of(ip) for ip in fresh],
                "asn": pa.array([i.asn if i else None for i in infos], pa.int64()),
                "organization": pa.array(
                    [i.organization if i else None for i in infos], pa.string()
                ),
                "kind": pa.array([i.kind if i else None for i in infos], pa.string()),
            }
        )
        self.db.register("new_ips", table)
        try:
            self.db.execute("INSERT INTO ips SELECT * FROM new_ips")
        finally:
            self.db.unregister("new_ips")

    def set_accounts(self, table: pa.Table) -> None:
        """Replace the account records with ``table`` (from :func:`read_accounts`)."""
        self.db.register("account_view", table)
        try:
            self.db.execute("CREATE OR REPLACE TABLE accounts AS SELECT * FROM account_view")
        finally:
            self.db.unregister("account_view")

    def has_requests(self) -> bool:
        """True once any request has been stored."""
        row = self.db.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'requests'"
        ).fetchone()
        return bool(row and row[0])
