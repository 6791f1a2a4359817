"""Extraction-intent classifiers with stable names, keyword and phrase based.

Each classifier looks for phrases that a person asking for help rarely writes but a script
harvesting training data writes every time. They run on normalised text (see
:func:`~distillguard.detect.features.normalize.normalize`) with plain substring tests, which
keeps them to a few microseconds per prompt. Results are a bit mask; :data:`INTENTS` gives the
stable names in bit order.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet

from distillguard.detect.features.normalize import normalize, words_of

INTENTS = ("cot_elicitation", "system_prompt_extraction", "rubric_grading", "synthetic_dataset")

# The phrases of each intent, in INTENTS order.
PHRASES: tuple[tuple[str, ...], ...] = (
    (  # cot_elicitation
        "step by step",
        "step-by-step",
        "chain of thought",
        "chain-of-thought",
        "internal reasoning",
        "reasoning process",
        "thought process",
        "show your reasoning",
        "explain your reasoning",
        "articulate the reasoning",
        "articulate your reasoning",
        "reasoning trace",
        "show all intermediate",
        "think through",
        "thinking process",
        "reasoning behind",
        "show your work",
        "<think>",
    ),
    (  # system_prompt_extraction
        "system prompt",
        "previous instructions",
        "initial instructions",
        "your instructions",
        "repeat the text above",
        "repeat everything above",
        "words above",
        "ignore all previous",
        "ignore the above",
        "verbatim",
        "developer message",
        "hidden instructions",
        "you were told",
    ),
    (  # rubric_grading
        "rubric",
        "grade the following",
        "grade this",
        "score the following",
        "score this response",
        "on a scale of 1",
        "on a scale from 1",
        "evaluate the response",
        "evaluate the following response",
        "rate the response",
        "which response is better",
        "reward model",
        "assign a score",
        "grading criteria",
    ),
    (  # synthetic_dataset
        "synthetic data",
        "training data",
        "training example",
        "dataset",
        "generate 10",
        "generate 20",
        "generate 50",
        "generate 100",
        "diverse examples",
        "jsonl",
        "question-answer pairs",
        "instruction-response",
        "fine-tuning",
        "fine tuning",
        "variations of",
    ),
)

# A phrase can only be present if its longest word is, so a set test skips most prompts.
TRIGGERS = tuple(frozenset(max(words_of(p), key=len) for p in phrases) for phrases in PHRASES)
# Words that can start a phrase: intents(text, words) depends only on words & TRIGGER_WORDS.
TRIGGER_WORDS = frozenset().union(*TRIGGERS)


def intents(normalized: str, words: AbstractSet[str] | None = None) -> int:
    """Return the bit mask of :data:`INTENTS` that match ``normalized`` text.

    ``words`` is the set of the text's words with punctuation removed, when the caller has it.

    >>> intents("articulate the reasoning behind this answer step by step")
    1
    >>> intents("what's the weather like")
    0
    """
    if words is None:
        words = set(words_of(normalized))
    mask = 0
    for bit, phrases in enumerate(PHRASES):
        if words.isdisjoint(TRIGGERS[bit]):
            continue
        for phrase in phrases:
            if phrase in normalized:
                mask |= 1 << bit
                break
    return mask


def text_intents(text: str, words: AbstractSet[str]) -> int:
    """:func:`intents` of raw ``text`` whose :func:`~distillguard.detect.features.normalize.words_of`
    are ``words``; the text is normalised only when one of its words can start a phrase.

    >>> from distillguard.detect.features.normalize import words_of
    >>> text = "Show your  WORK, step by step."
    >>> text_intents(text, set(words_of(text)))
    1
    """
    if TRIGGER_WORDS.isdisjoint(words):
        return 0
    return intents(normalize(text), words)


def intent_names(mask: int) -> list[str]:
    """The names of the intents set in ``mask``."""
    return [name for bit, name in enumerate(INTENTS) if mask & (1 << bit)]
