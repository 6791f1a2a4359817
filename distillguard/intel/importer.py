"""A partner's STIX 2.1 bundle read into a :class:`~distillguard.intel.watchlist.Watchlist`.

The bundle is parsed with ``stix2.parse`` (custom objects and properties allowed). Each
``indicator`` whose pattern is made of simple comparisons is kept:

- ``[ipv4-addr:value = '…']`` / ``[ipv6-addr:value = '…']`` (an address or a CIDR block; also
  ``ISSUBSET``),
- ``[x-ja4-fingerprint:value = '…']`` or any ``x-…`` object property named ``ja4``,
- ``[x-prompt-template:fingerprint = '…']``,

joined by ``OR``. Indicators with other patterns, and indicators whose ``valid_until`` has
passed, are skipped and counted. The campaign an indicator points to (through an *indicates*
relationship) and its confidence and TLP marking travel with each entry.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime
from typing import Any

from distillguard.errors import InputError
from distillguard.intel.watchlist import WatchEntry, Watchlist

_COMPARISON = re.compile(
    r"\[\s*(?P<type>[a-z0-9-]+):(?P<prop>[a-z0-9_.]+)\s+(?P<op>=|ISSUBSET)\s+"
    r"'(?P<value>(?:[^'\\]|\\.)*)'\s*\]"
)
_JOIN = re.compile(r"\]\s+OR\s+\[")
_TLP = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "white",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
}


def _kind(obj_type: str, prop: str, value: str) -> str | None:
    if obj_type in ("ipv4-addr", "ipv6-addr") and prop == "value":
        try:
            net = ipaddress.ip_network(value, strict=False)
        except ValueError:
            return None
        return "ip" if net.num_addresses == 1 else "prefix"
    if obj_type == "x-ja4-fingerprint" or (obj_type.startswith("x-") and prop == "ja4"):
        return "ja4"
    if obj_type == "x-prompt-template" and prop == "fingerprint":
        return "template"
    return None


def parse_pattern(pattern: str) -> list[tuple[str, str]]:
    """``(kind, value)`` pairs of a pattern of simple comparisons joined by OR; [] otherwise."""
    text = pattern.strip()
    parts = _JOIN.split(text)
    if len(parts) > 1:
        parts = [parts[0] + "]"] + ["[" + p + "]" for p in parts[1:-1]] + ["[" + parts[-1]]
    found = []
    for part in parts:
        match = _COMPARISON.fullmatch(part.strip())
        if match is None:
            return []
        value = re.sub(r"\\(.)", r"\1", match["value"])
        kind = _kind(match["type"], match["prop"], value)
        if kind is None:
            return []
        found.append((kind, value))
    return found


def _get(obj: Any, name: str) -> Any:
    try:
        return obj[name]
    except (KeyError, TypeError):
        return None


def import_bundle(text: str | bytes, *, now: datetime | None = None) -> Watchlist:
    """Build a watchlist from a STIX 2.1 bundle given as JSON text."""
    import stix2
    from stix2.exceptions import STIXError

    try:
        bundle = stix2.parse(text, allow_custom=True)
    except (STIXError, ValueError) as exc:
        raise InputError(f"not a STIX 2.1 bundle: {exc}") from None
    if _get(bundle, "type") != "bundle":
        raise InputError("expected a STIX bundle at the top level")
    objects = list(_get(bundle, "objects") or [])
    names = {_get(o, "id"): _get(o, "name") for o in objects if _get(o, "type") == "campaign"}
    target: dict[str, str] = {}
    for obj in objects:
        if _get(obj, "type") == "relationship" and _get(obj, "relationship_type") == "indicates":
            target[_get(obj, "source_ref")] = _get(obj, "target_ref")
    moment = now or datetime.now(UTC)
    entries: list[WatchEntry] = []
    skipped = 0
    for obj in objects:
        if _get(obj, "type") != "indicator":
            continue
        until = _get(obj, "valid_until")
        pairs = parse_pattern(str(_get(obj, "pattern") or ""))
        if not pairs or (until is not None and until < moment):
            skipped += 1
            continue
        campaign = target.get(_get(obj, "id"))
        marking = next(
            (_TLP[m] for m in (_get(obj, "object_marking_refs") or []) if m in _TLP), None
        )
        for kind, value in pairs:
            entries.append(
                WatchEntry(
                    kind,
                    value,
                    str(_get(obj, "id")),
                    names.get(campaign, campaign) if campaign else None,
                    _get(obj, "confidence"),
                    until.isoformat().replace("+00:00", "Z") if until is not None else None,
                    marking,
                )
            )
    return Watchlist(entries, source=str(_get(bundle, "id")), skipped=skipped)
