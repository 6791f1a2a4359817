from __future__ import annotations

from distillguard.gateway.metrics import GatewayMetrics


def test_counters_and_gauges_render() -> None:
    metrics = GatewayMetrics()
    metrics.count_request("openai.chat", 200, "allow")
    metrics.count_request("openai.chat", 200, "allow")
    metrics.count_request("unknown", 404, None)
    metrics.drop_logged("queue_full", 3)
    metrics.observe_upstream("openai.chat", 0.002)
    metrics.watch(metrics.log_backlog, lambda: 7.0)
    text = metrics.render().decode()
    assert 'dg_requests_total{decision="allow",route="openai.chat",status="200"} 2.0' in text
    assert 'dg_requests_total{decision="none",route="unknown",status="404"} 1.0' in text
    assert 'dg_request_log_dropped_total{reason="queue_full"} 3.0' in text
    assert "dg_request_log_backlog 7.0" in text
    assert 'dg_upstream_seconds_count{route="openai.chat"} 1.0' in text


def test_two_gateways_in_one_process_have_separate_registries() -> None:
    first, second = GatewayMetrics(), GatewayMetrics()
    first.count_request("r", 200, "allow")
    assert 'route="r"' not in second.render().decode()
