from __future__ import annotations

from pathlib import Path

import pytest

from distillguard.console.dataset import Dataset

from console.sample_dataset import SamplePaths, write_sample


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SamplePaths:
    return write_sample(tmp_path_factory.mktemp("sample"))


@pytest.fixture(scope="session")
def dataset(sample: SamplePaths) -> Dataset:
    return Dataset.load(sample.findings, sample.requests, sample.accounts, None)


@pytest.fixture
def rejects_file(tmp_path: Path) -> Path:
    return tmp_path / "rejects.jsonl"
