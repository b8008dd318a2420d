"""Models built as views (`materialized="view"`), on DuckDB and PostgreSQL.

A view stores its query: rebuilding the table it reads must leave it working (PostgreSQL
refuses to drop a table a view reads unless the view goes too), and a model that changes
kind (table <-> view) replaces whatever relation had its name.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from transforms.runner import replace_table, replace_view, session
from warehouse import Warehouse


def _kind(warehouse: Warehouse, schema: str, name: str) -> str | None:
    return warehouse.scalar(
        "SELECT table_type FROM information_schema.tables "
        "WHERE table_schema = :schema AND table_name = :name",
        {"schema": schema, "name": name},
    )


@pytest.fixture
def warehouse(warehouse_url) -> Warehouse:
    wh = Warehouse(warehouse_url)
    yield wh
    wh.dispose()


def test_a_view_reading_a_table_survives_the_tables_rebuild(warehouse):
    replace_table(warehouse, "staging", "changes",
                  "SELECT 1 AS id, 'solved' AS status UNION ALL SELECT 2, 'open'")
    # A view reading a view reading the table: both come back, in dependency order.
    assert replace_view(warehouse, "staging", "solved_changes",
                        "SELECT id, status FROM staging.changes WHERE status = 'solved'") == 1
    assert replace_view(warehouse, "staging", "solved_ids",
                        "SELECT id FROM staging.solved_changes") == 1

    rows = replace_table(warehouse, "staging", "changes",
                         "SELECT CAST(:first AS integer) AS id, 'solved' AS status "
                         "UNION ALL SELECT 4, 'solved' UNION ALL SELECT 5, 'open'",
                         {"first": 3})

    assert rows == 3
    assert _kind(warehouse, "staging", "solved_changes") == "VIEW"
    assert [r["id"] for r in warehouse.query(
        "SELECT id FROM staging.solved_ids ORDER BY id")] == [3, 4]

    # Replacing the middle view keeps the one reading it too.
    assert replace_view(warehouse, "staging", "solved_changes",
                        "SELECT id, status FROM staging.changes WHERE id > 3") == 2
    assert [r["id"] for r in warehouse.query(
        "SELECT id FROM staging.solved_ids ORDER BY id")] == [4, 5]


def test_a_rebuild_that_breaks_a_view_fails_and_keeps_the_old_table(warehouse):
    replace_table(warehouse, "staging", "changes", "SELECT 1 AS id, 'solved' AS status")
    replace_view(warehouse, "staging", "statuses", "SELECT status FROM staging.changes")
    if warehouse.is_duckdb:
        pytest.skip("DuckDB binds a view when it is read: nothing to keep in step on rebuild")

    with pytest.raises(sa.exc.DBAPIError, match="status"):
        replace_table(warehouse, "staging", "changes", "SELECT 2 AS id")

    assert warehouse.query("SELECT id, status FROM staging.changes") == [
        {"id": 1, "status": "solved"}]
    assert warehouse.query("SELECT status FROM staging.statuses") == [{"status": "solved"}]


def test_a_model_can_change_between_table_and_view(warehouse):
    replace_table(warehouse, "staging", "source_rows", "SELECT 1 AS id UNION ALL SELECT 2")
    replace_table(warehouse, "staging", "picked", "SELECT 7 AS id")
    assert _kind(warehouse, "staging", "picked") == "BASE TABLE"

    assert replace_view(warehouse, "staging", "picked",
                        "SELECT id FROM staging.source_rows WHERE id > 1") == 1
    assert _kind(warehouse, "staging", "picked") == "VIEW"
    assert warehouse.query("SELECT id FROM staging.picked") == [{"id": 2}]

    assert replace_table(warehouse, "staging", "picked", "SELECT 8 AS id") == 1
    assert _kind(warehouse, "staging", "picked") == "BASE TABLE"
    assert warehouse.query("SELECT id FROM staging.picked") == [{"id": 8}]


def test_views_work_inside_a_session(warehouse):
    with session(warehouse):
        replace_table(warehouse, "staging", "source_rows", "SELECT 1 AS id")
        replace_view(warehouse, "staging", "picked", "SELECT id FROM staging.source_rows")
        replace_table(warehouse, "staging", "source_rows", "SELECT 5 AS id")
        assert warehouse.scalar("SELECT id FROM staging.picked") == 5
