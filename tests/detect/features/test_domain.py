from __future__ import annotations

from distillguard.detect.features.domain import DOMAINS, domain_index
from distillguard.detect.features.normalize import words_of


def _domain(text: str, tools: int = 0) -> str:
    return DOMAINS[domain_index(set(words_of(text.lower())), tools)]


def test_domains() -> None:
    assert _domain("Write a Python function that parses JSON.") == "coding"
    assert _domain("Solve the equation and calculate the integral") == "math"
    assert _domain("Plan a trip itinerary with a budget") == "planning"
    assert _domain("Write an essay and summarize it") == "writing"
    assert _domain("anything", tools=2) == "agentic"
    assert _domain("") == "other"
    assert _domain("zzz qqq") == "other"
