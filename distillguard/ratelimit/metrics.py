"""Prometheus metrics of the limiter (registered once, in the default registry).

``dg_limiter_storage_errors_total{mode}`` counts failed calls to the shared storage;
``dg_limiter_degraded_total{mode}`` counts decisions taken without it (by the local
fallback in ``open`` mode, or refusals in ``closed`` mode);
``dg_limiter_seconds{storage}`` is the latency of admission as the gateway sees it.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

STORAGE_ERRORS = Counter(
    "dg_limiter_storage_errors_total",
    "Failed calls to the rate-limit storage, by failover mode.",
    ["mode"],
)
DEGRADED_DECISIONS = Counter(
    "dg_limiter_degraded_total",
    "Admission decisions taken without the shared storage, by failover mode.",
    ["mode"],
)
LATENCY = Histogram(
    "dg_limiter_seconds",
    "Latency of one rate-limit admission, by storage.",
    ["storage"],
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0),
)
