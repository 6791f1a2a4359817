"""A hand-made requests/ips dataset whose per-account features are known by hand.

Shared by the contract suite of every engine (tests/detect/test_behaviour.py,
tests/detect/engine/test_spark.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

START = datetime(2026, 4, 1, tzinfo=UTC)
RELEASE = START + timedelta(days=5, hours=12)  # "m-new" is first seen here

# The store's column types (see Store: the featurised batch, KEPT columns).
REQUESTS = pa.schema(
    [
        ("ts", pa.timestamp("ms", tz="UTC")),
        ("account_id", pa.string()),
        ("client_ip", pa.string()),
        ("user_agent", pa.string()),
        ("tls_ja4", pa.string()),
        ("model", pa.string()),
        ("n_user", pa.int32()),
        ("n_assistant", pa.int32()),
        ("max_tokens", pa.int64()),
        ("temperature", pa.float64()),
        ("n", pa.int64()),
        ("logprobs", pa.bool_()),
        ("logit_bias_size", pa.int64()),
        ("input_tokens", pa.int64()),
        ("output_tokens", pa.int64()),
        ("template", pa.int64()),
        ("intents", pa.int8()),
        ("domain", pa.int8()),
    ]
)
IPS = pa.schema(
    [
        ("client_ip", pa.string()),
        ("prefix", pa.string()),
        ("asn", pa.int64()),
        ("organization", pa.string()),
        ("kind", pa.string()),
    ]
)
COLUMNS = [
    "account_id", "requests", "active_days", "first_seen", "last_seen", "avg_input_tokens",
    "avg_output_tokens", "single_turn", "cot_share", "sysprompt_share", "rubric_share",
    "synthetic_share", "ips", "prefixes", "asns", "residential_share", "hosting_share",
    "mobile_share", "user_agents", "ja4s", "max_tokens_values", "n_gt1_share", "logprobs_share",
    "logit_bias_share", "temperatures", "content_requests", "templates", "models",
    "hour_entropy", "gap_cv", "median_gap_s", "top_domain_share", "domain_coverage",
    "capability_coverage", "top_domain", "top_template_share", "early_model_jump",
    "requests_per_day", "ip_churn",
]  # fmt: skip


def _row(account: str, ts: datetime, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "ts": ts,
        "account_id": account,
        "client_ip": "198.51.100.7",
        "user_agent": "ua-1",
        "tls_ja4": "t13d1812h2_aaa_bbb",
        "model": "m-old",
        "n_user": 1,
        "n_assistant": 0,
        "max_tokens": 1024,
        "temperature": 1.0,
        "n": 1,
        "logprobs": False,
        "logit_bias_size": 0,
        "input_tokens": 100,
        "output_tokens": 200,
        "template": 0,
        "intents": 0,
        "domain": 7,
    }
    row.update(values)
    return row


def dataset() -> tuple[pa.Table, pa.Table]:
    """(requests, ips) of seven accounts, each shaped to show a few features."""
    day0 = START + timedelta(hours=10)
    second = timedelta(seconds=1)
    rows = [
        # "steady": four requests within hour 10 of one day, 10 s, 10 s and 20 s apart
        _row("steady", day0, client_ip="10.0.0.1", intents=1, template=111, domain=2,
             max_tokens=512, n=1, logprobs=True, temperature=0.0, input_tokens=10),
        _row("steady", day0 + 10 * second, client_ip="10.0.0.1", intents=3, template=111,
             domain=2, n=2, temperature=0.7, input_tokens=20, n_user=2, n_assistant=1),
        _row("steady", day0 + 20 * second, client_ip="10.0.0.2", template=222, domain=1,
             n=None, logprobs=None, logit_bias_size=3, temperature=0.7, input_tokens=None,
             user_agent="ua-2"),
        _row("steady", day0 + 40 * second, client_ip="10.0.0.2", intents=8, max_tokens=None,
             temperature=None, input_tokens=30),
        # "two_hours": midnight on day 1, noon on day 2
        _row("two_hours", START + timedelta(days=1), domain=3),
        _row("two_hours", START + timedelta(days=2, hours=12), domain=1),
        # "clock": one request in every hour of day 3
        *(_row("clock", START + timedelta(days=3, hours=h)) for h in range(24)),
        # "single": one request without content
        _row("single", START + timedelta(days=4, hours=5)),
        # "jumper": moves to m-new the moment it appears and stays there
        _row("jumper", START, domain=5),
        _row("jumper", START + timedelta(days=4), domain=0),
        _row("jumper", RELEASE, model="m-new", domain=5),
        _row("jumper", RELEASE + timedelta(hours=1), model="m-new", domain=6),
        _row("jumper", RELEASE + timedelta(days=1), model="m-new"),
        # "late": tries m-new only three days after its release
        _row("late", START + timedelta(days=1)),
        _row("late", START + timedelta(days=8), model="m-new"),
        _row("late", START + timedelta(days=8, hours=1)),
        # "dabbler": uses m-new within the day, but for a third of its later traffic
        _row("dabbler", START + timedelta(days=1)),
        _row("dabbler", RELEASE + timedelta(hours=6), model="m-new"),
        _row("dabbler", RELEASE + timedelta(hours=7)),
        _row("dabbler", RELEASE + timedelta(hours=8)),
    ]  # fmt: skip
    requests = pa.Table.from_pylist(rows, schema=REQUESTS)
    ips = pa.Table.from_pylist(
        [
            {"client_ip": "10.0.0.1", "prefix": "10.0.0.0/24", "asn": 64500, "kind": "residential"},
            {"client_ip": "10.0.0.2", "prefix": "10.0.0.0/24", "asn": 64500, "kind": "hosting"},
            {"client_ip": "198.51.100.7", "prefix": "198.51.100.0/24", "asn": 64501, "kind": None},
        ],
        schema=IPS,
    )
    return requests, ips
