"""Applying actions and reinstatements: the store and the audit log change together.

:class:`Enforcer` is the only writer the rest of distillguard needs (``enforce apply``, the admin
API, the closed-loop simulator). For each subject it compares the proposed action with the one in
force and records exactly one audit entry per real change:

- ``apply``: nothing was in force;
- ``change``: a different action replaces the current one. Policy-driven changes never
  downgrade (a milder action does not replace a more severe one) unless ``force=True``, which
  operators use for manual decisions;
- ``renew``: the same action with a later expiry or review date;
- ``reinstate``: the action is lifted, with a reason.

An identical action proposed again is not a change and leaves no entry. The audit log is written
before the store, so a crash in between leaves the log ahead of the store, never behind; the
store is rebuilt from the log with :meth:`Enforcer.rebuild`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from distillguard.enforce.actions import Action, parse_subject
from distillguard.enforce.audit import AuditEntry, AuditLog, Change, Replay, replay
from distillguard.enforce.store.base import EnforcementStore, deadline
from distillguard.errors import InputError, NotFound


class Enforcer:
    """Writes actions to an :class:`EnforcementStore` and an :class:`AuditLog` in step."""

    def __init__(self, store: EnforcementStore, audit: AuditLog, *, renew_margin: float = 0.0):
        if not 0.0 <= renew_margin < 1.0:
            raise InputError("renew_margin must be in [0, 1)")
        self.store = store
        self.audit = audit
        # A same-effect action renews only when it extends the expiry (or review date) by more
        # than this share of its own remaining life: a detection run every hour then renews a
        # 30-day suspension every 15 days (margin 0.5), not every hour.
        self.renew_margin = renew_margin

    def plan(
        self, actions: Iterable[Action], *, now: datetime, force: bool = False
    ) -> list[Change]:
        """The changes that applying ``actions`` would make (nothing is written)."""
        now = now.astimezone(UTC)
        clock = now.timestamp()
        changes: list[Change] = []
        seen: set[str] = set()
        for action in actions:
            if action.subject in seen:
                continue  # one change per subject per batch; the first proposal wins
            seen.add(action.subject)
            current = self.store.get(action.subject, now=clock)
            if current is None:
                op = "apply"
            elif action.same_effect(current):
                if not self._extends(action, current, clock):
                    continue
                op = "renew"
            elif action.kind.severity < current.kind.severity and not force:
                continue
            else:
                op = "change"
            changes.append(
                Change(
                    ts=now,
                    subject=action.subject,
                    op=op,
                    actor=action.actor,
                    reason=action.reason,
                    previous=current,
                    new=action,
                    evidence=action.evidence,
                )
            )
        return changes

    def apply(
        self, actions: Iterable[Action], *, now: datetime, force: bool = False
    ) -> list[AuditEntry]:
        """Record and put every real change; return the audit entries written."""
        changes = self.plan(actions, now=now, force=force)
        entries = self.audit.append(changes)
        self.store.put_many(c.new for c in changes if c.new is not None)
        return entries

    def reinstate(self, subject: str, *, reason: str, actor: str, now: datetime) -> AuditEntry:
        """Lift the action in force on ``subject``; NotFound when there is none."""
        subject = parse_subject(subject)
        now = now.astimezone(UTC)
        current = self.store.get(subject, now=now.timestamp())
        if current is None:
            raise NotFound(f"no action is in force on {subject}")
        if not reason.strip():
            raise InputError("a reinstatement needs a reason: say why it is lifted")
        change = Change(now, subject, "reinstate", actor, reason, current, None)
        (entry,) = self.audit.append([change])
        self.store.remove(subject)
        return entry

    def rebuild(self, *, now: datetime) -> Replay:
        """Replay the audit log and make the store hold exactly its active actions."""
        result = replay(self.audit.entries())
        self.store.replace_all(result.active(now.astimezone(UTC)))
        return result

    def _extends(self, new: Action, current: Action, clock: float) -> bool:
        """True when ``new`` moves the expiry or the review date far enough to renew."""
        if _later(deadline(new), deadline(current), clock, self.renew_margin):
            return True
        if new.review_at is None:
            return False
        if current.review_at is None:
            return True
        return _later(
            new.review_at.timestamp(), current.review_at.timestamp(), clock, self.renew_margin
        )


def _later(new: float, current: float, clock: float, margin: float) -> bool:
    if new == float("inf") or current == float("inf"):
        return new > current
    return new - current > margin * max(new - clock, 0.0) and new > current
