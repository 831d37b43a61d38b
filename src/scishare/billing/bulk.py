"""Many rows at once.

Writing them: on PostgreSQL the rows are sent with COPY (one round trip, no per-row parameter
handling), their ids drawn from the table's sequence first when the caller needs them; on
SQLite a multi-row INSERT … RETURNING. Constraints and triggers apply either way, and a
violated constraint is raised as SQLAlchemy's `IntegrityError` on both.

Matching a column against thousands of values: `among`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Table, any_, bindparam, insert, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.types import ARRAY

from scishare.core.database import is_postgres

T = TypeVar("T")

# The sequence is looked up once, in an InitPlan: `nextval(pg_get_serial_sequence(…))` would
# resolve the sequence's name again for every row, several times slower than the nextval.
_NEXT_IDS = text("SELECT nextval((SELECT CAST(pg_get_serial_sequence(:table, 'id') AS regclass)))"
                 " FROM generate_series(1, :n)")


def among(session: Session, column: QueryableAttribute[T] | ColumnElement[T],
          values: Collection[T]) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL as `= ANY(array)` with the values in one parameter,
    because an IN list of thousands of parameters takes longer to render and parse (in
    SQLAlchemy and psycopg) than the query takes to run."""
    if not is_postgres(session):
        return column.in_(values)
    return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))


def write_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert `rows` (dicts with the same keys) into `table`; their new ids, in order."""
    if not rows:
        return []
    if not is_postgres(session):
        return list(session.scalars(insert(table).returning(
            table.c.id, sort_by_parameter_order=True), list(rows)))
    ids = [int(row_id) for row_id in session.scalars(_NEXT_IDS,
                                                    {"table": table.name, "n": len(rows)})]
    _copy(session, table, ["id", *rows[0]],
          ([row_id, *row.values()] for row_id, row in zip(ids, rows, strict=True)))
    return ids


def append_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` like `write_rows` when nobody needs their ids (they come from the column's
    default, so PostgreSQL saves the round trip that draws them)."""
    if not rows:
        return
    if not is_postgres(session):
        session.execute(insert(table), list(rows))
        return
    _copy(session, table, list(rows[0]), (list(row.values()) for row in rows))


def _copy(session: Session, table: Table, columns: list[str],
          values: Iterable[Sequence[Any]]) -> None:
    import psycopg
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns)))
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(statement) as copy:
            for row in values:
                copy.write_row(row)
    except psycopg.errors.IntegrityError as error:
        # The raw driver cursor bypasses SQLAlchemy's error wrapping; callers catch one type.
        raise IntegrityError(statement.as_string(cursor), None, error) from error
