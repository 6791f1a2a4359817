"""Response-side output controls: reasoning exposure and logprobs, whole or streamed.

:func:`filter_response` edits a parsed non-streamed response body; :class:`StreamFilter` edits the
parsed ``data`` objects of a server-sent event stream one by one, keeping the little state a
stream needs (how much reasoning was already shown, which blocks were removed so later indexes
can be renumbered for the SDKs' accumulators).

Reasoning exposure:

- ``full``: unchanged;
- ``summarised``: **not a model-written summary**. It is a deterministic truncation of each
  reasoning text to its first N sentences (a sentence ends at ``.``, ``!`` or ``?`` followed by
  white space), followed by :data:`MARKER`. Streamed and whole responses give the same text.
  Anthropic ``signature`` fields are kept as sent, so echoing a truncated thinking block back to
  an upstream that verifies signatures will be rejected;
- ``none``: OpenAI ``reasoning_content``/``reasoning`` fields and Responses ``reasoning`` items,
  and Anthropic ``thinking``/``redacted_thinking`` blocks, are removed.

Logprobs are removed (``logprobs: null``, or an empty list in the Responses API) unless the
controls allow them, and rounded when ``logprob_decimals`` is set.
"""

from __future__ import annotations

from typing import Any

from distillguard.enforce.output import Logprobs, OutputControls, Reasoning

MARKER = " [reasoning truncated by distillguard]"
_ENDS = frozenset(".!?")
_OPENAI_REASONING_KEYS = ("reasoning_content", "reasoning")
_ANTHROPIC_THINKING = ("thinking", "redacted_thinking")
# Members as module constants: on Python 3.11 ``Reasoning.NONE`` goes through
# ``EnumType.__getattr__``, several times slower than a global, and this runs per event.
_FULL = Reasoning.FULL
_SUMMARISED = Reasoning.SUMMARISED
_NONE = Reasoning.NONE
_ALLOW = Logprobs.ALLOW


class Truncator:
    """Keeps the first ``sentences`` sentences of a text fed in pieces, then the marker."""

    __slots__ = ("_after_end", "_count", "done", "sentences")

    def __init__(self, sentences: int) -> None:
        self.sentences = sentences
        self._count = 0
        self._after_end = False  # the previous piece ended with a sentence end
        self.done = False

    def feed(self, text: str) -> str:
        if self.done:
            return ""
        for i, char in enumerate(text):
            if self._after_end and char.isspace():
                self._count += 1
                if self._count >= self.sentences:
                    self.done = True
                    return text[:i] + MARKER
            self._after_end = char in _ENDS
        return text


def truncate(text: str, sentences: int) -> str:
    """The ``summarised`` form of a whole reasoning text."""
    return Truncator(sentences).feed(text)


def _strip_logprobs(holder: dict[str, Any], key: str, c: OutputControls, empty: Any) -> None:
    value = holder.get(key)
    if value is None:
        return
    if c.logprobs is not _ALLOW:
        holder[key] = empty
    elif c.logprob_decimals is not None or c.max_top_logprobs is not None:
        holder[key] = _coarsen(value, c)


def _coarsen(value: Any, c: OutputControls) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if k == "logprob" and isinstance(v, float) and c.logprob_decimals is not None:
                out[k] = round(v, c.logprob_decimals)
            elif k == "top_logprobs" and isinstance(v, list) and c.max_top_logprobs is not None:
                out[k] = [_coarsen(x, c) for x in v[: c.max_top_logprobs]]
            else:
                out[k] = _coarsen(v, c)
        return out
    if isinstance(value, list):
        return [_coarsen(v, c) for v in value]
    if isinstance(value, float) and c.logprob_decimals is not None:
        return round(value, c.logprob_decimals)  # completions' token_logprobs
    return value


def _reasoning_field(holder: dict[str, Any], c: OutputControls) -> None:
    for key in _OPENAI_REASONING_KEYS:
        text = holder.get(key)
        if not isinstance(text, str):
            continue
        if c.reasoning is _NONE:
            del holder[key]
        else:
            holder[key] = truncate(text, c.summary_sentences)


def _reasoning_item(item: dict[str, Any], c: OutputControls) -> dict[str, Any]:
    # Each summary or content part is truncated on its own, as the streamed events carry them.
    out = {k: v for k, v in item.items() if k != "encrypted_content"}
    for key in ("summary", "content"):
        parts = item.get(key)
        if isinstance(parts, list):
            out[key] = [
                {**p, "text": truncate(p["text"], c.summary_sentences)}
                if isinstance(p.get("text"), str)
                else p
                for p in parts
                if isinstance(p, dict)
            ]
    return out


def filter_response(
    endpoint: str, body: dict[str, Any], controls: OutputControls
) -> dict[str, Any]:
    """Apply ``controls`` to a non-streamed response body (edited in place and returned)."""
    full = controls.reasoning is _FULL
    if endpoint == "anthropic.messages":
        content = body.get("content")
        if not full and isinstance(content, list):
            body["content"] = _anthropic_blocks(content, controls)
        return body
    if endpoint == "openai.responses":
        output = body.get("output")
        if isinstance(output, list):
            body["output"] = _responses_output(output, controls)
        return body
    for choice in body.get("choices") or ():
        if not isinstance(choice, dict):
            continue
        _strip_logprobs(choice, "logprobs", controls, None)
        message = choice.get("message")
        if not full and isinstance(message, dict):
            _reasoning_field(message, controls)
    return body


