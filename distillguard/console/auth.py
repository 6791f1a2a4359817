"""Console users, roles and sessions: scrypt password hashes, HMAC-signed cookies, CSRF tokens.

Two roles: ``analyst`` reads everything; ``admin`` also takes enforcement actions. Users come
from a TOML file::

    [users.alice]
    role = "admin"
    password_hash = "scrypt$16384$8$1$<salt b64>$<hash b64>"   # distillguard console --hash-password

or from ``--user name:role:password`` options (hashed at start-up, never stored in clear).

A session is a cookie ``<payload b64>.<HMAC-SHA256 b64>`` whose payload holds the user, the role,
the expiry and a random CSRF token; every form repeats that token and every POST checks it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import orjson

from distillguard.errors import ConfigurationError

ROLES = ("analyst", "admin")
SESSION_SECONDS = 8 * 3600
_N, _R, _P = 2**14, 8, 1


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """An scrypt hash of ``password`` in the form ``scrypt$N$r$p$salt$hash``."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """True if ``password`` matches a hash from :func:`hash_password` (constant-time compare)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(
            password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@dataclass(frozen=True)
class User:
    """A console user."""

    name: str
    role: str
    password_hash: str

    @property
    def can_act(self) -> bool:
        """Only admins take enforcement actions."""
        return self.role == "admin"


def _check_role(name: str, role: object) -> str:
    if role not in ROLES:
        raise ConfigurationError(f"user {name!r}: role must be one of {', '.join(ROLES)}")
    return str(role)


def read_users(path: Path) -> dict[str, User]:
    """Read ``[users.<name>]`` tables with ``role`` and ``password_hash`` from a TOML file."""
    try:
        document = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigurationError(f"{path}: no such users file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: not valid TOML ({exc})") from None
    users: dict[str, User] = {}
    table = document.get("users")
    if not isinstance(table, dict) or not table:
        raise ConfigurationError(f"{path}: needs at least one [users.<name>] table")
    for name, entry in table.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("password_hash"), str):
            raise ConfigurationError(f"{path}: users.{name} needs a password_hash string")
        if not entry["password_hash"].startswith("scrypt$"):
            raise ConfigurationError(
                f"{path}: users.{name}.password_hash is not an scrypt hash; make one with"
                " 'distillguard console --hash-password'"
            )
        users[name] = User(name, _check_role(name, entry.get("role")), entry["password_hash"])
    return users


def parse_user_option(text: str) -> User:
    """A user from ``name:role:password`` (the password is hashed at once)."""
    name, _, rest = text.partition(":")
    role, _, password = rest.partition(":")
    if not name or not password:
        raise ConfigurationError(f"--user {name or '?'}: expected name:role:password")
    return User(name, _check_role(name, role), hash_password(password))


@dataclass(frozen=True)
class Session:
    """A signed-in user as carried by the session cookie."""

    user: str
    role: str
    csrf: str
    expires: int

    @property
    def can_act(self) -> bool:
        """Only admins take enforcement actions."""
        return self.role == "admin"


class Signer:
    """Signs and checks session cookies and CSRF tokens with one secret key."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ConfigurationError("the console's session secret must be at least 16 bytes")
        self._key = secret

    def _mac(self, payload: bytes) -> str:
        return _b64(hmac.new(self._key, payload, hashlib.sha256).digest())

    def sign(self, value: dict[str, object]) -> str:
        """``payload.mac`` for a JSON object."""
        payload = _b64(orjson.dumps(value))
        return f"{payload}.{self._mac(payload.encode())}"

    def unsign(self, token: str) -> dict[str, object] | None:
        """The object inside a token from :meth:`sign`, or ``None`` if forged or malformed."""
        payload, _, mac = token.partition(".")
        if not mac or not hmac.compare_digest(mac, self._mac(payload.encode())):
            return None
        try:
            value = orjson.loads(_unb64(payload))
        except (ValueError, orjson.JSONDecodeError):
            return None
        return value if isinstance(value, dict) else None

    def new_session(self, user: User, now: float | None = None) -> tuple[Session, str]:
        """A fresh session for ``user`` and its cookie value."""
        expires = int((now or time.time()) + SESSION_SECONDS)
        session = Session(user.name, user.role, secrets.token_urlsafe(24), expires)
        cookie = self.sign(
            {"u": session.user, "r": session.role, "c": session.csrf, "e": session.expires}
        )
        return session, cookie

    def session(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session in a cookie, or ``None`` if absent, forged or expired."""
        if not cookie:
            return None
        value = self.unsign(cookie)
        if value is None:
            return None
        user, role, csrf, expires = value.get("u"), value.get("r"), value.get("c"), value.get("e")
        if not (isinstance(user, str) and isinstance(role, str) and isinstance(csrf, str)):
            return None
        if not isinstance(expires, int) or expires < (now or time.time()) or role not in ROLES:
            return None
        return Session(user, role, csrf, expires)


def check_csrf(expected: str, given: str | None) -> bool:
    """True if the form's token equals the session's (constant-time)."""
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
