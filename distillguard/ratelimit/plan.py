"""From an authenticated request to the limiter's demands, and from a decision to headers.

:func:`demands_for` turns a :class:`~distillguard.controlplane.principal.Principal`, the
client address and the request's token estimate into one
:class:`~distillguard.ratelimit.base.Demand` per (scope, rule) that the tier limits:

========  =============================================  ==================================
scope     subject                                        applies
========  =============================================  ==================================
key       the API key                                    always
account   the account                                    always
org       the organization                               when the account has one
ip        the client address                             when the address is known
ip24      the IPv4 /24 network                           IPv4 only (also IPv4-mapped IPv6)
ip48      the IPv6 /48 network                           IPv6 only
========  =============================================  ==================================

Costs: ``rpm``, ``concurrent`` and ``daily_requests`` 1; ``itpm`` the input tokens; ``otpm``
``max_tokens`` (a reservation corrected at settle); ``daily_tokens`` both. Keys read
``dg:rl:{scope}:{value}:{rule}``.

:func:`header_view` summarises a :class:`~distillguard.ratelimit.base.Decision` for the
``x-ratelimit-*`` and ``anthropic-ratelimit-*`` response headers.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from distillguard.controlplane.principal import RULES, SCOPES, Principal, TierLimits
from distillguard.errors import ConfigurationError, InputError
from distillguard.ratelimit import gcra
from distillguard.ratelimit.base import Decision, Demand, LimitKind, LimitState, Rule

KEY_PREFIX = "dg:rl:"

# rule name -> (kind, period in seconds, which request quantity is its cost)
_SHAPES: dict[str, tuple[LimitKind, float, int]] = {
    "rpm": (LimitKind.RATE, 60.0, 0),
    "itpm": (LimitKind.RATE, 60.0, 1),
    "otpm": (LimitKind.RATE, 60.0, 2),
    "concurrent": (LimitKind.CONCURRENCY, 60.0, 0),
    "daily_requests": (LimitKind.DAILY, 86_400.0, 0),
    "daily_tokens": (LimitKind.DAILY, 86_400.0, 3),
}

REQUEST_RULES = frozenset({"rpm", "daily_requests"})
TOKEN_RULES = frozenset({"itpm", "otpm", "daily_tokens"})


class _TierTable:
    """The rules of one tier, compiled once: per scope, (Rule, cost slot) pairs."""

    __slots__ = ("scopes", "tier")

    def __init__(self, tier: TierLimits) -> None:
        self.tier = tier  # held so that id(tier) cannot be reused while cached
        self.scopes: dict[str, tuple[tuple[Rule, int], ...]] = {}
        for scope in SCOPES:
            rules = []
            for name in RULES:
                limit = tier.get(scope, name)
                if limit is None:
                    continue
                kind, period_s, slot = _SHAPES[name]
                if not isinstance(limit, int) or limit < 0:
                    raise ConfigurationError(
                        f"tier {tier.name!r}: limit {scope}.{name} must be an int >= 0, got {limit!r}"
                    )
                if kind is LimitKind.RATE:
                    gcra.validate(name, limit, period_s)
                rules.append((Rule(name, kind, limit, period_s), slot))
            self.scopes[scope] = tuple(rules)


_tables: dict[int, _TierTable] = {}


def _table(tier: TierLimits) -> _TierTable:
    table = _tables.get(id(tier))
    if table is None or table.tier is not tier:
        if len(_tables) > 4096:
            _tables.clear()
        table = _tables[id(tier)] = _TierTable(tier)
    return table


@functools.lru_cache(maxsize=65_536)
def _subject(
    scope: str, value: str, table: _TierTable
) -> tuple[tuple[Demand | None, str, Rule, int], ...]:
    """Keys of one subject; demands of cost 1 are built once and reused."""
    entries = []
    for rule, slot in table.scopes[scope]:
        key = f"{KEY_PREFIX}{scope}:{value}:{rule.name}"
        fixed = Demand(key, scope, rule, 1) if slot == 0 else None
        entries.append((fixed, key, rule, slot))
    return tuple(entries)


@functools.lru_cache(maxsize=65_536)
def networks(client_ip: str) -> tuple[str, str | None, str | None]:
    """The canonical address, its IPv4 /24 and its IPv6 /48 (``None`` when not applicable).

    An IPv4-mapped IPv6 address counts as IPv4. A string that is not an address is kept as
    the ``ip`` subject as it is, without networks.
    """
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return client_ip, None, None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is None:
            net48 = ipaddress.IPv6Network((address, 48), strict=False)
            return str(address), None, str(net48)
        address = address.ipv4_mapped
    net24 = ipaddress.IPv4Network((address, 24), strict=False)
    return str(address), str(net24), None


def demands_for(
    principal: Principal, client_ip: str | None, input_tokens: int, max_tokens: int
) -> tuple[Demand, ...]:
    """The demands of one request (see the module docstring for scopes and costs).

    Example::

        demands = demands_for(principal, "203.0.113.7", input_tokens=812, max_tokens=1024)
        decision = await limiter.acquire(demands)
    """
    if input_tokens < 0 or max_tokens < 0:
        raise InputError(
            f"token counts must be >= 0, got input_tokens={input_tokens}, max_tokens={max_tokens}"
        )
    table = _table(principal.tier)
    costs = (1, input_tokens, max_tokens, input_tokens + max_tokens)
    subjects: list[tuple[str, str]] = [("key", principal.key_id), ("account", principal.account_id)]
    if principal.org_id is not None:
        subjects.append(("org", principal.org_id))
    if client_ip:
        address, net24, net48 = networks(client_ip)
        subjects.append(("ip", address))
        if net24 is not None:
            subjects.append(("ip24", net24))
        if net48 is not None:
            subjects.append(("ip48", net48))
    demands: list[Demand] = []
    scopes = table.scopes
    for scope, value in subjects:
        if not scopes[scope]:
            continue
        for fixed, key, rule, slot in _subject(scope, value, table):
            demands.append(fixed or Demand(key, scope, rule, costs[slot]))
    return tuple(demands)


@dataclass(frozen=True, slots=True)
class HeaderView:
    """The tightest limits of a decision, as rate-limit response headers show them.

    ``requests_*`` come from the request rules (``rpm``, ``daily_requests``), ``tokens_*``
    from the token rules (``itpm``, ``otpm``, ``daily_tokens``), ``input_tokens_*`` from
    ``itpm`` and ``output_tokens_*`` from ``otpm``; each picks the state with the fewest
    remaining units across scopes. ``None`` where no such rule applies. ``retry_after_s``
    is the blocking demand's wait (``None`` when admitted or when waiting cannot help).
    """

    requests_limit: int | None = None
    requests_remaining: int | None = None
    requests_reset_s: float | None = None
    tokens_limit: int | None = None
    tokens_remaining: int | None = None
    tokens_reset_s: float | None = None
    input_tokens_limit: int | None = None
    input_tokens_remaining: int | None = None
    input_tokens_reset_s: float | None = None
    output_tokens_limit: int | None = None
    output_tokens_remaining: int | None = None
    output_tokens_reset_s: float | None = None
    retry_after_s: float | None = None


def _tightest(states: Iterable[LimitState]) -> tuple[int | None, int | None, float | None]:
    best: LimitState | None = None
    for state in states:
        if (
            best is None
            or state.remaining < best.remaining
            or (state.remaining == best.remaining and state.reset_s > best.reset_s)
        ):
            best = state
    if best is None:
        return None, None, None
    return best.demand.rule.limit, best.remaining, best.reset_s


def header_view(decision: Decision) -> HeaderView:
    """Summarise ``decision`` for response headers (see :class:`HeaderView`)."""
    states = decision.states
    requests = _tightest(s for s in states if s.demand.rule.name in REQUEST_RULES)
    tokens = _tightest(s for s in states if s.demand.rule.name in TOKEN_RULES)
    inputs = _tightest(s for s in states if s.demand.rule.name == "itpm")
    outputs = _tightest(s for s in states if s.demand.rule.name == "otpm")
    blocking = decision.blocking
    return HeaderView(
        *requests,
        *tokens,
        *inputs,
        *outputs,
        retry_after_s=None if blocking is None else blocking.retry_after_s,
    )
