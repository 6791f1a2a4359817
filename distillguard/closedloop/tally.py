"""Counting what the closed loop did, and the figures it reports.

For every request the tally keeps the undefended outcome (what the scenario's log says was
served) beside the defended one (what the gateway model did), per campaign and per benign
persona, and per simulated hour for campaigns.

- **Yield**: responses and visible output tokens served to a campaign, as a share of the same
  scenario undefended. A *useful* response is one served with no output control applied.
- **Containment**: the first hour *T* from which every 24-hour window serves at most
  ``contained_share`` (5%) of the requests the campaign sends in it; reported as hours from the
  campaign's first request. A campaign still served above that share in its last window is
  not contained (None).
- **Collateral**: benign requests that were throttled, degraded, challenged or blocked, per
  persona and overall.
- **Attacker cost**: with the adaptive attacker, accounts used (the original fleet plus the
  replacements) times the cost per account, divided by useful responses.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from distillguard.closedloop.attacker import Attacker
from distillguard.closedloop.gateway import Outcome

CONTAINMENT_WINDOW_H = 24
DECISIONS = ("allow", "throttle", "degrade", "challenge", "block")


@dataclass
class ClassTally:
    """Counters for one campaign or persona."""

    requests: int = 0
    served_undefended: int = 0
    tokens_undefended: int = 0
    served: int = 0
    useful: int = 0
    tokens: int = 0
    decisions: Counter[str] = field(default_factory=Counter)

    def add(self, undefended_served: bool, undefended_tokens: int, outcome: Outcome) -> None:
        self.requests += 1
        self.served_undefended += undefended_served
        self.tokens_undefended += undefended_tokens
        self.served += outcome.served
        self.useful += outcome.served and not outcome.degraded
        self.tokens += outcome.output_tokens
        self.decisions[outcome.decision] += 1

    @property
    def affected(self) -> int:
        return self.requests - self.decisions["allow"]


@dataclass
class Tally:
    """Everything counted during one closed-loop run."""

    hours: int
    contained_share: float = 0.05
    campaigns: dict[str, ClassTally] = field(default_factory=dict)
    personas: dict[str, ClassTally] = field(default_factory=dict)
    _hourly_total: dict[str, np.ndarray] = field(default_factory=dict)
    _hourly_served: dict[str, np.ndarray] = field(default_factory=dict)
    _first_hour: dict[str, int] = field(default_factory=dict)

    def add(
        self,
        campaign_id: str | None,
        persona: str,
        hour: int,
        undefended_served: bool,
        undefended_tokens: int,
        outcome: Outcome,
    ) -> None:
        if campaign_id is None:
            self.personas.setdefault(persona, ClassTally()).add(
                undefended_served, undefended_tokens, outcome
            )
            return
        self.campaigns.setdefault(campaign_id, ClassTally()).add(
            undefended_served, undefended_tokens, outcome
        )
        if campaign_id not in self._hourly_total:
            self._hourly_total[campaign_id] = np.zeros(self.hours, dtype=np.int64)
            self._hourly_served[campaign_id] = np.zeros(self.hours, dtype=np.int64)
            self._first_hour[campaign_id] = hour
        self._hourly_total[campaign_id][hour] += 1
        self._hourly_served[campaign_id][hour] += outcome.served

    def containment_hours(self, campaign_id: str) -> float | None:
        """Hours from the campaign's first request to containment; None if never contained.

        Contained from hour *T* when every 24-hour window starting at or after *T* serves at
        most ``contained_share`` of the requests the campaign sends in it.
        """
        total = self._hourly_total[campaign_id]
        served = self._hourly_served[campaign_id]
        first = self._first_hour[campaign_id]
        window = min(CONTAINMENT_WINDOW_H, len(total))
        kernel = np.ones(window, dtype=np.int64)
        sent = np.convolve(total, kernel)[window - 1 :]  # sent[h] = total[h : h + window].sum()
        got = np.convolve(served, kernel)[window - 1 :]
        bad = np.flatnonzero(got > self.contained_share * sent)
        bad = bad[bad >= first]
        contained_at = first if len(bad) == 0 else int(bad[-1]) + 1
        if contained_at >= len(total) or total[contained_at:].sum() == 0:
            return None if len(bad) else 0.0
        return float(contained_at - first)

    def hourly(self, campaign_id: str) -> dict[str, list[int]]:
        return {
            "requests": self._hourly_total[campaign_id].tolist(),
            "served": self._hourly_served[campaign_id].tolist(),
        }

    def report(self, attacker: Attacker) -> dict[str, Any]:
        """The figures of the run (JSON-ready)."""
        campaigns: dict[str, Any] = {}
        for cid, t in sorted(self.campaigns.items()):
            useful_undefended = max(t.served_undefended, 1)
            spend = attacker.spend(cid)
            campaigns[cid] = {
                "requests": t.requests,
                "responses_undefended": t.served_undefended,
                "responses_served": t.served,
                "useful_responses": t.useful,
                "output_tokens_undefended": t.tokens_undefended,
                "output_tokens_served": t.tokens,
                "yield_responses": _ratio(t.served, t.served_undefended),
                "yield_useful": _ratio(t.useful, t.served_undefended),
                "yield_output_tokens": _ratio(t.tokens, t.tokens_undefended),
                "containment_hours": self.containment_hours(cid),
                "decisions": _decisions(t),
                "accounts_original": attacker.original_accounts[cid],
                "accounts_bought": attacker.bought[cid],
                "attacker_spend": round(spend, 2),
                "cost_per_useful_response": (round(spend / t.useful, 4) if t.useful else None),
                "cost_per_response_undefended": round(
                    attacker.original_accounts[cid] * attacker.cost_per_account / useful_undefended,
                    4,
                ),
            }
        benign_total = sum(t.requests for t in self.personas.values())
        benign_affected = sum(t.affected for t in self.personas.values())
        personas = {
            name: {
                "requests": t.requests,
                "affected": t.affected,
                "affected_share": _ratio(t.affected, t.requests),
                "decisions": _decisions(t),
            }
            for name, t in sorted(self.personas.items())
        }
        all_campaigns = ClassTally()
        for t in self.campaigns.values():
            all_campaigns.requests += t.requests
            all_campaigns.served_undefended += t.served_undefended
            all_campaigns.served += t.served
            all_campaigns.useful += t.useful
            all_campaigns.tokens += t.tokens
            all_campaigns.tokens_undefended += t.tokens_undefended
        contained = [self.containment_hours(c) for c in self.campaigns]
        return {
            "campaign_yield_responses": _ratio(
                all_campaigns.served, all_campaigns.served_undefended
            ),
            "campaign_yield_useful": _ratio(all_campaigns.useful, all_campaigns.served_undefended),
            "campaign_yield_output_tokens": _ratio(
                all_campaigns.tokens, all_campaigns.tokens_undefended
            ),
            "worst_containment_hours": (
                None
                if not contained or any(c is None for c in contained)
                else max(c for c in contained if c is not None)
            ),
            "benign_requests": benign_total,
            "benign_affected": benign_affected,
            "benign_affected_share": _ratio(benign_affected, benign_total),
            "campaigns": campaigns,
            "personas": personas,
        }


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 6) if whole else 0.0


def _decisions(t: ClassTally) -> dict[str, int]:
    return {d: t.decisions[d] for d in DECISIONS if t.decisions[d]}
