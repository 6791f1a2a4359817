from __future__ import annotations

from pathlib import Path

import pytest

from distillguard.console.auth import (
    Signer,
    User,
    check_csrf,
    hash_password,
    parse_user_option,
    read_users,
    verify_password,
)
from distillguard.errors import ConfigurationError


def test_scrypt_round_trip() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$")
    assert verify_password("correct horse", stored)
    assert not verify_password("wrong", stored)
    assert not verify_password("x", "md5$abc")


def test_users_file(tmp_path: Path) -> None:
    path = tmp_path / "users.toml"
    path.write_text(f'[users.alice]\nrole = "admin"\npassword_hash = "{hash_password("pw")}"\n')
    users = read_users(path)
    assert users["alice"].can_act
    path.write_text('[users.bob]\nrole = "root"\npassword_hash = "scrypt$1$1$1$a$b"\n')
    with pytest.raises(ConfigurationError, match="role"):
        read_users(path)
    path.write_text('[users.bob]\nrole = "analyst"\npassword_hash = "plain"\n')
    with pytest.raises(ConfigurationError, match="hash-password"):
        read_users(path)


def test_user_option() -> None:
    user = parse_user_option("ann:analyst:pw:with:colons")
    assert user.role == "analyst" and verify_password("pw:with:colons", user.password_hash)
    with pytest.raises(ConfigurationError):
        parse_user_option("ann")


def test_session_cookie_is_signed_and_expires() -> None:
    signer = Signer(b"k" * 32)
    session, cookie = signer.new_session(User("ann", "analyst", ""), now=1000.0)
    assert signer.session(cookie, now=1001.0) == session
    assert signer.session(cookie, now=session.expires + 1) is None
    assert Signer(b"o" * 32).session(cookie, now=1001.0) is None
    payload, mac = cookie.split(".")
    assert signer.session(payload[:-2] + "xx." + mac, now=1001.0) is None
    with pytest.raises(ConfigurationError):
        Signer(b"short")


def test_csrf_compare() -> None:
    assert check_csrf("abc", "abc")
    assert not check_csrf("abc", "abd") and not check_csrf("abc", None)
