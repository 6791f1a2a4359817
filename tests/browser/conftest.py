"""Fixtures for the browser tests: a simulated dataset, a live console, a real Chromium.

The tests skip, saying why, when Debian's Chromium (``/usr/bin/chromium``; install it with
``apt-get install -y chromium``) or the ``playwright`` Python package is missing. Playwright
drives the system browser; it never downloads one (``playwright install`` is not used).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from click.testing import CliRunner

from distillguard.cli.main import cli
from distillguard.console.actions import AuditFile
from distillguard.console.app import create_app
from distillguard.console.auth import parse_user_option
from distillguard.console.dataset import Dataset

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
ADMIN = ("ada", "admin-pass")
ANALYST = ("ann", "analyst-pass")


@dataclass(frozen=True)
class LiveConsole:
    url: str
    audit: Path
    dataset: Dataset


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small simulated seed dataset and the detector's findings on it."""
    root = tmp_path_factory.mktemp("simulated")
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "simulate",
            "--preset",
            "seed",
            "--scale",
            "0.0003",
            "--seed",
            "7",
            "--out",
            str(root / "sim"),
        ],
    )
    assert result.exit_code == 0, result.output
    sim = root / "sim"
    result = runner.invoke(
        cli,
        [
            "detect",
            "--requests",
            str(sim / "requests"),
            "--accounts",
            str(sim / "accounts.jsonl"),
            "--out",
            str(root / "det"),
        ],
    )
    assert result.exit_code == 0, result.output
    return sim, root / "det" / "findings.json"


@pytest.fixture(scope="session")
def console(
    simulated: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveConsole]:
    sim, findings = simulated
    dataset = Dataset.load(findings, sim / "requests", sim / "accounts.jsonl")
    audit = tmp_path_factory.mktemp("audit") / "audit.jsonl"
    users = {
        u.name: u
        for u in (
            parse_user_option(f"{ADMIN[0]}:admin:{ADMIN[1]}"),
            parse_user_option(f"{ANALYST[0]}:analyst:{ANALYST[1]}"),
        )
    }
    app = create_app(dataset, users, AuditFile(audit), secret=b"browser-test-secret-0123456789ab")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the console did not start")
        time.sleep(0.05)
    yield LiveConsole(f"http://127.0.0.1:{port}", audit, dataset)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Module scope: Playwright's sync API keeps an event loop running in the main thread while
    # it is open, which would break later tests that call asyncio.run().
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} not found: install Debian's browser with 'apt-get install -y chromium'"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is not installed"
    )
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
