"""Build tables and views from SELECT queries inside the warehouse, atomically.

A whole-table model is replaced in one transaction (drop + create-as-select), so a BI tool
reading the table sees either the old or the new version, never a half-written one. A
date-partitioned model replaces just the days of a window (delete + insert, one transaction),
so re-running a partition changes nothing and never touches other days. A view model is
replaced the same way (drop + create view). A relation changes kind (table <-> view) when its
model does: whatever exists under the name is dropped first.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from transforms.models import Model, ticket_scope_condition
from warehouse import Warehouse


def _qualified(warehouse: Warehouse, schema: str, table: str) -> str:
    return f"{warehouse.quote(schema)}.{warehouse.quote(table)}"


def _analyze(connection: Connection, warehouse: Warehouse, target: str) -> None:
    """Refresh PostgreSQL's statistics of a table just written. Autovacuum gets to a new
    table late (and never inside the transaction that wrote it), and without statistics the
    planner guesses row counts the next model's joins depend on: a mart over a few thousand
    resolutions estimated at one row was planned as a nested loop that ran for minutes.
    DuckDB keeps its statistics as it writes."""
    if not warehouse.is_duckdb:
        connection.execute(sa.text(f"ANALYZE {target}"))


def _drop_relation(connection: Connection, warehouse: Warehouse, schema: str, name: str) -> None:
    """Drop the table or view `schema.name` if it exists (each kind has its own DROP)."""
    kind = warehouse.relation_kind(schema, name, connection)
    if kind is not None:
        connection.execute(sa.text(
            f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} {_qualified(warehouse, schema, name)}"))


# The views that read a relation, directly or through other views, deepest last.
_POSTGRES_DEPENDENT_VIEWS = """
WITH RECURSIVE dependants (oid, depth) AS (
    SELECT view_class.oid, 1
    FROM pg_depend AS d
    JOIN pg_rewrite AS r ON r.oid = d.objid
    JOIN pg_class AS view_class ON view_class.oid = r.ev_class
    WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
      AND d.refobjid = to_regclass(:target) AND view_class.oid <> d.refobjid
      AND view_class.relkind = 'v'
    UNION ALL
    SELECT view_class.oid, dependants.depth + 1
    FROM dependants
    JOIN pg_depend AS d ON d.refobjid = dependants.oid AND d.refclassid = 'pg_class'::regclass
    JOIN pg_rewrite AS r ON r.oid = d.objid AND d.classid = 'pg_rewrite'::regclass
    JOIN pg_class AS view_class ON view_class.oid = r.ev_class
    WHERE view_class.oid <> dependants.oid AND view_class.relkind = 'v'
)
SELECT n.nspname AS view_schema, c.relname AS view_name,
       pg_get_viewdef(c.oid) AS definition, max(dependants.depth) AS depth
