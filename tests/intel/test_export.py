from __future__ import annotations

from pathlib import Path

import orjson
import stix2

from distillguard.console.dataset import Dataset
from distillguard.console.findings import parse_findings
from distillguard.errors import ConfigurationError
from distillguard.intel.export import export_bundle, pattern_of
from distillguard.intel.indicators import IndicatorValue, campaign_indicators

from console.sample_dataset import JA4_HYDRA


def objects_of(bundle: stix2.v21.Bundle, kind: str) -> list[stix2.base._STIXBase]:
    return [o for o in bundle.objects if o["type"] == kind]


def test_bundle_parses_with_stix2(dataset: Dataset) -> None:
    bundle = export_bundle(dataset.findings, dataset, tlp="amber")
    parsed = stix2.parse(bundle.serialize(), allow_custom=True)
    assert parsed["type"] == "bundle"
    campaigns = objects_of(parsed, "campaign")
    assert {c["name"] for c in campaigns} == {
        "Model distillation campaign C-hydra",
        "Model distillation campaign C-probe",
    }
    hydra = next(c for c in campaigns if c["name"].endswith("C-hydra"))
    assert hydra["confidence"] == 92 and hydra["x_distillguard_accounts"] == 6
    assert "reasoning, coding and planning" in hydra["objective"]


def test_every_indicator_is_marked_and_indicates_a_campaign(dataset: Dataset) -> None:
    bundle = export_bundle(dataset.findings, dataset, tlp="green")
    indicators = objects_of(bundle, "indicator")
    relations = objects_of(bundle, "relationship")
    campaign_ids = {c["id"] for c in objects_of(bundle, "campaign")}
    assert len(relations) == len(indicators) > 0
    assert {r["source_ref"] for r in relations} == {i["id"] for i in indicators}
    assert {r["target_ref"] for r in relations} <= campaign_ids
    green = stix2.v21.TLP_GREEN.id
    assert all(o["object_marking_refs"] == [green] for o in indicators + relations)
    patterns = {i["pattern"] for i in indicators}
    assert "[ipv4-addr:value = '203.0.113.0/24']" in patterns
    assert "[ipv6-addr:value = '2001:db8:5::/48']" in patterns
    assert f"[x-ja4-fingerprint:value = '{JA4_HYDRA}']" in patterns
    assert sum(p.startswith("[x-prompt-template:") for p in patterns) == 3


def test_ids_are_stable_across_exports(dataset: Dataset) -> None:
    first = {o["id"] for o in export_bundle(dataset.findings, dataset).objects}
    second = {o["id"] for o in export_bundle(dataset.findings, dataset).objects}
    assert first == second


def test_findings_only_export_uses_top_networks(dataset: Dataset) -> None:
    bundle = export_bundle(dataset.findings, None, campaign_ids=["C-probe"])
    (indicator,) = objects_of(bundle, "indicator")
    assert indicator["x_distillguard_kind"] == "prefix"
    assert len(objects_of(bundle, "campaign")) == 1


def test_bad_tlp_level(dataset: Dataset) -> None:
    try:
        export_bundle(dataset.findings, None, tlp="purple")
    except ConfigurationError as exc:
        assert "purple" in str(exc)
    else:
        raise AssertionError("expected a ConfigurationError")


def test_patterns_quote_values() -> None:
    assert pattern_of(IndicatorValue("ja4", "a'b", 2, 2)) == "[x-ja4-fingerprint:value = 'a\\'b']"
    assert (
        pattern_of(IndicatorValue("ip", "2001:db8::1", 2, 2)) == "[ipv6-addr:value = '2001:db8::1']"
    )


def test_values_shared_with_honest_accounts_are_not_exported(tmp_path: Path) -> None:
    from console import sample_dataset

    records = sample_dataset.requests()
    for record in records:
        if record["account_id"] in sample_dataset.BENIGN:
            record["tls_ja4"] = JA4_HYDRA  # 6 of the 8 accounts using it are in C-hydra: 75%
    (tmp_path / "requests.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    findings = parse_findings(sample_dataset.findings())
    data = Dataset.from_findings(findings, tmp_path / "requests.jsonl", None)
    values = {(v.kind, v.value) for v in campaign_indicators(data.campaign("C-hydra"), data)}
    assert ("ja4", JA4_HYDRA) not in values
    assert ("prefix", "203.0.113.0/24") in values
