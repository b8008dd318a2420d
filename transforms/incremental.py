"""Incremental builds of the per-ticket models: recompute only the tickets that changed.

A nightly run lands one day, in which about 1% of the tickets change. Rebuilding the
per-ticket models (`Model.per_ticket`: staging tickets, messages, status changes, ratings,
Zendesk's metric sets, the ticket intermediates and `marts.ticket_metrics`) from all of
history would redo the work of every ticket every night. Instead:

1. **The change log** (`staging._ticket_changes`): for every load window a raw asset recorded
   in `raw_<source>._load_windows` since the log last looked, the tickets with a landed row
   whose change time falls inside that window (`transforms/changes/<source>.sql`), with the
   window's `loaded_at`. A re-loaded window (a backfill, a retry) gets a new `loaded_at`, so
   its tickets are logged again.
2. **Each model's state** (`staging._incremental_state`): the newest `loaded_at` its table
   reflects (its watermark), a fingerprint of everything its rows depend on besides the
   tickets' own data (its SQL, the generation of each per-ticket model it reads, its
   reference data: `Model.references`), and a generation that moves on every full build.
3. **A build** recomputes the tickets logged after the model's watermark, plus the tickets
   whose rows depend on the as-of time (`Model.as_of_scope_sql`: the unsolved tickets of
   `ticket_metrics`): their rows are deleted and inserted again from the model's SQL narrowed
   to them (`{{ ticket_scope(...) }}`), in one transaction with the new state, so a reader
   sees the table before or after, never between. The whole table is rebuilt instead when
   the model has no state or no table, its fingerprint changed (new SQL, a full rebuild
   upstream, new agents / schedules / account mapping / Freshdesk statuses or survey
   scales), `FULL_REBUILD` is set, or the tickets
   to recompute are more than `FULL_BUILD_SHARE` of all tickets (deleting and inserting most
   of a table costs more than writing it anew).

4. **The grain check** (when asked: the Dagster asset's blocking `grain_is_unique`) runs in
   the build's transaction. After a full build, or when the state does not record the table
   as unique, it counts duplicate keys over the whole table; after an incremental build of a
   table recorded as unique, only over the keys of the recomputed tickets' rows (every row
   with such a key counts, whichever ticket it belongs to): no other row changed, so no
   other key can have become a duplicate. The state records the outcome (`grain_unique`).

5. **Compaction** (DuckDB): the warehouse's DuckDB connections do not vacuum
   (`warehouse.core.DUCKDB_SETTINGS`: merging the row groups a night's deletes thinned out
   rewrote them at the next checkpoint, up to 2.8 s for one table at 1M tickets), so
   each incremental build leaves the replaced rows behind as deleted rows. The state counts
   the tickets recomputed since the table was last built in full (`tickets_since_full`);
   once that count with the new night's tickets passes `COMPACTION_SHARE` of all tickets,
   the table is built in full instead, which writes it without them: at 1M tickets with 1%
   changing each night, about every 50th night, and every 13th for `ticket_metrics` and
   `ticket_metric_pairs`, which recompute the unsolved tickets every night as well. Half the
   tickets, not a quarter: at a quarter those two were rebuilt every sixth night, which cost
   what skipping the vacuum saved (docs/performance-log.md, "Nightly, session 7").
   PostgreSQL's autovacuum reclaims such rows itself: there the rule of 3 applies alone.

The result is the same table a full build gives (tests/integration/test_incremental.py
compares every table, on DuckDB and PostgreSQL).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from transforms.models import SCOPE_TABLE, SQL_DIR, Model, for_sources, ticket_scope_condition
from transforms.runner import create_table_in, duplicate_keys_sql, replace_ticket_rows
from warehouse import Warehouse

STATE_TABLE = "_incremental_state"
CHANGES_TABLE = "_ticket_changes"
#: The change log's own row in the state table: the newest `loaded_at` it has logged.
CHANGE_LOG = "_ticket_changes"
#: Above this share of all tickets, a full build is cheaper than delete + insert.
FULL_BUILD_SHARE = 0.25
#: Above this share of all tickets recomputed since the last full build, a DuckDB table is
#: built in full again, dropping the rows its incremental builds deleted (module docstring, 5).
COMPACTION_SHARE = 0.5
CHANGES_DIR = SQL_DIR / "changes"
#: Where a raw schema records its loaded windows (pipelines.raw.LOAD_WINDOWS_TABLE).
WINDOWS = "_load_windows"
_LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)
#: The PostgreSQL advisory lock that serialises per-ticket builds (any constant of our own).
ADVISORY_LOCK_KEY = 7_402_113_557


@dataclass(frozen=True)
class Built:
    """What a build did: rows in the table afterwards, `full` or `incremental`, and why a full
    build was needed, or how many tickets an incremental one recomputed."""

    rows: int
    mode: str
    detail: str
    #: Grain keys occurring more than once (None: not checked), and over which rows.
    duplicate_keys: int | None = None
    grain_checked: str = ""

    def metadata(self) -> dict[str, Any]:
        """Materialization metadata."""
        return {"build": self.mode, "build_detail": self.detail}


def changes_sql_path(source: str) -> Path:
    """The query listing the tickets of `source` changed in newly loaded windows."""
    return CHANGES_DIR / f"{source}.sql"


def _qualified(warehouse: Warehouse, name: str) -> str:
    """`staging.<name>`, quoted."""
    return f"{warehouse.quote('staging')}.{warehouse.quote(name)}"


def _ensure_tables(connection: Connection, warehouse: Warehouse) -> None:
    connection.execute(sa.text("CREATE SCHEMA IF NOT EXISTS staging"))
    connection.execute(sa.text(
        f"CREATE TABLE IF NOT EXISTS {_qualified(warehouse, STATE_TABLE)} (model text PRIMARY KEY, "
        "watermark timestamptz NOT NULL, fingerprint text NOT NULL, generation integer NOT NULL, "
        "built_at timestamptz NOT NULL, grain_unique boolean, tickets_since_full integer)"))
    existing = set(warehouse.columns("staging", STATE_TABLE, connection))
    for column, column_type in (("grain_unique", "boolean"), ("tickets_since_full", "integer")):
        if column not in existing:
            # A warehouse built before the column existed (read first: PostgreSQL would lock
            # the table and log a notice on every build for an ALTER with nothing to do).
            connection.execute(sa.text(
                f"ALTER TABLE {_qualified(warehouse, STATE_TABLE)} "
                f"ADD COLUMN IF NOT EXISTS {column} {column_type}"))
    connection.execute(sa.text(
        f"CREATE TABLE IF NOT EXISTS {_qualified(warehouse, CHANGES_TABLE)} (source text NOT NULL, "
        "ticket_id text NOT NULL, loaded_at timestamptz NOT NULL)"))


def _state(connection: Connection, warehouse: Warehouse, model: str) -> sa.Row | None:
    return connection.execute(
        sa.text("SELECT watermark, fingerprint, generation, grain_unique, tickets_since_full "
                f"FROM {_qualified(warehouse, STATE_TABLE)} WHERE model = :model"),
        {"model": model},
    ).one_or_none()


def _save_state(connection: Connection, warehouse: Warehouse, model: str, watermark: datetime,
                fingerprint: str, generation: int, duplicate_keys: int | None = None,
                tickets_since_full: int = 0) -> None:
    """Record a build; `duplicate_keys` from its grain check, if it ran (`grain_unique`);
    `tickets_since_full`: recomputed since the last full build, this build's included."""
    grain_unique = None if duplicate_keys is None else duplicate_keys == 0
    table = _qualified(warehouse, STATE_TABLE)
    connection.execute(sa.text(f"DELETE FROM {table} WHERE model = :model"), {"model": model})
    connection.execute(
        sa.text(f"INSERT INTO {table} (model, watermark, fingerprint, generation, built_at, "
                "grain_unique, tickets_since_full) VALUES (:model, :watermark, :fingerprint, "
                ":generation, :built_at, :grain_unique, :tickets_since_full)"),
        {"model": model, "watermark": watermark, "fingerprint": fingerprint,
         "generation": generation, "built_at": datetime.now(UTC), "grain_unique": grain_unique,
         "tickets_since_full": tickets_since_full},
    )


