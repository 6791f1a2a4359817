"""Admission: from an authenticated request to a limiter decision, all limits at once.

The body is checked and read once (:func:`~distillguard.gateway.payload.parse_payload`); the
input tokens are estimated from its text before the call, the output tokens reserved from
``max_tokens`` (times ``n``), and every demand of every scope is acquired in one all-or-nothing
step. A refusal becomes the route's provider-format 429 with its retry advice; a limiter storage
that is down in fail-closed mode becomes a 503. The lease is kept on the exchange; the gateway
settles it with the real usage when the request ends, whatever happened.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any, Protocol

import orjson

from distillguard.controlplane.principal import Principal, TierLimits
from distillguard.gateway.errors import BadParam, Provider, Unavailable
from distillguard.gateway.exchange import Exchange
from distillguard.gateway.limitheaders import limit_headers, throttle_error
from distillguard.gateway.metrics import GatewayMetrics
from distillguard.gateway.payload import parse_payload
from distillguard.gateway.routes import Route
from distillguard.ratelimit.base import Demand, Limiter

DEFAULT_SHARE = 4  # a request without max_tokens reserves at most 1/4 of the tightest OTPM


class DemandPlanner(Protocol):
    """Turns a caller and a request's size into limiter demands (``ratelimit.plan.demands_for``)."""

    def __call__(
        self, principal: Principal, client_ip: str, *, input_tokens: int, max_tokens: int
    ) -> Sequence[Demand]: ...


class Admission:
    """Checks the body and admits the request against every limit that applies."""

    def __init__(
        self,
        limiter: Limiter,
        demands_for: DemandPlanner,
        metrics: GatewayMetrics,
        *,
        default_max_tokens: int = 4096,
    ) -> None:
        if default_max_tokens < 0:
            raise ValueError("default_max_tokens must be >= 0")
        self.limiter = limiter
        self.demands_for = demands_for
        self.metrics = metrics
        self.default_max_tokens = default_max_tokens
        self._reservations: dict[int, tuple[TierLimits, int]] = {}

    async def admit(
        self,
        exchange: Exchange,
        route: Route,
        body: bytes,
        provider: Provider,
        principal: Principal,
        decoded: dict[str, Any] | None = None,
    ) -> None:
        """Admit or raise (400 bad body, 429 refused, 503 limiter storage down).

        ``decoded`` is ``orjson.loads(body)`` when the caller already has it (an enforcement
        middleware that parsed the body), so the body is not parsed twice.
        """
        input_tokens = max_tokens = 0
        if body:
            data: Any = decoded
            if data is None:
                try:
                    data = orjson.loads(body)
                except orjson.JSONDecodeError as exc:
                    raise BadParam(f"The request body is not valid JSON: {exc.msg}.") from exc
            payload = parse_payload(data, route)
            exchange.payload = payload
            if route.generates:  # counting tokens or listing models costs no tokens
                input_tokens = payload.estimated_input_tokens()
                wanted = payload.max_tokens
                max_tokens = self.default_reservation(principal) if wanted is None else wanted
                max_tokens *= payload.params.get("n", 1)
        elif route.method == "POST":
            raise BadParam("The request body is empty; send a JSON object.")
        exchange.reserved_input = input_tokens
        exchange.reserved_output = max_tokens
        demands = self.demands_for(
            principal, exchange.client_ip, input_tokens=input_tokens, max_tokens=max_tokens
        )
        clock = time.perf_counter()
        decision = await self.limiter.acquire(demands)
        self.metrics.limiter_latency.observe(time.perf_counter() - clock)
        if decision.degraded:
            self.metrics.limiter_degraded.inc()
            if not decision.allowed:
                exchange.decision = "block"
                wait = decision.blocking.retry_after_s if decision.blocking is not None else None
                raise Unavailable(
                    "Rate limits cannot be checked right now (storage unavailable); "
                    "try again shortly.",
                    headers={"retry-after": str(math.ceil(wait or 1.0))},
                    should_retry=True,
                )
        if not decision.allowed:
            exchange.decision = "throttle"
            model = exchange.payload.model if exchange.payload is not None else ""
            raise throttle_error(decision, provider, model=model)
        exchange.decision = "allow"
        exchange.limit_headers = limit_headers(decision, provider)
        exchange.lease = decision.lease

    def default_reservation(self, principal: Principal) -> int:
        """Output tokens reserved for a request that sets no ``max_tokens``.

        ``default_max_tokens``, but at most a quarter of the tier's tightest output-token
        limit: a request that did not ask for a size must not be refused as larger than the
        whole limit (it is settled to its real size anyway).
        """
        tier = principal.tier
        cached = self._reservations.get(id(tier))
        if cached is not None and cached[0] is tier:
            return cached[1]
        limits = [
            amount
            for rules in tier.limits.values()
            for rule, amount in rules.items()
            if rule == "otpm"
        ]
        amount = self.default_max_tokens
        if limits:
            amount = max(min(amount, min(limits) // DEFAULT_SHARE), 1)
        if len(self._reservations) > 1024:
            self._reservations.clear()
        self._reservations[id(tier)] = (tier, amount)
        return amount
