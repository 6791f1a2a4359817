"""``distillguard enforce`` in-process: apply, list, add, reinstate, audit, replay-audit."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "enforce"))

from enforce_factories import account, campaign, findings

from distillguard.cli.main import main

NOW = "2026-11-22T12:00:00Z"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    main(list(args))
    return capsys.readouterr().out


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    doc = findings(
        [
            account("a1", 0.97, flagged=True, campaign_id="c1"),
            account("b1", 0.35),
            {"account_id": "broken"},
        ],
        [campaign("c1", ["a1", "a2", "a3"], 0.95)],
    )
    path = tmp_path / "findings.json"
    path.write_text(json.dumps(doc))
    return {"findings": str(path), "audit": str(tmp_path / "audit.jsonl")}


def test_apply_list_reinstate_audit_replay(
    capsys: pytest.CaptureFixture[str], files: dict[str, str]
) -> None:
    common = ["--audit", files["audit"], "--now", NOW]

    def apply(*extra: str) -> Any:
        out = run(
            capsys, "enforce", "apply", "--findings", files["findings"], "--json", *extra, *common
        )
        return json.loads(out)

    dry = apply("--dry-run")
    assert dry["changes"] == 4 and dry["dry_run"]
    assert dry["rejected_findings"][0]["where"] == "accounts[2]"
    # a dry run writes nothing: neither the audit log nor its lock comes into being
    assert not Path(files["audit"]).exists()
    assert not Path(files["audit"] + ".lock").exists()

    made = apply()
    assert {c["subject"]: c["new"]["kind"] for c in made["changes_made"]} == {
        "account:a1": "suspend",
        "account:a2": "suspend",
        "account:a3": "suspend",
        "account:b1": "monitor",
    }
    again = apply()
    assert again["changes"] == 0 and again["unchanged"] == 4
    dry_again = apply("--dry-run")
    assert dry_again["changes"] == 0  # a dry run reads the state the audit log holds

    listed = json.loads(run(capsys, "enforce", "list", "--json", *common))
    assert len(listed) == 4
    out = run(
        capsys, "enforce", "reinstate", "account:a2", "--reason", "customer verified", *common
    )
    assert "reinstated (was suspend)" in out
    assert len(json.loads(run(capsys, "enforce", "list", "--json", *common))) == 3

    entries = json.loads(run(capsys, "enforce", "audit", "--json", "--audit", files["audit"]))
    assert [e["op"] for e in entries] == ["apply"] * 4 + ["reinstate"]
    assert entries[-1]["reason"] == "customer verified" and entries[-1]["new"] is None
    table = run(capsys, "enforce", "audit", "--audit", files["audit"])
    assert "reinstate" in table

    report = json.loads(run(capsys, "enforce", "replay-audit", "--json", *common))
    assert report["entries"] == 5 and report["active_actions"] == 3 and report["problems"] == []


def test_add_operator_action_and_table_output(
    capsys: pytest.CaptureFixture[str], files: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    common = ["--audit", files["audit"], "--now", NOW]
    out = run(
        capsys,
        "enforce",
        "add",
        "prefix:203.0.113.9/24",
        "--action",
        "challenge",
        "--reason",
        "proxy pool",
        "--duration",
        "2d",
        "--link",
        "https://v.test",
        "--max-account-age",
        "30d",
        *common,
    )
    assert "prefix:203.0.113.0/24: apply challenge" in out
    table = run(capsys, "enforce", "list", *common)
    assert "prefix:203.0.113.0/24" in table and "challenge" in table
    (listed,) = json.loads(run(capsys, "enforce", "list", "--json", *common))
    assert listed["challenge"]["max_account_age"] == 30 * 86400
    with pytest.raises(SystemExit):
        args = ["ip:192.0.2.1", "--action", "challenge", "--reason", "r", "--duration", "2d"]
        main(["enforce", "add", *args, "--max-account-age", "old", *common])
    assert "--max-account-age: 'old' is not a duration" in capsys.readouterr().err


def test_reinstate_unknown_subject_exits_with_not_found(
    capsys: pytest.CaptureFixture[str], files: dict[str, str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["enforce", "reinstate", "account:nobody", "--reason", "x", "--audit", files["audit"]])
    assert exc.value.code == 5
    assert "no action is in force" in capsys.readouterr().err


def test_replay_audit_reports_a_tampered_log(
    capsys: pytest.CaptureFixture[str], files: dict[str, str]
) -> None:
    common = ["--audit", files["audit"], "--now", NOW]
    run(capsys, "enforce", "apply", "--findings", files["findings"], *common)
    lines = Path(files["audit"]).read_text().splitlines()
    Path(files["audit"]).write_text("\n".join(lines[1:]) + "\n")
    with pytest.raises(SystemExit) as exc:
        main(["enforce", "replay-audit", *common])
    assert exc.value.code == 4
    captured = capsys.readouterr()
    assert "hash chain broken" in captured.out and "inconsistent" in captured.err


def test_invalid_policy_exits_with_configuration_error(
    capsys: pytest.CaptureFixture[str], files: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "p.toml"
    bad.write_text("version = 2\n")
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "enforce",
                "apply",
                "--findings",
                files["findings"],
                "--policy",
                str(bad),
                "--audit",
                files["audit"],
            ]
        )
    assert exc.value.code == 2
    assert "version 2 is not supported" in capsys.readouterr().err


@pytest.mark.redis
def test_redis_store_is_shared_between_invocations(
    capsys: pytest.CaptureFixture[str], files: dict[str, str], redis_url: str
) -> None:
    import uuid

    store = f"{redis_url}?namespace=dg:test:{uuid.uuid4().hex}"
    common = ["--audit", files["audit"], "--store", store, "--now", NOW]
    run(capsys, "enforce", "apply", "--findings", files["findings"], *common)
    Path(files["audit"]).rename(files["audit"] + ".moved")  # list reads Redis, not the log
    listed = json.loads(
        run(
            capsys,
            "enforce",
            "list",
            "--json",
            "--store",
            store,
            "--audit",
            files["audit"],
            "--now",
            NOW,
        )
    )
    assert sorted(a["subject"] for a in listed) == [
        "account:a1",
        "account:a2",
        "account:a3",
        "account:b1",
    ]
    Path(files["audit"] + ".moved").rename(files["audit"])
    report = json.loads(run(capsys, "enforce", "replay-audit", "--json", *common))
    assert report["problems"] == [] and report["store_differences_repaired"] == []
    empty = ["--store", store, "--audit", files["audit"] + ".empty", "--now", NOW]
    with pytest.raises(SystemExit) as exc:
        main(["enforce", "replay-audit", *empty])
    assert exc.value.code == 4 and "refusing to clear 4 actions" in capsys.readouterr().err
    run(capsys, "enforce", "replay-audit", "--force", *empty)
    assert json.loads(run(capsys, "enforce", "list", "--json", *common)) == []


def test_signup_risk_ranks_a_farm_above_honest_sign_ups(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    records = [
        {
            "account_id": f"farm{i}",
            "created_at": f"2026-11-22T10:{i:02d}:00Z",
            "email": f"agent{i}@mailinator.com",
            "signup_ip": "203.0.113.9",
            "verification": "email",
            "program": "research",
        }
        for i in range(6)
    ]
    records.append(
        {
            "account_id": "honest",
            "created_at": "2026-11-22T10:30:00Z",
            "email": "ana@uni-wien.ac.at",
            "verification": "email",
            "program": "education",
        }
    )
    path = tmp_path / "accounts.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n{broken\n")
    report = json.loads(run(capsys, "enforce", "signup-risk", "--accounts", str(path), "--json"))
    ranked = [a["account_id"] for a in report["accounts"]]
    assert ranked[0] == "farm5" and ranked[-1] == "honest"
    assert report["rejected"] == 1