FROM dependants
JOIN pg_class AS c ON c.oid = dependants.oid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
GROUP BY n.nspname, c.relname, c.oid
ORDER BY depth, view_schema, view_name
"""


def _dependent_views(connection: Connection, warehouse: Warehouse,
                     target: str) -> list[tuple[str, str, str]]:
    """(schema, name, definition) of the views that read `target`, in creation order.

    PostgreSQL refuses to drop a table a view reads (DuckDB binds views when they are read,
    so replacing a table under a view needs nothing there). The views are dropped with the
    table and created again from their definitions in the same transaction: a rebuilt
    `staging.status_changes` keeps `staging.ticket_status_transitions` working without
    rebuilding it. Privileges granted on such a view are not carried over.
    """
    if warehouse.is_duckdb:
        return []
    rows = connection.execute(sa.text(_POSTGRES_DEPENDENT_VIEWS), {"target": target}).all()
    return [(row.view_schema, row.view_name, row.definition) for row in rows]


@contextmanager
def _replacing(connection: Connection, warehouse: Warehouse, schema: str,
               name: str) -> Iterator[None]:
    """Drop `schema.name` (table or view) and the views reading it; after the body has
    created the new relation, create those views again (same transaction: a view the new
    relation breaks fails the whole replacement)."""
    connection.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {warehouse.quote(schema)}"))
    views = _dependent_views(connection, warehouse, _qualified(warehouse, schema, name))
    for view_schema, view_name, _ in reversed(views):
        _drop_relation(connection, warehouse, view_schema, view_name)
    _drop_relation(connection, warehouse, schema, name)
    yield
    for view_schema, view_name, select_sql in views:
        # The view's stored query as PostgreSQL prints it (pg_get_viewdef): SQL the warehouse
        # already ran when the view was created, not a value. Run as is, so that its casts
        # (`'solved'::text`) are not parsed for bind parameters.
        connection.exec_driver_sql(
            f"CREATE VIEW {_qualified(warehouse, view_schema, view_name)} AS {select_sql}")


def create_table_in(
    connection: Connection,
    warehouse: Warehouse,
    schema: str,
    table: str,
    select_sql: str,
    params: Mapping[str, Any] | None = None,
) -> int:
    """Replace `schema.table` with the result of `select_sql` inside the caller's transaction;
    return its row count. Views reading the table survive (`_replacing`)."""
    target = _qualified(warehouse, schema, table)
    with _replacing(connection, warehouse, schema, table):
        connection.execute(sa.text(f"CREATE TABLE {target} AS {select_sql}"), dict(params or {}))
    _analyze(connection, warehouse, target)
    return connection.execute(sa.text(f"SELECT count(*) FROM {target}")).scalar_one()


def replace_table(
    warehouse: Warehouse,
    schema: str,
    table: str,
    select_sql: str,
    params: Mapping[str, Any] | None = None,
) -> int:
    """Replace `schema.table` with the result of `select_sql` in one transaction; return its
    row count."""
    with warehouse.transaction() as connection:
        return create_table_in(connection, warehouse, schema, table, select_sql, params)


def replace_ticket_rows(
    connection: Connection,
    warehouse: Warehouse,
    schema: str,
    table: str,
    select_sql: str,
    params: Mapping[str, Any] | None = None,
) -> None:
    """Replace the rows of the tickets in the scope table (`transforms.models.SCOPE_TABLE`)
    with those `select_sql` returns (it must return only theirs), inside the caller's
    transaction."""
    target = _qualified(warehouse, schema, table)
    in_scope = ticket_scope_condition("source", "ticket_id")
    connection.execute(sa.text(f"DELETE FROM {target} WHERE {in_scope}"))
    connection.execute(sa.text(f"INSERT INTO {target} {select_sql}"), dict(params or {}))
    _analyze(connection, warehouse, target)


def duplicate_keys_sql(warehouse: Warehouse, model: Model, within: str | None = None) -> str:
    """A query counting the grain keys of `model`'s table that occur more than once; with
    `within` (a condition on the table's rows), only the keys that some row meeting it has
    (all rows with such a key are counted, whether they meet it or not). A grain holding
    `source` and `ticket_id` cannot be shared by rows of two tickets: when `within` selects
    whole tickets (an incremental build's scope), only its rows need to be looked at."""
    columns = ", ".join(warehouse.quote(c) for c in model.grain)
    table = _qualified(warehouse, model.schema, model.name)
    where = ""
    if within and {"source", "ticket_id"} <= set(model.grain):
        where = f" WHERE {within}"
    elif within:
        where = f" WHERE ({columns}) IN (SELECT {columns} FROM {table} WHERE {within})"
    return (f"SELECT count(*) FROM (SELECT {columns} FROM {table}{where} "
            f"GROUP BY {columns} HAVING count(*) > 1) AS duplicates")


def replace_view(warehouse: Warehouse, schema: str, view: str, select_sql: str) -> int:
    """Replace `schema.view` with a view of `select_sql` (no bind parameters: a view stores
    its query, not values); return its row count, as `replace_table` does."""
    target = _qualified(warehouse, schema, view)
    with warehouse.transaction() as connection:
        with _replacing(connection, warehouse, schema, view):
            connection.execute(sa.text(f"CREATE VIEW {target} AS {select_sql}"))
        return connection.execute(sa.text(f"SELECT count(*) FROM {target}")).scalar_one()


def _result_columns(connection: Connection, sql: str,
                    params: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(name, the driver's type code) of each column `sql` returns, in order."""
    result = connection.execute(sa.text(sql), dict(params))
    try:
        return [(column[0], column[1]) for column in result.cursor.description]
    finally:
        result.close()


class ColumnsChanged(Exception):
    """A date-partitioned table's stored columns (names and types) are not those its query
    returns."""

    def __init__(self, table: str, stored: list[tuple[str, Any]],
                 wanted: list[tuple[str, Any]]) -> None:
        stored_names, wanted_names = [n for n, _ in stored], [n for n, _ in wanted]
        added = [n for n in wanted_names if n not in stored_names]
        dropped = [n for n in stored_names if n not in wanted_names]
        retyped = [n for (n, t) in wanted if n in stored_names and (n, t) not in stored]
        super().__init__(
            f"{table}: the stored columns are not the model's (new: {', '.join(added) or 'none'}"
            f"; gone: {', '.join(dropped) or 'none'}; retyped: {', '.join(retyped) or 'none'}"
            f"{'' if added or dropped or retyped else '; reordered'})")


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

    A table whose columns (names, order, types) are not the query's (a new version of the
    model added, renamed or retyped one) cannot take the new rows: `ColumnsChanged` is
    raised, and the caller rebuilds the table for every day (`replace_table`).
    """
    target = _qualified(warehouse, schema, table)
    column = warehouse.quote(date_column)
    bound = {**dict(params or {}), "range_start": start, "range_end": end}
    with warehouse.transaction() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {warehouse.quote(schema)}"))
        if warehouse.relation_kind(schema, table, connection) is None:
            connection.execute(
                sa.text(f"CREATE TABLE {target} AS SELECT * FROM ({select_sql}) AS q "
                        "WHERE false"),
                bound,
            )
        else:
            stored = _result_columns(connection, f"SELECT * FROM {target} LIMIT 0", {})
            wanted = _result_columns(
                connection, f"SELECT * FROM ({select_sql}) AS q WHERE false", bound)
            if stored != wanted:
                raise ColumnsChanged(f"{schema}.{table}", stored, wanted)
        connection.execute(
            sa.text(
                f"DELETE FROM {target} WHERE {column} >= :range_start AND {column} < :range_end"
            ),
            bound,
        )
        inserted = connection.execute(sa.text(f"INSERT INTO {target} {select_sql}"), bound)
        _analyze(connection, warehouse, target)
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
