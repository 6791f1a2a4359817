"""The gateway's asynchronous request-log writer (dg.request.v1).

The event loop only appends a finished record to a bounded queue (:meth:`RequestLogWriter.submit`,
a few hundred nanoseconds, never blocking, never waking a thread); a background thread polls the
queue every ``poll_s`` seconds, applies the content policy,
turns the arrival time into RFC 3339, encodes, compresses and writes through a rotating
:class:`~distillguard.logs.segments.SegmentWriter`. Memory stays bounded by ``queue_size``.

Nothing is lost silently: a record refused because the queue is full, or lost to a disk error,
is counted in :attr:`RequestLogWriter.dropped` (by reason), reported to ``on_drop`` (the gateway
wires it to a Prometheus counter) and logged (at most once a second per reason).
:meth:`RequestLogWriter.close` drains everything still queued and closes the open segment; the
gateway calls it on SIGTERM.

Example::

    writer = RequestLogWriter(SegmentWriter("logs", fmt="jsonl.gz"), content=ContentPolicy())
    writer.start()
    writer.submit({"ts": time.time(), "request_id": "req_1", ...})
    writer.close()
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from distillguard.config import ContentPolicy
from distillguard.errors import StorageError
from distillguard.logs.segments import SegmentWriter

log = logging.getLogger(__name__)
_BATCH = 256  # records encoded between GIL hand-backs to the event loop


def rfc3339_ms(epoch: float) -> str:
    """``2026-04-01T12:00:00.123Z`` for an epoch time in seconds."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class RequestLogWriter:
    """Bounded, thread-backed writer of request records.

    Records are submitted as dicts in dg.request.v1 form except that ``ts`` may be an epoch
    float (converted in the writer thread) and contents are not yet cut to the content policy.
    """

    def __init__(
        self,
        segments: SegmentWriter,
        *,
        content: ContentPolicy | None = None,
        queue_size: int = 50_000,
        poll_s: float = 0.05,
        on_drop: Callable[[str, int], None] | None = None,
        on_write: Callable[[int], None] | None = None,
    ) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self.segments = segments
        self.content = content or ContentPolicy()
        self.queue_size = queue_size
        self.poll_s = poll_s
        self._queue: collections.deque[dict[str, Any]] = collections.deque()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._on_drop = on_drop
        self._on_write = on_write
        self._last_warning: dict[str, float] = {}
        self.submitted = 0
        self.written = 0
        self.dropped: collections.Counter[str] = collections.Counter()

    @property
    def backlog(self) -> int:
        """Records queued and not yet handed to the segment writer."""
        return len(self._queue)

    def start(self) -> None:
        """Start the background thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="dg-request-log", daemon=True)
            self._thread.start()

    def submit(self, record: dict[str, Any]) -> bool:
        """Queue one record; False (and counted as dropped) when the queue is full or closed."""
        if self._stopping:
            self._drop("closed", 1)
            return False
        if len(self._queue) >= self.queue_size:
            self._drop("queue_full", 1)
            return False
        self._queue.append(record)
        self.submitted += 1
        return True

    def _drop(self, reason: str, count: int) -> None:
        self.dropped[reason] += count
        if self._on_drop is not None:
            self._on_drop(reason, count)
        now = time.monotonic()
        if now - self._last_warning.get(reason, -10.0) >= 1.0:
            self._last_warning[reason] = now
            log.error(
                "request log: %d record(s) dropped (%s); %d dropped so far for this reason",
                count,
                reason,
                self.dropped[reason],
            )

    def _prepare(self, record: dict[str, Any]) -> dict[str, Any]:
        ts = record.get("ts")
        if isinstance(ts, float | int):
            record["ts"] = rfc3339_ms(float(ts))
        policy = self.content
        if policy.mode != "full":
            record["messages"] = [
                {"role": m["role"], "content": policy.cut(m["content"])} for m in record["messages"]
            ]
            text = record.get("response_text")
            record["response_text"] = (
                None if policy.mode == "none" or text is None else policy.cut(text)
            )
        return record

    def _write_batch(self) -> int:
        queue = self._queue
        done = 0
        while queue and done < _BATCH:
            record = queue.popleft()
            done += 1
            try:
                self.segments.write(self._prepare(record))
            except StorageError as exc:
                self._drop("write_error", 1)
                log.error("request log: cannot write record %s: %s", record.get("request_id"), exc)
            except (KeyError, TypeError, ValueError) as exc:
                self._drop("bad_record", 1)
                log.error("request log: bad record %s: %s", record.get("request_id"), exc)
            else:
                self.written += 1
        if done and self._on_write is not None:
            self._on_write(done)
        return done

    def _rotate_if_due(self) -> None:
        if self.segments.due():
            try:
                self.segments.rotate()
            except StorageError as exc:
                log.error("request log: cannot rotate segment: %s", exc)

    def _run(self) -> None:
        # The thread polls instead of being woken per record: waking a thread costs the event
        # loop a lock and a notify on every request, polling costs nothing on the hot path.
        wait_s = self.poll_s
        if self.segments.max_age_s is not None:
            wait_s = min(wait_s, max(self.segments.max_age_s / 4, 0.001))
        while True:
            if self._write_batch():
                time.sleep(0)  # let the event loop thread take the GIL between batches
                continue
            self._rotate_if_due()
            if self._stopping:
                break
            self._wake.wait(wait_s)
            self._wake.clear()

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until the queue is empty (records handed to the segment writer)."""
        deadline = time.monotonic() + timeout_s
        while self._queue and time.monotonic() < deadline:
            self._wake.set()
            time.sleep(0.005)
        return not self._queue

    def close(self, timeout_s: float = 30.0) -> None:
        """Drain the queue, close the open segment and stop; safe to call twice.

        Records still queued after ``timeout_s`` (a stuck disk) are counted as dropped.
        """
        if self._stopping and self._thread is None:
            return
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                left = len(self._queue)
                self._queue.clear()
                if left:
                    self._drop("shutdown_timeout", left)
                self._thread = None
                return
            self._thread = None
        else:
            while self._write_batch():
                pass
        try:
            self.segments.close()
        except StorageError as exc:
            log.error("request log: cannot close the last segment: %s", exc)
