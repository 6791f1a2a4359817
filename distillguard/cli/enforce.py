"""``distillguard enforce``: apply findings through a policy, list, reinstate, read the audit log.

The store (``--store``, env ``DG_ENFORCE_STORE``, default ``memory://``) is what gateways read;
the audit log (``--audit``, env ``DG_ENFORCE_AUDIT``, default ``enforcement-audit.jsonl``) is
the record of every change. With ``memory://`` the store lives only as long as the command, so
each command first rebuilds it from the audit log; with Redis the store is shared and persistent.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from distillguard.enforce.actions import (
    Action,
    ActionKind,
    Challenge,
    Throttle,
    parse_duration,
    parse_subject,
    parse_time,
)
from distillguard.enforce.audit import (
    AuditEntry,
    AuditLog,
    MemoryAuditLog,
    open_audit,
    replay,
)
from distillguard.enforce.enforcer import Enforcer
from distillguard.enforce.findings import load_findings
from distillguard.enforce.output import OutputControls, Reasoning
from distillguard.enforce.policy import load_policy, plan_findings
from distillguard.enforce.signup import score_signups
from distillguard.enforce.store import MemoryStore, from_url
from distillguard.errors import InputError, SchemaError, StorageError
from distillguard.logs.files import discover, iter_raw
from distillguard.logs.validate import validate_account

_store_option = click.option(
    "--store",
    "store_url",
    envvar="DG_ENFORCE_STORE",
    default="memory://",
    show_default=True,
    help="Enforcement store URL (memory:// or redis://host:port/db).",
)
_audit_option = click.option(
    "--audit",
    "audit_path",
    envvar="DG_ENFORCE_AUDIT",
    default="enforcement-audit.jsonl",
    show_default=True,
    help="Audit log (a JSON Lines file).",
)
_json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON instead of a table."
)
_now_option = click.option(
    "--now", "now_text", default=None, help="Act as of this RFC 3339 time (default: now)."
)


def _now(text: str | None) -> datetime:
    return datetime.now(UTC) if text is None else parse_time(text, "--now")


@contextmanager
def _enforcer(
    store_url: str, audit_path: str, now: datetime, *, read_only: bool = False
) -> Iterator[Enforcer]:
    # One writer at a time per audit log: planning reads the current state, so two commands
    # planning at once could both record a change from the same previous state. A read-only
    # command (a dry run) writes nothing, so it neither locks nor creates the log.
    lock_path = f"{audit_path}.lock" if "://" not in audit_path and not read_only else None
    with _file_lock(lock_path):
        store = from_url(store_url)
        audit = _existing_audit(audit_path) if read_only else open_audit(audit_path)
        enforcer = Enforcer(store, audit)
        try:
            if isinstance(store, MemoryStore):
                enforcer.rebuild(now=now)
            yield enforcer
        finally:
            store.close()


def _existing_audit(audit_path: str) -> AuditLog:
    """The audit log to read from, without creating it: an empty one if there is no file yet."""
    local = audit_path.removeprefix("file://")
    if "://" not in local and not Path(local).exists():
        return MemoryAuditLog()
    return open_audit(audit_path)


@contextmanager
def _file_lock(path: str | None) -> Iterator[None]:
    if path is None:
        yield
        return
    try:
        handle = open(path, "a")  # noqa: SIM115 (held for the whole block)
    except OSError as exc:
        raise StorageError(f"cannot open lock file {path}: {exc.strerror}") from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _ts(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")


def _emit(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@click.group()
def enforce() -> None:
    """Graduated, audited enforcement: actions from findings, reinstatements, the audit log."""


def _read_accounts(path: Path) -> tuple[dict[str, dict[str, Any]], int]:
    records: dict[str, dict[str, Any]] = {}
    rejected = 0
    for file in discover(path):
        for raw in iter_raw(file):
            try:
                if raw.error is not None:
                    raise SchemaError(*raw.error)
                validate_account(raw.value)
            except SchemaError:
                rejected += 1
                continue
            records[raw.value["account_id"]] = raw.value
    return records, rejected


@enforce.command("apply")
@click.option("--findings", "findings_path", required=True, type=click.Path(path_type=Path))
@click.option(
    "--policy",
    "policy_path",
    default=None,
    type=click.Path(path_type=Path),
    help="Policy TOML (default: the shipped default policy).",
)
@click.option(
    "--accounts",
    "accounts_path",
    default=None,
    type=click.Path(path_type=Path),
    help="dg.account.v1 records, for the organization and verification allowlists.",
)
@click.option("--dry-run", is_flag=True, help="Show the changes without making them.")
@_store_option
@_audit_option
@_json_option
@_now_option
def apply_command(
    findings_path: Path,
    policy_path: Path | None,
    accounts_path: Path | None,
    dry_run: bool,
    store_url: str,
    audit_path: str,
    as_json: bool,
    now_text: str | None,
) -> None:
    """Apply a findings.json through a policy: store the actions and audit every change."""
    now = _now(now_text)
    policy = load_policy(policy_path)
    findings = load_findings(findings_path)
    accounts, bad_accounts = _read_accounts(accounts_path) if accounts_path else ({}, 0)
    plan = plan_findings(policy, findings, now, accounts=accounts)
    with _enforcer(store_url, audit_path, now, read_only=dry_run) as enforcer:
        changes = enforcer.plan(plan.actions, now=now)
        pruned = 0
        if not dry_run:
            enforcer.apply(plan.actions, now=now)
            pruned = enforcer.store.prune(now.timestamp())  # housekeeping, not a state change
    summary = {
        "dry_run": dry_run,
        "proposed": len(plan.actions),
        "changes": len(changes),
        "unchanged": len(plan.actions) - len(changes),
        "allowlisted": plan.allowlisted,
        "rejected_findings": [{"where": w, "reason": r} for w, r in plan.rejected],
        "rejected_account_records": bad_accounts,
        "pruned_expired": pruned,
    }
    if as_json:
        summary["changes_made" if not dry_run else "changes_planned"] = [
            {"subject": c.subject, "op": c.op, "new": c.new.to_dict() if c.new else None}
            for c in changes
        ]
        _emit(summary)
        return
    table = Table(title="Planned changes" if dry_run else "Changes made")
    for column in ("subject", "op", "action", "rule", "expires", "review", "reason"):
        table.add_column(column)
    for c in changes:
        assert c.new is not None
        table.add_row(
            c.subject,
            c.op,
            str(c.new.kind),
            c.new.rule or "",
            _ts(c.new.expires_at),
            _ts(c.new.review_at),
            c.reason,
        )
    console = Console()
    console.print(table)
    console.print(
        f"{summary['proposed']} actions proposed, {summary['changes']} changes, "
        f"{summary['unchanged']} unchanged, {len(plan.allowlisted)} allowlisted, "
        f"{len(plan.rejected)} findings entries and {bad_accounts} account records rejected"
    )
    for where, reason in plan.rejected:
        console.print(f"  rejected {where}: {reason}")


@enforce.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include expired actions.")
@_store_option
@_audit_option
@_json_option
@_now_option
def list_command(
    show_all: bool, store_url: str, audit_path: str, as_json: bool, now_text: str | None
) -> None:
    """List the actions in force."""
    now = _now(now_text)
    with _enforcer(store_url, audit_path, now) as enforcer:
        actions = [a for a in enforcer.store.actions() if show_all or a.active(now)]
    if as_json:
        _emit([a.to_dict() for a in actions])
        return
    table = Table(title=f"Enforcement actions ({len(actions)})")
    for column in ("subject", "action", "actor", "rule", "campaign", "expires", "review", "reason"):
        table.add_column(column)
    for a in actions:
        review = _ts(a.review_at) + (" (due)" if a.review_at and a.review_at <= now else "")
        expires = _ts(a.expires_at) + ("" if a.active(now) else " (expired)")
        table.add_row(
            a.subject,
            str(a.kind),
            a.actor,
            a.rule or "",
            a.campaign_id or "",
            expires,
            review,
            a.reason,
        )
    Console().print(table)


@enforce.command("add")
@click.argument("subject")
@click.option("--action", "kind", required=True, type=click.Choice([k.value for k in ActionKind]))
@click.option("--reason", required=True)
@click.option("--actor", default="operator", show_default=True)
@click.option("--duration", default=None, help="Expiry, e.g. 12h, 7d (or give --review-after).")
@click.option("--review-after", default=None, help="Review date, e.g. 7d.")
@click.option("--tier", type=int, default=None, help="throttle: the tier to apply.")
@click.option(
    "--require",
    "required",
    default="id",
    show_default=True,
    help="challenge: verification level that lifts it.",
)
@click.option("--link", default=None, help="challenge: verification link.")
@click.option(
    "--max-account-age",
    default=None,
    help="challenge: only accounts younger than this (e.g. 30d) meet it; for ip: and prefix:.",
)
@click.option(
    "--reasoning",
    type=click.Choice([r.value for r in Reasoning]),
    default="none",
    show_default=True,
    help="degrade: reasoning exposure.",
)
@_store_option
@_audit_option
@_now_option
def add_command(
    subject: str,
    kind: str,
    reason: str,
    actor: str,
    duration: str | None,
    review_after: str | None,
    tier: int | None,
    required: str,
    link: str | None,
    max_account_age: str | None,
    reasoning: str,
    store_url: str,
    audit_path: str,
    now_text: str | None,
) -> None:
    """Put an operator's action on SUBJECT (account:…, key:…, org:…, ip:…, prefix:…)."""
    now = _now(now_text)
    if duration is None and review_after is None:
        raise InputError("give --duration or --review-after: every action expires or is reviewed")
    action_kind = ActionKind(kind)
    action = Action(
        subject=parse_subject(subject),
        kind=action_kind,
        reason=reason,
        actor=actor,
        created_at=now,
        expires_at=None if duration is None else now + parse_duration(duration, "--duration"),
        review_at=None
        if review_after is None
        else now + parse_duration(review_after, "--review-after"),
        throttle=Throttle(tier=0 if tier is None else tier)
        if action_kind is ActionKind.THROTTLE
        else None,
        degrade=OutputControls.from_mapping(
            {"reasoning": reasoning, "logprobs": "refuse", "logit_bias": False, "max_n": 1}
        )
        if action_kind is ActionKind.DEGRADE
        else None,
        challenge=_challenge(required, link, max_account_age)
        if action_kind is ActionKind.CHALLENGE
        else None,
    )
    with _enforcer(store_url, audit_path, now) as enforcer:
        entries = enforcer.apply([action], now=now, force=True)
    click.echo(
        f"{action.subject}: {entries[0].change.op} {kind}"
        if entries
        else f"{action.subject}: unchanged (the same action is already in force)"
    )


