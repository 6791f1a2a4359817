"""What the gateway would do to one logged request, given the enforcement store at that moment.

:class:`GatewayModel` replays a dg.request.v1 record through the same pieces the real gateway
uses (:meth:`EnforcementStore.decide`, :func:`~distillguard.enforce.throttling.throttled_limits`
with the memory limiter on a simulated clock, :func:`~distillguard.enforce.output.restrict_request`)
and rewrites the record as the defended gateway would have logged it:

- no action, or ``monitor``: served unchanged;
- ``suspend`` / ``challenge``: status 403, decision ``block`` / ``challenge``, nothing served;
- ``throttle``: the caller's tier limits replaced by the throttled ones; over them, status 429;
- ``degrade``: a refused feature (logprobs, ``logit_bias``, ``n`` > 1) gives 403; otherwise the
  response is served with ``max_tokens`` capped and reasoning withheld or cut to a summary, so
  the output tokens the caller receives shrink.

Only the actions drive these outcomes: the per-tier default output controls are the same with
and without detection, so they are left out of the comparison.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from distillguard.controlplane.principal import Principal, TierLimits
from distillguard.controlplane.tiers import default_tiers
from distillguard.enforce.actions import ActionKind
from distillguard.enforce.output import OutputControls, Reasoning, restrict_request
from distillguard.enforce.store.base import EnforcementStore
from distillguard.enforce.throttling import throttled_limits
from distillguard.errors import GatewayError
from distillguard.ratelimit.plan import demands_for
from distillguard.ratelimit.storage.memory import MemoryLimiter
from distillguard.simulate.replay import http_request

SUMMARY_TOKENS = 60  # what a two-sentence reasoning summary costs, roughly


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one request: the logged decision, and what the caller received."""

    decision: str  # allow, throttle, degrade, challenge, block
    status: int
    served: bool
    output_tokens: int  # visible output tokens delivered (withheld reasoning excluded)
    degraded: bool  # served, but under output controls


@dataclass(frozen=True, slots=True)
class Caller:
    """The account facts the gateway knows about a caller."""

    tier: int = 1
    verification: str = "none"
    created: float | None = None  # POSIX time the account was created


class GatewayModel:
    """Decides and rewrites records against an enforcement store at a simulated time."""

    def __init__(self, store: EnforcementStore, tiers: Mapping[int, TierLimits] | None = None):
        self.store = store
        self.tiers = dict(tiers) if tiers is not None else _default_tier_limits()
        self.now = 0.0
        self._limiter = MemoryLimiter(clock=lambda: self.now)
        self._loop = asyncio.new_event_loop()

    def close(self) -> None:
        self._loop.close()

    def handle(self, record: dict[str, Any], now: float, caller: Caller) -> Outcome:
        """Decide ``record`` (a dg.request.v1 dict, rewritten in place) at POSIX time ``now``."""
        self.now = now
        served_before = int(record.get("status") or 0) < 400
        tokens = int(record.get("output_tokens") or 0) if served_before else 0
        decision = self.store.decide(
            account_id=record["account_id"],
            key_id=record.get("api_key_id"),
            org_id=record.get("org_id"),
            ip=record.get("client_ip"),
            verification=caller.verification,
            now=now,
            account_created=caller.created,
        )
        status = int(record.get("status") or 200)
        if decision is None or decision.kind is ActionKind.MONITOR:
            return Outcome("allow", status, served_before, tokens, False)
        if decision.error() is not None:
            return _refuse(record, decision.label, 403)
        throttle = decision.throttle
        if throttle is not None and not self._admit(record, caller, throttle):
            return _refuse(record, "throttle", 429)
        controls = decision.output
        if controls is None or controls.unrestricted:
            label = "throttle" if throttle is not None else "allow"
            record["decision"] = label
            return Outcome(label, status, served_before, tokens, False)
        try:
            restrict_request(record["endpoint"], http_request(record, "")[2], controls)
        except GatewayError as exc:
            return _refuse(record, "degrade", exc.status)
        record["decision"] = "degrade"
        if not served_before:  # the upstream failed it anyway
            return Outcome("degrade", status, False, 0, True)
        return Outcome("degrade", status, True, _degraded_tokens(record, controls), True)

    def _admit(self, record: Mapping[str, Any], caller: Caller, throttle: Any) -> bool:
        current = self.tiers.get(caller.tier) or self.tiers[min(self.tiers)]
        limits = throttled_limits(current, throttle, self.tiers)
        principal = Principal(
            key_id=str(record.get("api_key_id")),
            account_id=str(record["account_id"]),
            org_id=None,  # throttles are per account; the org's own traffic is not modelled
            tier=limits,
        )
        params = record.get("params") or {}
        demands = demands_for(
            principal,
            None,
            int(record.get("input_tokens") or 0),
            int(params.get("max_tokens") or 0),
        )
        verdict = self._loop.run_until_complete(self._limiter.acquire(demands))
        if verdict.allowed and verdict.lease is not None:
            inp = int(record.get("input_tokens") or 0)
            out = int(record.get("output_tokens") or 0)
            actual = {"itpm": inp, "otpm": out, "daily_tokens": inp + out}
            self._loop.run_until_complete(self._limiter.settle(verdict.lease, actual))
        return verdict.allowed


def _refuse(record: dict[str, Any], label: str, status: int) -> Outcome:
    record.update(
        status=status,
        decision=label,
        output_tokens=0,
        reasoning_tokens=None,
        response_text=None,
        latency_ms=1,
    )
    return Outcome(label, status, False, 0, False)


def _degraded_tokens(record: dict[str, Any], controls: OutputControls) -> int:
    """Output tokens delivered under ``controls``; the record's counts are updated to match."""
    params = record.get("params") or {}
    output = int(record.get("output_tokens") or 0)
    reasoning = int(record.get("reasoning_tokens") or 0)
    if controls.max_tokens is not None:
        output = min(output, controls.max_tokens)
    if controls.max_thinking_tokens is not None:
        reasoning = min(reasoning, controls.max_thinking_tokens)
    if params.get("thinking_budget") and controls.max_thinking_tokens == 0:
        reasoning = 0
    reasoning = min(reasoning, output)
    visible = output - reasoning
    if controls.reasoning is Reasoning.SUMMARISED:
        visible += min(reasoning, SUMMARY_TOKENS)
    elif controls.reasoning is Reasoning.FULL:
        visible += reasoning
    record["output_tokens"] = output
    record["reasoning_tokens"] = reasoning or None
    return visible


def _default_tier_limits() -> dict[int, TierLimits]:
    return {spec.tier: spec.to_limits() for spec in default_tiers()}
