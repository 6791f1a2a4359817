"""Readable, prefixed identifiers (``org_…``, ``acct_…``, ``key_…``) and base62 text.

Identifiers carry their kind in a prefix so that a log line or a support ticket shows at a glance
whether it names an organization, an account or a key. The random part is base62 (letters and
digits only), so an identifier is selected whole by a double click and never needs quoting.
"""

from __future__ import annotations

import secrets

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

ORG_PREFIX = "org_"
ACCOUNT_PREFIX = "acct_"
KEY_PREFIX = "key_"

# 14 base62 characters hold ~83 random bits: collisions are not a practical concern, and the
# unique constraints in the database catch one anyway.
_ID_LENGTH = 14


def base62(data: bytes, length: int) -> str:
    """Encode ``data`` as exactly ``length`` base62 characters (left-padded with ``0``)."""
    number = int.from_bytes(data, "big")
    chars: list[str] = []
    while number:
        number, digit = divmod(number, 62)
        chars.append(BASE62[digit])
    if len(chars) > length:
        raise ValueError(f"{len(data)} bytes do not fit in {length} base62 characters")
    return "".join(reversed(chars)).rjust(length, "0")


def new_id(prefix: str) -> str:
    """A fresh random identifier with ``prefix``, e.g. ``new_id("acct_") -> "acct_3kF9…"``."""
    return prefix + "".join(secrets.choice(BASE62) for _ in range(_ID_LENGTH))
