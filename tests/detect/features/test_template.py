from __future__ import annotations

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
