"""Deterministic answers and token counts for the mock upstream.

The same prompt always gets the same answer: words are drawn from a fixed vocabulary by a hash
of the request's text, so tests can compare results across runs and through the gateway.
Input tokens are counted as one per 4 characters of message text (rounded up), output tokens
as one per word; an answer stops at ``max_tokens`` words with ``finish_reason`` ``length``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

VOCABULARY = [
    "the",
    "model",
    "answers",
    "with",
    "a",
    "short",
    "deterministic",
    "sentence",
    "about",
    "distillation",
    "gateways",
    "rate",
    "limits",
    "tokens",
    "accounts",
    "keys",
    "tiers",
    "requests",
    "streams",
    "latency",
    "protection",
    "campaigns",
    "signals",
    "logs",
    "detectors",
    "proxies",
    "networks",
    "fingerprints",
    "evidence",
    "clusters",
    "budgets",
    "quotas",
    "windows",
    "buckets",
    "headers",
    "retries",
    "errors",
    "upstream",
    "downstream",
    "samples",
    "features",
    "minhash",
    "graphs",
]
DEFAULT_WORDS = 12


@dataclass(frozen=True, slots=True)
class Answer:
    """One generated answer."""

    words: tuple[str, ...]
    input_tokens: int
    truncated: bool  # stopped by max_tokens

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def output_tokens(self) -> int:
        return len(self.words)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            part.get("text", "") if isinstance(part, dict) else str(part) for part in content
        )
    return ""


def prompt_text(body: dict[str, Any]) -> str:
    """All message text of a request body, whatever its API shape."""
    pieces: list[str] = []
    for name in ("system", "instructions"):
        if name in body:
            pieces.append(_content_text(body[name]))
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        pieces.append(prompt)
    elif isinstance(prompt, list):
        pieces.extend(p for p in prompt if isinstance(p, str))
    given = body.get("input")
    if isinstance(given, str):
        pieces.append(given)
    messages = body.get("messages") if isinstance(body.get("messages"), list) else given
    if isinstance(messages, list):
        for message in messages:
            if isinstance(message, dict):
                pieces.append(_content_text(message.get("content")))
    return "\n".join(pieces)


def count_tokens(text: str) -> int:
    return (len(text) + 3) // 4


def answer(body: dict[str, Any], *, words: int = DEFAULT_WORDS) -> Answer:
    """The deterministic answer to a request body."""
    text = prompt_text(body)
    limit = body.get("max_tokens")
    if limit is None:
        limit = body.get("max_completion_tokens", body.get("max_output_tokens"))
    wanted = words
    truncated = False
    if isinstance(limit, int) and not isinstance(limit, bool) and limit < wanted:
        wanted, truncated = max(limit, 0), True
    digest = hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=32).digest()
    size = len(VOCABULARY)
    chosen = tuple(VOCABULARY[digest[i % 32] % size] for i in range(wanted))
    return Answer(chosen, count_tokens(text), truncated)
