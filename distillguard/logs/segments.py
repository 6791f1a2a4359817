"""Rotating segment files for dg.* records: JSON Lines (plain, gzip, zstd) or Parquet.

A :class:`SegmentWriter` appends records to the current segment and starts a new one after
``max_records`` records, ``max_bytes`` uncompressed bytes or ``max_age_s`` seconds. A segment
is written under a temporary name and renamed when it is closed, so a reader (for example an
incremental ``detect --since`` run) only ever sees complete segments. Names sort in write
order: ``<prefix>-<first ts>-<sequence>.<ext>``.

Example::

    with SegmentWriter(Path("logs"), fmt="jsonl.gz", max_records=100_000) as writer:
        writer.write({"ts": "2026-04-01T00:00:00Z", ...})
"""

from __future__ import annotations

import gzip
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Protocol

import orjson

from distillguard.errors import ConfigurationError, StorageError

Format = Literal["jsonl", "jsonl.gz", "jsonl.zst", "parquet"]
FORMATS: tuple[Format, ...] = ("jsonl", "jsonl.gz", "jsonl.zst", "parquet")
_UNSAFE = re.compile(r"[^0-9A-Za-z]")
_FLUSH_EVERY = 512


class _Sink(Protocol):
    def write(self, data: bytes, /) -> int: ...
    def close(self) -> None: ...


class _GzipSink:
    """gzip with an empty name and zero mtime in its header, so equal records give equal bytes
    (``gzip.GzipFile(path)`` would record the temporary file name)."""

    def __init__(self, path: Path, level: int) -> None:
        self._raw = open(path, "wb")  # noqa: SIM115 - closed in close()
        self._gzip = gzip.GzipFile(
            filename="", fileobj=self._raw, mode="wb", compresslevel=level, mtime=0
        )

    def write(self, data: bytes, /) -> int:
        return self._gzip.write(data)

    def close(self) -> None:
        self._gzip.close()
        self._raw.close()


def _open_jsonl(path: Path, fmt: Format, level: int | None) -> _Sink:
    if fmt == "jsonl":
        return open(path, "wb")
    if fmt == "jsonl.gz":
        return _GzipSink(path, level if level is not None else 3)
    import zstandard

    raw = open(path, "wb")  # noqa: SIM115 - closed through the zstd stream
    compressor = zstandard.ZstdCompressor(level=level if level is not None else 3)
    return compressor.stream_writer(raw, closefd=True)


class SegmentWriter:
    """Writes records to rotating segment files in ``directory``.

    ``table`` converts a batch of records to an Arrow table for Parquet (defaults to the
    dg.request.v1 layout). Records are dicts in the JSON form of the spec.
    """

    def __init__(
        self,
        directory: Path | str,
        *,
        prefix: str = "requests",
        fmt: Format = "jsonl.gz",
        max_records: int = 100_000,
        max_bytes: int | None = None,
        max_age_s: float | None = None,
        level: int | None = None,
        time_field: str = "ts",
        table: Callable[[list[Mapping[str, Any]]], Any] | None = None,
    ) -> None:
        if fmt not in FORMATS:
            raise ConfigurationError(f"unknown log format {fmt!r}; use one of {', '.join(FORMATS)}")
        if max_records < 1:
            raise ConfigurationError("max_records must be at least 1")
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create log directory {self.directory}: {exc}") from exc
        self.prefix = prefix
        self.fmt: Format = fmt
        self.max_records = max_records
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self.level = level
        self.time_field = time_field
        self._table = table
        self._sequence = 0
        self._stream: _Sink | None = None
        self._pending: list[bytes] = []
        self._rows: list[Mapping[str, Any]] = []
        self._count = 0
        self._bytes = 0
        self._opened_at = 0.0
        self._tmp_path: Path | None = None
        self._final_path: Path | None = None
        self.segments: list[Path] = []
        self.records_written = 0

    def __enter__(self) -> SegmentWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _start(self, record: Mapping[str, Any]) -> None:
        self._sequence += 1
        stamp = _UNSAFE.sub("", str(record.get(self.time_field, "")))[:15] or time.strftime(
            "%Y%m%dT%H%M%S", time.gmtime()
        )
        name = f"{self.prefix}-{stamp}-{os.getpid()}-{self._sequence:06d}.{self.fmt}"
        self._final_path = self.directory / name
        self._tmp_path = self.directory / f".{name}.tmp"
        self._count = 0
        self._bytes = 0
        self._opened_at = time.monotonic()
        if self.fmt != "parquet":
            try:
                self._stream = _open_jsonl(self._tmp_path, self.fmt, self.level)
            except OSError as exc:
                raise StorageError(f"cannot open segment {self._tmp_path}: {exc}") from exc

    def write(self, record: Mapping[str, Any]) -> None:
        """Append one record, rotating first when the current segment is full."""
        if self._final_path is None:
            self._start(record)
        if self.fmt == "parquet":
            self._rows.append(record)
        else:
            line = orjson.dumps(record) + b"\n"
            self._pending.append(line)
            self._bytes += len(line)
            if len(self._pending) >= _FLUSH_EVERY:
                self._flush()
        self._count += 1
        self.records_written += 1
        if self._full():
            self.rotate()

    def write_many(self, records: Iterable[Mapping[str, Any]]) -> None:
        for record in records:
            self.write(record)

    def _full(self) -> bool:
        if self._count >= self.max_records:
            return True
        if self.max_bytes is not None and self._bytes >= self.max_bytes:
            return True
        return self.max_age_s is not None and time.monotonic() - self._opened_at >= self.max_age_s

    def due(self) -> bool:
        """True when the open segment has outlived ``max_age_s`` (for time-based rotation)."""
        return (
            self._final_path is not None
            and self.max_age_s is not None
            and time.monotonic() - self._opened_at >= self.max_age_s
        )

    def _flush(self) -> None:
        if self._pending and self._stream is not None:
            try:
                self._stream.write(b"".join(self._pending))
            except OSError as exc:
                raise StorageError(f"cannot write segment {self._tmp_path}: {exc}") from exc
            self._pending.clear()

    def rotate(self) -> Path | None:
        """Close the current segment (if any) and make it visible; return its path."""
        if self._final_path is None or self._tmp_path is None:
            return None
        try:
            if self.fmt == "parquet":
                self._write_parquet(self._tmp_path)
            else:
                self._flush()
                if self._stream is not None:
                    self._stream.close()
            os.replace(self._tmp_path, self._final_path)
        except OSError as exc:
            raise StorageError(f"cannot close segment {self._final_path}: {exc}") from exc
        done = self._final_path
        self.segments.append(done)
        self._stream = None
        self._final_path = self._tmp_path = None
        self._rows = []
        return done

    def _write_parquet(self, path: Path) -> None:
        import pyarrow.parquet as pq

        from distillguard.logs.arrow import request_table

        convert = self._table or request_table
        pq.write_table(convert(self._rows), path, compression="zstd")

    def close(self) -> None:
        """Close the open segment; safe to call twice."""
        self.rotate()
