"""Staging, intermediate and mart assets: one Dagster asset per SQL model.

Each asset runs its model inside the warehouse (set-based SQL, nothing pulled into Python)
and reports the row count. Dependencies are read off the SQL, so the graph in the UI is the
graph the queries really have.
"""


from collections.abc import Sequence
from datetime import date
from typing import Any

import dagster as dg

from pipelines.checks import grain_check_result, grain_check_spec
from pipelines.partitions import mart_range
from pipelines.raw import loaded_as_of, raw_asset_key
from pipelines.resources import WarehouseResource
from pipelines.settings import Settings
from transforms import (
    ALL_MODELS,
    INTERMEDIATE_MODELS,
    MART_MODELS,
    STAGING_MODELS,
    ColumnsChanged,
    Model,
    replace_date_range,
    replace_table,
    replace_view,
    staging_sql,
)
from transforms.incremental import Built, build_per_ticket
from warehouse import Warehouse

GROUP_BY_LAYER = {"staging": "staging", "intermediate": "staging", "marts": "marts"}


#: The range a whole-table build of a range-filtered model covers: every date.
ALL_DATES = (date(1, 1, 1), date(9999, 12, 31))


def model_params(warehouse: Warehouse, settings: Settings) -> dict[str, Any]:
    """Bind parameters every model may use.

    The as-of time, the reporting time zone, the CLV settings, and the date range
    (`range_start`, `range_end`; all dates unless a partition narrows it).
    """
    return {
        "as_of": loaded_as_of(warehouse, settings.configured_sources),
        "reporting_timezone": settings.reporting_timezone,
        "gross_margin": settings.gross_margin,
        "clv_min_churn_rate": settings.clv_min_churn_rate,
        "range_start": ALL_DATES[0],
        "range_end": ALL_DATES[1],
    }


def model_select(model: Model, settings: Settings, scoped: bool = False) -> str:
    """The SELECT that builds `model` for the configured sources (`scoped`: only the tickets
    of an incremental build's scope)."""
    if model.layer == "staging":
        return staging_sql(model, settings.configured_sources, scoped)
    return model.sql(scoped=scoped)


def per_ticket_upstream(model: Model, sources: list[str]) -> list[str]:
    """The per-ticket models `model` reads, directly or through views."""
    by_table = {(m.schema, m.name): m for m in ALL_MODELS}
    found: set[str] = set()
    pending = list(model.tables_read(sources))
    while pending:
        upstream = by_table.get(pending.pop())
        if upstream is None:
            continue
        if upstream.per_ticket:
            found.add(upstream.name)
        elif upstream.materialized == "view":
            pending.extend(upstream.tables_read(sources))
    return sorted(found)


def build_model(model: Model, warehouse: Warehouse, settings: Settings,
                check_grain: bool = False) -> Built:
    """Rebuild one whole-table (or view) model; a per-ticket model only for the tickets that
    changed when it can (transforms/incremental.py). `check_grain`: a per-ticket model's
    build also counts duplicate grain keys (`Built.duplicate_keys`)."""
    if model.materialized == "view":
        rows = replace_view(warehouse, model.schema, model.name, model_select(model, settings))
        return Built(rows, "full", "view")
    params = model_params(warehouse, settings)
    sources = settings.configured_sources
    if model.per_ticket:
        return build_per_ticket(
            warehouse, model, lambda scoped: model_select(model, settings, scoped), params,
            sources, per_ticket_upstream(model, sources),
            [m.name for m in ALL_MODELS if m.per_ticket], settings.full_rebuild, check_grain,
        )
    rows = replace_table(warehouse, model.schema, model.name, model_select(model, settings),
                         params)
    return Built(rows, "full", "")


