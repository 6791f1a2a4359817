"""API key format, generation and verification.

A key reads ``dg-<key_id>-<secret>``, e.g. ``dg-key_3kF9Qm1xZ0aB7c-4Vt…``. The ``key_id`` is public
(it appears in logs and in the admin views) and lets the gateway find the key with one lookup;
the ``secret`` is 32 random bytes in base62 (43 characters). The secret is shown once, when the
key is created, and only a salted SHA-256 hash of it is stored.

Why a fast hash and not bcrypt/scrypt/argon2: slow hashes exist to make guessing *low-entropy*
passwords expensive after a database leak. A 256-bit random secret cannot be guessed however
cheap each guess is, so a slow hash would only cost the gateway CPU on every request. The salt
keeps equal secrets from producing equal hashes, and :func:`hmac.compare_digest` keeps the
comparison constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from distillguard.controlplane.identifiers import KEY_PREFIX, base62
from distillguard.errors import AuthError

KEY_MARKER = "dg-"
SECRET_BYTES = 32
SECRET_LENGTH = 43  # base62 characters needed for 32 bytes
SALT_BYTES = 16

_KEY_PATTERN = re.compile(
    re.escape(KEY_MARKER) + f"({KEY_PREFIX}[0-9A-Za-z]{{1,60}})-([0-9A-Za-z]{{{SECRET_LENGTH}}})"
)


@dataclass(frozen=True, slots=True)
class KeyMaterial:
    """What the database stores for a new key (hex salt and hash), plus the one-time full key."""

    key_id: str
    api_key: str
    salt: str
    secret_hash: str


def hash_secret(salt: bytes, secret: str) -> bytes:
    """SHA-256 over ``salt + secret`` (see the module docstring for why this is enough)."""
    return hashlib.sha256(salt + secret.encode("ascii")).digest()


def generate_key(key_id: str) -> KeyMaterial:
    """Create a random secret for ``key_id`` and the salted hash to store."""
    secret = base62(secrets.token_bytes(SECRET_BYTES), SECRET_LENGTH)
    salt = secrets.token_bytes(SALT_BYTES)
    return KeyMaterial(
        key_id=key_id,
        api_key=f"{KEY_MARKER}{key_id}-{secret}",
        salt=salt.hex(),
        secret_hash=hash_secret(salt, secret).hex(),
    )


def parse_key(api_key: str) -> tuple[str, str]:
    """Split a presented key into ``(key_id, secret)``.

    Raises :class:`AuthError` when the key is empty or does not have the distillguard format.
    """
    if not api_key:
        raise AuthError("missing API key: send it as 'Authorization: Bearer dg-…' or 'x-api-key'")
    match = _KEY_PATTERN.fullmatch(api_key)
    if match is None:
        raise AuthError("malformed API key: expected the form dg-key_<id>-<secret>")
    return match[1], match[2]


def verify_secret(salt: bytes, expected_hash: bytes, secret: str) -> bool:
    """True if ``secret`` hashes to ``expected_hash`` under ``salt`` (constant-time compare)."""
    return hmac.compare_digest(hash_secret(salt, secret), expected_hash)
