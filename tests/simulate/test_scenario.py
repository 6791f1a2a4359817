from __future__ import annotations

import random
from pathlib import Path

import jsonschema
import orjson
import pytest

from distillguard.errors import ConfigurationError
from distillguard.logs.validate import validate_account, validate_request
from distillguard.simulate import generate, population, presets
from distillguard.simulate.streams import Clock

from .conftest import SCALE, SEED, Scenario
from conftest import SPEC_DIR


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_same_bytes_even_with_two_workers(scenario: Scenario, tmp_path: Path) -> None:
    generate("seed", scale=SCALE, seed=SEED, out=tmp_path, fmt="jsonl.zst", workers=2)
    first, second = _files(scenario.path), _files(tmp_path)
    assert list(first) == list(second)
    for name in first:
        assert first[name] == second[name], name


def test_another_seed_gives_other_accounts(scenario: Scenario) -> None:
    preset = presets.load("seed", SCALE)
    _, builder = population.build(preset, SEED + 1, Clock(presets.START))
    assert len(builder.accounts) == len(scenario.accounts)
    assert {a["account_id"] for a in builder.accounts}.isdisjoint(
        a["account_id"] for a in scenario.accounts
    )


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = orjson.loads((SPEC_DIR / f"{name}.v1.schema.json").read_bytes())
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def test_records_follow_the_schemas(scenario: Scenario) -> None:
    sample = random.Random(1).sample(scenario.requests, 600)
    request = _validator("request")
    for record in sample:
        request.validate(record)
    account = _validator("account")
    for record in scenario.accounts:
        account.validate(record)
    label = _validator("labels")
    for record in scenario.labels:
        label.validate(record)
    assert len(scenario.accounts) == len(scenario.labels) == scenario.manifest["counts"]["accounts"]


def test_every_record_passes_the_fast_validators(scenario: Scenario) -> None:
    for record in scenario.requests:
        validate_request(record)
    for account in scenario.accounts:
        validate_account(account)


def test_segments_are_in_time_order_and_counted(scenario: Scenario) -> None:
    stamps = [r["ts"] for r in scenario.requests]
    assert stamps == sorted(stamps)
    assert stamps[0] >= "2026-04-01T00:00:00" and stamps[-1] < "2026-07-01T00:00:00"
    assert len(scenario.requests) == scenario.manifest["counts"]["requests"]
    assert sum(x["requests"] for x in scenario.labels) == len(scenario.requests)
    assert len({r["request_id"] for r in scenario.requests}) == len(scenario.requests)
    segments = sorted(p.name for p in (scenario.path / "requests").iterdir())
    assert segments == scenario.manifest["segments"]
    assert not [p for p in (scenario.path / "requests").iterdir() if p.name.startswith(".")]


def test_manifest_describes_the_scenario(scenario: Scenario) -> None:
    m = scenario.manifest
    assert (m["preset"], m["seed"], m["scale"]) == ("seed", SEED, SCALE)
    assert m["start"].startswith("2026-04-01") and m["days"] == 91
    assert {"hydra-proxy-network", "reasoning-harvest", "agentic-harvest", "prompt-prober"} == set(
        m["campaigns"]
    )
    assert m["releases"][0]["model"] == "aurora-2"
    assert m["counts"]["benign_accounts"] >= 100
    hydra = m["campaigns"]["hydra-proxy-network"]["requests"]
    assert hydra > 0.5 * m["counts"]["malicious_requests"]


def test_refuses_to_overwrite_segments(scenario: Scenario) -> None:
    with pytest.raises(ConfigurationError):
        generate("seed", scale=SCALE, seed=SEED, out=scenario.path)


def test_unknown_format_and_preset_are_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        generate("seed", scale=SCALE, seed=1, out=tmp_path, fmt="csv")
    with pytest.raises(ConfigurationError):
        generate("no-such-preset", scale=SCALE, seed=1, out=tmp_path)
