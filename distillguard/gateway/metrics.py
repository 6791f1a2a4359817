"""Prometheus metrics of the gateway, on their own registry.

Label children are cached per combination so the hot path does one dict lookup and one
increment per request instead of the client library's label resolution.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.metrics import MetricWrapperBase

_LATENCY_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)


class GatewayMetrics:
    """All gateway metrics; ``render()`` gives the text exposition for ``/metrics``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "dg_requests",
            "Requests answered, by route, HTTP status and gateway decision",
            ["route", "status", "decision"],
            registry=r,
        )
        self.limiter_latency = Histogram(
            "dg_gateway_limiter_seconds",
            "Time to take a rate-limit decision, as the gateway waits for it",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.limiter_degraded = Counter(
            "dg_gateway_degraded_decisions",
            "Requests decided by a fallback because the limiter storage failed",
            registry=r,
        )
        self.settle_errors = Counter(
            "dg_settle_errors", "Leases the limiter failed to settle", registry=r
        )
        self.internal_errors = Counter(
            "dg_internal_errors", "Requests that failed on an unexpected error (500)", registry=r
        )
        self.upstream_latency = Histogram(
            "dg_upstream_seconds",
            "Time until the upstream's response headers, by route",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.upstream_errors = Counter(
            "dg_upstream_errors", "Upstream failures, by status given", ["status"], registry=r
        )
        self.auth = Counter(
            "dg_auth", "Authentication outcomes (ok, invalid, denied)", ["result"], registry=r
        )
        self.in_flight = Gauge("dg_requests_in_flight", "Requests being served", registry=r)
        self.disconnects = Counter(
            "dg_client_disconnects", "Requests abandoned by the client", registry=r
        )
        self.log_backlog = Gauge(
            "dg_request_log_backlog", "Request-log records waiting to be written", registry=r
        )
        self.log_written = Counter(
            "dg_request_log_written", "Request-log records handed to segment files", registry=r
        )
        self.log_dropped = Counter(
            "dg_request_log_dropped",
            "Request-log records that could not be written, by reason",
            ["reason"],
            registry=r,
        )
        self.auth_keys = Gauge("dg_auth_cache_keys", "API keys in the auth snapshot", registry=r)
        self.auth_age = Gauge("dg_auth_cache_age_seconds", "Age of the auth snapshot", registry=r)
        self._request_children: dict[tuple[str, int, str], Counter] = {}
        self._upstream_children: dict[str, Histogram] = {}

    def count_request(self, route: str, status: int, decision: str | None) -> None:
        key = (route, status, decision or "none")
        child = self._request_children.get(key)
        if child is None:
            child = self.requests.labels(route, str(status), decision or "none")
            self._request_children[key] = child
        child.inc()

    def observe_upstream(self, route: str, seconds: float) -> None:
        child = self._upstream_children.get(route)
        if child is None:
            child = self._upstream_children[route] = self.upstream_latency.labels(route)
        child.observe(seconds)

    def drop_logged(self, reason: str, count: int) -> None:
        self.log_dropped.labels(reason).inc(count)

    def wrote_logged(self, count: int) -> None:
        self.log_written.inc(count)

    def watch(self, gauge: MetricWrapperBase, source: Callable[[], float]) -> None:
        """Make a gauge read its value from ``source`` at scrape time."""
        if isinstance(gauge, Gauge):
            gauge.set_function(source)

    def render(self) -> bytes:
        """This registry's metrics, then the process-wide ones (limiter storage, process)."""
        return generate_latest(self.registry) + generate_latest(REGISTRY)
