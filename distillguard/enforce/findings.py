"""Reading a dg.findings.v1 document into the few fields the policy needs.

The document as a whole must be a dg.findings.v1 object (otherwise :class:`InputError`); a bad
account or campaign entry inside it is set aside in ``rejected`` with its position and reason,
and the rest is used.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distillguard.errors import InputError


@dataclass(frozen=True, slots=True)
class AccountFinding:
    account_id: str
    score: float
    flagged: bool
    campaign_id: str | None
    reasons: Sequence[Mapping[str, Any]]
    signals: frozenset[str]


@dataclass(frozen=True, slots=True)
class CampaignFinding:
    campaign_id: str
    account_ids: tuple[str, ...]
    confidence: float
    exit_addresses: tuple[str, ...] = ()  # infrastructure.exit_addresses, normalised


@dataclass
class Findings:
    generated_at: str
    accounts: dict[str, AccountFinding] = field(default_factory=dict)
    campaigns: dict[str, CampaignFinding] = field(default_factory=dict)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    _members: dict[str, list[str]] | None = field(default=None, repr=False)

    def members(self, campaign_id: str | None) -> list[str]:
        """Every account of a campaign: its ``account_ids`` and accounts that name it."""
        if self._members is None:
            index: dict[str, dict[str, None]] = {}
            for campaign in self.campaigns.values():
                index.setdefault(campaign.campaign_id, {}).update(
                    dict.fromkeys(campaign.account_ids)
                )
            for account in self.accounts.values():
                if account.campaign_id is not None:
                    index.setdefault(account.campaign_id, {})[account.account_id] = None
            self._members = {k: list(v) for k, v in index.items()}
        return self._members.get(campaign_id or "", [])


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def _account(raw: object) -> AccountFinding:
    if not isinstance(raw, Mapping):
        raise ValueError("not an object")
    account_id = raw.get("account_id")
    if not isinstance(account_id, str) or not account_id:
        raise ValueError("account_id missing or not a string")
    if not _number(raw.get("score")):
        raise ValueError("score must be a number in [0, 1]")
    if not isinstance(raw.get("flagged"), bool):
        raise ValueError("flagged must be true or false")
    campaign_id = raw.get("campaign_id")
    if campaign_id is not None and not isinstance(campaign_id, str):
        raise ValueError("campaign_id must be a string or null")
    reasons = raw.get("reasons")
    if not isinstance(reasons, list) or not all(
        isinstance(r, Mapping) and isinstance(r.get("signal"), str) for r in reasons
    ):
        raise ValueError("reasons must be a list of {signal, weight, detail}")
    return AccountFinding(
        account_id=account_id,
        score=float(raw["score"]),
        flagged=raw["flagged"],
        campaign_id=campaign_id,
        reasons=reasons,
        signals=frozenset(r["signal"] for r in reasons),
    )


def _campaign(raw: object) -> CampaignFinding:
    if not isinstance(raw, Mapping):
        raise ValueError("not an object")
    campaign_id = raw.get("campaign_id")
    if not isinstance(campaign_id, str) or not campaign_id:
        raise ValueError("campaign_id missing or not a string")
    ids = raw.get("account_ids")
    if not isinstance(ids, list) or not all(isinstance(a, str) for a in ids):
        raise ValueError("account_ids must be a list of strings")
    if not _number(raw.get("confidence")):
        raise ValueError("confidence must be a number in [0, 1]")
    infrastructure = raw.get("infrastructure")
    exits = infrastructure.get("exit_addresses", []) if isinstance(infrastructure, Mapping) else []
    if not isinstance(exits, list) or not all(isinstance(a, str) for a in exits):
        raise ValueError("infrastructure.exit_addresses must be a list of IP addresses")
    try:
        addresses = tuple(str(ipaddress.ip_address(a)) for a in exits)
    except ValueError as exc:
        raise ValueError(f"infrastructure.exit_addresses: {exc}") from None
    return CampaignFinding(campaign_id, tuple(ids), float(raw["confidence"]), addresses)


def read_findings(raw: Mapping[str, Any]) -> Findings:
    """Parse a findings document already loaded from JSON."""
    if not isinstance(raw, Mapping) or raw.get("schema") != "dg.findings.v1":
        raise InputError('findings: expected a JSON object with "schema": "dg.findings.v1"')
    accounts, campaigns = raw.get("accounts"), raw.get("campaigns")
    if not isinstance(accounts, list) or not isinstance(campaigns, list):
        raise InputError("findings: `accounts` and `campaigns` must be lists")
    out = Findings(generated_at=str(raw.get("generated_at", "")))
    for i, item in enumerate(campaigns):
        try:
            campaign = _campaign(item)
        except ValueError as exc:
            out.rejected.append((f"campaigns[{i}]", str(exc)))
            continue
        out.campaigns[campaign.campaign_id] = campaign
    for i, item in enumerate(accounts):
        try:
            account = _account(item)
        except ValueError as exc:
            out.rejected.append((f"accounts[{i}]", str(exc)))
            continue
        if account.account_id in out.accounts:
            out.rejected.append((f"accounts[{i}]", f"duplicate account {account.account_id}"))
            continue
        out.accounts[account.account_id] = account
    return out


def load_findings(path: str | Path) -> Findings:
    """Read ``findings.json`` from disk; InputError if it is missing or not JSON."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read findings {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"findings {path}: not valid JSON ({exc.msg} at line {exc.lineno})"
        ) from None
    return read_findings(raw)