def recorded_unique(warehouse: Warehouse, model: str) -> bool:
    """Whether the state records `model`'s table as unique: the grain check of its last
    build found no duplicate key (a build without a check records nothing: False)."""
    with warehouse.engine.connect() as connection:
        if not warehouse.table_exists("staging", STATE_TABLE, connection):
            return False
        state = _state(connection, warehouse, model)
    return state is not None and state.grain_unique is True


def _grain_check(connection: Connection, warehouse: Warehouse, model: Model, wanted: bool,
                 scope_tickets: int | None = None) -> tuple[int | None, str]:
    """(duplicate grain keys, over which rows): over the keys of the scope's rows when
    `scope_tickets` (their number) is given, else the whole table; (None, "") unless
    `wanted` (module docstring, 4)."""
    if not wanted:
        return None, ""
    within = ticket_scope_condition("source", "ticket_id") if scope_tickets is not None else None
    duplicates = connection.execute(
        sa.text(duplicate_keys_sql(warehouse, model, within))).scalar_one()
    return duplicates, (f"keys of the {scope_tickets} recomputed tickets' rows" if within
                        else "whole table")


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def log_ticket_changes(connection: Connection, warehouse: Warehouse, sources: list[str],
                       per_ticket_models: list[str]) -> datetime:
    """Log the tickets changed in windows loaded since the log last looked; return the newest
    `loaded_at` logged (the watermark a model built now reaches).

    The first time, nothing is logged and every model's state is cleared: the models build in
    full, and from then on the log has every change they have not seen. Entries every model
    has seen are pruned.
    """
    _ensure_tables(connection, warehouse)
    log = _state(connection, warehouse, CHANGE_LOG)
    newest = _LONG_AGO
    windows = []
    for source in sources:
        if not changes_sql_path(source).exists() or not warehouse.table_exists(
                f"raw_{source}", WINDOWS, connection):
            continue
        windows.append(source)
        schema = f"raw_{source}"
        value = connection.execute(sa.text(
            f"SELECT max(loaded_at) FROM {warehouse.quote(schema)}.{warehouse.quote(WINDOWS)}"
        )).scalar()
        newest = max(newest, _utc(value) or _LONG_AGO)
    state_table = _qualified(warehouse, STATE_TABLE)
    if log is None:
        connection.execute(sa.text(f"DELETE FROM {state_table}"))
        _save_state(connection, warehouse, CHANGE_LOG, newest, "", 0)
        return newest
    since = _utc(log.watermark)
    if newest <= since:
        return since
    changes = _qualified(warehouse, CHANGES_TABLE)
    for source in windows:
        changes_sql = changes_sql_path(source).read_text()
        connection.execute(
            sa.text(f"INSERT INTO {changes} (source, ticket_id, loaded_at) {changes_sql}"),
            {"since": since},
        )
    _save_state(connection, warehouse, CHANGE_LOG, newest, "", 0)
    # Entries older than every model's watermark are seen by all: drop them.
    connection.execute(
        sa.text(f"DELETE FROM {changes} WHERE loaded_at <= (SELECT min(watermark) FROM "
                f"{state_table} WHERE model IN :models)").bindparams(
            sa.bindparam("models", expanding=True)),
        {"models": per_ticket_models},
    )
    return newest


