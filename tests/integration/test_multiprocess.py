"""Several gateway processes sharing one Redis: exact admission and no leaked concurrency slots."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import orjson
import pytest

from distillguard.controlplane.store import ControlPlaneStore
from distillguard.controlplane.tiers import TierSpec
from distillguard.gateway.server import BackgroundServer
from distillguard.mockllm import MockLLM

pytestmark = [pytest.mark.integration, pytest.mark.redis]

PROCESSES = 3
RPM = 40
CONCURRENT = 4


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gateway exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("gateway did not start")


def _store(tmp_path: Path) -> tuple[str, dict[str, str]]:
    url = f"sqlite:///{tmp_path / 'cp.db'}"
    store = ControlPlaneStore.open(url)
    store.tiers.put(TierSpec(77, "mp-rate", {"key": {"rpm": RPM}}))
    store.tiers.put(TierSpec(78, "mp-slots", {"key": {"concurrent": CONCURRENT}}))
    keys = {}
    for name, tier in (("rate", 77), ("slots", 78)):
        account = store.create_account(tier=tier)
        keys[name] = store.create_key(account.account_id).secret
    store.close()
    return url, keys


@pytest.fixture
def cluster(redis_url: str, tmp_path: Path) -> Iterator[tuple[list[str], dict[str, str]]]:
    db_url, keys = _store(tmp_path)
    with BackgroundServer(MockLLM(chunk_delay_ms=50)) as mock:
        procs, urls = [], []
        for number in range(PROCESSES):
            port = _free_port()
            args = [sys.executable, "-m", "distillguard", "serve", "--upstream", mock.url]
            args += ["--db", db_url, "--limiter", redis_url, "--port", str(port)]
            args += ["--log-dir", str(tmp_path / f"logs{number}"), "--upstream-timeout", "0.5"]
            args += ["--log-level", "warning"]
            proc = subprocess.Popen(args, stderr=subprocess.DEVNULL, start_new_session=True)
            procs.append((port, proc))
            urls.append(f"http://127.0.0.1:{port}")
        try:
            for port, proc in procs:
                _wait(port, proc)
            yield urls, keys
        finally:
            for _, proc in procs:
                os.killpg(proc.pid, signal.SIGTERM)
            for _, proc in procs:
                proc.wait(30)


async def _post(session: aiohttp.ClientSession, url: str, key: str, body: dict[str, object]) -> int:
    headers = {"Authorization": f"Bearer {key}"}
    async with session.post(
        url + "/v1/chat/completions", data=orjson.dumps(body), headers=headers
    ) as r:
        await r.read()
        return r.status


async def test_no_over_admission_and_no_leaked_slots(
    cluster: tuple[list[str], dict[str, str]],
) -> None:
    urls, keys = cluster
    body = {"model": "mock-1", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(connector=connector) as session:
        # 1. 150 concurrent requests spread over the processes against rpm=40: exactly the
        #    burst is admitted (plus what replenishes while the test runs: 1 per 1.5 s).
        started = time.monotonic()
        statuses = await asyncio.gather(
            *(_post(session, urls[i % PROCESSES], keys["rate"], body) for i in range(150))
        )
        elapsed = time.monotonic() - started
        admitted = statuses.count(200)
        assert set(statuses) <= {200, 429}
        assert RPM <= admitted <= RPM + int(elapsed * RPM / 60) + 1

        # 2. Streams abandoned by their clients and upstream timeouts, on every process.
        stream = {**body, "stream": True, "max_tokens": 50}
        hang = {**body, "model": "mock-1@hang"}

        async def abandon(url: str) -> None:
            headers = {"Authorization": f"Bearer {keys['slots']}"}
            async with session.post(
                url + "/v1/chat/completions", data=orjson.dumps(stream), headers=headers
            ) as r:
                assert r.status == 200
                await r.content.readany()
                r.close()

        for _ in range(3):
            await asyncio.gather(*(abandon(url) for url in urls[:CONCURRENT]))
        timeouts = await asyncio.gather(
            *(_post(session, url, keys["slots"], hang) for url in urls[:CONCURRENT])
        )
        assert timeouts == [504] * min(CONCURRENT, PROCESSES)

        # 3. Every slot came back: CONCURRENT slow requests at once are all admitted.
        slow = {**body, "model": "mock-1@latency=300"}
        for _ in range(40):
            statuses = await asyncio.gather(
                *(
                    _post(session, urls[i % PROCESSES], keys["slots"], slow)
                    for i in range(CONCURRENT)
                )
            )
            if statuses == [200] * CONCURRENT:
                break
            await asyncio.sleep(0.1)
        assert statuses == [200] * CONCURRENT
        # ... and one more than that is refused: the limit still holds across processes.
        statuses = await asyncio.gather(
            *(
                _post(session, urls[i % PROCESSES], keys["slots"], slow)
                for i in range(CONCURRENT + 1)
            )
        )
        assert statuses.count(200) == CONCURRENT and statuses.count(429) == 1
