"""EnforcementMiddleware seen through the official openai and anthropic SDKs."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from enforce_factories import make_action

from distillguard.enforce.actions import Action, ActionKind
from distillguard.enforce.middleware import Caller, EnforcementMiddleware
from distillguard.enforce.output import Logprobs, OutputControls, Reasoning
from distillguard.enforce.store import MemoryStore
from distillguard.enforce.summary import summarise
from distillguard.errors import GatewayError

THOUGHT = "Let me think. The user wants a number. Forty-two is classic. Done."


class Upstream:
    """A fake LLM server (plain ASGI) that records what it received."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.states: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = json.loads(body)
        self.received.append(request)
        self.states.append(dict(scope.get("state", {})))
        anthropic_route = scope["path"] == "/v1/messages"
        if request.get("stream"):
            events = _anthropic_events() if anthropic_route else _openai_chunks()
            payload = b"".join(events)
            kind = b"text/event-stream"
        else:
            payload = json.dumps(
                _anthropic_message() if anthropic_route else _openai_completion()
            ).encode()
            kind = b"application/json"
        headers = [(b"content-type", kind), (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        half = len(payload) // 2  # two body messages, split mid-event
        await send({"type": "http.response.body", "body": payload[:half], "more_body": True})
        await send({"type": "http.response.body", "body": payload[half:], "more_body": False})


def _openai_completion() -> dict[str, Any]:
    return {
        "id": "c1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": "42", "reasoning_content": THOUGHT},
            }
        ],
    }


def _openai_chunks() -> list[bytes]:
    out = []
    for delta in [{"reasoning_content": p} for p in THOUGHT.split(" ")] + [{"content": "42"}]:
        if "reasoning_content" in delta:
            delta["reasoning_content"] += " "
        chunk = {
            "id": "c1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
        }
        out.append(b"data: " + json.dumps(chunk).encode() + b"\n\n")
    return [*out, b"data: [DONE]\n\n"]


def _anthropic_message() -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [
            {"type": "thinking", "thinking": THOUGHT, "signature": "sig"},
            {"type": "text", "text": "42"},
        ],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }


def _anthropic_events() -> list[bytes]:
    message = {**_anthropic_message(), "content": []}
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": message},
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""},
        },
        *(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "thinking_delta", "thinking": w + " "},
            }
            for w in THOUGHT.split(" ")
        ),
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "signature_delta", "signature": "sig"},
        },
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "42"}},
        {"type": "content_block_stop", "index": 1},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 1},
        },
        {"type": "message_stop"},
    ]
    return [f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events]


def identify(scope: Any) -> Caller | None:
    headers = dict(scope["headers"])
    account = headers.get(b"x-test-account")
    if account is None:
        return None
    ip = headers.get(b"x-test-ip")
    created = headers.get(b"x-test-created")
    return Caller(
        account_id=account.decode(),
        ip=None if ip is None else ip.decode(),
        verification=headers.get(b"x-test-verification", b"none").decode(),
        account_created=None if created is None else float(created),
    )


async def provider_error(scope: Any, receive: Any, send: Any, exc: GatewayError) -> None:
    """What the gateway's one error handler does, reduced to the two providers' shapes."""
    if scope["path"] == "/v1/messages":
        body = {"type": "error", "error": {"type": "permission_error", "message": exc.message}}
    else:
        body = {
            "error": {
                "message": exc.message,
                "type": "permission_error",
                "param": None,
                "code": exc.kind,
            }
        }
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json")]
    headers += [(k.encode(), v.encode()) for k, v in exc.headers.items()]
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class Counting:
    def __init__(self, app: Any) -> None:
        self.app, self.calls = app, 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        await self.app(scope, receive, send)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def upstream() -> Upstream:
    return Upstream()


@pytest.fixture
def gateway(store: MemoryStore, upstream: Upstream) -> Counting:
    return Counting(
        EnforcementMiddleware(upstream, store=store, identify=identify, on_error=provider_error)
    )


