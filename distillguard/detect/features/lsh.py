"""LSH banding: MinHash signatures to bucket keys that collide for similar prompts.

With ``bands`` bands of ``rows`` rows, two prompts of Jaccard similarity ``s`` share at least
one band key with probability ``1 - (1 - s**rows)**bands``. Detection links accounts on band
keys, so rows and bands set how similar two templates must be to count as "the same".
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from distillguard.detect.features.minhash import EMPTY

_MIX = np.uint64(0x9E3779B97F4A7C15)


def band_keys(signatures: npt.NDArray[np.uint32], bands: int, rows: int) -> npt.NDArray[np.int64]:
    """Return an ``(n, bands)`` array of signed 64-bit bucket keys (0 for empty prompts).

    Band ``i`` uses signature columns ``i*rows .. (i+1)*rows-1``; its index is mixed into the
    key so equal values in different bands do not collide.

    >>> sig = np.array([[1, 2, 3, 4], [1, 2, 9, 9]], dtype=np.uint32)
    >>> keys = band_keys(sig, bands=2, rows=2)
    >>> bool(keys[0, 0] == keys[1, 0]), bool(keys[0, 1] == keys[1, 1])
    (True, False)
    """
    n, num_perm = signatures.shape
    if bands * rows > num_perm:
        raise ValueError(f"bands*rows = {bands * rows} exceeds num_perm = {num_perm}")
    keys = np.zeros((n, bands), dtype=np.uint64)
    sig = signatures.astype(np.uint64)
    for band in range(bands):
        acc = np.full(n, (band + 1) * 0x9E3779B97F4A7C15 % 2**64, dtype=np.uint64)
        for row in range(rows):
            acc = (acc ^ sig[:, band * rows + row]) * _MIX
            acc ^= acc >> np.uint64(29)
        keys[:, band] = acc
    empty = signatures[:, 0] == EMPTY
    out = keys.view(np.int64)
    out[empty] = 0
    out[(out == 0) & ~empty[:, None]] = 1
    return out
