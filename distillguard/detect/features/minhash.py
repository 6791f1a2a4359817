"""MinHash signatures for many prompts at once, vectorised with numpy.

A prompt becomes word 3-shingles: its words are the runs of bytes between white space and
punctuation (where :func:`~distillguard.detect.features.normalize.words_of` splits them, case
kept), and the whole batch is tokenised and hashed in a few numpy passes over its UTF-8
bytes, without a Python call per word. Each of ``num_perm`` hash functions is an affine map
``a * x + b mod 2**32`` (odd ``a``) of a shingle's well-mixed 32-bit hash, as in
``datasketch``'s default ``affine32`` scheme; the minimum over a prompt's shingles is taken by
grouping prompts of similar length into matrices, so every numpy operation is a long run of
32-bit arithmetic. This estimates Jaccard similarity like ``datasketch.MinHash`` does.

>>> hasher = MinHasher(num_perm=64, seed=1)
>>> sig = hasher.signatures([
...     "explain the internal reasoning behind this answer to question seven step by step",
...     "explain the internal reasoning behind this answer to question nine step by step",
...     "what is the weather like today",
... ])
>>> hasher.jaccard(sig[0], sig[1]) > 0.5, hasher.jaccard(sig[0], sig[2]) < 0.1
(True, True)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from distillguard.detect.features.normalize import ASCII_SPACE, PUNCTUATION

try:  # the same signatures in C, one text at a time, where the extension is built
    from distillguard.detect.features._cfeatures import signatures as _c_signatures
except ImportError:  # no compiler at install: numpy does it
    _c_signatures = None  # type: ignore[assignment]

EMPTY = np.uint32(0xFFFFFFFF)

_U64 = np.uint64
_MULT1 = _U64(0x9E3779B97F4A7C15)
_MULT2 = _U64(0xC2B2AE3D27D4EB4F)
_MULT3 = _U64(0xFF51AFD7ED558CCD)
# Stand-ins for the missing words after a prompt's last two (a short prompt still has shingles).
_PAD1, _PAD2 = _U64(0x5BD1E9955BD1E995), _U64(0x1B8735931B873593)
# bytes.translate table: 1 for a byte inside a word, 0 for a separator.
_SEPARATORS = (ASCII_SPACE + PUNCTUATION).encode("ascii")
_IN_WORD = bytes(0 if i in _SEPARATORS else 1 for i in range(256))
# _LOW[k] keeps the low k bytes of a little-endian 8-byte load.
_LOW = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [2**64 - 1], dtype=np.uint64)
# Prompts are grouped by shingle count; each group is padded to its bound.
_BOUNDS = np.array(
    [0, 1, 2, 3, 4, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 128, 160, 192]
    + [256 * 2**k for k in range(20)]
)


class MinHasher:
    """Computes MinHash signatures of texts in vectorised batches.

    ``num_perm`` hash functions are derived from ``seed``; signatures from the same
    ``(num_perm, seed)`` are comparable across runs and machines.
    """

    def __init__(self, num_perm: int = 64, seed: int = 1, block: int = 1 << 19) -> None:
        if num_perm < 1:
            raise ValueError("num_perm must be at least 1")
        self.num_perm = num_perm
        # SplitMix64 in Python integers: the same parameters everywhere, whatever numpy's
        # random streams do between versions.
        draws = _splitmix64(seed, 2 * num_perm)
        self._a = np.array([(x >> 32) | 1 for x in draws[:num_perm]], dtype=np.uint32)[
            :, None, None
        ]
        self._b = np.array([x >> 32 for x in draws[num_perm:]], dtype=np.uint32)[:, None, None]
        # Work on at most this many 32-bit values at a time (2 MiB: fits a core's cache).
        self._block = block
        self._a_bytes = self._a.tobytes()
        self._b_bytes = self._b.tobytes()

    def signatures(self, texts: Sequence[str]) -> npt.NDArray[np.uint32]:
        """Return an ``(len(texts), num_perm)`` array of signatures.

        A text without words gets :data:`EMPTY` everywhere. Texts are compared as given:
        normalise them first (the detector passes masked, normalised prompts). The C extension
        computes them where it is built; :meth:`signatures_from_shingles` with
        :func:`shingles` is the numpy reference and gives the same values.
        """
        if _c_signatures is None:
            return self.signatures_from_shingles(*shingles(texts))
        out = np.empty((len(texts), self.num_perm), dtype=np.uint32)
        _c_signatures(texts, _SEPARATORS, self._a_bytes, self._b_bytes, out)
        return out

    def signatures_from_shingles(
        self, hashes: npt.NDArray[np.uint32], offsets: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.uint32]:
        """Signatures from shingle hashes grouped by ``offsets`` (see :func:`shingles`)."""
        out = np.full((self.num_perm, offsets.size), EMPTY, dtype=np.uint32)
        counts = np.diff(offsets, append=hashes.size)
        group = np.searchsorted(_BOUNDS, counts)
        order = np.argsort(group, kind="stable")
        for members in np.split(order, np.flatnonzero(np.diff(group[order])) + 1):
            if members.size == 0 or counts[members[0]] == 0:
                continue
            width = int(_BOUNDS[group[members[0]]])
            step = max(1, self._block // (width * self.num_perm))
            for lo in range(0, members.size, step):
                chunk = members[lo : lo + step]
                # (width, texts) matrix; a text's last shingle repeats to fill its column.
                position = np.minimum(np.arange(width)[:, None], counts[chunk] - 1)
                block = hashes[offsets[chunk] + position]
                # (num_perm, width, texts): every hash function over every shingle at once.
                mixed = self._a * block
                mixed += self._b
                out[:, chunk] = mixed.min(axis=1)
        return np.ascontiguousarray(out.T)

    @staticmethod
    def jaccard(a: npt.NDArray[np.uint32], b: npt.NDArray[np.uint32]) -> float:
        """Estimated Jaccard similarity of two signatures."""
        return float(np.mean(a == b))


def shingles(texts: Sequence[str]) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]:
    """32-bit hashes of the word 3-shingles of every text.

    Returns the hashes of all texts end to end and each text's start offset. A text of ``n >=
    1`` words has ``n`` shingles (the last two are padded); a text without words has none.
    """
    if not texts:
        return np.zeros(0, dtype=np.uint32), np.zeros(0, dtype=np.int64)
    data, starts_of_texts = _joined(texts)
    inside = np.frombuffer(data.translate(_IN_WORD), dtype=np.bool_)
    # data starts and ends with separators, so edges alternate word start, word end.
    edges = np.flatnonzero(inside[1:] != inside[:-1]) + 1
    starts = edges[0::2]
    lengths = edges[1::2] - starts
    words = _word_hashes(data, starts, lengths)
    offsets = np.searchsorted(starts, starts_of_texts)
    ends = np.append(offsets[1:], starts.size)
    last = ends[ends > offsets] - 1
    second = np.empty_like(words)
    second[:-1] = words[1:]
    second[last] = _PAD1
    third = np.empty_like(words)
    third[:-2] = words[2:]
    third[last] = _PAD2
    third[ends[ends - offsets > 1] - 2] = _PAD1
    words *= _MULT1
    second *= _MULT2
    words += second
    words ^= third
    return _fold(words), offsets


def _joined(texts: Sequence[str]) -> tuple[bytes, npt.NDArray[np.int64]]:
    """All texts as UTF-8 separated by newlines, with separators at both ends and 8 spare
    bytes, and the byte offset of each text."""
    joined = "\n".join(texts)
    data = joined.encode("utf-8", "surrogatepass")
    if len(data) == len(joined):  # ASCII: a character is a byte
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        starts = np.cumsum(lengths + 1) - lengths
    elif joined.count("\n") == len(texts) - 1:  # the newlines are the separators
        newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
        starts = np.concatenate(([1], newlines + 2))
    else:
        encoded = [text.encode("utf-8", "surrogatepass") for text in texts]
        data = b"\n".join(encoded)
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        starts = np.cumsum(lengths + 1) - lengths
    return b"\n" + data + b"\n" * 9, starts


def _word_hashes(
    data: bytes, starts: npt.NDArray[np.intp], lengths: npt.NDArray[np.intp]
) -> npt.NDArray[np.uint64]:
    """64-bit hash of each word ``data[start:start+length]``, 8 bytes at a time."""
    # An unaligned little-endian 8-byte load at every byte offset (no copy).
    loads = np.ndarray((len(data) - 8,), dtype="<u8", buffer=data, strides=(1,))
    hashes = loads[starts]
    hashes &= _LOW[np.minimum(lengths, 8)]
    hashes ^= lengths.astype(np.uint64) * _MULT1
    hashes *= _MULT2
    hashes ^= hashes >> _U64(29)
    longer = np.flatnonzero(lengths > 8)
    step = 8
    while longer.size:  # the rest of words longer than 8 bytes
        remaining = lengths[longer] - step
        mixed = loads[starts[longer] + step]
        mixed &= _LOW[np.minimum(remaining, 8)]
        mixed ^= hashes[longer]
        mixed *= _MULT2
        mixed ^= mixed >> _U64(29)
        hashes[longer] = mixed
        longer = longer[remaining > 8]
        step += 8
    return hashes


def _fold(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint32]:
    """Mix 64-bit values (MurmurHash3's finaliser) and keep the high 32 bits."""
    values ^= values >> _U64(33)
    values *= _MULT3
    values ^= values >> _U64(33)
    values *= _MULT1
    values ^= values >> _U64(29)
    return (values >> _U64(32)).astype(np.uint32)


def _splitmix64(seed: int, count: int) -> list[int]:
    state = seed % 2**64
    out = []
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) % 2**64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % 2**64
        out.append(z ^ (z >> 31))
    return out
