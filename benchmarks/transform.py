"""Run every staging, intermediate and mart model over landed raw data, timing each one.

The models run exactly as their Dagster assets run them (`pipelines.transform_assets`), in
dependency order: a whole-table model is rebuilt, a partitioned mart recomputes every day
(what the first partition of a backfill does). `run_nightly` runs the nightly job's models
after a landed day; `write_floor` measures what rewriting that day's tickets costs alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import duckdb

from benchmarks.measure import Measurement, measured
from benchmarks.world import copy_warehouse, remove_warehouse_file
from pipelines.settings import Settings
from pipelines.transform_assets import ALL_DATES, build_model, build_model_days
from transforms.incremental import CHANGES_TABLE
from transforms.models import (
    ALL_MODELS,
    SCOPE_TABLE,
    Model,
    build_order,
    ticket_scope_condition,
)
from transforms.runner import session
from warehouse import Warehouse
from warehouse.core import DUCKDB_SETTINGS

#: The first daily partition of the benchmark's Dagster runs (before every replicated world).
PIPELINE_START = date(2025, 1, 1)


def benchmark_settings(warehouse_url: str, reporting_timezone: str = "UTC",
                       start: date = PIPELINE_START,
                       zendesk: Mapping[str, str] | None = None) -> Settings:
    """Settings with Zendesk alone configured, whatever the process environment sets:
    `zendesk` (`ZENDESK_*` variables: a sandbox's address and credentials), or placeholder
    credentials when nothing is extracted."""
    return Settings.from_env({
        "WAREHOUSE_URL": warehouse_url,
        "PIPELINE_START_DATE": start.isoformat(),
        "REPORTING_TIMEZONE": reporting_timezone,
        **(zendesk or {"ZENDESK_SUBDOMAIN": "benchmark",
                       "ZENDESK_EMAIL": "benchmark@example.com",
                       "ZENDESK_API_TOKEN": "not-used"}),
    })


@dataclass
class TransformRun:
    """Per-model seconds and rows, and the whole run's measurement."""

    total: Measurement
    models: dict[str, tuple[float, int]] = field(default_factory=dict)
    #: How each whole-table model was built (`full` / `incremental`, transforms/incremental.py).
    modes: dict[str, str] = field(default_factory=dict)


def _run_models(warehouse_url: str, models: Callable[[list[str]], list[Model]],
                first_day: date, end_day: date, reporting_timezone: str = "UTC") -> TransformRun:
    """Build `models(sources)` in their order inside one session: a whole-table model as its
    asset builds it, a partitioned mart over the days [first_day, end_day)."""
    settings = benchmark_settings(warehouse_url, reporting_timezone)
    warehouse = Warehouse(warehouse_url)
    models_built: dict[str, tuple[float, int]] = {}
    modes: dict[str, str] = {}
    with measured() as total, session(warehouse):
        for model in models(settings.configured_sources):
            name = model.qualified_name
            started = time.perf_counter()
            if model.date_column:
                rows, _ = build_model_days(model, warehouse, settings, first_day, end_day)
            else:
                built = build_model(model, warehouse, settings)
                rows = built.rows
                modes[name] = built.mode
            models_built[name] = (time.perf_counter() - started, rows)
    warehouse.dispose()
    return TransformRun(total=total, models=models_built, modes=modes)


def run_all_models(warehouse_url: str, first_day: date | None = None,
                   end_day: date | None = None, reporting_timezone: str = "UTC") -> TransformRun:
    """Build every model in dependency order; partitioned marts over [first_day, end_day)
    (default: all days)."""
    return _run_models(warehouse_url, build_order, first_day or ALL_DATES[0],
                       end_day or ALL_DATES[1], reporting_timezone)


def nightly_models(sources: list[str]) -> list[Model]:
    """The models of the nightly job, in build order: all but the monthly revenue marts and
    what reads them (`pipelines.definitions`: those have their own job)."""
    monthly: set[tuple[str, str]] = set()
    selected = []
    for model in build_order(sources):
        key = (model.schema, model.name)
        if model.period == "month" or model.tables_read(sources) & monthly:
            monthly.add(key)
        else:
            selected.append(model)
    return selected


def run_nightly(warehouse_url: str, day: date, end_day: date) -> TransformRun:
    """What the nightly job does after landing a day: rebuild the whole-table models and
    recompute the day's rows of the daily marts, in dependency order."""
    return _run_models(warehouse_url, nightly_models, day, end_day)


#: A night's models by what they do (`model_kind`), in the order `night_by_kind` lists them.
NIGHT_KINDS = (
    "per-ticket, from raw (staging)",
    "per-ticket, from staging (intermediates, ticket_metrics)",
    "whole-table (reference data, views, reconciliation)",
    "the day of the daily marts",
)
#: The part of a night no model's time covers: opening and closing the warehouse, Python.
OUTSIDE_MODELS = "outside the models (opening and closing the warehouse)"


def model_kind(model: Model) -> str:
    """Which of `NIGHT_KINDS` `model` is: a per-ticket model reading raw tables or staging
    tables, a whole-table model, or a daily mart (a night computes its day)."""
    if model.per_ticket:
        return NIGHT_KINDS[0] if model.layer == "staging" else NIGHT_KINDS[1]
    return NIGHT_KINDS[3] if model.date_column else NIGHT_KINDS[2]


def night_by_kind(model_seconds: Mapping[str, float],
                  total_seconds: float) -> list[tuple[str, int, float]]:
    """(kind, models, seconds) of a night whose models (`schema.name`) took `model_seconds`,
    for each kind that ran, then `OUTSIDE_MODELS`: the rest of `total_seconds`."""
    by_name = {m.qualified_name: m for m in ALL_MODELS}
    by_kind: dict[str, list[float]] = {}
    for name, seconds in model_seconds.items():
        by_kind.setdefault(model_kind(by_name[name]), []).append(seconds)
    rows = [(kind, len(by_kind[kind]), sum(by_kind[kind])) for kind in NIGHT_KINDS
            if kind in by_kind]
    return [*rows, (OUTSIDE_MODELS, 0, total_seconds - sum(s for _, _, s in rows))]


def run_dagster(warehouse_url: str, first_day: date, last_day: date,
                full_rebuild: bool = False) -> Measurement:
    """The transform assets of the nightly job over the days [first_day, last_day], run by
    Dagster as a schedule or a backfill runs them (one run, the in-process executor DuckDB
    uses, each asset's blocking grain check and the other asset checks included; the raw
    assets left out: nothing is extracted). `full_rebuild`: with `FULL_REBUILD` set."""
    import dagster as dg

    from pipelines.cli import run_partition_range
    from pipelines.definitions import build_definitions
    from pipelines.schedules import NIGHTLY_JOB

    settings = benchmark_settings(warehouse_url)
    if full_rebuild:
        settings = replace(settings, full_rebuild=True)
    definitions = build_definitions(settings)
    transforms = [key for key in definitions.resolve_job_def(NIGHTLY_JOB)
                  .asset_layer.executable_asset_keys if not key.path[0].startswith("raw_")]
    with dg.DagsterInstance.ephemeral() as instance, measured() as cost:
        run_partition_range(definitions, NIGHTLY_JOB, first_day.isoformat(),
                            last_day.isoformat(), instance, "WARNING", transforms)
    return cost


@dataclass
class WriteFloor:
    """What rewriting one night's tickets costs, without computing anything (`write_floor`)."""

    tickets: int
    rows: int
    tables: int
    open_seconds: float
    delete_seconds: float
    insert_seconds: float
    commit_seconds: float
    close_seconds: float

    @property
    def seconds(self) -> float:
        return (self.open_seconds + self.delete_seconds + self.insert_seconds
                + self.commit_seconds + self.close_seconds)


def write_floor(warehouse_path: Path, copy_path: Path) -> WriteFloor:
    """The least any incremental design of the per-ticket models must pay for a night: on a
    copy of a warehouse right after a night, the rows of that night's tickets (the change
    log's newest entries) in every per-ticket table are deleted and inserted again from
    copies made beforehand (no model SQL, no upstream read) by the DELETE and INSERT
    `transforms.runner.replace_ticket_rows` runs, timed apart, one transaction per table as
    the builds commit them, then the warehouse is closed (its checkpoint). The tables end
    as they began (their row counts are compared); the copy is removed."""
    copy_warehouse(warehouse_path, copy_path)
    settings = benchmark_settings(f"duckdb:///{copy_path}")
    tables = [m.qualified_name for m in build_order(settings.configured_sources)
              if m.per_ticket]
    con = None
    try:
        started = time.perf_counter()
        con = duckdb.connect(str(copy_path))
        for statement in DUCKDB_SETTINGS:
            con.execute(statement)
        opened = time.perf_counter() - started
        # The night's tickets as the builds' scope table, tested as they test it.
        con.execute(
            f"CREATE TEMP TABLE {SCOPE_TABLE} AS SELECT DISTINCT source, ticket_id "
            f"FROM staging.{CHANGES_TABLE} WHERE loaded_at = "
            f"(SELECT max(loaded_at) FROM staging.{CHANGES_TABLE})")
        in_night = ticket_scope_condition("source", "ticket_id")
        for i, table in enumerate(tables):
            con.execute(f"CREATE TEMP TABLE rows_{i} AS SELECT * FROM {table} WHERE {in_night}")
        rows = sum(con.execute(f"SELECT count(*) FROM rows_{i}").fetchone()[0]
                   for i in range(len(tables)))
        tickets = con.execute(f"SELECT count(*) FROM {SCOPE_TABLE}").fetchone()[0]
        counts = "SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in tables)
        before = con.execute(counts).fetchone()
        spent = [0.0, 0.0, 0.0]
        for i, table in enumerate(tables):
            marks = [time.perf_counter()]
            con.execute("BEGIN")
            con.execute(f"DELETE FROM {table} WHERE {in_night}")
            marks.append(time.perf_counter())
            con.execute(f"INSERT INTO {table} SELECT * FROM rows_{i}")
            marks.append(time.perf_counter())
            con.execute("COMMIT")
            marks.append(time.perf_counter())
            for part in range(3):
                spent[part] += marks[part + 1] - marks[part]
        if con.execute(counts).fetchone() != before:
            raise RuntimeError("the write floor changed a table's row count")
        started = time.perf_counter()
        con.close()
        closed = time.perf_counter() - started
    finally:
        if con is not None:
            con.close()  # a second close is a no-op; this one is for a failure half-way
        remove_warehouse_file(copy_path)
    return WriteFloor(tickets, rows, len(tables), opened, *spent, closed)
