"""Prompt normalisation: the canonical text and words that every feature is computed on.

:func:`normalize` lower-cases and collapses white space; :func:`words_of` splits text into
lower-case words at white space and :data:`PUNCTUATION`. Both run on every request, so ASCII
text (nearly all prompts) takes a path through ``bytes.translate``, a table lookup in C;
``str.translate`` with a dict looks every character up in the dict (and raises and catches a
``KeyError`` for each one it does not map). Other text takes ``str`` methods and a regular
expression that give the same result.
"""

from __future__ import annotations

import re

PUNCTUATION = ".,;:!?()[]{}\"'`<>/\\|=*#-"
# Characters that str.split() treats as white space in ASCII; bytes.split() misses \x1c-\x1f.
ASCII_SPACE = " \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"

_UPPER = bytes(range(65, 91))
_LOWER = bytes(range(97, 123))
_CONTROL_SPACE = b"\x1c\x1d\x1e\x1f"
# Lower-case ASCII and make every white space character one bytes.split() knows.
LOWER_TABLE = bytes.maketrans(_UPPER + _CONTROL_SPACE, _LOWER + b"    ")
# The same, and punctuation becomes a space too.
WORD_TABLE = bytes.maketrans(
    _UPPER + _CONTROL_SPACE + PUNCTUATION.encode(),
    _LOWER + b" " * (len(_CONTROL_SPACE) + len(PUNCTUATION)),
)
# For other text: the same words (regex \s is str.split()'s white space).
_WORD = re.compile("[^\\s" + re.escape(PUNCTUATION) + "]+")


def normalize(text: str) -> str:
    """Lower-case ``text`` and collapse every run of white space to one space.

    >>> normalize("  Explain\\n\\nStep  by STEP ")
    'explain step by step'
    """
    if text.isascii():
        return b" ".join(text.encode("ascii").translate(LOWER_TABLE).split()).decode("ascii")
    return " ".join(text.lower().split())


def words_of(text: str) -> list[str]:
    """Lower-case words of ``text``, split at white space and :data:`PUNCTUATION`.

    The words of a text and of its :func:`normalize` form are the same.

    >>> words_of("Write a Python function (recursive), please!")
    ['write', 'a', 'python', 'function', 'recursive', 'please']
    """
    if text.isascii():
        return text.encode("ascii").translate(WORD_TABLE).decode("ascii").split()
    return _WORD.findall(text.lower())
