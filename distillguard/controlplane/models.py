"""SQLAlchemy models of the control plane: organizations, accounts, API keys and tiers.

The schema itself is created and changed only by the Alembic migrations shipped in
:mod:`distillguard.controlplane.migrations`; these classes must stay in step with them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of the control-plane tables."""


class Organization(Base):
    __tablename__ = "dg_orgs"

    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    verification: Mapped[str] = mapped_column(String(16), default="none")
    status: Mapped[str] = mapped_column(String(16), default="active")
    status_reason: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    generation: Mapped[int] = mapped_column(BigInteger, default=0, index=True)  # see State


class Account(Base):
    __tablename__ = "dg_accounts"

    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("dg_orgs.org_id"), index=True, default=None
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    email_domain: Mapped[str | None] = mapped_column(String(255), index=True, default=None)
    signup_ip: Mapped[str | None] = mapped_column(String(64), default=None)
    signup_user_agent: Mapped[str | None] = mapped_column(Text, default=None)
    payment_fingerprint: Mapped[str | None] = mapped_column(String(128), index=True, default=None)
    payment_country: Mapped[str | None] = mapped_column(String(2), default=None)
    country: Mapped[str | None] = mapped_column(String(2), default=None)
    verification: Mapped[str] = mapped_column(String(16), default="none")
    program: Mapped[str] = mapped_column(String(16), default="standard")
    tier: Mapped[int | None] = mapped_column(Integer, default=None)
    status: Mapped[str] = mapped_column(String(16), default="active")
    status_reason: Mapped[str | None] = mapped_column(Text, default=None)
    generation: Mapped[int] = mapped_column(BigInteger, default=0, index=True)  # see State


class ApiKey(Base):
    __tablename__ = "dg_api_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("dg_accounts.account_id"), index=True
    )
    name: Mapped[str] = mapped_column(String(200), default="")
    salt: Mapped[str] = mapped_column(String(64))  # hex
    secret_hash: Mapped[str] = mapped_column(String(128))  # hex SHA-256 of salt + secret
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    generation: Mapped[int] = mapped_column(BigInteger, default=0, index=True)  # see State


class Tier(Base):
    __tablename__ = "dg_tiers"

    tier: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    required_verification: Mapped[str] = mapped_column(String(16), default="none")
    limits: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class State(Base):
    """Named counters; ``generation`` grows with every change that matters to authentication.

    Every organization, account and key row touched by a change is stamped with the change's
    generation, so a reader that has seen generation *g* reloads only rows stamped above *g*.
    """

    __tablename__ = "dg_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
