"""The enforcement middleware wired between authentication and admission (serve --enforcement)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from distillguard.enforce.actions import Action, ActionKind, Throttle

from .harness import GOOD, ServerThread, running_gateway

CHAT = {"model": "mock-1", "messages": [{"role": "user", "content": "hello"}]}
AUTH = {"Authorization": f"Bearer {GOOD}"}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def action(subject: str, kind: ActionKind, **extra: Any) -> Action:
    now = datetime.now(UTC)
    return Action(
        subject=subject,
        kind=kind,
        reason="test",
        actor="pytest",
        created_at=now,
        expires_at=now + timedelta(hours=1),
        **extra,
    )


async def status_of(http: aiohttp.ClientSession, url: str) -> tuple[int, bytes]:
    async with http.post(url + "/v1/chat/completions", data=orjson.dumps(CHAT), headers=AUTH) as r:
        return r.status, await r.read()


async def test_throttle_and_suspend_actions_apply(
    mock_upstream: ServerThread, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    with running_gateway(mock_upstream.url, tmp_path, enforcement_url="memory://") as gw:
        store = gw.app._inner.store  # type: ignore[union-attr]
        assert (await status_of(http, gw.url))[0] == 200
        store.put(
            action("account:acc_1", ActionKind.THROTTLE, throttle=Throttle(limits={"rpm": 2}))
        )
        statuses = [(await status_of(http, gw.url))[0] for _ in range(2)]
        assert statuses == [200, 429]  # 2 a minute now: the earlier request counts too
        store.put(action("key:key_good", ActionKind.SUSPEND))
        status, body = await status_of(http, gw.url)
        assert status == 403 and b"suspended" in body
        records = gw.records()
        assert [r["decision"] for r in records] == ["allow", "throttle", "throttle", "block"]
        assert all(r["account_id"] == "acc_1" for r in records)


async def test_requests_through_enforcement_leave_no_reference_cycles(
    mock_upstream: ServerThread, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    # A request's objects must be freed by reference counting when it ends: a cycle per
    # request leaves them to the cyclic collector, whose full passes over a large enforcement
    # store cost throughput and 50-100 ms pauses.
    with running_gateway(mock_upstream.url, tmp_path, enforcement_url="memory://") as gw:
        for _ in range(5):
            assert (await status_of(http, gw.url))[0] == 200
        gc.collect()
        gc.disable()
        try:
            for _ in range(100):
                assert (await status_of(http, gw.url))[0] == 200
            cyclic = gc.collect()
        finally:
            gc.enable()
        assert cyclic < 100, f"{cyclic} objects in reference cycles after 100 requests"


def test_throttled_client_sees_the_sdks_rate_limit_error_streamed_and_not(
    mock_upstream: ServerThread, tmp_path: Path
) -> None:
    import anthropic
    import openai

    with running_gateway(mock_upstream.url, tmp_path, enforcement_url="memory://") as gw:
        store = gw.app._inner.store  # type: ignore[union-attr]
        store.put(
            action("account:acc_1", ActionKind.THROTTLE, throttle=Throttle(limits={"rpm": 1}))
        )
        oa = openai.OpenAI(api_key=GOOD, base_url=gw.url + "/v1", max_retries=0)
        an = anthropic.Anthropic(api_key=GOOD, base_url=gw.url, max_retries=0)
        messages: Any = [{"role": "user", "content": "hello"}]
        first = oa.chat.completions.create(model="mock-1", messages=messages)
        assert first.choices[0].message.content
        with pytest.raises(openai.RateLimitError) as refused:
            oa.chat.completions.create(model="mock-1", messages=messages, stream=True)
        headers = refused.value.response.headers
        # a throttle is a limit the client can wait out: retry advice, and no "do not retry"
        assert 0 < float(headers["retry-after"]) <= 60
        assert headers.get("x-should-retry") != "false"
        assert headers["x-ratelimit-limit-requests"] == "1"
        with pytest.raises(anthropic.RateLimitError) as refused_anthropic:
            an.messages.create(model="mock-1", max_tokens=16, messages=messages)
        assert refused_anthropic.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]
        with (
            pytest.raises(anthropic.RateLimitError),
            an.messages.stream(model="mock-1", max_tokens=16, messages=messages) as stream,
        ):
            stream.get_final_message()
        oa.close()
        an.close()
        # every request under the action is logged as throttled; the first one was served
        logged = [(r["decision"], r["status"]) for r in gw.records()]
        assert logged == [("throttle", 200)] + [("throttle", 429)] * 3
