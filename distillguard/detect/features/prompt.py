"""The content features of one prompt text and one system prompt text.

:func:`prompt_features` gives a prompt's masked text, template fingerprint, intents and
domain (before tools are taken into account); :func:`system_features` a system prompt's hash
and intents. They run on every request, so they have two implementations:

- the optional C extension ``_cfeatures``, built at install where a C compiler is present,
  takes ASCII text (nearly every prompt) in about a microsecond;
- :func:`python_prompt_features` and :func:`python_system_features` take everything else, and
  everything on a machine without the extension. They are the reference: the tests compare
  the two on generated text, so both give the same features, fingerprints included.

>>> masked, template, intents, domain = prompt_features("Explain step by step why 17 is prime.")
>>> masked, intents, domain
('explain step by step why <num> is prime.', 1, 1)
"""

from __future__ import annotations

from collections.abc import Callable

from distillguard.detect.features.domain import DOMAIN_KEYWORDS, DOMAINS, KEYWORDS, domain_index
from distillguard.detect.features.intent import PHRASES, TRIGGER_WORDS, TRIGGERS, text_intents
from distillguard.detect.features.normalize import PUNCTUATION, words_of
from distillguard.detect.features.template import mask, text_hash

# Domains and intents only look at these words; intersecting with them is cheaper than
# building the set of all the words of a prompt.
_KNOWN_WORDS = KEYWORDS | TRIGGER_WORDS

PromptFeatures = tuple[str, int, int, int]
"""``(masked text, template fingerprint, intent bits, domain index)``."""


def python_prompt_features(text: str) -> PromptFeatures:
    """:func:`prompt_features` in Python, for any text."""
    masked = mask(text)
    words = _KNOWN_WORDS.intersection(words_of(text))
    return masked, text_hash(masked), text_intents(text, words), domain_index(words)


def python_system_features(text: str) -> tuple[int, int]:
    """:func:`system_features` in Python, for any text."""
    return text_hash(text), text_intents(text, _KNOWN_WORDS.intersection(words_of(text)))


def _load_extension() -> (
    tuple[Callable[[str], PromptFeatures | None], Callable[[str], tuple[int, int] | None]] | None
):
    try:
        from distillguard.detect.features import _cfeatures
    except ImportError:  # not built (no compiler at install): the Python path does it all
        return None
    words = {
        word.encode(): (
            sum(1 << d for d, keywords in enumerate(DOMAIN_KEYWORDS) if word in keywords),
            sum(1 << b for b, triggers in enumerate(TRIGGERS) if word in triggers),
        )
        for word in _KNOWN_WORDS
    }
    phrases = tuple(tuple(p.encode() for p in group) for group in PHRASES)
    _cfeatures.configure(PUNCTUATION, words, phrases, len(DOMAIN_KEYWORDS), DOMAINS.index("other"))
    return _cfeatures.prompt, _cfeatures.system


_EXTENSION = _load_extension()
ACCELERATED = _EXTENSION is not None
"""Whether the C extension is in use."""

if _EXTENSION is not None:
    _c_prompt, _c_system = _EXTENSION

    def prompt_features(text: str) -> PromptFeatures:
        """The masked text, template fingerprint, intent bits and domain index of a prompt."""
        return _c_prompt(text) or python_prompt_features(text)

    def system_features(text: str) -> tuple[int, int]:
        """The hash and intent bits of a system prompt."""
        return _c_system(text) or python_system_features(text)

else:
    prompt_features = python_prompt_features
    system_features = python_system_features
