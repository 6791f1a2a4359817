from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

def configure(
    punctuation: str,
    words: dict[bytes, tuple[int, int]],
    phrases: tuple[tuple[bytes, ...], ...],
    n_domains: int,
    other: int,
    /,
) -> None: ...
def prompt(text: str, /) -> tuple[str, int, int, int] | None: ...
def system(text: str, /) -> tuple[int, int] | None: ...
def text_hash(data: bytes, /) -> int: ...
def signatures(
    texts: Sequence[str], separators: bytes, a: bytes, b: bytes, out: npt.NDArray[np.uint32], /
) -> None: ...
