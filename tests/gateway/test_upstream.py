"""The upstream client against small raw TCP servers that behave (or not) on purpose."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from distillguard.errors import ConfigurationError, UpstreamError
from distillguard.gateway.errors import UpstreamTimeout
from distillguard.gateway.upstream import Upstream

OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-request-id: theirs\r\ncontent-length: 2\r\n\r\n{}"
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class RawServer:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        request = head + await reader.readexactly(length)
        self.requests.append(request)
        return request


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[tuple[RawServer, str]]]]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> tuple[RawServer, str]:
        raw = RawServer(handler)
        server = await asyncio.start_server(raw._serve, "127.0.0.1", 0)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return raw, f"http://127.0.0.1:{port}"

    yield start
    for server in servers:
        server.close()


async def test_keep_alive_pool_and_credentials(
    serve: Callable[..., Awaitable[tuple[RawServer, str]]],
) -> None:
    raw: RawServer

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await raw.read_request(reader)
            writer.write(OK)
            await writer.drain()

    raw, url = await serve(handler)
    upstream = Upstream(url + "/base", api_key="gw-secret")
    client_headers = [
        (b"authorization", b"Bearer client-key"),
        (b"content-type", b"application/json"),
    ]
    for _ in range(3):
        response = await upstream.send("POST", "/v1/x", "openai", client_headers, b"{}", "req_9")
        assert response.status == 200 and await response.read() == b"{}"
        assert (b"x-request-id", b"theirs") not in response.headers
        response.release()
    assert raw.connections == 1
    request = raw.requests[0]
    assert request.startswith(b"POST /base/v1/x HTTP/1.1\r\n")
    assert b"Authorization: Bearer gw-secret" in request and b"client-key" not in request
    assert b"x-request-id: req_9" in request
    response = await upstream.send("POST", "/v1/x", "anthropic", [], b"{}", "req_10")
    await response.read()
    response.release()
    assert b"x-api-key: gw-secret" in raw.requests[-1]
    await upstream.aclose()


async def test_idle_connection_closed_by_server_is_replaced(
    serve: Callable[..., Awaitable[tuple[RawServer, str]]],
) -> None:
    raw: RawServer

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await raw.read_request(reader)
        writer.write(OK)
        await writer.drain()  # then close: the pooled connection goes stale

    raw, url = await serve(handler)
    upstream = Upstream(url)
    for _ in range(2):
        response = await upstream.send("POST", "/", "openai", [], b"{}", "r")
        assert await response.read() == b"{}"
        response.release()
        await asyncio.sleep(0.05)
    assert raw.connections == 2


async def test_streamed_chunks_arrive_as_sent(
    serve: Callable[..., Awaitable[tuple[RawServer, str]]],
) -> None:
    raw: RawServer

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await raw.read_request(reader)
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
        )
        for i in range(3):
            data = f"data: {i}\n\n".encode()
            writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            await writer.drain()
            await asyncio.sleep(0.02)
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        await reader.read()

    raw, url = await serve(handler)
    upstream = Upstream(url)
    response = await upstream.send("POST", "/", "openai", [], b"{}", "r")
    assert response.is_event_stream
    chunks = [chunk async for chunk in response.chunks()]
    assert b"".join(chunks) == b"data: 0\n\ndata: 1\n\ndata: 2\n\n" and len(chunks) == 3
    response.release()
    await upstream.aclose()


async def test_garbage_and_silence_and_refusal(
    serve: Callable[..., Awaitable[tuple[RawServer, str]]],
) -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SMTP ready\r\n\r\n")
        await writer.drain()
        await reader.read()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    _, url = await serve(garbage)
    with pytest.raises(UpstreamError, match="invalid HTTP"):
        await Upstream(url).send("POST", "/", "openai", [], b"{}", "r")
    _, url = await serve(silent)
    with pytest.raises(UpstreamTimeout):
        await Upstream(url, read_timeout_s=0.1).send("POST", "/", "openai", [], b"{}", "r")
    with pytest.raises(UpstreamError, match="unreachable") as caught:
        await Upstream("http://127.0.0.1:9").send("POST", "/", "openai", [], b"{}", "r")
    assert caught.value.status == 502


def test_bad_url() -> None:
    with pytest.raises(ConfigurationError):
        Upstream("unix:///tmp/sock")


async def test_body_delimited_by_closing_the_connection(
    serve: Callable[..., Awaitable[tuple[RawServer, str]]],
) -> None:
    raw: RawServer

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await raw.read_request(reader)
        writer.write(b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{"a": 1}')
        await writer.drain()  # and close: that ends the body

    raw, url = await serve(handler)
    upstream = Upstream(url)
    response = await upstream.send("POST", "/", "openai", [], b"{}", "r")
    assert await response.read() == b'{"a": 1}'
    response.release()
    await upstream.aclose()
