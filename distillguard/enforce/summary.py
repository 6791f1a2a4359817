"""Extractive summaries of reasoning text: what ``reasoning = "summarised"`` shows.

No model is involved, so the summary is made of the reasoning's own sentences:

1. The text is cut into sentences at ``.``, ``!`` or ``?`` followed by white space, and at line
   breaks (reasoning is often written as lists).
2. A sentence's weight is the sum, over the distinct content words in it (three or more letters or
   digits, not a stop word), of how many sentences of the whole text use that word, divided by the
   square root of the sentence's word count. Sentences about what the reasoning keeps coming back
   to weigh most; asides, one-off computations and filler weigh least.
3. The ``keep`` heaviest sentences are shown, in their original order, joined by a space and
   followed by a marker that says how many were kept: ``[reasoning summarised by distillguard:
   2 of 14 sentences]``. Ties go to the earlier sentence.

A text of at most ``keep`` sentences is returned unchanged. The result depends only on the whole
text, so a stream, whose reasoning is held back until its block ends, shows exactly what the same
response shows unstreamed.
"""

from __future__ import annotations

import math
import re

MARKER = " [reasoning summarised by distillguard: {kept} of {total} sentences]"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\s*\n\s*")
_WORD = re.compile(r"[^\W_]{3,}")
_STOP_WORDS = """
about above after again against all also and any are because been before being below
between both but can could did does doing down during each few for from further had has
have having her here hers him his how into its itself just let like more most much must
need not now off once only other our ours out over own same she should since some such
than that the their theirs them then there these they this those through too under until
very was way were what when where which while who whom why will with would yes yet you
your yours
"""
_STOP = frozenset(_STOP_WORDS.split())


def sentences(text: str) -> list[str]:
    """The sentences of ``text``, stripped, empty ones left out."""
    return [s for s in (part.strip() for part in _SENTENCE_END.split(text)) if s]


def summarise(text: str, keep: int) -> str:
    """The ``keep`` most central sentences of ``text`` in their order, and the marker."""
    if keep < 1:
        raise ValueError("keep must be at least 1")
    found = sentences(text)
    if len(found) <= keep:
        return text
    words = [_WORD.findall(s.lower()) for s in found]
    content = [{w for w in ws if w not in _STOP} for ws in words]
    used_in: dict[str, int] = {}
    for distinct in content:
        for word in distinct:
            used_in[word] = used_in.get(word, 0) + 1
    weights = [
        sum(used_in[w] for w in distinct) / math.sqrt(max(len(ws), 1))
        for distinct, ws in zip(content, words, strict=True)
    ]
    chosen = sorted(sorted(range(len(found)), key=lambda i: (-weights[i], i))[:keep])
    return " ".join(found[i] for i in chosen) + MARKER.format(kept=keep, total=len(found))
