"""Verification levels, tier requirements, and an external identity-verification provider.

Levels, weakest first: ``none < email < phone < payment < id < org``. A tier upgrade needs the
level configured for the tier (:func:`check_tier_upgrade`); a challenge is lifted by the level it
names.

Webhook contract with an identity-verification provider (both directions are signed the same
way, with a shared secret):

1. Start. distillguard sends ``POST {provider}/v1/verifications`` with JSON
   ``{"reference", "account_id", "org_id", "level", "callback_url", "return_url"}`` and headers
   ``X-DG-Timestamp: <unix seconds>`` and ``X-DG-Signature: v1=<hex>``, where the hex is
   ``HMAC-SHA256(secret, "<timestamp>." + raw body)``. The provider answers 200/201 with
   ``{"session_id", "url"}``; the user is sent to ``url``.
2. Result. The provider sends ``POST {callback_url}`` with JSON ``{"event_id", "reference",
   "session_id", "status": "verified" | "rejected" | "expired", "level", "document_hash",
   "verified_at"}`` signed the same way. ``document_hash`` is the provider's stable, salted hash
   of the identity document (never the document number); it is required for ``id`` and ``org``.
   distillguard answers 200 ``{"status": ...}``; 401 for a bad signature or a timestamp more
   than ``tolerance`` seconds away; 409 for an ``event_id`` already seen (replay) or a session
   already completed; 404 for an unknown reference; 400 for a malformed body.

One identity document verifies at most one organization per 90 days (:class:`DocumentLedger`): a
``verified`` result whose document already verified another organization within that period is
recorded as ``rejected_document_reuse`` and grants nothing.

distillguard keeps no session state: the ``reference`` carries the account, organization, level
and expiry, signed with the secret, so any process can take a callback. The document ledger must
be shared between processes (:class:`DocumentLedger` is the Protocol to implement on the control
plane's database; :class:`MemoryDocumentLedger` is for one process and tests). For an ``id`` verification without an
organization the account stands in for it, so a document also verifies at most one unaffiliated
account per 90 days.

The HTTP side of step 2 is :class:`~distillguard.enforce.webhook.VerificationWebhook`, a plain
ASGI app to mount on the admin API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import aiohttp

from distillguard.enforce.output import VERIFICATION_LEVELS
from distillguard.errors import (
    AuthError,
    ConfigurationError,
    Conflict,
    InputError,
    NotFound,
    PermissionDenied,
    StorageError,
    UpstreamError,
)

LEVELS = VERIFICATION_LEVELS
TIMESTAMP_HEADER = "x-dg-timestamp"
SIGNATURE_HEADER = "x-dg-signature"
DOCUMENT_PERIOD = timedelta(days=90)
_DOCUMENT_LEVELS = frozenset({"id", "org"})


def rank(level: str) -> int:
    """Position of ``level`` (``none`` is 0); ConfigurationError for an unknown level."""
    try:
        return LEVELS.index(level)
    except ValueError:
        raise ConfigurationError(
            f"verification level {level!r} is not one of {', '.join(LEVELS)}"
        ) from None


def meets(level: str, required: str) -> bool:
    return rank(level) >= rank(required)


def check_tier_upgrade(level: str, tier: int, requirements: Mapping[int, str]) -> None:
    """Raise PermissionDenied unless ``level`` reaches what ``tier`` requires."""
    required = requirements.get(tier, "none")
    if not meets(level, required):
        raise PermissionDenied(
            f"tier {tier} requires verification '{required}'; this account has '{level}'. "
            "Complete verification to upgrade."
        )


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The ``X-DG-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={mac}"


def signed_headers(secret: bytes, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = int(time.time() if now is None else now)
    return {
        "content-type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }


class ReplayCache:
    """Event ids seen within the tolerance window; older ones are rejected by timestamp anyway."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}

    def seen(self, event_id: str, now: float, ttl: float) -> bool:
        """True if ``event_id`` was already seen; otherwise remember it for ``ttl`` seconds."""
        if len(self._seen) > 10_000:
            self._seen = {k: v for k, v in self._seen.items() if v > now}
        expiry = self._seen.get(event_id)
        if expiry is not None and expiry > now:
            return True
        self._seen[event_id] = now + ttl
        return False


