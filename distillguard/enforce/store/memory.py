"""The in-memory enforcement store: the snapshot is the store. The default, and the reference."""

from __future__ import annotations

from collections.abc import Iterable

from distillguard.enforce.actions import Action
from distillguard.enforce.store.base import Snapshot


class MemoryStore(Snapshot):
    """Actions held in this process only; lost on exit (rebuild them from the audit log)."""

    def put(self, action: Action) -> None:
        self.set(action)

    def put_many(self, actions: Iterable[Action]) -> None:
        for action in actions:
            self.set(action)

    def remove(self, subject: str) -> None:
        self.discard(subject)

    def actions(self) -> list[Action]:
        return self.all()

    def prune(self, now: float) -> int:
        expired = self.expired(now)
        for action in expired:
            self.discard(action.subject)
        return len(expired)

    def replace_all(self, actions: Iterable[Action]) -> None:
        self.load(actions)

    def check(self) -> None:
        return None

    def close(self) -> None:
        return None
