"""Enforcement actions, the subjects they apply to, and the per-request decision.

Five kinds of action, from mild to severe: ``monitor`` (nothing changes for the caller, the
subject is watched), ``throttle`` (a lower tier or custom limits), ``degrade`` (output controls:
reasoning withheld or summarised, logprobs dropped, ``logit_bias`` and ``n`` > 1 refused,
``max_tokens`` capped), ``challenge`` (403 with a message and a verification link until the
account reaches a verification level) and ``suspend`` (403 with ``x-should-retry: false``).

A subject is written ``kind:value``: ``account:acc_1``, ``key:key_1``, ``org:org_1``,
``ip:203.0.113.7`` or ``prefix:203.0.113.0/24``. Every action expires or has a review date.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from distillguard.enforce.output import VERIFICATION_LEVELS, OutputControls
from distillguard.errors import ConfigurationError, GatewayError, InputError, PermissionDenied

SUBJECT_KINDS = ("account", "key", "org", "ip", "prefix")
DEFAULT_CHALLENGE_MESSAGE = (
    "Unusual activity was detected on this account. Verify your identity to continue."
)
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: object, where: str) -> timedelta:
    """``"90s"``, ``"30m"``, ``"12h"``, ``"7d"`` or ``"2w"`` as a timedelta."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None or int(match.group(1)) == 0:
        raise ConfigurationError(f"{where}: {text!r} is not a duration like 30m, 12h, 7d or 2w")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


class ActionKind(StrEnum):
    MONITOR = "monitor"
    THROTTLE = "throttle"
    DEGRADE = "degrade"
    CHALLENGE = "challenge"
    SUSPEND = "suspend"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {kind: rank for rank, kind in enumerate(ActionKind)}


def parse_subject(text: str) -> str:
    """Validate and normalise a subject string (``kind:value``); raise InputError otherwise."""
    kind, sep, value = text.partition(":")
    if not sep or kind not in SUBJECT_KINDS or not value:
        raise InputError(
            f"subject {text!r} must be kind:value with kind one of {', '.join(SUBJECT_KINDS)}"
        )
    try:
        if kind == "ip":
            value = str(ipaddress.ip_address(value))
        elif kind == "prefix":
            value = str(ipaddress.ip_network(value, strict=False))
    except ValueError as exc:
        raise InputError(f"subject {text!r}: {exc}") from None
    return f"{kind}:{value}"


@dataclass(frozen=True, slots=True)
class Throttle:
    """Parameters of a throttle: a lower tier, custom limits per rule (``rpm``, …), or both."""

    tier: int | None = None
    limits: Mapping[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"tier": self.tier, "limits": dict(self.limits)}

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], *, where: str = "throttle") -> Throttle:
        unknown = set(raw) - {"tier", "limits"}
        if unknown:
            raise ConfigurationError(f"{where}: unknown key(s) {sorted(unknown)}; use tier, limits")
        tier = raw.get("tier")
        if tier is not None and (isinstance(tier, bool) or not isinstance(tier, int) or tier < 0):
            raise ConfigurationError(f"{where}.tier: must be a whole number >= 0")
        limits = raw.get("limits") or {}
        if not isinstance(limits, Mapping) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in limits.values()
        ):
            raise ConfigurationError(f"{where}.limits: must map rule names to whole numbers")
        if tier is None and not limits:
            raise ConfigurationError(f"{where}: give a tier, limits, or both")
        return cls(tier=tier, limits=dict(limits))


