from __future__ import annotations

import re

import datasketch
import numpy as np
import pytest

from distillguard.detect.features import minhash
from distillguard.detect.features.minhash import EMPTY, MinHasher, shingles


@pytest.fixture(autouse=True, params=["default", "numpy"])
def signatures_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs on the default path (C where built) and on the numpy one."""
    if request.param == "numpy":
        monkeypatch.setattr(minhash, "_c_signatures", None)


def _datasketch(words: list[str], num_perm: int) -> datasketch.MinHash:
    sketch = datasketch.MinHash(num_perm=num_perm, seed=3)
    padded = [*words, "\x00", "\x01"]
    for i in range(len(words)):
        sketch.update(" ".join(padded[i : i + 3]).encode())
    return sketch


def _exact(a: list[str], b: list[str]) -> float:
    def shingle_set(words: list[str]) -> set[tuple[str, ...]]:
        padded = [*words, "\x00", "\x01"]
        return {tuple(padded[i : i + 3]) for i in range(len(words))}

    x, y = shingle_set(a), shingle_set(b)
    return len(x & y) / len(x | y)


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


@pytest.mark.parametrize("num_perm", [32, 128])
def test_unbiased_with_the_expected_spread(num_perm: int) -> None:
    # 1000 pairs with Jaccard similarities spread over (0, 1): the mean error is ~0 and the
    # errors have the binomial spread sqrt(J(1-J)/num_perm) of independent hash functions.
    rng = np.random.default_rng(1)
    vocab = [f"w{i}" for i in range(400)]
    texts, exact = [], []
    for _ in range(1000):
        base = list(rng.choice(vocab, int(rng.integers(5, 60))))
        other = list(base)
        for position in rng.choice(len(base), int(rng.integers(0, len(base) + 1)), replace=False):
            other[position] = str(rng.choice(vocab))
        texts += [" ".join(base), " ".join(other)]
        exact.append(_exact(base, other))
    hasher = MinHasher(num_perm=num_perm, seed=5)
    sig = hasher.signatures(texts)
    estimate = (sig[0::2] == sig[1::2]).mean(axis=1)
    truth = np.array(exact)
    error = estimate - truth
    assert abs(error.mean()) < 0.01
    middle = (truth > 0.05) & (truth < 0.95)
    spread = error[middle] / np.sqrt(truth[middle] * (1 - truth[middle]) / num_perm)
    assert 0.85 < spread.std() < 1.15


def test_identical_and_unrelated_texts() -> None:
    hasher = MinHasher(num_perm=64)
    sig = hasher.signatures(["a b c d e f", "a b c d e f", "totally different words here now"])
    assert hasher.jaccard(sig[0], sig[1]) == 1.0
    assert hasher.jaccard(sig[0], sig[2]) < 0.2


def test_empty_and_short_texts_and_blocks() -> None:
    hasher = MinHasher(num_perm=16, block=5)
    texts = ["", "one", "two words", "", "a b c d e f g h i j k l", " ,;! "]
    sig = hasher.signatures(texts)
    assert sig.shape == (6, 16) and sig.dtype == np.uint32
    assert (sig[0] == EMPTY).all() and (sig[3] == EMPTY).all() and (sig[5] == EMPTY).all()
    assert not (sig[1] == EMPTY).all() and not (sig[2] == EMPTY).all()
    alone = MinHasher(num_perm=16).signatures(["a b c d e f g h i j k l"])
    assert (alone[0] == sig[4]).all()
    assert MinHasher(num_perm=8).signatures([]).shape == (0, 8)


def test_a_text_hashes_the_same_in_any_batch() -> None:
    # ASCII batches, UTF-8 batches and batches whose texts contain newlines take different
    # paths through the tokeniser; a text's signature must not depend on its neighbours.
    texts = [
        "explain quicksort step by step",
        "déjà vu — naïve café ☕ words",
        "line one\nline two",
        "surrogate \udcff kept",
        "",
        "a-very-long-hyphenated-word and averyveryverylongwordwithoutbreaks ok",
    ]
    hasher = MinHasher(num_perm=32)
    together = hasher.signatures(texts)
    for text, row in zip(texts, together, strict=True):
        assert (hasher.signatures([text])[0] == row).all(), text
        assert (hasher.signatures(["plain ascii", text])[1] == row).all(), text


def test_words_split_at_punctuation_and_white_space() -> None:
    hasher = MinHasher(num_perm=32)
    sig = hasher.signatures(["a, b; (c) d", "a b c d", "a\tb\x1cc  d", "a b c e"])
    assert (sig[0] == sig[1]).all() and (sig[0] == sig[2]).all()
    assert not (sig[0] == sig[3]).all()


def test_long_words_differ_after_their_first_eight_bytes() -> None:
    hashes, offsets = shingles(["abcdefgh", "abcdefghX", "abcdefghijklmnopY", "abcdefghijklmnopZ"])
    assert offsets.tolist() == [0, 1, 2, 3]
    assert len(set(hashes.tolist())) == 4


def test_signatures_are_fixed_by_seed() -> None:
    # Signatures are compared across runs and machines: these values must never change.
    sig = MinHasher(num_perm=4, seed=1).signatures(["the quick brown fox"])
    assert sig[0].tolist() == [58578209, 1243878764, 911501779, 173060046]
    assert (MinHasher(num_perm=4, seed=2).signatures(["the quick brown fox"]) != sig).any()


M64 = 2**64


def _splitmix64(seed: int, count: int) -> list[int]:
    out, state = [], seed
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) % M64
        z = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) % M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % M64
        out.append(z ^ (z >> 31))
    return out


def _reference(text: str, num_perm: int, seed: int) -> list[int]:
    """The signature computed one value at a time, as the module docstring describes it."""
    words = [w.encode() for w in re.split(r"[\s.,;:!?()\[\]{}\"'`<>/\\|=*#-]+", text) if w]
    hashes = []
    for word in words:
        h = len(word) * 0x9E3779B97F4A7C15 % M64
        for i in range(0, len(word), 8):
            h ^= int.from_bytes(word[i : i + 8], "little")
            h = h * 0xC2B2AE3D27D4EB4F % M64
            h ^= h >> 29
        hashes.append(h)
    padded = [*hashes, 0x5BD1E9955BD1E995, 0x1B8735931B873593]
    shingle_hashes = []
    for i in range(len(hashes)):
        x = (padded[i] * 0x9E3779B97F4A7C15 + padded[i + 1] * 0xC2B2AE3D27D4EB4F) % M64
        x ^= padded[i + 2]
        x ^= x >> 33
        x = x * 0xFF51AFD7ED558CCD % M64
        x ^= x >> 33
        x = x * 0x9E3779B97F4A7C15 % M64
        x ^= x >> 29
        shingle_hashes.append(x >> 32)
    draws = _splitmix64(seed, 2 * num_perm)
    a = [(d >> 32) | 1 for d in draws[:num_perm]]
    b = [d >> 32 for d in draws[num_perm:]]
    return [min((a[k] * x + b[k]) % 2**32 for x in shingle_hashes) for k in range(num_perm)]


def test_vectorised_signatures_match_the_reference() -> None:
    texts = [
        "the quick brown fox",
        "one",
        "Mixed CASE, punctuation; and exactly8 and averyveryverylongword too",
        "a b",
    ]
    sig = MinHasher(num_perm=8, seed=9).signatures(texts)
    for text, row in zip(texts, sig, strict=True):
        assert row.tolist() == _reference(text, 8, 9), text


def test_c_and_numpy_give_the_same_signatures() -> None:
    if minhash._c_signatures is None:
        pytest.skip("C extension not built, or the numpy run of this test")
    rng = np.random.default_rng(2)
    pieces = ["a", "Bb", "ccc", "12345678", "abcdefghijk", "é", "☕x", " ", "  ", ",", "\n", "-"]
    texts = ["", " ", "surrogate \udcff kept"] + [
        "".join(rng.choice(pieces, int(rng.integers(0, 30)))) for _ in range(500)
    ]
    hasher = MinHasher(num_perm=24, seed=11)
    c = hasher.signatures(texts)
    assert (c == hasher.signatures_from_shingles(*shingles(texts))).all()
    assert c.flags.writeable and c.shape == (len(texts), 24)
