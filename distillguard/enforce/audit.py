"""The append-only audit log of enforcement, and replaying it into state.

Every change of a subject's action is one :class:`AuditEntry`: who or what made it (``actor``),
why (``reason``, ``evidence``), when (``ts``), and the state before and after (``previous``,
``new``; ``new`` is None for a reinstatement). Entries are numbered and hash-chained
(``hash = sha256(canonical JSON of the entry without its hash)``, each naming the previous
hash), so a removed, edited or reordered line is detected by :func:`replay`.

An action's expiry is part of the recorded action, so an expiry needs no entry of its own: the
state at time *t* is the replayed state with actions expired at *t* left out.

Backends: :class:`MemoryAuditLog` and :class:`JsonlAuditLog` (one JSON object per line, appends
under an exclusive file lock, one fsync per batch); chosen by :func:`open_audit`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from distillguard.enforce.actions import Action, parse_time
from distillguard.errors import InputError, StorageError

OPS = ("apply", "change", "renew", "reinstate")
GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class Change:
    """A state change about to be recorded (the log assigns ``seq`` and the hashes)."""

    ts: datetime
    subject: str
    op: str
    actor: str
    reason: str
    previous: Action | None
    new: Action | None
    evidence: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    change: Change
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        body = _body(self.seq, self.change, self.prev_hash)
        body["hash"] = self.hash
        return body

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> AuditEntry:
        try:
            op = raw["op"]
            if op not in OPS:
                raise ValueError(f"unknown op {op!r}")
            change = Change(
                ts=parse_time(raw["ts"], "ts"),
                subject=str(raw["subject"]),
                op=op,
                actor=str(raw["actor"]),
                reason=str(raw["reason"]),
                previous=None if raw["previous"] is None else Action.from_dict(raw["previous"]),
                new=None if raw["new"] is None else Action.from_dict(raw["new"]),
                evidence=dict(raw.get("evidence") or {}),
            )
            return cls(int(raw["seq"]), change, str(raw["prev_hash"]), str(raw["hash"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"malformed audit entry: {exc!r}") from None


def _body(seq: int, c: Change, prev_hash: str) -> dict[str, Any]:
    return {
        "seq": seq,
        "ts": c.ts.isoformat().replace("+00:00", "Z"),
        "subject": c.subject,
        "op": c.op,
        "actor": c.actor,
        "reason": c.reason,
        "evidence": dict(c.evidence),
        "previous": None if c.previous is None else c.previous.to_dict(),
        "new": None if c.new is None else c.new.to_dict(),
        "prev_hash": prev_hash,
    }


def _digest(body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def seal(seq: int, change: Change, prev_hash: str) -> AuditEntry:
    """Number and hash a change."""
    return AuditEntry(seq, change, prev_hash, _digest(_body(seq, change, prev_hash)))


class AuditLog(Protocol):
    """Append-only log of enforcement changes."""

    rejected: list[tuple[int, str]]  # (line or position, reason) of unreadable entries

    def append(self, changes: Sequence[Change]) -> list[AuditEntry]:
        """Record changes in order, durably, as one batch."""
        ...

    def entries(self) -> Iterator[AuditEntry]:
        """Every readable entry in order; unreadable ones are counted in ``rejected``."""
        ...

    def check(self) -> None: ...


class MemoryAuditLog:
    """An audit log held in memory (tests, dry runs)."""

    def __init__(self) -> None:
        self._entries: list[AuditEntry] = []
        self.rejected: list[tuple[int, str]] = []

    def append(self, changes: Sequence[Change]) -> list[AuditEntry]:
        sealed = []
        for change in changes:
            last = self._entries[-1] if self._entries else None
            entry = seal(
                1 if last is None else last.seq + 1, change, last.hash if last else GENESIS
            )
            self._entries.append(entry)
            sealed.append(entry)
        return sealed

    def entries(self) -> Iterator[AuditEntry]:
        return iter(list(self._entries))

    def check(self) -> None:
        return None


class JsonlAuditLog:
    """An audit log in a JSON Lines file; safe for several writing processes (flock)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.rejected: list[tuple[int, str]] = []
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch(exist_ok=True)
        except OSError as exc:
            raise StorageError(f"audit log {self.path}: {exc.strerror}") from exc

    def append(self, changes: Sequence[Change]) -> list[AuditEntry]:
        if not changes:
            return []
        try:
            with self.path.open("a+b") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                seq, prev = self._tail(handle)
                sealed = []
                lines = []
                for change in changes:
                    seq += 1
                    entry = seal(seq, change, prev)
                    prev = entry.hash
                    sealed.append(entry)
                    lines.append(json.dumps(entry.to_dict(), separators=(",", ":")) + "\n")
                handle.seek(0, os.SEEK_END)
                handle.write("".join(lines).encode())
                handle.flush()
                os.fsync(handle.fileno())
            return sealed
        except OSError as exc:
            raise StorageError(f"audit log {self.path}: {exc.strerror}") from exc

    def _tail(self, handle: Any) -> tuple[int, str]:
        # The last readable entry gives the next number and hash. Reading backwards from the
        # end (in bytes: a text-mode seek may land inside a character) keeps appends cheap.
        handle.seek(0, os.SEEK_END)
        end = handle.tell()
        block = 1 << 16
        start = max(0, end - block)
        while True:
            handle.seek(start)
            lines = handle.read(end - start).splitlines()
            for line in reversed(lines[1:] if start > 0 else lines):
                try:
                    raw = json.loads(line)
                    return int(raw["seq"]), str(raw["hash"])
                except (ValueError, KeyError, TypeError):
                    continue
            if start == 0:
                return 0, GENESIS
            start = max(0, start - block)

    def entries(self) -> Iterator[AuditEntry]:
        self.rejected = []
        try:
            with self.path.open("rb") as handle:
                for number, line in enumerate(handle, 1):
                    if not line.strip():
                        continue
                    try:
                        yield AuditEntry.from_dict(json.loads(line))
                    except (ValueError, InputError) as exc:
                        self.rejected.append((number, str(exc)))
        except OSError as exc:
            raise StorageError(f"audit log {self.path}: {exc.strerror}") from exc

    def check(self) -> None:
        if not os.access(self.path, os.W_OK):
            raise StorageError(f"audit log {self.path} is not writable")


