"""Rate-limit headers in each provider's convention, and the 429 built from a refusal.

OpenAI routes get ``x-ratelimit-{limit,remaining,reset}-{requests,tokens}`` with resets as Go
durations (``1s``, ``6m0s``, ``12ms``); Anthropic routes get
``anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}`` with
RFC 3339 resets. The figures are those of :func:`distillguard.ratelimit.plan.header_view` (the
tightest counter of each family across all scopes, the one the caller will hit first), computed
in a single pass because this runs on every response.

A refusal becomes a :class:`~distillguard.gateway.errors.Throttled` carrying ``retry-after``
(whole seconds, rounded up) and ``retry-after-ms`` when waiting at most 60 s will help, and
``x-should-retry: false`` when it will not (a daily cap, a cost above the limit), which is what
the official SDKs obey.
"""

from __future__ import annotations

import math
import time

from distillguard.gateway.errors import Provider, Throttled
from distillguard.ratelimit.base import Decision, LimitState

MAX_HONOURED_WAIT_S = 60.0
TOKEN_RULES = frozenset({"itpm", "otpm", "daily_tokens"})
_RULE_NAMES = {
    "rpm": "requests per min (RPM)",
    "itpm": "input tokens per min (ITPM)",
    "otpm": "output tokens per min (OTPM)",
    "concurrent": "concurrent requests",
    "daily_requests": "requests per day (RPD)",
    "daily_tokens": "tokens per day (TPD)",
}


def go_duration(seconds: float) -> str:
    """Format like Go's ``time.Duration.String``: ``12ms``, ``1s``, ``1.5s``, ``6m0s``, ``1h0m0s``."""
    if seconds <= 0:
        return "0s"
    millis = round(seconds * 1000)
    if millis < 1000:
        return f"{max(millis, 1)}ms"
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs = f"{rest // 1000}.{rest % 1000:03d}".rstrip("0").rstrip(".")
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


_stamp_cache: tuple[int, str] = (-1, "")


def rfc3339_in(seconds: float, now: float | None = None) -> str:
    """The UTC time ``seconds`` from now as ``2025-08-21T12:40:59Z`` (rounded up to the second)."""
    global _stamp_cache
    moment = math.ceil((time.time() if now is None else now) + max(seconds, 0.0))
    if _stamp_cache[0] != moment:
        _stamp_cache = (moment, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment)))
    return _stamp_cache[1]


_FAMILY_OF = {
    "rpm": (0, -1),
    "daily_requests": (0, -1),
    "itpm": (1, 2),
    "otpm": (1, 3),
    "daily_tokens": (1, -1),
}
_OPENAI_NAMES = ("requests", "tokens")
_ANTHROPIC_NAMES = ("requests", "tokens", "input-tokens", "output-tokens")


def _tightest(decision: Decision) -> list[LimitState | None]:
    """Per family (requests, tokens, input tokens, output tokens) the state with the fewest
    units left (ties: the later reset) — the semantics of
    :func:`distillguard.ratelimit.plan.header_view`, in one pass over the states."""
    best: list[LimitState | None] = [None, None, None, None]
    for state in decision.states:
        families = _FAMILY_OF.get(state.demand.rule.name)
        if families is None:
            continue
        for family in families:
            if family < 0:
                continue
            current = best[family]
            if (
                current is None
                or state.remaining < current.remaining
                or (state.remaining == current.remaining and state.reset_s > current.reset_s)
            ):
                best[family] = state
    return best


def limit_headers(decision: Decision, provider: Provider) -> dict[str, str]:
    """The provider's rate-limit headers for a decision (empty when no rate rule applied)."""
    best = _tightest(decision)
    headers: dict[str, str] = {}
    if provider == "openai":
        for family, name in enumerate(_OPENAI_NAMES):
            state = best[family]
            if state is not None:
                headers[f"x-ratelimit-limit-{name}"] = str(state.demand.rule.limit)
                headers[f"x-ratelimit-remaining-{name}"] = str(max(state.remaining, 0))
                headers[f"x-ratelimit-reset-{name}"] = go_duration(state.reset_s)
        return headers
    for family, name in enumerate(_ANTHROPIC_NAMES):
        state = best[family]
        if state is not None:
            headers[f"anthropic-ratelimit-{name}-limit"] = str(state.demand.rule.limit)
            headers[f"anthropic-ratelimit-{name}-remaining"] = str(max(state.remaining, 0))
            headers[f"anthropic-ratelimit-{name}-reset"] = rfc3339_in(state.reset_s)
    return headers


def throttle_error(decision: Decision, provider: Provider, *, model: str) -> Throttled:
    """The 429 for a refused decision, with its retry advice."""
    headers = limit_headers(decision, provider)
    blocking = decision.blocking
    rule = blocking.demand.rule if blocking is not None else None
    rule_name = rule.name if rule is not None else "rpm"
    wait = blocking.retry_after_s if blocking is not None else None
    if wait is None and rule_name == "concurrent":
        wait = 1.0
    helpful = wait is not None and wait <= MAX_HONOURED_WAIT_S
    what = _RULE_NAMES.get(rule_name, rule_name)
    if rule is not None and blocking is not None:
        used = max(rule.limit - blocking.remaining, 0)
        detail = f"Limit {rule.limit}, Used {used}, Requested {blocking.demand.cost}."
        if blocking.demand.cost > rule.limit:
            helpful = False
            detail += " The request is larger than the limit; reduce max_tokens or the input."
    else:
        detail = ""
    too_big = blocking is not None and rule is not None and blocking.demand.cost > rule.limit
    if wait is not None and not too_big:
        headers["retry-after"] = str(math.ceil(wait))
        headers["retry-after-ms"] = str(max(math.ceil(wait * 1000), 0))
        detail += f" Please try again in {go_duration(wait)}."
    scope = blocking.demand.scope if blocking is not None else "key"
    message = f"Rate limit reached for {model or 'requests'} on {what} (scope: {scope}). {detail}"
    return Throttled(
        message.strip(),
        limit_type="tokens" if rule_name in TOKEN_RULES else "requests",
        headers=headers,
        should_retry=None if helpful else False,
    )
