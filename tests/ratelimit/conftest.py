from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from distillguard.ratelimit.base import Demand, Limiter, LimitKind, Rule
from distillguard.ratelimit.storage import from_url

Factory = Callable[..., Awaitable[Limiter]]


@pytest.fixture
def prefix() -> str:
    """A key prefix of this test alone, so that tests never see each other's counters."""
    return f"dgtest:{uuid.uuid4().hex[:12]}:"


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def make_limiter(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[Factory]:
    """Build limiters of the parametrized storage; all are closed after the test."""
    made: list[Limiter] = []
    url = request.getfixturevalue("redis_url") if request.param == "redis" else "memory://"

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
    if request.param == "redis":
        await purge(url, prefix)


async def purge(redis_url: str, prefix: str) -> None:
    """Delete every key of this test's prefix (other users of the database are untouched)."""
    client: Any = aioredis.Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
async def purged(redis_url: str, prefix: str) -> AsyncIterator[None]:
    """Remove this test's keys from Redis afterwards."""
    yield
    await purge(redis_url, prefix)


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
