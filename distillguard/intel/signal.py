"""A partner watchlist turned into a per-account detection signal.

:func:`watchlist_reasons` reads request batches (``logs.reader.request_batches``), matches each
request's address, JA4 fingerprint and prompt-template fingerprint against a
:class:`~distillguard.intel.watchlist.Watchlist`, and returns, per account with hits, a
dg.findings.v1 ``reason`` (signal ``partner_watchlist``) whose weight grows with the share of
the account's requests that matched, the kind of indicator and the partner's confidence.
``distillguard detect --watchlist FILE`` adds it to the account's other reasons.

Kind weights: a template or an address/prefix hit is strong evidence, a JA4 hit alone is weak
(every client of the same TLS stack shares it). Kinds combine as independent evidence:
``1 - prod(1 - w_kind)``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyarrow as pa

from distillguard.detect.features.template import fingerprint
from distillguard.intel.watchlist import WatchEntry, Watchlist

SIGNAL = "partner_watchlist"
KIND_WEIGHTS = {"ip": 0.6, "prefix": 0.5, "template": 0.6, "ja4": 0.2}


@dataclass
class AccountHits:
    """Requests of one account and which watchlist entries they matched."""

    requests: int = 0
    matched: Counter[str] = field(default_factory=Counter)
    examples: dict[str, WatchEntry] = field(default_factory=dict)

    def weight(self) -> float:
        """The combined evidence, 0..1."""
        if not self.requests:
            return 0.0
        miss = 1.0
        for kind, n in self.matched.items():
            entry = self.examples[kind]
            confidence = (entry.confidence if entry.confidence is not None else 50) / 100
            miss *= 1 - KIND_WEIGHTS.get(kind, 0.3) * min(1.0, n / self.requests) * confidence
        return round(1 - miss, 4)

    def reason(self) -> dict[str, object]:
        """A dg.findings.v1 reason for this account."""
        parts = []
        for kind, n in self.matched.most_common():
            entry = self.examples[kind]
            where = f" of partner campaign {entry.campaign}" if entry.campaign else ""
            parts.append(f"{n} of {self.requests} requests matched {kind} {entry.value}{where}")
        return {"signal": SIGNAL, "weight": self.weight(), "detail": "; ".join(parts)}


def match_batches(watchlist: Watchlist, batches: Iterable[pa.Table]) -> dict[str, AccountHits]:
    """Per account: requests seen and watchlist hits by kind."""
    hits: dict[str, AccountHits] = defaultdict(AccountHits)
    ip_cache: dict[str, WatchEntry | None] = {}
    for table in batches:
        accounts = table.column("account_id").to_pylist()
        ips = table.column("client_ip").to_pylist()
        ja4s = table.column("tls_ja4").to_pylist()
        prompts = table.column("prompt").to_pylist()
        for account, ip, ja4, prompt in zip(accounts, ips, ja4s, prompts, strict=True):
            record = hits[account]
            record.requests += 1
            if ip in ip_cache:
                by_ip = ip_cache[ip]
            else:
                by_ip = ip_cache[ip] = watchlist.match_ip(ip)
            found = [by_ip, watchlist.match_ja4(ja4)]
            if prompt:
                found.append(watchlist.match_template(fingerprint(prompt)))
            for entry in found:
                if entry is not None:
                    record.matched[entry.kind] += 1
                    record.examples.setdefault(entry.kind, entry)
    return {a: h for a, h in hits.items() if h.matched}


def watchlist_reasons(
    watchlist: Watchlist, batches: Iterable[pa.Table]
) -> dict[str, dict[str, object]]:
    """``{account_id: reason}`` for every account whose requests matched the watchlist."""
    return {account: h.reason() for account, h in match_batches(watchlist, batches).items()}
