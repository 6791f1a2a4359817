from __future__ import annotations

import logging

import orjson

from distillguard.gateway.logconfig import JsonFormatter


def test_records_are_one_json_object_with_extra_fields() -> None:
    record = logging.LogRecord("dg.test", logging.WARNING, "f.py", 1, "limiter %s", ("down",), None)
    record.mode = "open"
    record.color_message = "\x1b[31mlimiter down\x1b[0m"
    data = orjson.loads(JsonFormatter().format(record))
    assert data["message"] == "limiter down" and data["level"] == "warning"
    assert data["logger"] == "dg.test" and data["mode"] == "open"
    assert "color_message" not in data and data["ts"].endswith("Z")


def test_exceptions_are_kept() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, "f.py", 1, "failed", (), sys.exc_info())
    data = orjson.loads(JsonFormatter().format(record))
    assert "ValueError: boom" in data["exception"]
