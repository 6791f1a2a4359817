from __future__ import annotations

import orjson

from distillguard.gateway.usage import UsageMeter
from distillguard.mockllm import formats
from distillguard.mockllm.answers import answer

ANSWER = answer({"messages": [{"role": "user", "content": "count these tokens please"}]})


def _data(events: list[bytes]) -> list[bytes]:
    out = []
    for event in events:
        for line in event.splitlines():
            if line.startswith(b"data: "):
                out.append(line[6:])
    return out


def test_chat_body() -> None:
    meter = UsageMeter("chat", 1000)
    meter.read_body(orjson.dumps(formats.chat_body(ANSWER, "m", "1")))
    assert (meter.input_tokens, meter.output_tokens) == (ANSWER.input_tokens, 12)
    assert meter.text == ANSWER.text


def test_chat_stream_usage_chunk_is_flagged() -> None:
    meter = UsageMeter("chat", 1000)
    flags = [meter.read_event(d) for d in _data(list(formats.chat_stream(ANSWER, "m", "1", True)))]
    assert flags.count(True) == 1 and flags[-2] is True  # the usage chunk, before [DONE]
    assert meter.output_tokens == 12 and meter.text == ANSWER.text


def test_completion_and_responses() -> None:
    meter = UsageMeter("completions", 1000)
    for data in _data(list(formats.completion_stream(ANSWER, "m", "1", True))):
        meter.read_event(data)
    assert meter.text == ANSWER.text and meter.output_tokens == 12
    meter = UsageMeter("responses", 1000)
    for data in _data(list(formats.response_stream(ANSWER, "m", "1"))):
        meter.read_event(data)
    assert meter.text == ANSWER.text and meter.output_tokens == 12
    assert meter.reasoning_tokens == 0
    body = UsageMeter("responses", 1000)
    body.read_body(orjson.dumps(formats.response_body(ANSWER, "m", "1")))
    assert body.text == ANSWER.text and body.input_tokens == ANSWER.input_tokens


def test_anthropic_stream_and_cache_tokens() -> None:
    meter = UsageMeter("messages", 1000)
    for data in _data(list(formats.message_stream(ANSWER, "m", "1"))):
        assert meter.read_event(data) is False
    assert meter.input_tokens == ANSWER.input_tokens and meter.output_tokens == 12
    assert meter.text == ANSWER.text
    body = formats.message_body(ANSWER, "m", "1")
    body["usage"] = {"input_tokens": 10, "cache_creation_input_tokens": 5, "output_tokens": 3}
    meter = UsageMeter("messages", 1000)
    meter.read_body(orjson.dumps(body))
    assert meter.input_tokens == 15 and meter.output_tokens == 3


def test_text_limit_and_garbage() -> None:
    meter = UsageMeter("chat", 5)
    meter.read_body(orjson.dumps(formats.chat_body(ANSWER, "m", "1")))
    assert meter.text == ANSWER.text[:5]
    none = UsageMeter("chat", 0)
    none.read_body(orjson.dumps(formats.chat_body(ANSWER, "m", "1")))
    assert none.text == "" and none.output_tokens == 12
    for junk in (b"not json", b"[1]", b"", b"[DONE]"):
        assert none.read_event(junk) is False
    none.read_body(b"<html>")
    assert none.output_tokens == 12
