from __future__ import annotations

import pytest

from distillguard.console.dataset import Dataset

from console.sample_dataset import SamplePaths, write_sample


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SamplePaths:
    return write_sample(tmp_path_factory.mktemp("intel-sample"))


@pytest.fixture(scope="module")
def dataset(sample: SamplePaths) -> Dataset:
    return Dataset.load(sample.findings, sample.requests, sample.accounts)
