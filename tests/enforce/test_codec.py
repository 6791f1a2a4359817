from __future__ import annotations

import pytest

from distillguard.enforce import codec


def test_exact_parse_and_dump_keep_big_integers() -> None:
    big = b'{"logprobs": true, "seed": 123456789012345678901234567890}'
    exact = codec.loads(big)
    assert exact["logprobs"] is True
    assert codec.loads(codec.dumps(exact)) == exact
    assert exact["seed"] == 123456789012345678901234567890


def test_python_extensions_and_garbage() -> None:
    assert codec.loads(b'{"x": NaN}')["x"] != 0
    with pytest.raises(ValueError):
        codec.loads(b"{not json")


@pytest.mark.parametrize(
    "number",
    [
        9223372036854775807,
        -9223372036854775808,
        -9223372036854775809,  # the first integers orjson reads as floats
        18446744073709551615,
        18446744073709551616,
        -1234567890123456789012,
    ],
)
def test_exact_parse_at_the_edges_of_64_bits(number: int) -> None:
    parsed = codec.loads(b'{"seed": %d, "t": 0.1}' % number)
    assert parsed == {"seed": number, "t": 0.1}
    assert type(parsed["seed"]) is int


def test_exact_parse_agrees_with_pythons_json() -> None:
    body = (
        b'{"model": "m", "temperature": 0.7000000000000001, "top_p": 1e-7, "n": 2, '
        b'"messages": [{"role": "user", "content": "caf\\u00e9 \\ud83d\\ude00 \\"q\\""}], '
        b'"logit_bias": {"50256": -100}, "x": NaN}'
    )
    import json

    exact, reference = codec.loads(body), json.loads(body)
    assert exact["x"] != exact["x"] and reference["x"] != reference["x"]  # NaN both
    del exact["x"], reference["x"]
    assert exact == reference
