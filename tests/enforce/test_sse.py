from __future__ import annotations

import json

from distillguard.enforce.output import OutputControls, Reasoning
from distillguard.enforce.responses import StreamFilter
from distillguard.enforce.sse import SSEFilter

NONE = OutputControls(reasoning=Reasoning.NONE)


def _stream() -> bytes:
    chunks = [
        {"choices": [{"index": 0, "delta": {"reasoning_content": "secret plan. "}}]},
        {"choices": [{"index": 0, "delta": {"content": "hi"}}]},
    ]
    body = b": keep-alive comment\r\n\r\n"
    body += b"".join(b"data: " + json.dumps(c).encode() + b"\r\n\r\n" for c in chunks)
    return body + b"data: [DONE]\r\n\r\n"


def test_any_chunking_gives_the_same_filtered_stream() -> None:
    raw = _stream()
    expected = None
    for size in (1, 2, 3, 7, 64, len(raw)):
        sse = SSEFilter(StreamFilter("openai.chat.completions", NONE))
        out = b"".join(sse.feed(raw[i : i + size]) for i in range(0, len(raw), size)) + sse.flush()
        expected = expected or out
        assert out == expected
    assert expected is not None
    assert b"secret" not in expected and b'"content":"hi"' in expected
    assert expected.endswith(b"data: [DONE]\n\n") and expected.startswith(b": keep-alive")


def test_event_names_are_kept_and_dropped_events_vanish() -> None:
    start = {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking"}}
    text = {
        "type": "content_block_start",
        "index": 1,
        "content_block": {"type": "text", "text": ""},
    }
    raw = b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in (start, text))
    sse = SSEFilter(StreamFilter("anthropic.messages", NONE))
    out = sse.feed(raw) + sse.flush()
    assert out.count(b"event: content_block_start") == 1
    assert b'"index":0' in out and b"thinking" not in out


def test_unterminated_last_event_is_flushed() -> None:
    sse = SSEFilter(StreamFilter("openai.chat.completions", NONE))
    assert sse.feed(b'data: {"choices": []}') == b""
    assert sse.flush() == b'data: {"choices":[]}\n\n'


SUMMARY = OutputControls(reasoning=Reasoning.SUMMARISED, summary_sentences=1)


def test_a_released_summary_is_named_by_its_type() -> None:
    def frame(e: dict[str, object]) -> bytes:
        return f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode()

    delta = {"type": "thinking_delta", "thinking": "Plan one. Plan two."}
    events = [
        {"type": "content_block_delta", "index": 0, "delta": delta},
        {"type": "content_block_stop", "index": 0},
    ]
    sse = SSEFilter(StreamFilter("anthropic.messages", SUMMARY))
    out = sse.feed(b"".join(frame(e) for e in events)) + sse.flush()
    names = [line for line in out.split(b"\n") if line.startswith(b"event:")]
    assert names == [b"event: content_block_delta", b"event: content_block_stop"]
    assert b'"thinking":"Plan one. [reasoning summarised by distillguard: 1 of 2 sentences]"' in out


def test_reasoning_held_at_done_is_sent_before_done() -> None:
    chunk = {"id": "c", "choices": [{"index": 0, "delta": {"reasoning_content": "A. B."}}]}
    raw = b"data: " + json.dumps(chunk).encode() + b"\n\ndata: [DONE]\n\n"
    sse = SSEFilter(StreamFilter("openai.chat.completions", SUMMARY))
    out = sse.feed(raw) + sse.flush()
    frames = out.split(b"\n\n")
    assert b'"delta":{}' in frames[0]  # the chunk goes at once, its reasoning held back
    assert b'"reasoning_content":"A. [reasoning summarised' in frames[1]
    assert frames[2] == b"data: [DONE]" and frames[3:] == [b""]
