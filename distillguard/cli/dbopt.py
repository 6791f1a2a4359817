"""Options and output shared by the control-plane commands (orgs, accounts, keys, tiers, db).

``--db`` takes a database URL (default: ``$DG_DATABASE_URL``, else ``sqlite:///.dg/distillguard.db``);
``--json`` switches a read command from a rich table to JSON on stdout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click
import orjson

if TYPE_CHECKING:
    from distillguard.controlplane.store import ControlPlaneStore

F = TypeVar("F", bound=Callable[..., Any])

db_option: Callable[[F], F] = click.option(
    "--db",
    "db_url",
    metavar="URL",
    default=None,
    help="Database URL (sqlite:///file.db or postgresql://…); default $DG_DATABASE_URL, "
    "else sqlite:///.dg/distillguard.db.",
)

json_option: Callable[[F], F] = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON instead of a table."
)


@contextmanager
def open_store(db_url: str | None) -> Iterator[ControlPlaneStore]:
    """Open the control-plane store for one command and close it afterwards."""
    from distillguard.controlplane.store import ControlPlaneStore  # not needed for --help

    store = ControlPlaneStore.open(db_url)
    try:
        yield store
    finally:
        store.close()


def echo_json(document: Any) -> None:
    """Print ``document`` as indented JSON."""
    click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())


def echo_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print rows as a rich table (``None`` shown as ``-``)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("-" if cell is None else str(cell) for cell in row))
    Console(soft_wrap=True).print(table)


def echo_fields(title: str, document: dict[str, Any]) -> None:
    """Print one object as a two-column table of fields and values."""
    echo_table(title, ("field", "value"), document.items())
