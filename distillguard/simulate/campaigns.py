"""Extraction campaigns as sets of knobs.

A campaign is a group of accounts run by one operator: created in bursts, spread thinly so each
member looks like a light user, reaching the API from residential proxies or datacenter ranges,
sending templated prompts that elicit reasoning, grade with rubrics, extract system prompts or
request synthetic training sets. The evasion knobs (paraphrase, human rhythm, low-and-slow,
diverse clients, reseller mixing, residential rotation, model-release pivot) are turned on one
at a time by the evasion presets.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Campaign:
    """Knobs of one campaign (volumes for the full seed preset)."""

    campaign_id: str
    persona: str
    accounts: int
    requests: int
    kinds: dict[str, float]
    infra: str = "residential"  # residential | datacenter | mixed
    pool_per_account: float = 8.0  # proxy exit addresses per member account
    sticky_minutes: float = 10.0  # a proxy session keeps its exit this long (0: rotate per request)
    v6_share: float = 0.0
    clients: dict[str, float] = field(default_factory=lambda: {"openai-python": 1.0})
    client_builds: int = 2  # how many builds of the client families the operator's fleet runs
    email: str = "disposable"  # disposable | sequential | mixed | university
    programs: dict[str, float] = field(
        default_factory=lambda: {"standard": 0.5, "education": 0.2, "startup": 0.2, "research": 0.1}
    )
    verification: dict[str, float] = field(default_factory=lambda: {"email": 0.7, "phone": 0.3})
    shared_payment: float = 0.3  # share of members paying with a card used by other members
    accounts_per_card: int = 12
    bursts: int = 40  # sign-up bursts (scaled with the account count)
    countries: dict[str, float] = field(
        default_factory=lambda: {
            "US": 0.4,
            "DE": 0.1,
            "GB": 0.1,
            "FR": 0.1,
            "JP": 0.1,
            "KR": 0.1,
            "BR": 0.1,
        }
    )
    operator_tz: float = 8.0
    rhythm: str = "waves"  # waves | human | uniform
    active: float = 0.85
    paraphrase: float = 0.0
    reseller_mix: float = (
        0.0  # share of the members' traffic that is a reseller's genuine customers
    )
    pivot: float = 0.0  # share of traffic moved to a newly released model within a day
    models: dict[str, float] = field(
        default_factory=lambda: {"aurora-1": 0.6, "aurora-1-reasoning": 0.4}
    )
    start_day: int = 0
    variants: tuple[int, ...] = (0, 1)
    system_style: int = 0


SEED: tuple[Campaign, ...] = (
    Campaign(
        "hydra-proxy-network",
        "hydra_member",
        20_000,
        23_040_000,
        kinds={
            "cot": 0.35,
            "sweep": 0.25,
            "agentic": 0.15,
            "backfill": 0.1,
            "rubric": 0.1,
            "synthetic": 0.05,
        },
        infra="residential",
        pool_per_account=6.0,
        sticky_minutes=15.0,
        v6_share=0.1,
        clients={"openai-python": 0.7, "anthropic-python": 0.3},
        email="mixed",
        pivot=0.5,
        variants=(0, 1, 2, 6),
        system_style=0,
    ),
    Campaign(
        "reasoning-harvest",
        "cot_harvester",
        1_800,
        2_073_600,
        kinds={"cot": 0.5, "backfill": 0.2, "rubric": 0.25, "rewrite": 0.05},
        infra="datacenter",
        pool_per_account=0.15,
        sticky_minutes=0.0,
        clients={"openai-python": 1.0},
        client_builds=1,
        email="sequential",
        shared_payment=0.6,
        accounts_per_card=25,
        bursts=8,
        operator_tz=8.0,
        variants=(4, 5),
        system_style=1,
        models={"aurora-1-reasoning": 0.8, "aurora-1": 0.2},
        start_day=5,
    ),
    Campaign(
        "agentic-harvest",
        "agentic_harvester",
        2_400,
        2_764_800,
        kinds={"agentic": 0.6, "sweep": 0.25, "cot": 0.15},
        infra="mixed",
        pool_per_account=2.0,
        sticky_minutes=30.0,
        clients={"openai-node": 0.6, "openai-python": 0.4},
        email="university",
        programs={"education": 0.45, "research": 0.25, "startup": 0.3},
        shared_payment=0.2,
        bursts=15,
        operator_tz=8.0,
        variants=(3, 7),
        system_style=2,
        start_day=12,
    ),
    Campaign(
        "prompt-prober",
        "sysprompt_prober",
        800,
        921_600,
        kinds={"sysprompt": 0.4, "synthetic": 0.4, "cot": 0.2},
        infra="datacenter",
        pool_per_account=0.3,
        sticky_minutes=0.0,
        clients={"go-openai": 0.5, "curl": 0.5},
        client_builds=1,
        email="disposable",
        shared_payment=0.5,
        accounts_per_card=8,
        bursts=6,
        operator_tz=3.0,
        variants=(1,),
        system_style=3,
        start_day=30,
    ),
)


def with_evasion(campaign: Campaign, evasion: str) -> Campaign:
    """``campaign`` with one evasion turned on."""
    if evasion == "paraphrase":
        return replace(campaign, paraphrase=1.0)
    if evasion == "human_rhythm":
        return replace(campaign, rhythm="human", active=0.6)
    if evasion == "low_and_slow":
        return replace(campaign, requests=campaign.requests // 4, rhythm="uniform", active=0.7)
    if evasion == "residential_rotation":
        return replace(
            campaign, infra="residential", pool_per_account=40.0, sticky_minutes=0.0, v6_share=0.25
        )
    if evasion == "diverse_clients":
        return replace(
            campaign,
            clients={
                "openai-python": 0.25,
                "openai-node": 0.2,
                "anthropic-python": 0.15,
                "chrome": 0.15,
                "safari": 0.1,
                "firefox": 0.05,
                "okhttp": 0.05,
                "go-openai": 0.05,
            },
            client_builds=0,
        )
    if evasion == "reseller_mix":
        return replace(campaign, reseller_mix=0.5)
    if evasion == "model_release_pivot":
        return replace(campaign, pivot=0.5)
    raise ValueError(f"unknown evasion {evasion!r}")


EVASIONS = (
    "paraphrase",
    "human_rhythm",
    "low_and_slow",
    "residential_rotation",
    "diverse_clients",
    "reseller_mix",
    "model_release_pivot",
)
