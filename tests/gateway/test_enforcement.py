"""The enforcement middleware wired between authentication and admission (serve --enforcement)."""

from __future__ import annotations

import gc
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from distillguard.enforce.actions import Action, ActionKind, Throttle

from .harness import GOOD, ServerThread, default_keys, principal, running_gateway

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


def test_the_gateway_reads_the_shared_body_under_the_middlewares_key() -> None:
    from distillguard.enforce.middleware import BODY_JSON as MIDDLEWARE_KEY
    from distillguard.gateway.app import BODY_JSON as GATEWAY_KEY

    assert GATEWAY_KEY == MIDDLEWARE_KEY


def test_identify_builds_a_caller_once_per_principal_and_address(tmp_path: Path) -> None:
    from dataclasses import replace

    from distillguard.config import load_settings
    from distillguard.enforce.middleware import Caller
    from distillguard.gateway.assembly import build_gateway

    settings = load_settings(
        {
            "upstream_url": "http://127.0.0.1:9",
            "log_dir": str(tmp_path),
            "enforcement_url": "memory://",
        },
        env={},
    )
    app = build_gateway(settings, authenticator=default_keys())
    identify = app._inner.identify  # type: ignore[union-attr]
    who = principal()

    def scope(p: Any, ip: str | None) -> dict[str, Any]:
        return {"state": {"dg.principal": p, "dg.client_ip": ip}}

    first = identify(scope(who, "192.0.2.1"))
    assert first == Caller(who.account_id, who.key_id, who.org_id, "192.0.2.1", who.verification)
    assert identify(scope(who, "192.0.2.1")) is first
    assert identify(scope(who, "192.0.2.2")).ip == "192.0.2.2"
    assert identify(scope(who, None)).ip is None
    verified = replace(who, verification="id", org_id="org_9")  # a reload: a new Principal
    again = identify(scope(verified, "192.0.2.1"))
    assert again == Caller(who.account_id, who.key_id, "org_9", "192.0.2.1", "id")
    # the account's sign-up time reaches the caller, for challenges limited by account age
    aged = replace(who, account_created=1_700_000_000.0)
    assert identify(scope(aged, "192.0.2.1")).account_created == 1_700_000_000.0
    assert identify({"state": {}}) is None


async def test_records_match_the_gateway_without_enforcement(
    mock_upstream: ServerThread, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    # With enforcement on, admission reuses the middleware's parse of the body (or of its
    # rewrite): what it takes from the body must be what the gateway alone takes from it.
    bodies = [
        CHAT,
        {**CHAT, "max_tokens": 7, "temperature": 0.5, "n": 1},
        {**CHAT, "seed": 123456789012345678901234567890, "top_p": 1e-7},
    ]
    found = {}
    for name, options in (("plain", {}), ("enforced", {"enforcement_url": "memory://"})):
        with running_gateway(mock_upstream.url, tmp_path / name, **options) as gw:
            for body in bodies:
                data = json.dumps(body)  # orjson refuses the big integer
                async with http.post(gw.url + "/v1/chat/completions", data=data, headers=AUTH) as r:
                    assert r.status == 200
            found[name] = [
                {k: r.get(k) for k in ("model", "messages", "params", "usage", "decision")}
                for r in gw.records()
            ]
    assert found["enforced"] == found["plain"]
    assert len(found["plain"]) == len(bodies)
