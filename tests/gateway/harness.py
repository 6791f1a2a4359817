"""Real servers on loopback for gateway tests: the mock upstream and a gateway, each under
uvicorn in a background thread, with an in-memory key table standing in for the control plane."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distillguard.config import Settings, load_settings
from distillguard.controlplane.principal import Principal, TierLimits
from distillguard.errors import AuthError, PermissionDenied
from distillguard.gateway.app import Gateway
from distillguard.gateway.assembly import build_gateway
from distillguard.gateway.server import BackgroundServer
from distillguard.mockllm import MockLLM
from distillguard.ratelimit.storage.memory import MemoryLimiter

TIER = TierLimits(
    tier=1,
    name="test",
    limits={
        "key": {"rpm": 1000, "itpm": 1_000_000, "otpm": 1_000_000, "concurrent": 50},
        "account": {"rpm": 1000},
    },
)
GOOD = "dg-key_good-secret"
DENIED = "dg-key_revoked-secret"


class KeyTable:
    """An Authenticator over a dict: secret -> Principal, or -> refusal message (403)."""

    def __init__(self, keys: Mapping[str, Principal | str]) -> None:
        self.keys = dict(keys)

    def authenticate(self, secret: str) -> Principal:
        entry = self.keys.get(secret)
        if entry is None:
            raise AuthError("invalid API key", should_retry=False)
        if isinstance(entry, str):
            raise PermissionDenied(entry, should_retry=False)
        return entry

    def __len__(self) -> int:
        return len(self.keys)


def principal(key_id: str = "key_good", tier: TierLimits = TIER) -> Principal:
    return Principal(key_id=key_id, account_id="acc_1", org_id="org_1", tier=tier)


def default_keys(tier: TierLimits = TIER) -> KeyTable:
    return KeyTable({GOOD: principal(tier=tier), DENIED: "API key key_revoked has been revoked"})


ServerThread = BackgroundServer


@dataclass
class RunningGateway:
    url: str
    app: Gateway
    settings: Settings
    limiter: Any

    def records(self) -> list[dict[str, Any]]:
        """Every request-log record written so far (flushes the writer and closes the segment)."""
        from distillguard.logs.writer import RequestLogWriter

        writer = self.app.request_log
        assert isinstance(writer, RequestLogWriter)
        # A client can read the whole response before the server has queued its record.
        deadline = time.monotonic() + 10
        while self.app.in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
        writer.flush()
        while (
            writer.written + writer.dropped["write_error"] + writer.dropped["bad_record"]
            < writer.submitted
            and time.monotonic() < deadline
        ):
            time.sleep(0.01)
        writer.segments.rotate()
        import gzip

        import orjson

        rows = []
        for path in sorted(Path(self.settings.log_dir).glob("requests-*.jsonl*")):
            opener = gzip.open if path.name.endswith(".gz") else open
            with opener(path, "rb") as handle:
                rows.extend(orjson.loads(line) for line in handle if line.strip())
        return rows


@contextmanager
def running_gateway(
    upstream_url: str,
    log_dir: Path,
    *,
    keys: KeyTable | None = None,
    limiter: Any = None,
    **options: Any,
) -> Iterator[RunningGateway]:
    """A gateway in front of ``upstream_url``, logging to ``log_dir`` as plain JSON Lines."""
    base = {"upstream_url": upstream_url, "log_dir": str(log_dir), "log_format": "jsonl"}
    base.update(options)
    settings = load_settings(base, env={})
    limiter = limiter or MemoryLimiter()
    app = build_gateway(settings, authenticator=keys or default_keys(), limiter=limiter)
    with ServerThread(app) as server:
        yield RunningGateway(server.url, app, settings, limiter)


@contextmanager
def running_mock(**options: Any) -> Iterator[ServerThread]:
    with ServerThread(MockLLM(**options)) as server:
        yield server
