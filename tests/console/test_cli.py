from __future__ import annotations

from click.testing import CliRunner

from distillguard.cli.main import cli
from distillguard.console.auth import verify_password
from distillguard.errors import ConfigurationError

from console.sample_dataset import SamplePaths


def test_hash_password_prints_an_scrypt_hash() -> None:
    result = CliRunner().invoke(cli, ["console", "--hash-password"], input="s3cret\ns3cret\n")
    assert result.exit_code == 0, result.output
    stored = result.output.strip().splitlines()[-1]
    assert verify_password("s3cret", stored)


def test_console_needs_findings_and_users(sample: SamplePaths) -> None:
    result = CliRunner().invoke(cli, ["console"])
    assert result.exit_code != 0 and "--findings" in result.output
    result = CliRunner().invoke(cli, ["console", "--findings", str(sample.findings)])
    assert isinstance(result.exception, ConfigurationError)
    assert "no console users" in str(result.exception)


def test_bad_user_option(sample: SamplePaths) -> None:
    args = ["console", "--findings", str(sample.findings), "--user", "ann:root:pw"]
    result = CliRunner().invoke(cli, args)
    assert isinstance(result.exception, ConfigurationError)