def _fingerprint(connection: Connection, warehouse: Warehouse, model: Model, select_sql: str,
                 upstream: list[str], sources: list[str]) -> str:
    """Everything the model's rows depend on besides the tickets' own data (the reference
    data of the configured `sources`)."""
    parts = [select_sql]
    for name in upstream:
        state = _state(connection, warehouse, name)
        parts.append(f"{name}:{state.generation if state else 'none'}")
    for reference in for_sources(model.references, sources):
        parts.append(str(connection.execute(sa.text(reference)).scalar()))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _create_scope(connection: Connection, warehouse: Warehouse, model: Model,
                  watermark: datetime) -> int:
    """Fill the scope table with the tickets to recompute; return how many there are."""
    connection.execute(sa.text(f"DROP TABLE IF EXISTS {SCOPE_TABLE}"))
    changed = (f"SELECT source, ticket_id FROM {_qualified(warehouse, CHANGES_TABLE)} "
               "WHERE loaded_at > :watermark")
    if model.as_of_scope_sql:
        changed = f"{changed} UNION {model.as_of_scope_sql}"
    else:
        changed = f"SELECT DISTINCT * FROM ({changed}) AS changed"
    connection.execute(sa.text(f"CREATE TEMPORARY TABLE {SCOPE_TABLE} AS {changed}"),
                       {"watermark": watermark})
    if not warehouse.is_duckdb:
        connection.execute(sa.text(f"ANALYZE {SCOPE_TABLE}"))
    return connection.execute(sa.text(f"SELECT count(*) FROM {SCOPE_TABLE}")).scalar_one()


