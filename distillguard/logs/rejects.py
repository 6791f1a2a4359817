"""The rejects file: every record a reader set aside, with where it was and why."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import IO

import orjson


class RejectSink:
    """Counts rejected records per reason and writes them as JSON Lines.

    Each line is ``{"source", "position", "reason", "message", "raw"}``; ``raw`` is the start of
    the offending line (or row), truncated. With ``path=None`` only the counts are kept, unless
    :meth:`collecting` asks for the records in memory (a worker process hands them back).

    >>> sink = RejectSink(None)
    >>> sink.add("a.jsonl", 3, "bad_ip", "client_ip: 'x' is not an address", "{...}")
    >>> sink.counts["bad_ip"]
    1
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.counts: Counter[str] = Counter()
        self.kept: list[dict[str, object]] | None = None
        self._stream: IO[bytes] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = path.open("ab")

    @classmethod
    def collecting(cls) -> RejectSink:
        """A sink without a file that keeps rejected records in ``kept``."""
        sink = cls(None)
        sink.kept = []
        return sink

    @property
    def total(self) -> int:
        """Number of records rejected so far."""
        return sum(self.counts.values())

    def add(self, source: str, position: int, reason: str, message: str, raw: str) -> None:
        """Record one rejected record."""
        self.counts[reason] += 1
        if self._stream is not None or self.kept is not None:
            line: dict[str, object] = {
                "source": source,
                "position": position,
                "reason": reason,
                "message": message,
                "raw": raw,
            }
            if self.kept is not None:
                self.kept.append(line)
            if self._stream is not None:
                self._stream.write(orjson.dumps(line) + b"\n")

    def merge(self, records: list[dict[str, object]]) -> None:
        """Add rejects collected elsewhere (e.g. by a worker process) as ``add`` would."""
        for record in records:
            self.add(
                str(record["source"]),
                int(record["position"]),  # type: ignore[call-overload]
                str(record["reason"]),
                str(record["message"]),
                str(record["raw"]),
            )

    def close(self) -> None:
        """Flush and close the file."""
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def __enter__(self) -> RejectSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
