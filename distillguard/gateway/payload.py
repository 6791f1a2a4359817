"""Request bodies: type checks, the conversation normalised for the request log, and params.

:func:`parse_payload` reads what the gateway needs from a decoded JSON body, once: the model,
the messages as ``{role, content}`` text (non-text parts become markers such as ``[image]``), the
sampling parameters that were actually sent (dg.request.v1 ``params``), the text length used to
estimate input tokens before the call, and ``max_tokens`` for the output-token reservation.
A field of the wrong type is a 400 naming the field, as the providers do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from distillguard.gateway.errors import BadParam
from distillguard.gateway.routes import Route

ROLES = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "assistant",
    "tool": "tool",
    "function": "tool",
}
MARKERS = {
    "image": "[image]",
    "image_url": "[image]",
    "input_image": "[image]",
    "input_audio": "[audio]",
    "audio": "[audio]",
    "file": "[file]",
    "input_file": "[file]",
    "document": "[document]",
    "tool_use": "[tool_use]",
    "server_tool_use": "[tool_use]",
    "thinking": "[thinking]",
    "redacted_thinking": "[thinking]",
}
_TEXT_TYPES = {"text", "input_text", "output_text", "refusal"}
RESPONSE_FORMATS = {"text", "json_object", "json_schema"}


@dataclass(slots=True)
class Payload:
    """What the gateway took from a request body."""

    model: str = ""
    messages: list[dict[str, str]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    text_chars: int = 0
    max_tokens: int | None = None
    stream: bool = False

    def estimated_input_tokens(self) -> int:
        """A cheap, slightly generous estimate: 4 characters a token, 4 tokens per message."""
        return (self.text_chars + 3) // 4 + 4 * len(self.messages)


def _text(content: Any, where: str) -> str:
    """Text of a message content: a string, null, or a list of typed parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise BadParam(f"{where} must be a string or a list of content parts", param=where)
    pieces: list[str] = []
    for part in content:
        if isinstance(part, str):
            pieces.append(part)
            continue
        if not isinstance(part, dict):
            raise BadParam(f"{where} parts must be objects", param=where)
        kind = part.get("type")
        if kind in _TEXT_TYPES:
            text = part.get("text", part.get("refusal", ""))
            if not isinstance(text, str):
                raise BadParam(f"{where}: a text part needs a string 'text'", param=where)
            pieces.append(text)
        elif kind == "tool_result":
            pieces.append(_text(part.get("content"), where))
        else:
            pieces.append(MARKERS.get(str(kind), f"[{kind}]"))
    return "\n".join(pieces)


def _message(item: Any, name: str, index: int) -> dict[str, str]:
    if item.__class__ is dict:
        role = item.get("role", "user")
        content = item.get("content")
        # the common case: a plain text message
        if content.__class__ is str and content and role.__class__ is str and "type" not in item:
            return {"role": ROLES.get(role, "user"), "content": content}
    where = f"{name}[{index}]"
    if not isinstance(item, dict):
        raise BadParam(f"{where} must be an object with 'role' and 'content'", param=where)
    role = item.get("role", "user")
    if not isinstance(role, str):
        raise BadParam(f"{where}.role must be a string", param=f"{where}.role")
    if item.get("type") == "function_call_output":
        role, content = "tool", item.get("output")
    elif item.get("type") == "function_call":
        role, content = "assistant", "[tool_call]"
    else:
        content = item.get("content")
    text = _text(content, f"{where}.content")
    if not text and item.get("tool_calls"):
        text = "[tool_call]"
    return {"role": ROLES.get(role, "user"), "content": text}


def _messages(value: Any, name: str) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise BadParam(f"'{name}' must be a list of messages", param=name)
    return [_message(item, name, i) for i, item in enumerate(value)]


def _int(body: dict[str, Any], name: str, minimum: int = 0) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise BadParam(f"'{name}' must be an integer >= {minimum}", param=name)
    return value