def open_audit(target: str | Path) -> AuditLog:
    """``memory://``, ``file:///path/audit.jsonl`` or a plain path to a JSON Lines file."""
    text = str(target)
    if text == "memory://":
        return MemoryAuditLog()
    if text.startswith("file://"):
        text = text.removeprefix("file://")
    return JsonlAuditLog(text)


@dataclass
class Replay:
    """The state rebuilt from a log, and any inconsistency found on the way."""

    state: dict[str, Action] = field(default_factory=dict)
    entries: int = 0
    problems: list[str] = field(default_factory=list)

    def active(self, now: datetime) -> list[Action]:
        return sorted((a for a in self.state.values() if a.active(now)), key=lambda a: a.subject)


def replay(entries: Iterable[AuditEntry]) -> Replay:
    """Rebuild the subject → action state, checking numbering, hash chain and ``previous``."""
    out = Replay()
    expected_seq, prev_hash = 1, GENESIS
    for entry in entries:
        out.entries += 1
        c = entry.change
        if entry.seq != expected_seq:
            out.problems.append(f"entry {entry.seq}: expected number {expected_seq}")
        if entry.prev_hash != prev_hash:
            out.problems.append(f"entry {entry.seq}: hash chain broken (an entry is missing)")
        if _digest(_body(entry.seq, c, entry.prev_hash)) != entry.hash:
            out.problems.append(f"entry {entry.seq}: content does not match its hash")
        current = out.state.get(c.subject)
        if current is not None and not current.active(c.ts):
            current = None
        if current != c.previous:
            out.problems.append(f"entry {entry.seq}: previous state of {c.subject} differs")
        if c.new is None:
            out.state.pop(c.subject, None)
        else:
            out.state[c.subject] = c.new
        expected_seq, prev_hash = entry.seq + 1, entry.hash
    return out
