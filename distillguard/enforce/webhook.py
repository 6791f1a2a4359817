"""The provider callback endpoint as a plain ASGI app.

Mount it where the identity-verification provider can reach it (the admin API, never the
gateway's public port); it passes each signed callback to
:meth:`VerificationService.handle_callback` and answers with the contract's status codes.
"""

from __future__ import annotations

import json
from typing import Any

from distillguard.enforce.verification import VerificationService
from distillguard.errors import Conflict, Error, GatewayError, InputError, NotFound

Scope = dict[str, Any]
Receive = Any
Send = Any


class VerificationWebhook:
    """ASGI app: ``POST`` a signed provider callback; 200 with the outcome, or an error status."""

    def __init__(self, service: VerificationService, *, max_body: int = 65536) -> None:
        self.service = service
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] != "POST":
            await _respond(send, 405, {"error": "use POST"})
            return
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_body:
                await _respond(send, 413, {"error": "callback body too large"})
                return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            outcome = self.service.handle_callback(headers, body)
        except GatewayError as exc:
            await _respond(send, exc.status, {"error": exc.message})
            return
        except Error as exc:
            status = {NotFound: 404, Conflict: 409, InputError: 400}.get(type(exc), 500)
            await _respond(send, status, {"error": str(exc)})
            return
        await _respond(
            send,
            200,
            {"status": outcome.status, "reference": outcome.reference, "level": outcome.level},
        )


async def _respond(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
