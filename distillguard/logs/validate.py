"""Fast, hand-written validators for the dg.* record formats.

The JSON schemas in ``shared/spec`` are normative; checking every record with ``jsonschema`` is
far too slow for tens of millions of request records, so these functions check the same rules
(required fields, types, enums, RFC 3339 timestamps, IP addresses, minimums) directly on the
decoded ``dict``. Each validator returns ``None`` for a good record or raises
:class:`~distillguard.errors.SchemaError` whose ``reason`` is a short stable code:

``missing_field``, ``wrong_type``, ``bad_enum``, ``bad_timestamp``, ``bad_ip``,
``below_minimum``, ``above_maximum``, ``empty_string``, ``not_object``.

Readers add ``malformed_json``, ``invalid_utf8`` and ``line_too_long`` for lines that do not
decode at all.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime
from typing import Any

from distillguard.errors import SchemaError

ENDPOINTS = frozenset(
    {"openai.chat.completions", "openai.completions", "openai.responses", "anthropic.messages"}
)
ROLES = frozenset({"system", "user", "assistant", "tool"})
DECISIONS = frozenset({"allow", "throttle", "block", "degrade", "challenge"})
RESPONSE_FORMATS = frozenset({"text", "json_object", "json_schema"})
VERIFICATIONS = frozenset({"none", "email", "phone", "payment", "id", "org"})
PROGRAMS = frozenset({"standard", "education", "startup", "research", "enterprise", "partner"})

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})\Z"
)
_IP_CACHE: dict[str, bool] = {}
_IP_CACHE_MAX = 1 << 20

# params key -> (python types accepted, minimum or None)
_PARAM_INTS = {
    "max_tokens": 0,
    "n": 1,
    "top_logprobs": 0,
    "logit_bias_size": 0,
    "tools": 0,
    "thinking_budget": 0,
}
_PARAM_NUMBERS = ("temperature", "top_p")


def parse_timestamp(value: object, field: str) -> int:
    """Return an RFC 3339 timestamp as milliseconds since the epoch (UTC), or raise.

    Parquet files carry ``timestamp[ms, UTC]`` columns, which arrive as aware datetimes.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise SchemaError("bad_timestamp", f"{field}: timestamp has no time zone")
        return int(value.timestamp() * 1000)
    if not isinstance(value, str):
        raise SchemaError("wrong_type", f"{field}: expected an RFC 3339 string")
    m = _RFC3339.match(value)
    if m is None:
        raise SchemaError("bad_timestamp", f"{field}: {value[:40]!r} is not RFC 3339")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    frac = m.group(7) or ""
    tz = m.group(8)
    try:
        moment = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
    except ValueError as exc:
        raise SchemaError("bad_timestamp", f"{field}: {value[:40]!r}: {exc}") from None
    if second > 60:
        raise SchemaError("bad_timestamp", f"{field}: {value[:40]!r}: second out of range")
    ms = int(moment.timestamp()) * 1000 + (int(frac[:3].ljust(3, "0")) if frac else 0)
    if tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        tzh, tzm = int(tz[1:3]), int(tz[4:6])
        if tzh > 23 or tzm > 59:
            raise SchemaError("bad_timestamp", f"{field}: {value[:40]!r}: bad offset")
        ms -= sign * (tzh * 60 + tzm) * 60_000
    return ms


def is_ip(value: str) -> bool:
    """True if ``value`` is an IPv4 or IPv6 address (cached: addresses repeat a lot)."""
    known = _IP_CACHE.get(value)
    if known is not None:
        return known
    try:
        ipaddress.ip_address(value)
        ok = "%" not in value
    except ValueError:
        ok = False
    if len(_IP_CACHE) >= _IP_CACHE_MAX:
        _IP_CACHE.clear()
    _IP_CACHE[value] = ok
    return ok


def _require_str(record: dict[str, Any], field: str, *, min_length: int = 0) -> str:
    if field not in record:
        raise SchemaError("missing_field", f"{field}: required field is missing")
    value = record[field]
    if not isinstance(value, str):
        raise SchemaError("wrong_type", f"{field}: expected a string, got {_kind(value)}")
    if len(value) < min_length:
        raise SchemaError("empty_string", f"{field}: must not be empty")
    return value


def _optional_str(record: dict[str, Any], field: str) -> None:
    value = record.get(field)
    if value is not None and not isinstance(value, str):
        raise SchemaError("wrong_type", f"{field}: expected a string or null, got {_kind(value)}")


def _optional_int(record: dict[str, Any], field: str, minimum: int | None) -> None:
    value = record.get(field)
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        if isinstance(value, float) and value.is_integer():
            pass  # JSON Schema counts 3.0 as an integer
        else:
            raise SchemaError("wrong_type", f"{field}: expected an integer, got {_kind(value)}")
    if minimum is not None and value < minimum:
        raise SchemaError("below_minimum", f"{field}: {value} is below {minimum}")


