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
    the offending line (or row), truncated. With ``path=None`` only the counts are kept.

    >>> sink = RejectSink(None)
    >>> sink.add("a.jsonl", 3, "bad_ip", "client_ip: 'x' is not an address", "{...}")
    >>> sink.counts["bad_ip"]
    1
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.counts: Counter[str] = Counter()
        self._stream: IO[bytes] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = path.open("ab")

    @property
    def total(self) -> int:
        """Number of records rejected so far."""
        return sum(self.counts.values())

    def add(self, source: str, position: int, reason: str, message: str, raw: str) -> None:
        """Record one rejected record."""
        self.counts[reason] += 1
        if self._stream is not None:
            line = {
                "source": source,
                "position": position,
                "reason": reason,
                "message": message,
                "raw": raw,
            }
            self._stream.write(orjson.dumps(line) + b"\n")

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
