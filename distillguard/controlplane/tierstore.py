"""The tier table in the database: read, edit one limit, replace the whole table.

Reached through :attr:`ControlPlaneStore.tiers <distillguard.controlplane.store.ControlPlaneStore>`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from distillguard.controlplane.models import Account, Tier
from distillguard.controlplane.records import verification_rank
from distillguard.controlplane.tiers import (
    TierSpec,
    tier_from_dict,
    validate_amount,
    validate_rule,
    validate_scope,
)
from distillguard.errors import Conflict, InputError, NotFound

SessionFactory = Callable[[], AbstractContextManager[Session]]


class TierTable:
    """Operator-editable usage tiers (seeded with :func:`~distillguard.controlplane.tiers.default_tiers`)."""

    def __init__(self, sessions: SessionFactory, changes: SessionFactory) -> None:
        self._sessions = sessions
        self._changes = changes

    def all(self) -> list[TierSpec]:
        """Every tier, lowest first."""
        with self._sessions() as session:
            return [_spec(row) for row in session.scalars(select(Tier).order_by(Tier.tier))]

    def get(self, tier: int) -> TierSpec:
        with self._sessions() as session:
            return _spec(_row(session, tier))

    def put(self, spec: TierSpec) -> TierSpec:
        """Create or replace one tier."""
        clean = _validated(spec)
        with self._changes() as session:
            _store(session, clean)
        return clean

    def set_limit(self, tier: int, scope: str, rule: str, amount: int | None) -> TierSpec:
        """Set one limit of a tier; ``amount=None`` removes it (unlimited)."""
        validate_scope(scope)
        validate_rule(rule)
        if amount is not None:
            validate_amount(amount, where=f"{scope}.{rule}")
        with self._changes() as session:
            row = _row(session, tier)
            limits = {s: dict(rules) for s, rules in row.limits.items()}
            if amount is None:
                limits.get(scope, {}).pop(rule, None)
                if not limits.get(scope, True):
                    del limits[scope]
            else:
                limits.setdefault(scope, {})[rule] = amount
            row.limits = limits  # a new object, so the JSON column is marked dirty
            return _spec(row)

    def delete(self, tier: int) -> None:
        """Delete a tier no account is on."""
        with self._changes() as session:
            row = _row(session, tier)
            _refuse_if_used(session, [tier])
            session.delete(row)

    def replace_all(self, specs: Iterable[TierSpec]) -> list[TierSpec]:
        """Make the table exactly ``specs`` (an import); tiers still in use may not disappear."""
        table = [_validated(spec) for spec in specs]
        if not table:
            raise InputError("a tier table needs at least one tier")
        with self._changes() as session:
            keep = {spec.tier for spec in table}
            gone = [n for n in session.scalars(select(Tier.tier)) if n not in keep]
            _refuse_if_used(session, gone)
            for number in gone:
                session.delete(_row(session, number))
            for spec in table:
                _store(session, spec)
        return self.all()

    def admissible(self, session: Session, tier: int | None, verification: str) -> int:
        """The tier to give an account: ``tier`` if its verification allows it, else refuse.

        ``None`` means the lowest tier of the table.
        """
        if tier is None:
            lowest = session.scalar(select(func.min(Tier.tier)))
            if lowest is None:
                raise Conflict("the tier table is empty; import one with distillguard tiers import")
            return int(lowest)
        row = _row(session, tier)
        if verification_rank(verification) < verification_rank(row.required_verification):
            raise Conflict(
                f"tier {tier} ({row.name}) requires verification {row.required_verification!r}; "
                f"the account has only {verification!r}"
            )
        return tier


def _validated(spec: TierSpec) -> TierSpec:
    return tier_from_dict(
        {
            "tier": spec.tier,
            "name": spec.name,
            "limits": spec.limits,
            "required_verification": spec.required_verification,
            "description": spec.description,
        },
        where=f"tier {spec.tier}",
    )


def _row(session: Session, tier: int) -> Tier:
    row = session.get(Tier, tier)
    if row is None:
        raise NotFound(f"tier {tier} does not exist")
    return row


def _refuse_if_used(session: Session, tiers: list[int]) -> None:
    if not tiers:
        return
    used = session.scalars(select(Account.tier).where(Account.tier.in_(tiers)).distinct()).all()
    if used:
        raise Conflict(f"tier(s) {sorted(t for t in used if t is not None)} still have accounts")


def _store(session: Session, spec: TierSpec) -> None:
    values: dict[str, Any] = {
        "name": spec.name,
        "description": spec.description,
        "required_verification": spec.required_verification,
        "limits": {scope: dict(rules) for scope, rules in spec.limits.items()},
    }
    row = session.get(Tier, spec.tier)
    if row is None:
        session.add(Tier(tier=spec.tier, **values))
    else:
        for name, value in values.items():
            setattr(row, name, value)


def _spec(row: Tier) -> TierSpec:
    return TierSpec(
        tier=row.tier,
        name=row.name,
        limits={scope: dict(rules) for scope, rules in row.limits.items()},
        required_verification=row.required_verification,
        description=row.description,
    )
