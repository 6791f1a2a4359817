from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import aiohttp
import orjson
import pytest

from distillguard.gateway.server import BackgroundServer
from distillguard.mockllm import MockLLM
from distillguard.mockllm.app import Behavior

BODY = {"model": "mock-1", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def mock() -> Iterator[BackgroundServer]:
    with BackgroundServer(MockLLM(require_key="k")) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer k"}) as session:
        yield session


async def test_every_route(mock: BackgroundServer, http: aiohttp.ClientSession) -> None:
    for path in ("/v1/chat/completions", "/v1/completions", "/v1/responses", "/v1/messages"):
        body = {**BODY, "prompt": "hi", "input": "hi", "max_tokens": 4}
        async with http.post(mock.url + path, data=orjson.dumps(body)) as reply:
            assert reply.status == 200, path
            data = await reply.json()
            assert "usage" in data
    async with http.post(mock.url + "/v1/messages/count_tokens", data=orjson.dumps(BODY)) as r:
        assert (await r.json()) == {"input_tokens": 1}
    async with http.get(mock.url + "/v1/models") as reply:
        assert (await reply.json())["data"][0]["id"] == "mock-1"


async def test_streams_end_properly(mock: BackgroundServer, http: aiohttp.ClientSession) -> None:
    body = {**BODY, "stream": True, "stream_options": {"include_usage": True}}
    async with http.post(mock.url + "/v1/chat/completions", data=orjson.dumps(body)) as reply:
        assert reply.headers["content-type"] == "text/event-stream"
        raw = await reply.read()
    assert raw.endswith(b"data: [DONE]\n\n") and b'"usage"' in raw
    async with http.post(
        mock.url + "/v1/messages", data=orjson.dumps({**BODY, "stream": True})
    ) as reply:
        raw = await reply.read()
    assert raw.count(b"event: content_block_delta") == 12


async def test_behaviours(mock: BackgroundServer, http: aiohttp.ClientSession) -> None:
    body = {**BODY, "model": "mock-1@error=529"}
    async with http.post(mock.url + "/v1/messages", data=orjson.dumps(body)) as reply:
        assert reply.status == 529
        assert (await reply.json())["error"]["type"] == "overloaded_error"
    started = time.monotonic()
    headers = {"x-mock-behavior": "latency=150,words=3"}
    async with http.post(
        mock.url + "/v1/chat/completions", data=orjson.dumps(BODY), headers=headers
    ) as reply:
        data = await reply.json()
    assert time.monotonic() - started >= 0.15
    assert data["usage"]["completion_tokens"] == 3


async def test_wrong_key_and_bad_json(mock: BackgroundServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(mock.url + "/v1/chat/completions", data=b"{}") as reply:
            assert reply.status == 401
        headers = {"Authorization": "Bearer k"}
        async with http.post(mock.url + "/v1/chat/completions", data=b"{", headers=headers) as r:
            assert r.status == 400


def test_behavior_parsing() -> None:
    base = Behavior()
    assert Behavior.parse("error=500,latency=20,hang,break,junk=1", base) == Behavior(
        error=500, latency_ms=20.0, hang=True, broken=True
    )
    assert Behavior.parse("latency=x", base) is base


def test_error_rate_is_seeded() -> None:
    with pytest.raises(ValueError):
        MockLLM(error_rate=2)
