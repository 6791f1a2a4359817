from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from distillguard.cli import serve as serve_module
from distillguard.config import Settings


def test_options_become_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    seen: dict[str, Any] = {}

    def fake_build(settings: Settings) -> str:
        seen["settings"] = settings
        return "app"

    def fake_run(app: Any, **kwargs: Any) -> None:
        seen["run"] = (app, kwargs)

    monkeypatch.setattr("distillguard.gateway.assembly.build_gateway", fake_build)
    monkeypatch.setattr("distillguard.gateway.server.run_uvicorn", fake_run)
    result = CliRunner().invoke(
        serve_module.serve,
        [
            "--upstream",
            "http://127.0.0.1:9000",
            "--limiter",
            "redis://127.0.0.1:6379/0",
            "--limiter-failure",
            "closed",
            "--trusted-proxy",
            "10.0.0.0/8",
            "--trusted-proxy",
            "192.168.0.0/16",
            "--log-content",
            "truncated:100",
            "--max-in-flight",
            "50",
            "--port",
            "8099",
        ],
        env={},
    )
    assert result.exit_code == 0, result.output
    settings = seen["settings"]
    assert settings.limiter_url == "redis://127.0.0.1:6379/0"
    assert settings.limiter_failure == "closed"
    assert [str(n) for n in settings.trusted_proxies] == ["10.0.0.0/8", "192.168.0.0/16"]
    assert str(settings.log_content) == "truncated:100"
    assert settings.max_in_flight == 50
    assert seen["run"][1]["port"] == 8099


def test_bad_option_is_a_configuration_error() -> None:
    result = CliRunner().invoke(serve_module.serve, ["--upstream", "ftp://x"], env={})
    assert result.exit_code != 0
    assert "must start with http" in str(result.exception)
