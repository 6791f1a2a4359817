"""Reading token usage and the completion text out of upstream responses, streamed or not.

A :class:`UsageMeter` is fed either a whole JSON body (:meth:`~UsageMeter.read_body`) or the
``data:`` payloads of server-sent events one at a time (:meth:`~UsageMeter.read_event`). It
knows the shapes of the four generating APIs: OpenAI chat completions (final ``usage`` chunk
when ``stream_options.include_usage`` is on), completions, responses (``response.completed``)
and Anthropic messages (``message_start`` and ``message_delta`` usage). Text is kept only up to
``text_limit`` characters (0 keeps none), since the request log may not need it.
"""

from __future__ import annotations

from typing import Any

import orjson

from distillguard.gateway.routes import Kind


class UsageMeter:
    """Accumulates usage and completion text for one response."""

    __slots__ = ("_parts", "_room", "input_tokens", "kind", "output_tokens", "reasoning_tokens")

    def __init__(self, kind: Kind, text_limit: int) -> None:
        self.kind = kind
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.reasoning_tokens: int | None = None
        self._parts: list[str] = []
        self._room = text_limit

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def _add_text(self, text: Any) -> None:
        if self._room > 0 and isinstance(text, str) and text:
            piece = text[: self._room]
            self._parts.append(piece)
            self._room -= len(piece)

    def _usage(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        if self.kind in ("chat", "completions"):
            inp, out = usage.get("prompt_tokens"), usage.get("completion_tokens")
            details = usage.get("completion_tokens_details")
        else:
            inp, out = usage.get("input_tokens"), usage.get("output_tokens")
            details = usage.get("output_tokens_details")
            if self.kind == "messages" and isinstance(inp, int):
                for extra in ("cache_creation_input_tokens", "cache_read_input_tokens"):
                    value = usage.get(extra)
                    if isinstance(value, int):
                        inp += value
        if isinstance(inp, int):
            self.input_tokens = inp
        if isinstance(out, int):
            self.output_tokens = out
        if isinstance(details, dict) and isinstance(details.get("reasoning_tokens"), int):
            self.reasoning_tokens = details["reasoning_tokens"]

    def read_body(self, body: bytes) -> None:
        """Read a complete (non-streamed) JSON response; bad JSON is ignored."""
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return
        if not isinstance(data, dict):
            return
        self._usage(data.get("usage"))
        if self._room <= 0:
            return
        kind = self.kind
        if kind == "chat" or kind == "completions":
            for choice in data.get("choices") or ():
                if isinstance(choice, dict):
                    message = choice.get("message")
                    if isinstance(message, dict):
                        self._add_text(message.get("content"))
                    else:
                        self._add_text(choice.get("text"))
        elif kind == "messages":
            for block in data.get("content") or ():
                if isinstance(block, dict) and block.get("type") == "text":
                    self._add_text(block.get("text"))
        elif kind == "responses":
            self._response_text(data)

    def _response_text(self, data: dict[str, Any]) -> None:
        for item in data.get("output") or ():
            if isinstance(item, dict) and item.get("type") == "message":
                for part in item.get("content") or ():
                    if isinstance(part, dict) and part.get("type") == "output_text":
                        self._add_text(part.get("text"))

    def read_event(self, data: bytes) -> bool:
        """Read one SSE ``data:`` payload; return True when the event only carries usage that
        the client did not ask for (an OpenAI usage chunk with no choices)."""
        if data == b"[DONE]" or not data:
            return False
        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError:
            return False
        if not isinstance(event, dict):
            return False
        kind = self.kind
        if kind == "chat" or kind == "completions":
            choices = event.get("choices")
            if choices and self._room > 0:
                for choice in choices:
                    delta = choice.get("delta") if isinstance(choice, dict) else None
                    if isinstance(delta, dict):
                        self._add_text(delta.get("content"))
                    elif isinstance(choice, dict):
                        self._add_text(choice.get("text"))
            usage = event.get("usage")
            if usage:
                self._usage(usage)
                return not choices
            return False
        if kind == "messages":
            kind_of = event.get("type")
            if kind_of == "content_block_delta":
                delta = event.get("delta")
                if isinstance(delta, dict):
                    self._add_text(delta.get("text"))
            elif kind_of == "message_start":
                message = event.get("message")
                if isinstance(message, dict):
                    self._usage(message.get("usage"))
            elif kind_of == "message_delta":
                usage = event.get("usage")
                if isinstance(usage, dict) and isinstance(usage.get("output_tokens"), int):
                    self.output_tokens = usage["output_tokens"]
                    if isinstance(usage.get("input_tokens"), int):
                        self._usage(usage)
            return False
        if kind == "responses":
            kind_of = event.get("type")
            if kind_of == "response.output_text.delta":
                self._add_text(event.get("delta"))
            elif kind_of in ("response.completed", "response.incomplete"):
                response = event.get("response")
                if isinstance(response, dict):
                    self._usage(response.get("usage"))
        return False
