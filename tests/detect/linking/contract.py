"""A hand-made dataset whose evidence keys, account pairs and edges are known by hand.

Shared by the linking contract suite of every engine (tests/detect/linking/test_edges.py runs
it on DuckDB and on Spark). Every account sends one request from an address of its own unless
a group below says otherwise, so that only the planned keys are shared:

- ``ip-a``/``ip-b``: one address within the same hour; ``ip-c`` the same address two hours
  later; all three the same /24 on day 0, ``ip-d`` that /24 on day 1.
- ``txt-a``/``txt-b``: two prompt templates, each sent twice (content only).
- ``mix-a``/``mix-b``: two templates and a TLS fingerprint with user agent; ``mix-c`` the
  fingerprint without a user agent.
- ``copy-a``/``copy-b``: three templates, two LSH buckets sent within half an hour, one
  system prompt (content only, but much of it).
- ``pay-1``..``pay-4`` one card (more accounts than the kind's ``max_df``), ``pay-5``..``pay-7``
  another.
- ``cand-a``/``cand-b``/``plain`` (not a candidate) a sign-up burst; ``slow`` the same hour
  without a burst.
- ``ring-01``..``ring-12`` one e-mail pattern (more candidates than ``pair_cap``: a ring);
  ``ring-custom`` the same pattern on a custom domain.
- Everyone the same sign-up network, a kind without weight here.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from distillguard.detect.config import KeyKind

START = datetime(2026, 4, 1, tzinfo=UTC)

KINDS = {
    "ip_window": KeyKind(0.6, 200, 60),
    "prefix_day": KeyKind(0.3, 400, 1440),
    "ja4_agent": KeyKind(0.3, 300, 0),
    "template": KeyKind(0.8, 3000, 0),
    "lsh": KeyKind(0.5, 3000, 0),
    "template_sync": KeyKind(0.7, 500, 30),
    "system_prompt": KeyKind(0.6, 3000, 0),
    "payment": KeyKind(2.0, 3, 0),
    "email_pattern": KeyKind(2.0, 500, 0),
    "signup_burst": KeyKind(1.0, 20000, 0),
    "signup_network": KeyKind(0.0, 200, 0),
}
SETTINGS: dict[str, Any] = {
    "min_accounts": 2,
    "pair_cap": 5,
    "neighbours": 2,
    "min_edge_weight": 1.5,
    "min_mixed_weight": 0.4,
}
RING = [f"ring-{i:02d}" for i in range(1, 13)]
# Every linked pair outside the ring, by kind: the df (accounts holding it) of each shared key.
PAIRS = {
    ("ip-a", "ip-b", "ip_window"): [2],
    ("ip-a", "ip-b", "prefix_day"): [3],
    ("ip-a", "ip-c", "prefix_day"): [3],
    ("ip-b", "ip-c", "prefix_day"): [3],
    ("txt-a", "txt-b", "template"): [2, 2],
    ("mix-a", "mix-b", "template"): [2, 2],
    ("mix-a", "mix-b", "ja4_agent"): [2],
    ("copy-a", "copy-b", "template"): [2, 2, 2],
    ("copy-a", "copy-b", "lsh"): [2, 2],
    ("copy-a", "copy-b", "template_sync"): [2],
    ("copy-a", "copy-b", "system_prompt"): [2],
    ("pay-5", "pay-6", "payment"): [3],
    ("pay-5", "pay-7", "payment"): [3],
    ("pay-6", "pay-7", "payment"): [3],
    ("cand-a", "cand-b", "signup_burst"): [3],  # "plain" holds the key too
}

REQUESTS = pa.schema(
    [
        ("ts", pa.timestamp("ms", tz="UTC")),
        ("account_id", pa.string()),
        ("client_ip", pa.string()),
        ("user_agent", pa.string()),
        ("tls_ja4", pa.string()),
        ("template", pa.int64()),
        ("system_hash", pa.int64()),
        ("lsh_0", pa.int64()),
        ("lsh_1", pa.int64()),
    ]
)
IPS = pa.schema([("client_ip", pa.string()), ("prefix", pa.string())])
SIGNUP = pa.schema(
    [
        ("account_id", pa.string()),
        ("email_kind", pa.string()),
        ("email_pattern", pa.string()),
        ("signup_prefix", pa.string()),
        ("payment_fingerprint", pa.string()),
        ("created_hour", pa.timestamp("us", tz="UTC")),
        ("burst_ratio", pa.float64()),
    ]
)


def dataset() -> tuple[pa.Table, pa.Table, pa.Table, pa.Table]:
    """(requests, ips, account_signup, candidates) of the groups in the module docstring."""
    hour = START + timedelta(hours=10)
    minute = timedelta(minutes=1)
    special: list[dict[str, Any]] = [
        _request("ip-a", hour + 5 * minute, client_ip="203.0.113.5"),
        _request("ip-b", hour + 40 * minute, client_ip="203.0.113.5"),
        _request("ip-c", hour + 130 * minute, client_ip="203.0.113.5"),
        _request("ip-d", hour + timedelta(days=1), client_ip="203.0.113.9"),
        *(_request(a, hour, template=t) for a in ("txt-a", "txt-b") for t in (101, 102, 101, 102)),
        *(
            _request(a, hour, template=t, tls_ja4="t13d_mix", user_agent="ua-mix")
            for a in ("mix-a", "mix-b")
            for t in (201, 202)
        ),
        _request("mix-c", hour, tls_ja4="t13d_mix"),
        *(
            _request(a, hour + (10 * j + k) * minute, template=t, lsh_0=311, lsh_1=312,
                     system_hash=321)
            for j, a in enumerate(("copy-a", "copy-b"))
            for k, t in enumerate((301, 302, 303))
        ),
    ]  # fmt: skip
    signup: dict[str, dict[str, Any]] = {}
    for i in range(1, 8):
        signup[f"pay-{i}"] = {"payment_fingerprint": "card-wide" if i <= 4 else "card-three"}
    burst = START - timedelta(days=3, hours=4)
    for account, ratio in (("cand-a", 5.0), ("cand-b", 4.0), ("plain", 6.0), ("slow", 2.0)):
        signup[account] = {"created_hour": burst, "burst_ratio": ratio}
    for account in RING:
        signup[account] = {"email_pattern": "wordNNNN", "email_kind": "freemail"}
    signup["ring-custom"] = {"email_pattern": "wordNNNN", "email_kind": "custom"}
    accounts = sorted({str(r["account_id"]) for r in special} | set(signup))
    plain = [_request(a, START + timedelta(days=2)) for a in accounts if a in signup]
    requests = pa.Table.from_pylist(special + plain, schema=REQUESTS)
    ips = pa.Table.from_pylist(
        [
            {"client_ip": "203.0.113.5", "prefix": "203.0.113.0/24"},
            {"client_ip": "203.0.113.9", "prefix": "203.0.113.0/24"},
        ],
        schema=IPS,
    )
    rows = [
        {
            "account_id": a,
            "email_kind": "freemail",
            "signup_prefix": "198.51.100.0/24",
            "burst_ratio": 0.0,
            **signup.get(a, {}),
        }
        for a in accounts
    ]
    candidates = pa.table({"account_id": pa.array([a for a in accounts if a != "plain"])})
    return requests, ips, pa.Table.from_pylist(rows, schema=SIGNUP), candidates


def accounts() -> int:
    """The number of accounts with evidence (all of them: each sends a request)."""
    return len(set(dataset()[0].column("account_id").to_pylist()))


def key_weight(kind: str, df: list[int]) -> float:
    """The documented weight of one kind for a pair sharing keys of these ``df`` values."""
    n = max(accounts(), 2) + 1
    return KINDS[kind].weight * (1 - math.exp(-sum(math.log(n / d) / math.log(n) for d in df)))


def _request(account: str, ts: datetime, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "ts": ts,
        "account_id": account,
        "client_ip": f"own:{account}",  # an address nobody else uses
        "user_agent": None,
        "tls_ja4": None,
        "template": 0,
        "system_hash": 0,
        "lsh_0": 0,
        "lsh_1": 0,
    }
    row.update(values)
    return row
