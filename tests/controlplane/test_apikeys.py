from __future__ import annotations

import pytest

from distillguard.controlplane.apikeys import (
    SECRET_LENGTH,
    generate_key,
    hash_secret,
    parse_key,
    verify_secret,
)
from distillguard.controlplane.identifiers import BASE62, KEY_PREFIX, base62, new_id
from distillguard.errors import AuthError


def test_generated_key_parses_back_and_verifies() -> None:
    material = generate_key("key_abc123")
    key_id, secret = parse_key(material.api_key)
    assert key_id == "key_abc123"
    assert len(secret) == SECRET_LENGTH
    salt, digest = bytes.fromhex(material.salt), bytes.fromhex(material.secret_hash)
    assert verify_secret(salt, digest, secret)
    assert not verify_secret(salt, digest, secret[:-1] + ("0" if secret[-1] != "0" else "1"))
    assert secret not in material.secret_hash and secret not in material.salt


def test_salts_differ_so_hashes_differ() -> None:
    first, second = generate_key("key_a"), generate_key("key_a")
    assert first.salt != second.salt
    assert hash_secret(b"s1", "x") != hash_secret(b"s2", "x")


@pytest.mark.parametrize(
    "presented",
    [
        "dg-",
        "dg-key_abc",
        "xdg-key_abc-" + "a" * 43,
        "dg-acct_abc-" + "a" * 43,
        "dg-key_abc-" + "a" * 42,
        "dg-key_abc-" + "a" * 42 + "_",
    ],
)
def test_malformed_keys_are_auth_errors(presented: str) -> None:
    with pytest.raises(AuthError, match="malformed"):
        parse_key(presented)


def test_identifiers() -> None:
    ident = new_id(KEY_PREFIX)
    assert ident.startswith("key_") and len(ident) == 18
    assert all(c in BASE62 for c in ident[4:])
    assert base62(b"\x00\x01", 3) == "001"
    assert base62(b"\xff" * 32, SECRET_LENGTH) != "0" * SECRET_LENGTH
    with pytest.raises(ValueError):
        base62(b"\xff" * 32, 10)
