from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
import stix2
from click.testing import CliRunner

from distillguard.cli.main import cli
from distillguard.console.dataset import Dataset
from distillguard.errors import InputError
from distillguard.intel.export import export_bundle
from distillguard.intel.importer import import_bundle, parse_pattern
from distillguard.intel.signal import watchlist_reasons
from distillguard.logs.reader import request_batches
from distillguard.logs.rejects import RejectSink

from console.sample_dataset import JA4_HYDRA, SamplePaths


def test_parse_pattern() -> None:
    assert parse_pattern("[ipv4-addr:value = '10.0.0.0/8']") == [("prefix", "10.0.0.0/8")]
    assert parse_pattern("[ipv4-addr:value = '10.0.0.1'] OR [x-ja4-fingerprint:value = 'j']") == [
        ("ip", "10.0.0.1"),
        ("ja4", "j"),
    ]
    assert parse_pattern("[ipv6-addr:value ISSUBSET '2001:db8::/32']") == [
        ("prefix", "2001:db8::/32")
    ]
    assert parse_pattern("[file:hashes.MD5 = 'abc']") == []
    assert parse_pattern("[ipv4-addr:value = '1.2.3.4'] AND [x-ja4-fingerprint:value = 'j']") == []


def test_round_trip_export_import_match(dataset: Dataset, sample: SamplePaths) -> None:
    bundle = export_bundle(dataset.findings, dataset, tlp="amber")
    watchlist = import_bundle(bundle.serialize())
    assert watchlist.skipped == 0
    kinds = {e.kind for e in watchlist.entries}
    assert kinds == {"prefix", "ja4", "template"}
    hit = watchlist.match_ja4(JA4_HYDRA)
    assert hit is not None and hit.campaign == "Model distillation campaign C-hydra"
    assert hit.tlp == "amber" and hit.confidence == 92
    reasons = watchlist_reasons(watchlist, request_batches(sample.requests, RejectSink(None)))
    assert set(reasons) == {"h1", "h2", "h3", "h4", "h5", "h6", "p1", "p2"}
    assert all(r["signal"] == "partner_watchlist" for r in reasons.values())
    assert float(str(reasons["h1"]["weight"])) > float(str(reasons["p1"]["weight"])) > 0.5
    assert "30 of 30 requests matched prefix 203.0.113.0/24" in str(reasons["h1"]["detail"])


def test_expired_and_foreign_indicators_are_skipped() -> None:
    old = stix2.v21.Indicator(
        pattern="[ipv4-addr:value = '10.0.0.1']",
        pattern_type="stix",
        valid_from=datetime(2020, 1, 1, tzinfo=UTC),
        valid_until=datetime(2020, 2, 1, tzinfo=UTC),
    )
    foreign = stix2.v21.Indicator(
        pattern="[file:name = 'dropper.exe']", pattern_type="stix", valid_from=datetime.now(UTC)
    )
    fresh = stix2.v21.Indicator(
        pattern="[ipv4-addr:value = '10.0.0.2']",
        pattern_type="stix",
        valid_from=datetime.now(UTC),
        valid_until=datetime.now(UTC) + timedelta(days=1),
    )
    watchlist = import_bundle(stix2.v21.Bundle(objects=[old, foreign, fresh]).serialize())
    assert watchlist.skipped == 2
    assert [e.value for e in watchlist.entries] == ["10.0.0.2"]


def test_not_a_bundle() -> None:
    with pytest.raises(InputError):
        import_bundle(b"{nope")
    with pytest.raises(InputError):
        import_bundle(stix2.v21.Identity(name="x").serialize())


def test_cli_round_trip(sample: SamplePaths, tmp_path: Path) -> None:
    bundle, watchlist, reasons = tmp_path / "b.json", tmp_path / "w.json", tmp_path / "r.json"
    runner = CliRunner()
    args = [
        "intel",
        "export",
        "--findings",
        str(sample.findings),
        "--requests",
        str(sample.requests),
    ]
    result = runner.invoke(cli, [*args, "--out", str(bundle), "--tlp", "red"])
    assert result.exit_code == 0, result.output
    assert "2 campaign" in result.output
    result = runner.invoke(cli, ["intel", "import", str(bundle), "--out", str(watchlist)])
    assert result.exit_code == 0, result.output
    args = ["intel", "match", "--watchlist", str(watchlist), "--requests", str(sample.requests)]
    result = runner.invoke(cli, [*args, "--out", str(reasons)])
    assert result.exit_code == 0, result.output
    assert "8 accounts matched" in result.output


def test_detect_uses_an_imported_watchlist(sample: SamplePaths, tmp_path: Path) -> None:
    runner = CliRunner()
    bundle, watchlist = tmp_path / "b.json", tmp_path / "w.json"
    export = ["intel", "export", "--findings", str(sample.findings)]
    result = runner.invoke(cli, [*export, "--requests", str(sample.requests), "--out", str(bundle)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["intel", "import", str(bundle), "--out", str(watchlist)])
    assert result.exit_code == 0, result.output

    def detect(out: Path, *extra: str) -> dict[str, dict[str, object]]:
        args = ["detect", "--requests", str(sample.requests), "--accounts", str(sample.accounts)]
        result = runner.invoke(cli, [*args, "--out", str(out), "--quiet", *extra])
        assert result.exit_code == 0, result.output
        findings = orjson.loads((out / "findings.json").read_bytes())
        return {a["account_id"]: a for a in findings["accounts"]}

    without = detect(tmp_path / "plain")
    with_list = detect(tmp_path / "watched", "--watchlist", str(watchlist))
    watched = {
        account
        for account, entry in with_list.items()
        if any(r["signal"] == "partner_watchlist" for r in entry["reasons"])  # type: ignore[attr-defined]
    }
    assert watched == {"h1", "h2", "h3", "h4", "h5", "h6", "p1", "p2"}
    assert not any(
        r["signal"] == "partner_watchlist"
        for entry in without.values()
        for r in entry["reasons"]  # type: ignore[attr-defined]
    )
    for account in watched:
        before = float(str(without[account]["score"])) if account in without else 0.0
        assert float(str(with_list[account]["score"])) > before
    summary = orjson.loads((tmp_path / "watched" / "summary.json").read_bytes())
    assert summary["watchlist_accounts"] == 8
