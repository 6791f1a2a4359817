"""A dg.findings.v1 document read into typed objects for the console, reports and STIX export.

The document is checked where it enters: a file that is not a findings document at all is an
:class:`~distillguard.errors.InputError`; a single account or campaign entry that breaks the
schema is set aside with its reason (``Findings.rejects``) and the rest is used.

>>> findings = read_findings(Path("out/findings.json"))  # doctest: +SKIP
>>> [c.campaign_id for c in findings.campaigns]  # doctest: +SKIP
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from distillguard.errors import InputError

SCHEMA = "dg.findings.v1"


@dataclass(frozen=True)
class Reason:
    """One signal behind an account's score."""

    signal: str
    weight: float
    detail: str


@dataclass(frozen=True)
class AccountFinding:
    """The detector's verdict on one account."""

    account_id: str
    score: float
    flagged: bool
    campaign_id: str | None
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Campaign:
    """One campaign as the detector reported it."""

    campaign_id: str
    account_ids: tuple[str, ...]
    requests: int
    first_seen: datetime
    last_seen: datetime
    confidence: float
    capabilities: dict[str, float]
    infrastructure: dict[str, Any]
    summary: str

    @property
    def size(self) -> int:
        """Number of accounts in the campaign."""
        return len(self.account_ids)


@dataclass
class Findings:
    """A whole findings document; ``rejects`` counts entries set aside per reason."""

    generated_at: datetime
    window_start: datetime
    window_end: datetime
    accounts: dict[str, AccountFinding]
    campaigns: list[Campaign]
    rejects: Counter[str] = field(default_factory=Counter)

    def campaign(self, campaign_id: str) -> Campaign | None:
        """The campaign with this id, or ``None``."""
        for campaign in self.campaigns:
            if campaign.campaign_id == campaign_id:
                return campaign
        return None


def parse_time(value: object, where: str) -> datetime:
    """Parse an RFC 3339 timestamp (``Z`` or an offset) into an aware datetime."""
    if not isinstance(value, str):
        raise InputError(f"{where}: expected an RFC 3339 string, got {type(value).__name__}")
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise InputError(f"{where}: {value[:40]!r} is not an RFC 3339 timestamp") from None
    if moment.tzinfo is None:
        raise InputError(f"{where}: {value[:40]!r} has no time zone")
    return moment


def _number(
    value: object, where: str, low: float | None = None, high: float | None = None
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where}: expected a number")
    if (low is not None and value < low) or (high is not None and value > high):
        raise InputError(f"{where}: {value} is outside [{low}, {high}]")
    return float(value)


def _account(raw: Any, where: str) -> AccountFinding:
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected an object")
    account_id = raw.get("account_id")
    if not isinstance(account_id, str) or not account_id:
        raise InputError(f"{where}: account_id must be a non-empty string")
    campaign_id = raw.get("campaign_id")
    if campaign_id is not None and not isinstance(campaign_id, str):
        raise InputError(f"{where}: campaign_id must be a string or null")
    flagged = raw.get("flagged")
    if not isinstance(flagged, bool):
        raise InputError(f"{where}: flagged must be a boolean")
    reasons = raw.get("reasons")
    if not isinstance(reasons, list):
        raise InputError(f"{where}: reasons must be a list")
    parsed = []
    for i, reason in enumerate(reasons):
        if not isinstance(reason, dict) or not isinstance(reason.get("signal"), str):
            raise InputError(f"{where}.reasons[{i}]: needs a string 'signal'")
        detail = reason.get("detail")
        parsed.append(
            Reason(
                reason["signal"],
                _number(reason.get("weight"), f"{where}.reasons[{i}].weight"),
                detail if isinstance(detail, str) else "",
            )
        )
    return AccountFinding(
        account_id,
        _number(raw.get("score"), f"{where}.score", 0.0, 1.0),
        flagged,
        campaign_id,
        tuple(parsed),
    )


def _campaign(raw: Any, where: str) -> Campaign:
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected an object")
    campaign_id = raw.get("campaign_id")
    if not isinstance(campaign_id, str) or not campaign_id:
        raise InputError(f"{where}: campaign_id must be a non-empty string")
    ids = raw.get("account_ids")
    if not isinstance(ids, list) or not all(isinstance(a, str) for a in ids):
        raise InputError(f"{where}: account_ids must be a list of strings")
    requests = raw.get("requests")
    if isinstance(requests, bool) or not isinstance(requests, int) or requests < 0:
        raise InputError(f"{where}: requests must be a non-negative integer")
    capabilities = raw.get("capabilities")
    if not isinstance(capabilities, dict):
        raise InputError(f"{where}: capabilities must be an object")
    infrastructure = raw.get("infrastructure")
    if not isinstance(infrastructure, dict):
        raise InputError(f"{where}: infrastructure must be an object")
    summary = raw.get("summary")
    return Campaign(
        campaign_id,
        tuple(ids),
        requests,
        parse_time(raw.get("first_seen"), f"{where}.first_seen"),
        parse_time(raw.get("last_seen"), f"{where}.last_seen"),
        _number(raw.get("confidence"), f"{where}.confidence", 0.0, 1.0),
        {str(k): _number(v, f"{where}.capabilities.{k}") for k, v in capabilities.items()},
        infrastructure,
        summary if isinstance(summary, str) else "",
    )


def parse_findings(document: Any, source: str = "findings") -> Findings:
    """Build :class:`Findings` from a decoded document; bad entries are counted and skipped."""
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise InputError(f"{source}: not a {SCHEMA} document (its 'schema' field must say so)")
    window = document.get("window")
    if not isinstance(window, dict):
        raise InputError(f"{source}: 'window' must be an object with start and end")
    rejects: Counter[str] = Counter()
    accounts: dict[str, AccountFinding] = {}
    for i, raw in enumerate(document.get("accounts") or []):
        try:
            finding = _account(raw, f"{source}: accounts[{i}]")
        except InputError:
            rejects["bad_account"] += 1
            continue
        if finding.account_id in accounts:
            rejects["duplicate_account"] += 1
            continue
        accounts[finding.account_id] = finding
    campaigns: list[Campaign] = []
    seen: set[str] = set()
    for i, raw in enumerate(document.get("campaigns") or []):
        try:
            campaign = _campaign(raw, f"{source}: campaigns[{i}]")
        except InputError:
            rejects["bad_campaign"] += 1
            continue
        if campaign.campaign_id in seen:
            rejects["duplicate_campaign"] += 1
            continue
        seen.add(campaign.campaign_id)
        campaigns.append(campaign)
    return Findings(
        parse_time(document.get("generated_at"), f"{source}: generated_at"),
        parse_time(window.get("start"), f"{source}: window.start"),
        parse_time(window.get("end"), f"{source}: window.end"),
        accounts,
        campaigns,
        rejects,
    )


def read_findings(path: Path) -> Findings:
    """Read and check a ``findings.json`` file."""
    try:
        document = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise InputError(f"{path}: no such findings file") from None
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from None
    return parse_findings(document, str(path))
