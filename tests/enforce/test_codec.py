from __future__ import annotations

import pytest

from distillguard.enforce import codec


def test_exact_parse_and_dump_keep_big_integers() -> None:
    big = b'{"logprobs": true, "seed": 123456789012345678901234567890}'
    assert codec.loads(big)["logprobs"] is True
    exact = codec.loads_exact(big)
    assert codec.loads_exact(codec.dumps(exact)) == exact
    assert exact["seed"] == 123456789012345678901234567890


def test_python_extensions_and_garbage() -> None:
    assert codec.loads(b'{"x": NaN}')["x"] != 0
    with pytest.raises(ValueError):
        codec.loads(b"{not json")
