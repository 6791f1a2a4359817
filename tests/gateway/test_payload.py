from __future__ import annotations

from typing import Any

import pytest

from distillguard.gateway.errors import BadParam
from distillguard.gateway.payload import parse_payload
from distillguard.gateway.routes import ROUTES

CHAT = ROUTES["/v1/chat/completions"]
COMPLETIONS = ROUTES["/v1/completions"]
RESPONSES = ROUTES["/v1/responses"]
MESSAGES = ROUTES["/v1/messages"]


def test_chat_messages_normalised_with_markers() -> None:
    body = {
        "model": "gpt-x",
        "messages": [
            {"role": "developer", "content": "rules"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image_url", "image_url": {"url": "data:..."}},
                    {"type": "input_audio", "input_audio": {}},
                ],
            },
            {"role": "assistant", "content": None, "tool_calls": [{"id": "c1"}]},
            {"role": "tool", "content": "42", "tool_call_id": "c1"},
            {"role": "function", "content": "old style"},
        ],
    }
    payload = parse_payload(body, CHAT)
    assert payload.messages == [
        {"role": "system", "content": "rules"},
        {"role": "user", "content": "look\n[image]\n[audio]"},
        {"role": "assistant", "content": "[tool_call]"},
        {"role": "tool", "content": "42"},
        {"role": "tool", "content": "old style"},
    ]
    assert payload.params == {}
    assert payload.estimated_input_tokens() > 0


def test_params_only_as_sent() -> None:
    body = {
        "model": "gpt-x",
        "messages": [],
        "max_completion_tokens": 300,
        "temperature": 0,
        "top_p": 0.5,
        "n": 2,
        "stream": False,
        "logprobs": True,
        "top_logprobs": 5,
        "logit_bias": {"50256": -100, "11": 5},
        "tools": [{"type": "function"}],
        "response_format": {"type": "json_schema", "json_schema": {}},
    }
    assert parse_payload(body, CHAT).params == {
        "max_tokens": 300,
        "temperature": 0,
        "top_p": 0.5,
        "n": 2,
        "stream": False,
        "logprobs": True,
        "top_logprobs": 5,
        "logit_bias_size": 2,
        "tools": 1,
        "response_format": "json_schema",
    }


def test_completions_prompt_is_one_user_message() -> None:
    payload = parse_payload(
        {"model": "m", "prompt": ["a", "b", [1, 2]], "logprobs": 3, "max_tokens": 7}, COMPLETIONS
    )
    assert payload.messages == [{"role": "user", "content": "a\nb\n[tokens]"}]
    assert payload.params == {"max_tokens": 7, "logprobs": True, "top_logprobs": 3}
    assert payload.max_tokens == 7


def test_responses_input_items_and_instructions() -> None:
    body = {
        "model": "m",
        "instructions": "be nice",
        "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "hi"}]},
            {"type": "function_call", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "1", "output": "done"},
        ],
        "max_output_tokens": 99,
        "top_logprobs": 2,
        "text": {"format": {"type": "json_object"}},
    }
    payload = parse_payload(body, RESPONSES)
    assert payload.messages == [
        {"role": "system", "content": "be nice"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "[tool_call]"},
        {"role": "tool", "content": "done"},
    ]
    assert payload.params == {
        "max_tokens": 99,
        "top_logprobs": 2,
        "logprobs": True,
        "response_format": "json_object",
    }


def test_anthropic_system_first_and_thinking_budget() -> None:
    body = {
        "model": "claude",
        "max_tokens": 1000,
        "system": [{"type": "text", "text": "sys a"}, {"type": "text", "text": "sys b"}],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "document", "source": {}},
                    {"type": "tool_result", "tool_use_id": "t", "content": "result text"},
                ],
            },
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t"}]},
        ],
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "stream": True,
    }
    payload = parse_payload(body, MESSAGES)
    assert payload.messages == [
        {"role": "system", "content": "sys a\nsys b"},
        {"role": "user", "content": "[document]\nresult text"},
        {"role": "assistant", "content": "[tool_use]"},
    ]
    assert payload.params == {"max_tokens": 1000, "stream": True, "thinking_budget": 2048}
    disabled = {**body, "thinking": {"type": "disabled"}}
    assert parse_payload(disabled, MESSAGES).params["thinking_budget"] == 0


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ([], None),
        ({"messages": []}, "model"),
        ({"model": "m", "messages": {}}, "messages"),
        ({"model": "m", "messages": ["hi"]}, "messages[0]"),
        ({"model": "m", "messages": [{"role": 1, "content": "x"}]}, "messages[0].role"),
        ({"model": "m", "messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({"model": "m", "messages": [], "stream": "yes"}, "stream"),
        ({"model": "m", "messages": [], "max_tokens": 1.5}, "max_tokens"),
        ({"model": "m", "messages": [], "temperature": True}, "temperature"),
        ({"model": "m", "messages": [], "n": 0}, "n"),
        ({"model": "m", "messages": [], "logprobs": "yes"}, "logprobs"),
        ({"model": "m", "messages": [], "logit_bias": [1]}, "logit_bias"),
        ({"model": "m", "messages": [], "tools": {}}, "tools"),
    ],
)
def test_wrong_types_name_the_field(body: Any, param: str | None) -> None:
    with pytest.raises(BadParam) as caught:
        parse_payload(body, CHAT)
    assert caught.value.param == param
    assert caught.value.status == 400
