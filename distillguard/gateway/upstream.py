"""The connection pool to the upstream LLM server: a small HTTP/1.1 client on asyncio.

The gateway talks to exactly one upstream, always the same way, so a general-purpose client
(aiohttp, httpx) pays for features it does not need: measured on the gateway's hot path,
aiohttp's client cost more than everything else the gateway does. This client keeps a pool of
keep-alive connections, writes each request in one ``write`` and parses answers with
``httptools`` (the parser uvicorn uses), handing body chunks over as they arrive so streams
pass through unbuffered. Reading pauses when a slow client lets more than
``_HIGH_WATER`` bytes pile up.

The gateway's own upstream credential is added here and nowhere else; the client's key never
leaves the gateway. Failures become :class:`~distillguard.errors.UpstreamError` (502) or
:class:`~distillguard.gateway.errors.UpstreamTimeout` (504); ``read_timeout_s`` is the longest
silence tolerated while waiting for the answer or the next chunk.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
from collections.abc import AsyncIterator, Iterable
from typing import cast
from urllib.parse import urlsplit

import httptools

from distillguard.errors import ConfigurationError, UpstreamError
from distillguard.gateway.errors import Provider, UpstreamTimeout

# Response headers never passed back: hop-by-hop ones, lengths the ASGI server recomputes, the
# upstream's own request ids (the gateway sends its own) and rate-limit headers (the gateway's
# replace them). An upstream's retry advice (retry-after, x-should-retry) passes through.
DROPPED = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"transfer-encoding",
        b"content-length",
        b"date",
        b"server",
        b"x-request-id",
        b"request-id",
    }
)
_DROPPED_PREFIXES = (b"x-ratelimit-", b"anthropic-ratelimit-")
FORWARDED = frozenset(
    {b"content-type", b"accept", b"anthropic-version", b"anthropic-beta", b"openai-beta"}
)
_HIGH_WATER = 1 << 20
_LOW_WATER = 1 << 18


class UpstreamResponse:
    """An upstream answer being received; read it with :meth:`read` or :meth:`chunks`, then
    :meth:`release` it (the connection goes back to the pool only when fully read)."""

    __slots__ = (
        "_buffered",
        "_chunks",
        "_conn",
        "_done",
        "_error",
        "_headers_ready",
        "_waiter",
        "headers",
        "keep_alive",
        "status",
    )

    def __init__(self, conn: _Connection) -> None:
        self._conn = conn
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.keep_alive = False
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._done = False
        self._headers_ready = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None

    @property
    def is_event_stream(self) -> bool:
        for name, value in self.headers:
            if name == b"content-type":
                return value.startswith(b"text/event-stream")
        return False

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _feed(self, data: bytes) -> None:
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered > _HIGH_WATER:
            self._conn.pause()
        self._wake()

    def _fail(self, error: BaseException) -> None:
        if not self._done:
            self._error = error
            self._wake()

    async def _wait(self) -> None:
        self._waiter = self._conn.loop.create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    async def _wait_headers(self) -> None:
        while not self._headers_ready:
            if self._error is not None:
                raise self._error
            await self._wait()

    async def read(self) -> bytes:
        """The whole body."""
        while not self._done:
            if self._error is not None:
                raise self._error
            await self._wait()
        return b"".join(self._chunks)

    async def chunks(self) -> AsyncIterator[bytes]:
        """Body chunks as they arrive."""
        chunks = self._chunks
        while True:
            if chunks:
                data = chunks.popleft()
                self._buffered -= len(data)
                if self._buffered < _LOW_WATER:
                    self._conn.resume()
                yield data
            elif self._done:
                return
            elif self._error is not None:
                raise self._error
            else:
                await self._wait()

    def release(self) -> None:
        """Return the connection to the pool, or close it when the answer was not complete."""
        self._conn.finish(self._done and self.keep_alive and self._error is None)


class _Connection(asyncio.Protocol):
    """One keep-alive connection and its response parser."""

    def __init__(self, pool: Upstream, loop: asyncio.AbstractEventLoop) -> None:
        self.pool = pool
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.response: UpstreamResponse | None = None
        self.closed = False
        self.paused = False
        self.received = False
        self.until_close = True
        self.last_activity = 0.0
        self._timer: asyncio.TimerHandle | None = None

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # a stream socket

    def data_received(self, data: bytes) -> None:
        self.received = True
        self.last_activity = self.loop.time()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._error(UpstreamError(f"the upstream sent an invalid HTTP response: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._cancel_timer()
        response = self.response
        if response is None or response._done:
            return
        if response._headers_ready and self.until_close and exc is None:
            # A body without length or chunking ends when the connection does (HTTP/1.0 style).
            response.keep_alive = False
            response._done = True
            response._wake()
            return
        response._fail(UpstreamError("the upstream closed the connection mid-answer"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        if self.response is not None:
            lower = name.lower()
            if lower == b"content-length" or lower == b"transfer-encoding":
                self.until_close = False
            if lower not in DROPPED and not lower.startswith(_DROPPED_PREFIXES):
                self.response.headers.append((lower, value))

    def on_headers_complete(self) -> None:
        response = self.response
        if response is not None:
            response.status = status = self.parser.get_status_code()
            if status < 200 or status in (204, 304):
                self.until_close = False
            response._headers_ready = True
            response._wake()

    def on_body(self, body: bytes) -> None:
        if self.response is not None:
            self.response._feed(body)

    def on_message_complete(self) -> None:
        self._cancel_timer()
        response = self.response
        if response is not None:
            response.keep_alive = self.parser.should_keep_alive()
            response._done = True
            response._wake()

    # used by the pool and the response
    def _error(self, error: BaseException) -> None:
        if self.response is not None:
            self.response._fail(error)
        self.close()

    def start(self, data: bytes, read_timeout_s: float) -> UpstreamResponse:
        response = self.response = UpstreamResponse(self)
        self.received = False
        self.until_close = True  # until a length or chunked encoding says otherwise
        self.last_activity = self.loop.time()
        self._timer = self.loop.call_later(read_timeout_s, self._check_timeout, read_timeout_s)
        if self.transport is None or self.closed:
            response._fail(UpstreamError("the upstream connection is closed"))
        else:
            self.transport.write(data)
        return response

    def _check_timeout(self, limit: float) -> None:
        idle = self.loop.time() - self.last_activity
        if idle >= limit and not self.paused:  # a paused read waits for our client, not upstream
            self._timer = None
            self._error(UpstreamTimeout("the upstream server did not answer in time"))
            return
        self._timer = self.loop.call_later(max(limit - idle, 0.001), self._check_timeout, limit)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def pause(self) -> None:
        if not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()

    def resume(self) -> None:
        if self.paused and self.transport is not None:
            self.paused = False
            self.last_activity = self.loop.time()
            self.transport.resume_reading()

    def finish(self, reusable: bool) -> None:
        self._cancel_timer()
        self.response = None
        if reusable and not self.closed:
            self.parser = httptools.HttpResponseParser(self)
            self.pool._put_back(self)
        else:
            self.close()

    def close(self) -> None:
        self._cancel_timer()
        if not self.closed:
            self.closed = True
            if self.transport is not None:
                self.transport.close()


class Upstream:
    """Sends requests to ``base_url`` with the gateway's credential over pooled connections."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 600.0,
        pool_size: int = 512,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(f"upstream URL {base_url!r} must be http(s)://host[:port]")
        self.base_url = base_url.rstrip("/")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.prefix = parts.path.rstrip("/")
        self._ssl = ssl.create_default_context() if parts.scheme == "https" else None
        host_header = parts.netloc.rsplit("@", 1)[-1]
        self._auth: dict[Provider, bytes] = {"openai": b"", "anthropic": b""}
        if api_key:
            self._auth["openai"] = f"Authorization: Bearer {api_key}\r\n".encode("latin-1")
            self._auth["anthropic"] = f"x-api-key: {api_key}\r\n".encode("latin-1")
        self._host_line = f"Host: {host_header}\r\n".encode("latin-1")
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self.pool_size = pool_size
        self._idle: list[_Connection] = []

    async def start(self) -> None:
        """Nothing to open ahead of time; connections are made on demand and kept."""

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _put_back(self, conn: _Connection) -> None:
        if len(self._idle) < self.pool_size:
            self._idle.append(conn)
        else:
            conn.close()

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        conn = _Connection(self, loop)
        try:
            async with asyncio.timeout(self.connect_timeout_s):
                await loop.create_connection(
                    lambda: conn,
                    self.host,
                    self.port,
                    ssl=self._ssl,
                    server_hostname=self.host if self._ssl else None,
                )
        except TimeoutError as exc:
            raise UpstreamTimeout("connecting to the upstream server timed out") from exc
        except OSError as exc:
            raise UpstreamError(f"the upstream server is unreachable: {exc}") from exc
        return conn

    async def send(
        self,
        method: str,
        path: str,
        provider: Provider,
        client_headers: Iterable[tuple[bytes, bytes]],
        body: bytes | None,
        request_id: str,
    ) -> UpstreamResponse:
        """Send one request and wait for the answer's headers; the caller must
        :meth:`UpstreamResponse.release` it."""
        lines = [
            f"{method} {self.prefix}{path} HTTP/1.1\r\n".encode("latin-1"),
            self._host_line,
            self._auth[provider],
        ]
        for name, value in client_headers:
            if name in FORWARDED:
                lines.append(name + b": " + value + b"\r\n")
        payload = body or b""
        lines.append(b"x-request-id: " + request_id.encode() + b"\r\n")
        lines.append(b"content-length: " + str(len(payload)).encode() + b"\r\n\r\n")
        lines.append(payload)
        data = b"".join(lines)
        while self._idle:
            conn = self._idle.pop()
            if conn.closed:
                continue
            response = conn.start(data, self.read_timeout_s)
            try:
                await response._wait_headers()
            except UpstreamTimeout:
                conn.close()
                raise
            except UpstreamError:
                conn.close()
                if conn.received:
                    raise
                continue  # the server closed an idle connection just now: use a fresh one
            except BaseException:
                conn.close()
                raise
            return response
        conn = await self._connect()
        response = conn.start(data, self.read_timeout_s)
        try:
            await response._wait_headers()
        except BaseException:
            conn.close()
            raise
        return response
