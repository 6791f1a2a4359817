"""``distillguard serve`` as a real process: real control plane, admin API, SIGTERM drain."""

from __future__ import annotations

import gzip
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import orjson
import pytest

from distillguard.controlplane.store import ControlPlaneStore
from distillguard.gateway.server import BackgroundServer
from distillguard.mockllm import MockLLM

pytestmark = pytest.mark.integration
ADMIN = "admin-token-0123456789abcdef"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_serve_logs_everything_and_drains_on_sigterm(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'cp.db'}"
    store = ControlPlaneStore.open(db_url)
    account = store.create_account(verification="payment", tier=2)
    key = store.create_key(account.account_id).secret
    store.close()
    port = _free_port()
    log_dir = tmp_path / "logs"
    with BackgroundServer(MockLLM()) as mock:
        args = [sys.executable, "-m", "distillguard", "serve", "--upstream", mock.url]
        args += ["--db", db_url, "--port", str(port), "--log-dir", str(log_dir)]
        args += ["--admin-token", ADMIN, "--log-content", "truncated:5"]
        proc = subprocess.Popen(args, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    assert proc.poll() is None and time.monotonic() < deadline
                    time.sleep(0.05)
            url = f"http://127.0.0.1:{port}"
            body = orjson.dumps(
                {"model": "mock-1", "messages": [{"role": "user", "content": "hello world"}]}
            )
            async with aiohttp.ClientSession() as http:
                statuses = []
                for secret in [key] * 20 + ["dg-key_bogus-bogus"]:
                    headers = {"Authorization": f"Bearer {secret}"}
                    async with http.post(
                        url + "/v1/chat/completions", data=body, headers=headers
                    ) as reply:
                        statuses.append(reply.status)
                assert statuses == [200] * 20 + [401]
                async with http.get(
                    url + "/admin/accounts", headers={"Authorization": f"Bearer {ADMIN}"}
                ) as reply:
                    assert reply.status == 200
                    assert account.account_id in await reply.text()
                async with http.get(url + "/admin/accounts") as reply:
                    assert reply.status == 401
                async with http.get(url + "/metrics") as reply:
                    metrics = await reply.text()
                assert "dg_auth_cache_keys 1.0" in metrics
        finally:
            proc.send_signal(signal.SIGTERM)
            _, stderr = proc.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status tells why
    assert proc.returncode in (0, -signal.SIGTERM), stderr.decode()
    assert b"Application shutdown complete" in stderr
    assert not list(log_dir.glob(".*.tmp"))
    records = []
    for path in sorted(log_dir.glob("requests-*.jsonl.gz")):
        with gzip.open(path, "rb") as handle:
            records.extend(orjson.loads(line) for line in handle)
    assert len(records) == 21  # every request, including the refused one, after the drain
    assert records[0]["account_id"] == account.account_id
    assert records[0]["messages"] == [{"role": "user", "content": "hello"}]
    assert records[-1]["status"] == 401 and records[-1]["account_id"] == "anonymous"
    for line in stderr.decode().splitlines()[1:]:  # the first line is the banner
        assert orjson.loads(line)["level"]  # structured JSON logs
