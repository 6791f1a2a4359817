from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from distillguard.console.findings import parse_findings, read_findings
from distillguard.errors import InputError

from console.sample_dataset import findings


def test_reads_the_sample() -> None:
    parsed = parse_findings(findings())
    assert [c.campaign_id for c in parsed.campaigns] == ["C-hydra", "C-probe"]
    assert parsed.campaigns[0].size == 6
    assert parsed.accounts["h1"].reasons[0].signal == "shared_template"
    assert not parsed.rejects


def test_bad_entries_are_set_aside() -> None:
    document = findings()
    document["accounts"].append(
        {"account_id": "x", "score": 3, "flagged": True, "campaign_id": None, "reasons": []}
    )
    document["accounts"].append(document["accounts"][0])
    document["campaigns"].append({"campaign_id": "C-bad"})
    parsed = parse_findings(document)
    assert parsed.rejects == {"bad_account": 1, "duplicate_account": 1, "bad_campaign": 1}
    assert "x" not in parsed.accounts and len(parsed.campaigns) == 2


def test_not_a_findings_document(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"dg\.findings\.v1"):
        parse_findings({"schema": "dg.labels.v1"})
    path = tmp_path / "f.json"
    path.write_text("{nope")
    with pytest.raises(InputError, match="not valid JSON"):
        read_findings(path)
    with pytest.raises(InputError, match="no such"):
        read_findings(tmp_path / "missing.json")


def test_bad_timestamp_in_window() -> None:
    document = findings()
    document["window"]["start"] = "yesterday"
    with pytest.raises(InputError, match=r"window\.start"):
        parse_findings(orjson.loads(orjson.dumps(document)))
