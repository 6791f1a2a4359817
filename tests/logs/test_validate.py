"""The hand-written validators agree with the official JSON schemas on good and bad records."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from distillguard.errors import SchemaError
from distillguard.logs.validate import (
    _fast_request,
    parse_timestamp,
    validate_account,
    validate_label,
    validate_request,
)

from conftest import SPEC_DIR

Record = dict[str, Any]


def _schema(name: str) -> Draft202012Validator:
    schema = json.loads((SPEC_DIR / f"{name}.v1.schema.json").read_text())
    return Draft202012Validator(schema, format_checker=FormatChecker())


REQUEST = _schema("request")
ACCOUNT = _schema("account")
LABELS = _schema("labels")


def good_request() -> Record:
    return {
        "ts": "2026-04-01T12:30:45.123Z",
        "request_id": "req-1",
        "account_id": "acct-1",
        "org_id": None,
        "api_key_id": "key-1",
        "client_ip": "203.0.113.9",
        "user_agent": "OpenAI/Python 1.40.0",
        "tls_ja4": None,
        "retry_count": 0,
        "endpoint": "anthropic.messages",
        "model": "m",
        "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
        "params": {
            "max_tokens": 10,
            "temperature": 0.2,
            "n": 1,
            "logprobs": False,
            "response_format": "json_object",
        },
        "status": 200,
        "input_tokens": 3,
        "output_tokens": None,
        "latency_ms": 12.5,
        "decision": "allow",
    }


def good_account() -> Record:
    return {
        "account_id": "acct-1",
        "created_at": "2026-01-02T03:04:05+02:00",
        "email": "a@example.com",
        "verification": "phone",
        "program": "education",
        "tier": 2,
    }


def _set(key: str, value: object) -> Callable[[Record], None]:
    def change(record: Record) -> None:
        record[key] = value

    return change


def _drop(key: str) -> Callable[[Record], None]:
    return lambda record: record.pop(key)


def _param(key: str, value: object) -> Callable[[Record], None]:
    def change(record: Record) -> None:
        record["params"][key] = value

    return change


REQUEST_MUTATIONS: dict[str, Callable[[Record], None]] = {
    "missing ts": _drop("ts"),
    "missing messages": _drop("messages"),
    "missing status": _drop("status"),
    "ts not a string": _set("ts", 1712000000),
    "ts without zone": _set("ts", "2026-04-01T12:30:45"),
    "ts bad month": _set("ts", "2026-13-01T12:30:45Z"),
    "ts garbage": _set("ts", "yesterday"),
    "ts bad day": _set("ts", "2026-02-30T00:00:00Z"),
    "ip garbage": _set("client_ip", "not-an-ip"),
    "ip out of range": _set("client_ip", "300.1.2.3"),
    "ip v6 bad": _set("client_ip", "2001:db8::g"),
    "endpoint unknown": _set("endpoint", "openai.embeddings"),
    "empty account": _set("account_id", ""),
    "account number": _set("account_id", 7),
    "status string": _set("status", "200"),
    "status low": _set("status", 42),
    "status high": _set("status", 600),
    "status bool": _set("status", True),
    "messages object": _set("messages", {"role": "user"}),
    "message bad role": _set("messages", [{"role": "robot", "content": "x"}]),
    "message no content": _set("messages", [{"role": "user"}]),
    "message content list": _set("messages", [{"role": "user", "content": ["x"]}]),
    "negative tokens": _set("input_tokens", -1),
    "negative latency": _set("latency_ms", -0.5),
    "retry float": _set("retry_count", 1.5),
    "decision unknown": _set("decision", "maybe"),
    "user agent number": _set("user_agent", 5),
    "params list": _set("params", [1]),
    "n zero": _param("n", 0),
    "max_tokens negative": _param("max_tokens", -5),
    "temperature string": _param("temperature", "hot"),
    "stream int": _param("stream", 1),
    "format unknown": _param("response_format", "yaml"),
    "logit_bias null": _param("logit_bias_size", None),
}
REQUEST_VARIANTS: dict[str, Callable[[Record], None]] = {
    "ipv6": _set("client_ip", "2001:db8::1"),
    "offset ts": _set("ts", "2026-04-01T12:30:45-05:30"),
    "no fraction": _set("ts", "2026-04-01T12:30:45Z"),
    "nanoseconds": _set("ts", "2026-04-01T12:30:45.123456789Z"),
    "empty messages": _set("messages", []),
    "empty content": _set("messages", [{"role": "user", "content": ""}]),
    "no params": _drop("params"),
    "extra field": _set("something_new", {"x": 1}),
    "integral float tokens": _set("output_tokens", 12.0),
    "null decision": _set("decision", None),
    "long prompt": _set("messages", [{"role": "user", "content": "x" * 1_000_000}]),
}


def _agrees(schema: Draft202012Validator, check: Callable[[Any], object], record: Record) -> bool:
    official = schema.is_valid(record)
    try:
        check(record)
        ours = True
    except SchemaError:
        ours = False
    return official == ours


@pytest.mark.parametrize("name", sorted(REQUEST_MUTATIONS))
def test_bad_requests_rejected_like_the_schema(name: str) -> None:
    record = good_request()
    REQUEST_MUTATIONS[name](record)
    assert not REQUEST.is_valid(record), "mutation must break the official schema"
    with pytest.raises(SchemaError) as info:
        validate_request(record)
    assert info.value.reason


@pytest.mark.parametrize("name", sorted(REQUEST_VARIANTS))
def test_good_request_variants_accepted_like_the_schema(name: str) -> None:
    record = good_request()
    REQUEST_VARIANTS[name](record)
    assert REQUEST.is_valid(record)
    assert _agrees(REQUEST, validate_request, record)


def test_the_fast_path_takes_plain_records_and_leaves_the_rest_to_the_full_check() -> None:
    record = good_request()
    assert _fast_request(record) == parse_timestamp(record["ts"], "ts")
    for name, mutate in REQUEST_MUTATIONS.items():
        bad = good_request()
        mutate(bad)
        assert _fast_request(bad) is None, name
    for name, vary in REQUEST_VARIANTS.items():
        good = good_request()
        vary(good)
        fast = _fast_request(good)
        assert fast is None or fast == parse_timestamp(good["ts"], "ts"), name
    for ts in ("2026-04-01T12:30:60.000Z", "2026-02-30T12:30:45.123Z", "2026-04-01T12:30:4５.123Z"):
        assert _fast_request({**good_request(), "ts": ts}) is None, ts


def test_reason_codes_are_specific() -> None:
    cases = {
        "missing ts": "missing_field",
        "ip garbage": "bad_ip",
        "ts garbage": "bad_timestamp",
        "endpoint unknown": "bad_enum",
        "status string": "wrong_type",
        "negative tokens": "below_minimum",
    }
    for name, reason in cases.items():
        record = good_request()
        REQUEST_MUTATIONS[name](record)
        with pytest.raises(SchemaError) as info:
            validate_request(record)
        assert info.value.reason == reason, name


def test_timestamp_offsets_are_converted_to_utc() -> None:
    assert parse_timestamp("2026-04-01T12:00:00+02:00", "ts") == parse_timestamp(
        "2026-04-01T10:00:00Z", "ts"
    )
    assert parse_timestamp("1970-01-01T00:00:01.5Z", "ts") == 1500


@pytest.mark.parametrize(
    "change",
    [
        _drop("created_at"),
        _drop("program"),
        _set("verification", "passport"),
        _set("program", "vip"),
        _set("created_at", "2026-01-02"),
        _set("tier", -1),
        _set("email", 3),
        _set("account_id", ""),
    ],
)
def test_bad_accounts_rejected_like_the_schema(change: Callable[[Record], None]) -> None:
    record = good_account()
    change(record)
    assert not ACCOUNT.is_valid(record)
    assert _agrees(ACCOUNT, validate_account, record)


def test_good_account_accepted() -> None:
    record = good_account()
    assert ACCOUNT.is_valid(record)
    assert validate_account(copy.deepcopy(record)) > 0


def test_labels() -> None:
    good = {"account_id": "a", "malicious": True, "campaign_id": None, "persona": "hydra"}
    assert LABELS.is_valid(good) and _agrees(LABELS, validate_label, good)
    for bad in (
        {**good, "malicious": "yes"},
        {k: v for k, v in good.items() if k != "campaign_id"},
    ):
        assert not LABELS.is_valid(bad)
        assert _agrees(LABELS, validate_label, bad)
