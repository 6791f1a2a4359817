"""The official openai and anthropic SDKs against the gateway in front of the mock upstream."""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import orjson
import pytest

from distillguard.controlplane.principal import TierLimits
from distillguard.mockllm.answers import answer
from distillguard.ratelimit.storage.memory import MemoryLimiter

from gateway.harness import (
    DENIED,
    GOOD,
    RunningGateway,
    default_keys,
    running_gateway,
    running_mock,
)

pytestmark = pytest.mark.integration

TIER = TierLimits(
    tier=1,
    name="sdk",
    limits={"key": {"rpm": 10_000, "otpm": 20_000, "concurrent": 1}},
)
MESSAGES = [{"role": "user", "content": "What does a gateway do?"}]
EXPECTED = answer({"messages": MESSAGES}).text


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    limiter = MemoryLimiter(concurrency_retry_s=0.3)
    with (
        running_mock() as mock,
        running_gateway(
            mock.url,
            tmp_path_factory.mktemp("logs"),
            keys=default_keys(TIER),
            limiter=limiter,
        ) as gateway,
    ):
        yield gateway


def openai_client(gw: RunningGateway, key: str = GOOD) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url + "/v1", api_key=key, max_retries=2)


def anthropic_client(gw: RunningGateway, key: str = GOOD) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gw.url, api_key=key, max_retries=2)


