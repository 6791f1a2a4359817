"""Metrics against labels: how well findings match the ground truth of a scenario.

Public API::

    from distillguard.evaluate import score, Report
    report = score(findings_dict, label_records, request_counts=None)
    report.accounts.precision, report.accounts.recall, report.to_dict()
"""

from __future__ import annotations

from distillguard.evaluate.inputs import Reject, read_findings, read_labels, read_request_counts
from distillguard.evaluate.metrics import CampaignScore, Counts, PersonaScore, Report, score

__all__ = [
    "CampaignScore",
    "Counts",
    "PersonaScore",
    "Reject",
    "Report",
    "read_findings",
    "read_labels",
    "read_request_counts",
    "score",
]
