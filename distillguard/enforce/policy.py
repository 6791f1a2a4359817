"""The enforcement policy: a TOML file of rules from detection findings to actions.

A policy is read once with :func:`load_policy` (or :func:`parse_policy`) and applied to a
dg.findings.v1 document with :func:`apply_findings`, a pure function of the policy, the findings,
the current time and (optionally) the dg.account.v1 records for allowlisting. The file format is
documented in ``default_policy.toml`` next to this module, which is also the shipped default.

Matching: every condition in a rule's ``when`` table must hold. Every account gets the most
severe action of all rules that match it (ties go to the earlier rule, then to a direct match over
a cascaded one). A rule with ``cascade = "campaign"`` gives its action to every account of the
matched account's campaign. A challenge rule with ``cascade = "addresses"`` gives its action
to the campaign's exit addresses (``ip:`` subjects, from ``infrastructure.exit_addresses``), not
to accounts: a caller there below the challenge's verification level meets it on its first
request, whatever account it uses. Allowlisted accounts and organizations are never actioned.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from distillguard.enforce.actions import Action, ActionKind, Challenge, Throttle, parse_duration
from distillguard.enforce.findings import AccountFinding, Findings, read_findings
from distillguard.enforce.output import VERIFICATION_LEVELS, OutputControls
from distillguard.errors import ConfigurationError

_WHEN_KEYS = {
    "flagged": bool,
    "score_min": float,
    "score_max": float,
    "signals_any": list,
    "signals_all": list,
    "campaign": bool,
    "campaign_confidence_min": float,
    "campaign_size_min": int,
}
CASCADES = ("none", "campaign", "addresses")
_RULE_KEYS = {"name", "action", "when", "duration", "review_after", "cascade", "reason", "enabled"}
_RULE_KEYS |= {"throttle", "degrade", "challenge"}


@dataclass(frozen=True, slots=True)
class Rule:
    """One policy rule: conditions on a findings entry, and the action they lead to."""

    name: str
    kind: ActionKind
    when: Mapping[str, Any]
    duration: timedelta | None
    review_after: timedelta | None
    cascade: str = "none"  # "none" | "campaign" | "addresses"
    reason: str | None = None
    throttle: Throttle | None = None
    degrade: OutputControls | None = None
    challenge: Challenge | None = None

    def matches(self, entry: AccountFinding, findings: Findings) -> bool:
        w = self.when
        if "flagged" in w and entry.flagged is not w["flagged"]:
            return False
        if "score_min" in w and entry.score < w["score_min"]:
            return False
        if "score_max" in w and entry.score > w["score_max"]:
            return False
        signals = entry.signals
        if "signals_any" in w and not signals.intersection(w["signals_any"]):
            return False
        if "signals_all" in w and not signals.issuperset(w["signals_all"]):
            return False
        campaign = findings.campaigns.get(entry.campaign_id or "")
        if "campaign" in w and (campaign is not None) is not w["campaign"]:
            return False
        if "campaign_confidence_min" in w and (
            campaign is None or campaign.confidence < w["campaign_confidence_min"]
        ):
            return False
        return "campaign_size_min" not in w or (
            campaign is not None and len(campaign.account_ids) >= w["campaign_size_min"]
        )


@dataclass(frozen=True, slots=True)
class Policy:
    """A parsed policy: ordered rules, allowlists, defaults."""

    rules: tuple[Rule, ...]
    allow_accounts: frozenset[str] = frozenset()
    allow_orgs: frozenset[str] = frozenset()
    allow_verification: str | None = None  # accounts at or above this level are never actioned
    actor: str = "policy"
    default_duration: timedelta = timedelta(days=7)


@dataclass
class Plan:
    """What :func:`plan_findings` decided: the actions, and what it left out and why."""

    actions: list[Action] = field(default_factory=list)
    allowlisted: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (where, reason)


def load_policy(path: str | Path | None = None) -> Policy:
    """Read a policy file; ``None`` reads the shipped ``default_policy.toml``."""
    if path is None:
        text = resources.files("distillguard.enforce").joinpath("default_policy.toml").read_text()
        return parse_policy(text, source="default_policy.toml")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read policy {path}: {exc.strerror}") from None
    return parse_policy(text, source=str(path))


def parse_policy(text: str, *, source: str = "<policy>") -> Policy:
    """Parse and validate policy TOML; any problem is a ConfigurationError saying what to fix."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{source}: not valid TOML: {exc}") from None
    unknown = set(raw) - {"version", "defaults", "allowlist", "rules"}
    if unknown:
        raise ConfigurationError(
            f"{source}: unknown top-level key(s) {sorted(unknown)}; "
            "use version, defaults, allowlist, rules"
        )
    if raw.get("version", 1) != 1:
        raise ConfigurationError(f"{source}: version {raw['version']!r} is not supported; use 1")
    defaults = _table(raw.get("defaults", {}), f"{source}: [defaults]", {"actor", "duration"})
    duration = parse_duration(defaults.get("duration", "7d"), f"{source}: defaults.duration")
    allow = _table(
        raw.get("allowlist", {}), f"{source}: [allowlist]", {"accounts", "orgs", "verification"}
    )
    level = allow.get("verification")
    if level is not None and level not in VERIFICATION_LEVELS:
        raise ConfigurationError(
            f"{source}: allowlist.verification {level!r} is not one of {', '.join(VERIFICATION_LEVELS)}"
        )
    rules_raw = raw.get("rules")
    if not isinstance(rules_raw, list) or not rules_raw:
        raise ConfigurationError(f"{source}: add at least one [[rules]] table")
    parsed = [(_rule(r, i, source), _enabled(r, i, source)) for i, r in enumerate(rules_raw)]
    names = [r.name for r, _ in parsed]
    if len(set(names)) != len(names):
        raise ConfigurationError(f"{source}: rule names must be unique; got {names}")
    rules = tuple(r for r, enabled in parsed if enabled)
    if not rules:
        raise ConfigurationError(f"{source}: every rule is disabled; enable at least one")
    return Policy(
        rules=rules,
        allow_accounts=frozenset(
            _strings(allow.get("accounts", []), f"{source}: allowlist.accounts")
        ),
        allow_orgs=frozenset(_strings(allow.get("orgs", []), f"{source}: allowlist.orgs")),
        allow_verification=level,
        actor=str(defaults.get("actor", "policy")),
        default_duration=duration,
    )


