from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from distillguard.detect.features.template import fingerprint, mask, text_hash


def test_slot_values_do_not_change_the_fingerprint() -> None:
    a = fingerprint('Explain "quicksort" to Alice Smith in 200 words: https://x.io/a?b=1')
    b = fingerprint('Explain "binary heaps" to Bob Jones in 35 words: https://y.org/c')
    assert a == b
    assert a != fingerprint("Write a poem about the sea in 200 words")


def test_code_emails_and_numbers_are_masked() -> None:
    text = "Fix ```def f():\n  return 1``` and mail me at bob@example.com by 2026-04-01"
    assert mask(text) == "fix <code> and mail me at <email> by <num>"


def test_hash_is_stable_and_empty_is_zero() -> None:
    assert text_hash("") == 0
    assert text_hash("hello") == text_hash("hello") != 0
    assert isinstance(text_hash("hello"), int)


_CODE = re.compile(r"```.*?(?:```|\Z)|`[^`\n]+`", re.DOTALL)
_URL = re.compile(r"(?:https?://|www\.)\S+")
_EMAIL = re.compile(r"\S+@\S+\.\w+")
_DQUOTE = re.compile(r"\"[^\"\n]{0,300}\"")
_CURLY = re.compile(r"“[^”\n]{0,300}”")
_SQUOTE = re.compile(r"(?<!\w)'[^'\n]{1,300}'(?!\w)")
_NAME = re.compile(r" [A-Z][a-z]+(?: [A-Z][a-z]+)*")
_NUMBER = re.compile(r"#+(?:[.,:/-]#+)*")


def _first_mask(text: str) -> str:
    """mask() as first written, one regular expression after another on str."""
    for pattern, placeholder in (
        (_CODE, " <code> "),
        (_URL, "<url>"),
        (_EMAIL, "<email>"),
        (_DQUOTE, "<str>"),
        (_CURLY, "<str>"),
        (_SQUOTE, "<str>"),
        (_NAME, " <name>"),
    ):
        text = pattern.sub(placeholder, text)
    text = _NUMBER.sub("<num>", text.translate(str.maketrans("0123456789", "#" * 10)))
    return " ".join(text.lower().split())


_PIECES = [*"aZ Qu7#.,:/-@`'\"\n\t\x1c", "www.", "https://", "```", "“", "”", " Bo", "é"]


@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_mask_is_unchanged_by_its_fast_paths(text: str) -> None:
    assert mask(text) == _first_mask(text)
