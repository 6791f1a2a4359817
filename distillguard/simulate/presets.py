"""Scenario presets and how ``--scale`` shrinks them.

``seed`` reproduces the reported campaign scale (about 25,000 campaign accounts and 28.8 million
campaign requests over 91 days from 2026-04-01) inside a benign background of about 100,000
accounts sending about as many requests. Every other preset is the seed preset with one evasion
turned on for every campaign, so a drop in recall points at that evasion alone.

Scaling multiplies account counts (and campaign request totals) by ``scale``, keeping per-account
behaviour. Each persona and campaign keeps a floor of accounts so that all are present in a small
scenario; when a heavy persona's count is floored, its per-account volume is reduced in proportion
(never below its ``min_per_day``), so a tiny scenario keeps the benign/campaign volume ratio
roughly while enterprise pipelines still out-send every campaign account.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from distillguard.errors import ConfigurationError
from distillguard.simulate import campaigns as campaign_specs
from distillguard.simulate.campaigns import Campaign
from distillguard.simulate.personas import PERSONAS, Persona

START = datetime(2026, 4, 1, tzinfo=UTC)
DAYS = 91
BASE_MODELS = ("aurora-1", "aurora-1-mini", "aurora-1-reasoning")


@dataclass(frozen=True)
class Release:
    """A newly released model: name, the day and hour (UTC) it became available."""

    model: str
    day: int
    hour: float

    @property
    def offset_ms(self) -> int:
        return int((self.day * 24 + self.hour) * 3_600_000)


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    personas: tuple[Persona, ...]
    campaigns: tuple[Campaign, ...]
    releases: tuple[Release, ...]
    days: int = DAYS


RELEASE = Release("aurora-2", 48, 17.0)
DESCRIPTIONS = {
    "seed": "reported scale: 25k campaign accounts, 28.8M campaign requests in 91 days, 100k benign accounts",
    "paraphrase": "every campaign paraphrases its extraction instructions per request",
    "human_rhythm": "campaign members follow human daily rhythms in their claimed time zones, no synchronised waves",
    "low_and_slow": "campaign members send a quarter of the volume, spread evenly over the day",
    "residential_rotation": "all campaigns rotate residential proxy exits per request over a large pool, with IPv6",
    "diverse_clients": "campaign members rotate user agents and TLS fingerprints, browsers included",
    "reseller_mix": "half of the members' traffic is a reseller's genuine customer traffic",
    "model_release_pivot": "every campaign moves half its traffic to a model released mid-scenario, within a day",
}


def _preset(name: str) -> Preset:
    if name == "seed":
        return Preset(name, DESCRIPTIONS[name], PERSONAS, campaign_specs.SEED, (RELEASE,))
    if name in campaign_specs.EVASIONS:
        chosen = tuple(campaign_specs.with_evasion(c, name) for c in campaign_specs.SEED)
        releases = (
            (RELEASE, Release("aurora-2-mini", 70, 16.0))
            if name == "model_release_pivot"
            else (RELEASE,)
        )
        return Preset(name, DESCRIPTIONS[name], PERSONAS, chosen, releases)
    raise ConfigurationError(f"unknown preset {name!r}; choose one of {', '.join(names())}")


def names() -> list[str]:
    return ["seed", *campaign_specs.EVASIONS]


def load(name: str, scale: float) -> Preset:
    """The preset ``name`` scaled by ``scale`` (0 < scale <= 4)."""
    if not 0 < scale <= 4:
        raise ConfigurationError(f"--scale must be in (0, 4], got {scale}")
    preset = _preset(name)
    personas = tuple(scale_persona(p, scale) for p in preset.personas)
    campaigns = tuple(scale_campaign(c, scale) for c in preset.campaigns)
    return replace(preset, personas=personas, campaigns=campaigns)


def scale_persona(persona: Persona, scale: float) -> Persona:
    exact = persona.accounts * scale
    count = max(persona.min_accounts, round(exact))
    per_day = persona.per_day
    if persona.heavy and count > exact:
        per_day = max(persona.min_per_day, per_day * exact / count)
    return replace(persona, accounts=count, per_day=per_day)


def scale_campaign(campaign: Campaign, scale: float) -> Campaign:
    count = max(5, round(campaign.accounts * scale))
    requests = round(campaign.requests * count / campaign.accounts)
    return replace(
        campaign,
        accounts=count,
        requests=requests,
        bursts=max(1, round(campaign.bursts * count / campaign.accounts)),
    )
