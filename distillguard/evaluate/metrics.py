"""Scores dg.findings.v1 against dg.labels.v1: the numbers every detection claim is made of.

Definitions (all over the labelled accounts; an account absent from the findings is not flagged
and has score 0; findings about unlabelled accounts are counted and otherwise ignored):

- precision = TP / (TP + FP), recall = TP / (TP + FN), F1 their harmonic mean,
  false-positive rate = FP / (FP + TN); ``None`` when the denominator is 0.
- per benign persona: accounts, flagged, FPR; per malicious persona: accounts, flagged, recall.
- per labelled campaign C and found campaign F (a findings campaign's ``account_ids`` plus the
  accounts whose ``campaign_id`` names it): the best match maximises Jaccard |C∩F| / |C∪F|
  (ties: larger overlap, then smaller id); ``accounts_covered`` = |C∩F| / |C| and
  ``requests_covered`` = requests of C∩F / requests of C for that best match; ``flagged_share``
  = flagged members of C / |C|; ``found_campaigns`` = how many found campaigns hold members of C.
- AUC: probability that a random malicious account scores above a random benign one (ties ½).

Example::

    report = score(findings, labels, request_counts=None)
    assert report.accounts.recall >= 0.95
    print(report.to_dict()["campaigns"])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from distillguard.evaluate.inputs import Reject


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


@dataclass
class Counts:
    """Confusion counts and the rates derived from them."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    auc: float | None = None

    @property
    def precision(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def fpr(self) -> float | None:
        return _ratio(self.fp, self.fp + self.tn)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "fpr": self.fpr,
            "auc": self.auc,
        }


@dataclass
class PersonaScore:
    accounts: int = 0
    flagged: int = 0

    @property
    def rate(self) -> float | None:
        return _ratio(self.flagged, self.accounts)


@dataclass
class CampaignScore:
    campaign_id: str
    accounts: int
    requests: int | None
    flagged_share: float
    best_match: str | None
    jaccard: float
    accounts_covered: float
    requests_covered: float | None
    found_campaigns: int


@dataclass
class Report:
    """The evaluation result; :meth:`to_dict` is the JSON written by ``distillguard evaluate``."""

    accounts: Counts
    benign_personas: dict[str, PersonaScore]
    malicious_personas: dict[str, PersonaScore]
    campaigns: list[CampaignScore]
    found_campaigns: list[dict[str, Any]]
    unlabelled_findings: int = 0
    rejects: list[Reject] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        reasons: dict[str, int] = {}
        for reject in self.rejects:
            reasons[reject.reason] = reasons.get(reject.reason, 0) + 1
        return {
            "schema": "dg.evaluation.v1",
            "accounts": self.accounts.to_dict(),
            "benign_personas": {
                k: {"accounts": v.accounts, "flagged": v.flagged, "fpr": v.rate}
                for k, v in sorted(self.benign_personas.items())
            },
            "malicious_personas": {
                k: {"accounts": v.accounts, "flagged": v.flagged, "recall": v.rate}
                for k, v in sorted(self.malicious_personas.items())
            },
            "campaigns": [asdict(c) for c in self.campaigns],
            "found_campaigns": self.found_campaigns,
            "unlabelled_findings": self.unlabelled_findings,
            "rejects": {
                "count": len(self.rejects),
                "by_reason": dict(sorted(reasons.items())),
                "items": [r.to_dict() for r in self.rejects[:1000]],
            },
        }


def _check_label(
    record: object, index: int, seen: set[str]
) -> tuple[dict[str, Any] | None, Reject | None]:
    def bad(reason: str, detail: str) -> tuple[None, Reject]:
        return None, Reject("labels", index, reason, detail)

    if not isinstance(record, dict):
        return bad("not_object", type(record).__name__)
    account = record.get("account_id")
    if not isinstance(account, str) or not account:
        return bad("missing_field" if account is None else "wrong_type", "account_id")
    if not isinstance(record.get("malicious"), bool):
        return bad("wrong_type" if "malicious" in record else "missing_field", "malicious")
    if not isinstance(record.get("persona"), str):
        return bad("wrong_type" if "persona" in record else "missing_field", "persona")
    campaign = record.get("campaign_id")
    if campaign is not None and not isinstance(campaign, str):
        return bad("wrong_type", "campaign_id")
    if account in seen:
        return bad("duplicate_account", account)
    seen.add(account)
    return record, None


def _findings(
    findings: Mapping[str, Any], rejects: list[Reject]
) -> tuple[dict[str, tuple[bool, float]], dict[str, set[str]]]:
    accounts = findings.get("accounts")
    campaigns = findings.get("campaigns")
    if not isinstance(accounts, list) or not isinstance(campaigns, list):
        from distillguard.errors import InputError

        raise InputError("findings must have 'accounts' and 'campaigns' lists (dg.findings.v1)")
    decided: dict[str, tuple[bool, float]] = {}
    members: dict[str, set[str]] = {}
    for index, entry in enumerate(accounts, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("account_id"), str):
            rejects.append(Reject("findings.accounts", index, "missing_field", "account_id"))
            continue
        flagged, raw_score = entry.get("flagged"), entry.get("score", 0.0)
        if (
            not isinstance(flagged, bool)
            or not isinstance(raw_score, int | float)
            or isinstance(raw_score, bool)
        ):
            rejects.append(Reject("findings.accounts", index, "wrong_type", "flagged/score"))
            continue
        account = entry["account_id"]
        if account in decided:
            rejects.append(Reject("findings.accounts", index, "duplicate_account", account))
            continue
        decided[account] = (flagged, float(raw_score))
        campaign = entry.get("campaign_id")
        if isinstance(campaign, str):
            members.setdefault(campaign, set()).add(account)
    for index, entry in enumerate(campaigns, start=1):
        ids = entry.get("account_ids") if isinstance(entry, dict) else None
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("campaign_id"), str)
            or not isinstance(ids, list)
        ):
            rejects.append(
                Reject("findings.campaigns", index, "missing_field", "campaign_id/account_ids")
            )
            continue
        members.setdefault(entry["campaign_id"], set()).update(a for a in ids if isinstance(a, str))
    return decided, members


