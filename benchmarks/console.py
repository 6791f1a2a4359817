"""Benchmark of the console: render time of a campaign page of 5,000 accounts (target <= 500 ms).

Builds a synthetic dataset in memory (no files): one campaign of ``--campaign-accounts``
accounts sending ``--per-day`` requests a day for ``--days`` days through residential /24s and
one JA4, plus ``--other-accounts`` ordinary accounts, in ``logs.reader`` request tables. Loads it
into a :class:`Dataset` (timed), then requests pages through the ASGI app in-process (Starlette
TestClient, so routing, session check, queries, templates and SVG are all included):

* the campaign page, cold (first request: graph layout computed) and warm (median of N);
* page 20 of the campaign's accounts; an account page; the campaigns list; a /24 search.

    .venv/bin/python benchmarks/console.py [--campaign-accounts 5000] [--other-accounts 95000]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
from starlette.testclient import TestClient

from distillguard.console.actions import AuditFile
from distillguard.console.app import create_app
from distillguard.console.auth import parse_user_option
from distillguard.console.dataset import Dataset
from distillguard.console.findings import AccountFinding, Campaign, Findings, Reason
from distillguard.logs.reader import ACCOUNT_SCHEMA, REQUEST_SCHEMA

START = datetime(2026, 4, 1, tzinfo=UTC)
TEMPLATES = [
    "Solve problem {n} step by step and explain your reasoning.",
    "Grade the following response using this rubric: correctness. Response {n}.",
    "Write a Python function that computes sequence {n}; show your work.",
]


def _requests(
    accounts: np.ndarray, per_account: int, days: int, campaign: bool, rng: np.random.Generator
) -> pa.Table:
    n = len(accounts) * per_account
    who = np.repeat(accounts, per_account)
    ts = START.timestamp() * 1000 + rng.integers(0, days * 86_400_000, n)
    if campaign:
        prefixes = rng.integers(0, 2000, n)
        ips = [
            f"10.{p // 250}.{p % 250}.{h}"
            for p, h in zip(prefixes, rng.integers(1, 250, n), strict=True)
        ]
        ja4 = ["t13d1516h2_8daaf6152771_b186095e22b6"] * n
        prompts = [TEMPLATES[i % 3].format(n=i % 500) for i in rng.integers(0, 1500, n)]
        system = ["You are a helpful assistant. Always show your work."] * n
    else:
        ips = [f"172.{16 + a % 16}.{(a // 16) % 250}.{a % 250}" for a in who]
        ja4 = [None] * n
        prompts = [f"Help me with my email number {i}." for i in rng.integers(0, 300, n)]
        system = [""] * n
    cols: dict[str, list[object] | np.ndarray] = {
        "ts": ts.astype(np.int64),
        "request_id": [f"r{a}-{i}" for i, a in enumerate(who)],
        "account_id": [f"acct_{a:06d}" for a in who],
        "api_key_id": [f"key_{a:06d}" for a in who],
        "client_ip": ips,
        "user_agent": ["OpenAI/Python 1.40.0"] * n,
        "tls_ja4": ja4,
        "endpoint": ["openai.chat.completions"] * n,
        "model": ["dg-large"] * n,
        "system": system,
        "prompt": prompts,
        "status": [200] * n,
        "decision": ["allow"] * n,
    }
    arrays = []
    for field in REQUEST_SCHEMA:
        values = cols.get(field.name)
        if values is None:
            arrays.append(pa.nulls(n, field.type))
        elif field.name == "ts":
            arrays.append(pa.array(values, pa.int64()).cast(field.type))
        else:
            arrays.append(pa.array(values, field.type))
    return pa.Table.from_arrays(arrays, schema=REQUEST_SCHEMA)


def _accounts(total: int) -> pa.Table:
    ids = [f"acct_{a:06d}" for a in range(total)]
    created = pa.array([int(START.timestamp() * 1000) - 86_400_000] * total, pa.int64())
    cols = {
        "account_id": pa.array(ids, pa.string()),
        "created_at": created.cast(ACCOUNT_SCHEMA.field("created_at").type),
        "payment_fingerprint": pa.array([f"pf-{a % 400}" for a in range(total)], pa.string()),
        "verification": pa.array(["email"] * total, pa.string()),
        "program": pa.array(
            ["education" if a < 5000 else "standard" for a in range(total)], pa.string()
        ),
    }
    arrays = [cols.get(f.name, pa.nulls(total, f.type)) for f in ACCOUNT_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=ACCOUNT_SCHEMA)


def _findings(campaign_accounts: int, requests: int, days: int) -> Findings:
    ids = tuple(f"acct_{a:06d}" for a in range(campaign_accounts))
    reason = (Reason("campaign_member", 2.5, "linked into campaign C-big"),)
    accounts = {a: AccountFinding(a, 0.95, True, "C-big", reason) for a in ids}
    campaign = Campaign(
        "C-big",
        ids,
        requests,
        START,
        START + timedelta(days=days),
        0.97,
        {"reasoning": 0.4, "coding": 0.35, "planning": 0.25},
        {"ips": 0, "asns": [64500], "top_networks": ["10.0.0.0/24"]},
        "Synthetic campaign for the benchmark.",
    )
    return Findings(
        START + timedelta(days=days), START, START + timedelta(days=days), accounts, [campaign]
    )


def _time(client: TestClient, url: str, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(samples), max(samples)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--campaign-accounts", type=int, default=5000)
    parser.add_argument("--other-accounts", type=int, default=95_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=2)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    big = args.campaign_accounts
    per = args.days * args.per_day
    tables = [
        _requests(np.arange(big), per, args.days, True, rng),
        _requests(np.arange(big, big + args.other_accounts), 3, args.days, False, rng),
    ]
    total = sum(t.num_rows for t in tables)
    findings = _findings(big, big * per, args.days)
    started = time.perf_counter()
    data = Dataset.from_tables(findings, tables, _accounts(big + args.other_accounts))
    load_s = time.perf_counter() - started
    print(
        f"dataset: {big + args.other_accounts:,} accounts, {total:,} requests; campaign of {big:,} accounts"
    )
    print(f"load into DuckDB (features, aggregates): {load_s:.1f} s")
    users = {"ada": parse_user_option("ada:admin:benchmark-password")}
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        sink = AuditFile(Path(tmp) / "audit.jsonl")
        # no background warm-up: the first request measures the graph layout too
        app = create_app(data, users, sink, secret=b"b" * 32, warm_graphs=False)
        with TestClient(app) as client:
            page = client.get("/login").text
            token = re.search(r'name="csrf" value="([^"]+)"', page)
            assert token is not None
            client.post(
                "/login",
                data={"csrf": token.group(1), "username": "ada", "password": "benchmark-password"},
            )
            started = time.perf_counter()
            response = client.get("/campaigns/C-big")
            cold = (time.perf_counter() - started) * 1000
            assert response.status_code == 200 and 'data-graph="accounts"' in response.text
            print(
                f"campaign page, cold (graph layout):  {cold:7.1f} ms   ({len(response.content) / 1024:.0f} KiB)"
            )
            rows = [
                ("campaign page, warm", "/campaigns/C-big"),
                ("campaign page 20 of accounts", "/campaigns/C-big?page=20"),
                ("account page", "/accounts/acct_000042"),
                ("campaigns list", "/"),
                ("search 10.0.7.0/24", "/search?q=10.0.7.0/24"),
            ]
            for name, url in rows:
                median, worst = _time(client, url, args.runs)
                print(
                    f"{name + ':':36s} {median:7.1f} ms median, {worst:7.1f} ms max over {args.runs}"
                )
            verdict = "OK" if cold <= 500 else "OVER TARGET"
            print(
                f"target: campaign page of {big:,} accounts <= 500 ms: {verdict} (cold {cold:.0f} ms)"
            )


if __name__ == "__main__":
    main()
