"""Replay through a real gateway (uvicorn on loopback) in front of the mock LLM, with keys made
in a real control-plane database."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest

from distillguard.config import load_settings
from distillguard.gateway.assembly import build_gateway
from distillguard.gateway.server import BackgroundServer
from distillguard.mockllm import MockLLM
from distillguard.ratelimit.storage.memory import MemoryLimiter
from distillguard.simulate import replay, scenario


def _gateway_log(directory: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted(directory.glob("requests-*.jsonl*")):
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rb") as handle:
            rows.extend(orjson.loads(line) for line in handle if line.strip())
    return rows


def test_http_request_maps_each_endpoint() -> None:
    record: dict[str, Any] = {
        "endpoint": "anthropic.messages",
        "model": "m",
        "client_ip": "73.1.2.3",
        "user_agent": "ua",
        "tls_ja4": "t13d",
        "retry_count": 0,
        "messages": [
            {"role": "system", "content": "s"},
            {"role": "user", "content": "u"},
            {"role": "tool", "content": "t"},
        ],
        "params": {"max_tokens": 99, "thinking_budget": 2048},
    }
    path, headers, body = replay.http_request(record, "secret")
    assert (
        path == "/v1/messages"
        and headers["x-api-key"] == "secret"
        and headers["x-forwarded-for"] == "73.1.2.3"
    )
    assert body["system"] == "s" and [m["role"] for m in body["messages"]] == ["user", "user"]
    assert body["thinking"]["budget_tokens"] == 2048 and body["max_tokens"] == 99
    record.update(
        endpoint="openai.chat.completions",
        params={"tools": 2, "logprobs": True, "response_format": "json_object"},
    )
    path, headers, body = replay.http_request(record, "secret")
    assert path == "/v1/chat/completions" and headers["authorization"] == "Bearer secret"
    assert (
        len(body["tools"]) == 2
        and body["logprobs"] is True
        and body["response_format"] == {"type": "json_object"}
    )


@pytest.mark.integration
def test_replay_sends_scenario_requests_through_the_gateway(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cp.db'}"
    traffic, builder = scenario.prepare("seed", 0.001, 7)
    keys = replay.provision(db, builder.accounts)
    assert len(keys) == len(builder.accounts)
    expected = [r for _, r in zip(range(30), scenario.records(traffic), strict=False)]
    with BackgroundServer(MockLLM()) as upstream:
        settings = load_settings(
            {
                "upstream_url": upstream.url,
                "log_dir": str(tmp_path / "logs"),
                "log_format": "jsonl",
                "db_url": db,
                "trusted_proxies": "127.0.0.1/32",
            },
            env={},
        )
        app = build_gateway(settings, limiter=MemoryLimiter())
        with BackgroundServer(app) as gateway:
            report = asyncio.run(
                replay.send(
                    gateway.url,
                    scenario.records(traffic),
                    keys,
                    rate=300,
                    duration=30,
                    limit=30,
                    concurrency=4,
                )
            )
    assert report.sent == 30 and not report.errors
    assert sum(report.statuses.values()) == 30
    logged = _gateway_log(tmp_path / "logs")
    assert len(logged) == 30
    assert sorted((r["account_id"], r["client_ip"], r["user_agent"]) for r in logged) == sorted(
        (r["account_id"], r["client_ip"], r["user_agent"]) for r in expected
    )
    assert {r["tls_ja4"] for r in logged} == {r["tls_ja4"] for r in expected}


def test_replay_is_bounded_by_duration_and_rate(tmp_path: Path) -> None:
    traffic, builder = scenario.prepare("seed", 0.001, 7)
    keys = {a["account_id"]: "k" for a in builder.accounts}
    with BackgroundServer(MockLLM()) as sink:  # answers 404 for nothing here; we only count
        report = asyncio.run(
            replay.send(
                sink.url, scenario.records(traffic), keys, rate=20, duration=0.5, limit=1000
            )
        )
    assert 5 <= report.sent <= 12
    assert report.elapsed_s < 3


def test_read_keys_rejects_a_foreign_file(tmp_path: Path) -> None:
    good = tmp_path / "keys.jsonl"
    good.write_bytes(b'{"account_id": "a", "key_id": "k", "api_key": "dg-secret"}\n')
    assert replay.read_keys(good) == {"a": "dg-secret"}
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"account": "a"}\n')
    from distillguard.errors import InputError

    with pytest.raises(InputError):
        replay.read_keys(bad)