def test_openai_sync(gw: RunningGateway) -> None:
    client = openai_client(gw)
    reply = client.chat.completions.create(model="mock-1", messages=MESSAGES)  # type: ignore[arg-type]
    assert reply.choices[0].message.content == EXPECTED
    assert reply.usage is not None and reply.usage.completion_tokens == 12
    assert reply._request_id is not None and reply._request_id.startswith("req_")
    stream = client.chat.completions.create(model="mock-1", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == EXPECTED
    raw = client.chat.completions.with_raw_response.create(model="mock-1", messages=MESSAGES)  # type: ignore[arg-type]
    assert raw.headers["x-ratelimit-limit-requests"] == "10000"


async def test_openai_async(gw: RunningGateway) -> None:
    client = openai.AsyncOpenAI(base_url=gw.url + "/v1", api_key=GOOD, max_retries=0)
    reply = await client.chat.completions.create(model="mock-1", messages=MESSAGES)  # type: ignore[arg-type]
    assert reply.choices[0].message.content == EXPECTED
    stream = await client.chat.completions.create(model="mock-1", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
    pieces = [chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices]
    assert "".join(pieces) == EXPECTED
    response = await client.responses.create(model="mock-1", input="What does a gateway do?")
    assert response.output_text == answer({"input": "What does a gateway do?"}).text
    completion = await client.completions.create(model="mock-1", prompt="hi", max_tokens=3)
    assert len(completion.choices[0].text.split()) == 3
    await client.close()


def test_anthropic_sync(gw: RunningGateway) -> None:
    client = anthropic_client(gw)
    reply = client.messages.create(model="claude-mock-1", max_tokens=100, messages=MESSAGES)  # type: ignore[arg-type]
    assert reply.content[0].text == EXPECTED  # type: ignore[union-attr]
    assert reply.usage.output_tokens == 12
    with client.messages.stream(
        model="claude-mock-1",
        max_tokens=100,
        messages=MESSAGES,  # type: ignore[arg-type]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == EXPECTED and final.usage.output_tokens == 12
    count = client.messages.count_tokens(model="claude-mock-1", messages=MESSAGES)  # type: ignore[arg-type]
    assert count.input_tokens > 0


async def test_anthropic_async(gw: RunningGateway) -> None:
    client = anthropic.AsyncAnthropic(base_url=gw.url, api_key=GOOD, max_retries=0)
    reply = await client.messages.create(
        model="claude-mock-1",
        max_tokens=100,
        messages=MESSAGES,  # type: ignore[arg-type]
    )
    assert reply.content[0].text == EXPECTED  # type: ignore[union-attr]
    stream = await client.messages.create(
        model="claude-mock-1",
        max_tokens=100,
        messages=MESSAGES,  # type: ignore[arg-type]
        stream=True,
    )
    pieces = [
        event.delta.text  # type: ignore[union-attr]
        async for event in stream
        if event.type == "content_block_delta"
    ]
    assert "".join(pieces) == EXPECTED
    await client.close()


def test_authentication_errors(gw: RunningGateway) -> None:
    with pytest.raises(openai.AuthenticationError):
        openai_client(gw, "dg-key_nope-nope").models.list()
    with pytest.raises(openai.PermissionDeniedError):
        openai_client(gw, DENIED).chat.completions.create(model="mock-1", messages=MESSAGES)  # type: ignore[arg-type]
    with pytest.raises(anthropic.AuthenticationError):
        anthropic_client(gw, "wrong").messages.create(
            model="claude-mock-1",
            max_tokens=5,
            messages=MESSAGES,  # type: ignore[arg-type]
        )
    with pytest.raises(anthropic.PermissionDeniedError) as caught:
        anthropic_client(gw, DENIED).messages.create(
            model="claude-mock-1",
            max_tokens=5,
            messages=MESSAGES,  # type: ignore[arg-type]
        )
    assert caught.value.response.headers["x-should-retry"] == "false"


def _hold_the_slot(gw: RunningGateway, seconds: float) -> threading.Thread:
    """Occupy the key's single concurrency slot with a slow request."""
    body = orjson.dumps({"model": f"mock-1@latency={int(seconds * 1000)}", "messages": MESSAGES})
    request = urllib.request.Request(
        gw.url + "/v1/chat/completions",
        data=body,
        headers={"Authorization": f"Bearer {GOOD}", "Content-Type": "application/json"},
    )

    def run() -> None:
        with urllib.request.urlopen(request, timeout=10) as reply:
            reply.read()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    time.sleep(0.3)
    return thread


def _records_for(gw: RunningGateway, **match: Any) -> list[dict[str, Any]]:
    return [r for r in gw.records() if all(r.get(k) == v for k, v in match.items())]


@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
def test_rate_limit_error_after_honouring_retry_after(gw: RunningGateway, sdk: str) -> None:
    holder = _hold_the_slot(gw, 1.5)
    marker = f"retry-test-{sdk}"
    started = time.monotonic()
    if sdk == "openai":
        with pytest.raises(openai.RateLimitError) as caught:
            openai_client(gw).chat.completions.create(
                model="mock-1",
                messages=[{"role": "user", "content": marker}],
            )
        headers = caught.value.response.headers
    else:
        with pytest.raises(anthropic.RateLimitError) as caught_a:
            anthropic_client(gw).messages.create(
                model="claude-mock-1",
                max_tokens=5,
                messages=[{"role": "user", "content": marker}],
            )
        headers = caught_a.value.response.headers
    elapsed = time.monotonic() - started
    holder.join()
    assert headers["retry-after-ms"] == "300"
    assert elapsed >= 0.55  # two waits of 0.3 s, as the header said (not the SDK's own 0.5 s+)
    tries = [
        r["retry_count"]
        for r in gw.records()
        if r["messages"] and r["messages"][-1]["content"] == marker
    ]
    assert tries == [0, 1, 2]


def test_no_retry_when_waiting_cannot_help(gw: RunningGateway) -> None:
    marker = "too-big"
    started = time.monotonic()
    with pytest.raises(openai.RateLimitError) as caught:
        openai_client(gw).chat.completions.create(
            model="mock-1",
            messages=[{"role": "user", "content": marker}],
            max_tokens=50_000,  # more than the key's 20,000 output tokens a minute
        )
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert time.monotonic() - started < 0.5
    tries = [
        r["retry_count"]
        for r in gw.records()
        if r["messages"] and r["messages"][-1]["content"] == marker
    ]
    assert tries == [0]


def test_every_sdk_request_is_logged(gw: RunningGateway, tmp_path: Path) -> None:
    records = gw.records()
    assert records, "the SDK tests above produced request-log records"
    assert {r["endpoint"] for r in records} >= {"openai.chat.completions", "anthropic.messages"}
    assert all(r["user_agent"] for r in records)
