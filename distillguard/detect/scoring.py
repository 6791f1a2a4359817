"""Account scores with reasons.

An account's own signals (intent shares, capability sweep, address churn, API probing, sign-up
traces, ...) each contribute ``weight * strength`` where the strength rises linearly from the
signal's ``floor`` to its ``full`` value (``defaults.toml``); membership of a campaign adds its
confidence times the ``campaign_member`` weight. The score is ``1 - exp(-sum)``: monotone in
suspicion, in [0, 1), and a sum of independent pieces of evidence, each listed as a reason
``{signal, weight, detail}`` that an analyst can check.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from distillguard.detect.config import DetectConfig
from distillguard.detect.features.domain import DOMAINS

Row = Mapping[str, Any]


def _n(row: Row, key: str) -> float:
    value = row.get(key)
    return float(value) if value is not None else 0.0


def _shrunk(row: Row, key: str, prior: float = 20.0) -> float:
    """A share shrunk towards 0 for accounts with few requests (2 of 3 is not 67%)."""
    requests = _n(row, "requests")
    return _n(row, key) * requests / (requests + prior)


def _enough(row: Row, minimum: int = 10) -> bool:
    return _n(row, "requests") >= minimum


def _rotation(row: Row) -> float:
    return _n(row, "prefixes") if _n(row, "hosting_share") < 0.5 else 0.0


def _churn(row: Row) -> float:
    return _n(row, "ip_churn") if _n(row, "requests") >= 30 else 0.0


def _sampling(row: Row) -> float:
    return max(_n(row, "logprobs_share"), _n(row, "n_gt1_share"))


# signal -> (value from the account row, detail text)
_SIGNALS: dict[str, tuple[Callable[[Row], float], Callable[[Row], str]]] = {
    "cot_elicitation": (
        lambda r: _shrunk(r, "cot_share"),
        lambda r: f"{_n(r, 'cot_share'):.0%} of requests ask for step-by-step reasoning",
    ),
    "system_prompt_extraction": (
        lambda r: _shrunk(r, "sysprompt_share"),
        lambda r: f"{_n(r, 'sysprompt_share'):.0%} of requests try to extract a system prompt",
    ),
    "rubric_grading": (
        lambda r: _shrunk(r, "rubric_share"),
        lambda r: f"{_n(r, 'rubric_share'):.0%} of requests ask to grade against a rubric",
    ),
    "synthetic_dataset": (
        lambda r: _shrunk(r, "synthetic_share"),
        lambda r: f"{_n(r, 'synthetic_share'):.0%} of requests ask for synthetic training data",
    ),
    "capability_sweep": (
        lambda r: _n(r, "capability_coverage") if _enough(r, 30) else 0.0,
        lambda r: (
            f"requests sweep {int(_n(r, 'capability_coverage'))} of the capabilities coding, "
            "math, reasoning, planning and agentic tool use"
        ),
    ),
    "ip_churn": (
        _churn,
        lambda r: f"{int(_n(r, 'ips'))} addresses for {int(_n(r, 'requests'))} requests",
    ),
    "residential_rotation": (
        _rotation,
        lambda r: f"traffic from {int(_n(r, 'prefixes'))} different /24 or /48 networks",
    ),
    "api_probing": (
        lambda r: _n(r, "logit_bias_share"),
        lambda r: f"{_n(r, 'logit_bias_share'):.0%} of requests set logit_bias",
    ),
    "logprob_sampling": (
        _sampling,
        lambda r: (
            f"logprobs on {_n(r, 'logprobs_share'):.0%} and n>1 on {_n(r, 'n_gt1_share'):.0%} "
            "of requests"
        ),
    ),
    "max_tokens_sweep": (
        lambda r: _n(r, "max_tokens_values"),
        lambda r: f"{int(_n(r, 'max_tokens_values'))} distinct max_tokens values",
    ),
    "early_model_jump": (
        lambda r: _n(r, "early_model_jump"),
        lambda r: "moved most traffic to a newly released model within a day",
    ),
    "disposable_email": (
        lambda r: 1.0 if r.get("email_kind") == "disposable" else 0.0,
        lambda r: f"signed up with a disposable e-mail domain ({r.get('domain')})",
    ),
    "signup_burst": (
        lambda r: _n(r, "burst_ratio"),
        lambda r: f"{int(_n(r, 'burst_peers'))} other accounts signed up within an hour of it",
    ),
    "program_burst": (
        lambda r: _n(r, "program_ratio"),
        lambda r: (
            f"{int(_n(r, 'program_peers'))} other education, research or start-up sign-ups "
            "from other networks within an hour of its own"
        ),
    ),
    "shared_payment": (
        lambda r: _n(r, "payment_shared"),
        lambda r: f"payment instrument shared by {int(_n(r, 'payment_shared'))} accounts",
    ),
    "email_pattern": (
        lambda r: _n(r, "pattern_shared") if r.get("email_kind") != "custom" else 0.0,
        lambda r: f"e-mail address shape shared by {int(_n(r, 'pattern_shared'))} accounts",
    ),
}


# Signals that add to an account's score but say nothing about extraction on their own: many
# honest users try a new model the day it ships, sign up during someone else's burst, or ask for
# logprobs, logit_bias and several samples (researchers, evaluation runners). They
# never make a linked group a campaign (see :attr:`AccountScore.extraction`).
CONTEXT_SIGNALS = frozenset({"early_model_jump", "signup_burst", "logprob_sampling", "api_probing"})

# Sign-up traces: how the account was made, not what it does.
SIGNUP_SIGNALS = frozenset(
    {"disposable_email", "signup_burst", "program_burst", "shared_payment", "email_pattern"}
)

# Signals that come from other accounts (a campaign the account is linked into, or whose
# sign-up it shares), added after campaigns are found: never part of the extraction score.
LINK_SIGNALS = frozenset({"campaign_member", "campaign_cohort"})

# Everything that is not what the account's requests ask for.
NOT_EXTRACTION = CONTEXT_SIGNALS | SIGNUP_SIGNALS | LINK_SIGNALS


@dataclass
class AccountScore:
    """An account's evidence sum, score and reasons."""

    account_id: str
    total: float = 0.0
    reasons: list[dict[str, Any]] = field(default_factory=list)
    campaign_id: str | None = None
    extraction_total: float = 0.0

    @property
    def score(self) -> float:
        return 1.0 - math.exp(-self.total)

    @property
    def extraction(self) -> float:
        """Score from extraction signals only (no context signals, no campaign membership)."""
        return 1.0 - math.exp(-self.extraction_total)

    @property
    def asks_for_extraction(self) -> bool:
        """True when its requests carry an extraction signal (not sign-up traces or context)."""
        return any(r["signal"] not in NOT_EXTRACTION for r in self.reasons)

    def add(self, signal: str, weight: float, detail: str) -> None:
        self.total += weight
        if signal not in CONTEXT_SIGNALS and signal not in LINK_SIGNALS:
            self.extraction_total += weight
        self.reasons.append({"signal": signal, "weight": round(weight, 4), "detail": detail})


