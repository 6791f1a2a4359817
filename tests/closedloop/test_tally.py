from __future__ import annotations

import pytest

from distillguard.closedloop.attacker import Attacker
from distillguard.closedloop.gateway import Outcome
from distillguard.closedloop.tally import Tally

SERVED = Outcome("allow", 200, True, 100, False)
DEGRADED = Outcome("degrade", 200, True, 40, True)
BLOCKED = Outcome("block", 403, False, 0, False)


def _campaign(tally: Tally, hour: int, outcome: Outcome, n: int = 1) -> None:
    for _ in range(n):
        tally.add("c1", "harvester", hour, True, 100, outcome)


def test_containment_is_the_hour_from_which_every_day_serves_little() -> None:
    tally = Tally(hours=96)
    for hour in range(10, 96):
        _campaign(tally, hour, SERVED if hour < 16 else BLOCKED, n=10)
    # from hour 15 on, every 24-hour window serves at most 10 of 240 requests (4.2%)
    assert tally.containment_hours("c1") == 5.0


def test_a_late_burst_of_served_requests_undoes_containment() -> None:
    tally = Tally(hours=96)
    for hour in range(0, 96):
        _campaign(tally, hour, SERVED if hour < 3 or 50 <= hour < 53 else BLOCKED, n=10)
    assert tally.containment_hours("c1") == 52.0  # the window from 51 serves 20 of 240


def test_a_campaign_served_to_the_end_is_not_contained() -> None:
    tally = Tally(hours=48)
    for hour in range(48):
        _campaign(tally, hour, SERVED)
    assert tally.containment_hours("c1") is None


def test_one_stray_response_within_the_share_does_not_break_containment() -> None:
    tally = Tally(hours=72)
    for hour in range(72):
        _campaign(tally, hour, BLOCKED, n=30)
    _campaign(tally, 40, SERVED)  # 1 of 720+ in any 24-hour window: under 5%
    assert tally.containment_hours("c1") == 0.0


def test_report_yield_collateral_and_attacker_cost() -> None:
    tally = Tally(hours=24)
    _campaign(tally, 0, SERVED, n=2)
    _campaign(tally, 1, DEGRADED, n=2)
    _campaign(tally, 2, BLOCKED, n=16)
    for outcome in (SERVED,) * 999 + (Outcome("throttle", 429, False, 0, False),):
        tally.add(None, "enterprise_batch", 3, True, 100, outcome)
    attacker = Attacker(enabled=True, cost_per_account=5.0, seed=1)
    attacker.original_accounts["c1"] = 4
    attacker.bought["c1"] = 2
    report = tally.report(attacker)
    c1 = report["campaigns"]["c1"]
    assert c1["yield_responses"] == pytest.approx(4 / 20)
    assert c1["yield_useful"] == pytest.approx(2 / 20)
    assert c1["yield_output_tokens"] == pytest.approx(280 / 2000)
    assert c1["attacker_spend"] == 30.0 and c1["cost_per_useful_response"] == 15.0
    assert c1["cost_per_response_undefended"] == pytest.approx(20 / 20)
    assert report["benign_affected"] == 1
    assert report["personas"]["enterprise_batch"]["affected_share"] == pytest.approx(0.001)
