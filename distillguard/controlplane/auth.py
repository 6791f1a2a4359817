"""The gateway's authenticator: API keys checked against an in-memory snapshot.

The gateway must not query SQL on every request, so :class:`CachedAuthenticator` loads every key
with its account, organization and tier into a dict, and checks a presented key with one dict
lookup, one SHA-256 and one constant-time compare. :meth:`CachedAuthenticator.refresh` reloads the
snapshot; :meth:`~CachedAuthenticator.run_refresh` (asyncio) or
:meth:`~CachedAuthenticator.start_refresh_thread` repeat it in the background, so revocations and
suspensions reach the gateway within one refresh interval. A failed refresh keeps the last good
snapshot and is logged.

>>> auth = CachedAuthenticator.from_url("sqlite:///.dg/distillguard.db")  # doctest: +SKIP
>>> principal = auth.authenticate("dg-key_…-…")  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from sqlalchemy import Engine

from distillguard.controlplane.apikeys import hash_secret, parse_key
from distillguard.controlplane.database import storage_errors
from distillguard.controlplane.keysnapshot import (
    KeyEntry,
    current_generation,
    load_keys,
    load_tiers,
)
from distillguard.controlplane.principal import Principal, TierLimits
from distillguard.controlplane.records import rfc3339
from distillguard.controlplane.store import ControlPlaneStore
from distillguard.errors import AuthError, PermissionDenied, StorageError

log = logging.getLogger(__name__)

_INVALID = "invalid API key"


class CachedAuthenticator:
    """An :class:`~distillguard.controlplane.principal.Authenticator` over a database snapshot.

    Raises :class:`~distillguard.errors.AuthError` (401) for a missing, malformed or unknown key
    or a wrong secret, and :class:`~distillguard.errors.PermissionDenied` (403) for a revoked or
    expired key or a suspended account or organization. Refusals are only reported to a caller
    that presented the right secret, so a guesser learns nothing about other people's keys.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], float] = time.time,
        full_reload_s: float = 300.0,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._full_reload_s = full_reload_s
        self._keys: dict[str, KeyEntry] = {}
        self._tiers: dict[int, TierLimits] = {}
        self._generation: int | None = None
        self._used: dict[str, float] = {}  # key_id -> last successful use, not yet stored
        self.loaded_at: float | None = None  # clock time of the last reload
        self.checked_at: float | None = None  # clock time of the last successful refresh
        self.refresh(force=True)

    @classmethod
    def from_url(
        cls, db_url: str | None = None, *, migrate: bool | None = None
    ) -> CachedAuthenticator:
        """Open the database (same URL rules and migration policy as :meth:`ControlPlaneStore.open`)."""
        return cls(ControlPlaneStore.open(db_url, migrate=migrate).engine)

    @property
    def tiers(self) -> Mapping[int, TierLimits]:
        """The tier table of the current snapshot."""
        return self._tiers

    def __len__(self) -> int:
        return len(self._keys)

    def authenticate(self, secret: str) -> Principal:
        key_id, key_secret = parse_key(secret)
        entry = self._keys.get(key_id)
        if entry is None:
            raise AuthError(_INVALID, should_retry=False)
        if not hmac.compare_digest(hash_secret(entry.salt, key_secret), entry.secret_hash):
            raise AuthError(_INVALID, should_retry=False)
        if entry.refusal is not None:
            raise PermissionDenied(entry.refusal, should_retry=False)
        now = self._clock()
        if entry.expires_at is not None and now >= entry.expires_at:
            expired = datetime.fromtimestamp(entry.expires_at, UTC)
            raise PermissionDenied(
                f"API key {key_id} expired at {rfc3339(expired)}; create a new key",
                should_retry=False,
            )
        self._used[key_id] = now
        return entry.principal

    def refresh(self, *, force: bool = False) -> bool:
        """Bring the snapshot up to date with the database; True if anything was reloaded.

        The store bumps a generation counter with every change that matters here and stamps the
        rows it touches, so an unchanged database costs one tiny query and a change reloads only
        the keys it touched. Tier edits, ``force`` and every ``full_reload_s`` seconds reload
        everything, which also picks up changes made behind the store's back (raw SQL).
        """
        now = self._clock()
        with storage_errors("loading API keys"), self._engine.connect() as connection:
            generation = current_generation(connection)
            due = self.loaded_at is None or now - self.loaded_at >= self._full_reload_s
            if not force and not due and generation == self._generation:
                self.checked_at = now
                return False
            tiers = load_tiers(connection)
            if force or due or self._generation is None or tiers != self._tiers:
                keys = load_keys(connection, tiers)
                self.loaded_at = now
            else:
                keys = {**self._keys, **load_keys(connection, tiers, since=self._generation)}
        self._keys, self._tiers = keys, tiers  # swapped whole: readers never see a half snapshot
        self._generation = generation
        self.checked_at = now
        return True

    def flush_key_use(self) -> int:
        """Store the keys' ``last_used_at`` gathered since the last flush; return how many."""
        used, self._used = self._used, {}
        if not used:
            return 0
        moments = {key_id: datetime.fromtimestamp(ts, UTC) for key_id, ts in used.items()}
        try:
            ControlPlaneStore(self._engine).record_key_use(moments)
        except StorageError:
            for key_id, ts in used.items():  # keep them for the next attempt
                self._used.setdefault(key_id, ts)
            raise
        return len(moments)

    def _refresh_logged(self) -> None:
        try:
            self.refresh()
        except StorageError as exc:
            log.warning("API key refresh failed, keeping the last snapshot: %s", exc)
        try:
            self.flush_key_use()
        except StorageError as exc:
            log.warning("storing the keys' last use failed: %s", exc)

    async def run_refresh(self, interval_s: float = 2.0) -> None:
        """Refresh every ``interval_s`` seconds until cancelled (run it as an asyncio task).

        On cancellation a refresh already running in its worker thread is awaited first, so
        the engine can be closed safely right after the task ends.
        """
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        while True:
            await asyncio.sleep(interval_s)
            running = asyncio.ensure_future(asyncio.to_thread(self._refresh_logged))
            try:
                await asyncio.shield(running)
            except asyncio.CancelledError:
                await running
                raise

    def start_refresh_thread(self, interval_s: float = 2.0) -> RefreshThread:
        """Refresh in a daemon thread every ``interval_s`` seconds; ``.stop()`` ends it."""
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        thread = RefreshThread(self._refresh_logged, interval_s)
        thread.start()
        return thread

    def close(self) -> None:
        """Store pending key use and release the database connections."""
        try:
            self.flush_key_use()
        except StorageError as exc:
            log.warning("storing the keys' last use failed: %s", exc)
        self._engine.dispose()


class RefreshThread(threading.Thread):
    """The background thread of :meth:`CachedAuthenticator.start_refresh_thread`."""

    def __init__(self, refresh: Callable[[], None], interval_s: float) -> None:
        super().__init__(name="dg-key-refresh", daemon=True)
        self._refresh = refresh
        self._interval_s = interval_s
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(self._interval_s):
            self._refresh()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop refreshing and wait for a refresh in progress to finish."""
        self._stopped.set()
        self.join(timeout_s)
