from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
import uvicorn
from fake_idv import FakeProvider

from distillguard.enforce.verification import (
    DocumentLedger,
    MemoryDocumentLedger,
    SqliteDocumentLedger,
    VerificationService,
    check_tier_upgrade,
    meets,
    sign,
    signed_headers,
    verify_signed,
)
from distillguard.enforce.webhook import VerificationWebhook
from distillguard.errors import (
    AuthError,
    ConfigurationError,
    Conflict,
    NotFound,
    PermissionDenied,
    UpstreamError,
)

SECRET = b"s3cret-shared-with-provider"


def test_levels_and_tier_upgrades() -> None:
    assert meets("org", "id") and not meets("email", "phone")
    check_tier_upgrade("id", 4, {4: "id", 5: "org"})
    with pytest.raises(PermissionDenied, match="tier 5 requires verification 'org'"):
        check_tier_upgrade("id", 5, {4: "id", 5: "org"})
    with pytest.raises(ConfigurationError):
        meets("dna", "id")


def test_signature_timestamp_and_tampering() -> None:
    body = b'{"a": 1}'
    headers = {"X-DG-Timestamp": "1000", "X-DG-Signature": sign(SECRET, 1000, body)}
    assert verify_signed(SECRET, headers, body, now=1100) == {"a": 1}
    with pytest.raises(AuthError, match="tolerance"):
        verify_signed(SECRET, headers, body, now=2000)
    with pytest.raises(AuthError, match="does not match"):
        verify_signed(SECRET, headers, b'{"a": 2}', now=1100)
    with pytest.raises(AuthError, match="missing"):
        verify_signed(SECRET, {}, body, now=1100)


class Harness:
    def __init__(self, provider: FakeProvider, service: VerificationService, granted: list[Any]):
        self.provider, self.service, self.granted = provider, service, granted

    async def complete(self, session_id: str, document: str, **extra: Any) -> dict[str, Any]:
        order = {"session_id": session_id, "document": document, **extra}
        async with (
            aiohttp.ClientSession() as client,
            client.post(f"{self.provider.url}/test/complete", json=order) as r,
        ):
            result: dict[str, Any] = await r.json()
            return result


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    granted: list[Any] = []
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    async with FakeProvider(SECRET) as provider:
        service = VerificationService(
            provider_url=provider.url,
            secret=SECRET,
            callback_url=f"http://127.0.0.1:{port}/callback",
            on_verified=lambda *args: granted.append(args),
        )
        config = uvicorn.Config(VerificationWebhook(service), log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.01)
        yield Harness(provider, service, granted)
        server.should_exit = True
        await task
    sock.close()


async def test_full_flow_grants_the_level(harness: Harness) -> None:
    session = await harness.service.start("acc_1", "id", return_url="https://app.test/done")
    assert session.url is not None and session.url.startswith(harness.provider.url)
    answer = await harness.complete(session.session_id or "", "P1234567")
    assert answer == {
        "status": 200,
        "body": {"status": "verified", "reference": session.reference, "level": "id"},
    }
    assert harness.granted == [("acc_1", None, "id")]


async def test_replayed_callback_is_refused(harness: Harness) -> None:
    session = await harness.service.start("acc_1", "phone")
    await harness.complete(session.session_id or "", "x", event_id="evt_same")
    assert harness.provider.last_callback is not None
    headers, body = harness.provider.last_callback
    async with httpx.AsyncClient() as client:
        again = await client.post(harness.service.callback_url, content=body, headers=headers)
    assert again.status_code == 409 and "already received" in again.json()["error"]
    assert len(harness.granted) == 1


async def test_bad_signature_and_stale_timestamp_are_401(harness: Harness) -> None:
    session = await harness.service.start("acc_1", "payment")
    forged = await harness.complete(session.session_id or "", "x", secret="wrong-secret-1234567")
    assert forged["status"] == 401
    stale = await harness.complete(session.session_id or "", "x", timestamp=1_000_000)
    assert stale["status"] == 401 and "tolerance" in stale["body"]["error"]
    assert harness.granted == []