def _table(value: object, where: str, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{where} must be a table")
    unknown = set(value) - allowed
    if unknown:
        raise ConfigurationError(
            f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}"
        )
    return value


def _strings(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigurationError(f"{where} must be a list of strings")
    return value


def _enabled(raw: object, index: int, source: str) -> bool:
    """A rule's ``enabled`` flag (default true); a disabled rule is checked, then left out."""
    value = raw.get("enabled", True) if isinstance(raw, Mapping) else True
    if not isinstance(value, bool):
        raise ConfigurationError(f"{source}: rules[{index}].enabled: must be true or false")
    return value


def _rule(raw: object, index: int, source: str) -> Rule:
    where = f"{source}: rules[{index}]"
    table = _table(raw, where, _RULE_KEYS)
    name = table.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigurationError(f"{where}: give the rule a name")
    where = f"{source}: rule {name!r}"
    try:
        kind = ActionKind(str(table.get("action")))
    except ValueError:
        raise ConfigurationError(
            f"{where}: action {table.get('action')!r} is not one of {', '.join(ActionKind)}"
        ) from None
    when = _table(table.get("when", {}), f"{where}.when", set(_WHEN_KEYS))
    if not when:
        raise ConfigurationError(f"{where}: give at least one condition in its `when` table")
    for key, value in when.items():
        expected = _WHEN_KEYS[key]
        ok = isinstance(value, expected) and not (expected is not bool and isinstance(value, bool))
        if expected is float:
            ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1
        if expected is list:
            ok = ok and all(isinstance(s, str) for s in value)
        if not ok:
            raise ConfigurationError(f"{where}.when.{key}: {value!r} has the wrong type")
    duration = table.get("duration")
    review = table.get("review_after")
    cascade = table.get("cascade", "none")
    if cascade not in CASCADES:
        raise ConfigurationError(f'{where}.cascade: use "none", "campaign" or "addresses"')
    if cascade == "addresses" and kind is not ActionKind.CHALLENGE:
        # an address is shared by whoever uses it next: only an action a person can clear
        raise ConfigurationError(f'{where}: cascade = "addresses" is for challenge rules only')
    params: dict[str, Any] = {}
    for key, build in (
        ("throttle", Throttle.from_mapping),
        ("degrade", OutputControls.from_mapping),
        ("challenge", Challenge.from_mapping),
    ):
        if key in table:
            if key != kind.value:
                raise ConfigurationError(f"{where}: a {kind} rule takes no [{key}] table")
            params[key] = build(
                _table(table[key], f"{where}.{key}", set(table[key])), where=f"{where}.{key}"
            )
    if kind in (ActionKind.THROTTLE, ActionKind.DEGRADE) and kind.value not in params:
        raise ConfigurationError(f"{where}: a {kind} rule needs a [{kind}] table")
    if kind is ActionKind.CHALLENGE and "challenge" not in params:
        params["challenge"] = Challenge()
    return Rule(
        name=name,
        kind=kind,
        when=dict(when),
        duration=None if duration is None else parse_duration(duration, f"{where}.duration"),
        review_after=None if review is None else parse_duration(review, f"{where}.review_after"),
        cascade=cascade,
        reason=table.get("reason"),
        **params,
    )


def plan_findings(
    policy: Policy,
    findings: Mapping[str, Any] | Findings,
    now: datetime,
    *,
    accounts: Mapping[str, Mapping[str, Any]] | None = None,
) -> Plan:
    """Decide the actions for a findings document; see the module docstring for the rules."""
    parsed = findings if isinstance(findings, Findings) else read_findings(findings)
    plan = Plan(rejected=list(parsed.rejected))
    best: dict[str, tuple[tuple[int, int, int], Action]] = {}
    cascaded: set[tuple[int, str]] = set()  # (rule, campaign) already cascaded
    for entry in parsed.accounts.values():
        for index, rule in enumerate(policy.rules):
            if not rule.matches(entry, parsed):
                continue
            direct = f"account:{entry.account_id}"
            targets = [] if rule.cascade == "addresses" else [direct]
            campaign = parsed.campaigns.get(entry.campaign_id or "")
            key = (index, entry.campaign_id or "")
            if rule.cascade != "none" and campaign is not None and key not in cascaded:
                cascaded.add(key)  # the first member to match speaks for the campaign
                if rule.cascade == "addresses":
                    targets += [f"ip:{a}" for a in campaign.exit_addresses]
                else:
                    targets += [
                        f"account:{a}"
                        for a in parsed.members(campaign.campaign_id)
                        if a != entry.account_id
                    ]
            for target in targets:
                rank = (rule.kind.severity, -index, int(target == direct))
                current = best.get(target)
                if current is None or rank > current[0]:
                    best[target] = (rank, _action(policy, rule, entry, parsed, target, now))
    for subject in sorted(best):
        kind, _, value = subject.partition(":")
        if kind == "account" and _allowlisted(policy, value, accounts):
            plan.allowlisted.append(value)
        else:
            plan.actions.append(best[subject][1])
    return plan


def apply_findings(
    policy: Policy,
    findings: Mapping[str, Any] | Findings,
    now: datetime,
    *,
    accounts: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Action]:
    """The actions ``policy`` takes on ``findings`` at ``now`` (pure; nothing is stored)."""
    return plan_findings(policy, findings, now, accounts=accounts).actions


def _allowlisted(
    policy: Policy, account_id: str, accounts: Mapping[str, Mapping[str, Any]] | None
) -> bool:
    if account_id in policy.allow_accounts:
        return True
    record = (accounts or {}).get(account_id) or {}
    if record.get("org_id") is not None and record["org_id"] in policy.allow_orgs:
        return True
    level = record.get("verification")
    return (
        policy.allow_verification is not None
        and level in VERIFICATION_LEVELS
        and VERIFICATION_LEVELS.index(level) >= VERIFICATION_LEVELS.index(policy.allow_verification)
    )


def _action(
    policy: Policy,
    rule: Rule,
    entry: AccountFinding,
    findings: Findings,
    target: str,
    now: datetime,
) -> Action:
    """``rule``'s action on ``target`` (a subject), matched on ``entry``."""
    direct = target == f"account:{entry.account_id}"
    campaign = findings.campaigns.get(entry.campaign_id or "")
    evidence: dict[str, Any] = {
        "score": entry.score,
        "flagged": entry.flagged,
        "reasons": [dict(r) for r in _top(entry.reasons)],
        "findings_generated_at": findings.generated_at,
    }
    if campaign is not None:
        evidence["campaign_confidence"] = campaign.confidence
        evidence["campaign_size"] = len(campaign.account_ids)
    if not direct:
        evidence["cascade_from"] = entry.account_id
    reason = rule.reason or f"rule {rule.name}: score {entry.score:.2f}"
    if target.startswith("ip:"):
        reason += f" (exit address of campaign {entry.campaign_id})"
    elif not direct:
        reason += f" (campaign cascade from account {entry.account_id})"
    duration = rule.duration
    if duration is None and rule.review_after is None:
        duration = policy.default_duration
    return Action(
        subject=target,
        kind=rule.kind,
        reason=reason,
        actor=policy.actor,
        created_at=now,
        expires_at=None if duration is None else now + duration,
        review_at=None if rule.review_after is None else now + rule.review_after,
        rule=rule.name,
        campaign_id=entry.campaign_id,
        evidence=evidence,
        throttle=rule.throttle,
        degrade=rule.degrade,
        challenge=rule.challenge,
    )


def _top(reasons: Sequence[Mapping[str, Any]], n: int = 5) -> list[Mapping[str, Any]]:
    return sorted(reasons, key=lambda r: -float(r.get("weight", 0)))[:n]
