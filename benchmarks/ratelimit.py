"""Benchmark of the rate limiter (distillguard.ratelimit): memory and Redis side by side.

Every request carries a realistic demand list: a tier that limits all six scopes (key,
account, org, ip, ip24 or ip48, with rpm/itpm/otpm/concurrent/daily caps; 14 demands for an
IPv4 client). Limits are high so that every request is admitted: this measures the admission
path. For each storage it reports the latency of ``acquire`` and of ``settle`` (p50/p99,
sequential, one request at a time) and the throughput of acquire+settle with many requests in
flight at once (as a gateway process has), and the cost of building the demands
(``plan.demands_for``).

Targets: memory a few µs per acquire; Redis p50 <= 0.3 ms added per admission. The first
row, the p50 of ``check()`` (a PING for Redis), is the floor of one round trip through the
same client on this machine, for comparison; "CPU per acquire+settle" is this process's CPU
time (unlike the wall-clock latencies, it does not grow when other processes share the
cores). It runs on uvloop, as the gateway does (``--loop asyncio`` for the standard loop).

    .venv/bin/python benchmarks/ratelimit.py [--redis redis://127.0.0.1:6379/15] [--requests 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
import uuid
from collections.abc import Sequence

import redis.asyncio as aioredis

from distillguard.controlplane.principal import Principal, TierLimits
from distillguard.errors import StorageError
from distillguard.ratelimit.base import Demand, Limiter
from distillguard.ratelimit.plan import demands_for
from distillguard.ratelimit.storage import from_url
from distillguard.ratelimit.storage.redis import RedisLimiter

BIG = 10**8  # rate limits must keep limit x period(µs) below 2**53
TIER = TierLimits(
    3,
    "bench",
    {
        "key": {"rpm": BIG, "itpm": BIG, "otpm": BIG, "concurrent": 10**6},
        "account": {"rpm": BIG, "itpm": BIG, "daily_requests": BIG, "daily_tokens": BIG},
        "org": {"rpm": BIG, "concurrent": 10**6},
        "ip": {"rpm": BIG, "daily_requests": BIG},
        "ip24": {"rpm": BIG},
        "ip48": {"rpm": BIG},
    },
)


def workload(count: int, run: str) -> list[tuple[Demand, ...]]:
    """Demand lists of ``count`` requests from 500 keys and 5,000 addresses."""
    rng = random.Random(7)
    principals = [
        Principal(f"key_{run}_{i}", f"acc_{run}_{i // 2}", f"org_{run}_{i // 50}", TIER)
        for i in range(500)
    ]
    addresses = [
        f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}" for _ in range(4_500)
    ] + [f"2001:db8:{rng.randrange(65536):x}::{rng.randrange(65536):x}" for _ in range(500)]
    requests = [
        demands_for(rng.choice(principals), rng.choice(addresses), rng.randrange(50, 4000), 1024)
        for _ in range(count)
    ]
    # every key under this run's namespace, so that the run can delete what it created
    renamed: dict[Demand, Demand] = {}
    return [
        tuple(
            renamed.setdefault(d, Demand(f"bench:{run}:{d.key}", d.scope, d.rule, d.cost))
            for d in demands
        )
        for demands in requests
    ]


def percentile(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def sequential(limiter: Limiter, requests: list[tuple[Demand, ...]]) -> dict[str, float]:
    acquire_s, settle_s = [], []
    clock = time.perf_counter
    cpu_start = time.process_time()
    for demands in requests:
        start = clock()
        decision = await limiter.acquire(demands)
        middle = clock()
        assert decision.lease is not None, "the benchmark limits must admit every request"
        await limiter.settle(decision.lease, {"itpm": 300, "otpm": 200, "daily_tokens": 500})
        settle_s.append(clock() - middle)
        acquire_s.append(middle - start)
    cpu = (time.process_time() - cpu_start) / len(requests)
    return {
        "CPU per acquire+settle": cpu,
        "acquire p50": percentile(acquire_s, 0.50),
        "acquire p99": percentile(acquire_s, 0.99),
        "settle p50": percentile(settle_s, 0.50),
        "settle p99": percentile(settle_s, 0.99),
        "sequential ops/s": len(requests) / (sum(acquire_s) + sum(settle_s)),
    }


async def round_trip(limiter: Limiter, count: int) -> float:
    """p50 of ``check()``: for Redis, one PING through the same client (the floor)."""
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        await limiter.check()
        samples.append(time.perf_counter() - start)
    return percentile(samples, 0.5)


async def concurrent(limiter: Limiter, requests: list[tuple[Demand, ...]], in_flight: int) -> float:
    """Acquire+settle per second with ``in_flight`` requests at once."""
    queue = iter(requests)

    async def worker() -> None:
        for demands in queue:
            decision = await limiter.acquire(demands)
            assert decision.lease is not None
            await limiter.settle(decision.lease, {"itpm": 300, "otpm": 200})

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return len(requests) / (time.perf_counter() - start)


async def measure(name: str, url: str, count: int, in_flight: int) -> dict[str, float]:
    run = uuid.uuid4().hex[:8]
    options = {} if url.startswith("memory") else {"failover": None, "key_prefix": f"bench:{run}:"}
    limiter = from_url(url, **options)
    try:
        await limiter.check()
        warm = workload(min(count, 2_000), run)
        await sequential(limiter, warm)
        figures = {"round trip (check) p50": await round_trip(limiter, 2_000)}
        figures.update(await sequential(limiter, workload(count, run)))
        figures[f"ops/s, {in_flight} in flight"] = await concurrent(
            limiter, workload(count, run + "c"), in_flight
        )
        return figures
    finally:
        if isinstance(limiter, RedisLimiter):
            await delete_keys(url, f"bench:{run}:*")
        await limiter.aclose()


async def delete_keys(url: str, pattern: str) -> None:
    client = aioredis.Redis.from_url(url)
    try:
        batch = [key async for key in client.scan_iter(match=pattern, count=1000)]
        for start in range(0, len(batch), 1000):
            await client.delete(*batch[start : start + 1000])
    finally:
        await client.aclose()


def plan_cost(count: int) -> float:
    principals = [Principal(f"k{i}", f"a{i}", f"o{i}", TIER) for i in range(200)]
    addresses = [f"192.0.2.{i}" for i in range(200)]
    rng = random.Random(1)
    pairs = [(rng.choice(principals), rng.choice(addresses)) for _ in range(count)]
    start = time.perf_counter()
    for principal, address in pairs:
        demands_for(principal, address, 812, 1024)
    return (time.perf_counter() - start) / count


def show(results: dict[str, dict[str, float]], demands: int) -> None:
    names = list(results)
    rows = list(next(iter(results.values())))
    print(f"\nrate limiter, {demands} demands per request (all 6 scopes)\n")
    print(f"{'':<26}" + "".join(f"{n:>14}" for n in names))
    for row in rows:
        cells = []
        for name in names:
            value = results[name][row]
            cells.append(f"{value:>14,.0f}" if "ops/s" in row else f"{value * 1e6:>11.1f} µs")
        print(f"{row:<26}" + "".join(cells))


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--in-flight", type=int, default=32)
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    return parser.parse_args()


async def main(args: argparse.Namespace) -> None:
    sample = workload(1, "sample")[0]
    print(f"plan.demands_for: {plan_cost(50_000) * 1e6:.2f} µs per request")
    results = {"memory": await measure("memory", "memory://", args.requests, args.in_flight)}
    try:
        results["redis"] = await measure("redis", args.redis, args.requests // 4, args.in_flight)
    except StorageError as exc:
        print(f"Redis skipped: {exc}")
    show(results, len(sample))
    print(f"\nevent loop: {args.loop}; machine load average: {os.getloadavg()}")


if __name__ == "__main__":
    options = arguments()
    if options.loop == "uvloop":
        import uvloop

        uvloop.run(main(options))
    else:
        asyncio.run(main(options))
