"""`scishare db …`: migrations and reference data."""

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import typer
from sqlalchemy.orm import Session

from scishare.core.database import session_scope
from scishare.core.errors import SciShareError
from scishare.core.migrations import upgrade
from scishare.core.settings import get_settings

db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)

T = TypeVar("T")


def fail(lines: list[str]) -> None:
    """Print problems the way every command does, and exit with status 2."""
    for line in lines:
        typer.echo(line, err=True)
    raise typer.Exit(code=2)


@contextmanager
def cli_session() -> Iterator[Session]:
    """A transaction for one command; domain errors become a message and exit status 2."""
    try:
        with session_scope() as session:
            yield session
    except SciShareError as error:
        fail([str(error)])


def run_or_fail(action: Callable[[], T]) -> T:
    try:
        return action()
    except SciShareError as error:
        fail([str(error)])
        raise AssertionError("unreachable") from None


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Run migrations to head and load the reference data shipped in the package."""
    from scishare.catalog.service import sync_reference_data

    url = get_settings().database_url
    upgrade(url)
    with cli_session() as session:
        classes, techniques = sync_reference_data(session)
    typer.echo(f"database at head: {url} ({classes} classes, {techniques} techniques)",
               file=sys.stdout)