@dataclass(frozen=True, slots=True)
class Challenge:
    """Parameters of a challenge: the verification level that lifts it, and what to tell the caller."""

    required_verification: str = "id"
    message: str = DEFAULT_CHALLENGE_MESSAGE
    link: str | None = None
    # On an address or prefix: an account-, key- or org-level action in force on the caller (one
    # detection or an operator took on the caller's own evidence) applies in its place.
    defer_to_account: bool = False
    # Seconds: the challenge applies only to callers whose account is younger than this (and to
    # callers whose account's age is unknown). None: to every caller.
    max_account_age: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "required_verification": self.required_verification,
            "message": self.message,
            "link": self.link,
        }
        # written only when set: older records read back the same
        if self.defer_to_account:
            out["defer_to_account"] = True
        if self.max_account_age is not None:
            out["max_account_age"] = self.max_account_age
        return out

    def exempts(self, account_created: float | None, now: float) -> bool:
        """True when the caller's account is old enough to pass this challenge by age alone."""
        return (
            self.max_account_age is not None
            and account_created is not None
            and now - account_created >= self.max_account_age
        )

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], *, where: str = "challenge") -> Challenge:
        unknown = set(raw) - _CHALLENGE_KEYS
        if unknown:
            raise ConfigurationError(
                f"{where}: unknown key(s) {sorted(unknown)}; use "
                + ", ".join(sorted(_CHALLENGE_KEYS))
            )
        defer = raw.get("defer_to_account", False)
        if not isinstance(defer, bool):
            raise ConfigurationError(f"{where}.defer_to_account: must be true or false")
        max_age = _max_account_age(raw.get("max_account_age"), f"{where}.max_account_age")
        level = raw.get("required_verification", "id")
        if level not in VERIFICATION_LEVELS[1:]:
            raise ConfigurationError(
                f"{where}.required_verification: {level!r} is not one of "
                f"{', '.join(VERIFICATION_LEVELS[1:])}"
            )
        if "message" in raw and not isinstance(raw["message"], str):
            raise ConfigurationError(f"{where}.message: must be a string")
        # to_dict() writes link null when there is none, so null must read back
        if raw.get("link") is not None and not isinstance(raw["link"], str):
            raise ConfigurationError(f"{where}.link: must be a string or null")
        return cls(
            required_verification=level,
            message=raw.get("message", DEFAULT_CHALLENGE_MESSAGE),
            link=raw.get("link"),
            defer_to_account=defer,
            max_account_age=max_age,
        )


_CHALLENGE_KEYS = frozenset(
    {"required_verification", "message", "link", "defer_to_account", "max_account_age"}
)


def _max_account_age(raw: object, where: str) -> float | None:
    """A duration (``"30d"``, in a policy) or seconds (a stored action); None when absent."""
    if raw is None:
        return None
    if isinstance(raw, str):
        return parse_duration(raw, where).total_seconds()
    if isinstance(raw, int | float) and not isinstance(raw, bool) and raw > 0:
        return float(raw)
    raise ConfigurationError(f"{where}: {raw!r} is not a duration like 7d or 30d")


