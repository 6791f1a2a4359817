"""Evaluator metrics on small hand-made cases whose answers are worked out here."""

from __future__ import annotations

from typing import Any

import pytest

from distillguard.errors import InputError
from distillguard.evaluate import score


def _label(
    account: str, persona: str, campaign: str | None = None, requests: int | None = None
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "account_id": account,
        "malicious": campaign is not None,
        "campaign_id": campaign,
        "persona": persona,
    }
    if requests is not None:
        record["requests"] = requests
    return record


def _findings(
    flags: dict[str, tuple[bool, float, str | None]], campaigns: dict[str, list[str]]
) -> dict[str, Any]:
    return {
        "schema": "dg.findings.v1",
        "generated_at": "2026-07-01T00:00:00Z",
        "window": {"start": "2026-04-01T00:00:00Z", "end": "2026-07-01T00:00:00Z"},
        "accounts": [
            {"account_id": a, "flagged": f, "score": s, "campaign_id": c, "reasons": []}
            for a, (f, s, c) in flags.items()
        ],
        "campaigns": [{"campaign_id": c, "account_ids": ids} for c, ids in campaigns.items()],
    }


# Ground truth: campaign A = {a1..a4} (requests 10, 20, 30, 40), campaign B = {b1, b2} (5, 5);
# benign: e1, e2 enterprise_batch, h1..h4 hobbyist.
LABELS = [
    _label("a1", "hydra_member", "A", 10),
    _label("a2", "hydra_member", "A", 20),
    _label("a3", "hydra_member", "A", 30),
    _label("a4", "hydra_member", "A", 40),
    _label("b1", "cot_harvester", "B", 5),
    _label("b2", "cot_harvester", "B", 5),
    _label("e1", "enterprise_batch", None, 900),
    _label("e2", "enterprise_batch", None, 800),
    _label("h1", "hobbyist", None, 3),
    _label("h2", "hobbyist", None, 4),
    _label("h3", "hobbyist", None, 5),
    _label("h4", "hobbyist", None, 6),
]
# Found: F1 = {a1, a2, a3, e1} flagged; F2 = {b1} flagged; a4 flagged without campaign;
# b2 absent (not flagged, score 0); h1 listed but not flagged (score 0.3).
FINDINGS = _findings(
    {
        "a1": (True, 0.9, "F1"),
        "a2": (True, 0.9, "F1"),
        "a3": (True, 0.8, "F1"),
        "e1": (True, 0.7, "F1"),
        "b1": (True, 0.95, "F2"),
        "a4": (True, 0.6, None),
        "h1": (False, 0.3, None),
    },
    {"F1": ["a1", "a2", "a3", "e1"], "F2": ["b1"]},
)


def test_account_confusion_and_rates() -> None:
    report = score(FINDINGS, LABELS)
    c = report.accounts
    # flagged malicious: a1 a2 a3 a4 b1 = 5 of 6; flagged benign: e1 = 1 of 6
    assert (c.tp, c.fp, c.fn, c.tn) == (5, 1, 1, 5)
    assert c.precision == pytest.approx(5 / 6)
    assert c.recall == pytest.approx(5 / 6)
    assert c.f1 == pytest.approx(5 / 6)
    assert c.fpr == pytest.approx(1 / 6)


def test_auc_counts_ties_as_half() -> None:
    # malicious scores 0.9 0.9 0.8 0.6 0.95 0 ; benign 0.7 0 0.3 0 0 0
    # pairs above: 0.9→6, 0.9→6, 0.8→6, 0.6→5, 0.95→6, 0→(0.5×4 ties)=2 → 31 of 36
    assert score(FINDINGS, LABELS).accounts.auc == pytest.approx(31 / 36)


def test_per_persona_rates() -> None:
    report = score(FINDINGS, LABELS)
    assert report.benign_personas["enterprise_batch"].rate == pytest.approx(0.5)
    assert report.benign_personas["hobbyist"].rate == 0
    assert report.malicious_personas["hydra_member"].rate == 1.0
    assert report.malicious_personas["cot_harvester"].rate == pytest.approx(0.5)


def test_campaign_overlap_and_coverage() -> None:
    report = score(FINDINGS, LABELS)
    a, b = report.campaigns
    # A vs F1: overlap {a1,a2,a3} = 3, union {a1..a4, e1} = 5 → Jaccard 0.6; 3/4 accounts;
    # requests (10+20+30) / 100 = 0.6
    assert (a.campaign_id, a.best_match, a.found_campaigns) == ("A", "F1", 1)
    assert a.jaccard == pytest.approx(0.6)
    assert a.accounts_covered == pytest.approx(0.75)
    assert a.requests_covered == pytest.approx(0.6)
    assert a.requests == 100 and a.flagged_share == 1.0
    # B vs F2: overlap 1, union 2 → 0.5; requests 5/10
    assert (b.best_match, b.jaccard, b.accounts_covered, b.requests_covered) == (
        "F2",
        0.5,
        0.5,
        0.5,
    )
    found = {f["campaign_id"]: f for f in report.found_campaigns}
    assert found["F1"]["malicious_share"] == pytest.approx(0.75)


def test_explicit_request_counts_override_the_labels() -> None:
    counts = {"a1": 1, "a2": 1, "a3": 1, "a4": 7, "b1": 1, "b2": 1}
    a = score(FINDINGS, LABELS, counts).campaigns[0]
    assert a.requests == 10 and a.requests_covered == pytest.approx(0.3)


def test_without_counts_request_coverage_is_null() -> None:
    labels = [{k: v for k, v in x.items() if k != "requests"} for x in LABELS]
    report = score(FINDINGS, labels)
    assert report.campaigns[0].requests is None and report.campaigns[0].requests_covered is None
    assert report.to_dict()["campaigns"][0]["requests_covered"] is None


def test_nothing_flagged_gives_undefined_precision_and_zero_recall() -> None:
    report = score(_findings({}, {}), LABELS)
    c = report.accounts
    assert (c.tp, c.fp, c.fn, c.tn) == (0, 0, 6, 6)
    assert c.precision is None and c.recall == 0 and c.f1 is None and c.fpr == 0
    assert report.campaigns[0].best_match is None and report.campaigns[0].jaccard == 0


def test_bad_labels_and_entries_are_set_aside() -> None:
    labels: list[Any] = [
        *LABELS,
        "not an object",
        {"account_id": "x"},
        {**LABELS[0]},
        {"account_id": 5, "malicious": True, "persona": "p", "campaign_id": None},
    ]
    findings = _findings({"a1": (True, 0.9, None)}, {})
    findings["accounts"] += [
        {"flagged": True},
        {"account_id": "a2", "flagged": "yes", "score": 1},
        {"account_id": "zz", "flagged": True, "score": 1.0},
    ]
    findings["campaigns"].append({"campaign_id": 3})
    report = score(findings, labels)
    reasons = sorted(r.reason for r in report.rejects)
    assert reasons == [
        "duplicate_account",
        "missing_field",
        "missing_field",
        "missing_field",
        "not_object",
        "wrong_type",
        "wrong_type",
    ]
    assert report.unlabelled_findings == 1
    assert report.accounts.tp == 1
    assert report.to_dict()["rejects"]["count"] == 7


def test_findings_without_lists_cannot_be_scored() -> None:
    with pytest.raises(InputError):
        score({"accounts": {}}, LABELS)
