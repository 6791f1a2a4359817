"""Replays a small scenario as real HTTP requests through a running gateway.

Each dg.request.v1 record becomes the provider request it describes (OpenAI chat, completions,
responses or Anthropic messages; never streamed), sent with the account's API key, its client
address in ``X-Forwarded-For`` (the gateway believes it when the replayer's address is a
configured trusted proxy, e.g. ``--trusted-proxy 127.0.0.1/32``), its ``User-Agent``, JA4 header
and SDK retry counter. Requests go out in scenario time order, paced at ``rate`` per second,
until ``limit`` requests or ``duration`` seconds, with at most ``concurrency`` in flight.

Keys come from the control plane: :func:`provision` imports the scenario's dg.account.v1
records into a :class:`~distillguard.controlplane.store.ControlPlaneStore` and creates one key
per account, or :func:`read_keys` reads the JSON Lines written by
``distillguard accounts import --keys``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from distillguard.errors import ConfigurationError, InputError


@dataclass
class ReplayReport:
    """What a replay did."""

    sent: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    skipped_no_key: int = 0
    elapsed_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "errors": dict(sorted(self.errors.items())),
            "skipped_no_key": self.skipped_no_key,
            "elapsed_s": round(self.elapsed_s, 3),
            "rate": round(self.sent / self.elapsed_s, 2) if self.elapsed_s else None,
        }


def _openai_params(params: Mapping[str, Any], body: dict[str, Any]) -> None:
    for key in ("max_tokens", "temperature", "top_p", "n", "logprobs", "top_logprobs"):
        if key in params:
            body[key] = params[key]
    if params.get("response_format"):
        body["response_format"] = {"type": params["response_format"]}
    if params.get("tools"):
        body["tools"] = [
            {
                "type": "function",
                "function": {"name": f"tool_{i}", "parameters": {"type": "object"}},
            }
            for i in range(int(params["tools"]))
        ]
    if params.get("logit_bias_size"):
        body["logit_bias"] = {str(1000 + i): 5 for i in range(int(params["logit_bias_size"]))}


def http_request(
    record: Mapping[str, Any], secret: str, ja4_header: str = "x-ja4"
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """(path, headers, JSON body) of the provider request that ``record`` describes."""
    endpoint = record["endpoint"]
    params: Mapping[str, Any] = record.get("params") or {}
    messages = record["messages"]
    headers = {"x-forwarded-for": record["client_ip"], "content-type": "application/json"}
    if record.get("user_agent"):
        headers["user-agent"] = record["user_agent"]
    if record.get("tls_ja4"):
        headers[ja4_header] = record["tls_ja4"]
    if record.get("retry_count") is not None:
        headers["x-stainless-retry-count"] = str(record["retry_count"])
    body: dict[str, Any] = {"model": record["model"]}
    if endpoint == "anthropic.messages":
        headers["x-api-key"] = secret
        headers["anthropic-version"] = "2023-06-01"
        system = "\n".join(m["content"] for m in messages if m["role"] == "system")
        turns = [
            {"role": "assistant" if m["role"] == "assistant" else "user", "content": m["content"]}
            for m in messages
            if m["role"] != "system"
        ]
        body.update(messages=turns, max_tokens=int(params.get("max_tokens") or 1024))
        if system:
            body["system"] = system
        if "temperature" in params:
            body["temperature"] = min(1.0, float(params["temperature"]))
        if params.get("thinking_budget"):
            body["thinking"] = {"type": "enabled", "budget_tokens": int(params["thinking_budget"])}
        return "/v1/messages", headers, body
    headers["authorization"] = f"Bearer {secret}"
    if endpoint == "openai.completions":
        body["prompt"] = messages[-1]["content"]
        _openai_params(params, body)
        return "/v1/completions", headers, body
    if endpoint == "openai.responses":
        body["input"] = [
            {"role": m["role"] if m["role"] != "tool" else "user", "content": m["content"]}
            for m in messages
        ]
        if "max_tokens" in params:
            body["max_output_tokens"] = params["max_tokens"]
        return "/v1/responses", headers, body
    body["messages"] = [dict(m) for m in messages]
    _openai_params(params, body)
    return "/v1/chat/completions", headers, body


def read_keys(path: Path) -> dict[str, str]:
    """``account_id -> api_key`` from the JSON Lines of ``distillguard accounts import --keys``."""
    keys: dict[str, str] = {}
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise InputError(f"cannot read keys {path}: {exc}") from exc
    for line in lines:
        if not line.strip():
            continue
        try:
            entry = orjson.loads(line)
            keys[str(entry["account_id"])] = str(entry["api_key"])
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"{path}: not a keys file line: {line[:80]!r}") from exc
    return keys


def provision(store_url: str, accounts: list[dict[str, Any]]) -> dict[str, str]:
    """Import ``accounts`` (dg.account.v1) into the control plane and create a key for each."""
    from distillguard.controlplane.accountimport import import_accounts
    from distillguard.controlplane.store import ControlPlaneStore

    lines = [orjson.dumps({**a, "org_id": None}) for a in accounts]
    store = ControlPlaneStore.open(store_url)
    try:
        report = import_accounts(store, lines, create_keys=True, key_name="replay")
        keys = {k.record.account_id: k.secret for k in report.keys}
        existing = [a["account_id"] for a in accounts if a["account_id"] not in keys]
        if existing:  # already imported by an earlier replay: give them a fresh key
            keys.update(
                {k.record.account_id: k.secret for k in store.create_keys(existing, name="replay")}
            )
    finally:
        store.close()
    return keys


async def send(
    url: str,
    records: Iterator[dict[str, Any]],
    keys: Mapping[str, str],
    *,
    rate: float,
    duration: float,
    limit: int,
    concurrency: int = 16,
    ja4_header: str = "x-ja4",
    timeout: float = 30.0,
) -> ReplayReport:
    """Send ``records`` to the gateway at ``url``, paced and bounded; see the module docstring."""
    import aiohttp

    if rate <= 0 or duration <= 0 or limit < 1 or concurrency < 1:
        raise ConfigurationError("rate, duration, limit and concurrency must be positive")
    report = ReplayReport()
    gate = asyncio.Semaphore(concurrency)
    started = time.monotonic()
    tasks: set[asyncio.Task[None]] = set()
    base = url.rstrip("/")

    async def one(
        session: aiohttp.ClientSession, path: str, headers: dict[str, str], body: dict[str, Any]
    ) -> None:
        try:
            async with session.post(
                base + path, data=orjson.dumps(body), headers=headers
            ) as response:
                await response.read()
                report.statuses[response.status] = report.statuses.get(response.status, 0) + 1
        except (TimeoutError, aiohttp.ClientError) as exc:
            name = type(exc).__name__
            report.errors[name] = report.errors.get(name, 0) + 1
        finally:
            gate.release()

    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(timeout=client_timeout) as session:
        for record in records:
            if report.sent >= limit or time.monotonic() - started >= duration:
                break
            secret = keys.get(record["account_id"])
            if secret is None:
                report.skipped_no_key += 1
                continue
            due = started + report.sent / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await gate.acquire()
            path, headers, body = http_request(record, secret, ja4_header)
            task = asyncio.create_task(one(session, path, headers, body))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            report.sent += 1
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
    report.elapsed_s = time.monotonic() - started
    return report
