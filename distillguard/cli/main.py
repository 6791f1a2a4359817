"""Entry point of the ``distillguard`` command.

Command groups live in their own modules and are loaded lazily from :data:`COMMANDS`, so
``distillguard --help`` stays fast and a missing optional extra only affects its own command.
Every :class:`distillguard.errors.Error` becomes a one-line message and its ``exit_code`` here,
in one place.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import click

from distillguard import __version__
from distillguard.errors import Error

# command name -> "module:attribute" of a click.Command
COMMANDS: dict[str, str] = {
    "serve": "distillguard.cli.serve:serve",
    "mock-upstream": "distillguard.cli.mock_upstream:mock_upstream",
    "demo": "distillguard.cli.demo:demo",
    "accounts": "distillguard.cli.accounts:accounts",
    "keys": "distillguard.cli.keys:keys",
    "tiers": "distillguard.cli.tiers:tiers",
    "orgs": "distillguard.cli.orgs:orgs",
    "db": "distillguard.cli.db:db",
    "admin-api": "distillguard.cli.admin_api:admin_api",
    "simulate": "distillguard.cli.simulate:simulate",
    "evaluate": "distillguard.cli.evaluate:evaluate",
    "detect": "distillguard.cli.detect:detect",
    "enforce": "distillguard.cli.enforce:enforce",
    "console": "distillguard.cli.console:console",
    "report": "distillguard.cli.report:report",
    "intel": "distillguard.cli.intel:intel",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        available = []
        for name, target in COMMANDS.items():
            module = target.split(":", 1)[0]
            if importlib.util.find_spec(module) is not None:
                available.append(name)
        return sorted(available)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":", 1)
        if importlib.util.find_spec(module_name) is None:
            return None
        command = getattr(importlib.import_module(module_name), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="distillguard")
def cli() -> None:
    """Protect an LLM API against industrial-scale distillation."""


def main(argv: list[str] | None = None) -> Any:
    """Run the CLI; map distillguard errors to exit codes in one place."""
    try:
        return cli.main(args=argv, prog_name="distillguard", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except Error as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
