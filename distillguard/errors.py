"""The exception tree of distillguard.

Every error the package raises on purpose derives from :class:`Error`::

    Error
    ├── ConfigurationError     bad settings, unknown backend URL scheme, invalid policy file
    ├── StorageError           a backend (Redis, SQL database, file) failed; wraps the driver error
    ├── InputError             a record, file or request that does not follow the contract
    │   └── SchemaError        a dg.* record that breaks its JSON schema
    ├── NotFound               an account, key, tier or campaign that does not exist
    ├── Conflict               a create that collides with an existing object
    └── GatewayError           an error answered to an API client; carries status, kind and headers
        ├── AuthError          401: missing or invalid key
        ├── PermissionDenied   403: revoked, expired or suspended key/account
        ├── RateLimited        429: a limit was reached
        ├── RequestTooLarge    413: body over the configured size
        ├── BadRequest         400: malformed JSON or wrong types
        ├── RouteNotFound      404: unknown route
        └── UpstreamError      502/504: the upstream LLM server failed or timed out

The CLI turns :class:`Error` into an exit code in one place (``distillguard.cli.main``); the
gateway turns :class:`GatewayError` into a provider-formatted response in one place
(``distillguard.gateway.errors``).
"""

from __future__ import annotations

from collections.abc import Mapping


class Error(Exception):
    """Base class of every distillguard error."""

    exit_code = 1


class ConfigurationError(Error):
    """Settings or a backend URL are invalid. The message says what to change."""

    exit_code = 2


class StorageError(Error):
    """A storage backend failed (connection refused, timeout, driver error)."""

    exit_code = 3


class InputError(Error):
    """Input does not follow its contract (a dg.* format, a CLI argument, a request)."""

    exit_code = 4


class SchemaError(InputError):
    """A dg.* record breaks its schema; ``reason`` is a short stable code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class NotFound(Error):
    """The named object does not exist."""

    exit_code = 5


class Conflict(Error):
    """The object already exists or the change conflicts with its state."""

    exit_code = 6


class GatewayError(Error):
    """An error that the gateway answers to an API client.

    ``kind`` is a provider-neutral code (``authentication``, ``permission``, ``rate_limit``,
    ``invalid_request``, ``not_found``, ``request_too_large``, ``upstream``, ``timeout``) that
    the route's provider formatter maps to OpenAI or Anthropic error types.
    """

    status = 500
    kind = "api_error"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        should_retry: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.headers: dict[str, str] = dict(headers or {})
        self.should_retry = should_retry


class AuthError(GatewayError):
    """Missing or invalid API key (401)."""

    status = 401
    kind = "authentication"


class PermissionDenied(GatewayError):
    """Key revoked or expired, account suspended or challenged (403)."""

    status = 403
    kind = "permission"


class RateLimited(GatewayError):
    """A rate limit or cap was reached (429)."""

    status = 429
    kind = "rate_limit"


class RequestTooLarge(GatewayError):
    """Request body over the configured limit (413)."""

    status = 413
    kind = "request_too_large"


class BadRequest(GatewayError):
    """Malformed JSON or a field of the wrong type (400)."""

    status = 400
    kind = "invalid_request"


class RouteNotFound(GatewayError):
    """No such route (404)."""

    status = 404
    kind = "not_found"


class UpstreamError(GatewayError):
    """The upstream LLM server failed (502) or timed out (504)."""

    status = 502
    kind = "upstream"
