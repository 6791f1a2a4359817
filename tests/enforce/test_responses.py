from __future__ import annotations

import copy
from typing import Any

from distillguard.enforce.output import Logprobs, OutputControls, Reasoning
from distillguard.enforce.responses import StreamFilter, filter_response
from distillguard.enforce.summary import MARKER, summarise

THOUGHT = (
    "Let me see. The sum of the list is what they want. Hmm. Adding the list: the sum is 42. Done."
)
# the two sentences about what the reasoning returns to (sum, list), not the first two
SUMMARISED = (
    "The sum of the list is what they want. Adding the list: the sum is 42."
    + MARKER.format(kept=2, total=5)
)
NONE = OutputControls(reasoning=Reasoning.NONE, logprobs=Logprobs.REFUSE)
SUMMARY = OutputControls(reasoning=Reasoning.SUMMARISED, summary_sentences=2)


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _run(stream: StreamFilter, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [out for event in events for out in stream.feed(copy.deepcopy(event))]


def test_the_summary_is_of_the_whole_thought() -> None:
    assert summarise(THOUGHT, 2) == SUMMARISED


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
    assert choice["message"]["reasoning_content"] == (
        "Adding the list: the sum is 42." + MARKER.format(kept=1, total=5)
    )
    assert choice["logprobs"]["content"][0]["logprob"] == -0.12


def _chat_stream(size: int) -> list[dict[str, Any]]:
    chunks: list[dict[str, Any]] = [
        {"id": "c", "choices": [{"index": 0, "delta": {"reasoning_content": piece}}]}
        for piece in _chunks(THOUGHT, size)
    ]
    chunks.append({"id": "c", "choices": [{"index": 0, "delta": {"content": "42"}}]})
    chunks.append({"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return chunks


def test_openai_chat_stream_holds_reasoning_until_the_answer_starts() -> None:
    for size in (1, 7, len(THOUGHT)):
        stream = StreamFilter("openai.chat.completions", SUMMARY)
        out = _run(stream, _chat_stream(size))
        deltas = [e["choices"][0]["delta"] for e in out]
        assert len(out) == len(_chat_stream(size))  # every chunk still goes (a keep-alive)
        assert [d.get("reasoning_content") for d in deltas if d.get("reasoning_content")] == [
            SUMMARISED
        ]
        assert deltas[-2] == {"reasoning_content": SUMMARISED, "content": "42"}
        assert stream.finish() == []
    # a stream that ends inside its reasoning still shows the summary, in a chunk of its own
    stream = StreamFilter("openai.chat.completions", SUMMARY)
    _run(stream, _chat_stream(7)[:-2])
    assert stream.finish() == [
        {
            "id": "c",
            "choices": [
                {"index": 0, "delta": {"reasoning_content": SUMMARISED}, "finish_reason": None}
            ],
        }
    ]
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
    assert summarised[0]["thinking"] == SUMMARISED
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
    stream = StreamFilter("anthropic.messages", SUMMARY)
    out = _run(stream, _anthropic_stream())
    kinds = [e.get("delta", {}).get("type") for e in out]
    assert kinds.count("thinking_delta") == 1  # held back, then sent whole before the signature
    assert kinds.index("thinking_delta") + 1 == kinds.index("signature_delta")
    (summary,) = [e for e in out if e.get("delta", {}).get("type") == "thinking_delta"]
    assert summary == {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "thinking_delta", "thinking": SUMMARISED},
    }
    assert stream.finish() == []


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
    assert summary["summary"][0]["text"] == SUMMARISED
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
    # without a .done for the summary part, it is released before its item's output_item.done
    summarised = _run(StreamFilter("openai.responses", SUMMARY), events)
    assert [e["type"] for e in summarised][2:4] == [
        "response.reasoning_summary_text.delta",
        "response.output_item.done",
    ]
    assert summarised[2]["delta"] == SUMMARISED


def test_responses_stream_sends_the_summary_as_one_delta_before_the_done_event() -> None:
    base = {"item_id": "rs_1", "output_index": 0, "summary_index": 0}
    kind = "response.reasoning_summary_text"
    events: list[dict[str, Any]] = [
        {"type": f"{kind}.delta", **base, "delta": piece, "sequence_number": n}
        for n, piece in enumerate(_chunks(THOUGHT, 9))
    ]
    last = len(events)
    events.append({"type": f"{kind}.done", **base, "text": THOUGHT, "sequence_number": last})
    events.append(
        {
            "type": "response.reasoning_summary_part.done",
            **base,
            "part": {"type": "summary_text", "text": THOUGHT},
            "sequence_number": last + 1,
        }
    )
    stream = StreamFilter("openai.responses", SUMMARY)
    out = _run(stream, events)
    assert out == [
        {"type": f"{kind}.delta", **base, "delta": SUMMARISED, "sequence_number": last - 1},
        {"type": f"{kind}.done", **base, "text": SUMMARISED, "sequence_number": last},
        {**events[-1], "part": {"type": "summary_text", "text": SUMMARISED}},
    ]
    assert stream.finish() == []