def _challenge(required: str, link: str | None, max_account_age: str | None) -> Challenge:
    raw: dict[str, Any] = {"required_verification": required}
    if link:
        raw["link"] = link
    if max_account_age:
        raw["max_account_age"] = parse_duration(
            max_account_age, "--max-account-age"
        ).total_seconds()
    return Challenge.from_mapping(raw)


@enforce.command("reinstate")
@click.argument("subject")
@click.option("--reason", required=True, help="Why the action is lifted (recorded).")
@click.option("--actor", default="operator", show_default=True)
@_store_option
@_audit_option
@_now_option
def reinstate_command(
    subject: str, reason: str, actor: str, store_url: str, audit_path: str, now_text: str | None
) -> None:
    """Lift the action in force on SUBJECT, with a reason."""
    now = _now(now_text)
    with _enforcer(store_url, audit_path, now) as enforcer:
        entry = enforcer.reinstate(subject, reason=reason, actor=actor, now=now)
    previous = entry.change.previous
    click.echo(f"{entry.change.subject}: reinstated (was {previous.kind if previous else '-'})")


def _entry_row(e: AuditEntry) -> list[str]:
    c = e.change
    before = str(c.previous.kind) if c.previous else "-"
    after = str(c.new.kind) if c.new else "-"
    return [str(e.seq), _ts(c.ts), c.subject, c.op, f"{before} → {after}", c.actor, c.reason]


