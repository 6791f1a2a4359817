"""The detection side of the loop: an incremental detection run and the policy, every few hours.

Each run ingests only the log segments written since the last run (the same incremental
ingest as ``distillguard detect --since last``), forgets requests older than the window, scores
and links the accounts seen in the window, maps the findings to actions with the policy and
applies them through the :class:`~distillguard.enforce.enforcer.Enforcer`, so the audit log
gets one entry per change, stamped with the simulated time.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from distillguard.detect.config import DetectConfig
from distillguard.detect.features.featurize import BatchFeaturizer
from distillguard.detect.pipeline import analyse
from distillguard.detect.store import Store
from distillguard.enforce.enforcer import Enforcer
from distillguard.enforce.policy import Policy, plan_findings
from distillguard.logs.arrow import account_table
from distillguard.logs.rejects import RejectSink


@dataclass(frozen=True, slots=True)
class RunStats:
    """One detection run of the loop."""

    at: datetime
    ingested: int
    in_window: int
    flagged: int
    campaigns: int
    changes: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "ingested": self.ingested,
            "in_window": self.in_window,
            "flagged": self.flagged,
            "campaigns": self.campaigns,
            "changes": self.changes,
            "seconds": round(self.seconds, 3),
        }


class LoopDetector:
    """Runs detection on the defended log and applies the policy's actions."""

    def __init__(
        self,
        requests_dir: Path,
        *,
        config: DetectConfig,
        policy: Policy,
        enforcer: Enforcer,
        window: timedelta,
        rejects: RejectSink,
    ) -> None:
        self.requests_dir = requests_dir
        self.config = config
        self.policy = policy
        self.enforcer = enforcer
        self.window = window
        self.rejects = rejects
        self.store = Store(None)
        self.featurizer = BatchFeaturizer()
        self.runs: list[RunStats] = []

    def close(self) -> None:
        self.store.close()

    def run(self, now: datetime, accounts: Sequence[Mapping[str, Any]]) -> RunStats:
        """One run at simulated time ``now`` over the accounts that exist by then."""
        started = time.perf_counter()
        ingested = self.store.ingest(self.requests_dir, self.rejects, featurizer=self.featurizer)
        flagged = campaigns = changes = in_window = 0
        if self.store.has_requests():
            db = self.store.db
            db.execute("DELETE FROM requests WHERE ts < ?", [now - self.window])
            ((in_window,),) = db.execute("SELECT count(*) FROM requests").fetchall()
        if in_window:
            self.store.set_accounts(account_table(list(accounts)))
            result = analyse(self.store, self.config)
            flagged = int(result.summary["accounts_flagged"])
            campaigns = int(result.summary["campaigns"])
            by_id = {a["account_id"]: a for a in accounts}
            plan = plan_findings(self.policy, result.findings, now, accounts=by_id)
            changes = len(self.enforcer.apply(plan.actions, now=now))
        stats = RunStats(
            now, ingested, in_window, flagged, campaigns, changes, time.perf_counter() - started
        )
        self.runs.append(stats)
        return stats

    def summary(self) -> dict[str, Any]:
        seconds = [r.seconds for r in self.runs]
        return {
            "runs": len(self.runs),
            "seconds_total": round(sum(seconds), 1),
            "seconds_mean": round(sum(seconds) / len(seconds), 3) if seconds else 0.0,
            "seconds_max": round(max(seconds), 3) if seconds else 0.0,
            "changes": sum(r.changes for r in self.runs),
        }
