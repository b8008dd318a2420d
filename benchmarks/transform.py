"""Run every staging, intermediate and mart model over landed raw data, timing each one.

The models run exactly as their Dagster assets run them (`pipelines.transform_assets`), in
dependency order: a whole-table model is rebuilt, a partitioned mart recomputes every day
(what the first partition of a backfill does).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from benchmarks.measure import Measurement, measured
from pipelines.settings import Settings
from pipelines.transform_assets import ALL_DATES, build_model, build_model_days
from transforms.models import Model, build_order
from transforms.runner import session
from warehouse import Warehouse

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
            name = f"{model.schema}.{model.name}"
            started = time.perf_counter()
            if model.date_column:
                rows = build_model_days(model, warehouse, settings, first_day, end_day)
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