def build_per_ticket(
    warehouse: Warehouse,
    model: Model,
    select_sql: Callable[[bool], str],
    params: Mapping[str, Any],
    sources: list[str],
    upstream: list[str],
    per_ticket_models: list[str],
    full_rebuild: bool = False,
    check_grain: bool = False,
) -> Built:
    """Build a per-ticket model, incrementally when it can (module docstring).

    `select_sql(scoped)` gives the model's query, narrowed to the scope table or not;
    `upstream` names the per-ticket models it reads (directly or through views);
    `check_grain`: count duplicate grain keys too (module docstring, 4).
    """
    target = f"{warehouse.quote(model.schema)}.{warehouse.quote(model.name)}"
    with warehouse.transaction() as connection:
        if not warehouse.is_duckdb:
            # Per-ticket builds share the change log and the state table: on PostgreSQL,
            # builds from anything not holding the writer lock (a script, a second code
            # location) take turns with the run's. DuckDB has a single writer already.
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": ADVISORY_LOCK_KEY})
        watermark = log_ticket_changes(connection, warehouse, sources, per_ticket_models)
        full_sql = select_sql(False)
        fingerprint = _fingerprint(connection, warehouse, model, full_sql, upstream, sources)
        state = _state(connection, warehouse, model.name)
        reason = ""
        if full_rebuild:
            reason = "FULL_REBUILD is set"
        elif state is None:
            reason = "first build"
        elif not warehouse.table_exists(model.schema, model.name, connection):
            reason = "the table is missing"
        elif state.fingerprint != fingerprint:
            reason = "its SQL, a model it reads, or its reference data changed"
        else:
            tickets = _create_scope(connection, warehouse, model, _utc(state.watermark))
            total = connection.execute(sa.text("SELECT count(*) FROM staging.tickets")).scalar()
            all_tickets = max(total or 0, 1)
            # Tickets whose replaced rows the table still holds as deleted rows (5).
            since_full = (state.tickets_since_full or 0) + tickets if warehouse.is_duckdb else 0
            if tickets > FULL_BUILD_SHARE * all_tickets:
                reason = f"{tickets} of {total} tickets changed"
            elif since_full > COMPACTION_SHARE * all_tickets:
                reason = (f"compaction: {since_full} of {total} tickets recomputed since the "
                          "last full build")
            else:
                replace_ticket_rows(connection, warehouse, model.schema, model.name,
                                    select_sql(True), params)
                duplicates, checked = _grain_check(
                    connection, warehouse, model, check_grain,
                    tickets if state.grain_unique is True else None)
                _save_state(connection, warehouse, model.name, watermark, fingerprint,
                            state.generation, duplicates, since_full)
                connection.execute(sa.text(f"DROP TABLE {SCOPE_TABLE}"))
                rows = connection.execute(sa.text(f"SELECT count(*) FROM {target}")).scalar_one()
                return Built(rows, "incremental", f"{tickets} tickets recomputed",
                             duplicates, checked)
            connection.execute(sa.text(f"DROP TABLE {SCOPE_TABLE}"))
        rows = create_table_in(connection, warehouse, model.schema, model.name, full_sql, params)
        duplicates, checked = _grain_check(connection, warehouse, model, check_grain)
        _save_state(connection, warehouse, model.name, watermark, fingerprint,
                    (state.generation if state else 0) + 1, duplicates)
        return Built(rows, "full", reason, duplicates, checked)
