"""Writing many rows of one table at once: on PostgreSQL ids are drawn from the table's
sequence and the rows sent with COPY (one round trip, no per-row parameter handling); on
SQLite a multi-row INSERT … RETURNING. Constraints and triggers apply either way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert, text
from sqlalchemy.orm import Session

from scishare.core.database import is_postgres


def write_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert `rows` (dicts with the same keys) into `table`; their new ids, in order."""
    if not rows:
        return []
    if not is_postgres(session):
        return list(session.scalars(insert(table).returning(
            table.c.id, sort_by_parameter_order=True), list(rows)))
    from psycopg import sql

    ids = list(session.scalars(text(
        "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
        {"table": table.name, "n": len(rows)}))
    columns = ["id", *rows[0]]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns)))
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(statement) as copy:
        for row_id, row in zip(ids, rows, strict=True):
            copy.write_row([row_id, *row.values()])
    return ids
