"""The Redis limiter's own client: one pipelined connection for its few commands.

The limiter only ever sends ``EVALSHA``, ``SCRIPT LOAD`` and ``PING``, on every request, so
it speaks RESP2 itself instead of going through redis-py, whose asyncio client spends tens of
microseconds of CPU per command in Python (connection pool, locks, response callbacks). Here
a command is packed by hiredis (C) and written to the connection without waiting for earlier
replies (pipelining); ``hiredis.Reader`` parses the replies, and each resolves the oldest
waiting call, since Redis answers a connection's commands in order.
A single connection also keeps a process's commands in the order they were issued: a
settle sent after an acquire runs after it.

Failures: a lost connection fails every waiting call with :class:`ConnectionError`, and the
next call connects again; a call whose reply has not come within ``timeout_s`` fails with
:class:`TimeoutError` and drops the connection, and with it every call queued behind (the
server stopped answering); an error reply raises :class:`ReplyError`. Connecting (with
``AUTH`` and ``SELECT`` from the URL) is bounded by ``timeout_s`` as well. Every failure but
:class:`ReplyError` is an :class:`OSError`; the limiter turns them into
:class:`~distillguard.errors.StorageError`.

Example::

    client = RespClient.from_url("redis://127.0.0.1:6379/0")
    assert await client.execute(pack_command(("PING",))) == b"PONG"
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import hiredis

from distillguard.errors import ConfigurationError

Arg = str | bytes | int | float
# (arg, ...) -> the command's RESP bytes, in C (hiredis' stub types a 1-tuple: cast)
pack_command = cast(Callable[[tuple[Arg, ...]], bytes], hiredis.pack_command)


class ReplyError(Exception):
    """An error reply from the server, e.g. ``NOSCRIPT No matching script``."""


class _Connection(asyncio.Protocol):
    """One connection: calls wait in FIFO order for their replies."""

    def __init__(self, timeout_s: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._timeout_s = timeout_s
        self._reader = hiredis.Reader(replyError=ReplyError)
        self._waiting: deque[tuple[asyncio.Future[Any], float]] = deque()
        self._watchdog: asyncio.TimerHandle | None = None
        self._transport: asyncio.Transport | None = None
        self._outgoing: list[bytes] = []
        self.lost: asyncio.Future[None] = self._loop.create_future()
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    @property
    def usable(self) -> bool:
        """Open, and not closing (its end may be known before ``connection_lost`` runs)."""
        transport = self._transport
        return not self.closed and transport is not None and not transport.is_closing()

    def send(self, command: bytes) -> asyncio.Future[Any]:
        """Queue ``command`` for writing, in order; the future gets its reply.

        On an idle connection the command is written at once. While replies are awaited
        (many requests in flight), commands are gathered and written together at the end of
        the event loop's turn: one system call, and one read for Redis, for many commands.
        """
        if not self.usable:
            raise ConnectionError("the connection to Redis is closed")
        transport = cast(asyncio.Transport, self._transport)
        loop = self._loop
        future = loop.create_future()
        waiting = self._waiting
        if self._outgoing:
            self._outgoing.append(command)
        elif waiting:
            self._outgoing = [command]
            loop.call_soon(self._flush)
        else:
            transport.write(command)
        waiting.append((future, loop.time() + self._timeout_s))
        if self._watchdog is None:
            self._watchdog = loop.call_later(self._timeout_s, self._check_deadline)
        return future

    def _flush(self) -> None:
        outgoing, self._outgoing = self._outgoing, []
        if outgoing and self.usable:  # else connection_lost fails their calls
            cast(asyncio.Transport, self._transport).write(b"".join(outgoing))

    def data_received(self, data: bytes) -> None:
        reader = self._reader
        reader.feed(data)
        waiting = self._waiting
        try:
            while (reply := reader.gets()) is not False:
                future = waiting.popleft()[0]
                if future.done():  # its caller was cancelled: the reply is not wanted
                    continue
                if type(reply) is ReplyError:
                    future.set_exception(reply)
                else:
                    future.set_result(reply)
        except hiredis.ProtocolError as exc:
            self.abort(ConnectionError, f"Redis protocol error: {exc}")
        except IndexError:
            self.abort(ConnectionError, "Redis sent a reply that no command asked for")

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        reason = (
            f"the connection to Redis was lost: {exc!r}" if exc else "Redis closed the connection"
        )
        self._fail_waiting(ConnectionError, reason)
        if not self.lost.done():
            self.lost.set_result(None)

    def abort(self, error: type[OSError], message: str) -> None:
        """Close at once and fail every waiting call with ``error(message)``."""
        self.closed = True
        if self._transport is not None:
            self._transport.abort()
        self._fail_waiting(error, message)

    def close(self) -> None:
        """Close once what is queued is sent; waiting calls fail when the connection ends."""
        self._flush()
        self.closed = True
        if self._transport is not None:
            self._transport.close()

    def _check_deadline(self) -> None:
        self._watchdog = None
        if not self._waiting:
            return
        late = self._waiting[0][1] - self._loop.time()
        if late <= 0:
            self.abort(TimeoutError, f"Redis did not answer within {self._timeout_s} s")
        else:
            self._watchdog = self._loop.call_later(late, self._check_deadline)

    def _fail_waiting(self, error: type[OSError], message: str) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        self._outgoing = []
        waiting = self._waiting
        while waiting:
            future = waiting.popleft()[0]
            if not future.done():
                future.set_exception(error(message))


class RespClient:
    """A pipelined asyncio Redis client over one connection, opened on first use.

    ``timeout_s`` bounds connecting and every reply; ``handshake`` commands (``AUTH``,
    ``SELECT``) run on every new connection before anything else.
    """

    def __init__(
        self,
        host: str,
        port: int = 6379,
        *,
        handshake: tuple[bytes, ...] = (),
        ssl_context: ssl.SSLContext | None = None,
        timeout_s: float = 0.5,
    ) -> None:
        if not timeout_s > 0:
            raise ConfigurationError(f"timeout_s must be > 0, got {timeout_s}")
        self._address = (host, port)
        self._handshake = handshake
        self._ssl = ssl_context
        self._timeout_s = timeout_s
        self._connection: _Connection | None = None
        self._connecting: asyncio.Task[_Connection] | None = None
        self._closed = False

    @classmethod
    def from_url(cls, url: str, *, timeout_s: float = 0.5) -> RespClient:
        """A client for ``redis://[[user]:password@]host[:port][/db]`` (``rediss://``: TLS).

        TLS verifies the server against the system's certificate authorities
        (``SSL_CERT_FILE`` names another bundle).
        """
        try:
            parts = urlsplit(url)
            port = parts.port or 6379
            db = int(parts.path.strip("/") or 0)
        except ValueError as exc:
            raise ConfigurationError(f"invalid Redis URL {url!r}: {exc}") from exc
        if parts.scheme not in ("redis", "rediss"):
            raise ConfigurationError(f"invalid Redis URL {url!r}: use redis:// or rediss://")
        if parts.query or parts.fragment:
            raise ConfigurationError(
                f"invalid Redis URL {url!r}: options in the URL are not supported"
            )
        handshake = []
        if parts.password is not None:
            user = unquote(parts.username or "")
            secret = unquote(parts.password)
            credentials = (user, secret) if user else (secret,)
            handshake.append(pack_command(("AUTH", *credentials)))
        if db:
            handshake.append(pack_command(("SELECT", db)))
        return cls(
            parts.hostname or "127.0.0.1",
            port,
            handshake=tuple(handshake),
            ssl_context=ssl.create_default_context() if parts.scheme == "rediss" else None,
            timeout_s=timeout_s,
        )

    @property
    def connected(self) -> bool:
        """Whether a connection is open (a call would not need to connect first)."""
        connection = self._connection
        return connection is not None and connection.usable

    async def execute(self, command: bytes) -> Any:
        """Send one packed command (:func:`pack_command`) and return its reply."""
        connection = self._connection
        if connection is None or not connection.usable:
            connection = await self._connect()
        return await connection.send(command)

    async def _connect(self) -> _Connection:
        if self._closed:
            raise ConnectionError("the Redis client is closed")
        task = self._connecting
        if task is None:
            task = self._connecting = asyncio.get_running_loop().create_task(self._open())
            task.add_done_callback(self._opened)
        # shielded: a caller that gives up does not cancel the others' connection attempt
        return await asyncio.shield(task)

    async def _open(self) -> _Connection:
        loop = asyncio.get_running_loop()
        host, port = self._address
        timeout_s = self._timeout_s
        async with asyncio.timeout(timeout_s):
            _, connection = await loop.create_connection(
                lambda: _Connection(timeout_s), host, port, ssl=self._ssl
            )
        try:
            for command in self._handshake:
                await connection.send(command)
        except BaseException:
            connection.abort(ConnectionError, "the Redis handshake failed")
            raise
        return connection

    def _opened(self, task: asyncio.Task[_Connection]) -> None:
        self._connecting = None
        if not task.cancelled() and task.exception() is None:
            self._connection = task.result()

    async def aclose(self) -> None:
        """Close the connection (calls still waiting fail); a later call raises."""
        self._closed = True
        if self._connecting is not None:  # let it end (within timeout_s), then close it
            await asyncio.wait([self._connecting])
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
            try:
                async with asyncio.timeout(self._timeout_s):
                    await connection.lost
            except TimeoutError:
                connection.abort(ConnectionError, "the Redis client is closed")
