"""The admin HTTP API: organizations, accounts, keys and tiers over JSON.

``create_admin_app(store, admin_token)`` builds a FastAPI app; ``distillguard admin-api`` serves
it, and the gateway may mount it under ``/admin``. Every route, the OpenAPI document included,
needs ``Authorization: Bearer <admin token>`` (compared in constant time). Errors are JSON
``{"error": {"type": …, "message": …}}``: 400 for bad input, 401 without the token, 404, 409 for
conflicts, 422 for bodies that fail validation, 503 when the database fails.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from distillguard.controlplane.adminmodels import (
    AccountCreate,
    AccountOut,
    KeyCreate,
    KeyCreated,
    KeyOut,
    LimitChange,
    OrgCreate,
    OrgOut,
    Status,
    Suspension,
    TierBody,
    TierChange,
    TierOut,
    TierTableBody,
    VerificationChange,
)
from distillguard.controlplane.store import ControlPlaneStore
from distillguard.controlplane.tiers import TierSpec
from distillguard.errors import (
    ConfigurationError,
    Conflict,
    Error,
    InputError,
    NotFound,
    StorageError,
)

MIN_TOKEN_LENGTH = 16

_ERROR_STATUS: tuple[tuple[type[Error], int, str], ...] = (
    (InputError, 400, "invalid_request"),
    (NotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    (StorageError, 503, "storage"),
)


_bearer = HTTPBearer(auto_error=False, description="the admin token")


class AdminAuthError(Exception):
    """Raised by the token check; answered as 401."""


class _TokenCheck:
    """Dependency comparing the bearer token with the admin token in constant time."""

    def __init__(self, admin_token: str) -> None:
        self._expected = admin_token.encode()

    def __call__(
        self, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> None:
        presented = credentials.credentials.encode() if credentials is not None else b""
        if not hmac.compare_digest(presented, self._expected):
            raise AdminAuthError


def create_admin_app(store: ControlPlaneStore, admin_token: str) -> FastAPI:
    """An ASGI app serving the admin API over ``store``, guarded by ``admin_token``.

    Raises :class:`ConfigurationError` for a token shorter than 16 characters.
    """
    if len(admin_token) < MIN_TOKEN_LENGTH or admin_token != admin_token.strip():
        raise ConfigurationError(
            f"the admin token needs at least {MIN_TOKEN_LENGTH} characters and no surrounding "
            'spaces; make one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'
        )
    app = FastAPI(
        title="distillguard admin API",
        version="1",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(_TokenCheck(admin_token))],
    )

    @app.get("/openapi.json", include_in_schema=False)
    def openapi() -> dict[str, Any]:
        return app.openapi()

    @app.exception_handler(AdminAuthError)
    def _unauthorized(_request: Request, _exc: AdminAuthError) -> JSONResponse:
        return _error(
            401, "authentication", "missing or wrong admin token", {"WWW-Authenticate": "Bearer"}
        )

    @app.exception_handler(Error)
    def _failed(_request: Request, exc: Error) -> JSONResponse:
        for kind, status, name in _ERROR_STATUS:
            if isinstance(exc, kind):
                return _error(status, name, str(exc))
        return _error(500, "internal", str(exc))

    app.include_router(_orgs(store))
    app.include_router(_accounts(store))
    app.include_router(_keys(store))
    app.include_router(_tiers(store))
    return app


def _error(
    status: int, kind: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message}}, status, headers=headers)


def _orgs(store: ControlPlaneStore) -> APIRouter:
    router = APIRouter(prefix="/orgs", tags=["organizations"])

    @router.get("")
    def list_orgs(status: Status | None = None) -> list[OrgOut]:
        return [OrgOut.of(org) for org in store.list_orgs(status=status)]

    @router.post("", status_code=201)
    def create_org(body: OrgCreate) -> OrgOut:
        return OrgOut.of(
            store.create_org(body.name, verification=body.verification, org_id=body.org_id)
        )

    @router.get("/{org_id}")
    def get_org(org_id: str) -> OrgOut:
        return OrgOut.of(store.get_org(org_id))

    @router.post("/{org_id}/suspend")
    def suspend_org(org_id: str, body: Suspension) -> OrgOut:
        return OrgOut.of(store.suspend_org(org_id, body.reason))

    @router.post("/{org_id}/reinstate")
    def reinstate_org(org_id: str) -> OrgOut:
        return OrgOut.of(store.reinstate_org(org_id))

    return router


def _accounts(store: ControlPlaneStore) -> APIRouter:
    router = APIRouter(prefix="/accounts", tags=["accounts"])

    @router.get("")
    def list_accounts(
        org_id: str | None = None,
        status: Status | None = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> list[AccountOut]:
        records = store.list_accounts(org_id=org_id, status=status, limit=limit, offset=offset)
        return [AccountOut.of(record) for record in records]

    @router.post("", status_code=201)
    def create_account(body: AccountCreate) -> AccountOut:
        return AccountOut.of(store.create_account(**body.model_dump()))

    @router.get(
        "/export",
        response_class=StreamingResponse,
        responses={
            200: {
                "content": {"application/x-ndjson": {}},
                "description": "dg.account.v1 JSON Lines",
            }
        },
    )
    def export_accounts(include_email: bool = True) -> StreamingResponse:
        def lines() -> Iterator[bytes]:
            for record in store.iter_accounts():
                yield orjson.dumps(record.to_account_v1(include_email=include_email)) + b"\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    @router.get("/{account_id}")
    def get_account(account_id: str) -> AccountOut:
        return AccountOut.of(store.get_account(account_id))

    @router.post("/{account_id}/suspend")
    def suspend_account(account_id: str, body: Suspension) -> AccountOut:
        return AccountOut.of(store.suspend_account(account_id, body.reason))

    @router.post("/{account_id}/reinstate")
    def reinstate_account(account_id: str) -> AccountOut:
        return AccountOut.of(store.reinstate_account(account_id))

    @router.put("/{account_id}/tier")
    def set_account_tier(account_id: str, body: TierChange) -> AccountOut:
        return AccountOut.of(store.set_account_tier(account_id, body.tier))

    @router.put("/{account_id}/verification")
    def set_account_verification(account_id: str, body: VerificationChange) -> AccountOut:
        return AccountOut.of(store.set_account_verification(account_id, body.verification))

    return router


def _keys(store: ControlPlaneStore) -> APIRouter:
    router = APIRouter(prefix="/keys", tags=["keys"])

    @router.get("")
    def list_keys(account_id: str | None = None) -> list[KeyOut]:
        return [KeyOut.of(key) for key in store.list_keys(account_id=account_id)]

    @router.post("", status_code=201)
    def create_key(body: KeyCreate) -> KeyCreated:
        created = store.create_key(body.account_id, name=body.name, expires_at=body.expires_at)
        return KeyCreated(**KeyOut.of(created.record).model_dump(), secret=created.secret)

    @router.get("/{key_id}")
    def get_key(key_id: str) -> KeyOut:
        return KeyOut.of(store.get_key(key_id))

    @router.post("/{key_id}/revoke")
    def revoke_key(key_id: str) -> KeyOut:
        return KeyOut.of(store.revoke_key(key_id))

    return router


def _tiers(store: ControlPlaneStore) -> APIRouter:
    router = APIRouter(prefix="/tiers", tags=["tiers"])

    @router.get("")
    def list_tiers() -> list[TierOut]:
        return [TierOut.of(spec) for spec in store.tiers.all()]

    @router.put("")
    def replace_tiers(body: TierTableBody) -> list[TierOut]:
        specs = [_spec(tier.tier, tier) for tier in body.tiers]
        return [TierOut.of(spec) for spec in store.tiers.replace_all(specs)]

    @router.get("/{tier}")
    def get_tier(tier: int) -> TierOut:
        return TierOut.of(store.tiers.get(tier))

    @router.put("/{tier}")
    def put_tier(tier: int, body: TierBody) -> TierOut:
        return TierOut.of(store.tiers.put(_spec(tier, body)))

    @router.patch("/{tier}/limits")
    def set_limit(tier: int, body: LimitChange) -> TierOut:
        return TierOut.of(store.tiers.set_limit(tier, body.scope, body.rule, body.value))

    @router.delete("/{tier}", status_code=204)
    def delete_tier(tier: int) -> None:
        store.tiers.delete(tier)

    return router


def _spec(tier: int, body: TierBody) -> TierSpec:
    return TierSpec(
        tier=tier,
        name=body.name,
        limits={
            str(scope): {str(rule): n for rule, n in rules.items()}
            for scope, rules in body.limits.items()
        },
        required_verification=body.required_verification,
        description=body.description,
    )
