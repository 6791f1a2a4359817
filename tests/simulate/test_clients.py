from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from distillguard.simulate import clients
from distillguard.simulate.streams import rng


def test_sdks_share_their_tls_stack_fingerprint() -> None:
    python = {c.ja4 for c in clients.CLIENTS if c.family in ("openai-python", "anthropic-python")}
    assert len(python) == 2  # OpenSSL 3 and 1.1 builds, whatever the SDK
    assert all(c.ja4.startswith("t13d") and c.ja4.count("_") == 2 for c in clients.CLIENTS)


def test_pick_follows_family_weights() -> None:
    chosen = clients.pick(rng(1, "t"), {"openai-python": 0.9, "curl": 0.1}, 2000)
    families = np.array([clients.CLIENTS[i].family for i in chosen])
    assert 0.85 < float(np.mean(families == "openai-python")) < 0.95
    assert set(families) == {"openai-python", "curl"}


def test_user_agents_data_is_read_when_present(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = [
        {
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "weight": 0.7,
        },
        {
            "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) Version/18.0 Safari/604.1",
            "weight": 0.3,
        },
    ]
    path = tmp_path / "user-agents.json"
    path.write_text(json.dumps(data))
    monkeypatch.setenv("DG_USER_AGENTS_JSON", str(path))
    assert clients.user_agents_file() == path
    assert clients._real_browsers() == [(d["userAgent"], d["weight"]) for d in data]
    assert clients._browser_stack(data[0]["userAgent"]) == "firefox"
    monkeypatch.setenv("DG_USER_AGENTS_JSON", str(tmp_path / "missing.json"))
    assert clients._real_browsers() == []
