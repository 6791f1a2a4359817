"""JSON for bodies on the request path: a fast parse to inspect, an exact parse to rewrite.

orjson parses a 2 kB request body in about 2 µs, faster than scanning it for key names, so
:func:`loads` is used to decide whether a body needs changing. orjson reads integers beyond 64
bits as floats, though, so a body that is rewritten is parsed again with :func:`loads_exact`
(Python's ``json``, as many upstream servers use) and nothing but the controlled fields change.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(data: bytes) -> Any:
    """Parse JSON quickly, for inspection; ValueError when neither parser accepts it."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)  # NaN and a few other things Python accepts


def loads_exact(data: bytes) -> Any:
    """Parse JSON keeping every number exactly as sent."""
    return json.loads(data)


def dumps(value: Any) -> bytes:
    """Compact JSON bytes."""
    try:
        return orjson.dumps(value)
    except TypeError:  # integers beyond 64 bits
        return json.dumps(value, separators=(",", ":")).encode()
