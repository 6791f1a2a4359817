"""Rate-limit headers in each provider's convention, and the 429 built from a refusal.

OpenAI routes get ``x-ratelimit-{limit,remaining,reset}-{requests,tokens}`` with resets as Go
durations (``1s``, ``6m0s``, ``12ms``); Anthropic routes get
``anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}`` with
RFC 3339 resets. The figures come from :func:`distillguard.ratelimit.plan.header_view`: the
tightest counter of each family across all scopes, the one the caller will hit first.

A refusal becomes a :class:`~distillguard.gateway.errors.Throttled` carrying ``retry-after``
(whole seconds, rounded up) and ``retry-after-ms`` when waiting at most 60 s will help, and
``x-should-retry: false`` when it will not (a daily cap, a cost above the limit), which is what
the official SDKs obey.
"""

from __future__ import annotations

import math
import time

from distillguard.gateway.errors import Provider, Throttled
from distillguard.ratelimit.base import Decision
from distillguard.ratelimit.plan import header_view

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


def limit_headers(decision: Decision, provider: Provider) -> dict[str, str]:
    """The provider's rate-limit headers for a decision (empty when no rate rule applied)."""
    view = header_view(decision)
    headers: dict[str, str] = {}
    if provider == "openai":
        for family, limit, remaining, reset in (
            ("requests", view.requests_limit, view.requests_remaining, view.requests_reset_s),
            ("tokens", view.tokens_limit, view.tokens_remaining, view.tokens_reset_s),
        ):
            if limit is not None:
                headers[f"x-ratelimit-limit-{family}"] = str(limit)
                headers[f"x-ratelimit-remaining-{family}"] = str(max(remaining or 0, 0))
                headers[f"x-ratelimit-reset-{family}"] = go_duration(reset or 0.0)
        return headers
    for family, limit, remaining, reset in (
        ("requests", view.requests_limit, view.requests_remaining, view.requests_reset_s),
        ("tokens", view.tokens_limit, view.tokens_remaining, view.tokens_reset_s),
        (
            "input-tokens",
            view.input_tokens_limit,
            view.input_tokens_remaining,
            view.input_tokens_reset_s,
        ),
        (
            "output-tokens",
            view.output_tokens_limit,
            view.output_tokens_remaining,
            view.output_tokens_reset_s,
        ),
    ):
        if limit is not None:
            headers[f"anthropic-ratelimit-{family}-limit"] = str(limit)
            headers[f"anthropic-ratelimit-{family}-remaining"] = str(max(remaining or 0, 0))
            headers[f"anthropic-ratelimit-{family}-reset"] = rfc3339_in(reset or 0.0)
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
