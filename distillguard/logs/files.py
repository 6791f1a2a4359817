"""Finding dg.* log files and iterating their raw records.

A path is one file or a directory of files of one kind. Supported files are JSON Lines
(``.jsonl``, ``.jsonl.gz``, ``.jsonl.zst``) and Parquet (``.parquet``). Files in a directory are
read in lexical order of their names, which producers use as time order.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any, cast

import orjson

from distillguard.errors import InputError

SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".parquet")
MAX_LINE_BYTES = 64 * 1024 * 1024


def is_log_file(path: Path) -> bool:
    """True if ``path`` has one of the supported suffixes."""
    return path.name.endswith(SUFFIXES) and not path.name.startswith(".")


def discover(path: Path) -> list[Path]:
    """Return the log files at ``path`` (the file itself, or a directory's files, sorted)."""
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.is_file():
        if not is_log_file(path):
            raise InputError(
                f"{path}: unsupported file type; expected one of {', '.join(SUFFIXES)}"
            )
        return [path]
    files = sorted(p for p in path.rglob("*") if p.is_file() and is_log_file(p))
    return files


def _open_text_stream(path: Path) -> IO[bytes]:
    name = path.name
    if name.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if name.endswith(".zst"):
        import zstandard

        raw = path.open("rb")
        reader = zstandard.ZstdDecompressor().stream_reader(raw, closefd=True)
        return io.BufferedReader(cast(io.RawIOBase, reader), buffer_size=1 << 20)
    return path.open("rb", buffering=1 << 20)


class RawRecord:
    """One undecoded or decoded record with its position, for rejects and validation."""

    __slots__ = ("error", "position", "raw", "value")

    def __init__(
        self, position: int, value: Any, raw: bytes | str, error: tuple[str, str] | None
    ) -> None:
        self.position = position
        self.value = value
        self.raw = raw
        self.error = error


def iter_jsonl(path: Path) -> Iterator[RawRecord]:
    """Yield each non-blank line of a JSON Lines file, decoded, with its 1-based line number.

    Lines that do not decode carry ``error = (reason, message)`` instead of a value.
    """
    with _open_text_stream(path) as stream:
        for number, line in enumerate(stream, start=1):
            if len(line) > MAX_LINE_BYTES:
                yield RawRecord(number, None, line[:512], ("line_too_long", "line over 64 MiB"))
                continue
            if not line.strip():
                continue
            try:
                yield RawRecord(number, orjson.loads(line), line, None)
            except orjson.JSONDecodeError as exc:
                text = str(exc)
                if "utf-8" in text.lower() or "surrogate" in text.lower():
                    reason = "invalid_utf8"
                elif not line.endswith(b"\n"):
                    reason = "truncated_line"
                else:
                    reason = "malformed_json"
                yield RawRecord(number, None, line, (reason, text[:200]))


def iter_parquet(path: Path, batch_size: int = 65536) -> Iterator[RawRecord]:
    """Yield each row of a Parquet file as a dict with its 1-based row number.

    Absent optional struct members come back as nulls from Parquet; they are dropped from
    ``params`` so that "not sent" stays distinguishable from a wrong type.
    """
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several unrelated types for broken files
        yield RawRecord(0, None, b"", ("bad_file", f"cannot read Parquet: {exc}"[:200]))
        return
    number = 0
    for batch in parquet.iter_batches(batch_size=batch_size):
        for row in batch.to_pylist():
            number += 1
            params = row.get("params")
            if isinstance(params, dict):
                row["params"] = {k: v for k, v in params.items() if v is not None}
            elif "params" in row and params is None:
                del row["params"]
            yield RawRecord(number, row, "", None)


def iter_raw(path: Path) -> Iterator[RawRecord]:
    """Yield the records of one file of either format."""
    if path.name.endswith(".parquet"):
        yield from iter_parquet(path)
    else:
        yield from iter_jsonl(path)


def raw_excerpt(record: RawRecord, limit: int = 400) -> str:
    """The start of a record's raw text, for a rejects file (never the whole 1 MB line)."""
    if isinstance(record.raw, bytes):
        if record.raw:
            return record.raw[:limit].decode("utf-8", errors="replace").rstrip("\n")
        return ""
    if record.value is not None:
        return orjson.dumps(record.value, default=_jsonable).decode()[:limit]
    return str(record.raw)[:limit]


def _jsonable(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return repr(value)
