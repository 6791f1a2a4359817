"""A watchlist of a partner's indicators, matched against our own traffic.

:func:`~distillguard.intel.importer.import_bundle` turns a partner's STIX bundle into a
:class:`Watchlist`, saved as JSON (``dg.watchlist.v1``). Matching is cheap enough for every
request: an address is looked up once per prefix length present in the list, JA4 and template
fingerprints are dict lookups.

How detection consumes it (the detector does not read watchlists yet; this is the intended
wiring): load the file once with :meth:`Watchlist.load`; for each request call
:meth:`match_ip` on ``client_ip``, :meth:`match_ja4` on ``tls_ja4`` and :meth:`match_template`
on the request's template fingerprint (``detect.features`` ``template`` column); per account,
count the requests with a hit and emit a reason ``{"signal": "partner_watchlist", "weight": w,
"detail": "<n> requests matched <kind> <value> of partner campaign <campaign>"}``, with ``w``
growing with the share of matching requests and the entry's ``confidence``. A JA4 hit alone
should weigh little (many honest clients share a TLS stack); an address, prefix or template hit
more; agreement of several kinds most.

>>> wl = Watchlist([WatchEntry("prefix", "203.0.113.0/24", "indicator--1", "C-7", 80)])
>>> wl.match_ip("203.0.113.9").campaign
'C-7'
>>> wl.match_ip("198.51.100.1") is None
True
"""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from distillguard.errors import InputError
from distillguard.intel.indicators import template_hex

SCHEMA = "dg.watchlist.v1"
KINDS = ("ip", "prefix", "ja4", "template")


@dataclass(frozen=True)
class WatchEntry:
    """One shared indicator: its kind and value, where it came from, how sure the partner is."""

    kind: str
    value: str
    indicator_id: str
    campaign: str | None = None
    confidence: int | None = None
    valid_until: str | None = None
    tlp: str | None = None


class Watchlist:
    """Indicators indexed for matching addresses, JA4 fingerprints and template fingerprints."""

    def __init__(
        self, entries: list[WatchEntry], *, source: str | None = None, skipped: int = 0
    ) -> None:
        self.entries = entries
        self.source = source
        self.skipped = skipped
        self._networks: dict[int, dict[int, dict[Any, WatchEntry]]] = {4: {}, 6: {}}
        self._ja4: dict[str, WatchEntry] = {}
        self._templates: dict[str, WatchEntry] = {}
        for entry in entries:
            if entry.kind in ("ip", "prefix"):
                try:
                    net = ipaddress.ip_network(entry.value, strict=False)
                except ValueError:
                    raise InputError(f"watchlist entry {entry.value!r} is not an address") from None
                self._networks[net.version].setdefault(net.prefixlen, {})[net] = entry
            elif entry.kind == "ja4":
                self._ja4[entry.value] = entry
            elif entry.kind == "template":
                self._templates[template_hex(entry.value)] = entry
            else:
                raise InputError(f"watchlist entry kind {entry.kind!r} is not one of {KINDS}")

    def __len__(self) -> int:
        return len(self.entries)

    def match_ip(self, ip: str) -> WatchEntry | None:
        """The entry whose address or prefix covers ``ip`` (the most specific), or None."""
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        mapped = getattr(address, "ipv4_mapped", None)
        if mapped is not None:
            address = mapped
        by_length = self._networks[address.version]
        for length in sorted(by_length, reverse=True):
            shift = address.max_prefixlen - length
            net = ipaddress.ip_network((int(address) >> shift << shift, length))
            hit = by_length[length].get(net)
            if hit is not None:
                return hit
        return None

    def match_ja4(self, ja4: str | None) -> WatchEntry | None:
        """The entry for this JA4 fingerprint, or None."""
        return self._ja4.get(ja4) if ja4 else None

    def match_template(self, fingerprint: int | str | None) -> WatchEntry | None:
        """The entry for a template fingerprint (the detector's int64, or 16 hex digits)."""
        if fingerprint is None or fingerprint == 0:
            return None
        try:
            return self._templates.get(template_hex(fingerprint))
        except ValueError:
            return None

    def to_dict(self) -> dict[str, Any]:
        """The ``dg.watchlist.v1`` document."""
        return {
            "schema": SCHEMA,
            "source": self.source,
            "written_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "skipped": self.skipped,
            "entries": [asdict(e) for e in self.entries],
        }

    def save(self, path: Path) -> None:
        """Write the watchlist as JSON."""
        path.write_bytes(orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2))

    @classmethod
    def load(cls, path: Path) -> Watchlist:
        """Read a watchlist written by :meth:`save`."""
        try:
            document = orjson.loads(path.read_bytes())
        except FileNotFoundError:
            raise InputError(f"{path}: no such watchlist") from None
        except orjson.JSONDecodeError as exc:
            raise InputError(f"{path}: not valid JSON ({exc})") from None
        if not isinstance(document, dict) or document.get("schema") != SCHEMA:
            raise InputError(f"{path}: not a {SCHEMA} document")
        entries = []
        for i, raw in enumerate(document.get("entries") or []):
            try:
                entries.append(WatchEntry(**raw))
            except TypeError:
                raise InputError(f"{path}: entries[{i}] is malformed") from None
        return cls(entries, source=document.get("source"), skipped=int(document.get("skipped", 0)))
