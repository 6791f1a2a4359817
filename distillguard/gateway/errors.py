"""Gateway errors as provider-formatted HTTP responses — the one place where that happens.

An OpenAI route answers ``{"error": {"message", "type", "param", "code"}}`` with
``x-request-id``; an Anthropic route answers ``{"type": "error", "error": {"type", "message"},
"request_id"}`` with ``request-id``. ``x-should-retry`` is sent when the error says whether a
retry can help, so the official SDKs neither hammer a suspended key nor give up on a
short throttle.
"""

from __future__ import annotations

from typing import Literal

import orjson

from distillguard.errors import (
    BadRequest,
    GatewayError,
    PermissionDenied,
    RateLimited,
    UpstreamError,
)

Provider = Literal["openai", "anthropic"]
Headers = list[tuple[bytes, bytes]]

_ANTHROPIC_TYPES = {
    "authentication": "authentication_error",
    "permission": "permission_error",
    "rate_limit": "rate_limit_error",
    "invalid_request": "invalid_request_error",
    "not_found": "not_found_error",
    "request_too_large": "request_too_large",
    "upstream": "api_error",
    "timeout": "timeout_error",
    "request_timeout": "timeout_error",
    "overloaded": "overloaded_error",
}
_OPENAI_TYPES = {
    "authentication": "invalid_request_error",
    "permission": "permission_error",
    "invalid_request": "invalid_request_error",
    "not_found": "invalid_request_error",
    "request_too_large": "invalid_request_error",
    "request_timeout": "invalid_request_error",
    "upstream": "server_error",
    "timeout": "server_error",
    "overloaded": "server_error",
}
_OPENAI_CODES = {
    "authentication": "invalid_api_key",
    "request_too_large": "request_too_large",
    "request_timeout": "request_timeout",
    "timeout": "timeout",
    "upstream": "upstream_error",
}
JSON = (b"content-type", b"application/json")


class Throttled(RateLimited):
    """A 429 that knows which family of limit blocked (``requests`` or ``tokens``)."""

    def __init__(
        self,
        message: str,
        *,
        limit_type: Literal["requests", "tokens"],
        headers: dict[str, str] | None = None,
        should_retry: bool | None = None,
    ) -> None:
        super().__init__(message, headers=headers, should_retry=should_retry)
        self.limit_type = limit_type


class Denied(PermissionDenied):
    """A 403 with a stable machine code (``key_revoked``, ``account_suspended``, …)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message, should_retry=False)
        self.code = code


class UpstreamTimeout(UpstreamError):
    """The upstream did not answer in time (504)."""

    status = 504
    kind = "timeout"


class ClientTimeout(GatewayError):
    """The client did not send its whole request body in time (408)."""

    status = 408
    kind = "request_timeout"


class Unavailable(GatewayError):
    """The gateway cannot decide right now (the limiter storage is down, fail-closed): 503."""

    status = 503
    kind = "overloaded"


class BadParam(BadRequest):
    """A 400 naming the offending request field (OpenAI's ``param``)."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


def request_id_header(provider: Provider) -> bytes:
    return b"request-id" if provider == "anthropic" else b"x-request-id"


def error_body(exc: GatewayError, provider: Provider, request_id: str) -> bytes:
    """The JSON body of ``exc`` in the provider's error format."""
    if provider == "anthropic":
        return orjson.dumps(
            {
                "type": "error",
                "error": {
                    "type": _ANTHROPIC_TYPES.get(exc.kind, "api_error"),
                    "message": exc.message,
                },
                "request_id": request_id,
            }
        )
    kind: str
    code: str | None
    if isinstance(exc, Throttled):
        kind, code = exc.limit_type, "rate_limit_exceeded"
    elif exc.kind == "rate_limit":
        kind, code = "requests", "rate_limit_exceeded"
    else:
        kind = _OPENAI_TYPES.get(exc.kind, "server_error")
        code = getattr(exc, "code", None) or _OPENAI_CODES.get(exc.kind)
    return orjson.dumps(
        {
            "error": {
                "message": exc.message,
                "type": kind,
                "param": getattr(exc, "param", None),
                "code": code,
            }
        }
    )


def error_response(
    exc: GatewayError, provider: Provider, request_id: str
) -> tuple[int, Headers, bytes]:
    """Status, headers and body for ``exc`` on a route of ``provider``."""
    body = error_body(exc, provider, request_id)
    headers: Headers = [
        JSON,
        (b"content-length", str(len(body)).encode()),
        (request_id_header(provider), request_id.encode()),
    ]
    if exc.should_retry is not None:
        headers.append((b"x-should-retry", b"true" if exc.should_retry else b"false"))
    for name, value in exc.headers.items():
        headers.append((name.encode("latin-1"), value.encode("latin-1")))
    return exc.status, headers, body
