"""``distillguard evaluate`` in-process: table, JSON and rejects."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from distillguard.cli.evaluate import evaluate


def test_evaluate_prints_a_table_and_writes_json_and_rejects(tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_bytes(
        b'{"account_id": "m1", "malicious": true, "campaign_id": "C", "persona": "hydra_member", "requests": 10}\n'
        b'{"account_id": "m2", "malicious": true, "campaign_id": "C", "persona": "hydra_member", "requests": 30}\n'
        b'{"account_id": "b1", "malicious": false, "campaign_id": null, "persona": "chat_app", "requests": 99}\n'
        b"{broken\n"
    )
    findings = tmp_path / "findings.json"
    findings.write_bytes(
        orjson.dumps(
            {
                "schema": "dg.findings.v1",
                "generated_at": "2026-07-01T00:00:00Z",
                "window": {"start": "2026-04-01T00:00:00Z", "end": "2026-07-01T00:00:00Z"},
                "accounts": [
                    {
                        "account_id": "m2",
                        "score": 0.9,
                        "flagged": True,
                        "campaign_id": "X",
                        "reasons": [],
                    }
                ],
                "campaigns": [{"campaign_id": "X", "account_ids": ["m2"]}],
            }
        )
    )
    out = tmp_path / "eval.json"
    result = CliRunner().invoke(
        evaluate, ["--findings", str(findings), "--labels", str(labels), "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "hydra_member" in result.output and "chat_app" in result.output
    report = orjson.loads(out.read_bytes())
    assert report["accounts"]["recall"] == 0.5 and report["accounts"]["precision"] == 1.0
    assert report["campaigns"][0]["requests_covered"] == 0.75
    assert report["rejects"]["count"] == 1
    assert (tmp_path / "eval.rejects.jsonl").read_bytes().count(b"\n") == 1


def test_evaluate_reports_a_bad_findings_file_as_an_error(tmp_path: Path) -> None:
    (tmp_path / "labels.jsonl").write_text("")
    (tmp_path / "findings.json").write_text("nope")
    result = CliRunner().invoke(
        evaluate,
        ["--findings", str(tmp_path / "findings.json"), "--labels", str(tmp_path / "labels.jsonl")],
    )
    assert result.exit_code != 0