def _optional_number(record: dict[str, Any], field: str, minimum: float | None) -> None:
    value = record.get(field)
    if value is None:
        return
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise SchemaError("wrong_type", f"{field}: expected a number, got {_kind(value)}")
    if minimum is not None and value < minimum:
        raise SchemaError("below_minimum", f"{field}: {value} is below {minimum}")


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


_MINUTES: dict[str, int] = {}  # "YYYY-MM-DDTHH:MM" -> epoch ms of that minute
_MINUTES_MAX = 1 << 16
_OPTIONAL_STRS = ("org_id", "user_agent", "tls_ja4", "response_text")
_OPTIONAL_COUNTS = ("retry_count", "input_tokens", "output_tokens", "reasoning_tokens")


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _fast_timestamp(value: str) -> int | None:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` (how dg.request.v1 producers write ``ts``) in epoch ms, or
    None for anything else, which :func:`parse_timestamp` then judges."""
    if len(value) != 24 or value[16] != ":" or value[19] != "." or value[23] != "Z":
        return None
    seconds, millis = value[17:19], value[20:23]
    if not (_digits(seconds) and _digits(millis)) or seconds > "59":
        return None
    minute = _MINUTES.get(value[:16])
    if minute is None:
        try:
            minute = parse_timestamp(value[:16] + ":00Z", "ts")
        except SchemaError:
            return None
        if len(_MINUTES) >= _MINUTES_MAX:
            _MINUTES.clear()
        _MINUTES[value[:16]] = minute
    return minute + int(seconds) * 1000 + int(millis)


def _fast_request(record: object) -> int | None:
    """The ``ts`` of a record that plainly passes every rule of :func:`validate_request`, or
    None when the full check must decide (and name the reason).

    Accepts a subset of what the full check accepts: exact types only (no 3.0 for 3, no
    datetimes from Parquet, no offsets other than Z), so a None costs only time.
    """
    if type(record) is not dict:
        return None
    get = record.get
    ts = get("ts")
    ms = _fast_timestamp(ts) if type(ts) is str else None
    if ms is None:
        return None
    for field in ("request_id", "account_id", "api_key_id"):
        value = get(field)
        if type(value) is not str or not value:
            return None
    ip, endpoint, model = get("client_ip"), get("endpoint"), get("model")
    if type(ip) is not str or type(endpoint) is not str or type(model) is not str:
        return None
    if endpoint not in ENDPOINTS or not is_ip(ip):
        return None
    messages = get("messages")
    if type(messages) is not list:
        return None
    for message in messages:
        if type(message) is not dict:
            return None
        role = message.get("role")
        if type(role) is not str or role not in ROLES or type(message.get("content")) is not str:
            return None
    status = get("status")
    if type(status) is not int or not 100 <= status <= 599:
        return None
    for field in _OPTIONAL_STRS:
        value = get(field)
        if value is not None and type(value) is not str:
            return None
    for field in _OPTIONAL_COUNTS:
        value = get(field)
        if value is not None and (type(value) is not int or value < 0):
            return None
    latency = get("latency_ms")
    if latency is not None and (type(latency) not in (int, float) or latency < 0):
        return None
    decision = get("decision")
    if decision is not None and (type(decision) is not str or decision not in DECISIONS):
        return None
    if "params" in record and not _fast_params(record["params"]):
        return None
    return ms


def _fast_params(params: object) -> bool:
    if type(params) is not dict:
        return False
    for key, minimum in _PARAM_INTS.items():
        value = params.get(key, minimum)
        if type(value) is not int or value < minimum:
            return False
    for key in _PARAM_NUMBERS:
        if key in params and type(params[key]) not in (int, float):
            return False
    for key in ("stream", "logprobs"):
        if key in params and type(params[key]) is not bool:
            return False
    if "response_format" in params:
        fmt = params["response_format"]
        return type(fmt) is str and fmt in RESPONSE_FORMATS
    return True


def validate_request(record: object) -> int:
    """Check one dg.request.v1 record; return its ``ts`` in epoch milliseconds."""
    fast = _fast_request(record)
    if fast is not None:
        return fast
    if not isinstance(record, dict):
        raise SchemaError("not_object", f"record: expected an object, got {_kind(record)}")
    ts = parse_timestamp(record["ts"], "ts") if "ts" in record else None
    if ts is None:
        raise SchemaError("missing_field", "ts: required field is missing")
    _require_str(record, "request_id", min_length=1)
    _require_str(record, "account_id", min_length=1)
    _require_str(record, "api_key_id", min_length=1)
    ip = _require_str(record, "client_ip")
    if not is_ip(ip):
        raise SchemaError("bad_ip", f"client_ip: {ip[:60]!r} is not an IPv4 or IPv6 address")
    endpoint = _require_str(record, "endpoint")
    if endpoint not in ENDPOINTS:
        raise SchemaError("bad_enum", f"endpoint: {endpoint[:60]!r} is not a known endpoint")
    _require_str(record, "model")
    _validate_messages(record)
    if "status" not in record:
        raise SchemaError("missing_field", "status: required field is missing")
    if record["status"] is None:
        raise SchemaError("wrong_type", "status: expected an integer, got null")
    _optional_int(record, "status", 100)
    status = record["status"]
    if status > 599:
        raise SchemaError("above_maximum", f"status: {status} is above 599")
    for field in _OPTIONAL_STRS:
        _optional_str(record, field)
    for field in _OPTIONAL_COUNTS:
        _optional_int(record, field, 0)
    _optional_number(record, "latency_ms", 0)
    decision = record.get("decision")
    if decision is not None and decision not in DECISIONS:
        raise SchemaError("bad_enum", f"decision: {str(decision)[:40]!r} is not a known decision")
    if "params" in record:
        _validate_params(record["params"])
    return ts


def _validate_messages(record: dict[str, Any]) -> None:
    if "messages" not in record:
        raise SchemaError("missing_field", "messages: required field is missing")
    messages = record["messages"]
    if not isinstance(messages, list):
        raise SchemaError("wrong_type", f"messages: expected a list, got {_kind(messages)}")
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise SchemaError("wrong_type", f"messages[{i}]: expected an object")
        if "role" not in message or "content" not in message:
            raise SchemaError("missing_field", f"messages[{i}]: role and content are required")
        if message["role"] not in ROLES:
            raise SchemaError("bad_enum", f"messages[{i}].role: {message['role']!r} is unknown")
        if not isinstance(message["content"], str):
            raise SchemaError("wrong_type", f"messages[{i}].content: expected a string")


def _validate_params(params: object) -> None:
    if not isinstance(params, dict):
        raise SchemaError("wrong_type", f"params: expected an object, got {_kind(params)}")
    for key, minimum in _PARAM_INTS.items():
        if key in params:
            if params[key] is None:
                raise SchemaError("wrong_type", f"params.{key}: expected an integer, got null")
            _optional_int(params, key, minimum)
    for key in _PARAM_NUMBERS:
        if key in params:
            if params[key] is None:
                raise SchemaError("wrong_type", f"params.{key}: expected a number, got null")
            _optional_number(params, key, None)
    for key in ("stream", "logprobs"):
        if key in params and not isinstance(params[key], bool):
            raise SchemaError("wrong_type", f"params.{key}: expected a boolean")
    if "response_format" in params and params["response_format"] not in RESPONSE_FORMATS:
        raise SchemaError("bad_enum", "params.response_format: not a known format")


def validate_account(record: object) -> int:
    """Check one dg.account.v1 record; return ``created_at`` in epoch milliseconds."""
    if not isinstance(record, dict):
        raise SchemaError("not_object", f"record: expected an object, got {_kind(record)}")
    _require_str(record, "account_id", min_length=1)
    if "created_at" not in record:
        raise SchemaError("missing_field", "created_at: required field is missing")
    created = parse_timestamp(record["created_at"], "created_at")
    if "verification" not in record:
        raise SchemaError("missing_field", "verification: required field is missing")
    if record["verification"] not in VERIFICATIONS:
        raise SchemaError("bad_enum", f"verification: {record['verification']!r} is unknown")
    if "program" not in record:
        raise SchemaError("missing_field", "program: required field is missing")
    if record["program"] not in PROGRAMS:
        raise SchemaError("bad_enum", f"program: {record['program']!r} is unknown")
    for field in (
        "org_id",
        "email",
        "email_domain",
        "signup_ip",
        "signup_user_agent",
        "payment_fingerprint",
        "payment_country",
        "country",
    ):
        _optional_str(record, field)
    _optional_int(record, "tier", 0)
    return created


def validate_label(record: object) -> None:
    """Check one dg.labels.v1 record."""
    if not isinstance(record, dict):
        raise SchemaError("not_object", f"record: expected an object, got {_kind(record)}")
    _require_str(record, "account_id")
    if "malicious" not in record:
        raise SchemaError("missing_field", "malicious: required field is missing")
    if not isinstance(record["malicious"], bool):
        raise SchemaError("wrong_type", "malicious: expected a boolean")
    if "campaign_id" not in record:
        raise SchemaError("missing_field", "campaign_id: required field is missing")
    _optional_str(record, "campaign_id")
    _require_str(record, "persona")