def _anthropic_blocks(content: list[Any], c: OutputControls) -> list[Any]:
    out = []
    for block in content:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind in _ANTHROPIC_THINKING:
            if c.reasoning is _NONE:
                continue
            if kind == "thinking" and isinstance(block.get("thinking"), str):
                block = {**block, "thinking": truncate(block["thinking"], c.summary_sentences)}
        out.append(block)
    return out


def _responses_output(output: list[Any], c: OutputControls) -> list[Any]:
    out = []
    for item in output:
        if not isinstance(item, dict):
            out.append(item)
            continue
        if item.get("type") == "reasoning" and c.reasoning is not _FULL:
            if c.reasoning is _NONE:
                continue
            item = _reasoning_item(item, c)
        for part in item.get("content") or ():
            if isinstance(part, dict):
                _strip_logprobs(part, "logprobs", c, [])
        out.append(item)
    return out


class StreamFilter:
    """Filters the parsed ``data`` objects of one streamed response, in order.

    ``feed`` returns the events to send in place of the one given: usually ``[event]``, ``[]``
    when the event only carried withheld content. Indexes of Anthropic content blocks and
    Responses output items are renumbered when blocks are withheld, as the SDKs require.
    """

    def __init__(self, endpoint: str, controls: OutputControls) -> None:
        self.endpoint = endpoint
        self.controls = controls
        self._truncators: dict[Any, Truncator] = {}
        self._dropped: set[int] = set()  # upstream indexes withheld so far

    def _truncator(self, key: Any) -> Truncator:
        found = self._truncators.get(key)
        if found is None:
            found = self._truncators[key] = Truncator(self.controls.summary_sentences)
        return found

    def _shift(self, index: int) -> int:
        return index - sum(1 for d in self._dropped if d < index)

    def feed(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        if self.endpoint == "anthropic.messages":
            return self._anthropic(event)
        if self.endpoint == "openai.responses":
            return self._responses(event)
        return self._openai_chunk(event)

    def _openai_chunk(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        c = self.controls
        for choice in event.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            _strip_logprobs(choice, "logprobs", c, None)
            delta = choice.get("delta")
            if c.reasoning is _FULL or not isinstance(delta, dict):
                continue
            for key in _OPENAI_REASONING_KEYS:
                text = delta.get(key)
                if not isinstance(text, str):
                    continue
                if c.reasoning is _NONE:
                    del delta[key]
                    continue
                kept = self._truncator((choice.get("index", 0), key)).feed(text)
                if kept:
                    delta[key] = kept
                else:
                    del delta[key]
        return [event]

    def _anthropic(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        c = self.controls
        kind = event.get("type")
        if c.reasoning is _FULL or kind not in (
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
        ):
            if kind == "message_start" and isinstance(event.get("message"), dict):
                filter_response(self.endpoint, event["message"], c)
            return [event]
        index = event.get("index")
        if not isinstance(index, int):
            return [event]
        if kind == "content_block_start":
            block = event.get("content_block") or {}
            if c.reasoning is _NONE and block.get("type") in _ANTHROPIC_THINKING:
                self._dropped.add(index)
        if index in self._dropped:
            return []
        event = {**event, "index": self._shift(index)}
        delta = event.get("delta")
        if (
            kind == "content_block_delta"
            and isinstance(delta, dict)
            and delta.get("type") == "thinking_delta"
            and isinstance(delta.get("thinking"), str)
        ):
            kept = self._truncator(index).feed(delta["thinking"])
            if not kept:
                return []
            event["delta"] = {**delta, "thinking": kept}
        return [event]

    def _responses(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        c = self.controls
        if isinstance(event.get("response"), dict):
            filter_response(self.endpoint, event["response"], c)
        kind = str(event.get("type", ""))
        index = event.get("output_index")
        item = event.get("item")
        if (
            kind == "response.output_item.added"
            and isinstance(item, dict)
            and isinstance(index, int)
            and item.get("type") == "reasoning"
            and c.reasoning is _NONE
        ):
            self._dropped.add(index)
        if isinstance(index, int):
            if index in self._dropped:
                return []
            event = {**event, "output_index": self._shift(index)}
        if isinstance(item, dict):
            kept_items = _responses_output([item], c)
            if not kept_items:
                return []
            event["item"] = kept_items[0]
        if "logprobs" in event:
            _strip_logprobs(event, "logprobs", c, [])
        if c.reasoning is _SUMMARISED and kind.startswith("response.reasoning"):
            key = (
                event.get("item_id"),
                kind.split(".")[1],
                event.get("summary_index", event.get("content_index")),
            )
            if kind.endswith(".delta") and isinstance(event.get("delta"), str):
                kept = self._truncator(key).feed(event["delta"])
                if not kept:
                    return []
                event["delta"] = kept
            elif kind.endswith(".done") and isinstance(event.get("text"), str):
                event["text"] = truncate(event["text"], c.summary_sentences)
            part = event.get("part")
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                event["part"] = {**part, "text": truncate(part["text"], c.summary_sentences)}
        return [event]
