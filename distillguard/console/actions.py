"""Where the console's enforcement actions go: an :class:`ActionSink`.

An admin throttles, challenges, suspends or reinstates an account with a reason; the sink
records it and answers "what happened to this account". :class:`AuditFile` is the built-in
sink: an append-only JSON Lines audit file, one line per action, read back at start-up so the
history survives restarts. A sink backed by :mod:`distillguard.enforce` (store + audit log,
so the gateway acts on it) is in :mod:`distillguard.console.sinks`.

>>> sink = AuditFile(Path("audit.jsonl"))  # doctest: +SKIP
>>> sink.apply("acc_1", "suspend", "member of campaign C-7", actor="alice")  # doctest: +SKIP
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import orjson

from distillguard.errors import InputError, StorageError

ACTIONS = ("throttle", "challenge", "suspend", "reinstate")
MAX_REASON = 1000


@dataclass(frozen=True)
class ActionEntry:
    """One action taken on an account from the console."""

    ts: datetime
    account_id: str
    action: str
    reason: str
    actor: str
    campaign_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The audit-file line of this entry."""
        return {
            "ts": self.ts.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "account_id": self.account_id,
            "action": self.action,
            "reason": self.reason,
            "actor": self.actor,
            "campaign_id": self.campaign_id,
            "source": "console",
        }


def check_action(action: str, reason: str) -> str:
    """Validate an action name and reason; return the reason stripped."""
    if action not in ACTIONS:
        raise InputError(f"unknown action {action!r}; use one of {', '.join(ACTIONS)}")
    reason = reason.strip()
    if not reason:
        raise InputError("give a reason for the action; it goes to the audit log")
    if len(reason) > MAX_REASON:
        raise InputError(f"the reason is too long ({MAX_REASON} characters at most)")
    return reason


class ActionSink(Protocol):
    """Records enforcement actions and answers for an account's history."""

    def apply(
        self,
        account_id: str,
        action: str,
        reason: str,
        *,
        actor: str,
        campaign_id: str | None = None,
    ) -> ActionEntry:
        """Take ``action`` on the account and record it; raise InputError for bad input."""
        ...

    def history(self, account_id: str) -> list[ActionEntry]:
        """Every action recorded for the account, oldest first."""
        ...

    def recent(self, limit: int = 50) -> list[ActionEntry]:
        """The latest actions on any account, newest first."""
        ...


class AuditFile:
    """An append-only JSON Lines audit file; malformed lines found at start-up are counted."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.skipped = 0
        self._lock = threading.Lock()
        self._entries: list[ActionEntry] = []
        self._by_account: dict[str, list[ActionEntry]] = defaultdict(list)
        if path.exists():
            self._read()
        else:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()
            except OSError as exc:
                raise StorageError(f"{path}: cannot create the audit file ({exc})") from exc

    def _read(self) -> None:
        for line in self.path.read_bytes().splitlines():
            if not line.strip():
                continue
            try:
                raw = orjson.loads(line)
                entry = ActionEntry(
                    datetime.fromisoformat(raw["ts"].replace("Z", "+00:00")),
                    str(raw["account_id"]),
                    str(raw["action"]),
                    str(raw.get("reason", "")),
                    str(raw.get("actor", "")),
                    raw.get("campaign_id"),
                )
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
                self.skipped += 1
                continue
            self._remember(entry)

    def _remember(self, entry: ActionEntry) -> None:
        self._entries.append(entry)
        self._by_account[entry.account_id].append(entry)

    def apply(
        self,
        account_id: str,
        action: str,
        reason: str,
        *,
        actor: str,
        campaign_id: str | None = None,
    ) -> ActionEntry:
        """Append the action to the file (flushed before returning) and remember it."""
        reason = check_action(action, reason)
        entry = ActionEntry(datetime.now(UTC), account_id, action, reason, actor, campaign_id)
        line = orjson.dumps(entry.to_dict()) + b"\n"
        with self._lock:
            try:
                with self.path.open("ab") as stream:
                    stream.write(line)
            except OSError as exc:
                raise StorageError(f"{self.path}: cannot append to the audit file ({exc})") from exc
            self._remember(entry)
        return entry

    def history(self, account_id: str) -> list[ActionEntry]:
        """Every action recorded for the account, oldest first."""
        with self._lock:
            return list(self._by_account.get(account_id, ()))

    def recent(self, limit: int = 50) -> list[ActionEntry]:
        """The latest actions on any account, newest first."""
        with self._lock:
            return list(reversed(self._entries[-limit:]))


def status_of(history: list[ActionEntry]) -> str:
    """The account's current state from its history: the last action, or ``active``."""
    if not history or history[-1].action == "reinstate":
        return "active"
    return history[-1].action
