"""Quality floors of issue 4 on simulated scenarios, at a size CI can run.

Defaults were calibrated on simulator seeds 3, 7 and 11; these tests evaluate seed 23.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from distillguard.cli.main import main

HEAVY = ("enterprise_batch", "eval_runner", "university_lab", "chat_app")


def _run(folder: Path, preset: str) -> tuple[dict[str, dict[str, object]], dict[str, object]]:
    main(["simulate", "--preset", preset, "--scale", "0.001", "--seed", "23", "--out", str(folder)])
    main(
        [
            "detect",
            "--requests",
            str(folder / "requests"),
            "--accounts",
            str(folder / "accounts.jsonl"),
            "--out",
            str(folder / "out"),
            "--quiet",
        ]
    )
    labels = {}
    for line in (folder / "labels.jsonl").read_text().splitlines():
        record = json.loads(line)
        labels[record["account_id"]] = record
    return labels, json.loads((folder / "out" / "findings.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["seed", "reseller_mix"])
def test_quality_floors(preset: str, tmp_path: Path) -> None:
    labels, findings = _run(tmp_path, preset)
    flagged = {a["account_id"] for a in findings["accounts"] if a["flagged"]}  # type: ignore[index]
    malicious = {a for a, r in labels.items() if r["malicious"]}
    benign = set(labels) - malicious
    recall = len(flagged & malicious) / len(malicious)
    assert recall >= (0.95 if preset == "seed" else 0.9)
    if preset != "seed":
        return
    assert len(flagged & malicious) / max(len(flagged), 1) >= 0.99
    assert len(flagged & benign) <= 0.001 * len(benign)
    by_persona = Counter(str(labels[a]["persona"]) for a in flagged & benign)
    assert not any(by_persona[p] for p in HEAVY)
    found = [set(c["account_ids"]) for c in findings["campaigns"]]  # type: ignore[union-attr]
    campaigns: dict[object, set[str]] = {}
    for account in malicious:
        campaigns.setdefault(labels[account]["campaign_id"], set()).add(account)
    for members in campaigns.values():
        assert max(len(members & f) for f in found) >= 0.95 * len(members)