@pytest.fixture
async def clients(
    gateway: Counting,
) -> AsyncIterator[tuple[openai.AsyncOpenAI, anthropic.AsyncAnthropic]]:
    headers = {"x-test-account": "acc_1", "x-test-verification": "org"}
    oa_http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=gateway), headers=headers)
    # these SDK versions run on httpx2; the anthropic one rejects httpx objects
    an_http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=gateway), headers=headers)
    oa = openai.AsyncOpenAI(api_key="k", base_url="http://gw/v1", http_client=oa_http)
    an = anthropic.AsyncAnthropic(api_key="k", base_url="http://gw", http_client=an_http)
    yield oa, an
    await oa.close()
    await an.close()


def _future(kind: ActionKind, **changes: Any) -> Action:
    action = make_action("account:acc_1", kind, hours=None)
    from dataclasses import replace

    return replace(action, **changes)


async def test_no_action_passes_everything(clients: Any, upstream: Upstream) -> None:
    oa, _ = clients
    result = await oa.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "q"}]
    )
    assert result.choices[0].message.reasoning_content == THOUGHT  # type: ignore[attr-defined]
    assert upstream.states[0]["dg.enforcement"] is None


async def test_suspended_client_gets_403_and_does_not_retry(
    clients: Any, store: MemoryStore, gateway: Counting, upstream: Upstream
) -> None:
    store.put(_future(ActionKind.SUSPEND))
    oa, an = clients
    with pytest.raises(openai.PermissionDeniedError) as exc:
        await oa.chat.completions.create(model="m", messages=[{"role": "user", "content": "q"}])
    assert exc.value.response.headers["x-should-retry"] == "false"
    assert "suspended" in exc.value.message
    with pytest.raises(anthropic.PermissionDeniedError):
        await an.messages.create(
            model="m", max_tokens=10, messages=[{"role": "user", "content": "q"}]
        )
    assert gateway.calls == 2 and upstream.received == []  # one attempt each, nothing upstream


async def test_an_exit_address_challenges_new_accounts_but_not_judged_or_old_ones(
    gateway: Counting, store: MemoryStore
) -> None:
    from dataclasses import replace

    from distillguard.enforce.actions import Challenge

    exit_ = make_action("ip:203.0.113.7", ActionKind.CHALLENGE, hours=None)
    store.put(
        replace(
            exit_,
            challenge=Challenge(
                required_verification="payment",
                message="Add a payment method to continue.",
                link="https://x.test/pay",
                defer_to_account=True,
                max_account_age=30 * 86400,
            ),
        )
    )
    store.put(make_action("account:acc_slow", ActionKind.THROTTLE, hours=None))

    def client(account: str, level: str, age_days: float = 2) -> openai.AsyncOpenAI:
        headers = {
            "x-test-account": account,
            "x-test-verification": level,
            "x-test-ip": "203.0.113.7",
            "x-test-created": str(time.time() - age_days * 86400),
        }
        http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=gateway), headers=headers)
        return openai.AsyncOpenAI(api_key="k", base_url="http://gw/v1", http_client=http)

    ask = {"model": "m", "messages": [{"role": "user", "content": "q"}]}
    async with client("acc_new", "email") as fresh:
        with pytest.raises(openai.PermissionDeniedError, match=r"payment method.*x\.test/pay"):
            await fresh.chat.completions.create(**ask)
    async with client("acc_paid", "payment") as paid:
        assert (await paid.chat.completions.create(**ask)).choices[0].message.content == "42"
    async with client("acc_slow", "email") as judged:  # its own throttle applies, not the exit
        assert (await judged.chat.completions.create(**ask)).choices[0].message.content == "42"
    # a resident of the address, with an account older than the challenge's age limit
    async with client("acc_resident", "email", age_days=400) as resident:
        assert (await resident.chat.completions.create(**ask)).choices[0].message.content == "42"


