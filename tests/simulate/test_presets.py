from __future__ import annotations

import pytest
from click.testing import CliRunner

from distillguard.cli.simulate import simulate
from distillguard.errors import ConfigurationError
from distillguard.simulate import presets
from distillguard.simulate.campaigns import EVASIONS


def test_seed_preset_has_the_reported_scale() -> None:
    seed = presets.load("seed", 1.0)
    assert sum(c.accounts for c in seed.campaigns) == 25_000
    assert sum(c.requests for c in seed.campaigns) == 28_800_000
    assert sum(p.accounts for p in seed.personas) >= 100_000
    hydra = max(seed.campaigns, key=lambda c: c.requests)
    assert hydra.requests / 28_800_000 == pytest.approx(0.8)
    assert seed.days == 91 and presets.START.isoformat().startswith("2026-04-01")


def test_scale_shrinks_accounts_and_keeps_floors() -> None:
    small = presets.load("seed", 0.001)
    assert all(c.accounts >= 5 for c in small.campaigns)
    assert all(p.accounts >= 1 for p in small.personas)
    hydra = next(c for c in small.campaigns if c.persona == "hydra_member")
    assert hydra.accounts == 20 and hydra.requests == round(23_040_000 * 20 / 20_000)
    enterprise = next(p for p in small.personas if p.name == "enterprise_batch")
    assert enterprise.per_day >= enterprise.min_per_day


def test_each_evasion_preset_changes_one_knob() -> None:
    seed = presets.load("seed", 1.0)
    for name in EVASIONS:
        other = presets.load(name, 1.0)
        assert other.personas == seed.personas
        assert other.campaigns != seed.campaigns, name
    assert all(c.paraphrase == 1.0 for c in presets.load("paraphrase", 1.0).campaigns)
    assert all(c.reseller_mix == 0.5 for c in presets.load("reseller_mix", 1.0).campaigns)
    assert len(presets.load("model_release_pivot", 1.0).releases) == 2


@pytest.mark.parametrize("scale", [0.0, -1.0, 5.0])
def test_bad_scale_is_a_configuration_error(scale: float) -> None:
    with pytest.raises(ConfigurationError):
        presets.load("seed", scale)


def test_list_presets_command() -> None:
    result = CliRunner().invoke(simulate, ["--list-presets"])
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.output.splitlines()]
    assert listed[0] == "seed"
    for name in (
        "paraphrase",
        "human_rhythm",
        "reseller_mix",
        "low_and_slow",
        "residential_rotation",
        "model_release_pivot",
    ):
        assert name in listed


def test_simulate_without_out_is_a_usage_error() -> None:
    result = CliRunner().invoke(simulate, ["--preset", "seed"])
    assert result.exit_code == 2
