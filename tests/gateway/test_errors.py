from __future__ import annotations

import orjson
import pytest

from distillguard.errors import (
    AuthError,
    GatewayError,
    PermissionDenied,
    RequestTooLarge,
    RouteNotFound,
    UpstreamError,
)
from distillguard.gateway.errors import BadParam, Throttled, UpstreamTimeout, error_response


def _body(exc: GatewayError, provider: str) -> tuple[int, dict[bytes, bytes], dict[str, object]]:
    status, headers, body = error_response(exc, provider, "req_1")  # type: ignore[arg-type]
    return status, dict(headers), orjson.loads(body)


def test_openai_rate_limit_body_and_headers() -> None:
    exc = Throttled(
        "Rate limit reached", limit_type="tokens", headers={"retry-after": "2"}, should_retry=None
    )
    status, headers, body = _body(exc, "openai")
    assert status == 429
    assert body == {
        "error": {
            "message": "Rate limit reached",
            "type": "tokens",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }
    assert headers[b"x-request-id"] == b"req_1" and headers[b"retry-after"] == b"2"
    assert b"x-should-retry" not in headers


def test_anthropic_rate_limit_body() -> None:
    status, headers, body = _body(Throttled("slow down", limit_type="requests"), "anthropic")
    assert status == 429
    assert body == {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": "slow down"},
        "request_id": "req_1",
    }
    assert headers[b"request-id"] == b"req_1"


@pytest.mark.parametrize(
    ("exc", "status", "openai_type", "anthropic_type"),
    [
        (
            AuthError("bad key", should_retry=False),
            401,
            "invalid_request_error",
            "authentication_error",
        ),
        (
            PermissionDenied("revoked", should_retry=False),
            403,
            "permission_error",
            "permission_error",
        ),
        (
            BadParam("bad", param="temperature"),
            400,
            "invalid_request_error",
            "invalid_request_error",
        ),
        (RouteNotFound("nope"), 404, "invalid_request_error", "not_found_error"),
        (RequestTooLarge("big"), 413, "invalid_request_error", "request_too_large"),
        (UpstreamError("down"), 502, "server_error", "api_error"),
        (UpstreamTimeout("slow"), 504, "server_error", "timeout_error"),
    ],
)
def test_each_error_in_both_formats(
    exc: GatewayError, status: int, openai_type: str, anthropic_type: str
) -> None:
    got, headers, body = _body(exc, "openai")
    assert got == status and body["error"]["type"] == openai_type  # type: ignore[index]
    assert headers[b"content-type"] == b"application/json"
    got, _, body = _body(exc, "anthropic")
    assert got == status and body["error"]["type"] == anthropic_type  # type: ignore[index]


def test_param_and_codes_in_openai_format() -> None:
    _, _, body = _body(BadParam("bad", param="temperature"), "openai")
    assert body["error"]["param"] == "temperature"  # type: ignore[index]
    _, headers, body = _body(AuthError("bad key", should_retry=False), "openai")
    assert body["error"]["code"] == "invalid_api_key"  # type: ignore[index]
    assert headers[b"x-should-retry"] == b"false"