def _number(body: dict[str, Any], name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadParam(f"'{name}' must be a number", param=name)
    return value


def _params(body: dict[str, Any], route: Route, payload: Payload) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if payload.max_tokens is not None:
        params["max_tokens"] = payload.max_tokens
    for name in ("temperature", "top_p"):
        number = _number(body, name)
        if number is not None:
            params[name] = number
    n = _int(body, "n", 1)
    if n is not None:
        params["n"] = n
    if "stream" in body:
        params["stream"] = payload.stream
    logprobs = body.get("logprobs")
    if route.kind == "completions" and logprobs is not None:
        count = _int(body, "logprobs")
        params["logprobs"], params["top_logprobs"] = True, count
    elif logprobs is not None:
        if not isinstance(logprobs, bool):
            raise BadParam("'logprobs' must be a boolean", param="logprobs")
        params["logprobs"] = logprobs
    top = _int(body, "top_logprobs")
    if top is not None:
        params["top_logprobs"] = top
        if route.kind == "responses":
            params["logprobs"] = True
    bias = body.get("logit_bias")
    if bias is not None:
        if not isinstance(bias, dict):
            raise BadParam("'logit_bias' must be an object", param="logit_bias")
        params["logit_bias_size"] = len(bias)
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise BadParam("'tools' must be a list", param="tools")
        params["tools"] = len(tools)
    thinking = body.get("thinking")
    if isinstance(thinking, dict):
        budget = thinking.get("budget_tokens")
        enabled = thinking.get("type") in ("enabled", "adaptive")
        params["thinking_budget"] = budget if enabled and isinstance(budget, int) else 0
    fmt = body.get("response_format")
    if route.kind == "responses" and isinstance(body.get("text"), dict):
        fmt = body["text"].get("format")
    if isinstance(fmt, dict) and fmt.get("type") in RESPONSE_FORMATS:
        params["response_format"] = fmt["type"]
    return params


def parse_payload(body: Any, route: Route) -> Payload:
    """Check and read a decoded request body for ``route`` (raises :class:`BadParam`)."""
    if not isinstance(body, dict):
        raise BadParam("the request body must be a JSON object")
    payload = Payload()
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BadParam("'model' is required and must be a non-empty string", param="model")
    payload.model = model
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise BadParam("'stream' must be a boolean", param="stream")
    payload.stream = stream
    messages: list[dict[str, str]] = []
    kind = route.kind
    if kind == "chat":
        messages = _messages(body.get("messages"), "messages")
        payload.max_tokens = _int(body, "max_completion_tokens")
        if payload.max_tokens is None:
            payload.max_tokens = _int(body, "max_tokens")
    elif kind == "completions":
        prompt = body.get("prompt")
        if isinstance(prompt, list):
            texts = [p if isinstance(p, str) else "[tokens]" for p in prompt]
            prompt = "\n".join(texts)
        if not isinstance(prompt, str):
            raise BadParam("'prompt' must be a string or a list of strings", param="prompt")
        messages = [{"role": "user", "content": prompt}]
        payload.max_tokens = _int(body, "max_tokens")
    elif kind == "responses":
        instructions = body.get("instructions")
        if isinstance(instructions, str):
            messages.append({"role": "system", "content": instructions})
        given = body.get("input")
        if isinstance(given, str):
            messages.append({"role": "user", "content": given})
        else:
            messages.extend(_messages(given, "input"))
        payload.max_tokens = _int(body, "max_output_tokens")
    elif kind in ("messages", "count_tokens"):
        system = body.get("system")
        if system is not None:
            messages.append({"role": "system", "content": _text(system, "system")})
        messages.extend(_messages(body.get("messages"), "messages"))
        payload.max_tokens = _int(body, "max_tokens")
    payload.messages = messages
    payload.text_chars = sum(len(m["content"]) for m in messages)
    payload.params = _params(body, route, payload)
    return payload
