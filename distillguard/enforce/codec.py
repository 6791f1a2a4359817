"""JSON decoding and encoding for bodies on the request path: orjson, with a stdlib fallback.

orjson parses a 2 kB request body in about 2 µs, faster than scanning it for key names. It
rejects a few things Python's ``json`` (and so many upstream servers) accept, such as integers
beyond 64 bits and ``NaN``; falling back keeps a body that the upstream would accept from
slipping past the output controls unparsed.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(data: bytes) -> Any:
    """Parse JSON; ValueError when neither parser accepts it."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def dumps(value: Any) -> bytes:
    """Compact JSON bytes."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":")).encode()
