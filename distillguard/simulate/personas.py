"""Benign personas: who the legitimate customers are, how much and when they send, from where.

Volumes are for the full seed preset (``scale=1``); :mod:`distillguard.simulate.presets` scales
account counts, keeping each persona's per-account behaviour. The heavy personas (enterprise
batch, chat apps, evaluation runners) are the false positives a detector must leave alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

HOME = {
    "US": 0.34,
    "DE": 0.08,
    "FR": 0.06,
    "GB": 0.07,
    "ES": 0.03,
    "CA": 0.04,
    "BR": 0.06,
    "CN": 0.08,
    "KR": 0.04,
    "JP": 0.05,
    "IN": 0.08,
    "VN": 0.03,
    "ID": 0.04,
}
SDK = {
    "openai-python": 0.45,
    "anthropic-python": 0.2,
    "openai-node": 0.2,
    "anthropic-node": 0.07,
    "curl": 0.03,
    "go-openai": 0.03,
    "java": 0.02,
}


@dataclass(frozen=True)
class Persona:
    """Knobs of one benign persona. Rates are per account; ``per_day`` is the median number of
    requests on a day the account is active, spread log-normally across accounts by ``sigma``."""

    name: str
    accounts: int
    content: str
    per_day: float
    active: float
    weekend: float = 0.6
    sigma: float = 0.8
    rhythm: str = "human"
    network: str = "home"
    countries: dict[str, float] = field(default_factory=lambda: dict(HOME))
    clients: dict[str, float] = field(default_factory=lambda: dict(SDK))
    programs: dict[str, float] = field(default_factory=lambda: {"standard": 1.0})
    verification: dict[str, float] = field(
        default_factory=lambda: {"email": 0.5, "phone": 0.2, "payment": 0.3}
    )
    email: str = "personal"
    models: dict[str, float] = field(
        default_factory=lambda: {"aurora-1": 0.5, "aurora-1-mini": 0.4, "aurora-1-reasoning": 0.1}
    )
    heavy: bool = False
    min_per_day: float = 0.0
    cohorts: float = 0.0  # share of accounts signed up in cohorts (a class, a hackathon)
    adopt_days: float = 20.0  # how fast the persona moves to a newly released model
    min_accounts: int = 1


PERSONAS: tuple[Persona, ...] = (
    Persona("hobbyist", 56_200, "casual", per_day=7, active=0.16, sigma=0.7, network="home"),
    Persona(
        "coding_assistant",
        13_000,
        "coding_ide",
        per_day=13,
        active=0.55,
        weekend=0.35,
        sigma=0.7,
        models={"aurora-1": 0.8, "aurora-1-reasoning": 0.2},
        adopt_days=6,
    ),
    Persona(
        "chat_app",
        300,
        "chat_app",
        per_day=200,
        active=1.0,
        weekend=1.1,
        sigma=1.0,
        rhythm="service",
        network="cloud",
        clients={"openai-node": 0.5, "openai-python": 0.35, "go-openai": 0.15},
        programs={"standard": 0.7, "partner": 0.3},
        verification={"payment": 0.6, "org": 0.4},
        email="work",
        models={"aurora-1-mini": 0.8, "aurora-1": 0.2},
        heavy=True,
        min_per_day=40,
        adopt_days=45,
        min_accounts=2,
    ),
    Persona(
        "enterprise_batch",
        30,
        "batch",
        per_day=1200,
        active=1.0,
        weekend=1.0,
        sigma=0.3,
        rhythm="batch",
        network="cloud",
        clients={"openai-python": 0.5, "java": 0.3, "go-openai": 0.2},
        programs={"enterprise": 1.0},
        verification={"org": 1.0},
        email="work",
        models={"aurora-1-mini": 0.7, "aurora-1": 0.3},
        heavy=True,
        min_per_day=120,
        adopt_days=400,
        min_accounts=1,
    ),
    Persona(
        "eval_runner",
        150,
        "eval",
        per_day=500,
        active=0.12,
        weekend=0.5,
        sigma=0.5,
        rhythm="burst",
        network="cloud",
        programs={"standard": 0.5, "research": 0.3, "startup": 0.2},
        verification={"payment": 0.7, "org": 0.3},
        email="work",
        models={"aurora-1": 0.5, "aurora-1-mini": 0.25, "aurora-1-reasoning": 0.25},
        heavy=True,
        min_per_day=100,
        adopt_days=2,
        min_accounts=3,
    ),
    Persona(
        "university_lab",
        320,
        "casual",
        per_day=9,
        active=0.4,
        weekend=0.3,
        network="nat",
        programs={"education": 0.8, "research": 0.2},
        verification={"email": 0.8, "phone": 0.2},
        email="university",
        cohorts=0.5,
        min_accounts=4,
    ),
    Persona(
        "mobile_user",
        18_000,
        "casual",
        per_day=5,
        active=0.2,
        weekend=1.2,
        sigma=0.6,
        network="mobile",
        clients={"okhttp": 0.35, "dart": 0.25, "cfnetwork": 0.3, "openai-node": 0.1},
        min_accounts=4,
    ),
    Persona(
        "researcher_logprobs",
        900,
        "research",
        per_day=40,
        active=0.3,
        weekend=0.3,
        sigma=1.0,
        network="nat_or_cloud",
        programs={"research": 0.6, "education": 0.2, "standard": 0.2},
        email="university",
        models={"aurora-1": 0.6, "aurora-1-mini": 0.4},
        adopt_days=3,
        min_accounts=2,
    ),
    Persona(
        "agent_framework",
        2_200,
        "agent",
        per_day=30,
        active=0.45,
        weekend=0.5,
        sigma=0.9,
        network="cloud_or_home",
        clients={"openai-python": 0.6, "anthropic-python": 0.25, "openai-node": 0.15},
        models={"aurora-1": 0.6, "aurora-1-reasoning": 0.4},
        adopt_days=5,
        min_accounts=2,
    ),
    Persona(
        "startup_signup",
        4_500,
        "coding_ide",
        per_day=10,
        active=0.35,
        weekend=0.5,
        network="home",
        programs={"startup": 1.0},
        verification={"email": 0.6, "phone": 0.3, "payment": 0.1},
        email="work",
        cohorts=0.3,
        adopt_days=5,
        min_accounts=2,
    ),
    Persona(
        "education_signup",
        4_500,
        "casual",
        per_day=8,
        active=0.3,
        weekend=0.5,
        network="home",
        programs={"education": 1.0},
        verification={"email": 0.8, "phone": 0.2},
        email="university_or_personal",
        cohorts=0.4,
        min_accounts=2,
    ),
)
BY_NAME = {p.name: p for p in PERSONAS}
HEAVY = (*tuple(p.name for p in PERSONAS if p.heavy), "university_lab")
