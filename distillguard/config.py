"""Typed gateway settings, read once at start-up.

:class:`Settings` is a frozen dataclass. :func:`load_settings` builds it from, in order of
precedence, explicit options (the CLI), environment variables ``DG_<FIELD>`` (upper case, e.g.
``DG_UPSTREAM_URL``, ``DG_TRUSTED_PROXIES=10.0.0.0/8,192.168.0.0/16``) and an optional TOML file
whose top-level keys are the field names. Every value is checked here, so the gateway never
validates configuration per request.

Example::

    settings = load_settings({"upstream_url": "http://127.0.0.1:9000"}, env=os.environ)
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

from distillguard.errors import ConfigurationError
from distillguard.logs.segments import FORMATS, Format

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class ContentPolicy:
    """How much request and response text the request log keeps.

    ``mode`` is ``full``, ``truncated`` (keep the first ``limit`` characters of each text) or
    ``none`` (message contents become empty strings and ``response_text`` null).
    """

    mode: Literal["full", "truncated", "none"] = "full"
    limit: int = 0

    @classmethod
    def parse(cls, text: str) -> ContentPolicy:
        """Parse ``full``, ``none`` or ``truncated:N``."""
        value = text.strip().lower()
        if value == "full":
            return cls("full")
        if value == "none":
            return cls("none")
        if value.startswith("truncated:"):
            try:
                limit = int(value.split(":", 1)[1])
            except ValueError:
                limit = -1
            if limit < 0:
                raise ConfigurationError(f"log content {text!r}: N in truncated:N must be >= 0")
            return cls("truncated", limit)
        raise ConfigurationError(
            f"log content {text!r} is not valid; use full, none or truncated:N (e.g. truncated:4096)"
        )

    def __str__(self) -> str:
        return f"truncated:{self.limit}" if self.mode == "truncated" else self.mode

    def cut(self, text: str) -> str:
        """Apply the policy to one text (``none`` gives the empty string)."""
        if self.mode == "full":
            return text
        if self.mode == "none":
            return ""
        return text[: self.limit]


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the gateway process needs, validated."""

    upstream_url: str = "http://127.0.0.1:9000"
    upstream_key: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    db_url: str | None = None  # None: $DG_DATABASE_URL, else sqlite:///.dg/distillguard.db
    limiter_url: str = "memory://"
    limiter_failure: Literal["open", "closed"] = "open"  # the limiter storage's own default
    log_dir: str = ".dg/logs"
    log_format: Format = "jsonl.gz"
    log_content: ContentPolicy = ContentPolicy()
    log_max_records: int = 100_000
    log_max_bytes: int | None = 256 * 1024 * 1024
    log_max_age_s: float | None = 300.0
    log_queue_size: int = 50_000
    trusted_proxies: tuple[Network, ...] = ()
    ja4_header: str = "x-ja4"
    max_body_bytes: int = 32 * 1024 * 1024
    body_timeout_s: float = 30.0  # to receive a request body that arrives in several parts
    max_in_flight: int = 10_000  # requests in progress before new ones are shed with a 503
    upstream_connect_timeout_s: float = 5.0
    upstream_read_timeout_s: float = 600.0
    upstream_pool_size: int = 512
    default_max_tokens: int = 4096
    include_usage: bool = True
    admin_token: str | None = None
    enforcement_url: str | None = None  # enforcement store (memory://, redis://…); None: off
    auth_refresh_s: float = 5.0
    log_level: str = "info"

    def __post_init__(self) -> None:
        if not self.upstream_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"upstream URL {self.upstream_url!r} must start with http:// or https://"
            )
        if self.limiter_failure not in ("open", "closed"):
            raise ConfigurationError("limiter failure mode must be 'open' or 'closed'")
        if self.log_format not in FORMATS:
            raise ConfigurationError(
                f"log format {self.log_format!r} is not valid; use one of {', '.join(FORMATS)}"
            )
        for name in (
            "port",
            "max_body_bytes",
            "log_max_records",
            "log_queue_size",
            "max_in_flight",
        ):
            if getattr(self, name) < (0 if name == "port" else 1):
                raise ConfigurationError(f"{name} must be positive")
        for name in ("upstream_connect_timeout_s", "upstream_read_timeout_s", "body_timeout_s"):
            if getattr(self, name) <= 0:
                raise ConfigurationError(f"{name} must be greater than 0")
        if self.default_max_tokens < 0:
            raise ConfigurationError("default_max_tokens must be >= 0")
        if not self.ja4_header or self.ja4_header != self.ja4_header.lower():
            raise ConfigurationError("ja4_header must be a lower-case header name")


def parse_networks(values: str | list[str] | tuple[Any, ...]) -> tuple[Network, ...]:
    """Parse trusted proxy networks (CIDR strings or single addresses)."""
    items = values.split(",") if isinstance(values, str) else list(values)
    networks: list[Network] = []
    for item in items:
        if isinstance(item, ipaddress.IPv4Network | ipaddress.IPv6Network):
            networks.append(item)
            continue
        text = str(item).strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError as exc:
            raise ConfigurationError(f"trusted proxy {text!r} is not a CIDR network") from exc
    return tuple(networks)


_BOOL = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False}


def _coerce(name: str, value: Any) -> Any:
    """Turn a raw value (string from env, TOML value, CLI value) into the field's type."""
    if value is None:
        return None
    if name == "log_content":
        return value if isinstance(value, ContentPolicy) else ContentPolicy.parse(str(value))
    if name == "trusted_proxies":
        return parse_networks(value)
    if name == "ja4_header":
        return str(value).lower()
    ints = {"port", "log_max_records", "log_max_bytes", "log_queue_size", "max_body_bytes"}
    ints |= {"upstream_pool_size", "default_max_tokens", "max_in_flight"}
    floats = {"log_max_age_s", "upstream_connect_timeout_s", "upstream_read_timeout_s"}
    floats |= {"auth_refresh_s", "body_timeout_s"}
    try:
        if name in ints:
            return int(value)
        if name in floats:
            return float(value)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"setting {name}: {value!r} is not a number") from exc
    if name == "include_usage":
        if isinstance(value, bool):
            return value
        flag = _BOOL.get(str(value).lower())
        if flag is None:
            raise ConfigurationError(f"setting {name}: {value!r} is not true/false")
        return flag
    return str(value)


FIELDS = frozenset(f.name for f in fields(Settings))


def load_settings(
    options: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    toml_path: str | Path | None = None,
) -> Settings:
    """Build :class:`Settings` from CLI options, ``DG_*`` environment variables and a TOML file.

    ``None`` values in ``options`` mean "not given". An unknown TOML key is an error, so typos
    do not pass silently.
    """
    raw: dict[str, Any] = {}
    if toml_path is not None:
        try:
            data = tomllib.loads(Path(toml_path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigurationError(f"cannot read settings file {toml_path}: {exc}") from exc
        unknown = sorted(set(data) - FIELDS)
        if unknown:
            raise ConfigurationError(
                f"settings file {toml_path}: unknown keys {', '.join(unknown)}"
            )
        raw.update(data)
    environ = os.environ if env is None else env
    for name in FIELDS:
        value = environ.get(f"DG_{name.upper()}")
        if value is not None and value != "":
            raw[name] = value
    for name, value in (options or {}).items():
        if name not in FIELDS:
            raise ConfigurationError(f"unknown setting {name!r}")
        if value is not None and value != ():
            raw[name] = value
    return replace(Settings(), **{name: _coerce(name, value) for name, value in raw.items()})
