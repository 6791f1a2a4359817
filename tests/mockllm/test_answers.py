from __future__ import annotations

from distillguard.mockllm.answers import answer, count_tokens, prompt_text


def test_answers_are_deterministic_and_depend_on_the_prompt() -> None:
    a = answer({"messages": [{"role": "user", "content": "one"}]})
    assert a == answer({"messages": [{"role": "user", "content": "one"}]})
    assert a.words != answer({"messages": [{"role": "user", "content": "two"}]}).words
    assert a.output_tokens == 12 and not a.truncated


def test_max_tokens_truncates() -> None:
    a = answer({"prompt": "x", "max_tokens": 3})
    assert a.output_tokens == 3 and a.truncated
    assert answer({"input": "x", "max_output_tokens": 0}).words == ()


def test_prompt_text_of_every_shape() -> None:
    body = {
        "system": [{"type": "text", "text": "S"}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "U"}]}],
    }
    assert prompt_text(body) == "S\nU"
    assert prompt_text({"instructions": "I", "input": "Q"}) == "I\nQ"
    assert prompt_text({"prompt": ["a", "b"]}) == "a\nb"
    assert count_tokens("12345") == 2