def verify_signed(
    secret: bytes,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    tolerance: float = 300.0,
) -> dict[str, Any]:
    """Check timestamp and signature of a signed request; return its JSON body."""
    clock = time.time() if now is None else now
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        timestamp = int(lowered[TIMESTAMP_HEADER])
        signature = lowered[SIGNATURE_HEADER]
    except (KeyError, ValueError):
        raise AuthError(f"missing or malformed {TIMESTAMP_HEADER} / {SIGNATURE_HEADER}") from None
    if abs(clock - timestamp) > tolerance:
        raise AuthError(f"timestamp outside the {tolerance:g}s tolerance; check the clocks")
    if not hmac.compare_digest(sign(secret, timestamp, body), signature):
        raise AuthError("signature does not match")
    try:
        payload = json.loads(body)
    except ValueError:
        raise InputError("body is not JSON") from None
    if not isinstance(payload, dict):
        raise InputError("body must be a JSON object")
    return payload


class DocumentLedger(Protocol):
    """Which organization each identity document verified, and when."""

    def claim(self, document_hash: str, org_id: str, now: datetime) -> bool:
        """Record the document for ``org_id``; False if it verified another org within 90 days."""
        ...


class MemoryDocumentLedger:
    def __init__(self, period: timedelta = DOCUMENT_PERIOD) -> None:
        self.period = period
        self._claims: dict[str, tuple[str, datetime]] = {}

    def claim(self, document_hash: str, org_id: str, now: datetime) -> bool:
        previous = self._claims.get(document_hash)
        if previous is not None and previous[0] != org_id and now - previous[1] < self.period:
            return False
        self._claims[document_hash] = (org_id, now)
        return True


class SqliteDocumentLedger:
    """The ledger in a SQLite file, shared by the processes of one host."""

    def __init__(self, path: str, period: timedelta = DOCUMENT_PERIOD) -> None:
        self.period = period
        try:
            self._db = sqlite3.connect(path, timeout=10, isolation_level=None)
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS document_claims ("
                "document_hash TEXT PRIMARY KEY, org_id TEXT NOT NULL, claimed_at REAL NOT NULL)"
            )
        except sqlite3.Error as exc:
            raise StorageError(f"document ledger {path}: {exc}") from exc

    def claim(self, document_hash: str, org_id: str, now: datetime) -> bool:
        try:
            self._db.execute("BEGIN IMMEDIATE")  # claim check and write are one step
            row = self._db.execute(
                "SELECT org_id, claimed_at FROM document_claims WHERE document_hash = ?",
                (document_hash,),
            ).fetchone()
            recent = row is not None and now.timestamp() - row[1] < self.period.total_seconds()
            if recent and row[0] != org_id:
                self._db.execute("ROLLBACK")
                return False
            self._db.execute(
                "INSERT OR REPLACE INTO document_claims VALUES (?, ?, ?)",
                (document_hash, org_id, now.timestamp()),
            )
            self._db.execute("COMMIT")
            return True
        except sqlite3.Error as exc:
            raise StorageError(f"document ledger: {exc}") from exc

    def close(self) -> None:
        self._db.close()


