from __future__ import annotations

import copy
from typing import Any

from distillguard.enforce.output import Logprobs, OutputControls, Reasoning
from distillguard.enforce.responses import (
    MARKER,
    StreamFilter,
    Truncator,
    filter_response,
    truncate,
)

THOUGHT = "First I read it. Then I think! Is it right? Yes. Done."
NONE = OutputControls(reasoning=Reasoning.NONE, logprobs=Logprobs.REFUSE)
SUMMARY = OutputControls(reasoning=Reasoning.SUMMARISED, summary_sentences=2)


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def test_truncation_keeps_n_sentences_and_marks_the_cut() -> None:
    assert truncate(THOUGHT, 2) == "First I read it. Then I think!" + MARKER
    assert truncate("One sentence only.", 2) == "One sentence only."


def test_streamed_truncation_equals_whole_truncation_for_any_chunking() -> None:
    for size in range(1, len(THOUGHT) + 1):
        truncator = Truncator(2)
        assert "".join(truncator.feed(c) for c in _chunks(THOUGHT, size)) == truncate(THOUGHT, 2)


def _chat() -> dict[str, Any]:
    return {
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "42", "reasoning_content": THOUGHT},
                "logprobs": {
                    "content": [{"token": "42", "logprob": -0.123456, "top_logprobs": []}]
                },
            }
        ],
    }


def test_openai_chat_none_removes_reasoning_and_logprobs() -> None:
    out = filter_response("openai.chat.completions", _chat(), NONE)
    choice = out["choices"][0]
    assert "reasoning_content" not in choice["message"] and choice["message"]["content"] == "42"
    assert choice["logprobs"] is None


def test_openai_chat_summarised_and_rounded_logprobs() -> None:
    controls = OutputControls(
        reasoning=Reasoning.SUMMARISED, summary_sentences=1, logprob_decimals=2
    )
    choice = filter_response("openai.chat.completions", _chat(), controls)["choices"][0]
    assert choice["message"]["reasoning_content"] == "First I read it." + MARKER
    assert choice["logprobs"]["content"][0]["logprob"] == -0.12


def test_openai_chat_stream() -> None:
    stream = StreamFilter("openai.chat.completions", SUMMARY)
    shown = ""
    for piece in _chunks(THOUGHT, 7):
        (event,) = stream.feed({"choices": [{"index": 0, "delta": {"reasoning_content": piece}}]})
        shown += event["choices"][0]["delta"].get("reasoning_content", "")
    assert shown == truncate(THOUGHT, 2)
    none = StreamFilter("openai.chat.completions", NONE)
    (event,) = none.feed(
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {"reasoning_content": "x", "content": "y"},
                    "logprobs": {"content": []},
                }
            ]
        }
    )
    assert event["choices"][0] == {"index": 0, "delta": {"content": "y"}, "logprobs": None}


def _anthropic() -> dict[str, Any]:
    return {
        "type": "message",
        "content": [
            {"type": "thinking", "thinking": THOUGHT, "signature": "sig"},
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "text", "text": "42"},
        ],
    }


def test_anthropic_thinking_blocks() -> None:
    assert filter_response("anthropic.messages", _anthropic(), NONE)["content"] == [
        {"type": "text", "text": "42"}
    ]
    summarised = filter_response("anthropic.messages", _anthropic(), SUMMARY)["content"]
    assert summarised[0]["thinking"] == truncate(THOUGHT, 2)
    assert summarised[0]["signature"] == "sig" and len(summarised) == 3


def _anthropic_stream() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": {"type": "message", "content": []}},
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "thinking", "thinking": ""},
        },
    ]
    for piece in _chunks(THOUGHT, 5):
        events.append(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "thinking_delta", "thinking": piece},
            }
        )
    events += [
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "signature_delta", "signature": "s"},
        },
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "42"}},
        {"type": "content_block_stop", "index": 1},
        {"type": "message_stop"},
    ]
    return events


def _run(stream: StreamFilter, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [out for event in events for out in stream.feed(copy.deepcopy(event))]


def test_anthropic_stream_none_drops_thinking_and_renumbers() -> None:
    out = _run(StreamFilter("anthropic.messages", NONE), _anthropic_stream())
    assert [e["type"] for e in out] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_stop",
    ]
    assert {e["index"] for e in out if "index" in e} == {0}
    assert out[1]["content_block"]["type"] == "text"


def test_anthropic_stream_summarised_matches_the_whole_response() -> None:
    out = _run(StreamFilter("anthropic.messages", SUMMARY), _anthropic_stream())
    shown = "".join(
        e["delta"]["thinking"] for e in out if e.get("delta", {}).get("type") == "thinking_delta"
    )
    assert shown == truncate(THOUGHT, 2)
    assert any(e.get("delta", {}).get("type") == "signature_delta" for e in out)


def _responses_body() -> dict[str, Any]:
    return {
        "object": "response",
        "output": [
            {
                "type": "reasoning",
                "id": "rs_1",
                "summary": [{"type": "summary_text", "text": THOUGHT}],
                "encrypted_content": "blob",
            },
            {
                "type": "message",
                "id": "msg_1",
                "content": [
                    {
                        "type": "output_text",
                        "text": "42",
                        "logprobs": [{"token": "42", "logprob": -0.1}],
                    }
                ],
            },
        ],
    }


def test_responses_api_items() -> None:
    none = filter_response("openai.responses", _responses_body(), NONE)
    assert [i["type"] for i in none["output"]] == ["message"]
    assert none["output"][0]["content"][0]["logprobs"] == []
    summary = filter_response("openai.responses", _responses_body(), SUMMARY)["output"][0]
    assert summary["summary"][0]["text"] == truncate(THOUGHT, 2)
    assert "encrypted_content" not in summary


def test_responses_stream_drops_reasoning_items_and_renumbers() -> None:
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": {"output": []}},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {"type": "reasoning", "id": "rs_1"},
        },
        {
            "type": "response.reasoning_summary_text.delta",
            "output_index": 0,
            "item_id": "rs_1",
            "summary_index": 0,
            "delta": THOUGHT,
        },
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": {"type": "reasoning", "id": "rs_1"},
        },
        {
            "type": "response.output_item.added",
            "output_index": 1,
            "item": {"type": "message", "id": "m"},
        },
        {
            "type": "response.output_text.delta",
            "output_index": 1,
            "item_id": "m",
            "delta": "42",
            "logprobs": [{"token": "42"}],
        },
        {"type": "response.completed", "response": _responses_body()},
    ]
    out = _run(StreamFilter("openai.responses", NONE), events)
    assert [e["type"] for e in out] == [
        "response.created",
        "response.output_item.added",
        "response.output_text.delta",
        "response.completed",
    ]
    assert out[1]["output_index"] == 0 and out[2]["output_index"] == 0
    assert out[2]["logprobs"] == []
    assert [i["type"] for i in out[3]["response"]["output"]] == ["message"]
    summarised = _run(StreamFilter("openai.responses", SUMMARY), events)
    delta = next(e for e in summarised if e["type"] == "response.reasoning_summary_text.delta")
    assert delta["delta"] == truncate(THOUGHT, 2)
