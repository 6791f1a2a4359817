"""Enforcement stores, chosen by URL: ``memory://`` or ``redis://host:port/db``.

>>> store = from_url("memory://")
>>> store.decide(account_id="acc_1") is None
True
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from distillguard.enforce.store.base import EnforcementStore
from distillguard.enforce.store.memory import MemoryStore
from distillguard.errors import ConfigurationError


def _memory(url: str) -> EnforcementStore:
    return MemoryStore()


def _redis(url: str) -> EnforcementStore:
    from distillguard.enforce.store.redis import RedisStore  # the driver is an optional extra

    return RedisStore.from_url(url)


BACKENDS: dict[str, Callable[[str], EnforcementStore]] = {
    "memory": _memory,
    "redis": _redis,
    "rediss": _redis,
    "unix": _redis,
}


def from_url(url: str) -> EnforcementStore:
    """Open the store named by ``url``; an unknown scheme is a ConfigurationError."""
    scheme = urlsplit(url).scheme
    factory = BACKENDS.get(scheme)
    if factory is None:
        raise ConfigurationError(
            f"enforcement store URL {url!r}: scheme must be one of {', '.join(sorted(BACKENDS))}"
        )
    return factory(url)


__all__ = ["BACKENDS", "EnforcementStore", "MemoryStore", "from_url"]
