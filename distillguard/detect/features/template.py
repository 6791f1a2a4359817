"""Template fingerprints: prompts that differ only in their slot values hash the same.

Code, URLs, e-mail addresses, quoted literals, numbers and capitalised names inside a sentence
are replaced by placeholders, the result is normalised, and the first 8 bytes of its BLAKE2b
digest become the fingerprint. Requests filled from one template by an extraction script
therefore share a fingerprint although no two prompts are identical.

Each pass only runs when a cheap substring test says it can match: Python's regular expressions
are slow on patterns that start with a character class, and this runs on every request.
"""

from __future__ import annotations

import hashlib
import re

from distillguard.detect.features.normalize import LOWER_TABLE, normalize

_CODE = re.compile(r"```.*?(?:```|\Z)|`[^`\n]+`", re.DOTALL)
_URL = re.compile(r"(?:https?://|www\.)\S+")
_EMAIL = re.compile(r"\S+@\S+\.\w+")
_DQUOTE = re.compile(r"\"[^\"\n]{0,300}\"")
_CURLY = re.compile(r"“[^”\n]{0,300}”")
_SQUOTE = re.compile(r"(?<!\w)'[^'\n]{1,300}'(?!\w)")
# A capitalised word after a space: names, places, products. Sentence starts are masked too,
# which costs nothing: a template's fixed words are masked the same way every time.
_NAME = re.compile(r" [A-Z][a-z]+(?: [A-Z][a-z]+)*")
# Digits become '#' (so a '#' already there counts as a digit) and runs of them, possibly
# separated by one of . , : / -, become <num>. For ASCII text: digits to '#' and lower case
# in one table, then the number pattern; for other text one pattern on digits and '#'.
_ASCII_TAIL = bytes.maketrans(b"0123456789", b"##########").translate(LOWER_TABLE)
_NUMBER_BYTES = re.compile(rb"#+(?:[.,:/-]#+)*")
_NUMBER = re.compile(r"[0-9#]+(?:[.,:/-][0-9#]+)*")


def mask(text: str) -> str:
    """Replace slot values in ``text`` by placeholders and normalise the result.

    >>> mask('Translate "good morning" into French, then add 3 examples.')
    'translate <str> into <name>, then add <num> examples.'
    >>> mask('Write about Ada Lovelace in 200 words.') == mask('Write about Alan Turing in 50 words.')
    True
    """
    if "`" in text:
        text = _CODE.sub(" <code> ", text)
    if "://" in text or "www." in text:
        text = _URL.sub("<url>", text)
    if "@" in text:
        text = _EMAIL.sub("<email>", text)
    if '"' in text:
        text = _DQUOTE.sub("<str>", text)
    if "“" in text:
        text = _CURLY.sub("<str>", text)
    if "'" in text:
        text = _SQUOTE.sub("<str>", text)
    text = _NAME.sub(" <name>", text)
    if text.isascii():
        # Numbers and normalisation commute (neither pattern touches white space or case).
        data = b" ".join(text.encode("ascii").translate(_ASCII_TAIL).split())
        if b"#" in data:
            data = _NUMBER_BYTES.sub(b"<num>", data)
        return data.decode("ascii")
    return normalize(_NUMBER.sub("<num>", text))


def text_hash(text: str) -> int:
    """A stable signed 64-bit hash of ``text`` (0 is reserved for empty text)."""
    if not text:
        return 0
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True) or 1


def fingerprint(text: str) -> int:
    """The template fingerprint of a prompt: :func:`text_hash` of :func:`mask`."""
    return text_hash(mask(text))
