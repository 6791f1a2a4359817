"""Response-side output controls: reasoning exposure and logprobs, whole or streamed.

:func:`filter_response` edits a parsed non-streamed response body; :class:`StreamFilter` edits the
parsed ``data`` objects of a server-sent event stream one by one, keeping the little state a
stream needs (how much reasoning was already shown, which blocks were removed so later indexes
can be renumbered for the SDKs' accumulators).

Reasoning exposure:

- ``full``: unchanged;
- ``summarised``: each reasoning text is replaced by its extractive summary
  (:func:`~distillguard.enforce.summary.summarise`: its ``summary_sentences`` most central
  sentences and a marker). A stream's reasoning deltas are held back until the reasoning ends
  (the first answer delta or finish of an OpenAI chat choice, the ``signature_delta`` or
  ``content_block_stop`` of an Anthropic thinking block, the ``.done`` event of a Responses
  reasoning part) and then sent as one delta, so streamed and whole responses give the same text.
  Anthropic ``signature`` fields are kept as sent, so echoing a summarised thinking block back to
  an upstream that verifies signatures will be rejected;
- ``none``: OpenAI ``reasoning_content``/``reasoning`` fields and Responses ``reasoning`` items,
  and Anthropic ``thinking``/``redacted_thinking`` blocks, are removed.

Logprobs are removed (``logprobs: null``, or an empty list in the Responses API) unless the
controls allow them, and rounded when ``logprob_decimals`` is set.
"""

from __future__ import annotations

from typing import Any

from distillguard.enforce.output import Logprobs, OutputControls, Reasoning
from distillguard.enforce.summary import summarise

_OPENAI_REASONING_KEYS = ("reasoning_content", "reasoning")
_ANTHROPIC_THINKING = ("thinking", "redacted_thinking")
# Members as module constants: on Python 3.11 ``Reasoning.NONE`` goes through
# ``EnumType.__getattr__``, several times slower than a global, and this runs per event.
_FULL = Reasoning.FULL
_SUMMARISED = Reasoning.SUMMARISED
_NONE = Reasoning.NONE
_ALLOW = Logprobs.ALLOW
# What ends the reasoning of an OpenAI chat choice: any of these in its delta, or a finish.
_ANSWER_KEYS = ("content", "tool_calls", "function_call", "refusal")


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
            holder[key] = summarise(text, c.summary_sentences)


def _reasoning_item(item: dict[str, Any], c: OutputControls) -> dict[str, Any]:
    # Each summary or content part is summarised on its own, as the streamed events carry them.
    out = {k: v for k, v in item.items() if k != "encrypted_content"}
    for key in ("summary", "content"):
        parts = item.get(key)
        if isinstance(parts, list):
            out[key] = [
                {**p, "text": summarise(p["text"], c.summary_sentences)}
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
                block = {**block, "thinking": summarise(block["thinking"], c.summary_sentences)}
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


def _thinking_delta(last: dict[str, Any], summary: str) -> dict[str, Any]:
    return {**last, "delta": {**last["delta"], "thinking": summary}}


class StreamFilter:
    """Filters the parsed ``data`` objects of one streamed response, in order.

    ``feed`` returns the events to send in place of the one given: usually ``[event]``, ``[]``
    when the event only carried withheld or held-back content, two events when held-back
    reasoning is released as its summary. ``finish`` releases what is still held when the stream
    ends. Indexes of Anthropic content blocks and Responses output items are renumbered when
    blocks are withheld, as the SDKs require.
    """

    def __init__(self, endpoint: str, controls: OutputControls) -> None:
        self.endpoint = endpoint
        self.controls = controls
        # reasoning held back, per key: the pieces so far and the last event that carried one
        self._held: dict[Any, tuple[list[str], dict[str, Any]]] = {}
        self._dropped: set[int] = set()  # upstream indexes withheld so far

    def _hold(self, key: Any, text: str, event: dict[str, Any]) -> None:
        pieces = self._held[key][0] if key in self._held else []
        pieces.append(text)
        self._held[key] = (pieces, event)

    def _release(self, key: Any) -> tuple[str, dict[str, Any]] | None:
        """The summary of what ``key`` held and the last event that carried it, or None."""
        held = self._held.pop(key, None)
        return None if held is None else self._summary_of(held)

    def _summary_of(self, held: tuple[list[str], dict[str, Any]]) -> tuple[str, dict[str, Any]]:
        return summarise("".join(held[0]), self.controls.summary_sentences), held[1]

    def _shift(self, index: int) -> int:
        return index - sum(1 for d in self._dropped if d < index)

    def feed(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        if self.endpoint == "anthropic.messages":
            return self._anthropic(event)
        if self.endpoint == "openai.responses":
            return self._responses(event)
        return self._openai_chunk(event)

    def finish(self) -> list[dict[str, Any]]:
        """Events for reasoning still held when the stream ends (one per held text)."""
        if self.endpoint == "openai.responses":
            return self._released_deltas(list(self._held))
        out = []
        for key in list(self._held):
            summary, last = self._summary_of(self._held.pop(key))
            if self.endpoint == "anthropic.messages":
                out.append(_thinking_delta(last, summary))
            else:
                index, field = key
                choice = {"index": index, "delta": {field: summary}, "finish_reason": None}
                out.append({**last, "choices": [choice]})
        return out

    def _openai_chunk(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        c = self.controls
        for choice in event.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            _strip_logprobs(choice, "logprobs", c, None)
            delta = choice.get("delta")
            if c.reasoning is _FULL or not isinstance(delta, dict):
                continue
            index = choice.get("index", 0)
            for key in _OPENAI_REASONING_KEYS:
                text = delta.get(key)
                if not isinstance(text, str):
                    continue
                del delta[key]
                if c.reasoning is _SUMMARISED:
                    self._hold((index, key), text, event)
            if c.reasoning is _SUMMARISED and (
                choice.get("finish_reason") is not None or any(delta.get(k) for k in _ANSWER_KEYS)
            ):
                for key in _OPENAI_REASONING_KEYS:
                    released = self._release((index, key))
                    if released is not None:
                        delta[key] = released[0]
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
            self._hold(index, delta["thinking"], event)
            return []
        released = self._release(index)
        if released is None:
            return [event]
        return [_thinking_delta(released[1], released[0]), event]

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
            return self._responses_reasoning(event, kind)
        if self._held and (kind == "response.output_item.done" or "response" in event):
            # a part whose .done never came: release it before its item (or the response) ends
            done = item.get("id") if kind == "response.output_item.done" and item else None
            keys = [k for k in self._held if done is None or k[0] == done]
            return [*self._released_deltas(keys), event]
        return [event]

    def _released_deltas(self, keys: list[Any]) -> list[dict[str, Any]]:
        out = []
        for key in keys:
            released = self._release(key)
            if released is not None:
                out.append({**released[1], "delta": released[0]})
        return out

    def _responses_reasoning(self, event: dict[str, Any], kind: str) -> list[dict[str, Any]]:
        sentences = self.controls.summary_sentences
        key = (
            event.get("item_id"),
            kind.split(".")[1],
            event.get("summary_index", event.get("content_index")),
        )
        if kind.endswith(".delta") and isinstance(event.get("delta"), str):
            self._hold(key, event["delta"], event)
            return []
        part = event.get("part")
        if isinstance(part, dict) and isinstance(part.get("text"), str):
            event["part"] = {**part, "text": summarise(part["text"], sentences)}
        if not kind.endswith(".done"):
            return [event]
        if isinstance(event.get("text"), str):
            event["text"] = summarise(event["text"], sentences)
        return [*self._released_deltas([key]), event]
