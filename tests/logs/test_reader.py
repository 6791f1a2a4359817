"""Readers: JSON Lines (plain, gzip, zstd) and Parquet, batches, and the malformed corpus."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import zstandard

from distillguard.logs.arrow import account_table, request_table
from distillguard.logs.reader import (
    PROMPT_CAP,
    read_accounts,
    read_labels,
    request_batches,
)
from distillguard.logs.rejects import RejectSink


def _request(i: int, **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "ts": f"2026-04-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z",
        "request_id": f"r{i}",
        "account_id": f"a{i % 3}",
        "api_key_id": "k",
        "client_ip": "198.51.100.4",
        "endpoint": "openai.chat.completions",
        "model": "m",
        "messages": [
            {"role": "system", "content": "sys"},
            {"role": "user", "content": f"question {i}"},
        ],
        "params": {"max_tokens": 100, "logprobs": True},
        "status": 200,
    }
    record.update(changes)
    return record


def _lines(records: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def _rows(path: Path, sink: RejectSink, batch_size: int = 50_000) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for table in request_batches(path, sink, batch_size):
        rows.extend(table.to_pylist())
    return rows


def test_malformed_corpus_is_set_aside_and_counted(tmp_path: Path) -> None:
    good = [_request(i) for i in range(5)]
    big = _request(5, messages=[{"role": "user", "content": "y" * 1_000_000}])
    empty = _request(6, messages=[])
    corpus = _lines([*good, big, empty])
    corpus += orjson.dumps(_request(7, client_ip="999.1.1.1")) + b"\n"
    corpus += orjson.dumps(_request(8, ts="01/04/2026 10:00")) + b"\n"
    corpus += orjson.dumps(_request(9, status="ok")) + b"\n"
    corpus += b'{"ts": "2026-04-01T00:00:00Z", "request_id": "\xff\xfe broken"}\n'
    corpus += b"[1, 2, 3]\n"
    corpus += b"\n"
    corpus += b'{"ts": "2026-04-01T00:00:00Z", "request_id": "cut'
    path = tmp_path / "requests.jsonl"
    path.write_bytes(corpus)
    rejects_path = tmp_path / "rejects.jsonl"
    with RejectSink(rejects_path) as sink:
        rows = _rows(path, sink)
    assert len(rows) == 7
    assert sink.counts == {
        "bad_ip": 1,
        "bad_timestamp": 1,
        "wrong_type": 1,
        "invalid_utf8": 1,
        "not_object": 1,
        "truncated_line": 1,
    }
    capped = next(r for r in rows if r["request_id"] == "r5")
    assert len(capped["prompt"]) == PROMPT_CAP
    assert capped["prompt_chars"] == 1_000_000
    assert next(r for r in rows if r["request_id"] == "r6")["n_messages"] == 0
    written = [json.loads(line) for line in rejects_path.read_text().splitlines()]
    assert len(written) == 6
    assert {w["reason"] for w in written} == set(sink.counts)
    assert all(w["source"] == str(path) and w["position"] >= 1 for w in written)
    assert all(len(w["raw"]) <= 400 for w in written)
    assert next(w for w in written if w["reason"] == "bad_ip")["position"] == 8


def test_flattened_columns(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(_lines([_request(1)]))
    [row] = _rows(path, RejectSink(None))
    assert row["system"] == "sys"
    assert row["prompt"] == "question 1"
    assert (row["n_user"], row["n_assistant"], row["n_messages"]) == (1, 0, 2)
    assert row["max_tokens"] == 100 and row["logprobs"] is True and row["n"] is None
    assert row["ts"].isoformat() == "2026-04-01T00:00:01+00:00"


def test_compressed_files_and_directories_in_name_order(tmp_path: Path) -> None:
    folder = tmp_path / "requests"
    folder.mkdir()
    (folder / "b.jsonl.gz").write_bytes(gzip.compress(_lines([_request(i) for i in range(10, 20)])))
    (folder / "a.jsonl").write_bytes(_lines([_request(i) for i in range(10)]))
    compressor = zstandard.ZstdCompressor()
    (folder / "c.jsonl.zst").write_bytes(
        compressor.compress(_lines([_request(i) for i in range(20, 30)]))
    )
    (folder / "notes.txt").write_text("ignored")
    sink = RejectSink(None)
    rows = _rows(folder, sink, batch_size=7)
    assert [r["request_id"] for r in rows] == [f"r{i}" for i in range(30)]
    assert sink.total == 0


def test_parquet_requests_and_accounts(tmp_path: Path) -> None:
    records = [_request(i) for i in range(12)]
    records[3]["client_ip"] = "bogus"
    pq.write_table(request_table(records), tmp_path / "r.parquet")
    sink = RejectSink(None)
    rows = _rows(tmp_path / "r.parquet", sink)
    assert len(rows) == 11 and sink.counts == {"bad_ip": 1}
    assert rows[0]["max_tokens"] == 100 and rows[0]["temperature"] is None
    accounts = [
        {
            "account_id": "a1",
            "created_at": "2026-01-01T00:00:00Z",
            "verification": "email",
            "program": "standard",
        },
        {
            "account_id": "a2",
            "created_at": "2026-01-01T00:00:00Z",
            "verification": "nope",
            "program": "standard",
        },
    ]
    pq.write_table(account_table(accounts), tmp_path / "accounts.parquet")
    table = read_accounts(tmp_path / "accounts.parquet", sink)
    assert table.column("account_id").to_pylist() == ["a1"]
    assert sink.counts["bad_enum"] == 1


def test_duplicate_accounts_and_labels(tmp_path: Path) -> None:
    account = {
        "account_id": "a1",
        "created_at": "2026-01-01T00:00:00Z",
        "verification": "email",
        "program": "standard",
    }
    (tmp_path / "accounts.jsonl").write_bytes(_lines([account, account]))
    sink = RejectSink(None)
    assert read_accounts(tmp_path / "accounts.jsonl", sink).num_rows == 1
    assert sink.counts == {"duplicate_id": 1}
    labels = [
        {"account_id": "a1", "malicious": True, "campaign_id": "c", "persona": "x"},
        {"account_id": "a2", "malicious": "no", "campaign_id": None, "persona": "x"},
    ]
    (tmp_path / "labels.jsonl").write_bytes(_lines(labels))
    table = read_labels(tmp_path / "labels.jsonl", sink)
    assert table.to_pylist() == [labels[0]]
