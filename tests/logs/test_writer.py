from __future__ import annotations

import gzip
import os
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from distillguard.config import ContentPolicy
from distillguard.errors import StorageError
from distillguard.logs.segments import SegmentWriter
from distillguard.logs.writer import RequestLogWriter, rfc3339_ms


def record(number: int, text: str = "hello world") -> dict[str, Any]:
    return {
        "ts": 1_780_000_000.25 + number,
        "request_id": f"req_{number}",
        "account_id": "acc_1",
        "api_key_id": "key_1",
        "client_ip": "192.0.2.1",
        "endpoint": "openai.chat.completions",
        "model": "m",
        "messages": [{"role": "user", "content": text}],
        "status": 200,
        "response_text": "the answer",
    }


def read_all(directory: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted(directory.glob("requests-*.jsonl*")):
        opener: Any = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rb") as handle:
            rows.extend(orjson.loads(line) for line in handle)
    return rows


def test_drains_everything_on_close_and_rotates(tmp_path: Path) -> None:
    writer = RequestLogWriter(SegmentWriter(tmp_path, fmt="jsonl.gz", max_records=100))
    writer.start()
    for number in range(1050):
        assert writer.submit(record(number))
    writer.close()
    rows = read_all(tmp_path)
    assert [r["request_id"] for r in rows] == [f"req_{n}" for n in range(1050)]
    assert len(list(tmp_path.glob("requests-*.jsonl.gz"))) == 11
    assert not list(tmp_path.glob(".*.tmp"))
    assert rows[0]["ts"] == rfc3339_ms(1_780_000_000.25) == "2026-05-28T20:26:40.250Z"
    assert writer.written == 1050 and not writer.dropped


def test_age_rotation_makes_segments_visible(tmp_path: Path) -> None:
    writer = RequestLogWriter(SegmentWriter(tmp_path, fmt="jsonl", max_age_s=0.05), poll_s=0.01)
    writer.start()
    writer.submit(record(1))
    deadline = time.monotonic() + 5
    while not list(tmp_path.glob("requests-*.jsonl")) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [r["request_id"] for r in read_all(tmp_path)] == ["req_1"]
    writer.close()


def test_full_queue_is_counted_never_silent(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    drops: list[tuple[str, int]] = []
    writer = RequestLogWriter(
        SegmentWriter(tmp_path, fmt="jsonl"),
        queue_size=5,
        on_drop=lambda reason, n: drops.append((reason, n)),
    )  # not started: nothing drains the queue
    results = [writer.submit(record(n)) for n in range(8)]
    assert results == [True] * 5 + [False] * 3
    assert writer.dropped["queue_full"] == 3 and drops == [("queue_full", 1)] * 3
    assert "dropped" in caplog.text
    writer.close()  # drains the five that fitted
    assert len(read_all(tmp_path)) == 5
    assert writer.submit(record(99)) is False and writer.dropped["closed"] == 1


class BrokenSegments(SegmentWriter):
    def write(self, record: Any) -> None:
        if record["request_id"] == "req_2":
            raise StorageError("disk full")
        super().write(record)


def test_disk_errors_are_counted(tmp_path: Path) -> None:
    writer = RequestLogWriter(BrokenSegments(tmp_path, fmt="jsonl"))
    writer.start()
    for number in range(4):
        writer.submit(record(number))
    writer.close()
    assert writer.dropped["write_error"] == 1
    assert [r["request_id"] for r in read_all(tmp_path)] == ["req_0", "req_1", "req_3"]


@pytest.mark.parametrize(
    ("policy", "content", "response"),
    [("full", "hello world", "the answer"), ("truncated:5", "hello", "the a"), ("none", "", None)],
)
def test_content_policy(tmp_path: Path, policy: str, content: str, response: str | None) -> None:
    writer = RequestLogWriter(
        SegmentWriter(tmp_path, fmt="jsonl"), content=ContentPolicy.parse(policy)
    )
    writer.start()
    writer.submit(record(1))
    writer.close()
    [row] = read_all(tmp_path)
    assert row["messages"] == [{"role": "user", "content": content}]
    assert row["response_text"] == response


def test_parquet_segments(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    writer = RequestLogWriter(SegmentWriter(tmp_path, fmt="parquet", max_records=3))
    writer.start()
    for number in range(7):
        writer.submit(record(number))
    writer.close()
    tables = [pq.read_table(p) for p in sorted(tmp_path.glob("*.parquet"))]
    assert sum(t.num_rows for t in tables) == 7


def test_unwritable_directory_fails_clearly(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("")
    with pytest.raises(StorageError):
        RequestLogWriter(SegmentWriter(target / "logs"))
    assert os.path.exists(target)