async def test_challenge_shows_the_link_until_the_level_is_reached(
    clients: Any, store: MemoryStore, gateway: Counting
) -> None:
    store.put(_future(ActionKind.CHALLENGE))
    headers = {"x-test-account": "acc_1", "x-test-verification": "email"}
    http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=gateway), headers=headers)
    async with anthropic.AsyncAnthropic(api_key="k", base_url="http://gw", http_client=http) as an:
        with pytest.raises(anthropic.PermissionDeniedError, match=r"https://x\.test/v"):
            await an.messages.create(
                model="m", max_tokens=10, messages=[{"role": "user", "content": "q"}]
            )
    _, verified = clients  # at level org the challenge (requires id) no longer applies
    reply = await verified.messages.create(
        model="m", max_tokens=10, messages=[{"role": "user", "content": "q"}]
    )
    assert reply.content[-1].text == "42"


async def test_degrade_strips_reasoning_and_caps_tokens(
    clients: Any, store: MemoryStore, upstream: Upstream
) -> None:
    store.put(
        _future(ActionKind.DEGRADE, degrade=OutputControls(reasoning=Reasoning.NONE, max_tokens=64))
    )
    oa, _ = clients
    result = await oa.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "q"}], max_tokens=4000
    )
    assert getattr(result.choices[0].message, "reasoning_content", None) is None
    assert result.choices[0].message.content == "42"
    assert upstream.received[-1]["max_tokens"] == 64
    stream = await oa.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "q"}], stream=True
    )
    deltas = [chunk.choices[0].delta async for chunk in stream]
    assert all(getattr(d, "reasoning_content", None) is None for d in deltas)
    assert "".join(d.content or "" for d in deltas) == "42"
    assert upstream.states[-1]["dg.enforcement"].label == "degrade"


async def test_openai_summarised_reasoning_streamed_and_not(
    clients: Any, store: MemoryStore
) -> None:
    store.put(_future(ActionKind.DEGRADE, degrade=OutputControls(reasoning=Reasoning.SUMMARISED)))
    oa, _ = clients
    result = await oa.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "q"}]
    )
    shown = result.choices[0].message.reasoning_content  # type: ignore[attr-defined]
    assert shown == summarise(THOUGHT, 2) != THOUGHT
    stream = await oa.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "q"}], stream=True
    )
    deltas = [chunk.choices[0].delta async for chunk in stream]
    reasoning = [getattr(d, "reasoning_content", None) for d in deltas]
    assert [r for r in reasoning if r] == [summarise(THOUGHT + " ", 2)]  # one delta, whole
    assert "".join(d.content or "" for d in deltas) == "42"


async def test_anthropic_stream_summarised_thinking(clients: Any, store: MemoryStore) -> None:
    store.put(_future(ActionKind.DEGRADE, degrade=OutputControls(reasoning=Reasoning.SUMMARISED)))
    _, an = clients
    async with an.messages.stream(
        model="m",
        max_tokens=2000,
        messages=[{"role": "user", "content": "q"}],
        thinking={"type": "enabled", "budget_tokens": 1024},
    ) as stream:
        final = await stream.get_final_message()
    thinking = final.content[0]
    assert thinking.type == "thinking"
    assert thinking.thinking == summarise(THOUGHT + " ", 2)
    assert final.content[1].type == "text" and final.content[1].text == "42"
    plain = await an.messages.create(
        model="m", max_tokens=10, messages=[{"role": "user", "content": "q"}]
    )
    assert plain.content[0].type == "thinking" and plain.content[0].thinking == summarise(
        THOUGHT, 2
    )


async def test_anthropic_stream_none_renumbers_blocks(clients: Any, store: MemoryStore) -> None:
    store.put(_future(ActionKind.DEGRADE, degrade=OutputControls(reasoning=Reasoning.NONE)))
    _, an = clients
    async with an.messages.stream(
        model="m", max_tokens=10, messages=[{"role": "user", "content": "q"}]
    ) as stream:
        final = await stream.get_final_message()
    assert [b.type for b in final.content] == ["text"]