def _auc(malicious_scores: list[float], benign_scores: list[float]) -> float | None:
    if not malicious_scores or not benign_scores:
        return None
    values = np.array(malicious_scores + benign_scores)
    order = values.argsort(kind="stable")
    ranks = np.empty(len(values))
    sorted_values = values[order]
    _, first, counts = np.unique(sorted_values, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2  # 1-based average rank of each tie group
    ranks[order] = np.repeat(average, counts)
    m = len(malicious_scores)
    return float((ranks[:m].sum() - m * (m + 1) / 2) / (m * len(benign_scores)))


def score(
    findings: Mapping[str, Any],
    labels: Sequence[object],
    request_counts: Mapping[str, int] | None = None,
) -> Report:
    """Score ``findings`` (a dg.findings.v1 document) against ``labels`` (dg.labels.v1 records).

    ``request_counts`` maps account ids to request counts; when ``None``, the labels' own
    ``requests`` fields are used if every label has one.
    """
    rejects: list[Reject] = []
    seen: set[str] = set()
    good: list[dict[str, Any]] = []
    for index, record in enumerate(labels, start=1):
        label, reject = _check_label(record, index, seen)
        if reject is not None:
            rejects.append(reject)
        elif label is not None:
            good.append(label)
    decided, members = _findings(findings, rejects)
    if request_counts is None and good and all(isinstance(x.get("requests"), int) for x in good):
        request_counts = {x["account_id"]: int(x["requests"]) for x in good}
    counts = Counts()
    benign: dict[str, PersonaScore] = {}
    malicious: dict[str, PersonaScore] = {}
    by_campaign: dict[str, list[str]] = {}
    scores_m: list[float] = []
    scores_b: list[float] = []
    flagged_set: set[str] = set()
    for label in good:
        account = label["account_id"]
        flagged, value = decided.get(account, (False, 0.0))
        if flagged:
            flagged_set.add(account)
        table = malicious if label["malicious"] else benign
        entry = table.setdefault(label["persona"], PersonaScore())
        entry.accounts += 1
        entry.flagged += int(flagged)
        if label["malicious"]:
            counts.tp += int(flagged)
            counts.fn += int(not flagged)
            scores_m.append(value)
            by_campaign.setdefault(label.get("campaign_id") or "(unassigned)", []).append(account)
        else:
            counts.fp += int(flagged)
            counts.tn += int(not flagged)
            scores_b.append(value)
    counts.auc = _auc(scores_m, scores_b)
    label_of = {x["account_id"]: x for x in good}
    campaigns = [
        _campaign(cid, ids, members, flagged_set, request_counts)
        for cid, ids in sorted(by_campaign.items())
    ]
    found = []
    for cid, ids in sorted(members.items()):
        labelled = [label_of[a] for a in ids if a in label_of]
        bad_share = _ratio(sum(1 for x in labelled if x["malicious"]), len(labelled))
        found.append(
            {
                "campaign_id": cid,
                "accounts": len(ids),
                "labelled": len(labelled),
                "malicious_share": bad_share,
            }
        )
    unlabelled = sum(1 for a in decided if a not in label_of)
    return Report(counts, benign, malicious, campaigns, found, unlabelled, rejects)


def _campaign(
    cid: str,
    ids: list[str],
    members: Mapping[str, set[str]],
    flagged: set[str],
    requests: Mapping[str, int] | None,
) -> CampaignScore:
    truth = set(ids)
    best: tuple[float, int, str] | None = None
    touched = 0
    for found_id in sorted(members):
        overlap = len(truth & members[found_id])
        if overlap == 0:
            continue
        touched += 1
        jaccard = overlap / len(truth | members[found_id])
        if best is None or (jaccard, overlap) > (best[0], best[1]):
            best = (jaccard, overlap, found_id)
    total_requests = sum(requests.get(a, 0) for a in truth) if requests is not None else None
    covered_requests: float | None = None
    if best is not None and requests is not None and total_requests:
        covered_requests = (
            sum(requests.get(a, 0) for a in truth & members[best[2]]) / total_requests
        )
    elif requests is not None and total_requests:
        covered_requests = 0.0
    return CampaignScore(
        campaign_id=cid,
        accounts=len(truth),
        requests=total_requests,
        flagged_share=len(truth & flagged) / len(truth),
        best_match=best[2] if best else None,
        jaccard=best[0] if best else 0.0,
        accounts_covered=best[1] / len(truth) if best else 0.0,
        requests_covered=covered_requests,
        found_campaigns=touched,
    )
