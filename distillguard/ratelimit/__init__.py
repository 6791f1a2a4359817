"""Admission control: rate limits, token budgets, concurrency slots and daily caps.

The contract is :class:`distillguard.ratelimit.base.Limiter`. For every request the gateway
builds the demands and acquires them all-or-nothing, then settles the lease when the
request ends (also on errors, cancellation and timeouts)::

    from distillguard.ratelimit.plan import demands_for, header_view
    from distillguard.ratelimit.storage import from_url

    limiter = from_url("redis://127.0.0.1:6379/0", failover="open")  # or "memory://"
    decision = await limiter.acquire(demands_for(principal, client_ip, 812, 1024))
    view = header_view(decision)  # for x-ratelimit-* / anthropic-ratelimit-* headers
    ...
    await limiter.settle(decision.lease, {"itpm": 790, "otpm": 311, "daily_tokens": 1101})

Modules: ``gcra`` (rate rules), ``daily`` (UTC-day caps), ``concurrency`` (slots held by
expiring leases), ``storage.memory`` and ``storage.redis`` (with ``acquire.lua`` and
``settle.lua``), ``failover`` (fail-open / fail-closed when Redis is down), ``plan`` (demands
and header summaries), ``metrics`` (Prometheus), ``records`` (fast record constructors).
"""

from __future__ import annotations