async def test_unverified_caller_cannot_use_logprobs_or_logit_bias(
    gateway: Counting, upstream: Upstream
) -> None:
    http = httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=gateway), headers={"x-test-account": "acc_2"}
    )
    async with openai.AsyncOpenAI(api_key="k", base_url="http://gw/v1", http_client=http) as oa:
        with pytest.raises(openai.PermissionDeniedError, match="logprobs"):
            await oa.chat.completions.create(
                model="m",
                messages=[{"role": "user", "content": "q"}],
                logprobs=True,
                top_logprobs=5,
            )
        with pytest.raises(openai.PermissionDeniedError, match="logit_bias"):
            await oa.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "q"}], logit_bias={"1": 5}
            )
        result = await oa.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "é"}]
        )
    assert result.choices[0].message.content == "42"
    assert len(upstream.received) == 1


async def test_without_on_error_the_gateway_error_propagates(
    store: MemoryStore, upstream: Upstream
) -> None:
    store.put(_future(ActionKind.SUSPEND))
    app = EnforcementMiddleware(upstream, store=store, identify=identify)
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": "/v1/chat/completions",
        "headers": [(b"x-test-account", b"acc_1")],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}"}

    async def send(message: Any) -> None:
        raise AssertionError("nothing should be sent")

    with pytest.raises(GatewayError) as exc:
        await app(scope, receive, send)
    assert exc.value.status == 403 and scope["state"]["dg.enforcement"].label == "block"


async def test_body_that_is_not_json_is_refused_not_passed(
    store: MemoryStore, upstream: Upstream
) -> None:
    app = EnforcementMiddleware(upstream, store=store, identify=identify)
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": "/v1/chat/completions",
        "headers": [(b"x-test-account", b"acc_9")],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b'{"logprobs": true'}

    async def send(message: Any) -> None:
        raise AssertionError("nothing should be sent")

    with pytest.raises(GatewayError) as exc:
        await app(scope, receive, send)
    assert exc.value.status == 400 and upstream.received == []


async def test_rewritten_body_keeps_other_values_exactly(
    store: MemoryStore, upstream: Upstream
) -> None:
    store.put(_future(ActionKind.DEGRADE, degrade=OutputControls(max_tokens=10)))
    app = EnforcementMiddleware(upstream, store=store, identify=identify)
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": "/v1/chat/completions",
        "headers": [(b"x-test-account", b"acc_1"), (b"x-test-verification", b"org")],
    }
    body = b'{"messages": [], "seed": 123456789012345678901234567890, "max_tokens": 999}'
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body}

    async def send(message: Any) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert upstream.received == [
        {"messages": [], "seed": 123456789012345678901234567890, "max_tokens": 10}
    ]
    assert sent[0]["status"] == 200


