"""The investigator's dataset: findings, accounts and request logs, queryable in milliseconds.

:class:`Dataset` is what the console pages, the reports and the STIX export read. It is loaded
once (:meth:`Dataset.load`) into an in-memory DuckDB with precomputed aggregates
(:mod:`distillguard.console.loader`), so a campaign page of thousands of accounts is a handful
of indexed queries.

>>> data = Dataset.load(Path("findings.json"), Path("requests/"), Path("accounts.jsonl"))  # doctest: +SKIP
>>> data.daily("C1")[:2]  # doctest: +SKIP
[(datetime.date(2026, 4, 1), 1210), (datetime.date(2026, 4, 2), 1302)]
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from distillguard.console.findings import AccountFinding, Campaign, Findings, read_findings
from distillguard.console.loader import open_dataset, open_tables
from distillguard.console.network import cidr_range, is_address, is_network
from distillguard.errors import InputError, NotFound
from distillguard.logs.rejects import RejectSink
from distillguard.report.methods import METHOD_NAMES


@dataclass(frozen=True)
class InfraRow:
    """One value of an infrastructure kind (prefix, ja4, ip, key, ...) and how much it was used."""

    kind: str
    value: str
    requests: int
    accounts: int


@dataclass(frozen=True)
class AccountRow:
    """An account's line in a campaign's table."""

    account_id: str
    score: float
    requests: int
    first_ts: datetime | None
    last_ts: datetime | None
    ips: int
    keys: int


@dataclass(frozen=True)
class Sample:
    """One prompt sent by a campaign's account."""

    account_id: str
    ts: datetime
    system: str
    prompt: str


@dataclass(frozen=True)
class SearchHit:
    """An account that matches a search, and why."""

    account_id: str
    matched: str
    detail: str
    campaign_id: str | None


