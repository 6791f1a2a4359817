"""What the limiter does when its shared storage (Redis) is unreachable.

Two modes, chosen by the operator:

``closed`` (fail-closed)
    Refuse every request while the storage is down: ``Decision(allowed=False,
    degraded=True)``. Nothing gets through unmetered, at the price of an outage for everyone;
    suited to a deployment where abuse costs more than downtime.
``open`` (fail-open)
    Decide with a local :class:`~distillguard.ratelimit.storage.memory.MemoryLimiter` that
    applies the very same rules (they travel in the demands), marked ``degraded=True``. Each
    gateway process then enforces the limits on its own, so a subject spread over N processes
    may get up to N times its limits until Redis returns; service continues.

A failed call opens a circuit for ``retry_interval_s``: meanwhile requests go straight to the
degraded path instead of waiting on timeouts, then one request at a time probes Redis again
(the others stay degraded until the probe succeeds). Settles that
cannot reach Redis are queued (bounded) and replayed on recovery, so slots held in Redis are
released instead of waiting for their leases to expire. Every failure is logged with
structured fields and counted in ``dg_limiter_storage_errors_total{mode}``; admission latency
goes to ``dg_limiter_seconds{storage}``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import deque
from collections.abc import Mapping, Sequence
from enum import StrEnum

from distillguard.errors import ConfigurationError, StorageError
from distillguard.ratelimit import metrics
from distillguard.ratelimit.base import Decision, Demand, Lease, Limiter, LimitState
from distillguard.ratelimit.storage.memory import MemoryLimiter

logger = logging.getLogger(__name__)


class FailoverMode(StrEnum):
    """What to decide while the storage is down."""

    OPEN = "open"
    CLOSED = "closed"


class FailoverLimiter:
    """A :class:`~distillguard.ratelimit.base.Limiter` that survives its storage failing.

    Example::

        limiter = FailoverLimiter(RedisLimiter.from_url(url), mode="open")
    """

    def __init__(
        self,
        primary: Limiter,
        *,
        mode: str = FailoverMode.OPEN,
        fallback: MemoryLimiter | None = None,
        retry_interval_s: float = 1.0,
        closed_retry_s: float = 1.0,
        storage: str = "redis",
        max_pending_settles: int = 10_000,
    ) -> None:
        try:
            self.mode = FailoverMode(mode)
        except ValueError:
            raise ConfigurationError(
                f"unknown limiter failover mode {mode!r}: use 'open' or 'closed'"
            ) from None
        if not retry_interval_s >= 0:
            raise ConfigurationError(f"retry_interval_s must be >= 0, got {retry_interval_s}")
        self._primary = primary
        self._fallback = fallback if fallback is not None else MemoryLimiter()
        self._retry_interval_s = retry_interval_s
        self._closed_retry_s = closed_retry_s
        self._down_until: float | None = None
        self._probing = False
        self._pending: deque[tuple[Lease, Mapping[str, int]]] = deque(maxlen=max_pending_settles)
        self._replay: asyncio.Task[None] | None = None
        self._latency = metrics.LATENCY.labels(storage=storage)
        self._errors = metrics.STORAGE_ERRORS.labels(mode=self.mode.value)
        self._degraded = metrics.DEGRADED_DECISIONS.labels(mode=self.mode.value)

    @property
    def degraded(self) -> bool:
        """Whether the storage is currently considered down."""
        return self._down_until is not None

    async def acquire(self, demands: Sequence[Demand]) -> Decision:
        """Admit through the storage, or decide degraded while it is down."""
        start = time.perf_counter()
        if self._down_until is None:
            try:
                decision = await self._primary.acquire(demands)
            except StorageError as exc:
                self._failed("acquire", exc)
                decision = await self._decide_degraded(demands)
        elif not self._probing and time.monotonic() >= self._down_until:
            decision = await self._probe(demands)
        else:
            decision = await self._decide_degraded(demands)
        self._latency.observe(time.perf_counter() - start)
        return decision

    async def _probe(self, demands: Sequence[Demand]) -> Decision:
        """Try the storage again with one request while the others stay degraded."""
        self._probing = True
        try:
            decision = await self._primary.acquire(demands)
        except StorageError as exc:
            self._failed("acquire", exc)
            return await self._decide_degraded(demands)
        finally:
            self._probing = False
        self._recovered()
        return decision

    async def _decide_degraded(self, demands: Sequence[Demand]) -> Decision:
        self._degraded.inc()
        if self.mode is FailoverMode.OPEN:
            decision = await self._fallback.acquire(demands)
            return dataclasses.replace(decision, degraded=True)
        retry = self._closed_retry_s
        blocking = LimitState(demands[0], 0, retry, retry) if demands else None
        return Decision(False, (), blocking, degraded=True)

    async def settle(self, lease: Lease, actual: Mapping[str, int]) -> None:
        """Settle where the lease was issued; never raises for a storage failure."""
        if self._fallback.holds(lease.id):
            await self._fallback.settle(lease, actual)
            return
        down_until = self._down_until
        if down_until is not None and time.monotonic() < down_until:
            self._pending.append((lease, dict(actual)))
            return
        try:
            await self._primary.settle(lease, actual)
        except StorageError as exc:
            self._failed("settle", exc)
            self._pending.append((lease, dict(actual)))

    async def check(self) -> None:
        """Raise :class:`StorageError` while the storage does not answer."""
        try:
            await self._primary.check()
        except StorageError as exc:
            self._failed("check", exc)
            raise
        if self._down_until is not None:
            self._recovered()

    async def aclose(self) -> None:
        """Finish replaying settles, then close both limiters."""
        if self._replay is not None:
            await asyncio.gather(self._replay, return_exceptions=True)
        await self._primary.aclose()
        await self._fallback.aclose()

    def _failed(self, operation: str, exc: StorageError) -> None:
        self._errors.inc()
        self._down_until = time.monotonic() + self._retry_interval_s
        logger.warning(
            "rate-limit storage failed during %s (failover %s): %s",
            operation,
            self.mode.value,
            exc,
            extra={
                "event": "limiter_storage_error",
                "operation": operation,
                "failover": self.mode.value,
                "error": str(exc),
            },
        )

    def _recovered(self) -> None:
        self._down_until = None
        logger.info(
            "rate-limit storage recovered; %d settles to replay",
            len(self._pending),
            extra={"event": "limiter_storage_recovered", "pending_settles": len(self._pending)},
        )
        if self._pending and (self._replay is None or self._replay.done()):
            self._replay = asyncio.get_running_loop().create_task(self._replay_settles())

    async def _replay_settles(self) -> None:
        while self._pending:
            lease, actual = self._pending.popleft()
            try:
                await self._primary.settle(lease, actual)
            except StorageError as exc:
                self._pending.appendleft((lease, actual))
                self._failed("settle", exc)
                return
