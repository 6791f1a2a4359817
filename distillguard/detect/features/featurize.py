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
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from distillguard.detect.features.domain import DOMAINS, KEYWORDS, domain_index
from distillguard.detect.features.intent import TRIGGER_WORDS, intent_names, text_intents
from distillguard.detect.features.lsh import band_keys
from distillguard.detect.features.minhash import MinHasher
from distillguard.detect.features.normalize import words_of
from distillguard.detect.features.template import mask, text_hash

PROMPT_CAP = 4096
# Domains and intents only look at these words; intersecting with them is cheaper than
# building the set of all the words of a prompt.
_KNOWN_WORDS = KEYWORDS | TRIGGER_WORDS


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
    words = _KNOWN_WORDS.intersection(words_of(prompt))
    bits = text_intents(prompt, words)
    if system:
        system = system[:PROMPT_CAP]
        bits |= text_intents(system, _KNOWN_WORDS.intersection(words_of(system)))
    return RequestFeatures(
        template=text_hash(mask(prompt)),
        system=text_hash(system),
        intents=bits,
        domain=DOMAINS[domain_index(words, tools)],
        single_turn=users <= 1,
    )


class BatchFeaturizer:
    """Adds content feature columns to request batches.

    Added columns: ``template`` (int64), ``system_hash`` (int64), ``intents`` (int8),
    ``domain`` (int8, index into ``DOMAINS``) and ``lsh_0 .. lsh_{bands-1}`` (int64 LSH keys of
    the masked prompt; 0 when the prompt is empty). The text columns ``prompt`` and ``system``
    are dropped so batches stay small.

    Each distinct prompt and system prompt of a batch is featurised once (benchmark items,
    fixed templates and retries repeat), and MinHash signatures of all of them are computed
    together, vectorised.
    """

    def __init__(self, num_perm: int = 32, bands: int = 2, rows: int = 3, seed: int = 1) -> None:
        self.hasher = MinHasher(num_perm=num_perm, seed=seed)
        self.bands = bands
        self.rows = rows

    def __call__(self, table: pa.Table) -> pa.Table:
        n = table.num_rows
        prompt_ids, prompts = _distinct(table.column("prompt"), n)
        system_ids, systems = _distinct(table.column("system"), n)
        masked: list[str] = []
        templates: list[int] = []
        prompt_bits: list[int] = []
        domains: list[int] = []
        for prompt in prompts:
            prompt = prompt[:PROMPT_CAP]
            text = mask(prompt)
            words = _KNOWN_WORDS.intersection(words_of(prompt))
            masked.append(text)
            templates.append(text_hash(text))
            prompt_bits.append(text_intents(prompt, words))
            domains.append(domain_index(words, 0))
        system_hashes: list[int] = []
        system_bits: list[int] = []
        for system in systems:
            system = system[:PROMPT_CAP]
            system_hashes.append(text_hash(system))
            system_bits.append(text_intents(system, _KNOWN_WORDS.intersection(words_of(system))))
        keys = band_keys(self.hasher.signatures(masked), self.bands, self.rows)[prompt_ids]
        tools = pc.fill_null(table.column("tools"), 0).to_numpy()
        domain = np.asarray(domains, dtype=np.int8)[prompt_ids]
        domain[tools != 0] = DOMAINS.index("agentic")
        bits = np.asarray(prompt_bits, dtype=np.int8)[prompt_ids]
        bits |= np.asarray(system_bits, dtype=np.int8)[system_ids]
        table = table.drop_columns(["prompt", "system"])
        table = table.append_column(
            "template", pa.array(np.asarray(templates, dtype=np.int64)[prompt_ids])
        )
        table = table.append_column(
            "system_hash", pa.array(np.asarray(system_hashes, dtype=np.int64)[system_ids])
        )
        table = table.append_column("intents", pa.array(bits))
        table = table.append_column("domain", pa.array(domain))
        for band in range(self.bands):
            table = table.append_column(f"lsh_{band}", pa.array(keys[:, band]))
        return table


def _distinct(column: pa.ChunkedArray, n: int) -> tuple[npt.NDArray[np.int64], list[str]]:
    """Each row's index into the column's distinct values (null counts as ""), and those values."""
    index: dict[str, int] = {}
    ids = np.fromiter(
        (index.setdefault(value or "", len(index)) for value in column.to_pylist()),
        dtype=np.int64,
        count=n,
    )
    return ids, list(index)
