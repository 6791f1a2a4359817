"""End-to-end detection on a hand-made scenario: findings, rejects, content off, incremental."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from distillguard.cli.main import main
from distillguard.detect.config import load_config
from distillguard.detect.pipeline import DetectOptions, run_detection

from .scenario import write_scenario
from conftest import SPEC_DIR

FINDINGS = Draft202012Validator(
    json.loads((SPEC_DIR / "findings.v1.schema.json").read_text()), format_checker=FormatChecker()
)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scenario")
    write_scenario(out)
    return out


def _labels(folder: Path) -> dict[str, dict[str, object]]:
    rows = [json.loads(line) for line in (folder / "labels.jsonl").read_text().splitlines()]
    return {str(r["account_id"]): r for r in rows}


def _flagged(findings: dict[str, object]) -> set[str]:
    return {a["account_id"] for a in findings["accounts"] if a["flagged"]}  # type: ignore[attr-defined]


def test_finds_the_campaign_and_spares_heavy_users(scenario: Path, tmp_path: Path) -> None:
    result = run_detection(
        DetectOptions(scenario / "requests", scenario / "accounts.jsonl", tmp_path), load_config()
    )
    findings = json.loads((tmp_path / "findings.json").read_text())
    assert FINDINGS.is_valid(findings), list(FINDINGS.iter_errors(findings))[:3]
    labels = _labels(scenario)
    malicious = {a for a, r in labels.items() if r["malicious"]}
    assert _flagged(findings) == malicious
    [campaign] = findings["campaigns"]
    assert set(campaign["account_ids"]) == malicious
    assert campaign["requests"] > 0 and campaign["summary"].startswith(f"{len(malicious)} accounts")
    assert campaign["infrastructure"]["ips"] >= 10
    # every exit address is one the campaign sent at least half of its requests from
    exits = campaign["infrastructure"]["exit_addresses"]
    assert len(exits) >= 10 and result.summary["exit_addresses"] == len(exits)
    senders: dict[str, list[str]] = {}
    for path in (scenario / "requests").rglob("*.jsonl*"):
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt") as handle:
            for line in handle:
                record = json.loads(line)
                senders.setdefault(record["client_ip"], []).append(record["account_id"])
    for address in exits:
        assert 2 * sum(a in malicious for a in senders[address]) >= len(senders[address])
    member = next(a for a in findings["accounts"] if a["account_id"] in malicious)
    assert member["campaign_id"] == campaign["campaign_id"]
    assert {r["signal"] for r in member["reasons"]} >= {"campaign_member", "cot_elicitation"}
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["rejected"] == 0 and summary["campaigns"] == 1
    assert summary["requests_ingested"] == result.summary["requests_stored"]


def test_an_account_that_pays_like_the_campaign_is_named_before_it_sends_anything(
    scenario: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "scenario"
    shutil.copytree(scenario, folder)
    sleeper = {
        "account_id": "acct-sleeper",
        "created_at": "2026-04-10T09:00:00.000Z",
        "email": "quiet@example.com",
        "verification": "payment",
        "program": "standard",
        "payment_fingerprint": "card-c0",
        "signup_ip": None,
    }
    with (folder / "accounts.jsonl").open("a") as f:
        f.write(json.dumps(sleeper) + "\n")
    result = run_detection(
        DetectOptions(folder / "requests", folder / "accounts.jsonl", tmp_path / "out"),
        load_config(),
    )
    [campaign] = result.findings["campaigns"]
    [entry] = [a for a in result.findings["accounts"] if a["account_id"] == "acct-sleeper"]
    assert entry["campaign_id"] is None and not entry["flagged"]
    [reason] = entry["reasons"]
    assert reason["signal"] == "campaign_cohort"
    assert campaign["campaign_id"] in reason["detail"] and "instrument" in reason["detail"]
    assert result.summary["cohort_accounts"] == 1
    assert FINDINGS.is_valid(result.findings)


def test_content_logging_off_still_finds_the_campaign(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    write_scenario(folder, seed=5, content=False)
    run_detection(
        DetectOptions(folder / "requests", folder / "accounts.jsonl", tmp_path / "out"),
        load_config(),
    )
    findings = json.loads((tmp_path / "out" / "findings.json").read_text())
    malicious = {a for a, r in _labels(folder).items() if r["malicious"]}
    flagged = _flagged(findings)
    assert len(flagged & malicious) >= 0.9 * len(malicious)
    assert flagged <= malicious


@pytest.mark.parametrize("workers", [1, 2])
def test_malformed_records_are_set_aside(scenario: Path, tmp_path: Path, workers: int) -> None:
    requests = tmp_path / "requests"
    shutil.copytree(scenario / "requests", requests)
    with (requests / "part-999.jsonl").open("wb") as handle:
        handle.write(b'{"ts": "not a time"}\n')
        handle.write(b"\xff\xfe\n")
        handle.write(b'{"ts": "2026-04-01T00:00:00Z", "request_id": "x"')
    result = run_detection(
        DetectOptions(requests, scenario / "accounts.jsonl", tmp_path / "out", workers=workers),
        load_config(),
    )
    malicious = {a for a, r in _labels(scenario).items() if r["malicious"]}
    assert _flagged(result.findings) == malicious
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["rejected"] == 3
    assert set(summary["rejected_by_reason"]) == {"bad_timestamp", "invalid_utf8", "truncated_line"}
    lines = (tmp_path / "out" / "rejects.jsonl").read_text().splitlines()
    assert len(lines) == 3 and all(
        json.loads(line)["source"].endswith("part-999.jsonl") for line in lines
    )


def test_incremental_run_reads_only_new_segments(scenario: Path, tmp_path: Path) -> None:
    requests = tmp_path / "requests"
    requests.mkdir()
    first, second = sorted((scenario / "requests").iterdir())
    shutil.copy(first, requests / first.name)
    out = tmp_path / "out"
    args = ["detect", "--requests", str(requests), "--accounts", str(scenario / "accounts.jsonl")]
    main([*args, "--out", str(out), "--since", "last", "--quiet"])
    before = json.loads((out / "summary.json").read_text())
    shutil.copy(second, requests / second.name)
    main([*args, "--out", str(out), "--since", "last", "--quiet"])
    after = json.loads((out / "summary.json").read_text())
    new_lines = len(second.read_bytes().splitlines())
    assert after["requests_ingested"] == new_lines
    assert after["requests_stored"] == before["requests_stored"] + new_lines
    malicious = {a for a, r in _labels(scenario).items() if r["malicious"]}
    assert _flagged(json.loads((out / "findings.json").read_text())) == malicious
    main([*args, "--out", str(out), "--since", "last", "--quiet"])
    assert json.loads((out / "summary.json").read_text())["requests_ingested"] == 0


def test_config_override_changes_the_threshold(scenario: Path, tmp_path: Path) -> None:
    config = tmp_path / "strict.toml"
    config.write_text("[scoring]\nthreshold = 0.999999\n")
    main(
        [
            "detect",
            "--requests",
            str(scenario / "requests"),
            "--accounts",
            str(scenario / "accounts.jsonl"),
            "--out",
            str(tmp_path / "out"),
            "--config",
            str(config),
            "--quiet",
        ]
    )
    assert not _flagged(json.loads((tmp_path / "out" / "findings.json").read_text()))


def test_a_log_of_only_bad_records_still_completes(tmp_path: Path) -> None:
    log = tmp_path / "bad.jsonl"
    log.write_bytes(b'{"bad": 1}\n\xff\n')
    main(["detect", "--requests", str(log), "--out", str(tmp_path / "out"), "--quiet"])
    findings = json.loads((tmp_path / "out" / "findings.json").read_text())
    assert FINDINGS.is_valid(findings) and findings["accounts"] == []
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["rejected_by_reason"] == {"missing_field": 1, "invalid_utf8": 1}


def test_running_out_of_memory_is_a_clear_error(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(
            ["detect", "--requests", str(scenario / "requests"), "--accounts",
             str(scenario / "accounts.jsonl"), "--out", str(tmp_path), "--quiet",
             "--memory-limit", "1MB"]
        )  # fmt: skip
    assert exited.value.code == 3
    err = capsys.readouterr().err
    assert "ran out of memory in " in err and "(limit: 1MB)" in err and "--memory-limit" in err
    assert "Traceback" not in err
