from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import zstandard

from distillguard.simulate import generate

SCALE = 0.001
SEED = 7


@dataclass
class Scenario:
    path: Path
    manifest: dict[str, Any]
    accounts: list[dict[str, Any]]
    labels: list[dict[str, Any]]
    requests: list[dict[str, Any]]

    @property
    def label_of(self) -> dict[str, dict[str, Any]]:
        return {x["account_id"]: x for x in self.labels}


def read_segment(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as raw:
        stream = io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw))  # type: ignore[arg-type]
        for line in stream:
            yield orjson.loads(line)


def load(path: Path) -> Scenario:
    manifest = orjson.loads((path / "manifest.json").read_bytes())
    accounts = [orjson.loads(x) for x in (path / "accounts.jsonl").read_bytes().splitlines()]
    labels = [orjson.loads(x) for x in (path / "labels.jsonl").read_bytes().splitlines()]
    requests = [r for seg in sorted((path / "requests").iterdir()) for r in read_segment(seg)]
    return Scenario(path, manifest, accounts, labels, requests)


@pytest.fixture(scope="session")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """The seed preset at scale 0.001, generated once per session."""
    out = tmp_path_factory.mktemp("scenario")
    generate("seed", scale=SCALE, seed=SEED, out=out, fmt="jsonl.zst", workers=1)
    return load(out)
