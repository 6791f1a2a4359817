from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from distillguard.controlplane.principal import Principal, TierLimits
from distillguard.gateway.admission import Admission
from distillguard.gateway.errors import BadParam, Throttled, Unavailable
from distillguard.gateway.exchange import Exchange
from distillguard.gateway.metrics import GatewayMetrics
from distillguard.gateway.routes import ROUTES
from distillguard.ratelimit.base import Decision, Demand, Lease, LimitState
from distillguard.ratelimit.plan import demands_for

TIER = TierLimits(1, "t", {"key": {"otpm": 100, "rpm": 10}, "account": {"otpm": 400}})
PRINCIPAL = Principal("key_1", "acc_1", None, TIER)
CHAT = ROUTES["/v1/chat/completions"]


class Recorder:
    """A limiter that records demands and answers as told."""

    def __init__(self, allowed: bool = True, degraded: bool = False) -> None:
        self.allowed, self.degraded = allowed, degraded
        self.demands: list[Demand] = []

    async def acquire(self, demands: Sequence[Demand]) -> Decision:
        self.demands = list(demands)
        states = tuple(LimitState(d, d.rule.limit - d.cost, 1.0) for d in demands)
        if self.allowed:
            return Decision(True, states, lease=Lease("l1", tuple(demands)))
        blocking = LimitState(demands[0], 0, 6.0, 6.0)
        return Decision(False, states, blocking, degraded=self.degraded)

    async def settle(self, lease: Lease, actual: Mapping[str, int]) -> None: ...
    async def check(self) -> None: ...
    async def aclose(self) -> None: ...


def exchange() -> Exchange:
    return Exchange("req_1", 0.0, CHAT.endpoint, CHAT.path, "192.0.2.1", None, None, None)


def admission(limiter: Any) -> Admission:
    return Admission(limiter, demands_for, GatewayMetrics(), default_max_tokens=4096)


def test_default_reservation_is_a_share_of_the_tightest_limit() -> None:
    gate = admission(Recorder())
    assert gate.default_reservation(PRINCIPAL) == 25
    unlimited = Principal("k", "a", None, TierLimits(0, "free"))
    assert gate.default_reservation(unlimited) == 4096


async def test_costs_follow_the_request() -> None:
    limiter = Recorder()
    ex = exchange()
    body = b'{"model": "m", "n": 2, "max_tokens": 30, "messages": [{"role": "user", "content": "abcdefgh"}]}'
    await admission(limiter).admit(ex, CHAT, body, "openai", PRINCIPAL)
    otpm = {d.key: d.cost for d in limiter.demands if d.rule.name == "otpm"}
    assert set(otpm.values()) == {60}  # max_tokens x n
    assert ex.lease is not None and ex.decision == "allow" and ex.reserved_output == 60
    assert ex.limit_headers["x-ratelimit-limit-requests"] == "10"


async def test_refusals() -> None:
    body = b'{"model": "m", "messages": []}'
    with pytest.raises(Throttled):
        await admission(Recorder(allowed=False)).admit(exchange(), CHAT, body, "openai", PRINCIPAL)
    with pytest.raises(Unavailable):
        await admission(Recorder(allowed=False, degraded=True)).admit(
            exchange(), CHAT, body, "openai", PRINCIPAL
        )
    with pytest.raises(BadParam, match="empty"):
        await admission(Recorder()).admit(exchange(), CHAT, b"", "openai", PRINCIPAL)


async def test_counting_tokens_costs_no_tokens() -> None:
    limiter = Recorder()
    ex = exchange()
    body = b'{"model": "m", "messages": [{"role": "user", "content": "a long question"}]}'
    await admission(limiter).admit(
        ex, ROUTES["/v1/messages/count_tokens"], body, "anthropic", PRINCIPAL
    )
    assert {d.rule.name: d.cost for d in limiter.demands}["otpm"] == 0
    assert ex.reserved_input == 0 and ex.reserved_output == 0
    ex.upstream_ok = True
    assert ex.actual_usage() == {"itpm": 0, "otpm": 0, "daily_tokens": 0}


async def test_a_shared_parse_admits_exactly_as_parsing_the_body() -> None:
    # The enforcement middleware hands over orjson.loads(body) so admission skips its own
    # parse: the payload, the reservations and the demands must be the same either way.
    import orjson

    bodies = [
        b'{"model": "m", "n": 2, "max_tokens": 30, "messages": [{"role": "user", "content": "abcdefgh"}]}',
        b'{"model": "m", "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": [{"type": "text", "text": "t"}]}], "logprobs": true, "top_logprobs": 3}',
        b'{"model": "m", "messages": [], "seed": 123456789012345678901234567890}',
    ]
    for body in bodies:
        plain, shared = Recorder(), Recorder()
        ex_plain, ex_shared = exchange(), exchange()
        await admission(plain).admit(ex_plain, CHAT, body, "openai", PRINCIPAL)
        decoded = orjson.loads(body)
        await admission(shared).admit(ex_shared, CHAT, body, "openai", PRINCIPAL, decoded)
        assert ex_shared.payload == ex_plain.payload
        assert ex_shared.reserved_input == ex_plain.reserved_input
        assert ex_shared.reserved_output == ex_plain.reserved_output
        assert shared.demands == plain.demands
