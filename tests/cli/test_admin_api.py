from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from distillguard.cli.main import cli
from distillguard.errors import ConfigurationError


def test_missing_token_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DG_ADMIN_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["admin-api", "--db", f"sqlite:///{tmp_path}/a.db"])
    assert isinstance(result.exception, ConfigurationError)
    assert "DG_ADMIN_TOKEN" in str(result.exception)


def test_short_token_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["admin-api", "--db", f"sqlite:///{tmp_path}/a.db", "--admin-token", "abc"]
    )
    assert isinstance(result.exception, ConfigurationError)


@pytest.mark.integration
def test_serves_the_api(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = "integration-admin-token-0123456789"
    env = {**os.environ, "DG_ADMIN_TOKEN": token}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distillguard",
            "admin-api",
            "--db",
            f"sqlite:///{tmp_path}/a.db",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(f"{url}/tiers", headers={"Authorization": f"Bearer {token}"})
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("admin-api did not start")
                time.sleep(0.1)
        assert response.status_code == 200
        assert len(json.loads(response.text)) >= 5
        assert httpx.get(f"{url}/tiers").status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=10)
