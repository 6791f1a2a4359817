"""The Redis limiter: one shared set of counters for many gateway processes.

Every :meth:`RedisLimiter.acquire` is one round trip: a Lua script (``acquire.lua``, shipped
beside this module, loaded once and called with ``EVALSHA``, reloaded on ``NOSCRIPT``) checks
every demand and charges all of them or none, atomically, because Redis runs a script
alone. The script reads the time from the server (``TIME``), so processes whose clocks
disagree still share one timeline. Every key carries a TTL: a rate bucket expires when it
would be full again, a daily counter an hour after its UTC midnight, a concurrency set and a
lease record after the lease lifetime. Concurrency slots are a sorted set of lease ids scored
by their expiry; the script purges expired ones before counting, so a crashed process never
holds a slot longer than one lease lifetime. :meth:`RedisLimiter.settle` is one round trip
too (``settle.lua``).

Redis is the one resource every gateway process shares, so the scripts do as little as
possible there: the demands travel as one string of binary doubles (``struct`` in the
script: parsing numbers is what costs most in Redis' Lua), and the script returns each
counter's value; remaining units, resets and retry-after are computed here with the same
arithmetic as the memory storage (the test suite checks both agree step by step). Rate
buckets are stored in the same binary form (level and time, two doubles).

Every call goes through one pipelined connection (:mod:`.resp`), so a process's calls reach
Redis in the order they were made, and concurrent requests share it without waiting for each
other's replies.

A single Redis primary is assumed: the script touches keys of many subjects at once, which a
Redis Cluster would refuse across hash slots.

Connection failures, timeouts and error replies become
:class:`~distillguard.errors.StorageError`. If a caller is cancelled while an acquire is in
flight, or its reply is lost, the script may have run: the limiter then settles that lease in
the background (once Redis answers again) so that its slots do not stay held for a whole
lifetime.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import secrets
import struct
from collections import deque
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from distillguard.errors import ConfigurationError, InputError, StorageError
from distillguard.ratelimit import gcra
from distillguard.ratelimit.base import Decision, Demand, Lease, LimitKind, LimitState
from distillguard.ratelimit.concurrency import DEFAULT_LEASE_TTL_S
from distillguard.ratelimit.daily import until_midnight_us
from distillguard.ratelimit.records import admitted, state
from distillguard.ratelimit.storage.memory import _check_actual, _later
from distillguard.ratelimit.storage.resp import ReplyError, RespClient, pack_command

_KIND_CODE = {LimitKind.RATE: 1, LimitKind.DAILY: 2, LimitKind.CONCURRENCY: 3}
_US = gcra.US
_RATE = LimitKind.RATE
_MAX_ORPHANS = 10_000


def _doubles(numbers: list[int]) -> bytes:
    """The numbers as little-endian doubles (``struct.unpack('<d…')`` in the scripts)."""
    return struct.pack(f"<{len(numbers)}d", *numbers)


class _Script:
    """A Lua script from this package, run by SHA with a reload on ``NOSCRIPT``."""

    def __init__(self, name: str) -> None:
        self.source = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
        self.sha = hashlib.sha1(self.source.encode()).hexdigest()

    async def run(self, client: RespClient, numkeys: int, *args: str | bytes) -> Any:
        try:
            return await client.execute(pack_command(("EVALSHA", self.sha, numkeys, *args)))
        except ReplyError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
        self.sha = (await client.execute(pack_command(("SCRIPT", "LOAD", self.source)))).decode()
        return await client.execute(pack_command(("EVALSHA", self.sha, numkeys, *args)))


class RedisLimiter:
    """A :class:`~distillguard.ratelimit.base.Limiter` on a Redis server.

    ``key_prefix`` prefixes the lease records (demand keys are used as given);
    ``lease_ttl_s`` is the longest a request may hold slots without settling.

    Example::

        limiter = RedisLimiter.from_url("redis://127.0.0.1:6379/0")
        decision = await limiter.acquire(demands)
    """

    def __init__(
        self,
        client: RespClient,
        *,
        key_prefix: str = "dg:rl:",
        lease_ttl_s: float = DEFAULT_LEASE_TTL_S,
        concurrency_retry_s: float = 1.0,
    ) -> None:
        if not lease_ttl_s > 0:
            raise ConfigurationError(f"lease_ttl_s must be > 0, got {lease_ttl_s}")
        self._client = client
        self._lease_prefix = f"{key_prefix}lease:"
        self._lease_us = str(gcra.period_us(lease_ttl_s))
        self._hint_s = concurrency_retry_s
        self._acquire = _Script("acquire.lua")
        self._settle = _Script("settle.lua")
        self._ping = pack_command(("PING",))
        self._id_prefix = f"r{secrets.token_hex(6)}."
        self._ids = itertools.count(1)
        self._background: set[asyncio.Task[None]] = set()
        self._orphans: deque[Lease] = deque(maxlen=_MAX_ORPHANS)
        self._draining = False

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        key_prefix: str = "dg:rl:",
        lease_ttl_s: float = DEFAULT_LEASE_TTL_S,
        concurrency_retry_s: float = 1.0,
        timeout_s: float = 0.5,
        **unknown: Any,
    ) -> RedisLimiter:
        """Connect lazily to ``redis://[[user]:password@]host[:port][/db]`` (or ``rediss://``).

        Every call is bounded by ``timeout_s`` (0.5 s) and nothing is retried: a failure is
        reported at once so that :mod:`distillguard.ratelimit.failover` can decide. One
        pipelined connection carries every call (see :mod:`.resp`); it is opened again on the
        first call after it was lost.
        """
        if unknown:
            raise ConfigurationError(
                f"unknown Redis limiter option(s) for {url!r}: {', '.join(sorted(unknown))}"
                " (known: key_prefix, lease_ttl_s, concurrency_retry_s, timeout_s)"
            )
        return cls(
            RespClient.from_url(url, timeout_s=timeout_s),
            key_prefix=key_prefix,
            lease_ttl_s=lease_ttl_s,
            concurrency_retry_s=concurrency_retry_s,
        )

    async def acquire(self, demands: Sequence[Demand]) -> Decision:
        """Admit all ``demands`` or none, atomically across every process sharing Redis."""
        lease_id = f"{self._id_prefix}{next(self._ids)}"
        keys = [self._lease_prefix + lease_id]
        spec: list[int] = []
        for demand in demands:
            rule = demand.rule
            period = round(rule.period_s * _US)
            if (
                rule.limit < 0
                or period <= 0
                or (rule.kind is _RATE and rule.limit * period >= gcra.EXACT)
            ):
                gcra.validate(rule.name, rule.limit, rule.period_s)
            if demand.cost < 0:
                raise InputError(f"demand {demand.key!r}: cost must be >= 0, got {demand.cost}")
            keys.append(demand.key)
            spec += (_KIND_CODE[rule.kind], rule.limit, period, demand.cost)
        held = demands if type(demands) is tuple else tuple(demands)
        try:
            reply = await self._acquire.run(
                self._client, len(keys), *keys, lease_id, self._lease_us, _doubles(spec)
            )
        except asyncio.CancelledError:
            self._release_in_background(Lease(lease_id, held))
            raise
        except (OSError, ReplyError) as exc:  # TimeoutError and ConnectionError are OSErrors
            self._release_in_background(Lease(lease_id, held))
            raise StorageError(f"Redis limiter acquire failed: {exc!r}") from exc
        if self._orphans:
            self._release_orphans()
        return self._decision(reply, lease_id, held, spec)

    def _decision(
        self, reply: list[int], lease_id: str, demands: tuple[Demand, ...], spec: list[int]
    ) -> Decision:
        """Remaining, reset and retry-after from the counters the script returned.

        The arithmetic is the memory storage's (``gcra``, ``daily``, ``concurrency``).
        """
        allowed = reply[0] == 1
        midnight = until_midnight_us(reply[1]) / _US
        states = []
        blocking: LimitState | None = None
        fields = iter(spec)  # zip takes kind, limit, period and cost in turn from it
        for demand, kind, limit, period, cost, value in zip(
            demands, fields, fields, fields, fields, reply[2:], strict=True
        ):
            if kind == 1:
                left = (limit * period - value) // period
                reset = value / (limit * _US) if limit else 0.0
            else:
                left = limit - value
                reset = (midnight if value else 0.0) if kind == 2 else 0.0
            if left < 0:
                left = 0
            if allowed:
                states.append(state(demand, left, reset))
                continue
            retry: float | None
            if kind == 1:
                excess = value + cost * period - limit * period
                blocked = excess > 0
                retry = None if cost > limit or not limit else -(-excess // limit) / _US
            else:
                blocked = value + cost > limit
                retry = None if cost > limit else midnight if kind == 2 else self._hint_s
            if not blocked:
                states.append(state(demand, left, reset))
                continue
            blocked_state = state(demand, left, reset, retry)
            states.append(blocked_state)
            if blocking is None or _later(retry, blocking.retry_after_s):
                blocking = blocked_state
        if allowed:
            return admitted(lease_id, demands, tuple(states))
        return Decision(False, tuple(states), blocking)

    async def settle(self, lease: Lease, actual: Mapping[str, int]) -> None:
        """Release the lease's slots and correct its reservations; a second call does nothing."""
        _check_actual(actual)
        keys = [self._lease_prefix + lease.id]
        spec: list[int] = []
        for index, demand in enumerate(lease.demands, 1):
            rule = demand.rule
            if rule.kind is LimitKind.CONCURRENCY:
                delta = 0
            else:
                real = actual.get(rule.name)
                if real is None or real == demand.cost:
                    continue
                delta = real - demand.cost
            keys.append(demand.key)
            spec += (
                _KIND_CODE[rule.kind],
                index,
                rule.limit,
                round(rule.period_s * _US),
                demand.cost,
                delta,
            )
        try:
            await self._settle.run(self._client, len(keys), *keys, lease.id, _doubles(spec))
        except (OSError, ReplyError) as exc:
            raise StorageError(f"Redis limiter settle failed: {exc!r}") from exc

    def _release_in_background(self, lease: Lease) -> None:
        """Settle a lease whose acquire may or may not have run (its reply was lost).

        At once while connected (the settle goes out after the acquire on the same
        connection, so it finds the lease if the script ran); else after the next call that
        reaches Redis. Meanwhile, or if more than ``_MAX_ORPHANS`` wait, its records expire
        on their own after the lease lifetime.
        """
        self._orphans.append(lease)
        if self._client.connected:
            self._release_orphans()

    def _release_orphans(self) -> None:
        if self._draining:
            return
        try:
            task = asyncio.get_running_loop().create_task(self._drain_orphans())
        except RuntimeError:
            return
        self._draining = True
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _drain_orphans(self) -> None:
        orphans = self._orphans
        try:
            while orphans:
                lease = orphans.popleft()
                try:
                    await self.settle(lease, {})
                except StorageError:
                    orphans.appendleft(lease)
                    return
        finally:
            self._draining = False

    async def check(self) -> None:
        """Ping the server; raise :class:`StorageError` when it does not answer."""
        try:
            await self._client.execute(self._ping)
        except (OSError, ReplyError) as exc:
            raise StorageError(f"Redis limiter storage is not reachable: {exc}") from exc
        if self._orphans:
            self._release_orphans()

    async def aclose(self) -> None:
        """Wait for background releases (while connected), then close the connection."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self._client.aclose()
