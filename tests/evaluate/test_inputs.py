from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest
import zstandard

from distillguard.errors import InputError
from distillguard.evaluate import read_findings, read_labels, read_request_counts


def test_labels_bad_lines_are_rejected_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_bytes(
        b'{"account_id": "a", "malicious": false, "campaign_id": null, "persona": "p"}\n{trunc\n\n\xff\xfe\n[1]\n'
    )
    labels, rejects = read_labels(path)
    assert labels == [
        {"account_id": "a", "malicious": False, "campaign_id": None, "persona": "p"},
        [1],
    ]
    assert [(r.position, r.reason) for r in rejects] == [(2, "malformed_json"), (4, "invalid_utf8")]


def test_request_counts_from_segments_of_any_compression(tmp_path: Path) -> None:
    logs = tmp_path / "requests"
    logs.mkdir()
    lines = [orjson.dumps({"account_id": a}) + b"\n" for a in ("a", "b", "a")]
    (logs / "one.jsonl").write_bytes(b"".join(lines))
    with gzip.open(logs / "two.jsonl.gz", "wb") as handle:
        handle.write(b"".join(lines) + b"not json\n")
    (logs / "three.jsonl.zst").write_bytes(
        zstandard.ZstdCompressor().compress(b"".join(lines) + b'{"x": 1}\n')
    )
    counts, rejects = read_request_counts(logs)
    assert counts == {"a": 6, "b": 3}
    assert sorted(r.reason for r in rejects) == ["malformed_json", "missing_field"]


def test_request_counts_from_a_json_map(tmp_path: Path) -> None:
    path = tmp_path / "counts.json"
    path.write_bytes(orjson.dumps({"a": 3, "b": -1, "c": "x"}))
    counts, rejects = read_request_counts(path)
    assert counts == {"a": 3} and len(rejects) == 2


def test_unreadable_findings_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        read_findings(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(InputError):
        read_findings(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(InputError):
        read_findings(tmp_path / "list.json")
