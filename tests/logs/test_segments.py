from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import zstandard

from distillguard.errors import ConfigurationError
from distillguard.logs.segments import SegmentWriter


def _record(i: int) -> dict[str, object]:
    return {
        "ts": f"2026-04-01T00:00:{i % 60:02d}Z",
        "request_id": f"req_{i}",
        "account_id": "acct_1",
        "api_key_id": "key_1",
        "client_ip": "203.0.113.7",
        "endpoint": "openai.chat.completions",
        "model": "m",
        "messages": [{"role": "user", "content": f"hello {i}"}],
        "params": {"max_tokens": 16},
        "status": 200,
    }


def _read(path: Path) -> list[dict[str, object]]:
    if path.suffix == ".gz":
        data = gzip.decompress(path.read_bytes())
    elif path.suffix == ".zst":
        data = zstandard.ZstdDecompressor().stream_reader(path.open("rb")).read()
    else:
        data = path.read_bytes()
    return [json.loads(line) for line in data.splitlines()]


@pytest.mark.parametrize("fmt", ["jsonl", "jsonl.gz", "jsonl.zst"])
def test_rotates_by_count_and_keeps_every_record(tmp_path: Path, fmt: str) -> None:
    with SegmentWriter(tmp_path, fmt=fmt, max_records=3) as writer:  # type: ignore[arg-type]
        writer.write_many(_record(i) for i in range(7))
    assert len(writer.segments) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == [p.name for p in writer.segments]
    rows = [r for p in writer.segments for r in _read(p)]
    assert [r["request_id"] for r in rows] == [f"req_{i}" for i in range(7)]


def test_open_segment_is_hidden_until_rotated(tmp_path: Path) -> None:
    writer = SegmentWriter(tmp_path, fmt="jsonl", max_records=10)
    writer.write(_record(0))
    assert [p for p in tmp_path.iterdir() if not p.name.startswith(".")] == []
    writer.close()
    assert len(list(tmp_path.glob("requests-*.jsonl"))) == 1
    writer.close()  # second close is a no-op
    assert len(writer.segments) == 1


def test_parquet_uses_spec_types(tmp_path: Path) -> None:
    with SegmentWriter(tmp_path, fmt="parquet", max_records=100) as writer:
        writer.write_many(_record(i) for i in range(5))
    table = pq.read_table(writer.segments[0])
    assert table.num_rows == 5
    assert str(table.schema.field("ts").type) == "timestamp[ms, tz=UTC]"
    assert table.column("messages").to_pylist()[0] == [{"role": "user", "content": "hello 0"}]


def test_unknown_format_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        SegmentWriter(tmp_path, fmt="csv")  # type: ignore[arg-type]


def test_gzip_segments_are_byte_identical_for_equal_records(tmp_path: Path) -> None:
    outputs = []
    for run in ("a", "b"):
        with SegmentWriter(tmp_path / run, fmt="jsonl.gz", max_records=100) as writer:
            writer.write_many(_record(i) for i in range(5))
        outputs.append(writer.segments[0].read_bytes())
    assert outputs[0] == outputs[1]
    assert _read(writer.segments[0])[0]["request_id"] == "req_0"
