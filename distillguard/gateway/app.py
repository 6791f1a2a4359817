"""The gateway: a plain ASGI application in front of an OpenAI/Anthropic-compatible server.

Per request: resolve the client (trusted proxies only), find the route, read the body under the
size limit, authenticate the key, check the body, admit against every limit at once, proxy to
the upstream (streams pass through event by event), settle the lease with the real token counts
and write one request-log record. Every backend (authenticator, limiter, upstream pool, log
writer, metrics) is passed in, built once at start-up by :mod:`distillguard.gateway.assembly`.

The lease is settled in ``finally``: whether the answer completed, the upstream failed or timed
out, or the client went away (the upstream call is then cancelled), every reserved slot and
token comes back.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol

import orjson

from distillguard.controlplane.principal import Authenticator, Principal, TierLimits
from distillguard.errors import (
    AuthError,
    GatewayError,
    PermissionDenied,
    RequestTooLarge,
    RouteNotFound,
)
from distillguard.gateway.admission import Admission, DemandPlanner
from distillguard.gateway.clientinfo import ClientResolver
from distillguard.gateway.errors import (
    ClientTimeout,
    Provider,
    Unavailable,
    error_response,
)
from distillguard.gateway.exchange import CLIENT_CLOSED, Exchange
from distillguard.gateway.metrics import GatewayMetrics
from distillguard.gateway.proxy import Proxy
from distillguard.gateway.routes import find_route, provider_of
from distillguard.ratelimit.base import Lease, Limiter

log = logging.getLogger(__name__)

BODY_JSON = "dg.body_json"  # distillguard.enforce.middleware.BODY_JSON, not imported from there

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class RecordSink(Protocol):
    def submit(self, record: dict[str, Any]) -> bool: ...


class _ClientGone(Exception):
    """The client disconnected while its request body was being read."""


class Gateway:
    """The gateway ASGI app. ``startup``/``shutdown`` run on the ASGI lifespan events."""

    def __init__(
        self,
        *,
        authenticator: Authenticator,
        limiter: Limiter,
        demands_for: DemandPlanner,
        proxy: Proxy,
        request_log: RecordSink,
        metrics: GatewayMetrics,
        resolver: ClientResolver | None = None,
        ja4_header: str = "x-ja4",
        max_body_bytes: int = 32 * 1024 * 1024,
        body_timeout_s: float = 30.0,
        max_in_flight: int = 10_000,
        default_max_tokens: int = 4096,
        admin_app: ASGIApp | None = None,
        middleware: Callable[[ASGIApp], ASGIApp] | None = None,
        throttle: Callable[[TierLimits, Any], TierLimits] | None = None,
        startup: Sequence[Callable[[], Awaitable[None]]] = (),
        shutdown: Sequence[Callable[[], Awaitable[None]]] = (),
    ) -> None:
        if max_body_bytes < 1:
            raise ValueError("max_body_bytes must be positive")
        self.authenticator = authenticator
        self.limiter = limiter
        self.admission = Admission(
            limiter, demands_for, metrics, default_max_tokens=default_max_tokens
        )
        self.proxy = proxy
        self.request_log = request_log
        self.metrics = metrics
        self.resolver = resolver or ClientResolver()
        self.ja4_header = ja4_header.lower().encode("latin-1")
        self.max_body_bytes = max_body_bytes
        self.body_timeout_s = body_timeout_s
        # Load shedding: past this many requests in progress (a stalled limiter storage or
        # upstream), new ones get a quick 503 instead of piling up in memory.
        self.max_in_flight = max_in_flight
        self.in_flight = 0
        metrics.in_flight.set_function(lambda: float(self.in_flight))
        self.admin_app = admin_app
        # An ASGI middleware run between authentication and admission (enforcement): it sees
        # scope["state"]["dg.principal"] and may refuse, rewrite the body or filter the answer.
        self._inner: ASGIApp | None = middleware(self._core) if middleware is not None else None
        self.throttle = throttle
        self.startup = list(startup)
        # Request ids: a random per-process prefix and a counter (unique, and no syscall).
        self._id_prefix = "req_" + secrets.token_hex(6)
        self._serial = 0
        self._last_logged: dict[str, float] = {}
        self.shutdown = list(shutdown)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            path: str = scope["path"]
            if path.startswith("/v1/"):
                await self._api(scope, receive, send)
            elif path == "/metrics":
                await _plain(send, 200, self.metrics.render(), b"text/plain; version=0.0.4")
            elif path == "/healthz":
                await _plain(send, 200, b'{"status":"ok"}', b"application/json")
            elif path == "/readyz":
                await self._ready(send)
            elif self.admin_app is not None and (path == "/admin" or path.startswith("/admin/")):
                child = dict(scope)
                child["path"] = path[len("/admin") :] or "/"
                child["root_path"] = scope.get("root_path", "") + "/admin"
                await self.admin_app(child, receive, send)
            else:
                await self._api(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    for hook in self.startup:
                        await hook()
                except Exception as exc:
                    log.exception("gateway start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for hook in self.shutdown:
                    try:
                        await hook()
                    except Exception:
                        log.exception("gateway shutdown step failed")
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _ready(self, send: Send) -> None:
        try:
            await self.limiter.check()
        except Exception as exc:
            body = orjson.dumps({"status": "unavailable", "reason": str(exc)})
            await _plain(send, 503, body, b"application/json")
            return
        await _plain(send, 200, b'{"status":"ready"}', b"application/json")

    async def _api(self, scope: Scope, receive: Receive, send: Send) -> None:
        arrived = time.time()
        started = time.perf_counter()
        bearer = api_key = forwarded = ja4 = agent = retries = length = None
        anthropic = False
        ja4_name = self.ja4_header
        for name, value in scope["headers"]:
            if name == b"authorization":
                bearer = value
            elif name == b"x-api-key":
                api_key = value
                anthropic = True
            elif name == b"anthropic-version":
                anthropic = True
            elif name == b"content-length":
                length = value
            elif name == b"user-agent":
                agent = value
            elif name == b"x-forwarded-for":
                forwarded = value
            elif name == ja4_name:
                ja4 = value
            elif name == b"x-stainless-retry-count":
                retries = value
        path: str = scope["path"]
        route = find_route(path, anthropic)
        provider: Provider = route.provider if route is not None else provider_of(path, anthropic)
        client = scope.get("client")
        client_ip, fingerprint = self.resolver.resolve(
            client[0] if client else None, forwarded, ja4
        )
        retry_count = int(retries) if retries is not None and retries.isdigit() else None
        self._serial += 1
        exchange = Exchange(
            f"{self._id_prefix}{self._serial:012x}",
            arrived,
            route.endpoint if route is not None else _fallback_endpoint(provider),
            path,
            client_ip,
            fingerprint,
            agent.decode("latin-1") if agent is not None else None,
            retry_count,
        )
        self.in_flight += 1
        try:
            if self.in_flight > self.max_in_flight:
                exchange.decision = "block"
                raise Unavailable(
                    "The gateway is overloaded; try again shortly.",
                    headers={"retry-after": "1"},
                    should_retry=True,
                )
            if route is None:
                raise RouteNotFound(f"Invalid URL ({scope['method']} {path})")
            if scope["method"] != route.method:
                raise RouteNotFound(
                    f"Method {scope['method']} is not allowed on {path}; use {route.method}",
                    status=405,
                )
            body = await self._read_body(receive, length) if route.method == "POST" else b""
            principal = exchange.principal = self._authenticate(bearer, api_key, exchange)
            if self._inner is None:
                await self.admission.admit(exchange, route, body, provider, principal)
                await self.proxy.forward(scope, receive, send, exchange, route, provider, body)
            else:
                state = scope.get("state")
                if state is None:
                    state = scope["state"] = {}
                state["dg.principal"] = principal
                state["dg.client_ip"] = client_ip
                state["dg.exchange"] = (exchange, route, provider, receive)
                try:
                    await self._inner(scope, _replay(body, receive), send)
                finally:
                    # The connection's receive, held in its own scope, is a reference cycle
                    # (connection -> scope -> state -> receive -> connection) that would keep
                    # the whole request alive until a full garbage collection.
                    del state["dg.exchange"]
        except GatewayError as exc:
            enforced = (scope.get("state") or {}).get("dg.enforcement")
            if enforced is not None and exc.status == 403:
                exchange.decision = enforced.label
            await self._fail(send, exc, exchange, provider)
        except _ClientGone:
            exchange.status = CLIENT_CLOSED
            self.metrics.disconnects.inc()
        except Exception as exc:  # a bug or an unexpected backend failure: still a clean 500
            self._internal_error(exchange.request_id)
            failure = GatewayError(
                f"The gateway failed to handle the request ({type(exc).__name__})."
            )
            await self._fail(send, failure, exchange, provider)
        finally:
            lease = exchange.lease
            if lease is not None:
                try:
                    await self.limiter.settle(lease, exchange.actual_usage())
                except Exception:
                    self._settle_failed(lease)
            exchange.latency_ms = round((time.perf_counter() - started) * 1000.0, 3)
            self.request_log.submit(exchange.record())
            self.in_flight -= 1  # after the submit: at zero in flight, every record is queued
            self.metrics.count_request(
                route.name if route is not None else "unknown", exchange.status, exchange.decision
            )

    def _settle_failed(self, lease: Lease) -> None:
        self.metrics.settle_errors.inc()
        if self._may_log("settle"):
            log.exception("settling lease %s failed (counted in dg_settle_errors_total)", lease.id)

    def _internal_error(self, request_id: str) -> None:
        self.metrics.internal_errors.inc()
        if self._may_log("internal"):
            log.exception(
                "request %s failed unexpectedly (counted in dg_internal_errors_total)", request_id
            )

    def _may_log(self, what: str) -> bool:
        """One traceback a second per kind of failure, not one a request."""
        now = time.monotonic()
        if now - self._last_logged.get(what, -10.0) < 1.0:
            return False
        self._last_logged[what] = now
        return True

    async def _read_body(self, receive: Receive, declared: bytes | None) -> bytes:
        limit = self.max_body_bytes
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise RequestTooLarge(f"Request body is larger than the limit of {limit} bytes.")
        # A deadline for the whole body, so a client trickling bytes (slowloris) cannot hold a
        # connection and its buffers for ever. Usually the body came with the headers and the
        # first receive returns at once.
        try:
            async with asyncio.timeout(self.body_timeout_s):
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise _ClientGone
                body: bytes = message.get("body", b"")
                if not message.get("more_body", False):
                    if len(body) > limit:
                        raise RequestTooLarge(
                            f"Request body is larger than the limit of {limit} bytes."
                        )
                    return body
                chunks = [body]
                size = len(body)
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise _ClientGone
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        raise RequestTooLarge(
                            f"Request body is larger than the limit of {limit} bytes."
                        )
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            raise ClientTimeout(
                f"The request body did not arrive within {self.body_timeout_s:g} s."
            ) from None

    def _authenticate(
        self, bearer: bytes | None, api_key: bytes | None, exchange: Exchange
    ) -> Principal:
        secret = None
        if bearer is not None and bearer[:7].lower() == b"bearer ":
            secret = bearer[7:].strip()
        elif api_key is not None:
            secret = api_key.strip()
        if not secret:
            self.metrics.auth.labels("missing").inc()
            exchange.decision = "block"
            raise AuthError(
                "No API key provided. Send it as 'Authorization: Bearer <key>' or 'x-api-key'.",
                should_retry=False,
            )
        text = secret.decode("latin-1")
        try:
            return self.authenticator.authenticate(text)
        except AuthError:
            self.metrics.auth.labels("invalid").inc()
            exchange.decision = "block"
            raise
        except PermissionDenied:
            self.metrics.auth.labels("denied").inc()
            exchange.decision = "block"
            exchange.key_id = _key_id(text)
            raise

    async def _core(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Admission and proxying as an ASGI app, behind the configured middleware."""
        state = scope["state"]
        # The client's own receive: the disconnect watcher must listen to the connection, not
        # to a middleware's replay of the body.
        exchange, route, provider, client_receive = state["dg.exchange"]
        principal = state["dg.principal"]
        body = b""
        if route.method == "POST":
            # Inline for the usual single message; a middleware may still send several.
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone
            body = message.get("body", b"")
            if message.get("more_body", False):
                body = await _replayed_body(receive, body)
        if len(body) > self.max_body_bytes:  # a middleware's rewrite is held to the limit too
            raise RequestTooLarge(
                f"Request body is larger than the limit of {self.max_body_bytes} bytes."
            )
        enforced = state.get("dg.enforcement")
        if enforced is not None:
            throttle = enforced.throttle
            if throttle is not None and self.throttle is not None:
                principal = replace(principal, tier=self.throttle(principal.tier, throttle))
        # The middleware's parse of the body it passed on, if it made one: the same bytes
        # object (a rewrite is a new one) decodes to the same dict, so admission skips it.
        shared = state.pop(BODY_JSON, None)
        decoded = shared[1] if shared is not None and shared[0] is body else None
        await self.admission.admit(exchange, route, body, provider, principal, decoded)
        if enforced is not None and enforced.label != "allow":
            exchange.decision = enforced.label
        await self.proxy.forward(scope, client_receive, send, exchange, route, provider, body)

    async def _fail(
        self, send: Send, exc: GatewayError, exchange: Exchange, provider: Provider
    ) -> None:
        exchange.status = exc.status
        if exchange.started:
            await self.proxy.abort_stream(send, exc, exchange, provider)
            return
        status, headers, body = error_response(exc, provider, exchange.request_id)
        exchange.finished = True
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields the already-read body once, then the client's own messages."""
    pending = [body]

    async def replay() -> Message:
        if pending:
            return {"type": "http.request", "body": pending.pop(), "more_body": False}
        return await receive()

    return replay


async def _replayed_body(receive: Receive, first: bytes) -> bytes:
    """The rest of a body behind the middleware, after its ``first`` part: :meth:`Gateway._api`
    has already read it whole, under its deadline and size limit, so what comes here is a
    replay of bytes in memory (the gateway's or a middleware's rewrite) and needs no second
    timer."""
    chunks = [first]
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _fallback_endpoint(provider: Provider) -> str:
    return "anthropic.messages" if provider == "anthropic" else "openai.chat.completions"


def _key_id(secret: str) -> str | None:
    """The public key id of a presented ``dg-<key_id>-<secret>`` key, when it parses."""
    try:
        from distillguard.controlplane.apikeys import parse_key

        return parse_key(secret)[0]
    except (ImportError, GatewayError, ValueError):
        return None


async def _plain(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
