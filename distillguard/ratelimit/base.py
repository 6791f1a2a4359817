"""The limiter contract shared by every storage and by the gateway.

A request is admitted against a list of :class:`Demand` objects, one per (scope, rule): for
example ``rpm`` on the key, ``itpm`` on the account, ``concurrent`` on the organization,
``rpm`` on the client's IPv4 /24. Admission is all-or-nothing: either every demand fits and
all are charged, or none is charged. The returned :class:`Lease` is settled when the request
ends: reserved token costs are corrected to the real counts and concurrency slots are released.

Example::

    rule = Rule("rpm", LimitKind.RATE, limit=60, period_s=60.0)
    decision = await limiter.acquire([Demand("key:k1", "key", rule, cost=1)])
    if decision.allowed:
        ...
        await limiter.settle(decision.lease, {})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable


class LimitKind(StrEnum):
    """How a rule counts."""

    RATE = "rate"  # replenishing budget over ``period_s`` (token bucket / GCRA)
    CONCURRENCY = "concurrency"  # slots held for the life of a request
    DAILY = "daily"  # fixed UTC-day window cap


@dataclass(frozen=True, slots=True)
class Rule:
    """One limit: its stable name (``rpm``, ``itpm``, ``otpm``, ``concurrent``,
    ``daily_requests``, ``daily_tokens``), kind, amount and period in seconds."""

    name: str
    kind: LimitKind
    limit: int
    period_s: float = 60.0


@dataclass(frozen=True, slots=True)
class Demand:
    """A charge of ``cost`` units of ``rule`` against the counter identified by ``key``.

    ``scope`` names the subject (``key``, ``account``, ``org``, ``ip``, ``ip24``, ``ip48``);
    ``key`` is unique per (scope value, rule), e.g. ``"account:acc_1:rpm"``.
    """

    key: str
    scope: str
    rule: Rule
    cost: int


@dataclass(frozen=True, slots=True)
class LimitState:
    """The state of one demand's counter after the decision.

    ``remaining`` is what is left of the limit; ``reset_s`` the seconds until the counter is
    back to its full limit; ``retry_after_s`` (only on the demand that blocked) the seconds
    until this demand would fit, or ``None`` when waiting cannot help (a cost larger than the
    limit, or a daily cap whose reset is further than the caller cares to wait is still a
    finite number; the gateway decides what to advertise).
    """

    demand: Demand
    remaining: int
    reset_s: float
    retry_after_s: float | None = None


@dataclass(frozen=True, slots=True)
class Lease:
    """What an admitted request holds until it is settled."""

    id: str
    demands: tuple[Demand, ...]


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of :meth:`Limiter.acquire`."""

    allowed: bool
    states: tuple[LimitState, ...]
    blocking: LimitState | None = None
    lease: Lease | None = None
    degraded: bool = field(default=False)  # True when decided by a fallback (storage down)


@runtime_checkable
class Limiter(Protocol):
    """Atomic, all-or-nothing admission across many counters."""

    async def acquire(self, demands: Sequence[Demand]) -> Decision:
        """Admit all demands or none; never over-admits under concurrency."""
        ...

    async def settle(self, lease: Lease, actual: Mapping[str, int]) -> None:
        """End a lease: release its concurrency slots and correct reserved costs.

        ``actual`` maps a demand's rule name (``itpm``, ``otpm``, ``daily_tokens``) to the real
        cost; rules not named keep what was charged. Settling twice is a no-op.
        """
        ...

    async def check(self) -> None:
        """Raise :class:`~distillguard.errors.StorageError` when the storage is not ready."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
