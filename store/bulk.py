"""Multi-row INSERTs for a burst's group commit, cheap in the one process that acknowledges every request.

On PostgreSQL a batch is one fixed statement, `INSERT ... SELECT ... FROM unnest(<one array per column>)`,
whatever the number of rows: its text never changes, so psycopg parses it once and the server prepares it,
where a multi-row VALUES statement is new text (parsed again, too long for psycopg's cache) at every batch
size. SQLite, which has no arrays, gets a plain Core executemany. Neither goes through the ORM.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import JSON, Column, Connection, Table, insert
from sqlalchemy.engine import Dialect


def insert_rows(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], *, returning_ids: bool = False
) -> list[int]:
    """Insert `rows` (every one with the same keys); with `returning_ids`, the new ids in row order."""
    if not rows:
        return []
    keys = tuple(rows[0])
    if conn.dialect.name != "postgresql":
        if not returning_ids:
            conn.execute(insert(table), list(rows))
            return []
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return [row[0] for row in conn.execute(stmt, list(rows))]
    sql, converters = _unnest_insert(table, keys, returning_ids, conn.dialect)
    params = {
        f"c{i}": [convert(row[key]) for row in rows] for i, (key, convert) in enumerate(converters.items())
    }
    result = conn.exec_driver_sql(sql, params)
    if not returning_ids:
        return []
    # The SELECT is ordered by each row's position, and PostgreSQL draws the serial ids in that order, so
    # the ids sorted are the rows' ids in order (SQLAlchemy's own "insertmanyvalues" relies on the same).
    return sorted(row[0] for row in result)


@cache
def _unnest_insert(
    table: Table, keys: tuple[str, ...], returning_ids: bool, dialect: Dialect
) -> tuple[str, dict[str, Callable[[Any], Any]]]:
    """The statement for these columns, and how each column's Python value becomes an array element."""
    columns = [table.c[key] for key in keys]
    arrays, selected, converters = [], [], {}
    for i, column in enumerate(columns):
        if isinstance(column.type, JSON):  # sent as text, cast back row by row: psycopg has no json[] dumper
            arrays.append(f"CAST(%(c{i})s AS TEXT[])")
            selected.append(f"CAST(u.c{i} AS {column.type.compile(dialect)})")
        else:
            arrays.append(f"CAST(%(c{i})s AS {column.type.compile(dialect)}[])")
            selected.append(f"u.c{i}")
        converters[column.key] = _converter(column, dialect)
    names = ", ".join(f'"{column.name}"' for column in columns)
    aliases = ", ".join(f"c{i}" for i in range(len(columns)))
    sql = (
        f'INSERT INTO "{table.name}" ({names}) SELECT {", ".join(selected)} '
        f"FROM unnest({', '.join(arrays)}) WITH ORDINALITY AS u({aliases}, position) ORDER BY u.position"
    )
    if returning_ids:
        sql += " RETURNING id"
    return sql, converters


def _converter(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any]:
    """The column type's own bind processing (UTC datetimes checked), JSON as its text."""
    if isinstance(column.type, JSON):
        none_as_null = column.type.none_as_null
        return lambda value: None if value is None and none_as_null else json.dumps(value)
    process = column.type.bind_processor(dialect)
    return process if process is not None else _same


def _same(value: Any) -> Any:
    return value
