from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from distillguard.detect.features.normalize import PUNCTUATION, normalize, words_of

# ASCII with every kind of white space and punctuation, plus a few non-ASCII characters, so
# both the bytes path and the str path are exercised.
_TEXT = st.text(
    alphabet=st.sampled_from(
        [*"abcXYZ09 \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f", *PUNCTUATION, "é", "İ", "\u00a0", "☕"]
    ),
    max_size=40,
)


@given(_TEXT)
def test_normalize_is_lower_case_with_single_spaces(text: str) -> None:
    assert normalize(text) == " ".join(text.lower().split())


@given(_TEXT)
def test_words_are_those_of_the_normalised_text(text: str) -> None:
    table = str.maketrans({c: " " for c in PUNCTUATION})
    assert words_of(text) == normalize(text).translate(table).split()
    assert words_of(text) == words_of(normalize(text))


def test_examples() -> None:
    assert normalize("  Explain\n\nStep  by STEP ") == "explain step by step"
    assert words_of("Write (a) Python-function!") == ["write", "a", "python", "function"]
    assert words_of("") == [] and normalize("") == ""
