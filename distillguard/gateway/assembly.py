"""Building a ready-to-serve :class:`~distillguard.gateway.app.Gateway` from :class:`Settings`.

Everything that can be done once happens here, at start-up: the authenticator snapshot, the
limiter storage (with its failover policy), the upstream connection pool, the request-log
writer, the metrics, and the admin API when an admin token is configured.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from distillguard.config import Settings
from distillguard.controlplane.principal import Authenticator, TierLimits
from distillguard.gateway.app import Gateway
from distillguard.gateway.clientinfo import ClientResolver
from distillguard.gateway.metrics import GatewayMetrics
from distillguard.gateway.proxy import Proxy
from distillguard.gateway.upstream import Upstream
from distillguard.logs.segments import SegmentWriter
from distillguard.logs.writer import RequestLogWriter
from distillguard.ratelimit.base import Limiter

UNLIMITED_TEXT = 1 << 62
_CALLER_CACHE = 65536  # (key, client address) pairs whose enforcement Caller is kept


def build_limiter(settings: Settings) -> Limiter:
    """The limiter named by ``settings.limiter_url`` with the configured failure mode."""
    from distillguard.ratelimit.storage import from_url

    if settings.limiter_url.startswith(("redis://", "rediss://")):
        return from_url(settings.limiter_url, failover=settings.limiter_failure)
    return from_url(settings.limiter_url)


def build_request_log(settings: Settings, metrics: GatewayMetrics) -> RequestLogWriter:
    segments = SegmentWriter(
        settings.log_dir,
        prefix="requests",
        fmt=settings.log_format,
        max_records=settings.log_max_records,
        max_bytes=settings.log_max_bytes,
        max_age_s=settings.log_max_age_s,
    )
    writer = RequestLogWriter(
        segments,
        content=settings.log_content,
        queue_size=settings.log_queue_size,
        on_drop=metrics.drop_logged,
        on_write=metrics.wrote_logged,
    )
    metrics.watch(metrics.log_backlog, lambda: float(writer.backlog))
    return writer


def build_gateway(
    settings: Settings,
    *,
    authenticator: Authenticator | None = None,
    limiter: Limiter | None = None,
    metrics: GatewayMetrics | None = None,
) -> Gateway:
    """Wire the gateway from settings; ``authenticator``/``limiter`` override the configured ones."""
    from distillguard.ratelimit.plan import demands_for

    metrics = metrics or GatewayMetrics()
    if authenticator is None:
        from distillguard.controlplane.auth import CachedAuthenticator

        authenticator = CachedAuthenticator.from_url(settings.db_url)
    limiter = limiter or build_limiter(settings)
    upstream = Upstream(
        settings.upstream_url,
        api_key=settings.upstream_key,
        connect_timeout_s=settings.upstream_connect_timeout_s,
        read_timeout_s=settings.upstream_read_timeout_s,
        pool_size=settings.upstream_pool_size,
    )
    policy = settings.log_content
    text_limit = {"full": UNLIMITED_TEXT, "none": 0}.get(policy.mode, policy.limit)
    proxy = Proxy(upstream, metrics, text_limit=text_limit, include_usage=settings.include_usage)
    request_log = build_request_log(settings, metrics)
    admin_app: Any = None
    if settings.admin_token:
        from distillguard.controlplane.adminapi import create_admin_app
        from distillguard.controlplane.store import ControlPlaneStore

        admin_app = create_admin_app(ControlPlaneStore.open(settings.db_url), settings.admin_token)
    middleware, throttle, store = _enforcement(settings, authenticator)
    _watch_auth(metrics, authenticator)
    refresher: list[asyncio.Task[None]] = []

    async def start() -> None:
        await upstream.start()
        request_log.start()
        run_refresh = getattr(authenticator, "run_refresh", None)
        if run_refresh is not None:
            refresher.append(asyncio.ensure_future(run_refresh(settings.auth_refresh_s)))

    async def stop() -> None:
        for task in refresher:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await upstream.aclose()
        await limiter.aclose()
        await asyncio.to_thread(request_log.close)
        if store is not None:
            store.close()

    return Gateway(
        authenticator=authenticator,
        limiter=limiter,
        demands_for=demands_for,
        proxy=proxy,
        request_log=request_log,
        metrics=metrics,
        resolver=ClientResolver(settings.trusted_proxies),
        ja4_header=settings.ja4_header,
        max_body_bytes=settings.max_body_bytes,
        body_timeout_s=settings.body_timeout_s,
        max_in_flight=settings.max_in_flight,
        default_max_tokens=settings.default_max_tokens,
        admin_app=admin_app,
        middleware=middleware,
        throttle=throttle,
        startup=[start],
        shutdown=[stop],
    )


def _enforcement(settings: Settings, authenticator: Authenticator) -> tuple[Any, Any, Any]:
    """The enforcement middleware, the throttle rule and the store, when a store is configured.

    The middleware runs after authentication and before admission; it learns the caller from
    ``scope["state"]["dg.principal"]``, and a ``throttle`` action is applied by admitting
    against the throttled tier (:func:`distillguard.enforce.throttling.throttled_limits`).
    """
    if not settings.enforcement_url:
        return None, None, None
    from distillguard.enforce.middleware import Caller, EnforcementMiddleware
    from distillguard.enforce.store import from_url
    from distillguard.enforce.throttling import throttled_limits

    store = from_url(settings.enforcement_url)
    # (id(principal), ip) -> (principal, caller): the authenticator hands out the same
    # Principal object for a key until it reloads, so a caller is built once per key and
    # address, not per request. Holding the principal keeps its id from being reused.
    callers: dict[tuple[int, str | None], tuple[Any, Caller]] = {}

    def identify(scope: Any) -> Caller | None:
        state = scope.get("state") or {}
        principal = state.get("dg.principal")
        if principal is None:
            return None
        ip = state.get("dg.client_ip")
        cached = callers.get((id(principal), ip))
        if cached is not None and cached[0] is principal:
            return cached[1]
        caller = Caller(
            account_id=principal.account_id,
            key_id=principal.key_id,
            org_id=principal.org_id,
            ip=ip,
            verification=principal.verification,
            account_created=principal.account_created,
        )
        if len(callers) >= _CALLER_CACHE:
            callers.clear()
        callers[(id(principal), ip)] = (principal, caller)
        return caller

    def middleware(app: Any) -> Any:
        return EnforcementMiddleware(app, store=store, identify=identify)

    def throttle(tier: TierLimits, rule: Any) -> TierLimits:
        return throttled_limits(tier, rule, getattr(authenticator, "tiers", {}))

    return middleware, throttle, store


def _watch_auth(metrics: GatewayMetrics, authenticator: Authenticator) -> None:
    size = getattr(authenticator, "__len__", None)
    if size is not None:
        metrics.watch(metrics.auth_keys, lambda: float(size()))
    if hasattr(authenticator, "loaded_at"):

        def age() -> float:
            loaded = getattr(authenticator, "loaded_at", None)
            return time.time() - loaded if loaded is not None else float("nan")

        metrics.watch(metrics.auth_age, age)
