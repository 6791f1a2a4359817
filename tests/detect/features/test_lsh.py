from __future__ import annotations

import numpy as np
import pytest

from distillguard.detect.features.lsh import band_keys
from distillguard.detect.features.minhash import EMPTY, MinHasher


def test_similar_prompts_share_a_band_and_empty_get_zero() -> None:
    hasher = MinHasher(num_perm=32)
    sig = hasher.signatures(
        [
            "articulate the internal reasoning behind the answer to question seven step by step",
            "articulate the internal reasoning behind the answer to question nine step by step",
            "",
        ]
    )
    keys = band_keys(sig, bands=8, rows=2)
    assert (keys[0] == keys[1]).any()
    assert (keys[2] == 0).all()
    assert (keys[:2] != 0).all()


def test_band_index_is_mixed_in() -> None:
    sig = np.full((1, 8), 5, dtype=np.uint32)
    keys = band_keys(sig, bands=2, rows=4)
    assert keys[0, 0] != keys[0, 1]
    assert EMPTY != 5


def test_too_many_rows() -> None:
    with pytest.raises(ValueError):
        band_keys(np.zeros((1, 4), dtype=np.uint32), bands=2, rows=3)
