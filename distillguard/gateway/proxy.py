"""Forwarding an admitted request to the upstream and its answer back to the client.

Non-streamed answers are read whole (they are single JSON documents) and their ``usage`` read.
Server-sent-event streams are passed on event by event as they arrive — never buffered whole —
while each event's ``data:`` is read for usage and text. For OpenAI streams the gateway asks the
upstream for the final usage chunk (``stream_options.include_usage``) when the client did not,
and then keeps that chunk from a client that did not ask for it.

While the upstream works, a watcher listens for the client's disconnect and cancels the call;
the gateway then settles the lease as usual.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson

from distillguard.errors import GatewayError
from distillguard.gateway.errors import Provider, request_id_header
from distillguard.gateway.exchange import CLIENT_CLOSED, Exchange
from distillguard.gateway.metrics import GatewayMetrics
from distillguard.gateway.routes import Route
from distillguard.gateway.upstream import Upstream, UpstreamResponse
from distillguard.gateway.usage import UsageMeter

_USAGE_KINDS = frozenset({"chat", "completions"})


class Proxy:
    """Sends admitted requests upstream and streams the answers back."""

    def __init__(
        self,
        upstream: Upstream,
        metrics: GatewayMetrics,
        *,
        text_limit: int = 1 << 62,
        include_usage: bool = True,
    ) -> None:
        self.upstream = upstream
        self.metrics = metrics
        self.text_limit = text_limit
        self.include_usage = include_usage

    async def forward(
        self,
        scope: dict[str, Any],
        receive: Any,
        send: Any,
        exchange: Exchange,
        route: Route,
        provider: Provider,
        body: bytes,
    ) -> None:
        """Proxy one request; a client disconnect ends it with status 499."""
        task = asyncio.current_task()
        watcher = asyncio.ensure_future(_watch(receive, task, exchange))
        try:
            await self._forward(scope, send, exchange, route, provider, body)
        except asyncio.CancelledError:
            if task is None or exchange.status != CLIENT_CLOSED:
                raise
            task.uncancel()
            self.metrics.disconnects.inc()
        finally:
            watcher.cancel()

    async def _forward(
        self,
        scope: dict[str, Any],
        send: Any,
        exchange: Exchange,
        route: Route,
        provider: Provider,
        body: bytes,
    ) -> None:
        payload = exchange.payload
        injected = False
        if (
            payload is not None
            and payload.stream
            and self.include_usage
            and route.kind in _USAGE_KINDS
        ):
            data = orjson.loads(body)
            options = data.get("stream_options")
            if not isinstance(options, dict) or not options.get("include_usage"):
                options = dict(options) if isinstance(options, dict) else {}
                options["include_usage"] = True
                data["stream_options"] = options
                body = orjson.dumps(data)
                injected = True
        path = scope["path"]
        query = scope.get("query_string")
        if query:
            path = f"{path}?{query.decode('latin-1')}"
        clock = time.perf_counter()
        response = await self.upstream.send(
            route.method, path, provider, scope["headers"], body or None, exchange.request_id
        )
        self.metrics.observe_upstream(route.name, time.perf_counter() - clock)
        try:
            exchange.upstream_ok = 200 <= response.status < 300
            if exchange.upstream_ok and route.generates:
                exchange.meter = UsageMeter(route.kind, self.text_limit)
            headers = response.headers
            headers.append((request_id_header(provider), exchange.request_id.encode()))
            for name, value in exchange.limit_headers.items():
                headers.append((name.encode(), value.encode()))
            if response.is_event_stream:
                await self._stream(send, response, headers, exchange, injected)
            else:
                await self._whole(send, response, headers, exchange)
        finally:
            response.release()

    async def _whole(
        self,
        send: Any,
        response: UpstreamResponse,
        headers: list[tuple[bytes, bytes]],
        exchange: Exchange,
    ) -> None:
        data = await response.read()
        if exchange.meter is not None:
            exchange.meter.read_body(data)
        headers.append((b"content-length", str(len(data)).encode()))
        exchange.status = response.status
        if response.status >= 500:
            self.metrics.upstream_errors.labels(str(response.status)).inc()
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        exchange.started = exchange.finished = True
        await send({"type": "http.response.body", "body": data})

    async def _stream(
        self,
        send: Any,
        response: UpstreamResponse,
        headers: list[tuple[bytes, bytes]],
        exchange: Exchange,
        injected: bool,
    ) -> None:
        exchange.status = response.status
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        exchange.started = True
        meter = exchange.meter
        pending = b""
        separator = b"\n\n"
        async for chunk in response.chunks():
            if meter is None:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                continue
            if not pending and b"\r\n" in chunk:
                separator = b"\r\n\r\n"
            pending += chunk
            out: list[bytes] = []
            while True:
                end = pending.find(separator)
                if end < 0:
                    break
                cut = end + len(separator)
                event = pending[:cut]
                pending = pending[cut:]
                if meter.read_event(_data_of(event)) and injected:
                    continue
                out.append(event)
            if out:
                await send({"type": "http.response.body", "body": b"".join(out), "more_body": True})
        exchange.finished = True
        await send({"type": "http.response.body", "body": pending, "more_body": False})

    async def abort_stream(
        self, send: Any, exc: GatewayError, exchange: Exchange, provider: Provider
    ) -> None:
        """End a stream that already started with an SSE error event (the SDKs raise on it)."""
        if exchange.finished:
            return
        kind = "overloaded_error" if exc.status == 529 else "api_error"
        if provider == "anthropic":
            error = {"type": "error", "error": {"type": kind, "message": exc.message}}
            event = b"event: error\ndata: " + orjson.dumps(error) + b"\n\n"
        else:
            error = {"error": {"message": exc.message, "type": "server_error", "code": None}}
            event = b"data: " + orjson.dumps(error) + b"\n\n"
        exchange.finished = True
        await send({"type": "http.response.body", "body": event, "more_body": False})


def _data_of(event: bytes) -> bytes:
    """The ``data:`` payload of one SSE event (several data lines joined by newlines)."""
    start = event.find(b"data:")
    if start < 0:
        return b""
    if event.find(b"data:", start + 5) < 0:
        line_end = event.find(b"\n", start)
        return event[start + 5 : line_end if line_end >= 0 else None].strip()
    lines = [line[5:].strip() for line in event.splitlines() if line.startswith(b"data:")]
    return b"\n".join(lines)


async def _watch(receive: Any, task: asyncio.Task[Any] | None, exchange: Exchange) -> None:
    """Cancel ``task`` when the client disconnects before the answer is complete."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            if not exchange.finished and task is not None:
                exchange.status = CLIENT_CLOSED
                task.cancel()
            return
