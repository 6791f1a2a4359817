"""The gateway end to end on loopback: a real mock upstream, a real uvicorn server, real sockets."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from distillguard.controlplane.principal import TierLimits

from .harness import DENIED, GOOD, ServerThread, default_keys, running_gateway, running_mock

CHAT = {"model": "mock-1", "messages": [{"role": "user", "content": "hello there"}]}
MESSAGES = {
    "model": "claude-mock-1",
    "max_tokens": 64,
    "system": "be brief",
    "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image"}]}],
}
OPENAI_AUTH = {"Authorization": f"Bearer {GOOD}"}
ANTHROPIC_AUTH = {"x-api-key": GOOD, "anthropic-version": "2023-06-01"}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def gateway(mock_upstream: ServerThread, tmp_path: Path) -> Any:
    with running_gateway(mock_upstream.url, tmp_path / "logs") as gw:
        yield gw


async def post(
    http: aiohttp.ClientSession, url: str, body: Any, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    data: Any = body if isinstance(body, bytes) else orjson.dumps(body)
    if len(data) > 1 << 20:
        data = io.BytesIO(data)
    async with http.post(url, data=data, headers=headers) as response:
        headers = {str(k).lower(): v for k, v in response.headers.items()}
        return response.status, headers, await response.read()


async def test_chat_completion_is_proxied_with_rate_limit_headers(
    gateway: Any, http: aiohttp.ClientSession
) -> None:
    status, headers, body = await post(
        http, gateway.url + "/v1/chat/completions", {**CHAT, "max_tokens": 20}, OPENAI_AUTH
    )
    assert status == 200
    answer = orjson.loads(body)
    assert answer["usage"]["completion_tokens"] == 12
    assert headers["x-request-id"].startswith("req_")
    assert headers["x-ratelimit-limit-requests"] == "1000"
    assert headers["x-ratelimit-remaining-requests"] == "999"
    assert headers["x-ratelimit-reset-requests"].endswith("ms")
    assert "x-ratelimit-limit-tokens" in headers
    [record] = gateway.records()
    assert record["status"] == 200 and record["decision"] == "allow"
    assert record["account_id"] == "acc_1" and record["api_key_id"] == "key_good"
    assert record["messages"] == [{"role": "user", "content": "hello there"}]
    assert record["params"] == {"max_tokens": 20}
    assert record["output_tokens"] == 12
    assert record["response_text"] == answer["choices"][0]["message"]["content"]


async def test_anthropic_stream_passes_events_and_logs_usage(
    gateway: Any, http: aiohttp.ClientSession
) -> None:
    status, headers, body = await post(
        http, gateway.url + "/v1/messages", {**MESSAGES, "stream": True}, ANTHROPIC_AUTH
    )
    assert status == 200
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["anthropic-ratelimit-requests-limit"] == "1000"
    assert headers["anthropic-ratelimit-output-tokens-reset"].endswith("Z")
    assert headers["request-id"].startswith("req_")
    assert body.count(b"event: content_block_delta") == 12
    assert body.rstrip().endswith(b'data: {"type":"message_stop"}')
    [record] = gateway.records()
    assert record["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi\n[image]"},
    ]
    assert record["output_tokens"] == 12 and record["input_tokens"] > 0
    assert record["params"] == {"max_tokens": 64, "stream": True}
    assert len(record["response_text"].split()) == 12


async def test_openai_stream_gets_usage_without_the_extra_chunk(
    gateway: Any, http: aiohttp.ClientSession
) -> None:
    status, _, body = await post(
        http, gateway.url + "/v1/chat/completions", {**CHAT, "stream": True}, OPENAI_AUTH
    )
    assert status == 200
    assert b'"usage"' not in body  # the client did not ask for the usage chunk
    assert body.rstrip().endswith(b"data: [DONE]")
    status, _, body = await post(
        http,
        gateway.url + "/v1/chat/completions",
        {**CHAT, "stream": True, "stream_options": {"include_usage": True}},
        OPENAI_AUTH,
    )
    assert b'"usage"' in body  # it did here
    records = gateway.records()
    assert [r["output_tokens"] for r in records] == [12, 12]


@pytest.mark.parametrize(
    ("path", "body", "kind"),
    [
        ("/v1/completions", {"model": "mock-1", "prompt": "say hi", "max_tokens": 5}, "text"),
        ("/v1/responses", {"model": "mock-1", "input": "say hi", "instructions": "sys"}, "resp"),
        ("/v1/messages/count_tokens", {"model": "claude-mock-1", "messages": []}, "count"),
    ],
)
async def test_other_routes(
    gateway: Any, http: aiohttp.ClientSession, path: str, body: Any, kind: str
) -> None:
    status, _, raw = await post(http, gateway.url + path, body, OPENAI_AUTH)
    assert status == 200
    answer = orjson.loads(raw)
    [record] = gateway.records()
    if kind == "text":
        assert len(answer["choices"][0]["text"].split()) == 5
        assert record["endpoint"] == "openai.completions"
        assert record["messages"] == [{"role": "user", "content": "say hi"}]
    elif kind == "resp":
        assert record["endpoint"] == "openai.responses"
        assert record["messages"][0] == {"role": "system", "content": "sys"}
        assert record["output_tokens"] == 12
    else:
        assert "input_tokens" in answer
        assert record["path"] == "/v1/messages/count_tokens"


async def test_models_listing(gateway: Any, http: aiohttp.ClientSession) -> None:
    async with http.get(gateway.url + "/v1/models", headers=OPENAI_AUTH) as response:
        assert response.status == 200
        assert (await response.json())["object"] == "list"
    async with http.get(gateway.url + "/v1/models", headers=ANTHROPIC_AUTH) as response:
        assert "has_more" in await response.json()


@pytest.mark.parametrize(
    ("headers", "status", "openai_code"),
    [
        ({}, 401, "invalid_api_key"),
        ({"Authorization": "Bearer dg-key_nope-nope"}, 401, "invalid_api_key"),
        ({"Authorization": f"Bearer {DENIED}"}, 403, None),
    ],
)
async def test_auth_failures_in_openai_format(
    gateway: Any,
    http: aiohttp.ClientSession,
    headers: dict[str, str],
    status: int,
    openai_code: Any,
) -> None:
    got, response_headers, body = await post(
        http, gateway.url + "/v1/chat/completions", CHAT, headers
    )
    assert got == status
    error = orjson.loads(body)["error"]
    assert error["code"] == openai_code and error["param"] is None
    assert error["type"] == ("invalid_request_error" if status == 401 else "permission_error")
    assert response_headers["x-should-retry"] == "false"
    [record] = gateway.records()
    assert record["status"] == status and record["decision"] == "block"
    assert record["account_id"] == "anonymous"


@pytest.mark.parametrize(
    ("key", "status", "kind"),
    [("wrong", 401, "authentication_error"), (DENIED, 403, "permission_error")],
)
async def test_auth_failures_in_anthropic_format(
    gateway: Any, http: aiohttp.ClientSession, key: str, status: int, kind: str
) -> None:
    headers = {"x-api-key": key, "anthropic-version": "2023-06-01"}
    got, response_headers, body = await post(http, gateway.url + "/v1/messages", MESSAGES, headers)
    assert got == status
    error = orjson.loads(body)
    assert error["type"] == "error" and error["error"]["type"] == kind
    assert error["request_id"] == response_headers["request-id"]


@pytest.mark.parametrize(
    ("path", "body", "status", "needle"),
    [
        ("/v1/chat/completions", b"{not json", 400, b"not valid JSON"),
        ("/v1/chat/completions", b"[1, 2]", 400, b"JSON object"),
        ("/v1/chat/completions", {"model": 5, "messages": []}, 400, b"'model'"),
        ("/v1/chat/completions", {**CHAT, "temperature": "hot"}, 400, b"temperature"),
        ("/v1/chat/completions", {**CHAT, "max_tokens": -1}, 400, b"max_tokens"),
        ("/v1/chat/completions", {"model": "m", "messages": "hi"}, 400, b"messages"),
        ("/v1/chat/completions", b"", 400, b"empty"),
        ("/v1/unknown", CHAT, 404, b"Invalid URL"),
        ("/", CHAT, 404, b"Invalid URL"),
    ],
)
async def test_bad_requests_get_clear_errors_and_are_logged(
    gateway: Any, http: aiohttp.ClientSession, path: str, body: Any, status: int, needle: bytes
) -> None:
    got, _, raw = await post(http, gateway.url + path, body, OPENAI_AUTH)
    assert got == status
    assert needle in raw
    assert "error" in orjson.loads(raw)
    [record] = gateway.records()
    assert record["status"] == status
    # the gateway is still up
    ok, _, _ = await post(http, gateway.url + "/v1/chat/completions", CHAT, OPENAI_AUTH)
    assert ok == 200


async def test_wrong_method_is_rejected(gateway: Any, http: aiohttp.ClientSession) -> None:
    async with http.get(gateway.url + "/v1/chat/completions", headers=OPENAI_AUTH) as response:
        assert response.status == 405
        assert "error" in await response.json()


async def test_body_over_the_limit_is_413(
    mock_upstream: ServerThread, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    with running_gateway(mock_upstream.url, tmp_path, max_body_bytes=1000) as gw:
        big = {**CHAT, "pad": "x" * 5000}
        status, _, raw = await post(http, gw.url + "/v1/messages", big, ANTHROPIC_AUTH)
        assert status == 413
        assert orjson.loads(raw)["error"]["type"] == "request_too_large"

        async def chunks() -> AsyncIterator[bytes]:  # no content-length: counted as it comes
            for _ in range(10):
                yield b" " * 500

        async with http.post(
            gw.url + "/v1/chat/completions", data=chunks(), headers=OPENAI_AUTH
        ) as response:
            assert response.status == 413
        assert [r["status"] for r in gw.records()] == [413, 413]


async def test_fifty_megabytes_is_refused_without_reading_it(
    gateway: Any, http: aiohttp.ClientSession
) -> None:
    big = b'{"model": "m", "messages": [], "pad": "' + b"x" * (50 * 1024 * 1024) + b'"}'
    started = time.monotonic()
    try:
        status, _, raw = await post(http, gateway.url + "/v1/chat/completions", big, OPENAI_AUTH)
    except aiohttp.ClientError:  # the server may close before the client finished sending
        status, raw = 413, b'{"error": {"code": "request_too_large"}}'
    assert status == 413 and b"request_too_large" in raw
    assert time.monotonic() - started < 5
    assert [r["status"] for r in gateway.records()] == [413]


async def test_throttle_is_a_provider_429_with_retry_advice(
    mock_upstream: ServerThread, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    tier = TierLimits(tier=1, name="tiny", limits={"key": {"rpm": 2}})
    with running_gateway(mock_upstream.url, tmp_path, keys=default_keys(tier)) as gw:
        statuses = []
        for _ in range(3):
            status, headers, raw = await post(
                http, gw.url + "/v1/chat/completions", CHAT, OPENAI_AUTH
            )
            statuses.append(status)
        assert statuses == [200, 200, 429]
        error = orjson.loads(raw)["error"]
        assert error["type"] == "requests" and error["code"] == "rate_limit_exceeded"
        assert 1 <= int(headers["retry-after"]) <= 30
        assert int(headers["retry-after-ms"]) <= int(headers["retry-after"]) * 1000
        assert headers["x-ratelimit-remaining-requests"] == "0"
        assert "x-should-retry" not in headers
        status, headers, raw = await post(http, gw.url + "/v1/messages", MESSAGES, ANTHROPIC_AUTH)
        assert status == 429
        assert orjson.loads(raw)["error"]["type"] == "rate_limit_error"
        assert "anthropic-ratelimit-requests-reset" in headers
        records = gw.records()
        assert [r["decision"] for r in records] == ["allow", "allow", "throttle", "throttle"]


async def test_request_larger_than_the_limit_is_not_retried(
    mock_upstream: ServerThread, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    tier = TierLimits(tier=1, name="tiny", limits={"key": {"otpm": 100}})
    with running_gateway(mock_upstream.url, tmp_path, keys=default_keys(tier)) as gw:
        body = {**CHAT, "max_tokens": 500}
        status, headers, raw = await post(http, gw.url + "/v1/chat/completions", body, OPENAI_AUTH)
        assert status == 429
        assert headers["x-should-retry"] == "false"
        assert "retry-after" not in headers
        assert orjson.loads(raw)["error"]["type"] == "tokens"


async def test_dead_upstream_is_502(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    with running_gateway("http://127.0.0.1:9", tmp_path) as gw:
        status, _, raw = await post(http, gw.url + "/v1/messages", MESSAGES, ANTHROPIC_AUTH)
        assert status == 502
        assert orjson.loads(raw)["error"]["type"] == "api_error"
        [record] = gw.records()
        assert record["status"] == 502 and record["decision"] == "allow"


async def test_slow_upstream_is_504_and_releases_the_slot(
    mock_upstream: ServerThread, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    tier = TierLimits(tier=1, name="one", limits={"key": {"concurrent": 1}})
    with running_gateway(
        mock_upstream.url, tmp_path, keys=default_keys(tier), upstream_read_timeout_s=0.3
    ) as gw:
        slow = {**CHAT, "model": "mock-1@hang"}
        status, _, raw = await post(http, gw.url + "/v1/chat/completions", slow, OPENAI_AUTH)
        assert status == 504
        assert orjson.loads(raw)["error"]["type"] == "server_error"
        status, _, _ = await post(http, gw.url + "/v1/chat/completions", CHAT, OPENAI_AUTH)
        assert status == 200  # the single concurrency slot came back


async def test_client_disconnect_cancels_upstream_and_releases_the_slot(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    tier = TierLimits(tier=1, name="one", limits={"key": {"concurrent": 1}})
    with (
        running_mock(chunk_delay_ms=200) as mock,
        running_gateway(mock.url, tmp_path, keys=default_keys(tier)) as gw,
    ):
        body = orjson.dumps({**CHAT, "stream": True})
        async with http.post(
            gw.url + "/v1/chat/completions", data=body, headers=OPENAI_AUTH
        ) as response:
            assert response.status == 200
            await response.content.readany()  # the first event, then hang up
            response.close()
        for _ in range(50):
            await asyncio.sleep(0.05)
            status, _, _ = await post(http, gw.url + "/v1/chat/completions", CHAT, OPENAI_AUTH)
            if status == 200:
                break
        assert status == 200
        records = gw.records()
        assert records[0]["status"] == 499


async def test_upstream_credential_is_the_gateways_own(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    with (
        running_mock(require_key="upstream-secret") as mock,
        running_gateway(mock.url, tmp_path, upstream_key="upstream-secret") as gw,
    ):
        status, _, _ = await post(http, gw.url + "/v1/chat/completions", CHAT, OPENAI_AUTH)
        assert status == 200
        status, _, _ = await post(http, gw.url + "/v1/messages", MESSAGES, ANTHROPIC_AUTH)
        assert status == 200
        status, _, _ = await post(http, mock.url + "/v1/chat/completions", CHAT, OPENAI_AUTH)
        assert status == 401  # the client's own key does not open the upstream


async def test_forwarded_for_is_trusted_only_from_trusted_proxies(
    mock_upstream: ServerThread, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    spoof = {**OPENAI_AUTH, "X-Forwarded-For": "203.0.113.9", "x-ja4": "t13d1516h2_aaa_bbb"}
    with running_gateway(mock_upstream.url, tmp_path / "a") as gw:
        await post(http, gw.url + "/v1/chat/completions", CHAT, spoof)
        [record] = gw.records()
        assert record["client_ip"] == "127.0.0.1" and record["tls_ja4"] is None
    with running_gateway(mock_upstream.url, tmp_path / "b", trusted_proxies="127.0.0.0/8") as gw:
        await post(http, gw.url + "/v1/chat/completions", CHAT, spoof)
        [record] = gw.records()
        assert record["client_ip"] == "203.0.113.9"
        assert record["tls_ja4"] == "t13d1516h2_aaa_bbb"


async def test_retry_count_and_metrics(gateway: Any, http: aiohttp.ClientSession) -> None:
    headers = {**OPENAI_AUTH, "x-stainless-retry-count": "2"}
    await post(http, gateway.url + "/v1/chat/completions", CHAT, headers)
    [record] = gateway.records()
    assert record["retry_count"] == 2
    async with http.get(gateway.url + "/metrics") as response:
        text = await response.text()
    assert 'dg_requests_total{decision="allow",route="openai.chat",status="200"} 1.0' in text
    assert "dg_request_log_backlog" in text
    async with http.get(gateway.url + "/healthz") as response:
        assert response.status == 200
    async with http.get(gateway.url + "/readyz") as response:
        assert response.status == 200


async def test_request_without_max_tokens_reserves_a_share_of_the_limit(
    mock_upstream: ServerThread, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    tier = TierLimits(tier=1, name="small", limits={"key": {"otpm": 100}})
    with running_gateway(mock_upstream.url, tmp_path, keys=default_keys(tier)) as gw:
        status, headers, _ = await post(http, gw.url + "/v1/chat/completions", CHAT, OPENAI_AUTH)
        assert status == 200  # 25 reserved (a quarter of 100), not the 4,096 default
        assert int(headers["x-ratelimit-remaining-tokens"]) == 75


class ClosedLimiter:
    """A limiter whose storage is down in fail-closed mode."""

    async def acquire(self, demands: Any) -> Any:
        from distillguard.ratelimit.base import Decision, LimitState

        blocking = LimitState(demands[0], 0, 2.0, 2.0)
        return Decision(False, (), blocking, degraded=True)

    async def settle(self, lease: Any, actual: Any) -> None:
        raise AssertionError("nothing was admitted")

    async def check(self) -> None:
        from distillguard.errors import StorageError

        raise StorageError("redis down")

    async def aclose(self) -> None:
        return None


async def test_limiter_down_fail_closed_is_503(
    mock_upstream: ServerThread, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    with running_gateway(mock_upstream.url, tmp_path, limiter=ClosedLimiter()) as gw:
        status, headers, raw = await post(http, gw.url + "/v1/messages", MESSAGES, ANTHROPIC_AUTH)
        assert status == 503 and headers["retry-after"] == "2"
        assert orjson.loads(raw)["error"]["type"] == "overloaded_error"
        async with http.get(gw.url + "/readyz") as response:
            assert response.status == 503
        [record] = gw.records()
        assert record["status"] == 503 and record["decision"] == "block"


async def test_upstream_breaking_mid_stream_ends_with_an_error_event(
    gateway: Any, http: aiohttp.ClientSession
) -> None:
    body = {**MESSAGES, "model": "claude-mock-1@break,chunk_delay=5", "stream": True}
    status, _, raw = await post(http, gateway.url + "/v1/messages", body, ANTHROPIC_AUTH)
    assert status == 200  # the stream had started
    assert raw.count(b"event: content_block_delta") < 12
    assert raw.rstrip().endswith(
        b'"type":"api_error","message":"the upstream closed the connection mid-answer"}}'
    )
    [record] = gateway.records()
    assert record["status"] == 502
    ok, _, _ = await post(http, gateway.url + "/v1/messages", MESSAGES, ANTHROPIC_AUTH)
    assert ok == 200


async def test_slow_client_body_gets_408_and_the_gateway_stays_up(
    mock_upstream: ServerThread, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    with running_gateway(mock_upstream.url, tmp_path, body_timeout_s=0.3) as gw:
        reader, writer = await asyncio.open_connection("127.0.0.1", int(gw.url.rsplit(":", 1)[1]))
        writer.write(
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n"
            + f"authorization: Bearer {GOOD}\r\n\r\n".encode()
            + b'{"model": '
        )
        await writer.drain()
        answer = b""
        while b"did not arrive" not in answer:  # headers and body may come in two segments
            piece = await asyncio.wait_for(reader.read(2000), 5)
            assert piece, answer
            answer += piece
        writer.close()
        assert answer.startswith(b"HTTP/1.1 408")
        assert b"did not arrive within 0.3 s" in answer
        ok, _, _ = await post(http, gw.url + "/v1/chat/completions", CHAT, OPENAI_AUTH)
        assert ok == 200
        assert [r["status"] for r in gw.records()] == [408, 200]


class BrokenLimiter(ClosedLimiter):
    """A limiter with a bug: acquire raises something that is not a distillguard error."""

    async def acquire(self, demands: Any) -> Any:
        raise KeyError("bug")


async def test_unexpected_failure_is_a_clean_500_and_logged(
    mock_upstream: ServerThread, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    with running_gateway(mock_upstream.url, tmp_path, limiter=BrokenLimiter()) as gw:
        status, headers, raw = await post(http, gw.url + "/v1/chat/completions", CHAT, OPENAI_AUTH)
        assert status == 500 and headers["x-request-id"].startswith("req_")
        assert orjson.loads(raw)["error"]["type"] == "server_error"
        [record] = gw.records()
        assert record["status"] == 500


async def test_overload_is_shed_with_a_503(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    with (
        running_mock(latency_ms=400) as mock,
        running_gateway(mock.url, tmp_path, max_in_flight=2) as gw,
    ):
        statuses = await asyncio.gather(
            *(post(http, gw.url + "/v1/messages", MESSAGES, ANTHROPIC_AUTH) for _ in range(4))
        )
        codes = sorted(status for status, _, _ in statuses)
        assert codes == [200, 200, 503, 503]
        shed = next(raw for status, _, raw in statuses if status == 503)
        assert orjson.loads(shed)["error"]["type"] == "overloaded_error"
        async with http.get(gw.url + "/metrics") as response:
            assert "dg_requests_in_flight 0.0" in await response.text()
