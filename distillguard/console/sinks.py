"""Action sinks backed by :mod:`distillguard.enforce`, and choosing a sink from options.

With ``--enforce-store URL`` the console's actions go through
:class:`distillguard.enforce.enforcer.Enforcer`: the action is put in the enforcement store the
gateway reads (``memory://`` or ``redis://...``) and recorded in the enforcement audit log
(hash-chained JSON Lines), so a suspension from the console takes effect at the gateway. Without
it, :class:`~distillguard.console.actions.AuditFile` records actions for review only.

Manual actions are ``force=True`` (an analyst may replace a harsher action with a milder one)
and carry a review date :data:`REVIEW_DAYS` ahead instead of an expiry.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from distillguard.console.actions import ActionEntry, ActionSink, AuditFile, check_action
from distillguard.errors import InputError, NotFound

if TYPE_CHECKING:
    from distillguard.enforce.audit import AuditEntry, AuditLog
    from distillguard.enforce.enforcer import Enforcer

REVIEW_DAYS = 30


def entry_from_audit(raw: AuditEntry) -> ActionEntry | None:
    """An enforcement audit entry as a console :class:`ActionEntry` (None if not an account)."""
    change = raw.change
    kind, _, account_id = change.subject.partition(":")
    if kind != "account":
        return None
    new = change.new
    if change.op == "reinstate" or new is None:
        return ActionEntry(change.ts, account_id, "reinstate", change.reason, change.actor)
    return ActionEntry(
        change.ts, account_id, str(new.kind), change.reason, change.actor, new.campaign_id
    )


class EnforcementSink:
    """Takes actions through an :class:`Enforcer` and reads history from its audit log."""

    def __init__(self, enforcer: Enforcer, audit: AuditLog) -> None:
        self.enforcer = enforcer
        self.audit = audit
        self._lock = threading.Lock()

    def apply(
        self,
        account_id: str,
        action: str,
        reason: str,
        *,
        actor: str,
        campaign_id: str | None = None,
    ) -> ActionEntry:
        """Put the action in the store and the audit log; reinstating lifts it."""
        from distillguard.enforce.actions import Action, ActionKind, Challenge, Throttle

        reason = check_action(action, reason)
        now = datetime.now(UTC)
        subject = f"account:{account_id}"
        with self._lock:
            if action == "reinstate":
                try:
                    self.enforcer.reinstate(subject, reason=reason, actor=actor, now=now)
                except NotFound:
                    raise InputError(
                        f"nothing is in force on {account_id}; no need to reinstate"
                    ) from None
            else:
                kind = ActionKind(action)
                entry = Action(
                    subject=subject,
                    kind=kind,
                    reason=reason,
                    actor=actor,
                    created_at=now,
                    review_at=now + timedelta(days=REVIEW_DAYS),
                    rule="console",
                    campaign_id=campaign_id,
                    throttle=Throttle(tier=0) if kind is ActionKind.THROTTLE else None,
                    # link="" rather than None: enforce.actions cannot read back a null link
                    challenge=Challenge(link="") if kind is ActionKind.CHALLENGE else None,
                )
                if not self.enforcer.apply([entry], now=now, force=True):
                    raise InputError(f"{action} is already in force on {account_id}")
        return ActionEntry(now, account_id, action, reason, actor, campaign_id)

    def history(self, account_id: str) -> list[ActionEntry]:
        """The account's entries in the enforcement audit log, oldest first."""
        subject = f"account:{account_id}"
        out = []
        for raw in self.audit.entries():
            if raw.change.subject == subject:
                entry = entry_from_audit(raw)
                if entry is not None:
                    out.append(entry)
        return out

    def recent(self, limit: int = 50) -> list[ActionEntry]:
        """The latest account actions in the audit log, newest first."""
        entries = [
            e for e in (entry_from_audit(raw) for raw in self.audit.entries()) if e is not None
        ]
        return list(reversed(entries[-limit:]))


def open_sink(enforce_store: str | None, audit_path: Path) -> ActionSink:
    """An :class:`EnforcementSink` on ``enforce_store`` with the audit log at ``audit_path``,
    or an :class:`AuditFile` at ``audit_path`` when no store is given."""
    if not enforce_store:
        return AuditFile(audit_path)
    from distillguard.enforce.audit import open_audit
    from distillguard.enforce.enforcer import Enforcer
    from distillguard.enforce.store import from_url

    audit = open_audit(audit_path)
    enforcer = Enforcer(from_url(enforce_store), audit)
    if enforce_store.startswith("memory:"):
        # an in-process store starts empty; a shared one (Redis) already holds the state
        enforcer.rebuild(now=datetime.now(UTC))
    return EnforcementSink(enforcer, audit)
