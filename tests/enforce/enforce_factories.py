"""Builders of findings documents and actions shared by the enforce tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from distillguard.enforce.actions import Action, ActionKind, Challenge, Throttle
from distillguard.enforce.output import OutputControls, Reasoning

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def account(
    account_id: str,
    score: float,
    *,
    flagged: bool = False,
    campaign_id: str | None = None,
    signals: tuple[str, ...] = (),
) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "score": score,
        "flagged": flagged,
        "campaign_id": campaign_id,
        "reasons": [{"signal": s, "weight": 0.5, "detail": f"{s} seen"} for s in signals],
    }


def campaign(campaign_id: str, members: list[str], confidence: float) -> dict[str, Any]:
    return {
        "campaign_id": campaign_id,
        "account_ids": members,
        "requests": 100,
        "first_seen": "2026-11-20T00:00:00Z",
        "last_seen": "2026-11-21T00:00:00Z",
        "confidence": confidence,
        "capabilities": {"code": 1.0},
        "infrastructure": {"ips": 3},
        "summary": "test campaign",
    }


def findings(
    accounts: list[dict[str, Any]], campaigns: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "schema": "dg.findings.v1",
        "generated_at": "2026-11-22T11:00:00Z",
        "window": {"start": "2026-11-21T11:00:00Z", "end": "2026-11-22T11:00:00Z"},
        "accounts": accounts,
        "campaigns": campaigns or [],
    }


def make_action(
    subject: str,
    kind: ActionKind = ActionKind.SUSPEND,
    *,
    at: datetime = NOW,
    hours: float | None = 24,
) -> Action:
    return Action(
        subject=subject,
        kind=kind,
        reason="test",
        actor="tester",
        created_at=at,
        expires_at=None if hours is None else at + timedelta(hours=hours),
        review_at=at + timedelta(days=1) if hours is None else None,
        throttle=Throttle(tier=0) if kind is ActionKind.THROTTLE else None,
        degrade=OutputControls(reasoning=Reasoning.NONE) if kind is ActionKind.DEGRADE else None,
        challenge=Challenge(required_verification="id", link="https://x.test/v")
        if kind is ActionKind.CHALLENGE
        else None,
    )
