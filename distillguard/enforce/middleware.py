"""Enforcement as a plain ASGI middleware, independent of the gateway's internals.

Place it after authentication (it needs to know who is calling) and before rate limiting and
proxying::

    app = Auth(EnforcementMiddleware(RateLimit(Proxy()), store=store, identify=principal_of))

Per HTTP request it:

1. asks ``identify(scope)`` for the caller (:class:`Caller`, or None to pass the request through);
2. reads the decision from the store (in-process dict reads) and puts it in
   ``scope["state"]["dg.enforcement"]`` (a :class:`~distillguard.enforce.actions.Decision` or
   None) and the effective output controls in ``scope["state"]["dg.output_controls"]``; the rate
   limiter reads ``decision.throttle`` from there and the request logger ``decision.label``;
3. for ``suspend`` and ``challenge`` raises the decision's :class:`PermissionDenied` (403,
   ``x-should-retry: false``), or hands it to ``on_error`` when given, so the gateway formats it
   for the route's provider in its one error handler;
4. applies output controls (the per-verification defaults merged with any ``degrade``): the JSON
   request body is checked and capped with :func:`restrict_request` (a refusal is a
   GatewayError handled as in 3), and the response, JSON or ``text/event-stream``, is filtered
   with :mod:`distillguard.enforce.responses`. Error responses and compressed bodies pass
   unchanged, so the proxy should ask upstream for ``accept-encoding: identity``.

When the controls are unrestricted nothing is buffered; when they restrict only request fields
the body is parsed only if it mentions one of them.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from distillguard.enforce.actions import Decision
from distillguard.enforce.output import (
    OutputControls,
    Reasoning,
    default_controls,
    restrict_request,
)
from distillguard.enforce.responses import StreamFilter, filter_response
from distillguard.enforce.sse import SSEFilter
from distillguard.enforce.store.base import EnforcementStore
from distillguard.errors import GatewayError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
ErrorHandler = Callable[[Scope, Receive, Send, GatewayError], Awaitable[None]]

ROUTES = {
    "/v1/chat/completions": "openai.chat.completions",
    "/v1/completions": "openai.completions",
    "/v1/responses": "openai.responses",
    "/v1/messages": "anthropic.messages",
}
# Keys whose presence in a request body makes it worth parsing; an escaped key (\u) could hide
# one, so a backslash-u also counts.
_TRIGGERS = (
    b'"logprobs"',
    b'"top_logprobs"',
    b'"logit_bias"',
    b'"n"',
    b'"best_of"',
    b'"include"',
    b"\\u",
)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, as far as enforcement cares."""

    account_id: str
    key_id: str | None = None
    org_id: str | None = None
    ip: str | None = None
    verification: str = "none"


def endpoint_of(scope: Scope) -> str | None:
    """The dg.request.v1 endpoint of a request path, or None for other routes."""
    return ROUTES.get(scope.get("path", "").rstrip("/")) if scope.get("method") == "POST" else None


