from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from distillguard.cli import mock_upstream as module
from distillguard.mockllm import MockLLM


def test_options_configure_the_mock(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(module, "run_uvicorn", lambda app, **kw: seen.update(app=app, **kw))
    result = CliRunner().invoke(
        module.mock_upstream, ["--port", "9100", "--latency-ms", "5", "--error-rate", "0.25"]
    )
    assert result.exit_code == 0, result.output
    app = seen["app"]
    assert isinstance(app, MockLLM) and seen["port"] == 9100
    assert app.default.latency_ms == 5.0 and app.error_rate == 0.25


def test_error_rate_out_of_range() -> None:
    result = CliRunner().invoke(module.mock_upstream, ["--error-rate", "2"])
    assert result.exit_code == 2 and "between 0 and 1" in result.output