class Dataset:
    """Read-only queries over one loaded dataset. Safe to share between threads."""

    def __init__(
        self,
        findings: Findings,
        connection: duckdb.DuckDBPyConnection,
        request_count: int,
        rejects: Counter[str],
    ) -> None:
        self.findings = findings
        self.request_count = request_count
        self.rejects = rejects
        self._con = connection
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls,
        findings_path: Path,
        requests_path: Path | None = None,
        accounts_path: Path | None = None,
        rejects_path: Path | None = None,
    ) -> Dataset:
        """Read the three inputs; records that break their schema go to ``rejects_path``."""
        findings = read_findings(findings_path)
        return cls.from_findings(findings, requests_path, accounts_path, rejects_path)

    @classmethod
    def from_findings(
        cls,
        findings: Findings,
        requests_path: Path | None,
        accounts_path: Path | None,
        rejects_path: Path | None = None,
    ) -> Dataset:
        """Like :meth:`load` with findings already read."""
        with RejectSink(rejects_path) as sink:
            con, count = open_dataset(findings, requests_path, accounts_path, sink)
            counts = Counter(sink.counts)
        counts.update(findings.rejects)
        return cls(findings, con, count, counts)

    @classmethod
    def from_tables(
        cls,
        findings: Findings,
        requests: Iterable[pa.Table],
        accounts: pa.Table | None = None,
    ) -> Dataset:
        """Build from tables already read (``logs.reader.REQUEST_SCHEMA`` batches and an
        ``ACCOUNT_SCHEMA`` table), e.g. by a detector that holds them in memory."""
        con, count = open_tables(findings, requests, accounts)
        return cls(findings, con, count, Counter(findings.rejects))

    def _rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with self._lock:
            cursor = self._con.cursor()
            try:
                return cursor.execute(sql, params or []).fetchall()
            finally:
                cursor.close()

    # -- campaigns -----------------------------------------------------------------------

    def campaign(self, campaign_id: str) -> Campaign:
        """The campaign with this id, or :class:`NotFound`."""
        campaign = self.findings.campaign(campaign_id)
        if campaign is None:
            raise NotFound(f"no campaign {campaign_id!r} in the findings")
        return campaign

    def daily(self, campaign_id: str | None = None) -> list[tuple[date, int]]:
        """Requests per day of a campaign, or of every campaign together when ``None``."""
        if campaign_id is None:
            sql = "SELECT day, sum(n) FROM camp_day WHERE campaign_id <> '' GROUP BY day"
            return [(d, int(n)) for d, n in self._rows(sql + " ORDER BY day")]
        sql = "SELECT day, n FROM camp_day WHERE campaign_id = ? ORDER BY day"
        return [(d, int(n)) for d, n in self._rows(sql, [campaign_id])]

    def observed_requests(self, campaign_id: str) -> int:
        """Requests of the campaign's accounts found in the loaded logs."""
        rows = self._rows("SELECT sum(n) FROM camp_day WHERE campaign_id = ?", [campaign_id])
        return int(rows[0][0] or 0)

    def infrastructure(self, campaign_id: str, kind: str, limit: int = 10) -> list[InfraRow]:
        """The most used values of one kind (``prefix``, ``ja4``, ``ip``, ``key``, ``ua``)."""
        rows = self._rows(
            "SELECT value, requests, accounts FROM camp_infra WHERE campaign_id = ? AND kind = ?"
            " ORDER BY requests DESC, value LIMIT ?",
            [campaign_id, kind, limit],
        )
        return [InfraRow(kind, v, int(r), int(a)) for v, r, a in rows]

    def distinct_count(self, campaign_id: str | None, kind: str) -> int:
        """How many distinct values of ``kind`` the campaign (``None``: all campaigns) used."""
        if campaign_id is None:
            rows = self._rows("SELECT count(DISTINCT value) FROM camp_infra WHERE kind = ?", [kind])
        else:
            rows = self._rows(
                "SELECT count(*) FROM camp_infra WHERE campaign_id = ? AND kind = ?",
                [campaign_id, kind],
            )
        return int(rows[0][0])

    def accounts_using(self, kind: str, values: list[str]) -> dict[str, int]:
        """How many accounts (in any campaign or none) used each value of ``kind``."""
        if not values:
            return {}
        rows = self._rows(
            "SELECT value, count(DISTINCT account_id) FROM acct_infra"
            " WHERE kind = ? AND list_contains(?, value) GROUP BY value",
            [kind, values],
        )
        return {v: int(n) for v, n in rows}

    def methods(self, campaign_id: str | None = None) -> tuple[int, dict[str, int]]:
        """``(requests, {method: requests showing it})`` of a campaign, or of all campaigns."""
        sums = ", ".join(f"sum({n})" for n in METHOD_NAMES)
        if campaign_id is None:
            rows = self._rows(f"SELECT sum(total), {sums} FROM camp_method WHERE campaign_id <> ''")
        else:
            sql = f"SELECT sum(total), {sums} FROM camp_method WHERE campaign_id = ?"
            rows = self._rows(sql, [campaign_id])
        total, *counts = rows[0]
        return int(total or 0), {n: int(c or 0) for n, c in zip(METHOD_NAMES, counts, strict=True)}

    def decisions(self, campaign_id: str | None = None) -> dict[str, int]:
        """Requests per gateway decision (``allow``, ``throttle``, ``block``, ...)."""
        where, params = (
            ("campaign_id = ?", [campaign_id]) if campaign_id else ("campaign_id <> ''", [])
        )
        rows = self._rows(
            f"SELECT decision, sum(n) FROM camp_decision WHERE {where} GROUP BY decision"
            " ORDER BY 2 DESC",
            params,
        )
        return {d: int(n) for d, n in rows}

    def programs(self, campaign_id: str | None = None) -> dict[str, int]:
        """Accounts per sign-up program (``education``, ``startup``, ...) from the accounts file."""
        where, params = (
            ("m.campaign_id = ?", [campaign_id])
            if campaign_id
            else ("m.campaign_id IS NOT NULL", [])
        )
        rows = self._rows(
            "SELECT a.program, count(*) FROM membership m JOIN accounts a USING (account_id)"
            f" WHERE {where} GROUP BY a.program ORDER BY 2 DESC, 1",
            params,
        )
        return {p: int(n) for p, n in rows}

    def total_infrastructure(self, kind: str, limit: int = 10) -> list[InfraRow]:
        """The most used values of one kind over every campaign together."""
        rows = self._rows(
            "SELECT value, sum(requests), sum(accounts) FROM camp_infra WHERE kind = ?"
            " GROUP BY value ORDER BY 2 DESC, value LIMIT ?",
            [kind, limit],
        )
        return [InfraRow(kind, v, int(r), int(a)) for v, r, a in rows]

    def samples(self, campaign_id: str, limit: int = 12) -> list[Sample]:
        """Prompts from distinct accounts of the campaign, so a shared template shows."""
        rows = self._rows(
            "SELECT account_id, ts, system, prompt FROM camp_sample WHERE campaign_id = ? LIMIT ?",
            [campaign_id, limit],
        )
        return [Sample(a, t, s or "", p or "") for a, t, s, p in rows]

    def accounts_of(self, campaign_id: str, limit: int = 100, offset: int = 0) -> list[AccountRow]:
        """A page of the campaign's accounts, busiest first."""
        rows = self._rows(
            "SELECT m.account_id, m.score, coalesce(s.requests, 0), s.first_ts, s.last_ts,"
            " coalesce(s.ips, 0), coalesce(s.keys, 0) FROM membership m"
            " LEFT JOIN acct_stats s USING (account_id) WHERE m.campaign_id = ?"
            " ORDER BY 3 DESC, m.account_id LIMIT ? OFFSET ?",
            [campaign_id, limit, offset],
        )
        return [
            AccountRow(a, float(sc), int(r), f, la, int(i), int(k))
            for a, sc, r, f, la, i, k in rows
        ]

    def graph_edges(self, campaign_id: str) -> list[tuple[str, str, str]]:
        """``(account, kind, value)`` links of the campaign's graph sample.

        Links are the network prefixes and JA4 fingerprints the accounts sent from, and the
        payment fingerprint and sign-up prefix of their records; only values shared by at least
        two sampled accounts are kept, since only those link anything (precomputed at load,
        see :func:`~distillguard.console.loader.build_graph_links`).
        """
        rows = self._rows(
            "SELECT account_id, kind, value FROM graph_links WHERE campaign_id = ?"
            " ORDER BY account_id, kind, value",
            [campaign_id],
        )
        return [(a, k, v) for a, k, v in rows]

    def graph_accounts(self, campaign_id: str) -> list[str]:
        """The campaign's accounts drawn in its graph (all, or a stable sample of big ones)."""
        rows = self._rows(
            "SELECT account_id FROM graph_sample WHERE campaign_id = ? ORDER BY account_id",
            [campaign_id],
        )
        return [r[0] for r in rows]

    # -- accounts ------------------------------------------------------------------------

    def finding(self, account_id: str) -> AccountFinding | None:
        """The detector's verdict on an account, if it has one."""
        return self.findings.accounts.get(account_id)

    def account_record(self, account_id: str) -> dict[str, Any] | None:
        """The account's dg.account.v1 record, if the accounts file has it."""
        with self._lock:
            cursor = self._con.cursor()
            try:
                cursor.execute("SELECT * FROM accounts WHERE account_id = ?", [account_id])
                row = cursor.fetchone()
                names = [d[0] for d in cursor.description or []]
            finally:
                cursor.close()
        return dict(zip(names, row, strict=True)) if row else None

    def account_stats(self, account_id: str) -> dict[str, Any] | None:
        """Requests, first/last seen, distinct IPs, prefixes, keys, JA4s, days of activity."""
        with self._lock:
            cursor = self._con.cursor()
            try:
                cursor.execute("SELECT * FROM acct_stats WHERE account_id = ?", [account_id])
                row = cursor.fetchone()
                names = [d[0] for d in cursor.description or []]
            finally:
                cursor.close()
        return dict(zip(names, row, strict=True)) if row else None

    def account_daily(self, account_id: str) -> list[tuple[date, int]]:
        """Requests per day of one account."""
        rows = self._rows(
            "SELECT day, n FROM acct_day WHERE account_id = ? ORDER BY day", [account_id]
        )
        return [(d, int(n)) for d, n in rows]

    def account_infrastructure(self, account_id: str, kind: str, limit: int = 8) -> list[InfraRow]:
        """The values of one kind an account used most."""
        rows = self._rows(
            "SELECT value, n FROM acct_infra WHERE account_id = ? AND kind = ?"
            " ORDER BY n DESC, value LIMIT ?",
            [account_id, kind, limit],
        )
        return [InfraRow(kind, v, int(n), 1) for v, n in rows]

    def recent_requests(self, account_id: str, limit: int = 10) -> list[dict[str, Any]]:
        """The account's latest requests (time, endpoint, model, status, decision, prompt)."""
        rows = self._rows(
            "SELECT ts, endpoint, model, status, decision, client_ip, prompt FROM requests"
            " WHERE account_id = ? ORDER BY ts DESC LIMIT ?",
            [account_id, limit],
        )
        keys = ("ts", "endpoint", "model", "status", "decision", "client_ip", "prompt")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def known_account(self, account_id: str) -> bool:
        """True if the account appears in the findings, the accounts file or the logs."""
        if account_id in self.findings.accounts:
            return True
        rows = self._rows(
            "SELECT 1 FROM acct_stats WHERE account_id = ? UNION ALL"
            " SELECT 1 FROM accounts WHERE account_id = ? UNION ALL"
            " SELECT 1 FROM membership WHERE account_id = ? LIMIT 1",
            [account_id, account_id, account_id],
        )
        return bool(rows)

    # -- search --------------------------------------------------------------------------

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Accounts matching an account id (or its start), an API key id, an IP or a CIDR."""
        text = query.strip()
        if not text:
            return []
        if len(text) > 200:
            raise InputError("search text is too long (200 characters at most)")
        if is_address(text) or is_network(text):
            low, high = cidr_range(text)
            rows = self._rows(
                "SELECT r.account_id, string_agg(DISTINCT r.client_ip, ', '),"
                " any_value(m.campaign_id) FROM requests r LEFT JOIN membership m USING (account_id)"
                " WHERE r.ip_hex BETWEEN ? AND ? GROUP BY r.account_id ORDER BY r.account_id"
                " LIMIT ?",
                [low, high, limit],
            )
            return [SearchHit(a, "address", d, c) for a, d, c in rows]
        rows = self._rows(
            "SELECT account_id, matched, detail, campaign_id FROM ("
            " SELECT account_id, 'account' AS matched, account_id AS detail FROM acct_stats"
            "  WHERE starts_with(account_id, ?)"
            " UNION SELECT account_id, 'account', account_id FROM membership"
            "  WHERE starts_with(account_id, ?)"
            " UNION SELECT account_id, 'account', account_id FROM accounts"
            "  WHERE starts_with(account_id, ?)"
            " UNION SELECT account_id, 'key', value FROM acct_infra"
            "  WHERE kind = 'key' AND value = ?"
            ") LEFT JOIN membership USING (account_id) ORDER BY matched <> 'key', account_id"
            " LIMIT ?",
            [text, text, text, text, limit],
        )
        return [SearchHit(a, m, d, c) for a, m, d, c in rows]
