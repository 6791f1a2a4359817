"""The closed loop end to end at a size CI can run (scale 0.002: a 40-account hydra and a
5-account reasoning harvester among about 600 benign requests a day)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from distillguard.closedloop import LoopOptions, run_closed_loop
from distillguard.enforce.audit import JsonlAuditLog, replay
from distillguard.errors import ConfigurationError
from distillguard.logs.reader import request_batches
from distillguard.logs.rejects import RejectSink

SCALE = 0.002
SEED = 11  # the loop's detection overrides were calibrated on seed 3
DAYS = 8


@pytest.fixture(scope="module")
def passive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("loop")
    report = run_closed_loop(LoopOptions(out=out, scale=SCALE, seed=SEED, days=DAYS, every_hours=2))
    return out, report


@pytest.fixture(scope="module")
def adaptive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("adaptive")
    options = LoopOptions(
        out=out, scale=SCALE, seed=SEED, days=4, every_hours=2, adaptive=True, account_cost=8.0
    )
    return out, run_closed_loop(options)


def test_campaigns_are_contained_and_benign_traffic_is_left_alone(
    passive: tuple[Path, dict[str, Any]],
) -> None:
    _, report = passive
    assert set(report["campaigns"]) >= {"hydra-proxy-network", "reasoning-harvest"}
    # CI floors at a 2-hour cadence and a tiny population; the benchmark reports hourly runs
    assert report["campaign_yield_responses"] <= 0.10
    for campaign in ("hydra-proxy-network", "reasoning-harvest"):
        hours = report["campaigns"][campaign]["containment_hours"]
        assert hours is not None and hours <= 36, (campaign, hours)
    assert report["benign_requests"] > 3000
    assert report["benign_affected_share"] <= 0.001
    for persona in ("enterprise_batch", "eval_runner", "university_lab", "chat_app"):
        if persona in report["personas"]:
            assert report["personas"][persona]["affected_share"] <= 0.005, persona


def test_the_undefended_baseline_is_the_scenario_itself(
    passive: tuple[Path, dict[str, Any]],
) -> None:
    _, report = passive
    hydra = report["campaigns"]["hydra-proxy-network"]
    assert hydra["responses_undefended"] >= 0.95 * hydra["requests"]
    assert hydra["responses_served"] < hydra["responses_undefended"]
    assert sum(hydra["decisions"].values()) == hydra["requests"]
    assert len(report["hourly"]["hydra-proxy-network"]["requests"]) == DAYS * 24


def test_the_defended_log_is_a_valid_request_log(passive: tuple[Path, dict[str, Any]]) -> None:
    out, report = passive
    sink = RejectSink.collecting()
    rows = sum(t.num_rows for t in request_batches(out / "requests", sink))
    assert sink.total == 0 and rows == report["requests"]
    statuses = {
        s for t in request_batches(out / "requests", sink) for s in t.column("status").to_pylist()
    }
    assert 403 in statuses  # the refusals are logged as the gateway logs them


def test_replaying_the_audit_log_rebuilds_the_enforcement_state(
    passive: tuple[Path, dict[str, Any]],
) -> None:
    out, report = passive
    entries = list(JsonlAuditLog(out / "audit.jsonl").entries())
    assert len(entries) == report["detection"]["changes"] > 0
    result = replay(entries)
    assert result.problems == []
    # every subject's entries follow from each other: apply first, then changes
    first_ops: dict[str, str] = {}
    for entry in entries:
        first_ops.setdefault(entry.change.subject, entry.change.op)
    assert set(first_ops.values()) == {"apply"}


def test_the_adaptive_attacker_pays_for_replacements(
    adaptive: tuple[Path, dict[str, Any]],
) -> None:
    out, report = adaptive
    hydra = report["campaigns"]["hydra-proxy-network"]
    assert hydra["accounts_bought"] > 0
    assert hydra["attacker_spend"] == 8.0 * (hydra["accounts_original"] + hydra["accounts_bought"])
    assert hydra["cost_per_useful_response"] > hydra["cost_per_response_undefended"]
    labels = [json.loads(line) for line in (out / "labels.jsonl").read_text().splitlines()]
    accounts = {json.loads(line)["account_id"] for line in (out / "accounts.jsonl").open()}
    bought = [x for x in labels if x["campaign_id"] == "hydra-proxy-network"]
    assert len(bought) == hydra["accounts_original"] + hydra["accounts_bought"]
    assert {x["account_id"] for x in bought} <= accounts


def test_bad_options_are_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="every_hours"):
        run_closed_loop(LoopOptions(out=tmp_path, every_hours=0))
    with pytest.raises(ConfigurationError, match="window"):
        run_closed_loop(LoopOptions(out=tmp_path, every_hours=6, window_hours=3))
    with pytest.raises(ConfigurationError, match="signup_from"):
        run_closed_loop(LoopOptions(out=tmp_path, adaptive=True, signup_from="tor"))
    with pytest.raises(ConfigurationError, match="replacement_age_hours"):
        run_closed_loop(LoopOptions(out=tmp_path, adaptive=True, replacement_age_hours=-1))
    (tmp_path / "requests").mkdir()
    (tmp_path / "requests" / "old.jsonl").write_text("{}\n")
    with pytest.raises(ConfigurationError, match="not empty"):
        run_closed_loop(LoopOptions(out=tmp_path))
