"""Limiter storages, chosen by URL scheme.

``memory://`` keeps counters in this process (the default, exact, no server); ``redis://``
and ``rediss://`` share them between processes through Redis, wrapped by default in a
:class:`~distillguard.ratelimit.failover.FailoverLimiter` that decides what happens when
Redis is unreachable (``failover="open"`` falls back to local limits, ``"closed"`` refuses,
``None`` raises :class:`~distillguard.errors.StorageError` to the caller).

Example::

    limiter = from_url("redis://127.0.0.1:6379/0", failover="closed")
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from distillguard.errors import ConfigurationError
from distillguard.ratelimit.base import Limiter


def _memory(url: str, options: dict[str, Any]) -> Limiter:
    from distillguard.ratelimit.storage.memory import MemoryLimiter

    # a process-local limiter cannot become unreachable: failover settings do not apply
    options.pop("failover", None)
    options.pop("retry_interval_s", None)
    try:
        return MemoryLimiter(**options)
    except TypeError as exc:
        raise ConfigurationError(f"invalid option for {url!r}: {exc}") from exc


def _redis(url: str, options: dict[str, Any]) -> Limiter:
    from distillguard.ratelimit.failover import FailoverLimiter
    from distillguard.ratelimit.storage.memory import MemoryLimiter

    try:
        from distillguard.ratelimit.storage.redis import RedisLimiter
    except ImportError as exc:  # the optional driver is missing
        raise ConfigurationError(
            f"{url!r} needs the Redis driver: pip install 'distillguard[redis]'"
        ) from exc
    failover = options.pop("failover", "open")
    retry_interval_s = options.pop("retry_interval_s", 1.0)
    primary = RedisLimiter.from_url(url, **options)
    if failover is None:
        return primary
    local = {k: options[k] for k in ("lease_ttl_s", "concurrency_retry_s") if k in options}
    return FailoverLimiter(
        primary,
        mode=failover,
        fallback=MemoryLimiter(**local),
        retry_interval_s=retry_interval_s,
    )


STORAGES: dict[str, Callable[[str, dict[str, Any]], Limiter]] = {
    "memory": _memory,
    "redis": _redis,
    "rediss": _redis,
}


def from_url(url: str, **options: Any) -> Limiter:
    """Build the limiter named by ``url`` (``memory://``, ``redis://host:port/db``).

    ``options`` are passed to the storage: ``lease_ttl_s`` and ``concurrency_retry_s`` for
    every storage, ``clock`` for memory, and for Redis ``failover`` (``"open"``, ``"closed"``
    or ``None``; ignored for memory), ``retry_interval_s``, ``key_prefix`` and ``timeout_s``.
    An unknown option is a ``ConfigurationError``.
    """
    scheme = urlsplit(url).scheme
    try:
        build = STORAGES[scheme]
    except KeyError:
        known = ", ".join(f"{name}://" for name in STORAGES)
        raise ConfigurationError(
            f"unknown rate-limit storage {url!r}: use one of {known}"
        ) from None
    return build(url, options)