def _reference_restrict(endpoint: str, body: bytes, controls: OutputControls) -> bytes | None:
    """The request rewrite as it was before the quick path: one exact parse, always."""
    from distillguard.enforce import codec
    from distillguard.enforce.output import restrict_request
    from distillguard.errors import BadRequest

    try:
        parsed = codec.loads(body)
    except ValueError:
        raise BadRequest("the request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise BadRequest("the request body must be a JSON object")
    restricted = restrict_request(endpoint, parsed, controls)
    return None if restricted == parsed else codec.dumps(restricted)


_BODIES = [
    b'{"model": "m", "messages": [{"role": "user", "content": "hi"}]}',
    b'{"model": "m", "messages": [], "max_tokens": 64}',
    b'{"model": "m", "messages": [], "max_tokens": 12345678901234567890123}',
    b'{"model": "m", "messages": [], "logprobs": true, "top_logprobs": 20}',
    b'{"model": "m", "messages": [], "logprobs": true, "top_logprobs": 99999999999999999999}',
    b'{"model": "m", "messages": [], "logprobs": true, "top_logprobs": 2}',
    b'{"model": "m", "messages": [], "logit_bias": {"50256": -100}}',
    b'{"model": "m", "messages": [], "logprobs": true, "logit_bias": {"1": 5}}',
    b'{"model": "m", "messages": [], "n": 4, "seed": 123456789012345678901234567890}',
    b'{"model": "m", "messages": [], "max_tokens": NaN}',
    b'{"model": "m", "messages": [], "temperature": NaN, "logprobs": true}',
    '{"model": "m", "messages": [], "logprobs": true}'.encode("utf-16"),
    b'{"model": "m", "messages": [], "\\u006cogprobs": true}',
    b'{"model": "m", "messages": [], "reasoning_effort": "high"}',
    b'{"model": "m", "max_tokens": 4096, "thinking": {"type": "enabled", "budget_tokens": 3000}}',
    b'{"model": "m", "max_tokens": "lots"}',
    b'{"model": "m", "messages": [], "logprobs": true',
    b"[1, 2, 3]",
    b"",
]
_CONTROLS = [
    OutputControls(),
    OutputControls(max_top_logprobs=5, logprobs_with_logit_bias=False),  # verified default
    OutputControls(logprobs=Logprobs.REFUSE, logit_bias=False),  # unverified default
    OutputControls(logprobs=Logprobs.DROP, max_tokens=32, reasoning=Reasoning.NONE),
    OutputControls(max_n=1, max_thinking_tokens=0),
    OutputControls(max_thinking_tokens=2000, max_tokens=100_000),
]


@pytest.mark.parametrize(
    "endpoint",
    ["openai.chat.completions", "openai.completions", "openai.responses", "anthropic.messages"],
)
def test_quick_request_path_gives_what_the_exact_parse_gives(endpoint: str) -> None:
    # orjson alone decides that a body passes unchanged; the outcome (the bytes sent on, or
    # the error raised) must be the one the single exact parse gives, for bodies with and
    # without the controlled fields, with integers beyond 64 bits, NaN, UTF-16 and escapes.
    from distillguard.enforce.middleware import _restrict

    compared = 0
    for controls in _CONTROLS:
        for body in _BODIES:
            try:
                expected: Any = _reference_restrict(endpoint, body, controls)
            except GatewayError as exc:
                expected = (type(exc), exc.status, exc.message)
            try:
                got: Any = _restrict(endpoint, body, controls)[0]
            except GatewayError as exc:
                got = (type(exc), exc.status, exc.message)
            assert got == expected, (controls, body)
            compared += 1
    assert compared == len(_CONTROLS) * len(_BODIES)


@pytest.mark.parametrize(
    "endpoint",
    ["openai.chat.completions", "openai.completions", "openai.responses", "anthropic.messages"],
)
def test_shared_decoded_body_is_what_orjson_reads_from_the_body_passed_on(endpoint: str) -> None:
    # The app behind the middleware uses the shared parse instead of orjson.loads(body): for
    # every body and control the middleware offers one for, it must be exactly that parse
    # (same values and types, key order included), whether the body was rewritten or not.
    import orjson

    from distillguard.enforce.middleware import _restrict

    offered = 0
    for controls in _CONTROLS:
        for body in _BODIES:
            try:
                rewritten, decoded = _restrict(endpoint, body, controls)
            except GatewayError:
                continue
            if decoded is None:
                continue
            sent = body if rewritten is None else rewritten
            expected = orjson.loads(sent)
            assert decoded == expected, (controls, body)
            assert list(decoded) == list(expected)
            assert orjson.dumps(decoded) == orjson.dumps(expected)
            offered += 1
    assert offered >= len(_CONTROLS) * 8


async def _through(messages: list[dict[str, Any]]) -> tuple[list[Any], dict[str, Any]]:
    """Run ``app`` with a receive giving ``messages``; what the app behind received, and state."""
    seen: list[Any] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            seen.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        seen.append(await receive())  # after the body: a disconnect
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    pending = list(messages)

    async def receive() -> dict[str, Any]:
        return pending.pop(0)

    async def send(message: Any) -> None:
        return None

    store = MemoryStore()
    mw = EnforcementMiddleware(inner, store=store, identify=lambda scope: Caller("acct"))
    scope = {"type": "http", "method": "POST", "path": "/v1/chat/completions", "headers": []}
    await mw(scope, receive, send)
    return seen, scope["state"]


async def test_body_in_parts_and_disconnect_reach_the_app_as_before() -> None:
    body = b'{"model": "m", "messages": [], "max_tokens": 5}'
    parts = [
        {"type": "http.request", "body": body[:10], "more_body": True},
        {"type": "http.request", "body": body[10:20], "more_body": True},
        {"type": "http.request", "body": body[20:], "more_body": False},
    ]
    seen, state = await _through(parts)
    assert seen == [
        {"type": "http.request", "body": body, "more_body": False},
        {"type": "http.disconnect"},
    ]
    assert state["dg.body_json"][0] is seen[0]["body"]
    assert state["dg.body_json"][1] == {"model": "m", "messages": [], "max_tokens": 5}

    gone = [
        {"type": "http.request", "body": body[:10], "more_body": True},
        {"type": "http.disconnect"},
    ]
    seen, state = await _through(gone)
    assert seen == [{"type": "http.disconnect"}, {"type": "http.disconnect"}]
    assert "dg.body_json" not in state


def test_degrade_merge_cache_gives_the_merged_controls() -> None:
    mw = EnforcementMiddleware(_noop_app, store=MemoryStore(), identify=lambda scope: None)
    base = mw._levels["none"]
    one = OutputControls(reasoning=Reasoning.NONE, max_tokens=10)
    equal = OutputControls(reasoning=Reasoning.NONE, max_tokens=10)
    other = OutputControls(logprobs=Logprobs.DROP)
    first = mw._degraded(base, one)
    assert first.controls == base.controls.merge(one)
    assert mw._degraded(base, one) is first
    assert mw._degraded(base, equal).controls == first.controls
    assert mw._degraded(base, other).controls == base.controls.merge(other)
    assert mw._degraded(mw._levels["org"], one).controls == mw._levels["org"].controls.merge(one)


async def _noop_app(scope: Any, receive: Any, send: Any) -> None:
    return None


_RESPONSES = [
    {
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "42"}, "logprobs": None}
        ]
    },
    {"choices": [{"index": 0, "message": {"content": "42", "reasoning_content": THOUGHT}}]},
    {
        "choices": [
            {
                "index": 0,
                "message": {"content": "4"},
                "logprobs": {
                    "content": [
                        {
                            "token": "4",
                            "logprob": -0.123456,
                            "top_logprobs": [{"token": "4", "logprob": -0.1}],
                        }
                    ]
                },
            }
        ],
        "id": 123456789012345678901234567890,
    },
    {
        "content": [
            {"type": "thinking", "thinking": THOUGHT, "signature": "s"},
            {"type": "text", "text": "42"},
        ]
    },
    {"content": [{"type": "text", "text": "42"}], "usage": {"output_tokens": 1}},
    {
        "output": [
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": THOUGHT}]},
            {
                "type": "message",
                "content": [
                    {
                        "type": "output_text",
                        "text": "4",
                        "logprobs": [{"token": "4", "logprob": -0.5}],
                    }
                ],
            },
        ]
    },
]


