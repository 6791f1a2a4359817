"""A deterministic OpenAI- and Anthropic-compatible LLM server for demos, tests and benchmarks.

Plain ASGI (no framework) so it costs little CPU next to the gateway it serves. Routes:
``/v1/chat/completions``, ``/v1/completions``, ``/v1/responses``, ``/v1/models``,
``/v1/messages``, ``/v1/messages/count_tokens``; streamed and not, with usage counts.

Behaviour per request, for tests, from an ``x-mock-behavior`` header or a model name suffix
after ``@`` (the suffix passes through any gateway), comma separated:

* ``error=<status>``      answer that status with a provider-format error body
* ``latency=<ms>``        wait before answering
* ``chunk_delay=<ms>``    wait between streamed events
* ``hang``                never answer (until the client goes away)
* ``break``               stream half the events, then drop the connection
* ``words=<n>``           answer length in words

Example: ``{"model": "mock-1@latency=200,error=529", ...}``.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from distillguard.mockllm import formats
from distillguard.mockllm.answers import DEFAULT_WORDS, answer, count_tokens, prompt_text

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]
JSON_HEADERS = [(b"content-type", b"application/json")]
SSE_HEADERS = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
MODELS = ("mock-1", "mock-1-mini", "claude-mock-1")


@dataclass(frozen=True, slots=True)
class Behavior:
    """How to answer one request."""

    error: int | None = None
    latency_ms: float = 0.0
    chunk_delay_ms: float = 0.0
    hang: bool = False
    broken: bool = False
    words: int = DEFAULT_WORDS

    @classmethod
    def parse(cls, text: str, default: Behavior) -> Behavior:
        """Parse ``error=500,latency=20,hang``; unknown items are ignored."""
        values: dict[str, Any] = {}
        for item in text.split(","):
            name, _, value = item.strip().partition("=")
            try:
                if name == "error":
                    values["error"] = int(value)
                elif name == "latency":
                    values["latency_ms"] = float(value)
                elif name == "chunk_delay":
                    values["chunk_delay_ms"] = float(value)
                elif name == "words":
                    values["words"] = int(value)
            except ValueError:
                continue
            if name == "hang":
                values["hang"] = True
            elif name == "break":
                values["broken"] = True
        if not values:
            return default
        merged = {field: getattr(default, field) for field in cls.__slots__}
        merged.update(values)
        return cls(**merged)


class MockLLM:
    """The mock server as an ASGI app.

    ``error_rate`` injects ``error_status`` at random (seeded, so runs repeat);
    ``require_key`` answers 401 unless that key is presented (to prove a gateway sends its own
    upstream credential and never the client's).
    """

    def __init__(
        self,
        *,
        latency_ms: float = 0.0,
        chunk_delay_ms: float = 0.0,
        words: int = DEFAULT_WORDS,
        error_rate: float = 0.0,
        error_status: int = 500,
        require_key: str | None = None,
        seed: int = 0,
    ) -> None:
        if not 0.0 <= error_rate <= 1.0:
            raise ValueError("error_rate must be between 0 and 1")
        self.default = Behavior(latency_ms=latency_ms, chunk_delay_ms=chunk_delay_ms, words=words)
        self.error_rate = error_rate
        self.error_status = error_status
        self.require_key = require_key.encode() if require_key else None
        self._random = random.Random(seed)
        self.requests = 0

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                kind = message["type"]
                await send({"type": kind + ".complete"})
                if kind == "lifespan.shutdown":
                    return
        if scope["type"] != "http":
            return
        self.requests += 1
        behavior_header = key = None
        anthropic = False
        for name, value in scope["headers"]:
            if name == b"x-mock-behavior":
                behavior_header = value
            elif name == b"authorization":
                key = value[7:] if value[:7].lower() == b"bearer " else value
            elif name == b"x-api-key":
                key, anthropic = value, True
            elif name == b"anthropic-version":
                anthropic = True
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        path = scope["path"]
        anthropic = anthropic or path.startswith("/v1/messages")
        if self.require_key is not None and key != self.require_key:
            await _reply(send, 401, formats.error_body(401, anthropic, "mock: wrong upstream key"))
            return
        if path == "/v1/models" or path.startswith("/v1/models/"):
            await _json(send, formats.models_body(anthropic, MODELS))
            return
        try:
            data = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError:
            await _reply(send, 400, formats.error_body(400, anthropic, "mock: malformed JSON"))
            return
        if not isinstance(data, dict):
            await _reply(send, 400, formats.error_body(400, anthropic, "mock: expected an object"))
            return
        model = str(data.get("model", "mock-1"))
        behavior = self.default
        if "@" in model:
            model, _, spec = model.partition("@")
            behavior = Behavior.parse(spec, behavior)
        if behavior_header is not None:
            behavior = Behavior.parse(behavior_header.decode("latin-1"), behavior)
        await self._answer(send, receive, path, data, model, behavior, anthropic)

    async def _answer(
        self,
        send: Send,
        receive: Receive,
        path: str,
        data: dict[str, Any],
        model: str,
        behavior: Behavior,
        anthropic: bool,
    ) -> None:
        if behavior.hang:
            await receive()  # returns when the client disconnects
            return
        if behavior.latency_ms > 0:
            await asyncio.sleep(behavior.latency_ms / 1000.0)
        status = behavior.error
        if status is None and self.error_rate and self._random.random() < self.error_rate:
            status = self.error_status
        if status is not None:
            await _reply(
                send, status, formats.error_body(status, anthropic, "mock: injected error")
            )
            return
        if path == "/v1/messages/count_tokens":
            await _json(send, {"input_tokens": count_tokens(prompt_text(data))})
            return
        ans = answer(data, words=behavior.words)
        ident = secrets.token_hex(8)
        stream = data.get("stream") is True
        options = data.get("stream_options")
        usage = isinstance(options, dict) and options.get("include_usage") is True
        events: Iterator[bytes]
        if path == "/v1/chat/completions":
            if not stream:
                await _json(send, formats.chat_body(ans, model, ident))
                return
            events = formats.chat_stream(ans, model, ident, usage)
        elif path == "/v1/completions":
            if not stream:
                await _json(send, formats.completion_body(ans, model, ident))
                return
            events = formats.completion_stream(ans, model, ident, usage)
        elif path == "/v1/responses":
            if not stream:
                await _json(send, formats.response_body(ans, model, ident))
                return
            events = formats.response_stream(ans, model, ident)
        elif path == "/v1/messages":
            if not stream:
                await _json(send, formats.message_body(ans, model, ident))
                return
            events = formats.message_stream(ans, model, ident)
        else:
            await _reply(send, 404, formats.error_body(404, anthropic, f"mock: no route {path}"))
            return
        await self._stream(send, receive, events, behavior)

    async def _stream(
        self, send: Send, receive: Receive, events: Iterator[bytes], behavior: Behavior
    ) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
        items = list(events)
        if behavior.broken:
            items = items[: max(len(items) // 2, 1)]
        delay = behavior.chunk_delay_ms / 1000.0
        if delay <= 0 and not behavior.broken:
            await send({"type": "http.response.body", "body": b"".join(items)})
            return
        gone = asyncio.ensure_future(receive())  # completes when the client disconnects
        try:
            for item in items:
                if gone.done():
                    return
                await send({"type": "http.response.body", "body": item, "more_body": True})
                if delay > 0:
                    await asyncio.sleep(delay)
        finally:
            gone.cancel()
        if behavior.broken:
            raise ConnectionAbortedError("mock: stream broken on purpose")
        await send({"type": "http.response.body", "body": b""})


async def _json(send: Send, data: dict[str, Any]) -> None:
    await _reply(send, 200, orjson.dumps(data))


async def _reply(send: Send, status: int, body: bytes) -> None:
    headers = [*JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
