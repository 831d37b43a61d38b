"""Helpers every CLI sub-app uses: one transaction per command, problems on stderr."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import typer
from sqlalchemy.orm import Session

from scishare.core.database import session_scope
from scishare.core.errors import SciShareError

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
