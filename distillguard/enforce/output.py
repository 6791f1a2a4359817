"""Output controls: what a caller may ask for and see, and the request-side transform.

An :class:`OutputControls` says how much of the model's output layer and reasoning a caller may
reach: logprobs and ``top_logprobs``, ``logit_bias``, ``n`` > 1, ``max_tokens``, a thinking budget,
and how reasoning text is exposed (full, summarised, none). Carlini et al. (2024) recovered a
production model's embedding projection from logprobs together with ``logit_bias`` for a few
dollars, so :func:`default_controls` turns both off below a verified level and never allows them
together.

:func:`restrict_request` applies the controls to a parsed request body of one of the four
endpoints of dg.request.v1. It refuses what the caller may not have (:class:`PermissionDenied`,
403, with a message that says why) and caps what may be capped. Response-side filtering lives in
:mod:`distillguard.enforce.responses`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from distillguard.errors import BadRequest, ConfigurationError, PermissionDenied

ENDPOINTS = (
    "openai.chat.completions",
    "openai.completions",
    "openai.responses",
    "anthropic.messages",
)
VERIFICATION_LEVELS = ("none", "email", "phone", "payment", "id", "org")
_ANTHROPIC_MIN_THINKING = 1024  # the Messages API rejects smaller thinking budgets


class Reasoning(StrEnum):
    """How reasoning/thinking text is exposed to the caller."""

    FULL = "full"
    SUMMARISED = "summarised"  # a deterministic truncation to the first N sentences, marked
    NONE = "none"


class Logprobs(StrEnum):
    """What happens to a request for logprobs."""

    ALLOW = "allow"
    DROP = "drop"  # removed from the request silently; none come back
    REFUSE = "refuse"  # the request is refused with 403


_REASONING_ORDER = {Reasoning.FULL: 0, Reasoning.SUMMARISED: 1, Reasoning.NONE: 2}
_LOGPROBS_ORDER = {Logprobs.ALLOW: 0, Logprobs.DROP: 1, Logprobs.REFUSE: 2}


def _min_opt(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


@dataclass(frozen=True, slots=True)
class OutputControls:
    """Limits on what a request may ask for and what its response may show.

    The default instance restricts nothing. ``merge`` combines two controls into the more
    restrictive of each field, so a degrade action and a tier default compose.
    """

    reasoning: Reasoning = Reasoning.FULL
    summary_sentences: int = 2
    logprobs: Logprobs = Logprobs.ALLOW
    max_top_logprobs: int | None = None
    logprob_decimals: int | None = None  # round returned logprobs to this many decimals
    logit_bias: bool = True
    logprobs_with_logit_bias: bool = True
    max_n: int | None = None
    max_tokens: int | None = None
    max_thinking_tokens: int | None = None  # 0 turns thinking off

    @property
    def unrestricted(self) -> bool:
        return self == _UNRESTRICTED

    def merge(self, other: OutputControls) -> OutputControls:
        """The more restrictive of ``self`` and ``other``, field by field."""
        return OutputControls(
            reasoning=max(self.reasoning, other.reasoning, key=_REASONING_ORDER.__getitem__),
            summary_sentences=min(self.summary_sentences, other.summary_sentences),
            logprobs=max(self.logprobs, other.logprobs, key=_LOGPROBS_ORDER.__getitem__),
            max_top_logprobs=_min_opt(self.max_top_logprobs, other.max_top_logprobs),
            logprob_decimals=_min_opt(self.logprob_decimals, other.logprob_decimals),
            logit_bias=self.logit_bias and other.logit_bias,
            logprobs_with_logit_bias=self.logprobs_with_logit_bias
            and other.logprobs_with_logit_bias,
            max_n=_min_opt(self.max_n, other.max_n),
            max_tokens=_min_opt(self.max_tokens, other.max_tokens),
            max_thinking_tokens=_min_opt(self.max_thinking_tokens, other.max_thinking_tokens),
        )

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, StrEnum) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], *, where: str = "degrade") -> OutputControls:
        """Build from a TOML/JSON table; unknown keys or bad values raise ConfigurationError."""
        known = set(cls.__dataclass_fields__)
        unknown = set(raw) - known
        if unknown:
            raise ConfigurationError(
                f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(known)}"
            )
        values: dict[str, Any] = {}
        for key, value in raw.items():
            if key == "reasoning":
                values[key] = _enum(Reasoning, value, f"{where}.reasoning")
            elif key == "logprobs":
                if isinstance(value, bool):  # `logprobs = false` reads naturally in a policy
                    value = "allow" if value else "refuse"
                values[key] = _enum(Logprobs, value, f"{where}.logprobs")
            elif key in ("logit_bias", "logprobs_with_logit_bias"):
                if not isinstance(value, bool):
                    raise ConfigurationError(f"{where}.{key}: must be true or false")
                values[key] = value
            else:
                if value is not None and (
                    isinstance(value, bool) or not isinstance(value, int) or value < 0
                ):
                    raise ConfigurationError(f"{where}.{key}: must be a whole number >= 0")
                values[key] = value
        if values.get("summary_sentences", 1) == 0:
            raise ConfigurationError(f"{where}.summary_sentences: must be at least 1")
        return cls(**values)


def _enum(kind: type[Reasoning] | type[Logprobs], value: object, where: str) -> Any:
    try:
        return kind(value if isinstance(value, str) else repr(value))
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise ConfigurationError(f"{where}: {value!r} is not one of {allowed}") from None


_UNRESTRICTED = OutputControls()
# Members as module constants for the per-request code: on Python 3.11 ``Logprobs.DROP`` goes
# through ``EnumType.__getattr__``, several times slower than a global.
_REFUSE = Logprobs.REFUSE
_DROP = Logprobs.DROP

_BELOW_VERIFIED = OutputControls(logprobs=Logprobs.REFUSE, logit_bias=False)
_VERIFIED = OutputControls(max_top_logprobs=5, logprobs_with_logit_bias=False)


def default_controls(verification: str, *, verified_level: str = "id") -> OutputControls:
    """Per-tier default controls for an account at ``verification``.

    Below ``verified_level`` logprobs are refused and ``logit_bias`` is refused; at or above it
    logprobs are capped at 5 alternatives and may not be combined with ``logit_bias``.
    """
    try:
        rank = VERIFICATION_LEVELS.index(verification)
        needed = VERIFICATION_LEVELS.index(verified_level)
    except ValueError:
        raise ConfigurationError(
            f"verification level must be one of {', '.join(VERIFICATION_LEVELS)}"
        ) from None
    return _VERIFIED if rank >= needed else _BELOW_VERIFIED


def restrict_request(
    endpoint: str, body: dict[str, Any], controls: OutputControls
) -> dict[str, Any]:
    """Apply ``controls`` to a parsed request body; return the (possibly new) body.

    Raises :class:`PermissionDenied` for a refused feature and :class:`BadRequest` for a field
    of the wrong type. The input dict is not modified.
    """
    if controls.unrestricted:
        return body
    if endpoint not in ENDPOINTS:
        raise ConfigurationError(f"unknown endpoint {endpoint!r}; one of {', '.join(ENDPOINTS)}")
    out = dict(body)
    if endpoint == "anthropic.messages":
        _cap_anthropic(out, controls)
        return out
    _check_logit_bias(out, controls)
    _restrict_logprobs(endpoint, out, controls)
    _cap_n(out, controls)
    _cap_max_tokens(endpoint, out, controls)
    if controls.max_thinking_tokens is not None:
        _cap_openai_reasoning(endpoint, out, controls.max_thinking_tokens)
    return out


def _wants_logprobs(endpoint: str, body: Mapping[str, Any]) -> bool:
    if endpoint == "openai.responses":
        include = body.get("include") or []
        return bool(body.get("top_logprobs")) or "message.output_text.logprobs" in include
    value = body.get("logprobs")
    # completions takes an int (0 still returns the chosen token's logprob)
    return value is not None and value is not False


def _check_logit_bias(body: dict[str, Any], controls: OutputControls) -> None:
    if not body.get("logit_bias"):
        return
    if not controls.logit_bias:
        raise PermissionDenied(
            "logit_bias is not available to this account; it requires a verified organization."
        )


def _restrict_logprobs(endpoint: str, body: dict[str, Any], c: OutputControls) -> None:
    if not _wants_logprobs(endpoint, body):
        return
    if c.logprobs is _REFUSE:
        raise PermissionDenied(
            "logprobs are not available to this account; they require a verified organization."
        )
    if c.logprobs is _DROP:
        for key in ("logprobs", "top_logprobs"):
            body.pop(key, None)
        if endpoint == "openai.responses" and body.get("include"):
            body["include"] = [i for i in body["include"] if i != "message.output_text.logprobs"]
        return
    if body.get("logit_bias") and not c.logprobs_with_logit_bias:
        raise PermissionDenied("logprobs cannot be combined with logit_bias on this account.")
    if c.max_top_logprobs is not None:
        key = "logprobs" if endpoint == "openai.completions" else "top_logprobs"
        value = body.get(key)
        if isinstance(value, bool) or not isinstance(value, int | None):
            raise BadRequest(f"{key} must be an integer")
        if value is not None and value > c.max_top_logprobs:
            body[key] = c.max_top_logprobs


def _cap_n(body: dict[str, Any], c: OutputControls) -> None:
    if c.max_n is None:
        return
    for key in ("n", "best_of"):
        value = body.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadRequest(f"{key} must be an integer")
        if value > c.max_n:
            raise PermissionDenied(
                f"{key}={value} is not available to this account; at most {c.max_n}."
            )


def _cap_max_tokens(endpoint: str, body: dict[str, Any], c: OutputControls) -> None:
    if c.max_tokens is None:
        return
    if endpoint == "openai.responses":
        keys = ["max_output_tokens"]
    elif endpoint == "openai.chat.completions" and "max_completion_tokens" in body:
        keys = ["max_completion_tokens"]
    else:
        keys = ["max_tokens"]
    for key in keys:
        value = body.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise BadRequest(f"{key} must be an integer")
        if value is None or value > c.max_tokens:
            body[key] = c.max_tokens


def _cap_openai_reasoning(endpoint: str, body: dict[str, Any], cap: int) -> None:
    # OpenAI has no thinking budget, only an effort level: any cap lowers it to "low",
    # a cap of 0 to "minimal". An approximation, documented as such.
    target = "minimal" if cap == 0 else "low"
    if endpoint == "openai.responses":
        reasoning = body.get("reasoning")
        if isinstance(reasoning, Mapping) and reasoning.get("effort") not in (None, "minimal"):
            body["reasoning"] = {**reasoning, "effort": target}
    elif body.get("reasoning_effort") not in (None, "minimal"):
        body["reasoning_effort"] = target


def _cap_anthropic(body: dict[str, Any], c: OutputControls) -> None:
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int | None):
        raise BadRequest("max_tokens must be an integer")
    if c.max_tokens is not None and (max_tokens is None or max_tokens > c.max_tokens):
        body["max_tokens"] = max_tokens = c.max_tokens
    thinking = body.get("thinking")
    if not isinstance(thinking, Mapping) or thinking.get("type") != "enabled":
        return
    budget = thinking.get("budget_tokens")
    if isinstance(budget, bool) or not isinstance(budget, int):
        raise BadRequest("thinking.budget_tokens must be an integer")
    if c.max_thinking_tokens is not None:
        budget = min(budget, c.max_thinking_tokens)
    if max_tokens is not None:
        budget = min(budget, max_tokens - 1)
    if budget < _ANTHROPIC_MIN_THINKING:
        body["thinking"] = {"type": "disabled"}
    elif budget != thinking.get("budget_tokens"):
        body["thinking"] = {**thinking, "budget_tokens": budget}
