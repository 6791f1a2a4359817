from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from distillguard.config import ContentPolicy, Settings, load_settings, parse_networks
from distillguard.errors import ConfigurationError


def test_defaults_are_valid() -> None:
    settings = load_settings(env={})
    assert settings == Settings()
    assert settings.limiter_url == "memory://"
    assert settings.log_content == ContentPolicy("full")


def test_precedence_options_over_env_over_toml(tmp_path: Path) -> None:
    toml = tmp_path / "dg.toml"
    toml.write_text('port = 7000\nlog_dir = "from-toml"\nupstream_url = "http://toml:1"\n')
    env = {"DG_PORT": "7100", "DG_UPSTREAM_URL": "http://env:2"}
    settings = load_settings({"port": 7200, "host": None}, env=env, toml_path=toml)
    assert settings.port == 7200  # option wins
    assert settings.upstream_url == "http://env:2"  # env over TOML
    assert settings.log_dir == "from-toml"
    assert settings.host == "127.0.0.1"  # None means "not given"


def test_env_values_are_typed() -> None:
    env = {
        "DG_TRUSTED_PROXIES": "10.0.0.0/8, 2001:db8::/32",
        "DG_LOG_CONTENT": "truncated:100",
        "DG_INCLUDE_USAGE": "false",
        "DG_UPSTREAM_READ_TIMEOUT_S": "2.5",
    }
    settings = load_settings(env=env)
    assert settings.trusted_proxies == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("2001:db8::/32"),
    )
    assert settings.log_content == ContentPolicy("truncated", 100)
    assert settings.include_usage is False
    assert settings.upstream_read_timeout_s == 2.5


@pytest.mark.parametrize(
    "options",
    [
        {"upstream_url": "ftp://x"},
        {"limiter_failure": "maybe"},
        {"log_format": "csv"},
        {"port": "eighty"},
        {"max_body_bytes": 0},
        {"log_content": "some"},
        {"log_content": "truncated:x"},
        {"trusted_proxies": ["not-a-network"]},
        {"include_usage": "perhaps"},
        {"nonsense": 1},
    ],
)
def test_bad_settings_are_configuration_errors(options: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        load_settings(options, env={})


def test_unknown_toml_key_is_reported(tmp_path: Path) -> None:
    toml = tmp_path / "dg.toml"
    toml.write_text("prot = 1\n")
    with pytest.raises(ConfigurationError, match="prot"):
        load_settings(env={}, toml_path=toml)


def test_content_policy_cuts() -> None:
    assert ContentPolicy.parse("full").cut("abcdef") == "abcdef"
    assert ContentPolicy.parse("none").cut("abcdef") == ""
    policy = ContentPolicy.parse("truncated:3")
    assert policy.cut("abcdef") == "abc" and str(policy) == "truncated:3"


def test_single_addresses_are_networks() -> None:
    assert parse_networks("192.0.2.1") == (ipaddress.ip_network("192.0.2.1/32"),)
