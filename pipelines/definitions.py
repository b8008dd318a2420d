"""The Dagster code location: assets, checks, the nightly job and schedule, resources.

`dagster dev` at the repository root loads `defs` (workspace.yaml). Sources whose credentials
are absent are left out, with a log line saying so.
"""

from __future__ import annotations

import logging

import dagster as dg

from pipelines.checks import build_checks
from pipelines.executor import writer_locked
from pipelines.partitions import daily_partitions, monthly_partitions
from pipelines.raw import (
    build_freshdesk_assets,
    build_hubspot_assets,
    build_intercom_assets,
    build_salesforce_assets,
    build_zendesk_assets,
)
from pipelines.resources import build_resources
from pipelines.schedules import monthly_job, monthly_schedule, nightly_job, nightly_schedule
from pipelines.settings import Settings
from pipelines.transform_assets import build_transform_assets
from transforms import MART_MODELS
from warehouse import Warehouse

log = logging.getLogger("helpdesk_etl")

RAW_BUILDERS = {
    "zendesk": build_zendesk_assets,
    "intercom": build_intercom_assets,
    "freshdesk": build_freshdesk_assets,
    "hubspot": build_hubspot_assets,
    "salesforce": build_salesforce_assets,
}


def build_definitions(settings: Settings) -> dg.Definitions:
    """Assemble the Definitions for `settings`."""
    warehouse = Warehouse(settings.warehouse_url)
    kind = "duckdb" if warehouse.is_duckdb else "postgres"
    partitions = daily_partitions(settings)

    raw_assets = []
    for source, builder in RAW_BUILDERS.items():
        if source in settings.configured_sources:
            raw_assets.append(builder(settings, partitions, kind))
        else:
            log.info("helpdesk-etl: %s is not configured (no credentials); its assets are left out",
                     source)
    raw_keys = {key for assets in raw_assets for key in assets.keys}
    months = monthly_partitions(settings)
    transform_assets = build_transform_assets(
        settings, raw_keys, kind, {"day": partitions, "month": months}
    )

    monthly = dg.AssetSelection.assets(
        *(dg.AssetKey([m.schema, m.name]) for m in MART_MODELS if m.period == "month")
    ).downstream()
    daily, revenue = nightly_job(monthly), monthly_job(monthly)
    return dg.Definitions(
        assets=[*raw_assets, *transform_assets],
        asset_checks=build_checks(bool(raw_assets)),
        jobs=[daily, revenue] if raw_assets else [],
        schedules=[
            nightly_schedule(daily),
            monthly_schedule(revenue, months, settings.reporting_timezone),
        ] if raw_assets else [],
        resources=build_resources(settings),
        # The steps of a run execute one after another in one process, on either engine:
        # DuckDB allows one writer, and on PostgreSQL Dagster's multiprocess executor
        # started a Python process per step (about 3 s each): 100 s for the nightly job
        # on a 200-ticket world against 11 s in-process, more than running steps side by
        # side saves at any scale measured (docs/performance-log.md, session 23). A run
        # holds the warehouse's writer lock (pipelines.executor).
        executor=writer_locked(dg.in_process_executor, settings.warehouse_url),
    )


@dg.definitions
def defs() -> dg.Definitions:
    """The code location, built from the environment when Dagster loads it."""
    return build_definitions(Settings.from_env())