@dataclass(frozen=True, slots=True)
class Session:
    reference: str
    account_id: str
    org_id: str | None
    level: str
    session_id: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a provider callback did: ``status`` is verified, rejected, expired or rejected_document_reuse."""

    reference: str
    account_id: str
    org_id: str | None
    level: str
    status: str


class VerificationService:
    """Starts verifications with a provider and applies its signed callbacks.

    ``on_verified(account_id, org_id, level)`` is called for every granted level; the control
    plane plugs in here to raise the account's (or organization's) verification.
    """

    def __init__(
        self,
        *,
        provider_url: str,
        secret: bytes,
        callback_url: str,
        on_verified: Callable[[str, str | None, str], None],
        ledger: DocumentLedger | None = None,
        tolerance: float = 300.0,
        session_ttl: timedelta = timedelta(days=7),
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        if len(secret) < 16:
            raise ConfigurationError("verification webhook secret must be at least 16 bytes")
        self.provider_url = provider_url.rstrip("/")
        self.secret = secret
        self.callback_url = callback_url
        self.on_verified = on_verified
        self.ledger = ledger or MemoryDocumentLedger()
        self.tolerance = tolerance
        self.replays = ReplayCache()
        self.session_ttl = session_ttl
        self._http = session
        self._done: set[str] = set()  # per process; a repeated grant is harmless

    async def start(
        self,
        account_id: str,
        level: str,
        *,
        org_id: str | None = None,
        return_url: str | None = None,
    ) -> Session:
        """Open a verification session with the provider; return where to send the user."""
        if rank(level) == 0:
            raise InputError("ask for a level above 'none'")
        if level == "org" and org_id is None:
            raise InputError("organization verification needs an org_id")
        expires = int(time.time() + self.session_ttl.total_seconds())
        reference = self._reference(account_id, org_id, level, expires)
        body = json.dumps(
            {
                "reference": reference,
                "account_id": account_id,
                "org_id": org_id,
                "level": level,
                "callback_url": self.callback_url,
                "return_url": return_url,
            }
        ).encode()
        http = self._http or aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        try:
            async with http.post(
                f"{self.provider_url}/v1/verifications",
                data=body,
                headers=signed_headers(self.secret, body),
                raise_for_status=True,
            ) as response:
                answer = await response.json()
            if not isinstance(answer, dict):
                raise ValueError("answer is not a JSON object")
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise UpstreamError(f"identity provider failed: {exc}") from None
        finally:
            if self._http is None:
                await http.close()
        return Session(
            reference, account_id, org_id, level, answer.get("session_id"), answer.get("url")
        )

    def _reference(self, account_id: str, org_id: str | None, level: str, expires: int) -> str:
        # The reference carries the session, signed, so no process needs to remember it: any
        # admin API process, or one restarted in between, can take the callback.
        fields = [account_id, org_id, level, expires, secrets.token_hex(4)]
        payload = base64.urlsafe_b64encode(json.dumps(fields).encode()).decode().rstrip("=")
        return f"ver_{payload}.{self._tag(payload)}"

    def _tag(self, payload: str) -> str:
        return hmac.new(self.secret, b"ref." + payload.encode(), hashlib.sha256).hexdigest()[:32]

    def _session(self, reference: str, now: float) -> Session:
        payload, _, tag = reference.removeprefix("ver_").partition(".")
        if not hmac.compare_digest(self._tag(payload), tag):
            raise NotFound(f"no verification session {reference[:40]}")
        padded = payload + "=" * (-len(payload) % 4)
        account_id, org_id, level, expires, _ = json.loads(base64.urlsafe_b64decode(padded))
        if now > expires:
            raise Conflict("the verification session has expired; start a new one")
        return Session(reference, account_id, org_id, level)

    def handle_callback(
        self, headers: Mapping[str, str], body: bytes, *, now: float | None = None
    ) -> Outcome:
        """Verify and apply one provider callback (see the module docstring for the contract)."""
        clock = time.time() if now is None else now
        payload = verify_signed(self.secret, headers, body, now=clock, tolerance=self.tolerance)
        event_id, reference, status = (payload.get(k) for k in ("event_id", "reference", "status"))
        if not isinstance(event_id, str) or not isinstance(reference, str):
            raise InputError("callback needs string event_id and reference")
        if status not in ("verified", "rejected", "expired"):
            raise InputError(f"callback status {status!r} is not verified, rejected or expired")
        if self.replays.seen(event_id, clock, 2 * self.tolerance):
            raise Conflict(f"event {event_id} was already received")
        session = self._session(reference, clock)
        if reference in self._done:
            raise Conflict(f"verification {reference} is already complete")
        if status == "verified" and payload.get("level") != session.level:
            raise InputError(
                f"callback level {payload.get('level')!r} differs from {session.level!r}"
            )
        outcome_status = str(status)
        if status == "verified" and session.level in _DOCUMENT_LEVELS:
            document = payload.get("document_hash")
            if not isinstance(document, str) or len(document) < 16:
                raise InputError("an id or org verification needs a document_hash")
            owner = session.org_id or f"account:{session.account_id}"
            if not self.ledger.claim(document, owner, datetime.fromtimestamp(clock, UTC)):
                outcome_status = "rejected_document_reuse"
        self._done.add(reference)
        if outcome_status == "verified":
            self.on_verified(session.account_id, session.org_id, session.level)
        return Outcome(reference, session.account_id, session.org_id, session.level, outcome_status)
