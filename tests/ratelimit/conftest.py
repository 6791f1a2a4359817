from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from distillguard.ratelimit.base import Demand, Limiter, LimitKind, Rule
from distillguard.ratelimit.storage import from_url

Factory = Callable[..., Awaitable[Limiter]]


@pytest.fixture
def prefix() -> str:
    """A key prefix of this test alone, so that tests never see each other's counters."""
    return f"dgtest:{uuid.uuid4().hex[:12]}:"


@pytest.fixture(params=["memory", "redis"])
async def make_limiter(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[Factory]:
    """Build limiters of the parametrized storage; all are closed after the test."""
    made: list[Limiter] = []
    if request.param == "redis":
        request.applymarker(pytest.mark.redis)
        url = request.getfixturevalue("redis_url")
    else:
        url = "memory://"

    async def make(**options: Any) -> Limiter:
        if request.param == "redis":
            options.setdefault("failover", None)
            options.setdefault("key_prefix", prefix)
            options.setdefault("timeout_s", 5.0)  # the test machine may be busy
        limiter = from_url(url, **options)
        made.append(limiter)
        return limiter

    yield make
    for limiter in made:
        await limiter.aclose()


def rule(name: str, limit: int, period_s: float = 3600.0) -> Rule:
    """A rule of the kind its name implies (``rpm``-like names are rates)."""
    if name.startswith("daily"):
        return Rule(name, LimitKind.DAILY, limit, 86_400.0)
    if name == "concurrent":
        return Rule(name, LimitKind.CONCURRENCY, limit)
    return Rule(name, LimitKind.RATE, limit, period_s)


def demand(
    prefix: str,
    name: str,
    limit: int,
    cost: int = 1,
    *,
    period_s: float = 3600.0,
    subject: str = "s",
) -> Demand:
    return Demand(f"{prefix}{subject}:{name}", "key", rule(name, limit, period_s), cost)