async def test_one_document_one_org_per_90_days(harness: Harness) -> None:
    first = await harness.service.start("acc_1", "org", org_id="org_a")
    second = await harness.service.start("acc_2", "org", org_id="org_b")
    assert (await harness.complete(first.session_id or "", "DOC-1"))["body"]["status"] == "verified"
    reused = await harness.complete(second.session_id or "", "DOC-1")
    assert reused["body"]["status"] == "rejected_document_reuse"
    assert harness.granted == [("acc_1", "org_a", "org")]


async def test_rejected_result_grants_nothing(harness: Harness) -> None:
    session = await harness.service.start("acc_1", "id")
    answer = await harness.complete(session.session_id or "", "x", status="rejected")
    assert answer["body"]["status"] == "rejected" and harness.granted == []


async def test_provider_rejects_our_signature_becomes_upstream_error(harness: Harness) -> None:
    harness.service.secret = b"not-the-shared-secret"
    with pytest.raises(UpstreamError, match="identity provider failed"):
        await harness.service.start("acc_1", "id")
    assert harness.provider.rejected_starts == 1


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_ledger_allows_the_same_document_after_90_days(kind: str, tmp_path: Path) -> None:
    ledger: DocumentLedger = (
        MemoryDocumentLedger() if kind == "memory" else SqliteDocumentLedger(str(tmp_path / "l.db"))
    )
    t = datetime(2026, 1, 1, tzinfo=UTC)
    assert ledger.claim("d" * 64, "org_a", t)
    assert ledger.claim("d" * 64, "org_a", t + timedelta(days=1))  # same org again is fine
    assert not ledger.claim("d" * 64, "org_b", t + timedelta(days=89))
    assert ledger.claim("d" * 64, "org_b", t + timedelta(days=91))


async def test_another_process_can_take_the_callback(harness: Harness) -> None:
    session = await harness.service.start("acc_7", "email")
    restarted = VerificationService(
        provider_url=harness.provider.url,
        secret=SECRET,
        callback_url=harness.service.callback_url,
        on_verified=lambda *args: harness.granted.append(("restarted", *args)),
    )
    await harness.complete(session.session_id or "", "x", event_id="evt_1")
    assert harness.provider.last_callback is not None
    _, body = harness.provider.last_callback
    fresh_event = body.replace(b"evt_1", b"evt_2")
    outcome = restarted.handle_callback(signed_headers(SECRET, fresh_event), fresh_event)
    assert outcome.status == "verified" and outcome.account_id == "acc_7"
    assert harness.granted[-1] == ("restarted", "acc_7", None, "email")


def test_forged_or_expired_reference_is_refused() -> None:
    service = VerificationService(
        provider_url="http://127.0.0.1:9",
        secret=SECRET,
        callback_url="http://x",
        on_verified=lambda *args: None,
    )
    good = service._reference("acc_1", None, "id", expires=2_000_000_000)
    forged = good[:-1] + ("0" if good[-1] != "0" else "1")
    old = service._reference("acc_1", None, "id", expires=1_000)

    def callback(reference: str, event: str) -> bytes:
        return json.dumps(
            {"event_id": event, "reference": reference, "status": "rejected", "level": "id"}
        ).encode()

    for reference, error in ((forged, NotFound), (old, Conflict)):
        body = callback(reference, f"evt_{reference[-6:]}")
        with pytest.raises(error):
            service.handle_callback(signed_headers(SECRET, body), body)


def test_sqlite_ledger_is_shared_and_persistent(tmp_path: Path) -> None:
    path = str(tmp_path / "ledger.db")
    t = datetime(2026, 1, 1, tzinfo=UTC)
    assert SqliteDocumentLedger(path).claim("e" * 64, "org_a", t)
    assert not SqliteDocumentLedger(path).claim("e" * 64, "org_b", t + timedelta(days=3))