class EnforcementMiddleware:
    """Plain ASGI middleware applying the enforcement store's decisions and output controls."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        store: EnforcementStore,
        identify: Callable[[Scope], Caller | None],
        defaults: Callable[[str], OutputControls] | None = default_controls,
        endpoint: Callable[[Scope], str | None] = endpoint_of,
        on_error: ErrorHandler | None = None,
    ) -> None:
        self.app = app
        self.store = store
        self.identify = identify
        self.defaults = defaults
        self.endpoint = endpoint
        self.on_error = on_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        caller = self.identify(scope)
        if caller is None:
            await self.app(scope, receive, send)
            return
        decision = self.store.decide(
            account_id=caller.account_id,
            key_id=caller.key_id,
            org_id=caller.org_id,
            ip=caller.ip,
            verification=caller.verification,
        )
        controls = self._controls(caller, decision)
        state = scope.setdefault("state", {})
        state["dg.enforcement"] = decision
        state["dg.output_controls"] = controls
        try:
            if decision is not None:
                error = decision.error()
                if error is not None:
                    raise error
            endpoint = self.endpoint(scope) if not controls.unrestricted else None
            if endpoint is None:
                await self.app(scope, receive, send)
                return
            receive = await self._restrict(scope, receive, endpoint, controls)
        except GatewayError as exc:
            if self.on_error is None:
                raise
            await self.on_error(scope, receive, send, exc)
            return
        if controls.reasoning is Reasoning.FULL and controls.logprob_decimals is None:
            await self.app(scope, receive, send)
        else:
            await self.app(scope, receive, _ResponseFilter(send, endpoint, controls))

    def _controls(self, caller: Caller, decision: Decision | None) -> OutputControls:
        controls = self.defaults(caller.verification) if self.defaults else OutputControls()
        degrade = decision.output if decision is not None else None
        return controls if degrade is None else controls.merge(degrade)

    async def _restrict(
        self, scope: Scope, receive: Receive, endpoint: str, controls: OutputControls
    ) -> Receive:
        chunks = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return _replay([message])  # a disconnect: let the app see it
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        needs_parse = (
            controls.max_tokens is not None
            or controls.max_thinking_tokens is not None
            or any(t in body for t in _TRIGGERS)
        )
        if needs_parse:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None  # not JSON: the gateway answers 400 itself
            if isinstance(parsed, dict):
                restricted = restrict_request(endpoint, parsed, controls)
                if restricted != parsed:
                    body = json.dumps(restricted, separators=(",", ":")).encode()
                    _set_header(scope, b"content-length", str(len(body)).encode())
        return _replay([{"type": "http.request", "body": body, "more_body": False}])


def _replay(messages: list[Message]) -> Receive:
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        return {"type": "http.disconnect"}

    return receive


def _set_header(holder: MutableMapping[str, Any], name: bytes, value: bytes) -> None:
    headers = [(k, v) for k, v in holder.get("headers", []) if k.lower() != name]
    headers.append((name, value))
    holder["headers"] = headers


class _ResponseFilter:
    """A ``send`` wrapper that filters JSON and SSE response bodies."""

    def __init__(self, send: Send, endpoint: str, controls: OutputControls) -> None:
        self.send = send
        self.endpoint = endpoint
        self.controls = controls
        self.mode = "pass"
        self.start: Message | None = None
        self.chunks: list[bytes] = []
        self.sse: SSEFilter | None = None

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = {k.lower(): v for k, v in message.get("headers", [])}
            kind = headers.get(b"content-type", b"").split(b";")[0].strip()
            encoded = headers.get(b"content-encoding", b"identity") != b"identity"
            if message.get("status", 200) >= 400 or encoded:
                self.mode = "pass"
            elif kind == b"text/event-stream":
                self.mode = "sse"
                self.sse = SSEFilter(StreamFilter(self.endpoint, self.controls))
            elif kind == b"application/json":
                self.mode = "json"
                self.start = message
                return  # held until the body is complete (its length changes)
            await self.send(message)
            return
        if message["type"] != "http.response.body" or self.mode == "pass":
            await self.send(message)
            return
        more = message.get("more_body", False)
        if self.mode == "sse":
            assert self.sse is not None
            out = self.sse.feed(message.get("body", b""))
            if not more:
                out += self.sse.flush()
            if out or not more:
                await self.send({"type": "http.response.body", "body": out, "more_body": more})
            return
        self.chunks.append(message.get("body", b""))
        if more:
            return
        body = b"".join(self.chunks)
        try:
            parsed = json.loads(body)
            if isinstance(parsed, dict):
                body = json.dumps(
                    filter_response(self.endpoint, parsed, self.controls), separators=(",", ":")
                ).encode()
        except ValueError:
            pass  # not JSON after all: send as received
        assert self.start is not None
        _set_header(self.start, b"content-length", str(len(body)).encode())
        await self.send(self.start)
        await self.send({"type": "http.response.body", "body": body, "more_body": False})
