"""MinHash signatures for many prompts at once, vectorised with numpy.

A prompt becomes word 3-shingles (each word hashed once with CRC-32 and cached, shingles
combined arithmetically), and each of ``num_perm`` hash functions is a multiply-shift hash
``(a * x + b) mod 2**64 >> 32`` applied to every shingle of a whole batch in one numpy
operation; ``np.minimum.reduceat`` then takes each prompt's minimum. This estimates Jaccard
similarity like ``datasketch.MinHash`` does, without a Python call per shingle and permutation.

>>> hasher = MinHasher(num_perm=64, seed=1)
>>> sig = hasher.signatures(["explain the reasoning step by step", "explain the reasoning step by step please"])
>>> hasher.jaccard(sig[0], sig[1]) > 0.5
True
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

EMPTY = np.uint32(0xFFFFFFFF)
_MULT1 = np.uint64(0x9E3779B97F4A7C15)
_MULT2 = np.uint64(0xC2B2AE3D27D4EB4F)
_PAD1, _PAD2 = 0x5BD1E995, 0x1B873593
_CACHE_MAX = 1 << 20


class MinHasher:
    """Computes MinHash signatures of token sequences in vectorised batches.

    ``num_perm`` hash functions are derived from ``seed``; signatures from the same
    ``(num_perm, seed)`` are comparable across runs and machines.
    """

    def __init__(self, num_perm: int = 64, seed: int = 1, chunk_shingles: int = 1 << 14) -> None:
        if num_perm < 1:
            raise ValueError("num_perm must be at least 1")
        rng = np.random.default_rng(seed)
        self.num_perm = num_perm
        self._a = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(
            1
        )
        self._b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
        self._chunk = chunk_shingles
        self._token_ids: dict[str, int] = {}

    def _token_id(self, token: str) -> int:
        value = zlib.crc32(token.encode("utf-8", "surrogatepass"))
        if len(self._token_ids) >= _CACHE_MAX:
            self._token_ids.clear()
        self._token_ids[token] = value
        return value

    def shingles(
        self, documents: Sequence[Sequence[str]]
    ) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]:
        """Hash word 3-shingles of every document (a list of words).

        Returns the shingle hashes of all documents end to end and each document's start
        offset. A document of fewer than three words still gets shingles (padded); an empty
        one gets none (its offset equals the next one's).
        """
        ids: list[int] = []
        lengths = np.zeros(len(documents), dtype=np.int64)
        cache = self._token_ids
        for i, words in enumerate(documents):
            if not words:
                continue
            ids.extend([cache.get(w) or self._token_id(w) for w in words])
            ids.append(_PAD1)
            ids.append(_PAD2)
            lengths[i] = len(words) + 2
        tokens = np.asarray(ids, dtype=np.uint64)
        if tokens.size < 3:
            return np.zeros(0, dtype=np.uint64), np.zeros(len(documents), dtype=np.int64)
        combined = tokens[:-2] * _MULT1 + tokens[1:-1] * _MULT2 + tokens[2:]
        # Windows that start in the last two (padding) slots of a text would cross into the next.
        ends = np.cumsum(lengths)
        keep = np.ones(tokens.size, dtype=bool)
        nonempty = lengths > 0
        keep[ends[nonempty] - 1] = False
        keep[ends[nonempty] - 2] = False
        keep = keep[:-2]
        counts = np.where(nonempty, lengths - 2, 0)
        offsets = np.cumsum(counts) - counts
        return combined[keep], offsets

    def signatures(self, texts: Sequence[str]) -> npt.NDArray[np.uint32]:
        """Return an ``(len(texts), num_perm)`` array of signatures; empty texts get all-ones."""
        hashes, offsets = self.shingles([text.split() for text in texts])
        return self.signatures_from_shingles(hashes, offsets)

    def signatures_from_shingles(
        self, hashes: npt.NDArray[np.uint64], offsets: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.uint32]:
        """Signatures from shingle hashes grouped by ``offsets`` (see :meth:`shingles`)."""
        n = offsets.size
        out = np.full((n, self.num_perm), EMPTY, dtype=np.uint32)
        if n == 0 or hashes.size == 0:
            return out
        counts = np.diff(np.append(offsets, hashes.size))
        nonempty = np.flatnonzero(counts > 0)
        # Process whole texts in chunks so the (shingles x num_perm) matrix stays small.
        lo = 0
        while lo < nonempty.size:
            first = offsets[nonempty[lo]]
            hi = int(np.searchsorted(offsets[nonempty], first + self._chunk, side="left"))
            hi = max(hi, lo + 1)
            stop = offsets[nonempty[hi]] if hi < nonempty.size else hashes.size
            block = hashes[first:stop]
            # (num_perm, shingles) layout: reduceat along the contiguous axis is ~10x faster.
            mixed = self._a[:, None] * block[None, :]
            mixed += self._b[:, None]
            mixed >>= np.uint64(32)
            starts = offsets[nonempty[lo:hi]] - first
            out[nonempty[lo:hi]] = np.minimum.reduceat(mixed, starts, axis=1).T
            lo = hi
        return out

    @staticmethod
    def jaccard(a: npt.NDArray[np.uint32], b: npt.NDArray[np.uint32]) -> float:
        """Estimated Jaccard similarity of two signatures."""
        return float(np.mean(a == b))
