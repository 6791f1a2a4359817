"""Response bodies and server-sent-event streams in the OpenAI and Anthropic wire formats."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson

from distillguard.mockllm.answers import Answer


def _sse(data: Any, event: str | None = None) -> bytes:
    head = f"event: {event}\n".encode() if event else b""
    return head + b"data: " + orjson.dumps(data) + b"\n\n"


def chat_body(ans: Answer, model: str, ident: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{ident}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": ans.text, "refusal": None},
                "logprobs": None,
                "finish_reason": "length" if ans.truncated else "stop",
            }
        ],
        "usage": _openai_usage(ans),
    }


def _openai_usage(ans: Answer) -> dict[str, Any]:
    return {
        "prompt_tokens": ans.input_tokens,
        "completion_tokens": ans.output_tokens,
        "total_tokens": ans.input_tokens + ans.output_tokens,
    }


def chat_stream(ans: Answer, model: str, ident: str, usage: bool) -> Iterator[bytes]:
    base = {"id": f"chatcmpl-{ident}", "object": "chat.completion.chunk", "created": 0}
    base["created"] = int(time.time())
    base["model"] = model
    first = {"role": "assistant", "content": ""}
    yield _sse({**base, "choices": [{"index": 0, "delta": first, "finish_reason": None}]})
    for i, word in enumerate(ans.words):
        piece = word if i == 0 else " " + word
        choice = {"index": 0, "delta": {"content": piece}, "finish_reason": None}
        yield _sse({**base, "choices": [choice]})
    done = {"index": 0, "delta": {}, "finish_reason": "length" if ans.truncated else "stop"}
    yield _sse({**base, "choices": [done]})
    if usage:
        yield _sse({**base, "choices": [], "usage": _openai_usage(ans)})
    yield b"data: [DONE]\n\n"


def completion_body(ans: Answer, model: str, ident: str) -> dict[str, Any]:
    return {
        "id": f"cmpl-{ident}",
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "text": ans.text,
                "logprobs": None,
                "finish_reason": "length" if ans.truncated else "stop",
            }
        ],
        "usage": _openai_usage(ans),
    }


def completion_stream(ans: Answer, model: str, ident: str, usage: bool) -> Iterator[bytes]:
    base = {"id": f"cmpl-{ident}", "object": "text_completion", "created": int(time.time())}
    base["model"] = model
    for i, word in enumerate(ans.words):
        piece = word if i == 0 else " " + word
        choice = {"index": 0, "text": piece, "logprobs": None, "finish_reason": None}
        yield _sse({**base, "choices": [choice]})
    end = {"index": 0, "text": "", "logprobs": None, "finish_reason": "stop"}
    yield _sse({**base, "choices": [end]})
    if usage:
        yield _sse({**base, "choices": [], "usage": _openai_usage(ans)})
    yield b"data: [DONE]\n\n"


def response_body(ans: Answer, model: str, ident: str, status: str = "completed") -> dict[str, Any]:
    return {
        "id": f"resp_{ident}",
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "model": model,
        "output": [
            {
                "type": "message",
                "id": f"msg_{ident}",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": ans.text, "annotations": []}],
            }
        ]
        if status == "completed"
        else [],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": ans.input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": ans.output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": ans.input_tokens + ans.output_tokens,
        }
        if status == "completed"
        else None,
    }


def response_stream(ans: Answer, model: str, ident: str) -> Iterator[bytes]:
    created = response_body(ans, model, ident, status="in_progress")
    n = 0
    yield _sse({"type": "response.created", "sequence_number": n, "response": created})
    for i, word in enumerate(ans.words):
        n += 1
        yield _sse(
            {
                "type": "response.output_text.delta",
                "sequence_number": n,
                "item_id": f"msg_{ident}",
                "output_index": 0,
                "content_index": 0,
                "delta": word if i == 0 else " " + word,
            }
        )
    done = response_body(ans, model, ident)
    yield _sse({"type": "response.completed", "sequence_number": n + 1, "response": done})


def message_body(ans: Answer, model: str, ident: str) -> dict[str, Any]:
    return {
        "id": f"msg_{ident}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": ans.text}],
        "stop_reason": "max_tokens" if ans.truncated else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": ans.input_tokens, "output_tokens": ans.output_tokens},
    }


def message_stream(ans: Answer, model: str, ident: str) -> Iterator[bytes]:
    start = message_body(ans, model, ident)
    start["content"] = []
    start["stop_reason"] = None
    start["usage"] = {"input_tokens": ans.input_tokens, "output_tokens": 1}
    yield _sse({"type": "message_start", "message": start}, "message_start")
    block = {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    yield _sse(block, "content_block_start")
    yield _sse({"type": "ping"}, "ping")
    for i, word in enumerate(ans.words):
        delta = {"type": "text_delta", "text": word if i == 0 else " " + word}
        yield _sse(
            {"type": "content_block_delta", "index": 0, "delta": delta}, "content_block_delta"
        )
    yield _sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
    reason = "max_tokens" if ans.truncated else "end_turn"
    yield _sse(
        {
            "type": "message_delta",
            "delta": {"stop_reason": reason, "stop_sequence": None},
            "usage": {"output_tokens": ans.output_tokens},
        },
        "message_delta",
    )
    yield _sse({"type": "message_stop"}, "message_stop")


def models_body(anthropic: bool, names: tuple[str, ...]) -> dict[str, Any]:
    if anthropic:
        data = [
            {
                "type": "model",
                "id": name,
                "display_name": name,
                "created_at": "2026-01-01T00:00:00Z",
            }
            for name in names
        ]
        return {"data": data, "has_more": False, "first_id": names[0], "last_id": names[-1]}
    listing = [
        {"id": n, "object": "model", "created": 0, "owned_by": "distillguard"} for n in names
    ]
    return {"object": "list", "data": listing}


def error_body(status: int, anthropic: bool, message: str) -> bytes:
    if anthropic:
        kinds = {429: "rate_limit_error", 529: "overloaded_error", 401: "authentication_error"}
        kinds |= {400: "invalid_request_error", 404: "not_found_error"}
        kind = kinds.get(status, "api_error")
        return orjson.dumps({"type": "error", "error": {"type": kind, "message": message}})
    kind = "invalid_request_error" if status < 500 else "server_error"
    return orjson.dumps({"error": {"message": message, "type": kind, "param": None, "code": None}})
