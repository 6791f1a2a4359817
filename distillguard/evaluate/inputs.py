"""Reading what the evaluator scores: dg.findings.v1, dg.labels.v1 and request counts.

Bad lines and entries are counted and set aside as :class:`Reject` objects with their source,
position and reason; only an unreadable file or a findings document that is not an object with
``accounts`` and ``campaigns`` lists stops a run (there is nothing to score then).

Request counts per account (for "share of a campaign's requests covered") come from, in order:
``--requests PATH`` (a JSON object ``{account_id: count}``, or dg.request.v1 files or a directory
of them, which are counted), else the ``requests`` field that ``distillguard simulate`` adds to
each label. Without either, request coverage is reported as null.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import orjson

from distillguard.errors import InputError


@dataclass(frozen=True)
class Reject:
    """One record set aside: where it was and why."""

    source: str
    position: int
    reason: str
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "position": self.position,
            "reason": self.reason,
            "detail": self.detail,
        }


def _open(path: Path) -> IO[bytes]:
    name = path.name
    try:
        if name.endswith(".gz"):
            return cast(IO[bytes], gzip.open(path, "rb"))
        if name.endswith(".zst"):
            import zstandard

            reader = zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True)  # noqa: SIM115
            return cast(IO[bytes], io.BufferedReader(cast(Any, reader)))
        return open(path, "rb")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    try:
        with _open(path) as stream:
            for number, line in enumerate(stream, start=1):
                if line.strip():
                    yield number, line
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc


def read_findings(path: Path) -> dict[str, Any]:
    """The findings document; raises :class:`InputError` if it cannot be scored at all."""
    try:
        document = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise InputError(f"cannot read findings {path}: {exc}") from exc
    except orjson.JSONDecodeError as exc:
        raise InputError(f"findings {path} is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise InputError(f"findings {path} must be a JSON object (dg.findings.v1)")
    return document


def read_labels(path: Path) -> tuple[list[Any], list[Reject]]:
    """Decoded lines of a dg.labels.v1 JSON Lines file (checked by ``score``); undecodable lines
    become rejects."""
    labels: list[Any] = []
    rejects: list[Reject] = []
    source = str(path)
    for number, line in _lines(path):
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            reason = "invalid_utf8" if "utf-8" in str(exc).lower() else "malformed_json"
            rejects.append(Reject(source, number, reason, str(exc)[:200]))
            continue
        labels.append(record)
    return labels, rejects


def _request_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(
            p
            for p in path.rglob("*")
            if p.is_file()
            and not p.name.startswith(".")
            and (".jsonl" in p.name or p.suffix == ".parquet")
        )
    return [path]


def read_request_counts(path: Path) -> tuple[dict[str, int], list[Reject]]:
    """Requests per account from a JSON map or from dg.request.v1 files (counted here)."""
    rejects: list[Reject] = []
    if path.is_file() and path.suffix == ".json":
        try:
            mapping = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise InputError(f"cannot read request counts {path}: {exc}") from exc
        if not isinstance(mapping, dict):
            raise InputError(f"{path} must map account ids to request counts")
        counts: dict[str, int] = {}
        for position, (key, value) in enumerate(mapping.items(), start=1):
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                counts[str(key)] = value
            else:
                rejects.append(Reject(str(path), position, "wrong_type", f"{key}: {value!r}"))
        return counts, rejects
    if not path.exists():
        raise InputError(f"request logs {path} do not exist")
    counts = {}
    for file in _request_files(path):
        if file.suffix == ".parquet":
            import pyarrow.parquet as pq

            column = pq.read_table(file, columns=["account_id"]).column("account_id").to_pylist()
            for account in column:
                if isinstance(account, str):
                    counts[account] = counts.get(account, 0) + 1
            continue
        for number, line in _lines(file):
            try:
                account = orjson.loads(line).get("account_id")
            except (orjson.JSONDecodeError, AttributeError):
                rejects.append(Reject(str(file), number, "malformed_json"))
                continue
            if isinstance(account, str) and account:
                counts[account] = counts.get(account, 0) + 1
            else:
                rejects.append(Reject(str(file), number, "missing_field", "account_id"))
    return counts, rejects
