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
   unchanged, so the proxy should ask upstream for ``accept-encoding: identity``. The body
   passed on, with ``orjson.loads`` of it when the middleware already has that, is left in
   ``scope["state"]["dg.body_json"]`` so the app need not parse the same bytes again.

When the controls are unrestricted nothing is buffered. Otherwise the body is parsed (orjson,
about 1 µs for 2 kB) and re-encoded only when a field changed; a request or JSON response the
controls leave unchanged goes on byte for byte as it came, so only a rewrite needs the exact
parse of :mod:`distillguard.enforce.codec`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import orjson

from distillguard.enforce import codec
from distillguard.enforce.output import (
    VERIFICATION_LEVELS,
    OutputControls,
    Reasoning,
    default_controls,
    restrict_request,
)
from distillguard.enforce.responses import StreamFilter, filter_response
from distillguard.enforce.sse import SSEFilter
from distillguard.enforce.store.base import EnforcementStore
from distillguard.errors import BadRequest, GatewayError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
ErrorHandler = Callable[[Scope, Receive, Send, GatewayError], Awaitable[None]]

_MERGED_CACHE = 4096  # distinct (level defaults, degrade) pairs kept merged

# scope["state"] key: (body, its orjson.loads) for the request body the middleware passes on,
# when it parsed it anyway, so the app behind can skip a second parse of the same bytes.
BODY_JSON = "dg.body_json"

