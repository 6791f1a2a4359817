"""Arrow schemas for the Parquet form of dg.request.v1 and dg.account.v1.

The spec says: timestamps are ``timestamp[ms, UTC]``, nested objects are structs and lists are
lists, with the JSON field names. Records are converted with :func:`request_table` /
:func:`account_table` from the JSON form (RFC 3339 strings).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa

TIMESTAMP = pa.timestamp("ms", tz="UTC")

PARAMS = pa.struct(
    [
        ("max_tokens", pa.int64()),
        ("temperature", pa.float64()),
        ("top_p", pa.float64()),
        ("n", pa.int64()),
        ("stream", pa.bool_()),
        ("logprobs", pa.bool_()),
        ("top_logprobs", pa.int64()),
        ("logit_bias_size", pa.int64()),
        ("tools", pa.int64()),
        ("thinking_budget", pa.int64()),
        ("response_format", pa.string()),
    ]
)

REQUEST_SCHEMA = pa.schema(
    [
        ("ts", TIMESTAMP),
        ("request_id", pa.string()),
        ("account_id", pa.string()),
        ("org_id", pa.string()),
        ("api_key_id", pa.string()),
        ("client_ip", pa.string()),
        ("user_agent", pa.string()),
        ("tls_ja4", pa.string()),
        ("retry_count", pa.int64()),
        ("endpoint", pa.string()),
        ("model", pa.string()),
        ("messages", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
        ("params", PARAMS),
        ("status", pa.int64()),
        ("input_tokens", pa.int64()),
        ("output_tokens", pa.int64()),
        ("reasoning_tokens", pa.int64()),
        ("latency_ms", pa.float64()),
        ("response_text", pa.string()),
        ("decision", pa.string()),
    ]
)

ACCOUNT_SCHEMA = pa.schema(
    [
        ("account_id", pa.string()),
        ("org_id", pa.string()),
        ("created_at", TIMESTAMP),
        ("email", pa.string()),
        ("email_domain", pa.string()),
        ("signup_ip", pa.string()),
        ("signup_user_agent", pa.string()),
        ("payment_fingerprint", pa.string()),
        ("payment_country", pa.string()),
        ("country", pa.string()),
        ("verification", pa.string()),
        ("program", pa.string()),
        ("tier", pa.int64()),
    ]
)

_TIME_FIELDS = {"ts", "created_at"}


def parse_time(value: str) -> datetime:
    """Parse an RFC 3339 timestamp (``Z`` or an offset) into an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)


def _columns(records: Sequence[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    columns: dict[str, list[Any]] = {name: [] for name in schema.names}
    for record in records:
        for name, values in columns.items():
            value = record.get(name)
            if name in _TIME_FIELDS and isinstance(value, str):
                value = parse_time(value)
            values.append(value)
    return pa.Table.from_pydict(columns, schema=schema)


def request_table(records: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Build a Parquet-ready table of dg.request.v1 records (JSON form)."""
    return _columns(records, REQUEST_SCHEMA)


def account_table(records: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Build a Parquet-ready table of dg.account.v1 records (JSON form)."""
    return _columns(records, ACCOUNT_SCHEMA)
