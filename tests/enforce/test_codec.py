from __future__ import annotations

import pytest

from distillguard.enforce import codec


def test_falls_back_where_orjson_refuses_what_upstreams_accept() -> None:
    big = b'{"logprobs": true, "seed": 123456789012345678901234567890}'
    assert codec.loads(big)["seed"] == 123456789012345678901234567890
    assert codec.loads(b'{"x": NaN}')["x"] != 0
    assert codec.loads(codec.dumps({"seed": 2**70})) == {"seed": 2**70}
    with pytest.raises(ValueError):
        codec.loads(b"{not json")
