"""One OS process of the multi-process Redis test (run by test_redis.py, not by pytest).

Usage: python redis_worker.py REDIS_URL PREFIX PROCESSES TASKS
Prints one JSON object: admitted count of the rate phase, and the hold intervals of the
concurrency phase.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from typing import Any

import redis.asyncio as aioredis

from distillguard.ratelimit.base import Demand, LimitKind, Rule
from distillguard.ratelimit.storage.redis import RedisLimiter

RATE_LIMIT = 100
SLOTS = 5


async def barrier(client: Any, key: str, processes: int) -> None:
    await client.incr(key)
    deadline = time.monotonic() + 30
    while int(await client.get(key)) < processes:
        if time.monotonic() > deadline:
            raise SystemExit("barrier timed out")
        await asyncio.sleep(0.005)


async def main(url: str, prefix: str, processes: int, tasks: int) -> None:
    # generous timeout: this test is about exactness, and the test machine may be busy
    limiter = RedisLimiter.from_url(url, key_prefix=prefix, lease_ttl_s=120.0, timeout_s=10.0)
    rpm = Demand(f"{prefix}s:rpm", "key", Rule("rpm", LimitKind.RATE, RATE_LIMIT, 3600.0), 1)
    slots = Demand(
        f"{prefix}s:concurrent", "key", Rule("concurrent", LimitKind.CONCURRENCY, SLOTS), 1
    )

    client: Any = aioredis.Redis.from_url(url)
    await barrier(client, f"{prefix}barrier:1", processes)
    decisions = await asyncio.gather(*(limiter.acquire([rpm]) for _ in range(tasks)))
    admitted = 0
    for decision in decisions:
        if decision.lease is not None:
            admitted += 1
            await limiter.settle(decision.lease, {})

    await barrier(client, f"{prefix}barrier:2", processes)
    holds: list[tuple[float, float]] = []

    async def request() -> None:
        while True:
            decision = await limiter.acquire([slots])
            if decision.lease is not None:
                break
            await asyncio.sleep(random.uniform(0.001, 0.004))
        start = time.time()
        try:
            await asyncio.sleep(random.uniform(0.001, 0.006))
        finally:
            holds.append((start, time.time()))
            await limiter.settle(decision.lease, {})

    running = [asyncio.create_task(request()) for _ in range(tasks)]
    await asyncio.sleep(0.02)
    cancelled = 0
    for task in running[
        ::3
    ]:  # a third are cancelled wherever they are: waiting, acquiring, holding
        cancelled += task.cancel()
    results = await asyncio.gather(*running, return_exceptions=True)
    errors = [
        repr(r)
        for r in results
        if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)
    ]
    await limiter.aclose()
    await client.aclose()
    print(
        json.dumps({"admitted": admitted, "holds": holds, "cancelled": cancelled, "errors": errors})
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
