"""How a per-ticket model is built, on a table small enough to follow ticket by ticket, on
DuckDB and PostgreSQL (transforms/incremental.py):

- the grain check after an incremental build looks at the keys of the recomputed tickets'
  rows only, and still catches a key they share with an unchanged ticket (4); a full build,
  or a table not known to be unique, is checked whole;
- on DuckDB, once the tickets recomputed since the last full build pass
  `COMPACTION_SHARE` of all tickets, the table is built in full again (5).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from transforms import incremental
from transforms.incremental import CHANGES_TABLE, STATE_TABLE, build_per_ticket
from transforms.models import Model, ticket_scope_condition
from warehouse import Warehouse

PROBE = Model("grain_probe", "intermediate", ("source", "probe_key"), per_ticket=True)
#: One row per ticket: its probe key, and a second row when the key is `twice`.
PER_TICKET = Model("grain_per_ticket", "intermediate", ("source", "ticket_id"),
                   per_ticket=True)


def _select(scoped: bool) -> str:
    where = ticket_scope_condition("source", "ticket_id") if scoped else "true"
    return f"SELECT source, ticket_id, probe_key FROM staging.probe_input WHERE {where}"


def _select_per_ticket(scoped: bool) -> str:
    where = ticket_scope_condition("source", "ticket_id") if scoped else "true"
    return (f"SELECT source, ticket_id, probe_key FROM staging.probe_input WHERE {where} "
            f"UNION ALL SELECT source, ticket_id, probe_key FROM staging.probe_input "
            f"WHERE probe_key = 'twice' AND {where}")


def _build(warehouse: Warehouse, model: Model = PROBE):
    select = _select if model is PROBE else _select_per_ticket
    return build_per_ticket(warehouse, model, select, {}, sources=[], upstream=[],
                            per_ticket_models=[PROBE.name, PER_TICKET.name], check_grain=True)


def _change(warehouse: Warehouse, ticket_id: str, probe_key: str, logged: int) -> None:
    """Ticket `ticket_id` now has key `probe_key`, and the change log says it changed."""
    with warehouse.transaction() as connection:
        connection.execute(sa.text("UPDATE staging.probe_input SET probe_key = :key "
                                   "WHERE ticket_id = :ticket"),
                           {"key": probe_key, "ticket": ticket_id})
        connection.execute(
            sa.text(f"INSERT INTO staging.{CHANGES_TABLE} VALUES ('zendesk', :ticket, :at)"),
            {"ticket": ticket_id, "at": datetime(2026, 1, logged, tzinfo=UTC)})


def _tickets(warehouse_url: str, count: int = 10) -> Warehouse:
    """`count` tickets, each with one probe row keyed `k<ticket>`."""
    warehouse = Warehouse(warehouse_url)
    with warehouse.transaction() as connection:
        connection.execute(sa.text("CREATE SCHEMA IF NOT EXISTS staging"))
        connection.execute(sa.text(
            "CREATE TABLE staging.tickets AS SELECT 'zendesk' AS source, "
            f"CAST(n AS text) AS ticket_id FROM generate_series(1, {count}) AS g(n)"))
        connection.execute(sa.text(
            "CREATE TABLE staging.probe_input AS SELECT source, ticket_id, "
            "'k' || ticket_id AS probe_key FROM staging.tickets"))
    return warehouse


def test_incremental_grain_check(warehouse_url, monkeypatch) -> None:
    # Ten tickets: a few recomputed would call for compaction (tested below).
    monkeypatch.setattr(incremental, "COMPACTION_SHARE", 100.0)
    warehouse = _tickets(warehouse_url)

    first = _build(warehouse)
    assert (first.mode, first.duplicate_keys, first.grain_checked) == ("full", 0, "whole table")
    assert _build(warehouse, PER_TICKET).duplicate_keys == 0

    # Ticket 3 changes and now shares its key with ticket 7, which did not change.
    _change(warehouse, "3", "k7", logged=1)
    clash = _build(warehouse)
    assert clash.mode == "incremental"
    assert clash.grain_checked == "keys of the 1 recomputed tickets' rows"
    assert clash.duplicate_keys == 1
    assert warehouse.scalar(
        f"SELECT grain_unique FROM staging.{STATE_TABLE} WHERE model = 'grain_probe'") is False

    # Fixed the next night: the table is not known to be unique, so it is checked whole.
    _change(warehouse, "3", "k3", logged=2)
    fixed = _build(warehouse)
    assert (fixed.mode, fixed.duplicate_keys, fixed.grain_checked) == (
        "incremental", 0, "whole table")
    # Unique again: back to the recomputed tickets' keys (here no load window moves the
    # watermark, so the log's earlier entries stay in scope: tickets 3 and 5).
    _change(warehouse, "5", "k5b", logged=3)
    again = _build(warehouse)
    assert (again.duplicate_keys, again.grain_checked) == (
        0, "keys of the 2 recomputed tickets' rows")

    # A grain with the ticket in it: only the recomputed tickets' rows are grouped, and a
    # recomputed ticket with two rows is caught.
    _change(warehouse, "5", "twice", logged=4)
    per_ticket = _build(warehouse, PER_TICKET)
    assert per_ticket.mode == "incremental" and per_ticket.duplicate_keys == 1
    assert per_ticket.grain_checked.startswith("keys of the")
    warehouse.dispose()


def _since_full(warehouse: Warehouse) -> int | None:
    return warehouse.scalar(
        f"SELECT tickets_since_full FROM staging.{STATE_TABLE} WHERE model = 'grain_probe'")


def test_duckdb_compacts_a_table_its_incremental_builds_thinned_out(warehouse_url) -> None:
    warehouse = _tickets(warehouse_url, 20)
    duckdb = warehouse.is_duckdb
    # Of 20 tickets: a build recomputing more than 5 is full anyway (FULL_BUILD_SHARE); more
    # than 10 recomputed since the last full build call for compaction.
    assert (incremental.FULL_BUILD_SHARE, incremental.COMPACTION_SHARE) == (0.25, 0.5)
    assert _build(warehouse).mode == "full"

    # No load window moves the watermark here, so the log's earlier entries stay in scope:
    # the n-th night recomputes tickets 1..n, 1 + 2 + 3 + 4 = 10 after four nights.
    for night in range(1, 5):
        _change(warehouse, str(night), f"k{night}b", logged=night)
        built = _build(warehouse)
        assert (built.mode, built.detail) == ("incremental", f"{night} tickets recomputed")
    assert _since_full(warehouse) == (10 if duckdb else 0)

    _change(warehouse, "5", "k5b", logged=5)
    fifth = _build(warehouse)
    if duckdb:
        assert (fifth.mode, fifth.detail) == (
            "full", "compaction: 15 of 20 tickets recomputed since the last full build")
        assert _since_full(warehouse) == 0
        # The rows the incremental builds deleted are gone from storage too: the table holds
        # as many rows as it shows.
        assert warehouse.scalar(
            "SELECT sum(count) FROM (SELECT DISTINCT row_group_id, count FROM "
            "pragma_storage_info('staging.grain_probe') WHERE column_id = 0) AS groups") == 20
    else:  # PostgreSQL's autovacuum reclaims deleted rows: no compaction.
        assert (fifth.mode, fifth.detail) == ("incremental", "5 tickets recomputed")
        assert _since_full(warehouse) == 0
    assert sorted(r["probe_key"] for r in warehouse.query(
        "SELECT probe_key FROM staging.grain_probe")) == sorted(
        [f"k{n}b" for n in range(1, 6)] + [f"k{n}" for n in range(6, 21)])
    warehouse.dispose()


def test_a_view_selecting_a_tables_rows_takes_the_tables_check(warehouse_url) -> None:
    """`pipelines.checks.grain_check_result` for `ticket_agent_replies`, a selection of
    `staging.messages`' rows: counted while the state does not record messages as unique,
    taken from messages' check once it does."""
    from pipelines.checks import grain_check_result
    from transforms.incremental import _ensure_tables, _save_state
    from transforms.models import ALL_MODELS
    from transforms.runner import replace_view

    view = next(m for m in ALL_MODELS if m.name == "ticket_agent_replies")
    warehouse = Warehouse(warehouse_url)
    with warehouse.transaction() as connection:
        _ensure_tables(connection, warehouse)
        # Two agent replies share message id m2: a duplicate key in the table and the view.
        connection.execute(sa.text(
            "CREATE TABLE staging.messages AS SELECT 'zendesk' AS source, "
            "'m' || CAST(CASE WHEN n = 3 THEN 2 ELSE n END AS text) AS message_id, "
            "'t1' AS ticket_id, 'a1' AS author_id, "
            "CAST('2026-01-01 10:00:00+00' AS timestamptz) AS created_at, "
            "'agent' AS author_role, true AS is_public, false AS is_first_message "
            "FROM generate_series(1, 4) AS g(n)"))
    replace_view(warehouse, view.schema, view.name, view.sql())

    def check(unique: bool | None):
        # messages' state as its last build records it: no grain check (None), or one that
        # found a duplicate key (False) or none (True).
        duplicates = None if unique is None else 0 if unique else 1
        with warehouse.transaction() as connection:
            _save_state(connection, warehouse, "messages", datetime(2026, 1, 1, tzinfo=UTC),
                        "", 1, duplicates)
        return grain_check_result(warehouse, view)

    for unknown in (None, False):
        counted = check(unknown)
        assert not counted.passed
        assert counted.metadata["duplicate_keys"].value == 1
        assert counted.metadata["checked"].value == "whole table"
    # Recorded unique by messages' last check (here: as if; the table's rows are not looked at).
    derived = check(True)
    assert derived.passed
    assert derived.metadata["checked"].value.startswith(
        "not counted: a selection of staging.messages's rows")
    warehouse.dispose()
