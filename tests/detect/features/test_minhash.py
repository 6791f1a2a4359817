from __future__ import annotations

import datasketch
import numpy as np

from distillguard.detect.features.minhash import EMPTY, MinHasher


def _datasketch(words: list[str], num_perm: int) -> datasketch.MinHash:
    sketch = datasketch.MinHash(num_perm=num_perm, seed=3)
    padded = [*words, "\x00", "\x01"]
    for i in range(len(words)):
        sketch.update(" ".join(padded[i : i + 3]).encode())
    return sketch


def test_estimates_agree_with_datasketch() -> None:
    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(60)]
    base = list(rng.choice(vocab, 40))
    hasher = MinHasher(num_perm=256, seed=3)
    for changed in (2, 8, 20):
        other = list(base)
        for position in rng.choice(40, changed, replace=False):
            other[position] = "zz"
        ours = hasher.jaccard(*hasher.signatures([" ".join(base), " ".join(other)]))
        theirs = _datasketch(base, 256).jaccard(_datasketch(other, 256))
        assert abs(ours - theirs) < 0.15, (changed, ours, theirs)


def test_identical_and_unrelated_texts() -> None:
    hasher = MinHasher(num_perm=64)
    sig = hasher.signatures(["a b c d e f", "a b c d e f", "totally different words here now"])
    assert hasher.jaccard(sig[0], sig[1]) == 1.0
    assert hasher.jaccard(sig[0], sig[2]) < 0.2


def test_empty_and_short_texts_and_chunking() -> None:
    hasher = MinHasher(num_perm=16, chunk_shingles=5)
    texts = ["", "one", "two words", "", "a b c d e f g h i j k l"]
    sig = hasher.signatures(texts)
    assert sig.shape == (5, 16)
    assert (sig[0] == EMPTY).all() and (sig[3] == EMPTY).all()
    assert not (sig[1] == EMPTY).all()
    alone = MinHasher(num_perm=16).signatures(["a b c d e f g h i j k l"])
    assert (alone[0] == sig[4]).all()
