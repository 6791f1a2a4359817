"""A small hand-made dataset in the dg.* formats, shared by console, report and intel tests.

Two campaigns and two ordinary accounts over ten days of April 2026:

- ``C-hydra``: six accounts (h1..h6), three requests a day each for ten days (180 requests);
  h1-h3 from 203.0.113.0/24, h4-h6 from 198.51.100.0/24, one JA4 for all, h1-h4 share a payment
  fingerprint. h1-h4 send a chain-of-thought template, h5-h6 a rubric-grading template.
- ``C-probe``: two accounts (p1, p2) from 2001:db8:5::/48, two requests a day on days 5-9
  (20 requests), all with ``logprobs``.
- b1, b2: ordinary users, two requests a day, not flagged.

The request log also holds one malformed line and one record with a bad address (two rejects).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

START = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
JA4_HYDRA = "t13d1516h2_8daaf6152771_b186095e22b6"
JA4_PROBE = "t13d1715h2_5b57614c22b0_3d5424432f57"
HYDRA = [f"h{i}" for i in range(1, 7)]
PROBE = ["p1", "p2"]
BENIGN = ["b1", "b2"]
HYDRA_REQUESTS = 180
PROBE_REQUESTS = 20
BENIGN_REQUESTS = 40


@dataclass(frozen=True)
class SamplePaths:
    """Where the sample dataset was written."""

    root: Path
    findings: Path
    requests: Path
    accounts: Path


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _ip(account: str, n: int) -> str:
    index = int(account[1:])
    if account in HYDRA:
        net = "203.0.113" if index <= 3 else "198.51.100"
        return f"{net}.{10 * index + n % 3}"
    if account in PROBE:
        return f"2001:db8:5::{index}:{n % 2 + 1}"
    return f"192.0.2.{100 + index}"


def _prompt(account: str, n: int) -> tuple[str, str, dict[str, Any]]:
    if account in HYDRA[:4]:
        return (
            "You are a careful tutor.",
            f"Solve problem {n} about graph search step by step and explain your reasoning.",
            {"max_tokens": 2048},
        )
    if account in HYDRA[4:]:
        return (
            "You are a strict grader.",
            f"Grade the following response using this rubric: correctness, clarity. Response {n}.",
            {"max_tokens": 512},
        )
    if account in PROBE:
        return ("", f"Say the word number {n}.", {"max_tokens": 1, "logprobs": True})
    return ("", f"Help me write an email to my landlord, draft {n}.", {"max_tokens": 400})


def _request(account: str, moment: datetime, n: int) -> dict[str, Any]:
    system, prompt, params = _prompt(account, n)
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": prompt})
    ja4 = JA4_HYDRA if account in HYDRA else JA4_PROBE if account in PROBE else None
    return {
        "ts": _ts(moment),
        "request_id": f"req-{account}-{n}",
        "account_id": account,
        "org_id": None,
        "api_key_id": f"key-{account}",
        "client_ip": _ip(account, n),
        "user_agent": "OpenAI/Python 1.40.0",
        "tls_ja4": ja4,
        "endpoint": "openai.chat.completions",
        "model": "dg-large",
        "messages": messages,
        "params": params,
        "status": 200,
        "input_tokens": 40,
        "output_tokens": 300,
        "decision": "allow",
    }


def requests() -> list[dict[str, Any]]:
    """Every good request record of the sample, in time order."""
    out = []
    for day in range(10):
        base = START + timedelta(days=day)
        for account in HYDRA:
            out += [_request(account, base + timedelta(hours=k), day * 3 + k) for k in range(3)]
        if 4 <= day <= 8:
            for account in PROBE:
                out += [_request(account, base + timedelta(hours=k), day * 2 + k) for k in range(2)]
        for account in BENIGN:
            out += [_request(account, base + timedelta(hours=k), day * 2 + k) for k in range(2)]
    return sorted(out, key=lambda r: r["ts"])


def accounts() -> list[dict[str, Any]]:
    """The dg.account.v1 records."""
    out = []
    for account in HYDRA + PROBE + BENIGN:
        out.append(
            {
                "account_id": account,
                "created_at": "2026-03-20T10:00:00Z",
                "email_domain": "mail.example",
                "signup_ip": _ip(account, 0),
                "payment_fingerprint": "pf-shared-1" if account in HYDRA[:4] else f"pf-{account}",
                "country": "US",
                "verification": "email",
                "program": "education" if account in HYDRA else "standard",
                "tier": 1,
            }
        )
    return out


def findings() -> dict[str, Any]:
    """The dg.findings.v1 document a detector would write for the sample."""
    reasons = [
        {"signal": "shared_template", "weight": 0.5, "detail": "same prompt template as 5 others"},
        {"signal": "shared_infrastructure", "weight": 0.3, "detail": "JA4 shared by 6 accounts"},
    ]
    accts = [
        {
            "account_id": a,
            "score": 0.9,
            "flagged": True,
            "campaign_id": "C-hydra",
            "reasons": reasons,
        }
        for a in HYDRA
    ]
    accts += [
        {
            "account_id": a,
            "score": 0.7,
            "flagged": True,
            "campaign_id": "C-probe",
            "reasons": [{"signal": "logprob_probing", "weight": 0.7, "detail": "all requests"}],
        }
        for a in PROBE
    ]
    accts.append(
        {"account_id": "b1", "score": 0.05, "flagged": False, "campaign_id": None, "reasons": []}
    )
    return {
        "schema": "dg.findings.v1",
        "generated_at": "2026-04-11T00:00:00Z",
        "window": {"start": "2026-04-01T00:00:00Z", "end": "2026-04-11T00:00:00Z"},
        "accounts": accts,
        "campaigns": [
            {
                "campaign_id": "C-hydra",
                "account_ids": HYDRA,
                "requests": HYDRA_REQUESTS,
                "first_seen": "2026-04-01T08:00:00Z",
                "last_seen": "2026-04-10T10:00:00Z",
                "confidence": 0.92,
                "capabilities": {"reasoning": 0.6, "coding": 0.3, "planning": 0.1},
                "infrastructure": {
                    "ips": 18,
                    "asns": [64500, 64501],
                    "top_networks": ["203.0.113.0/24", "198.51.100.0/24"],
                    "exit_addresses": ["203.0.113.7", "203.0.113.9", "198.51.100.4"],
                },
                "summary": "Six education accounts share a tutoring template and one TLS stack.",
            },
            {
                "campaign_id": "C-probe",
                "account_ids": PROBE,
                "requests": PROBE_REQUESTS,
                "first_seen": "2026-04-05T08:00:00Z",
                "last_seen": "2026-04-09T09:00:00Z",
                "confidence": 0.7,
                "capabilities": {"logit_extraction": 1.0},
                "infrastructure": {"ips": 4, "asns": [64502], "top_networks": ["2001:db8:5::/48"]},
                "summary": "Two accounts probe log-probabilities with one-token prompts.",
            },
        ],
    }


def write_sample(root: Path) -> SamplePaths:
    """Write the sample under ``root`` and return its paths."""
    request_dir = root / "requests"
    request_dir.mkdir(parents=True, exist_ok=True)
    lines = [orjson.dumps(r) for r in requests()]
    bad_ip = dict(requests()[0], request_id="bad-ip", client_ip="not-an-ip")
    lines.insert(5, b'{"ts": "2026-04-01T08:00:00Z", "request_id": ')
    lines.insert(9, orjson.dumps(bad_ip))
    (request_dir / "part-0001.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    accounts_path = root / "accounts.jsonl"
    accounts_path.write_bytes(b"".join(orjson.dumps(a) + b"\n" for a in accounts()))
    findings_path = root / "findings.json"
    findings_path.write_bytes(orjson.dumps(findings()))
    return SamplePaths(root, findings_path, request_dir, accounts_path)