@enforce.command("audit")
@click.option("--subject", default=None, help="Only this subject.")
@click.option("--limit", type=int, default=None, help="Only the last N entries.")
@_audit_option
@_json_option
def audit_command(subject: str | None, limit: int | None, audit_path: str, as_json: bool) -> None:
    """Show the audit log."""
    log = open_audit(audit_path)
    wanted = None if subject is None else parse_subject(subject)
    entries = [e for e in log.entries() if wanted is None or e.change.subject == wanted]
    if limit is not None:
        entries = entries[-limit:]
    if as_json:
        _emit([e.to_dict() for e in entries])
        return
    table = Table(title=f"Audit log {audit_path}")
    for column in ("#", "when", "subject", "op", "state", "actor", "reason"):
        table.add_column(column)
    for e in entries:
        table.add_row(*_entry_row(e))
    console = Console()
    console.print(table)
    if log.rejected:
        console.print(
            f"{len(log.rejected)} unreadable lines: "
            + ", ".join(str(n) for n, _ in log.rejected[:20])
        )


@enforce.command("replay-audit")
@click.option("--force", is_flag=True, help="Clear the store even if the audit log is empty.")
@_store_option
@_audit_option
@_json_option
@_now_option
def replay_audit_command(
    force: bool, store_url: str, audit_path: str, as_json: bool, now_text: str | None
) -> None:
    """Rebuild the store from the audit log and check the log's integrity."""
    now = _now(now_text)
    log = open_audit(audit_path)
    result = replay(log.entries())
    store = from_url(store_url)
    try:
        before = {a.subject: a for a in store.actions() if a.active(now)}
        if result.entries == 0 and before and not force:
            raise InputError(
                f"audit log {audit_path} is empty; refusing to clear {len(before)} actions "
                "from the store (check --audit, or pass --force)"
            )
        active = result.active(now)
        store.replace_all(active)
    finally:
        store.close()
    after = {a.subject: a for a in active}
    differences = sorted(s for s in before.keys() | after.keys() if before.get(s) != after.get(s))
    report = {
        "entries": result.entries,
        "active_actions": len(active),
        "store_differences_repaired": differences if not isinstance(store, MemoryStore) else [],
        "unreadable_lines": [{"line": n, "reason": r} for n, r in log.rejected],
        "problems": result.problems,
    }
    if as_json:
        _emit(report)
    else:
        click.echo(f"{result.entries} entries replayed, {len(active)} actions in force")
        for problem in result.problems:
            click.echo(f"  problem: {problem}")
        for line, reason in log.rejected:
            click.echo(f"  unreadable line {line}: {reason}")
    if result.problems or log.rejected:
        raise InputError(
            f"audit log {audit_path} is inconsistent: {len(result.problems)} problems, "
            f"{len(log.rejected)} unreadable lines"
        )