def _ts(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(value: object, where: str) -> datetime:
    """Parse an RFC 3339 timestamp into an aware UTC datetime; raise InputError otherwise."""
    if not isinstance(value, str):
        raise InputError(f"{where}: expected an RFC 3339 timestamp, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{where}: {value!r} is not an RFC 3339 timestamp") from None
    if parsed.tzinfo is None:
        raise InputError(f"{where}: {value!r} has no time zone")
    return parsed.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Action:
    """One enforcement action on one subject, with who took it, why, and until when."""

    subject: str
    kind: ActionKind
    reason: str
    actor: str
    created_at: datetime
    expires_at: datetime | None = None
    review_at: datetime | None = None
    rule: str | None = None
    campaign_id: str | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)
    throttle: Throttle | None = None
    degrade: OutputControls | None = None
    challenge: Challenge | None = None

    def __post_init__(self) -> None:
        if self.expires_at is None and self.review_at is None:
            raise InputError(f"action on {self.subject}: give an expiry or a review date")
        if self.kind is ActionKind.THROTTLE and self.throttle is None:
            raise InputError(f"throttle on {self.subject}: needs throttle parameters")
        if self.kind is ActionKind.DEGRADE and self.degrade is None:
            raise InputError(f"degrade on {self.subject}: needs output controls")
        if self.kind is ActionKind.CHALLENGE and self.challenge is None:
            raise InputError(f"challenge on {self.subject}: needs challenge parameters")

    def active(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at

    def same_effect(self, other: Action | None) -> bool:
        """True when ``other`` does the same thing to the caller (kind and parameters)."""
        return (
            other is not None
            and other.kind is self.kind
            and other.throttle == self.throttle
            and other.degrade == self.degrade
            and other.challenge == self.challenge
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "kind": str(self.kind),
            "reason": self.reason,
            "actor": self.actor,
            "created_at": _ts(self.created_at),
            "expires_at": _ts(self.expires_at),
            "review_at": _ts(self.review_at),
            "rule": self.rule,
            "campaign_id": self.campaign_id,
            "evidence": dict(self.evidence),
            "throttle": None if self.throttle is None else self.throttle.to_dict(),
            "degrade": None if self.degrade is None else self.degrade.to_dict(),
            "challenge": None if self.challenge is None else self.challenge.to_dict(),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Action:
        """Rebuild from :meth:`to_dict` output; raise InputError for anything malformed."""
        try:
            kind = ActionKind(raw["kind"])
            return cls(
                subject=parse_subject(raw["subject"]),
                kind=kind,
                reason=str(raw.get("reason", "")),
                actor=str(raw.get("actor", "")),
                created_at=parse_time(raw["created_at"], "created_at"),
                expires_at=_opt_time(raw.get("expires_at"), "expires_at"),
                review_at=_opt_time(raw.get("review_at"), "review_at"),
                rule=raw.get("rule"),
                campaign_id=raw.get("campaign_id"),
                evidence=dict(raw.get("evidence") or {}),
                throttle=_opt(Throttle.from_mapping, raw.get("throttle")),
                degrade=_opt(OutputControls.from_mapping, raw.get("degrade")),
                challenge=_opt(Challenge.from_mapping, raw.get("challenge")),
            )
        except (KeyError, TypeError, ValueError, ConfigurationError) as exc:
            raise InputError(f"malformed action record: {exc!r}") from None


def _opt_time(value: object, where: str) -> datetime | None:
    return None if value is None else parse_time(value, where)


def _opt(build: Any, value: Any) -> Any:
    return None if value is None else build(value)


_CHALLENGE_HEADERS = {"x-should-retry": "false"}
# Members as module constants for the per-request code: on Python 3.11 ``ActionKind.SUSPEND``
# goes through ``EnumType.__getattr__``, several times slower than a global.
_MONITOR = ActionKind.MONITOR
_CHALLENGE = ActionKind.CHALLENGE
_SUSPEND = ActionKind.SUSPEND


@dataclass(frozen=True, slots=True)
class Decision:
    """The active actions that apply to one request, most severe first.

    ``error`` is the response to give instead of serving the request (suspend, challenge), or
    None; ``throttle`` and ``output`` are what to apply when serving it.
    """

    actions: tuple[Action, ...]

    @property
    def primary(self) -> Action:
        return self.actions[0]

    @property
    def kind(self) -> ActionKind:
        return self.actions[0].kind

    @property
    def label(self) -> str:
        """The dg.request.v1 ``decision`` value: allow, throttle, degrade, challenge or block."""
        kind = self.actions[0].kind
        if kind is _SUSPEND:
            return "block"
        return "allow" if kind is _MONITOR else str(kind)

    @property
    def throttle(self) -> Throttle | None:
        return next((a.throttle for a in self.actions if a.throttle is not None), None)

    @property
    def output(self) -> OutputControls | None:
        controls = [a.degrade for a in self.actions if a.degrade is not None]
        if not controls:
            return None
        merged = controls[0]
        for more in controls[1:]:
            merged = merged.merge(more)
        return merged

    def error(self) -> GatewayError | None:
        action = self.actions[0]
        if action.kind is _SUSPEND:
            return PermissionDenied(
                "This account has been suspended for violating the usage policies. "
                "Contact support if you believe this is a mistake.",
                headers=_CHALLENGE_HEADERS,
                should_retry=False,
            )
        if action.kind is _CHALLENGE and action.challenge is not None:
            message = action.challenge.message
            if action.challenge.link:
                message = f"{message} Verify at {action.challenge.link}"
            return PermissionDenied(message, headers=_CHALLENGE_HEADERS, should_retry=False)
        return None
