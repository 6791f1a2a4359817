"""The connection pool to the upstream LLM server.

One :class:`aiohttp.ClientSession` with a keep-alive pool serves every request (aiohttp's client
is several times faster than httpx's on this path). The gateway's own upstream credential is
added here and nowhere else; the client's key never leaves the gateway. Driver errors become
:class:`~distillguard.errors.UpstreamError` (502) or
:class:`~distillguard.gateway.errors.UpstreamTimeout` (504) at this boundary.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

import aiohttp

from distillguard.errors import UpstreamError
from distillguard.gateway.errors import Provider, UpstreamTimeout

# Response headers never passed back: hop-by-hop ones, lengths we recompute, the upstream's own
# request ids (the gateway sends its own) and its rate-limit headers (the gateway's replace them).
DROPPED = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"transfer-encoding",
        b"content-length",
        b"content-encoding",
        b"date",
        b"server",
        b"x-request-id",
        b"request-id",
        b"retry-after",
        b"retry-after-ms",
        b"x-should-retry",
    }
)
_DROPPED_PREFIXES = (b"x-ratelimit-", b"anthropic-ratelimit-")
FORWARDED = (b"content-type", b"accept", b"anthropic-version", b"anthropic-beta", b"openai-beta")


class UpstreamResponse:
    """An open upstream response; read it with :meth:`read` or :meth:`chunks`, then release."""

    __slots__ = ("_response", "headers", "status")

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status = response.status
        self.headers: list[tuple[bytes, bytes]] = [
            (name.lower(), value)
            for name, value in response.raw_headers
            if name.lower() not in DROPPED and not name.lower().startswith(_DROPPED_PREFIXES)
        ]

    @property
    def is_event_stream(self) -> bool:
        return self._response.content_type == "text/event-stream"

    async def read(self) -> bytes:
        try:
            return await self._response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise UpstreamTimeout("the upstream server timed out") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(f"the upstream response broke off: {exc}") from exc

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise UpstreamTimeout("the upstream server timed out mid-stream") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(f"the upstream stream broke off: {exc}") from exc

    def release(self) -> None:
        """Return the connection to the pool (or close it when the body was not read)."""
        if not self._response.closed and self._response.content.at_eof():
            self._response.release()
        else:
            self._response.close()


class Upstream:
    """Sends requests to ``base_url`` with the gateway's credential."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 600.0,
        pool_size: int = 512,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._auth: dict[Provider, tuple[str, str] | None] = {
            "openai": ("Authorization", f"Bearer {api_key}") if api_key else None,
            "anthropic": ("x-api-key", api_key) if api_key else None,
        }
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=connect_timeout_s, sock_read=read_timeout_s
        )
        self._pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> aiohttp.ClientSession:
        """Open the connection pool (called at start-up; idempotent)."""
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._pool_size, ttl_dns_cache=300, keepalive_timeout=30
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                auto_decompress=True,
                skip_auto_headers=("User-Agent",),
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(
        self,
        method: str,
        path: str,
        provider: Provider,
        client_headers: Iterable[tuple[bytes, bytes]],
        body: bytes | None,
        request_id: str,
    ) -> UpstreamResponse:
        """Send one request; the caller must :meth:`UpstreamResponse.release` the answer."""
        session = self._session or await self.start()
        headers = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in client_headers
            if name in FORWARDED
        }
        headers["x-request-id"] = request_id
        auth = self._auth[provider]
        if auth is not None:
            headers[auth[0]] = auth[1]
        try:
            response = await session.request(
                method, self.base_url + path, headers=headers, data=body
            )
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise UpstreamTimeout("the upstream server did not answer in time") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(f"the upstream server is unreachable: {exc}") from exc
        return UpstreamResponse(response)