ROUTES = {
    "/v1/chat/completions": "openai.chat.completions",
    "/v1/completions": "openai.completions",
    "/v1/responses": "openai.responses",
    "/v1/messages": "anthropic.messages",
}


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, as far as enforcement cares."""

    account_id: str
    key_id: str | None = None
    org_id: str | None = None
    ip: str | None = None
    verification: str = "none"
    account_created: float | None = None  # POSIX time, for challenges limited by account age


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
        self.endpoint = endpoint
        self.on_error = on_error
        # The per-level defaults, and what they require, are worked out once here.
        self._levels = {
            level: _Plan(defaults(level) if defaults else OutputControls())
            for level in VERIFICATION_LEVELS
        }
        self._merged: dict[tuple[int, int], tuple[_Plan, OutputControls, _Plan]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        caller = self.identify(scope)
        if caller is None:
            await self.app(scope, receive, send)
            return
        decision = self.store.decide(
            caller.account_id,
            caller.key_id,
            caller.org_id,
            caller.ip,
            caller.verification,
            None,
            caller.account_created,
        )
        plan = self._levels.get(caller.verification) or self._levels["none"]
        if decision is not None:
            degrade = decision.output
            if degrade is not None:
                plan = self._degraded(plan, degrade)
        controls = plan.controls
        state = scope.setdefault("state", {})
        state["dg.enforcement"] = decision
        state["dg.output_controls"] = controls
        try:
            if decision is not None:
                error = decision.error()
                if error is not None:
                    raise error
            endpoint = None if plan.unrestricted else self.endpoint(scope)
            if endpoint is None:
                await self.app(scope, receive, send)
                return
            # The body, whole, read here (no helper coroutine per request); anything else
            # than a body part (a disconnect) is passed on for the app to see.
            message = await receive()
            chunks: list[bytes] | None = None
            while message["type"] == "http.request" and message.get("more_body", False):
                if chunks is None:
                    chunks = []
                chunks.append(message.get("body", b""))
                message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                if chunks is not None:
                    chunks.append(body)
                    body = b"".join(chunks)
                rewritten, decoded = _restrict(endpoint, body, plan.controls)
                if rewritten is not None:
                    body = rewritten
                    _set_header(scope, b"content-length", str(len(body)).encode())
                if decoded is not None:
                    state[BODY_JSON] = (body, decoded)
                message = {"type": "http.request", "body": body, "more_body": False}
            receive = _Replay(message)
        except GatewayError as exc:
            if self.on_error is None:
                raise
            await self.on_error(scope, receive, send, exc)
            return
        if plan.filters_response:
            await self.app(scope, receive, _ResponseFilter(send, endpoint, controls))
        else:
            await self.app(scope, receive, send)

    def _degraded(self, plan: _Plan, degrade: OutputControls) -> _Plan:
        # A degrade action applies to every request of its subject: merge once per pair. Keyed
        # by identity (hashing two ten-field dataclasses per request costs more than the rest
        # of the lookup); the value holds both objects, so neither id can be reused meanwhile.
        key = (id(plan), id(degrade))
        cached = self._merged.get(key)
        if cached is not None and cached[0] is plan and cached[1] is degrade:
            return cached[2]
        if len(self._merged) >= _MERGED_CACHE:
            self._merged.clear()
        merged = _Plan(plan.controls.merge(degrade))
        self._merged[key] = (plan, degrade, merged)
        return merged


def _restrict(
    endpoint: str, body: bytes, controls: OutputControls
) -> tuple[bytes | None, dict[str, Any] | None]:
    """The body rewritten under ``controls`` (None when they leave it as sent), and what
    ``orjson.loads`` gives for the body that goes on, when that is already known (else None).

    A body the controls leave unchanged is passed on as sent, so orjson's parse alone decides
    that (it is exact except for integers of 19+ digits, which would only make a checked field
    fail its integer test). A refusal or a rewrite is exact: orjson's result is kept when the
    body holds no such integer, otherwise the body is parsed again by :func:`codec.loads`.
    A rewrite of orjson's own result is encoded by orjson, so decoding it again would give back
    the rewritten dict; after the exact parse nothing is offered (NaN, big integers).
    """
    try:
        parsed = codec.quick_loads(body)
    except ValueError:
        parsed = None  # orjson refuses what Python's json may accept (NaN, UTF-16): exact path
    if isinstance(parsed, dict):
        try:
            restricted = restrict_request(endpoint, parsed, controls)
        except GatewayError:
            if codec.orjson_exact(body):
                raise
        else:
            if restricted == parsed:
                return None, parsed
            if codec.orjson_exact(body):
                try:
                    return orjson.dumps(restricted), restricted
                except TypeError:  # an integer beyond 64 bits set by the controls
                    return codec.dumps(restricted), None
    try:
        parsed = codec.loads(body)
    except ValueError:
        raise BadRequest("the request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise BadRequest("the request body must be a JSON object")
    restricted = restrict_request(endpoint, parsed, controls)
    return (None if restricted == parsed else codec.dumps(restricted)), None


def _filter_body(endpoint: str, body: bytes, controls: OutputControls) -> bytes | None:
    """A JSON response body filtered under ``controls``, or None when they leave it as sent
    (nothing to withhold, or not a JSON object after all): then the upstream's bytes go on."""
    try:
        parsed = codec.quick_loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        filtered = filter_response(endpoint, parsed, controls)  # edits in place
        if filtered == codec.quick_loads(body):
            return None
        if codec.orjson_exact(body):
            return codec.dumps(filtered)
    try:
        parsed = codec.loads(body)
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    return codec.dumps(filter_response(endpoint, parsed, controls))


class _Plan:
    """Output controls with what they require of the middleware, computed once."""

    __slots__ = ("controls", "filters_response", "unrestricted")

    def __init__(self, controls: OutputControls) -> None:
        self.controls = controls
        self.unrestricted = controls.unrestricted
        self.filters_response = (
            controls.reasoning is not Reasoning.FULL or controls.logprob_decimals is not None
        )


class _Replay:
    """A ``receive`` that gives ``message`` once, then ``http.disconnect``."""

    __slots__ = ("message",)

    def __init__(self, message: Message) -> None:
        self.message: Message | None = message

    async def __call__(self) -> Message:
        message = self.message
        if message is None:
            return {"type": "http.disconnect"}
        self.message = None
        return message


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
            kind = b""
            encoded = False
            for name, value in message.get("headers", ()):
                name = name.lower()
                if name == b"content-type":
                    kind = value.split(b";")[0].strip()
                elif name == b"content-encoding":
                    encoded = value != b"identity"
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
        body = self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)
        assert self.start is not None
        filtered = _filter_body(self.endpoint, body, self.controls)
        if filtered is not None:
            body = filtered
            _set_header(self.start, b"content-length", str(len(body)).encode())
        await self.send(self.start)
        await self.send({"type": "http.response.body", "body": body, "more_body": False})
