"""Admission control: rate limits, token budgets, concurrency slots and daily caps.

The contract is :class:`distillguard.ratelimit.base.Limiter`; storages live in
``distillguard.ratelimit.storage`` (``memory://`` by default, ``redis://`` for many processes).
"""

from __future__ import annotations
