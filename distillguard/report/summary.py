"""What a report says: the figures per campaign and overall, and the sentences that carry them.

:func:`build_report` turns a loaded :class:`~distillguard.console.dataset.Dataset` (and the
actions taken, from an audit log) into one plain, JSON-ready ``dict``. The Markdown and HTML
renderers (:mod:`distillguard.report.render`) only lay it out, so the three formats always
agree. Interactions are the campaign's request count from the findings; shares of methods,
infrastructure and gateway decisions come from the request logs that were loaded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from distillguard.console.actions import ActionEntry
from distillguard.console.dataset import Dataset
from distillguard.console.findings import Campaign
from distillguard.report.methods import label
from distillguard.report.prose import (
    about,
    capability_words,
    interactions,
    listing,
    percent,
    period,
    plural,
)

SCHEMA = "dg.report.v1"
ACTION_VERBS = {
    "suspend": "suspended",
    "challenge": "challenged",
    "throttle": "throttled",
    "reinstate": "reinstated",
}


DECISION_VERBS = {
    "throttle": "throttled",
    "block": "blocked",
    "challenge": "challenged",
    "degrade": "degraded",
}
# sign-up paths most abused to farm accounts (public reports on distillation campaigns)
ABUSED_PROGRAMS = ("education", "research", "startup")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _infra(data: Dataset, campaign: Campaign) -> dict[str, Any]:
    def rows(kind: str) -> list[dict[str, Any]]:
        return [
            {"value": r.value, "requests": r.requests, "accounts": r.accounts}
            for r in data.infrastructure(campaign.campaign_id, kind, 8)
        ]

    infra = campaign.infrastructure
    ips = infra.get("ips")
    return {
        "ips": ips if isinstance(ips, int) else data.distinct_count(campaign.campaign_id, "ip"),
        "asns": [a for a in infra.get("asns", []) if isinstance(a, int)],
        "top_networks": [str(n) for n in infra.get("top_networks", [])],
        "prefixes": data.distinct_count(campaign.campaign_id, "prefix"),
        "top_prefixes": rows("prefix"),
        "ja4": data.distinct_count(campaign.campaign_id, "ja4"),
        "top_ja4": rows("ja4"),
        "top_templates": rows("template"),
    }


def _overall_infra(data: Dataset, campaigns: list[Campaign]) -> dict[str, Any]:
    if not campaigns:
        return {}
    asns = sorted(
        {a for c in campaigns for a in c.infrastructure.get("asns", []) if isinstance(a, int)}
    )
    observed = data.distinct_count(None, "ip")
    reported = sum(
        c.infrastructure.get("ips", 0) or 0
        for c in campaigns
        if isinstance(c.infrastructure.get("ips"), int)
    )
    return {
        "ips": observed or reported,
        "asns": asns,
        "top_networks": [],
        "prefixes": data.distinct_count(None, "prefix"),
        "top_prefixes": [
            {"value": r.value, "requests": r.requests, "accounts": r.accounts}
            for r in data.total_infrastructure("prefix", 8)
        ],
        "ja4": data.distinct_count(None, "ja4"),
        "top_ja4": [
            {"value": r.value, "requests": r.requests, "accounts": r.accounts}
            for r in data.total_infrastructure("ja4", 8)
        ],
        "top_templates": [],
    }


def _actions(entries: Iterable[ActionEntry], accounts: set[str]) -> dict[str, int]:
    """Accounts that received each action at least once."""
    seen: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        if entry.account_id in accounts:
            seen[entry.action].add(entry.account_id)
    return {action: len(ids) for action, ids in sorted(seen.items())}


def _method_shares(total: int, counts: dict[str, int]) -> dict[str, float]:
    return {name: n / total for name, n in counts.items() if n} if total else {}


def _sentences(
    name: str, accounts: int, requests: int, first: datetime, last: datetime, part: dict[str, Any]
) -> list[str]:
    caps = listing(capability_words(part["capabilities"])) if part["capabilities"] else ""
    lead = (
        f"{name}: {about(accounts)} {plural(accounts, 'account')},"
        f" {interactions(requests)} {plural(requests, 'interaction')} {period(first, last)}"
    )
    out = [lead + (f", aimed at {caps}." if caps else ".")]
    methods = sorted(part["methods"].items(), key=lambda kv: -kv[1])
    if methods:
        words = [f"{label(m)} in {percent(s)}" for m, s in methods]
        out.append(f"Methods seen in the requests: {listing(words)}.")
    infra = part["infrastructure"]
    if infra:
        asns = ", ".join(f"AS{a}" for a in infra["asns"][:6])
        text = f"They came from {infra['ips']:,} IP {plural(infra['ips'], 'address', 'addresses')}"
        text += (
            f" in {infra['prefixes']:,} network {plural(infra['prefixes'], 'prefix', 'prefixes')}"
        )
        text += f" ({asns})" if asns else ""
        if infra["ja4"]:
            text += (
                f", using {infra['ja4']:,} TLS client {plural(infra['ja4'], 'fingerprint')} (JA4)"
            )
        out.append(text + ".")
    programs = part["programs"]
    special = {p: n for p, n in programs.items() if p in ABUSED_PROGRAMS}
    if special:
        total = sum(programs.values())
        n = sum(special.values())
        who = f"All {total:,} accounts" if n == total else f"{n:,} of the {total:,} accounts"
        names = listing(sorted(special, key=lambda p: -special[p]))
        out.append(f"{who} signed up through the {names} {plural(len(special), 'program')}.")
    acted = [f"{n:,} {ACTION_VERBS.get(a, a)}" for a, n in part["actions"].items() if n]
    refused = [
        f"{DECISION_VERBS.get(d, d)} {n:,}"
        for d, n in part["gateway"].items()
        if d != "allow" and n
    ]
    if acted:
        out.append(f"Accounts acted on: {listing(acted)}.")
    if refused:
        out.append(f"The gateway {listing(refused)} of their requests.")
    if not acted and not refused:
        out.append("No enforcement action is recorded yet.")
    return out


def campaign_part(data: Dataset, campaign: Campaign, entries: list[ActionEntry]) -> dict[str, Any]:
    """The report section of one campaign."""
    cid = campaign.campaign_id
    total, counts = data.methods(cid)
    part: dict[str, Any] = {
        "campaign_id": cid,
        "accounts": campaign.size,
        "interactions": campaign.requests,
        "requests_in_logs": data.observed_requests(cid),
        "first_seen": _iso(campaign.first_seen),
        "last_seen": _iso(campaign.last_seen),
        "confidence": campaign.confidence,
        "detector_summary": campaign.summary,
        "capabilities": dict(sorted(campaign.capabilities.items(), key=lambda kv: -kv[1])),
        "methods": _method_shares(total, counts),
        "infrastructure": _infra(data, campaign),
        "programs": data.programs(cid),
        "actions": _actions(entries, set(campaign.account_ids)),
        "gateway": data.decisions(cid),
        "daily": [[d.isoformat(), n] for d, n in data.daily(cid)],
    }
    part["sentences"] = _sentences(
        f"Campaign {cid}",
        campaign.size,
        campaign.requests,
        campaign.first_seen,
        campaign.last_seen,
        part,
    )
    return part


def build_report(
    data: Dataset, entries: Iterable[ActionEntry] = (), *, title: str | None = None
) -> dict[str, Any]:
    """Every campaign's section and the overall one, as a JSON-ready ``dict``."""
    actions = list(entries)
    campaigns = sorted(data.findings.campaigns, key=lambda c: (-c.requests, c.campaign_id))
    parts = [campaign_part(data, c, actions) for c in campaigns]
    accounts = {a for c in campaigns for a in c.account_ids}
    requests = sum(c.requests for c in campaigns)
    weights: dict[str, float] = defaultdict(float)
    for c in campaigns:
        for capability, share in c.capabilities.items():
            weights[capability] += share * c.requests
    total, counts = data.methods(None)
    overall: dict[str, Any] = {
        "campaigns": len(campaigns),
        "accounts": len(accounts),
        "interactions": requests,
        "requests_in_logs": sum(p["requests_in_logs"] for p in parts),
        "capabilities": {k: v / requests for k, v in sorted(weights.items(), key=lambda kv: -kv[1])}
        if requests
        else {},
        "methods": _method_shares(total, counts),
        "programs": data.programs(None),
        "actions": _actions(actions, accounts),
        "gateway": data.decisions(None),
        "daily": [[d.isoformat(), n] for d, n in data.daily(None)],
        "infrastructure": _overall_infra(data, campaigns),
    }
    if campaigns:
        first = min(c.first_seen for c in campaigns)
        last = max(c.last_seen for c in campaigns)
        overall["first_seen"], overall["last_seen"] = _iso(first), _iso(last)
        n = len(campaigns)
        name = f"Across {n} {plural(n, 'campaign')}"
        overall["sentences"] = _sentences(name, len(accounts), requests, first, last, overall)
    else:
        overall["sentences"] = ["The findings name no campaign."]
    findings = data.findings
    return {
        "schema": SCHEMA,
        "title": title or "Industrial-scale extraction of our models: what we found",
        "generated_at": _iso(datetime.now(UTC)),
        "findings_generated_at": _iso(findings.generated_at),
        "window": {"start": _iso(findings.window_start), "end": _iso(findings.window_end)},
        "records_set_aside": dict(data.rejects),
        "overall": overall,
        "campaigns": parts,
    }
