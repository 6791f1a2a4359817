"""Fast constructors for the limiter's frozen records, used on the admission hot path.

A frozen dataclass sets each field in ``__init__`` through ``object.__setattr__``, which
costs about half a microsecond per record; a decision carries a dozen
:class:`~distillguard.ratelimit.base.LimitState` records plus a lease, so the storages set the
slots directly instead. The results are ordinary, equal, immutable instances of the same
classes (``state(d, 1, 2.0) == LimitState(d, 1, 2.0)``).
"""

from __future__ import annotations

from typing import Any

from distillguard.ratelimit.base import Decision, Demand, Lease, LimitState

_new = object.__new__


def _setters(cls: type, *fields: str) -> tuple[Any, ...]:
    slots: dict[str, Any] = dict(vars(cls))
    return tuple(slots[name].__set__ for name in fields)


_STATE = _setters(LimitState, "demand", "remaining", "reset_s", "retry_after_s")
_LEASE = _setters(Lease, "id", "demands")
_DECISION = _setters(Decision, "allowed", "states", "blocking", "lease", "degraded")


def state(
    demand: Demand, remaining: int, reset_s: float, retry_after_s: float | None = None
) -> LimitState:
    """``LimitState(demand, remaining, reset_s, retry_after_s)``, about twice as fast."""
    built: LimitState = _new(LimitState)
    set_demand, set_remaining, set_reset, set_retry = _STATE
    set_demand(built, demand)
    set_remaining(built, remaining)
    set_reset(built, reset_s)
    set_retry(built, retry_after_s)
    return built


def admitted(
    lease_id: str, demands: tuple[Demand, ...], states: tuple[LimitState, ...]
) -> Decision:
    """``Decision(True, states, None, Lease(lease_id, demands))``, about twice as fast."""
    lease: Lease = _new(Lease)
    set_id, set_demands = _LEASE
    set_id(lease, lease_id)
    set_demands(lease, demands)
    decision: Decision = _new(Decision)
    set_allowed, set_states, set_blocking, set_lease, set_degraded = _DECISION
    set_allowed(decision, True)
    set_states(decision, states)
    set_blocking(decision, None)
    set_lease(decision, lease)
    set_degraded(decision, False)
    return decision
