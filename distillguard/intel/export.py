"""Campaigns exported as STIX 2.1 bundles, to share indicators with other providers.

Each campaign becomes a STIX ``campaign`` object; each value from
:func:`~distillguard.intel.indicators.campaign_indicators` an ``indicator`` with a STIX pattern
and a ``relationship`` *indicates* to its campaign. Every object carries the chosen TLP marking
and is created by one ``identity`` (the sharing provider). Identifiers are UUIDv5 derived from
the campaign and value, so exporting the same findings twice gives the same ids and a partner
can deduplicate.

Patterns:

============ ===============================================
kind         pattern
============ ===============================================
ip, prefix   ``[ipv4-addr:value = '203.0.113.0/24']`` (ipv6-addr for IPv6)
ja4          ``[x-ja4-fingerprint:value = 't13d1516h2_...']``
template     ``[x-prompt-template:fingerprint = '8c3f...']``
============ ===============================================

JA4 and prompt templates have no STIX cyber-observable type, so they use custom object types
(``x-`` prefix, as STIX 2.1 allows); each indicator also states its kind and value in
``x_distillguard_kind`` / ``x_distillguard_value`` so a partner need not parse the pattern.
"""

from __future__ import annotations

import ipaddress
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from distillguard.console.dataset import Dataset
from distillguard.console.findings import Campaign, Findings
from distillguard.errors import ConfigurationError
from distillguard.intel.indicators import IndicatorValue, campaign_indicators
from distillguard.report.prose import capability_words, listing

NAMESPACE = uuid.UUID("6d1c1f54-2b64-4c53-9d59-6f0f3f7b1a1e")
VALID_DAYS = 90
TLP_NAMES = ("white", "clear", "green", "amber", "red")
_DESCRIPTIONS = {
    "prefix": "Network block used by {n} accounts of the campaign.",
    "ip": "Address used by {n} accounts of the campaign.",
    "ja4": "JA4 TLS client fingerprint of {n} accounts of the campaign; weak on its own"
    " (shared by every client of the same TLS stack), strong combined with other indicators.",
    "template": "Prompt-template fingerprint (distillguard template masking, BLAKE2b-64) sent by"
    " {n} accounts of the campaign.",
}


def tlp_marking(name: str) -> Any:
    """The stix2 TLP marking definition for ``white``/``clear``, ``green``, ``amber`` or ``red``."""
    import stix2

    markings = {
        "white": stix2.v21.TLP_WHITE,
        "clear": stix2.v21.TLP_WHITE,
        "green": stix2.v21.TLP_GREEN,
        "amber": stix2.v21.TLP_AMBER,
        "red": stix2.v21.TLP_RED,
    }
    marking = markings.get(name.lower())
    if marking is None:
        raise ConfigurationError(f"unknown TLP level {name!r}; use one of {', '.join(TLP_NAMES)}")
    return marking


def _sid(kind: str, *parts: str) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, '|'.join(parts))}"


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def pattern_of(indicator: IndicatorValue) -> str:
    """The STIX pattern of one indicator value."""
    value = _quote(indicator.value)
    if indicator.kind in ("ip", "prefix"):
        text = indicator.value.split("/")[0]
        family = "ipv6-addr" if ipaddress.ip_address(text).version == 6 else "ipv4-addr"
        return f"[{family}:value = '{value}']"
    if indicator.kind == "ja4":
        return f"[x-ja4-fingerprint:value = '{value}']"
    if indicator.kind == "template":
        return f"[x-prompt-template:fingerprint = '{value}']"
    raise ValueError(f"unknown indicator kind {indicator.kind!r}")


def _campaign_object(campaign: Campaign, common: dict[str, Any]) -> Any:
    import stix2

    aims = listing(capability_words(campaign.capabilities)) if campaign.capabilities else ""
    return stix2.v21.Campaign(
        id=_sid("campaign", campaign.campaign_id),
        name=f"Model distillation campaign {campaign.campaign_id}",
        description=campaign.summary or None,
        objective=f"Extraction of model capabilities{' (' + aims + ')' if aims else ''}"
        " through many coordinated API accounts",
        first_seen=campaign.first_seen,
        last_seen=campaign.last_seen,
        confidence=round(campaign.confidence * 100),
        custom_properties={
            "x_distillguard_accounts": campaign.size,
            "x_distillguard_requests": campaign.requests,
            "x_distillguard_capabilities": campaign.capabilities,
        },
        **common,
    )


def export_bundle(
    findings: Findings,
    data: Dataset | None = None,
    *,
    tlp: str = "amber",
    producer: str = "distillguard operator",
    campaign_ids: list[str] | None = None,
) -> Any:
    """A ``stix2.v21.Bundle`` of the findings' campaigns (all, or those in ``campaign_ids``)."""
    import stix2

    marking = tlp_marking(tlp)
    identity = stix2.v21.Identity(
        id=_sid("identity", producer), name=producer, identity_class="organization"
    )
    common = {
        "created_by_ref": identity.id,
        "object_marking_refs": [marking.id],
        "allow_custom": True,
    }
    objects: list[Any] = [identity]
    chosen = [
        c for c in findings.campaigns if campaign_ids is None or c.campaign_id in campaign_ids
    ]
    for campaign in chosen:
        camp = _campaign_object(campaign, common)
        objects.append(camp)
        valid_from = campaign.first_seen.astimezone(UTC)
        valid_until = max(campaign.last_seen.astimezone(UTC), datetime.now(UTC)) + timedelta(
            days=VALID_DAYS
        )
        for value in campaign_indicators(campaign, data):
            key = (campaign.campaign_id, value.kind, value.value)
            indicator = stix2.v21.Indicator(
                id=_sid("indicator", *key),
                name=f"{value.kind} {value.value}",
                description=_DESCRIPTIONS[value.kind].format(n=value.accounts or "several"),
                indicator_types=["malicious-activity"],
                pattern=pattern_of(value),
                pattern_type="stix",
                valid_from=valid_from,
                valid_until=valid_until,
                confidence=round(campaign.confidence * 100),
                custom_properties={
                    "x_distillguard_kind": value.kind,
                    "x_distillguard_value": value.value,
                    "x_distillguard_accounts": value.accounts,
                },
                **common,
            )
            relation = stix2.v21.Relationship(
                id=_sid("relationship", *key),
                relationship_type="indicates",
                source_ref=indicator.id,
                target_ref=camp.id,
                **common,
            )
            objects += [indicator, relation]
    return stix2.v21.Bundle(objects=[*objects, marking], allow_custom=True)
