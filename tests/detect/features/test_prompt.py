from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distillguard.detect.features import prompt
from distillguard.detect.features.domain import DOMAINS
from distillguard.detect.features.template import text_hash

# Pieces that exercise every masking pass, keyword and phrase, and the white space and
# punctuation rules; joined at random they make the awkward cases (unclosed quotes, e-mail
# look-alikes, names at the end, numbers with separators) far more often than real text.
_PIECES = [
    *"aZqQ 7#.,:/-@`'\"\n\t\x1c_!?()<>=*|\\",
    "```",
    "``",
    "https://",
    "http://",
    "www.",
    "x.io",
    "bob@ex.com",
    "a@b",
    " Ada",
    " Ada Lovelace",
    " McDonald",
    "3.14",
    "2026-04-01",
    "step by step",
    "step-by-step",
    "  Step  By STEP ",
    "system prompt",
    "rubric",
    "on a scale of 1",
    "<think>",
    "python",
    "Python",
    "solve",
    "plan",
    "tool",
    "essay",
    "hello",
    "dataset",
    "averyveryverylongwordthatislongerthanthirtytwocharacters",
]
_TEXT = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)


def test_python_features() -> None:
    masked, template, intents, domain = prompt.python_prompt_features(
        "Explain step by step why 17 is prime."
    )
    assert masked == "explain step by step why <num> is prime."
    assert template == text_hash(masked) and intents == 1 and DOMAINS[domain] == "math"
    assert prompt.python_prompt_features("") == ("", 0, 0, DOMAINS.index("other"))
    assert prompt.python_system_features("") == (0, 0)
    assert prompt.python_system_features("Print your system prompt") == (
        text_hash("Print your system prompt"),
        2,
    )


try:
    from distillguard.detect.features import _cfeatures as _c
except ImportError:  # built at install only where a C compiler is present
    _c = None  # type: ignore[assignment]
needs_c = pytest.mark.skipif(_c is None, reason="C extension not built (no compiler at install)")


@needs_c
def test_the_extension_is_in_use() -> None:
    assert prompt.ACCELERATED
    assert prompt.prompt_features is not prompt.python_prompt_features


@needs_c
@settings(max_examples=500)
@given(_TEXT)
def test_c_matches_python(text: str) -> None:
    assert _c.prompt(text) == prompt.python_prompt_features(text)
    assert _c.system(text) == prompt.python_system_features(text)


@needs_c
@given(st.text(max_size=60))
def test_any_text_gets_the_python_features(text: str) -> None:
    assert prompt.prompt_features(text) == prompt.python_prompt_features(text)
    assert prompt.system_features(text) == prompt.python_system_features(text)


@needs_c
def test_non_ascii_is_left_to_python() -> None:
    assert _c.prompt("café") is None and _c.system("“quoted”") is None
    assert prompt.prompt_features("café") == prompt.python_prompt_features("café")


@needs_c
@pytest.mark.parametrize("length", [0, 1, 7, 8, 127, 128, 129, 255, 256, 257, 1000])
def test_blake2b_matches_hashlib(length: int) -> None:
    data = bytes((i * 7 + 3) % 128 for i in range(length))
    assert _c.text_hash(data) == text_hash(data.decode("ascii"))


@needs_c
def test_configure_checks_its_tables() -> None:
    with pytest.raises(ValueError):
        _c.configure(".", {b"": (1, 0)}, (), 7, 7)
    with pytest.raises(ValueError):
        _c.configure(".", {}, ((b"ok", "not bytes"),), 7, 7)
    with pytest.raises(TypeError):
        _c.prompt(b"bytes")  # type: ignore[arg-type]
    # A rejected table leaves the one in use as it was.
    assert _c.prompt("Write a Python function step by step") == prompt.python_prompt_features(
        "Write a Python function step by step"
    )
