"""The indicators of a campaign worth sharing, gathered from findings and request logs.

Four kinds: ``prefix`` (a CIDR block), ``ip`` (one address), ``ja4`` (a JA4 TLS client
fingerprint) and ``template`` (a prompt-template fingerprint, see
:func:`distillguard.detect.features.template.fingerprint`, written as 16 hex digits).

Only values that *link* accounts are shared: used by at least :data:`MIN_ACCOUNTS` accounts of
the campaign. A residential-proxy address seen once says nothing about the next account behind
the same proxy pool; a /24, a TLS stack or a template used by dozens of the campaign's accounts
does. And only values *specific* to the campaign: at least :data:`MIN_SPECIFICITY` of the
accounts that used a value in the loaded logs belong to the campaign, so the JA4 of a popular SDK
or a template that honest users also send is not shared. The detector's ``top_networks`` are
always included.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from distillguard.console.dataset import Dataset
from distillguard.console.findings import Campaign

MIN_ACCOUNTS = 2
MIN_SPECIFICITY = 0.8
LIMITS = {"prefix": 50, "ip": 100, "ja4": 10, "template": 20}
KINDS = ("prefix", "ip", "ja4", "template")


@dataclass(frozen=True)
class IndicatorValue:
    """One value to share, with how strongly it ties to the campaign."""

    kind: str
    value: str
    accounts: int
    requests: int


def template_hex(value: int | str) -> str:
    """A template fingerprint as 16 lower-case hex digits (the detector's int64, unsigned).

    >>> template_hex(-1), template_hex("00000000000000ff"), template_hex(255)
    ('ffffffffffffffff', '00000000000000ff', '00000000000000ff')
    """
    if isinstance(value, str):
        text = value.strip().lower()
        if len(text) == 16 and all(c in "0123456789abcdef" for c in text):
            return text
        value = int(text)
    return f"{value & 0xFFFFFFFFFFFFFFFF:016x}"


def _network(text: str) -> str | None:
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        return None


def campaign_indicators(campaign: Campaign, data: Dataset | None) -> list[IndicatorValue]:
    """The values to share for one campaign, strongest first within each kind."""
    out: dict[tuple[str, str], IndicatorValue] = {}
    infra = campaign.infrastructure
    for text in infra.get("top_networks", []) or []:
        net = _network(str(text))
        if net is not None:
            out[("prefix", net)] = IndicatorValue("prefix", net, 0, 0)
    for kind, key in (("ja4", "ja4"), ("template", "templates")):
        for value in infra.get(key, []) or []:
            if isinstance(value, str | int) and str(value):
                text = template_hex(value) if kind == "template" else str(value)
                out[(kind, text)] = IndicatorValue(kind, text, 0, 0)
    if data is not None:
        for kind in KINDS:
            rows = [
                r
                for r in data.infrastructure(campaign.campaign_id, kind, LIMITS[kind] * 4)
                if r.accounts >= MIN_ACCOUNTS
            ]
            users = data.accounts_using(kind, [r.value for r in rows])
            for row in rows:
                if row.accounts / max(users.get(row.value, row.accounts), 1) < MIN_SPECIFICITY:
                    continue  # also used by many accounts outside the campaign
                value = template_hex(int(row.value)) if kind == "template" else row.value
                if kind == "prefix":
                    value = _network(value) or value
                out[(kind, value)] = IndicatorValue(kind, value, row.accounts, row.requests)
    ranked: list[IndicatorValue] = []
    for kind in KINDS:
        values = sorted(
            (v for (k, _), v in out.items() if k == kind),
            key=lambda v: (-v.accounts, -v.requests, v.value),
        )
        ranked += values[: LIMITS[kind]]
    return ranked
