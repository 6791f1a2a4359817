from __future__ import annotations

import pytest

from distillguard.enforce.summary import MARKER, sentences, summarise

PRIMES = """Okay, let me figure out how many prime numbers are below 30.
First, recall that a prime number has exactly two divisors.
The primes below 30 are 2, 3, 5, 7, 11, 13, 17, 19, 23 and 29.
Let me double-check 21: it is 3 times 7, so not prime.
And 27 is 3 cubed, not prime.
Hmm, what about 1? By definition 1 is not a prime number.
So counting the primes below 30 gives 10 prime numbers.
That should be the answer."""


def test_sentences_end_at_punctuation_before_space_and_at_line_breaks() -> None:
    assert sentences("One. Two!\n- three\n\n  Four? e.g.x five") == [
        "One.",
        "Two!",
        "- three",
        "Four?",
        "e.g.x five",
    ]
    assert sentences("  \n ") == []


def test_keeps_the_sentences_about_what_the_reasoning_returns_to_in_order() -> None:
    # Not the first sentences: the opening and the asides (21, 27) weigh least.
    assert summarise(PRIMES, 2) == (
        "By definition 1 is not a prime number. So counting the primes below 30 gives 10 prime "
        "numbers." + MARKER.format(kept=2, total=9)
    )
    assert summarise(PRIMES, 3) == (
        "First, recall that a prime number has exactly two divisors. By definition 1 is not a "
        "prime number. So counting the primes below 30 gives 10 prime numbers."
        + MARKER.format(kept=3, total=9)
    )


def test_short_texts_are_unchanged_and_ties_go_to_the_earlier_sentence() -> None:
    assert summarise("One sentence only.", 2) == "One sentence only."
    assert summarise("Alpha one. Beta two. Gamma six.", 3) == "Alpha one. Beta two. Gamma six."
    assert summarise("Alpha. Beta. Gamma.", 1) == "Alpha." + MARKER.format(kept=1, total=3)


def test_keep_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        summarise(PRIMES, 0)
