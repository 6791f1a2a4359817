"""The limiter's own Redis client: pipelining, replies in order, failures and reconnection."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from distillguard.errors import ConfigurationError
from distillguard.ratelimit.storage.resp import ReplyError, RespClient, pack_command

from ..proxy import TcpProxy

pytestmark = pytest.mark.redis
PING = pack_command(("PING",))


def echo(value: str) -> bytes:
    return pack_command(("ECHO", value))


@pytest.fixture
async def proxy(redis_url: str) -> AsyncIterator[TcpProxy]:
    target = urlsplit(redis_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 6379)
    await proxy.start()
    yield proxy
    await proxy.stop()


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[RespClient]:
    client = RespClient.from_url(redis_url, timeout_s=5.0)
    yield client
    await client.aclose()


async def test_concurrent_calls_get_their_own_replies(client: RespClient) -> None:
    replies = await asyncio.gather(*(client.execute(echo(f"v{i}")) for i in range(500)))
    assert replies == [f"v{i}".encode() for i in range(500)]


async def test_a_cancelled_call_does_not_shift_the_replies(client: RespClient) -> None:
    await client.execute(PING)  # connected: the three calls below are written at once
    first = asyncio.ensure_future(client.execute(echo("a")))
    second = asyncio.ensure_future(client.execute(echo("b")))
    third = asyncio.ensure_future(client.execute(echo("c")))
    await asyncio.sleep(0)
    second.cancel()
    assert await first == b"a"
    assert await third == b"c"
    assert second.cancelled()
    assert await client.execute(echo("d")) == b"d"


async def test_an_error_reply_raises_and_keeps_the_connection(client: RespClient) -> None:
    with pytest.raises(ReplyError, match="NOSCRIPT"):
        await client.execute(pack_command(("EVALSHA", "0" * 40, 0)))
    assert client.connected
    assert await client.execute(PING) == b"PONG"


async def test_reconnects_after_the_connection_drops(redis_url: str, proxy: TcpProxy) -> None:
    client = RespClient.from_url(
        f"redis://127.0.0.1:{proxy.port}{urlsplit(redis_url).path}", timeout_s=2.0
    )
    try:
        assert await client.execute(PING) == b"PONG"
        await proxy.stop()  # as when Redis restarts: every connection is cut
        with pytest.raises(ConnectionError):
            await client.execute(PING)
        assert not client.connected
        await proxy.start()
        assert await client.execute(PING) == b"PONG"
        assert client.connected
    finally:
        await client.aclose()


async def test_a_silent_server_times_out_and_is_left(redis_url: str, proxy: TcpProxy) -> None:
    client = RespClient.from_url(
        f"redis://127.0.0.1:{proxy.port}{urlsplit(redis_url).path}", timeout_s=0.2
    )
    try:
        assert await client.execute(PING) == b"PONG"
        await proxy.stop()
        proxy.hang = True
        await proxy.start()
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(TimeoutError):
            await client.execute(PING)  # connects, then SELECT gets no answer
        assert 0.15 <= loop.time() - started < 1.0
        await proxy.stop()
        proxy.hang = False
        await proxy.start()
        assert await client.execute(PING) == b"PONG"
    finally:
        await client.aclose()


async def test_calls_behind_a_late_reply_fail_with_it(redis_url: str) -> None:
    client = RespClient.from_url(redis_url, timeout_s=0.2)
    try:
        await client.execute(PING)
        # BLPOP holds this connection's later commands for 0.5 s (and nobody else's)
        blocked = asyncio.ensure_future(
            client.execute(pack_command(("BLPOP", "dgtest:resp:never", "0.5")))
        )
        behind = asyncio.ensure_future(client.execute(PING))
        results = await asyncio.gather(blocked, behind, return_exceptions=True)
        assert all(isinstance(result, TimeoutError) for result in results), results
        assert await client.execute(PING) == b"PONG"
    finally:
        await client.aclose()


async def test_a_protocol_error_fails_the_waiting_calls() -> None:
    answered = asyncio.Event()

    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.write(b"?not RESP\r\n")
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
        answered.set()

    server = await asyncio.start_server(garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = RespClient.from_url(f"redis://127.0.0.1:{port}", timeout_s=2.0)
    try:
        with pytest.raises(ConnectionError, match="protocol error"):
            await client.execute(PING)
        assert not client.connected
    finally:
        await client.aclose()
        await answered.wait()
        server.close()
        await server.wait_closed()


async def test_the_database_in_the_url_is_selected(redis_url: str) -> None:
    base = redis_url.rsplit("/", 1)[0]
    other = RespClient.from_url(f"{base}/3")
    default = RespClient.from_url(f"{base}/0")
    try:
        info = (await other.execute(pack_command(("CLIENT", "INFO")))).decode()
        assert " db=3 " in info
        info = (await default.execute(pack_command(("CLIENT", "INFO")))).decode()
        assert " db=0 " in info
    finally:
        await other.aclose()
        await default.aclose()


async def test_a_refused_handshake_is_a_reply_error(redis_url: str) -> None:
    parts = urlsplit(redis_url)
    client = RespClient.from_url(f"redis://:wrong@{parts.netloc}{parts.path}")
    try:
        with pytest.raises(ReplyError):  # no password configured, or not this one
            await client.execute(PING)
    finally:
        await client.aclose()


async def test_commands_queued_when_closing_still_reach_the_server(redis_url: str) -> None:
    client = RespClient.from_url(redis_url)
    checker = RespClient.from_url(redis_url)
    keys = [f"dgtest:resp:{uuid.uuid4().hex}" for _ in range(2)]
    try:
        await client.execute(PING)
        calls = [  # the first is written at once, the second queued behind it
            asyncio.ensure_future(client.execute(pack_command(("SET", key, "1", "PX", 60_000))))
            for key in keys
        ]
        await asyncio.sleep(0)
        await client.aclose()
        for call in calls:
            with contextlib.suppress(ConnectionError):  # the reply may not be read
                await call
        assert await checker.execute(pack_command(("EXISTS", *keys))) == 2
    finally:
        await checker.execute(pack_command(("DEL", *keys)))
        await checker.aclose()


async def test_a_closed_client_refuses_calls(client: RespClient) -> None:
    await client.execute(PING)
    await client.aclose()
    with pytest.raises(ConnectionError):
        await client.execute(PING)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:6379", "redis://127.0.0.1:notaport", "redis://h/x", "redis://h/0?ssl=1"],
)
def test_bad_urls_are_configuration_errors(url: str) -> None:
    with pytest.raises(ConfigurationError, match="Redis URL"):
        RespClient.from_url(url)