@enforce.command("signup-risk")
@click.option(
    "--accounts",
    "accounts_path",
    required=True,
    type=click.Path(path_type=Path),
    help="dg.account.v1 records (a file or a directory).",
)
@click.option(
    "--min-score",
    type=float,
    default=0.0,
    show_default=True,
    help="Only show accounts at or above this score.",
)
@_json_option
def signup_risk_command(accounts_path: Path, min_score: float, as_json: bool) -> None:
    """Score sign-ups for signs of an account farm, each against the sign-ups before it."""
    records, bad = _read_accounts(accounts_path)
    scores, rejected = score_signups(records.values())
    shown = sorted((s for s in scores if s.score >= min_score), key=lambda s: -s.score)
    if as_json:
        _emit(
            {
                "accounts": [
                    {"account_id": s.account_id, "score": s.score, "reasons": s.reasons}
                    for s in shown
                ],
                "rejected": bad + len(rejected),
            }
        )
        return
    table = Table(title=f"Sign-up risk ({len(shown)} of {len(scores)} accounts)")
    for column in ("account", "score", "reasons"):
        table.add_column(column)
    for s in shown:
        table.add_row(s.account_id, f"{s.score:.2f}", "; ".join(r["detail"] for r in s.reasons))
    console = Console()
    console.print(table)
    if bad or rejected:
        console.print(f"{bad + len(rejected)} account records rejected")
