"""Build tables from SELECT queries inside the warehouse, atomically.

A whole-table model is replaced in one transaction (drop + create-as-select), so a BI tool
reading the table sees either the old or the new version, never a half-written one. A
date-partitioned model replaces just the days of a window (delete + insert, one transaction),
so re-running a partition changes nothing and never touches other days.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from warehouse import Warehouse


def _qualified(warehouse: Warehouse, schema: str, table: str) -> str:
    return f"{warehouse.quote(schema)}.{warehouse.quote(table)}"


def replace_table(
    warehouse: Warehouse,
    schema: str,
    table: str,
    select_sql: str,
    params: Mapping[str, Any] | None = None,
) -> int:
    """Replace `schema.table` with the result of `select_sql`; return its row count."""
    target = _qualified(warehouse, schema, table)
    with warehouse.transaction() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {warehouse.quote(schema)}"))
        connection.execute(sa.text(f"DROP TABLE IF EXISTS {target}"))
        connection.execute(sa.text(f"CREATE TABLE {target} AS {select_sql}"), dict(params or {}))
        return connection.execute(sa.text(f"SELECT count(*) FROM {target}")).scalar_one()


def replace_date_range(
    warehouse: Warehouse,
    schema: str,
    table: str,
    select_sql: str,
    date_column: str,
    start: Any,
    end: Any,
    params: Mapping[str, Any] | None = None,
) -> int:
    """Replace the rows of `schema.table` whose `date_column` lies in [start, end).

    `select_sql` must return only rows of that range (it receives `:range_start` and
    `:range_end`). The table is created from the query on first use. Returns the number of
    rows inserted.
    """
    target = _qualified(warehouse, schema, table)
    column = warehouse.quote(date_column)
    bound = {**dict(params or {}), "range_start": start, "range_end": end}
    with warehouse.transaction() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {warehouse.quote(schema)}"))
        connection.execute(
            sa.text(f"CREATE TABLE IF NOT EXISTS {target} AS SELECT * FROM ({select_sql}) AS q "
                    "WHERE false"),
            bound,
        )
        connection.execute(
            sa.text(
                f"DELETE FROM {target} WHERE {column} >= :range_start AND {column} < :range_end"
            ),
            bound,
        )
        inserted = connection.execute(sa.text(f"INSERT INTO {target} {select_sql}"), bound)
        return inserted.rowcount if inserted.rowcount is not None and inserted.rowcount >= 0 else 0


@contextmanager
def session(warehouse: Warehouse) -> Iterator[None]:
    """Keep the warehouse open while several models are built one after another.

    A DuckDB file is opened and closed with every connection (the warehouse pools none, so
    that dlt can take the file's write lock between runs): opening it reads the catalog and
    closing it checkpoints, about 0.1 s a time, several times per model. One connection held
    for the duration keeps the database instance alive, so the models' own connections
    reuse it. PostgreSQL pools its connections already: nothing to do.
    """
    if not warehouse.is_duckdb:
        yield
        return
    with warehouse.engine.connect():
        yield
