from __future__ import annotations

from datetime import UTC, datetime

from distillguard.console.actions import ActionEntry
from distillguard.console.dataset import Dataset
from distillguard.report.summary import build_report

from console.sample_dataset import HYDRA_REQUESTS, PROBE_REQUESTS

NOW = datetime(2026, 4, 11, tzinfo=UTC)


def actions() -> list[ActionEntry]:
    return [
        ActionEntry(NOW, "h1", "suspend", "member", "ada", "C-hydra"),
        ActionEntry(NOW, "h2", "suspend", "member", "ada", "C-hydra"),
        ActionEntry(NOW, "h1", "suspend", "again", "ada", "C-hydra"),
        ActionEntry(NOW, "p1", "throttle", "probe", "ada", "C-probe"),
        ActionEntry(NOW, "b1", "challenge", "unrelated", "ada", None),
    ]


def test_overall_figures(dataset: Dataset) -> None:
    report = build_report(dataset, actions())
    overall = report["overall"]
    assert overall["campaigns"] == 2
    assert overall["accounts"] == 8
    assert overall["interactions"] == HYDRA_REQUESTS + PROBE_REQUESTS
    assert overall["first_seen"].startswith("2026-04-01") and overall["last_seen"].startswith(
        "2026-04-10"
    )
    assert round(overall["capabilities"]["reasoning"], 2) == 0.54  # 0.6 * 180 / 200
    assert overall["methods"]["cot_elicitation"] == 120 / 200
    assert overall["actions"] == {"suspend": 2, "throttle": 1}
    assert (
        "They came from 22 IP addresses in 3 network prefixes (AS64500, AS64501, AS64502),"
        " using 2 TLS client fingerprints (JA4)." in overall["sentences"]
    )
    assert overall["sentences"][0] == (
        "Across 2 campaigns: 8 accounts, 200 interactions between 1 and 10 April 2026,"
        " aimed at reasoning, coding and logit extraction."
    )


def test_campaign_figures(dataset: Dataset) -> None:
    report = build_report(dataset, actions())
    hydra = report["campaigns"][0]
    assert hydra["campaign_id"] == "C-hydra"
    assert hydra["accounts"] == 6 and hydra["interactions"] == HYDRA_REQUESTS
    assert hydra["methods"] == {"cot_elicitation": 120 / 180, "rubric_grading": 60 / 180}
    infra = hydra["infrastructure"]
    assert infra["ips"] == 18 and infra["prefixes"] == 2 and infra["ja4"] == 1
    assert infra["asns"] == [64500, 64501]
    assert {r["value"] for r in infra["top_prefixes"]} == {"203.0.113.0/24", "198.51.100.0/24"}
    assert [r["accounts"] for r in infra["top_templates"]] == [4, 2]
    assert hydra["programs"] == {"education": 6}
    assert hydra["actions"] == {"suspend": 2}
    assert hydra["gateway"] == {"allow": HYDRA_REQUESTS}
    assert len(hydra["daily"]) == 10 and hydra["daily"][0] == ["2026-04-01", 18]
    text = " ".join(hydra["sentences"])
    assert "chain-of-thought elicitation in 67%" in text
    assert "18 IP addresses in 2 network prefixes (AS64500, AS64501)" in text
    assert "All 6 accounts signed up through the education program." in text
    assert "Accounts acted on: 2 suspended." in text


def test_no_actions_is_said(dataset: Dataset) -> None:
    probe = build_report(dataset)["campaigns"][1]
    assert probe["campaign_id"] == "C-probe"
    assert probe["sentences"][-1] == "No enforcement action is recorded yet."
