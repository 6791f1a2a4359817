"""Prompt normalisation: the canonical text that templates and signatures are computed on."""

from __future__ import annotations


def normalize(text: str) -> str:
    """Lower-case ``text`` and collapse every run of white space to one space.

    >>> normalize("  Explain\\n\\nStep  by STEP ")
    'explain step by step'
    """
    return " ".join(text.lower().split())