def own_scores(rows: list[Row], config: DetectConfig) -> dict[str, AccountScore]:
    """Score each account on its own signals."""
    specs = {name: config.signal(name) for name in _SIGNALS if name in config.signals}
    scores: dict[str, AccountScore] = {}
    for row in rows:
        result = AccountScore(str(row["account_id"]))
        for name, spec in specs.items():
            value_of, detail_of = _SIGNALS[name]
            strength = spec.strength(value_of(row))
            if strength > 0 and spec.weight > 0:
                result.add(name, spec.weight * strength, detail_of(row))
        scores[result.account_id] = result
    return scores


def _add_scaled(
    score: AccountScore, signal: str, value: float, detail: str, config: DetectConfig
) -> None:
    """Add ``signal`` at its configured strength for ``value``, if above its floor."""
    spec = config.signal(signal)
    strength = spec.strength(value)
    if strength > 0:
        score.add(signal, spec.weight * strength, detail)


def add_campaign(
    score: AccountScore, campaign_id: str, confidence: float, config: DetectConfig
) -> None:
    """Add campaign membership evidence to an account's score."""
    score.campaign_id = campaign_id
    detail = f"linked into campaign {campaign_id} (confidence {confidence:.2f})"
    _add_scaled(score, "campaign_member", confidence, detail, config)


def add_cohort(score: AccountScore, confidence: float, detail: str, config: DetectConfig) -> None:
    """Add sign-up cohort evidence (:mod:`~distillguard.detect.cohort`) to an account's score."""
    _add_scaled(score, "campaign_cohort", confidence, detail, config)


def domain_name(index: object) -> str:
    """Capability name of a stored domain index."""
    return DOMAINS[int(index)] if isinstance(index, int) and 0 <= index < len(DOMAINS) else "other"
