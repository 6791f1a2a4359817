"""The per-request featuriser: one request in (gateway), or a batch of requests (detection).

:func:`featurize` takes a request's messages and returns :class:`RequestFeatures` in a few
microseconds, for the gateway's hot path. :class:`BatchFeaturizer` does the same for a whole
``pyarrow`` batch from :func:`distillguard.logs.reader.request_batches` and adds MinHash LSH
keys, vectorised. With content logging off (empty prompts) every feature is still defined:
fingerprints are 0, intents are none and the domain is ``other`` (``agentic`` with tools).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from distillguard.detect.features.domain import DOMAINS, domain_index, words_of
from distillguard.detect.features.intent import intent_names, intents
from distillguard.detect.features.lsh import band_keys
from distillguard.detect.features.minhash import MinHasher
from distillguard.detect.features.normalize import normalize
from distillguard.detect.features.template import mask, text_hash

PROMPT_CAP = 4096


@dataclass(frozen=True, slots=True)
class RequestFeatures:
    """Content features of one request.

    ``template`` is the fingerprint of the last user message with slot values masked;
    ``system`` is the hash of the system prompt (0 if none); ``intents`` a bit mask over
    :data:`~distillguard.detect.features.intent.INTENTS` found in the last user message or
    the system prompt; ``domain`` a name from
    :data:`~distillguard.detect.features.domain.DOMAINS`.
    """

    template: int
    system: int
    intents: int
    domain: str
    single_turn: bool

    @property
    def intent_names(self) -> list[str]:
        """Names of the matched intents."""
        return intent_names(self.intents)


def featurize(messages: Sequence[Mapping[str, str]], *, tools: int = 0) -> RequestFeatures:
    """Features of one request given its ``messages`` (``[{"role", "content"}, ...]``).

    >>> f = featurize([{"role": "user", "content": "Explain step by step why 17 is prime."}])
    >>> f.domain, f.intent_names, f.single_turn
    ('math', ['cot_elicitation'], True)
    """
    prompt = ""
    system = ""
    users = 0
    for message in messages:
        role = message.get("role")
        if role == "user":
            users += 1
            prompt = message.get("content") or ""
        elif role == "system" and not system:
            system = message.get("content") or ""
    prompt = prompt[:PROMPT_CAP]
    system = system[:PROMPT_CAP]
    normalized = normalize(prompt)
    words = set(words_of(normalized))
    system_intents = intents(normalize(system)) if system else 0
    return RequestFeatures(
        template=text_hash(mask(prompt)),
        system=text_hash(system),
        intents=intents(normalized, words) | system_intents,
        domain=DOMAINS[domain_index(words, tools)],
        single_turn=users <= 1,
    )


class BatchFeaturizer:
    """Adds content feature columns to request batches.

    Added columns: ``template`` (int64), ``system_hash`` (int64), ``intents`` (int8),
    ``domain`` (int8, index into ``DOMAINS``) and ``lsh_0 .. lsh_{bands-1}`` (int64 LSH keys of
    the masked prompt; 0 when the prompt is empty). The text columns ``prompt`` and ``system``
    are dropped so batches stay small.
    """

    def __init__(self, num_perm: int = 32, bands: int = 2, rows: int = 3, seed: int = 1) -> None:
        self.hasher = MinHasher(num_perm=num_perm, seed=seed)
        self.bands = bands
        self.rows = rows

    def __call__(self, table: pa.Table) -> pa.Table:
        prompts = table.column("prompt").to_pylist()
        systems = table.column("system").to_pylist()
        tools = table.column("tools").to_pylist()
        n = len(prompts)
        templates = np.zeros(n, dtype=np.int64)
        system_hashes = np.zeros(n, dtype=np.int64)
        intent_bits = np.zeros(n, dtype=np.int8)
        domains = np.zeros(n, dtype=np.int8)
        documents: list[list[str]] = []
        system_cache: dict[str, tuple[int, int]] = {}
        # Repeated prompts (benchmark items, fixed templates, retries) are featurised once.
        seen: dict[str, tuple[list[str], int, int, int]] = {}
        for i in range(n):
            prompt = prompts[i] or ""
            tool_count = tools[i] or 0
            known_prompt = seen.get(prompt)
            if known_prompt is None:
                masked = mask(prompt)
                normalized = normalize(prompt)
                words = set(words_of(normalized))
                known_prompt = (
                    words_of(masked),
                    text_hash(masked),
                    intents(normalized, words),
                    domain_index(words, 0),
                )
                if len(seen) < 200_000:
                    seen[prompt] = known_prompt
            documents.append(known_prompt[0])
            templates[i] = known_prompt[1]
            bits = known_prompt[2]
            domains[i] = 4 if tool_count else known_prompt[3]
            system = systems[i]
            if system:
                known = system_cache.get(system)
                if known is None:
                    known = system_cache[system] = (text_hash(system), intents(normalize(system)))
                system_hashes[i] = known[0]
                bits |= known[1]
            intent_bits[i] = bits
        hashes, offsets = self.hasher.shingles(documents)
        keys = band_keys(
            self.hasher.signatures_from_shingles(hashes, offsets), self.bands, self.rows
        )
        table = table.drop_columns(["prompt", "system"])
        table = table.append_column("template", pa.array(templates))
        table = table.append_column("system_hash", pa.array(system_hashes))
        table = table.append_column("intents", pa.array(intent_bits))
        table = table.append_column("domain", pa.array(domains))
        for band in range(self.bands):
            table = table.append_column(f"lsh_{band}", pa.array(keys[:, band]))
        return table
