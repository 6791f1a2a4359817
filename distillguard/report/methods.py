"""Extraction methods seen in requests, for reports and the console.

The text methods are the detector's own per-request intent classifiers
(:mod:`distillguard.detect.features.intent`: chain-of-thought elicitation, system-prompt
extraction, rubric grading, synthetic-dataset generation), run on the same masked prompt the
detector uses, so a report counts exactly what detection saw. Two more come from the request's
parameters: tool definitions sent (agentic / tool-use traces) and log-probability or logit-bias
probing. Alongside, :func:`method_columns` returns each request's template fingerprint
(:func:`distillguard.detect.features.template.fingerprint`), which STIX export shares.

A method says what a request *asks for*, not whether its account is malicious.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from distillguard.detect.features.intent import INTENTS, intents
from distillguard.detect.features.template import mask, text_hash

PARAM_METHODS = ("tool_use", "logit_probing")
METHOD_NAMES: tuple[str, ...] = (*INTENTS, *PARAM_METHODS)
LABELS = {
    "cot_elicitation": "chain-of-thought elicitation",
    "system_prompt_extraction": "system-prompt extraction",
    "rubric_grading": "rubric grading (model used as a reward model)",
    "synthetic_dataset": "synthetic training-data generation",
    "tool_use": "tool-use and agent traces",
    "logit_probing": "log-probability and logit-bias probing",
}


def label(name: str) -> str:
    """Words for a method in a report; unknown names are shown as they are."""
    return LABELS.get(name, name.replace("_", " "))


def _params_probe(logprobs: Any, top_logprobs: Any, logit_bias: Any) -> bool:
    return bool(logprobs) or (top_logprobs or 0) > 0 or (logit_bias or 0) > 0


def method_columns(table: pa.Table) -> dict[str, pa.Array]:
    """Per-request columns for a batch of ``logs.reader.REQUEST_SCHEMA``.

    Returns ``template`` (int64 fingerprint of the masked last user message, 0 when empty) and
    one boolean ``m_<method>`` column per name in :data:`METHOD_NAMES`.
    """
    prompts = table.column("prompt").to_pylist()
    tools = table.column("tools").to_pylist()
    logprobs = table.column("logprobs").to_pylist()
    top = table.column("top_logprobs").to_pylist()
    bias = table.column("logit_bias_size").to_pylist()
    templates: list[int] = []
    bits: list[int] = []
    cache: dict[str, tuple[int, int]] = {}
    for prompt in prompts:
        text = prompt or ""
        known = cache.get(text)
        if known is None:
            masked = mask(text)
            known = (text_hash(masked), intents(masked))
            if len(cache) < 100_000:
                cache[text] = known
        templates.append(known[0])
        bits.append(known[1])
    out: dict[str, pa.Array] = {"template": pa.array(templates, pa.int64())}
    for bit, name in enumerate(INTENTS):
        out[f"m_{name}"] = pa.array([bool(b & (1 << bit)) for b in bits], pa.bool_())
    out["m_tool_use"] = pa.array([(t or 0) > 0 for t in tools], pa.bool_())
    out["m_logit_probing"] = pa.array(
        [_params_probe(a, b, c) for a, b, c in zip(logprobs, top, bias, strict=True)], pa.bool_()
    )
    return out


def classify(prompt: str, params: dict[str, Any] | None = None) -> set[str]:
    """The methods one request shows (the same rules as :func:`method_columns`)."""
    bits = intents(mask(prompt))
    found = {name for bit, name in enumerate(INTENTS) if bits & (1 << bit)}
    params = params or {}
    if (params.get("tools") or 0) > 0:
        found.add("tool_use")
    if _params_probe(
        params.get("logprobs"), params.get("top_logprobs"), params.get("logit_bias_size")
    ):
        found.add("logit_probing")
    return found
