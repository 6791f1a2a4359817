"""The control-plane store: organizations, accounts, API keys and tiers in an SQL database.

:class:`ControlPlaneStore` is the one place that writes these tables; the CLI and the admin API
are thin layers over it. It returns frozen records (:mod:`~distillguard.controlplane.records`),
validates input where it enters (raising :class:`~distillguard.errors.InputError`), and turns
driver errors into :class:`~distillguard.errors.StorageError`.

>>> store = ControlPlaneStore.open("sqlite:///:memory:")
>>> account = store.create_account(email="ada@example.com", verification="email")
>>> key = store.create_key(account.account_id, name="laptop")
>>> key.secret.startswith("dg-key_")
True
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO, Any

import orjson
from sqlalchemy import Engine, event, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from distillguard.controlplane import apikeys, migrator
from distillguard.controlplane.database import create_database_engine, is_sqlite, storage_errors
from distillguard.controlplane.identifiers import KEY_PREFIX, ORG_PREFIX, new_id
from distillguard.controlplane.models import Account, ApiKey, Organization, State, Tier
from distillguard.controlplane.records import AccountRecord, CreatedKey, KeyRecord, OrgRecord, utc
from distillguard.controlplane.rows import (
    account_record,
    check_reason,
    check_status,
    get_row,
    identifier,
    key_record,
    new_account_row,
    org_record,
)
from distillguard.controlplane.tiers import validate_verification
from distillguard.controlplane.tierstore import TierTable
from distillguard.errors import ConfigurationError, Conflict, InputError, NotFound


class ControlPlaneStore:
    """Accounts, organizations, keys and tiers kept in SQLite or PostgreSQL.

    Build it with :meth:`open` (from a URL) or from an existing SQLAlchemy engine.
    ``store.tiers`` (a :class:`~distillguard.controlplane.tierstore.TierTable`) edits the tiers.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        event.listen(self._sessions, "before_flush", _stamp_generation)
        self.tiers = TierTable(self._session, self._change)

    @classmethod
    def open(cls, url: str | None = None, *, migrate: bool | None = None) -> ControlPlaneStore:
        """Open the database at ``url`` (see :func:`~distillguard.controlplane.database.resolve_database_url`).

        ``migrate`` upgrades the schema to the newest revision first; by default SQLite databases
        are upgraded on open and PostgreSQL ones must already be current (``distillguard db
        upgrade``), so that several gateway replicas never race to change a shared schema.
        """
        engine = create_database_engine(url)
        try:
            current = migrator.current_revision(engine)
            head = migrator.head_revision()
            if current != head:
                if migrate if migrate is not None else is_sqlite(str(engine.url)):
                    migrator.upgrade(engine)
                else:
                    raise ConfigurationError(
                        f"the database is at schema revision {current or 'none (empty)'} but this "
                        f"version needs {head}; run: distillguard db upgrade --db <URL>"
                    )
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    def check(self) -> None:
        """Raise :class:`StorageError` if the database cannot be reached."""
        with storage_errors("checking the connection"), self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """A transaction for reading (or for writes the gateway need not notice)."""
        try:
            with (
                storage_errors("accessing the control-plane database"),
                self._sessions.begin() as session,
            ):
                yield session
        except Exception as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise Conflict(f"the change conflicts with existing data: {exc}") from exc
            raise

    @contextmanager
    def _change(self) -> Iterator[Session]:
        """A transaction that changes what authentication sees.

        It first bumps the generation counter (which also serialises concurrent changes on its
        row lock, so generations commit in order), then every organization, account and key it
        writes is stamped with the new generation on flush.
        """
        with self._session() as session:
            counter = State.name == "generation"
            session.execute(update(State).where(counter).values(value=State.value + 1))
            # Read back rather than RETURNING, which SQLite only has since 3.35.
            session.info["generation"] = session.scalars(select(State.value).where(counter)).one()
            yield session

    # -- organizations -------------------------------------------------------------------------

    def create_org(
        self, name: str, *, verification: str = "none", org_id: str | None = None
    ) -> OrgRecord:
        """Create an organization; ``org_id`` defaults to a fresh ``org_…`` identifier."""
        if not name.strip():
            raise InputError("an organization needs a non-empty name")
        row = Organization(
            org_id=identifier(org_id, ORG_PREFIX),
            name=name.strip(),
            verification=validate_verification(verification),
            status="active",
            created_at=datetime.now(UTC),
        )
        with self._change() as session:
            if session.get(Organization, row.org_id) is not None:
                raise Conflict(f"organization {row.org_id} already exists")
            session.add(row)
        return org_record(row)

    def get_org(self, org_id: str) -> OrgRecord:
        with self._session() as session:
            return org_record(get_row(session, Organization, org_id, "organization"))

    def list_orgs(self, *, status: str | None = None) -> list[OrgRecord]:
        query = select(Organization).order_by(Organization.created_at, Organization.org_id)
        if status is not None:
            query = query.where(Organization.status == check_status(status))
        with self._session() as session:
            return [org_record(row) for row in session.scalars(query)]

    def suspend_org(self, org_id: str, reason: str) -> OrgRecord:
        """Suspend an organization: every key of every account in it is refused (403)."""
        return self._set_org_status(org_id, "suspended", check_reason(reason))

    def reinstate_org(self, org_id: str) -> OrgRecord:
        return self._set_org_status(org_id, "active", None)

    def _set_org_status(self, org_id: str, status: str, reason: str | None) -> OrgRecord:
        with self._change() as session:
            row = get_row(session, Organization, org_id, "organization")
            row.status, row.status_reason = status, reason
            return org_record(row)

    # -- accounts ------------------------------------------------------------------------------

    def create_account(
        self,
        *,
        account_id: str | None = None,
        org_id: str | None = None,
        created_at: datetime | None = None,
        email: str | None = None,
        email_domain: str | None = None,
        signup_ip: str | None = None,
        signup_user_agent: str | None = None,
        payment_fingerprint: str | None = None,
        payment_country: str | None = None,
        country: str | None = None,
        verification: str = "none",
        program: str = "standard",
        tier: int | None = None,
    ) -> AccountRecord:
        """Create an account with the dg.account.v1 fields.

        ``email_domain`` is derived from ``email`` when not given. ``tier`` defaults to the lowest
        tier of the table; a tier whose ``required_verification`` the account has not reached is
        refused with :class:`Conflict`.
        """
        row = new_account_row(
            account_id=account_id,
            org_id=org_id,
            created_at=created_at,
            email=email,
            email_domain=email_domain,
            signup_ip=signup_ip,
            signup_user_agent=signup_user_agent,
            payment_fingerprint=payment_fingerprint,
            payment_country=payment_country,
            country=country,
            verification=verification,
            program=program,
            tier=tier,
        )
        with self._change() as session:
            if session.get(Account, row.account_id) is not None:
                raise Conflict(f"account {row.account_id} already exists")
            if org_id is not None:
                get_row(session, Organization, org_id, "organization")
            row.tier = self.tiers.admissible(session, tier, row.verification)
            session.add(row)
        return account_record(row)

    def add_accounts(self, rows: Sequence[Account]) -> tuple[list[AccountRecord], dict[int, str]]:
        """Insert rows built by :func:`~distillguard.controlplane.rows.new_account_row` in one transaction (bulk import).

        Organizations the rows name are created when missing. Tiers are taken as given (these are
        existing accounts, not upgrades), and ``None`` becomes the lowest tier. Returns the added
        accounts and, by row index, why the others were left out (existing id, unknown tier).
        """
        refused: dict[int, str] = {}
        added: list[AccountRecord] = []
        with self._change() as session:
            ids = [row.account_id for row in rows]
            existing = set(
                session.scalars(select(Account.account_id).where(Account.account_id.in_(ids)))
            )
            tiers = set(session.scalars(select(Tier.tier)))
            orgs = {row.org_id for row in rows if row.org_id is not None}
            known_orgs = set(
                session.scalars(select(Organization.org_id).where(Organization.org_id.in_(orgs)))
            )
            now = datetime.now(UTC)
            for org_id in sorted(orgs - known_orgs):
                session.add(
                    Organization(
                        org_id=org_id,
                        name=org_id,
                        verification="none",
                        status="active",
                        created_at=now,
                    )
                )
            session.flush()  # organizations first: no ORM relationship orders the inserts
            for index, row in enumerate(rows):
                if row.account_id in existing:
                    refused[index] = f"account {row.account_id} already exists"
                    continue
                if row.tier is None and tiers:
                    row.tier = min(tiers)
                if row.tier not in tiers:
                    refused[index] = f"tier {row.tier} is not in the tier table"
                    continue
                existing.add(row.account_id)
                session.add(row)
                added.append(account_record(row))
        return added, refused

    def get_account(self, account_id: str) -> AccountRecord:
        with self._session() as session:
            return account_record(get_row(session, Account, account_id, "account"))

    def list_accounts(
        self,
        *,
        org_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[AccountRecord]:
        """Accounts in creation order, optionally of one organization or status."""
        return list(self.iter_accounts(org_id=org_id, status=status, limit=limit, offset=offset))

    def iter_accounts(
        self,
        *,
        org_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Iterator[AccountRecord]:
        query = select(Account).order_by(Account.created_at, Account.account_id).offset(offset)
        if org_id is not None:
            query = query.where(Account.org_id == org_id)
        if status is not None:
            query = query.where(Account.status == check_status(status))
        if limit is not None:
            query = query.limit(limit)
        with self._session() as session:
            for row in session.scalars(query.execution_options(yield_per=1000)):
                yield account_record(row)

    def suspend_account(self, account_id: str, reason: str) -> AccountRecord:
        """Suspend an account: its keys are refused (403) once the gateway has refreshed."""
        return self._update_account(
            account_id, status="suspended", status_reason=check_reason(reason)
        )

    def reinstate_account(self, account_id: str) -> AccountRecord:
        return self._update_account(account_id, status="active", status_reason=None)

    def set_account_tier(self, account_id: str, tier: int) -> AccountRecord:
        """Move an account to ``tier``; refused if its verification is below the tier's need."""
        with self._change() as session:
            row = get_row(session, Account, account_id, "account")
            row.tier = self.tiers.admissible(session, tier, row.verification)
            return account_record(row)

    def set_account_verification(self, account_id: str, verification: str) -> AccountRecord:
        return self._update_account(account_id, verification=validate_verification(verification))

    def _update_account(self, account_id: str, **changes: Any) -> AccountRecord:
        with self._change() as session:
            row = get_row(session, Account, account_id, "account")
            for name, value in changes.items():
                setattr(row, name, value)
            return account_record(row)

    def export_accounts(self, out: IO[bytes], *, include_email: bool = True) -> int:
        """Write every account as dg.account.v1 JSON Lines to ``out``; return the count."""
        count = 0
        for record in self.iter_accounts():
            out.write(orjson.dumps(record.to_account_v1(include_email=include_email)) + b"\n")
            count += 1
        return count

    # -- API keys ------------------------------------------------------------------------------

    def create_key(
        self, account_id: str, *, name: str = "", expires_at: datetime | None = None
    ) -> CreatedKey:
        """Create a key; the returned ``secret`` is the full API key, shown this once only."""
        now = datetime.now(UTC)
        if expires_at is not None and utc(expires_at) <= now:
            raise InputError("a key's expiry must lie in the future")
        material = apikeys.generate_key(new_id(KEY_PREFIX))
        row = ApiKey(
            key_id=material.key_id,
            account_id=account_id,
            name=name,
            salt=material.salt,
            secret_hash=material.secret_hash,
            created_at=now,
            expires_at=utc(expires_at) if expires_at is not None else None,
        )
        with self._change() as session:
            account = get_row(session, Account, account_id, "account")
            if account.status != "active":
                raise Conflict(
                    f"account {account_id} is suspended; reinstate it before adding keys"
                )
            session.add(row)
        return CreatedKey(record=key_record(row), secret=material.api_key)

    def create_keys(self, account_ids: Sequence[str], *, name: str = "") -> list[CreatedKey]:
        """Create one key for each account in one transaction (e.g. after a bulk import)."""
        created: list[CreatedKey] = []
        now = datetime.now(UTC)
        with self._change() as session:
            found = set(
                session.scalars(
                    select(Account.account_id).where(Account.account_id.in_(account_ids))
                )
            )
            missing = [ident for ident in account_ids if ident not in found]
            if missing:
                raise NotFound(f"account(s) {', '.join(missing[:5])} do not exist")
            for account_id in account_ids:
                material = apikeys.generate_key(new_id(KEY_PREFIX))
                row = ApiKey(
                    key_id=material.key_id,
                    account_id=account_id,
                    name=name,
                    salt=material.salt,
                    secret_hash=material.secret_hash,
                    created_at=now,
                )
                session.add(row)
                created.append(CreatedKey(record=key_record(row), secret=material.api_key))
        return created

    def get_key(self, key_id: str) -> KeyRecord:
        with self._session() as session:
            return key_record(get_row(session, ApiKey, key_id, "API key"))

    def list_keys(self, *, account_id: str | None = None) -> list[KeyRecord]:
        query = select(ApiKey).order_by(ApiKey.created_at, ApiKey.key_id)
        if account_id is not None:
            query = query.where(ApiKey.account_id == account_id)
        with self._session() as session:
            return [key_record(row) for row in session.scalars(query)]

    def revoke_key(self, key_id: str) -> KeyRecord:
        """Revoke a key for good (revoking twice keeps the first time)."""
        with self._change() as session:
            row = get_row(session, ApiKey, key_id, "API key")
            if row.revoked_at is None:
                row.revoked_at = datetime.now(UTC)
            return key_record(row)

    def record_key_use(self, last_used: Mapping[str, datetime]) -> None:
        """Store ``last_used_at`` for many keys at once (the gateway batches these)."""
        if not last_used:
            return
        known = set(self._existing_keys(list(last_used)))
        rows = [
            {"key_id": key_id, "last_used_at": utc(moment)}
            for key_id, moment in last_used.items()
            if key_id in known
        ]
        if rows:
            with self._session() as session:
                session.execute(update(ApiKey), rows)

    def _existing_keys(self, key_ids: Sequence[str]) -> Iterator[str]:
        with self._session() as session:
            yield from session.scalars(select(ApiKey.key_id).where(ApiKey.key_id.in_(key_ids)))


def _stamp_generation(session: Session, _context: Any, _instances: Any) -> None:
    generation = session.info.get("generation")
    if generation is None:
        return
    for row in (*session.new, *session.dirty):
        if isinstance(row, Organization | Account | ApiKey):
            row.generation = generation
