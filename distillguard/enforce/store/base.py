"""The enforcement store contract, and the in-process snapshot every implementation reads from.

The gateway asks the store on every request which actions apply to the caller. That lookup is
:meth:`Snapshot.decide`: a handful of dict reads, no I/O, microseconds. Implementations differ
only in how the snapshot is kept current: :class:`~distillguard.enforce.store.memory.MemoryStore`
writes it directly, :class:`~distillguard.enforce.store.redis.RedisStore` also writes Redis and
follows other processes' writes through pub/sub.

Expired actions stop applying by themselves: ``decide`` compares the expiry with the clock.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterable
from functools import lru_cache
from typing import Protocol, runtime_checkable

from distillguard.enforce.actions import Action, ActionKind, Decision
from distillguard.enforce.output import VERIFICATION_LEVELS

_RANK = {level: i for i, level in enumerate(VERIFICATION_LEVELS)}
_CHALLENGE = ActionKind.CHALLENGE  # a global: on 3.11 an enum member lookup is several times slower
_INF = float("inf")
# (deadline as a POSIX timestamp, action)
Entry = tuple[float, Action]


@runtime_checkable
class EnforcementStore(Protocol):
    """Holds the active action per subject (``account:…``, ``key:…``, ``org:…``, ``ip:…``, ``prefix:…``)."""

    def decide(
        self,
        account_id: str | None = None,
        key_id: str | None = None,
        org_id: str | None = None,
        ip: str | None = None,
        verification: str = "none",
        now: float | None = None,
        account_created: float | None = None,
    ) -> Decision | None:
        """Actions in force for one request, most severe first; None when there are none.

        The arguments may be given by position in this order (the gateway does, per request).
        ``account_created`` (POSIX time) lets a challenge with a ``max_account_age`` pass
        callers whose account is older; unknown, the challenge applies.
        """
        ...

    def get(self, subject: str, *, now: float | None = None) -> Action | None:
        """The action in force on ``subject`` (expired ones count as absent)."""
        ...

    def put(self, action: Action) -> None:
        """Set the action on ``action.subject``, replacing any previous one."""
        ...

    def put_many(self, actions: Iterable[Action]) -> None:
        """``put`` each action, in one round trip where the backend allows it."""
        ...

    def remove(self, subject: str) -> None:
        """Lift the action on ``subject`` (no error when there is none)."""
        ...

    def actions(self) -> list[Action]:
        """Every stored action, expired ones included, sorted by subject."""
        ...

    def prune(self, now: float) -> int:
        """Delete actions expired at ``now``; return how many. Not a state change (they had
        already stopped applying), so it needs no audit entry."""
        ...

    def replace_all(self, actions: Iterable[Action]) -> None:
        """Make the stored state exactly ``actions`` (used to rebuild from the audit log)."""
        ...

    def check(self) -> None:
        """Raise StorageError when the backend is not ready."""
        ...

    def close(self) -> None: ...


def deadline(action: Action) -> float:
    return _INF if action.expires_at is None else action.expires_at.timestamp()


@lru_cache(maxsize=65536)
def _prefixes(ip: str, lengths: tuple[int, ...]) -> tuple[str, ...]:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ()
    found = []
    for length in lengths:
        if length <= address.max_prefixlen:
            network = ipaddress.ip_network(f"{address}/{length}", strict=False)
            found.append(str(network))
    return tuple(found)


class Snapshot:
    """An in-process copy of the store: one dict per subject kind, read without locks.

    Writers replace entries or swap the whole table set by assignment, which is atomic under the
    GIL, so a reader on another thread sees either the old or the new state.
    """

    def __init__(self) -> None:
        self._tables: dict[str, dict[str, Entry]] = _empty()
        self._prefix_lengths: tuple[int, ...] = ()

    def set(self, action: Action) -> None:
        kind, _, value = action.subject.partition(":")
        self._tables[kind][value] = (deadline(action), action)
        if kind == "prefix":
            self._refresh_prefixes()

    def discard(self, subject: str) -> None:
        kind, _, value = subject.partition(":")
        self._tables.get(kind, {}).pop(value, None)
        if kind == "prefix":
            self._refresh_prefixes()

    def load(self, actions: Iterable[Action]) -> None:
        tables = _empty()
        for action in actions:
            kind, _, value = action.subject.partition(":")
            tables[kind][value] = (deadline(action), action)
        self._tables = tables
        self._refresh_prefixes()

    def expired(self, now: float) -> list[Action]:
        return [e[1] for table in self._tables.values() for e in table.values() if e[0] <= now]

    def all(self) -> list[Action]:
        found = [entry[1] for table in self._tables.values() for entry in table.values()]
        return sorted(found, key=lambda a: a.subject)

    def get(self, subject: str, now: float | None = None) -> Action | None:
        kind, _, value = subject.partition(":")
        entry = self._tables.get(kind, {}).get(value)
        if entry is None or entry[0] <= (time.time() if now is None else now):
            return None
        return entry[1]

    def _refresh_prefixes(self) -> None:
        lengths = {int(v.rsplit("/", 1)[1]) for v in self._tables["prefix"]}
        self._prefix_lengths = tuple(sorted(lengths))

    def decide(
        self,
        account_id: str | None = None,
        key_id: str | None = None,
        org_id: str | None = None,
        ip: str | None = None,
        verification: str = "none",
        now: float | None = None,
        account_created: float | None = None,
    ) -> Decision | None:
        tables = self._tables
        found: list[Entry] = []
        # The common case is an empty or nearly empty table, and no entry for the caller:
        # skip a kind without work, and look up without a helper call per kind.
        if account_id is not None:
            entry = tables["account"].get(account_id)
            if entry is not None:
                found.append(entry)
        if key_id is not None:
            entry = tables["key"].get(key_id)
            if entry is not None:
                found.append(entry)
        if org_id is not None:
            entry = tables["org"].get(org_id)
            if entry is not None:
                found.append(entry)
        own = len(found)  # entries on the caller itself; address entries follow
        if ip is not None:
            entry = tables["ip"].get(ip)
            if entry is not None:
                found.append(entry)
            if self._prefix_lengths:
                table = tables["prefix"]
                for prefix in _prefixes(ip, self._prefix_lengths):
                    entry = table.get(prefix)
                    if entry is not None:
                        found.append(entry)
        if not found:
            return None
        clock = time.time() if now is None else now
        rank = _RANK.get(verification, 0)
        live = [
            action
            for deadline_ts, action in found
            if deadline_ts > clock and not _lifted(action, rank, account_created, clock)
        ]
        if not live:
            return None
        if len(live) > 1:
            if own and any(_defers(a) for a in live):
                on_caller = {id(action) for _, action in found[:own]}
                if any(id(a) in on_caller for a in live):
                    live = [a for a in live if id(a) in on_caller or not _defers(a)]
            live.sort(key=lambda a: -a.kind.severity)
        return Decision(tuple(live))


def _defers(action: Action) -> bool:
    return action.challenge is not None and action.challenge.defer_to_account


def _lifted(action: Action, rank: int, account_created: float | None, clock: float) -> bool:
    # A challenge stops applying once the caller reaches the level it asks for, and does not
    # apply to an account older than its age limit.
    if action.kind is not _CHALLENGE or action.challenge is None:
        return False
    challenge = action.challenge
    return rank >= _RANK[challenge.required_verification] or challenge.exempts(
        account_created, clock
    )


def _empty() -> dict[str, dict[str, Entry]]:
    return {"account": {}, "key": {}, "org": {}, "ip": {}, "prefix": {}}
