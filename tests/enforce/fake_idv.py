"""A fake identity-verification provider: a real aiohttp server on loopback.

It implements the provider's side of the webhook contract independently of distillguard's code:
it checks the signature of ``POST /v1/verifications`` with its own HMAC, and on
``POST /test/complete`` it sends the signed result callback to the session's ``callback_url``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import aiohttp
from aiohttp import web


def provider_sign(secret: bytes, timestamp: int, body: bytes) -> str:
    return (
        "v1=" + hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    )


class FakeProvider:
    def __init__(self, secret: bytes) -> None:
        self.secret = secret
        self.sessions: dict[str, dict[str, Any]] = {}
        self.rejected_starts = 0
        self.last_callback: tuple[dict[str, str], bytes] | None = None
        self.app = web.Application()
        self.app.router.add_post("/v1/verifications", self.start)
        self.app.router.add_post("/test/complete", self.complete)
        self.runner = web.AppRunner(self.app)
        self.url = ""

    async def __aenter__(self) -> FakeProvider:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.cleanup()

    async def start(self, request: web.Request) -> web.Response:
        body = await request.read()
        timestamp = int(request.headers.get("X-DG-Timestamp", "0"))
        expected = provider_sign(self.secret, timestamp, body)
        if not hmac.compare_digest(expected, request.headers.get("X-DG-Signature", "")):
            self.rejected_starts += 1
            return web.json_response({"error": "bad signature"}, status=401)
        payload = json.loads(body)
        session_id = f"sess_{uuid.uuid4().hex[:8]}"
        self.sessions[session_id] = payload
        return web.json_response(
            {"session_id": session_id, "url": f"{self.url}/flow/{session_id}"}, status=201
        )

    async def complete(self, request: web.Request) -> web.Response:
        """Test hook: the user finished the flow; send the signed callback."""
        order = await request.json()
        session = self.sessions[order["session_id"]]
        result = {
            "event_id": order.get("event_id", f"evt_{uuid.uuid4().hex[:8]}"),
            "reference": session["reference"],
            "session_id": order["session_id"],
            "status": order.get("status", "verified"),
            "level": session["level"],
            "document_hash": hashlib.sha256(b"salt" + order["document"].encode()).hexdigest(),
            "verified_at": "2026-11-22T12:00:00Z",
        }
        body = json.dumps(result).encode()
        timestamp = int(order.get("timestamp", time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-DG-Timestamp": str(timestamp),
            "X-DG-Signature": provider_sign(
                order.get("secret", self.secret.decode()).encode(), timestamp, body
            ),
        }
        self.last_callback = (headers, body)
        async with (
            aiohttp.ClientSession() as client,
            client.post(session["callback_url"], data=body, headers=headers) as answer,
        ):
            return web.json_response({"status": answer.status, "body": await answer.json()})
