"""Readers for dg.request.v1, dg.account.v1 and dg.labels.v1, in columnar batches.

Detection never holds millions of Python dicts: :func:`request_batches` validates each record,
flattens it into the columns of :data:`REQUEST_SCHEMA` (messages reduced to the system prompt,
the last user message and counts, each capped) and yields ``pyarrow.Table`` batches. Bad records
go to a :class:`~distillguard.logs.rejects.RejectSink` with their reason.

>>> from pathlib import Path
>>> for table in request_batches(Path("requests/"), RejectSink(None)):  # doctest: +SKIP
...     print(table.num_rows)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from distillguard.errors import SchemaError
from distillguard.logs.arrow import ACCOUNT_SCHEMA as ACCOUNT_SCHEMA
from distillguard.logs.files import discover, iter_raw, raw_excerpt
from distillguard.logs.rejects import RejectSink
from distillguard.logs.validate import validate_account, validate_label, validate_request

PROMPT_CAP = 4096
SYSTEM_CAP = 2048
TS = pa.timestamp("ms", tz="UTC")

REQUEST_SCHEMA = pa.schema(
    [
        ("ts", TS),
        ("request_id", pa.string()),
        ("account_id", pa.string()),
        ("org_id", pa.string()),
        ("api_key_id", pa.string()),
        ("client_ip", pa.string()),
        ("user_agent", pa.string()),
        ("tls_ja4", pa.string()),
        ("retry_count", pa.int32()),
        ("endpoint", pa.string()),
        ("model", pa.string()),
        ("n_messages", pa.int32()),
        ("n_user", pa.int32()),
        ("n_assistant", pa.int32()),
        ("system", pa.string()),
        ("prompt", pa.string()),
        ("prompt_chars", pa.int64()),
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
        ("status", pa.int32()),
        ("input_tokens", pa.int64()),
        ("output_tokens", pa.int64()),
        ("reasoning_tokens", pa.int64()),
        ("latency_ms", pa.float64()),
        ("decision", pa.string()),
        ("source", pa.string()),
    ]
)
_TOP = ("request_id", "account_id", "org_id", "api_key_id", "client_ip", "user_agent", "tls_ja4")
_TOP2 = ("status", "input_tokens", "output_tokens", "reasoning_tokens", "latency_ms", "decision")
_PARAMS = (
    "max_tokens",
    "temperature",
    "top_p",
    "n",
    "stream",
    "logprobs",
    "top_logprobs",
    "logit_bias_size",
    "tools",
    "thinking_budget",
    "response_format",
)

LABEL_SCHEMA = pa.schema(
    [
        ("account_id", pa.string()),
        ("malicious", pa.bool_()),
        ("campaign_id", pa.string()),
        ("persona", pa.string()),
    ]
)


def _validated(
    files: Iterable[Path], rejects: RejectSink, check: Callable[[Any], Any]
) -> Iterator[tuple[str, Any, Any]]:
    for path in files:
        source = str(path)
        for raw in iter_raw(path):
            if raw.error is not None:
                rejects.add(source, raw.position, raw.error[0], raw.error[1], raw_excerpt(raw))
                continue
            try:
                extra = check(raw.value)
            except SchemaError as exc:
                rejects.add(source, raw.position, exc.reason, str(exc), raw_excerpt(raw))
                continue
            except (KeyError, TypeError, ValueError, OverflowError) as exc:
                rejects.add(source, raw.position, "invalid", repr(exc)[:200], raw_excerpt(raw))
                continue
            yield source, raw.value, extra


def _flatten_messages(messages: list[dict[str, str]]) -> tuple[int, int, int, str, str, int]:
    n_user = n_assistant = 0
    system = ""
    prompt = ""
    chars = 0
    for message in messages:
        role = message["role"]
        content = message["content"]
        chars += len(content)
        if role == "user":
            n_user += 1
            prompt = content
        elif role == "assistant":
            n_assistant += 1
        elif role == "system" and not system:
            system = content
    return (
        len(messages),
        n_user,
        n_assistant,
        system[:SYSTEM_CAP],
        prompt[:PROMPT_CAP],
        chars,
    )


def request_batches(
    path: Path | Iterable[Path], rejects: RejectSink, batch_size: int = 50_000
) -> Iterator[pa.Table]:
    """Yield validated dg.request.v1 records from ``path`` as tables of :data:`REQUEST_SCHEMA`."""
    files = discover(path) if isinstance(path, Path) else list(path)
    names = REQUEST_SCHEMA.names
    cols: dict[str, list[Any]] = {name: [] for name in names}
    count = 0
    for source, record, ts in _validated(files, rejects, validate_request):
        cols["ts"].append(ts)
        for key in _TOP:
            cols[key].append(record.get(key))
        cols["retry_count"].append(record.get("retry_count"))
        cols["endpoint"].append(record["endpoint"])
        cols["model"].append(record["model"])
        flat = _flatten_messages(record["messages"])
        cols["n_messages"].append(flat[0])
        cols["n_user"].append(flat[1])
        cols["n_assistant"].append(flat[2])
        cols["system"].append(flat[3])
        cols["prompt"].append(flat[4])
        cols["prompt_chars"].append(flat[5])
        params = record.get("params") or {}
        for key in _PARAMS:
            cols[key].append(params.get(key))
        for key in _TOP2:
            cols[key].append(record.get(key))
        cols["source"].append(source)
        count += 1
        if count >= batch_size:
            yield _to_table(cols, REQUEST_SCHEMA)
            cols = {name: [] for name in names}
            count = 0
    if count:
        yield _to_table(cols, REQUEST_SCHEMA)


def _to_table(cols: dict[str, list[Any]], schema: pa.Schema) -> pa.Table:
    arrays = []
    for field in schema:
        values = cols[field.name]
        if field.type == TS:
            arrays.append(pa.array(values, type=pa.int64()).cast(TS))
        elif pa.types.is_integer(field.type):
            arrays.append(pa.array([None if v is None else int(v) for v in values], field.type))
        else:
            arrays.append(pa.array(values, type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _read_all(
    path: Path, rejects: RejectSink, check: Callable[[Any], Any], schema: pa.Schema, ts: str
) -> pa.Table:
    cols: dict[str, list[Any]] = {name: [] for name in schema.names}
    seen: set[str] = set()
    for source, record, extra in _validated(discover(path), rejects, check):
        account_id = record["account_id"]
        if account_id in seen:
            rejects.add(source, 0, "duplicate_id", f"account_id {account_id!r} repeated", "")
            continue
        seen.add(account_id)
        for name in schema.names:
            cols[name].append(extra if name == ts else record.get(name))
    return _to_table(cols, schema)


def read_accounts(path: Path, rejects: RejectSink) -> pa.Table:
    """Read every dg.account.v1 record at ``path`` into a table of :data:`ACCOUNT_SCHEMA`."""
    return _read_all(path, rejects, validate_account, ACCOUNT_SCHEMA, "created_at")


def read_labels(path: Path, rejects: RejectSink) -> pa.Table:
    """Read every dg.labels.v1 record at ``path`` into a table of :data:`LABEL_SCHEMA`."""
    return _read_all(path, rejects, validate_label, LABEL_SCHEMA, "")