@pytest.mark.parametrize(
    "endpoint", ["openai.chat.completions", "openai.responses", "anthropic.messages"]
)
def test_response_passes_as_sent_only_when_filtering_changes_nothing(endpoint: str) -> None:
    from distillguard.enforce import codec
    from distillguard.enforce.middleware import _filter_body
    from distillguard.enforce.responses import filter_response

    controls = [
        OutputControls(reasoning=Reasoning.NONE, logprobs=Logprobs.DROP),
        OutputControls(reasoning=Reasoning.SUMMARISED, logprob_decimals=1, max_top_logprobs=0),
        OutputControls(logprob_decimals=2),
    ]
    changed = unchanged = 0
    for control in controls:
        for response in _RESPONSES:
            body = json.dumps(response, indent=1).encode()  # not orjson's compact bytes
            expected = filter_response(endpoint, codec.loads(body), control)  # the exact path
            got = _filter_body(endpoint, body, control)
            if got is None:
                unchanged += 1
                assert codec.loads(body) == expected
            else:
                changed += 1
                assert codec.loads(got) == expected and got == codec.dumps(expected)
    for body in (b"not json", b"[1, 2]"):
        assert _filter_body(endpoint, body, controls[0]) is None
    # what orjson refuses takes the exact path, as before (NaN is sent on as null)
    assert _filter_body(endpoint, b'{"a": NaN}', controls[0]) == b'{"a":null}'
    assert changed and unchanged