def build_model_days(
    model: Model, warehouse: Warehouse, settings: Settings, first_day: date, end_day: date
) -> tuple[int, date]:
    """Recompute the days [first_day, end_day) of a daily model, from an earlier day when
    the window landed rows of it (`Model.changed_before_sql`, for the configured sources);
    return the rows written and the first day recomputed."""
    params = model_params(warehouse, settings)
    changed_before = model.changed_before_sql(settings.configured_sources)
    if changed_before:
        earlier = warehouse.scalar(
            changed_before, {**params, "range_start": first_day, "range_end": end_day}
        )
        if earlier is not None and earlier < first_day:
            first_day = earlier
    try:
        rows = replace_date_range(
            warehouse,
            model.schema,
            model.name,
            model_select(model, settings),
            str(model.date_column),
            first_day,
            end_day,
            params,
        )
    except ColumnsChanged as change:
        # A new version of the model changed its columns: the stored days cannot take the
        # partition's rows, and days of two shapes cannot share a table. It is rebuilt for
        # every day, once (the query covers every reporting day).
        # (Dagster's logger: the warning reaches the run's log, not only stderr)
        dg.get_dagster_logger().warning(f"{change}: rebuilding it for every day")
        rows = replace_table(warehouse, model.schema, model.name,
                             model_select(model, settings), params)
        first_day = ALL_DATES[0]
    return rows, first_day


def _asset_for(
    model: Model,
    settings: Settings,
    raw_keys: set[dg.AssetKey],
    kind: str,
    partitions: dict[str, dg.PartitionsDefinition],
) -> dg.AssetsDefinition:
    deps = []
    for schema, table in sorted(model.tables_read(settings.configured_sources)):
        is_raw = schema.startswith("raw_")
        key = raw_asset_key(schema, table) if is_raw else dg.AssetKey([schema, table])
        if is_raw and key not in raw_keys:
            raise ValueError(
                f"{model.sql_path('zendesk')} reads {schema}.{table}, which no raw asset lands"
            )
        deps.append(key)

    @dg.asset(
        key=dg.AssetKey([model.schema, model.name]),
        deps=deps,
        group_name=GROUP_BY_LAYER[model.layer],
        kinds={"sql", kind},
        description=model.description,
        metadata={"grain": ", ".join(model.grain)},
        partitions_def=partitions[model.period] if model.date_column else None,
        backfill_policy=dg.BackfillPolicy.single_run() if model.date_column else None,
        check_specs=[grain_check_spec(model)],
    )
    def _build(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        # One open DuckDB instance for the run's transform steps (`WarehouseResource.hold`).
        return _materialize(context, warehouse.hold())

    def _materialize(context: dg.AssetExecutionContext, wh: Warehouse) -> dg.MaterializeResult:
        table = model.qualified_name
        built = None
        if model.date_column:
            # The partition's days or months, in the reporting time zone (a range in a
            # backfill; the first partition reaches back to the beginning).
            first_day, end_day = mart_range(context)
            rows, first_day = build_model_days(model, wh, settings, first_day, end_day)
            context.log.info(f"{table}: {rows} rows for [{first_day}, {end_day})")
            metadata = {"rows_written": rows, "first_day": str(first_day),
                        "end_day": str(end_day), "table": table}
        else:
            built = build_model(model, wh, settings, check_grain=True)
            context.log.info(f"{table}: {built.rows} rows in {wh.display_url} "
                             f"({built.mode} build{': ' + built.detail if built.detail else ''})")
            metadata = {"dagster/row_count": built.rows, "table": table, **built.metadata()}
        return dg.MaterializeResult(
            metadata=metadata, check_results=[grain_check_result(wh, model, built)]
        )

    return _build


def build_transform_assets(
    settings: Settings,
    raw_keys: set[dg.AssetKey],
    kind: str,
    partitions: dict[str, dg.PartitionsDefinition],
) -> Sequence[dg.AssetsDefinition]:
    """One asset per model of every layer.

    `partitions` maps a model's period (`day`, `month`) to its partitions; daily models
    share the raw assets' partitions.
    """
    if not settings.configured_sources:
        return []
    models = (*STAGING_MODELS, *INTERMEDIATE_MODELS, *MART_MODELS)
    return [_asset_for(model, settings, raw_keys, kind, partitions) for model in models]
