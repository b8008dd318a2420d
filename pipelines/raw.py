"""Raw assets: each vendor's dlt source, loaded into schema `raw_<source>` of the warehouse."""


import hashlib
import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import dlt
import sqlalchemy as sa
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from connectors.typed_rows import QUARANTINE_TABLE
from pipelines.partitions import BEGINNING_OF_HISTORY, extraction_window
from pipelines.resources import (
    FreshdeskResource,
    HubSpotResource,
    IntercomResource,
    SalesforceResource,
    WarehouseResource,
    ZendeskResource,
)
from pipelines.settings import Settings
from warehouse import Warehouse
from warehouse.core import DLT_DUCKDB_LOAD_WORKERS

#: Per raw schema: the windows each successful load covered. The pipeline's "as of" time
#: (where open intervals end) is the end of the last loaded window, so re-running the same
#: window gives the same numbers.
LOAD_WINDOWS_TABLE = "_load_windows"


#: Tables a resource lands besides its own (dlt's `__` nested tables are folded generically).
EXTRA_TABLES = {
    "zendesk": {"ticket_child_events": "ticket_events", "ticket_metric_sets": "tickets"},
    "intercom": {"conversation_parts": "conversations", "contacts": "conversations"},
    "freshdesk": {"conversations": "tickets"},
}


def raw_asset_key(schema: str, table: str) -> dg.AssetKey:
    """The raw asset that lands `schema.table`."""
    source = schema.removeprefix("raw_")
    return dg.AssetKey([schema, EXTRA_TABLES.get(source, {}).get(table, table)])


def raw_dataset(source: str) -> str:
    """The schema a source lands in."""
    return f"raw_{source}"


class RawTranslator(DagsterDltTranslator):
    """Asset keys `raw_<source>/<table>`, grouped by source, tagged with the warehouse kind."""

    def __init__(self, source: str, warehouse_kind: str) -> None:
        self.source = source
        self.warehouse_kind = warehouse_kind

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        """The spec of one landed table."""
        dataset = raw_dataset(self.source)
        spec = super().get_asset_spec(data)
        return spec.replace_attributes(
            key=dg.AssetKey([dataset, data.resource.name]),
            deps=[],
            group_name=dataset,
            kinds={"dlt", self.warehouse_kind},
            description=(
                f"`{dataset}.{data.resource.name}`: {self.source} data as the API returns it "
                "(merged on its primary key). Daily partitions extract what changed that day. "
                f"Records that cannot land go to `{dataset}.{QUARANTINE_TABLE}` (metadata "
                f"`{QUARANTINED}`)."
            ),
        )


@contextmanager
def dlt_pipeline_for(source: str, warehouse: Warehouse) -> Iterator[dlt.Pipeline]:
    """The dlt pipeline that loads `source` into `warehouse`, for runs inside the block
    (`Warehouse.dlt_destination`: into DuckDB, the block holds the file open).

    Its working folder is keyed by the warehouse, so two warehouses never share dlt state.
    Into DuckDB, dlt runs `DLT_DUCKDB_LOAD_WORKERS` load jobs at a time (warehouse/core.py;
    dlt reads `load.workers` from its configuration: `LOAD__WORKERS` set by the user wins).
    """
    digest = hashlib.sha256(warehouse.display_url.encode()).hexdigest()[:12]
    if warehouse.is_duckdb:
        os.environ.setdefault("LOAD__WORKERS", str(DLT_DUCKDB_LOAD_WORKERS))
        base = Path(warehouse.duckdb_path).expanduser().parent / ".dlt_pipelines"
    else:
        base = Path("data") / ".dlt_pipelines"
    with warehouse.dlt_destination() as destination:
        yield dlt.pipeline(
            pipeline_name=f"helpdesk_etl_{source}_{digest}",
            pipelines_dir=str(base),
            destination=destination,
            dataset_name=raw_dataset(source),
        )


def record_loaded_window(
    warehouse: Warehouse, source: str, start: datetime, end: datetime, run_id: str
) -> None:
    """Note that [start, end) of `source` is loaded."""
    table = f"{warehouse.quote(raw_dataset(source))}.{warehouse.quote(LOAD_WINDOWS_TABLE)}"
    with warehouse.transaction() as connection:
        connection.exec_driver_sql(
            f"CREATE TABLE IF NOT EXISTS {table} (window_start timestamptz NOT NULL, "
            "window_end timestamptz NOT NULL, loaded_at timestamptz NOT NULL, run_id text)"
        )
        # One row per window: a re-run of a window (a retry after a crash, a repeated
        # backfill) replaces its row instead of adding another.
        connection.execute(
            sa.text(f"DELETE FROM {table} WHERE window_start = :start AND window_end = :end"),
            {"start": start, "end": end},
        )
        connection.execute(
            sa.text(f"INSERT INTO {table} VALUES (:start, :end, :loaded_at, :run_id)"),
            {"start": start, "end": end, "loaded_at": datetime.now(UTC), "run_id": run_id},
        )


def loaded_as_of(warehouse: Warehouse, sources: list[str]) -> datetime:
    """The end of the last loaded window over `sources` (beginning of history if none)."""
    ends = []
    with warehouse.engine.connect() as connection:
        for source in sources:
            if warehouse.table_exists(raw_dataset(source), LOAD_WINDOWS_TABLE, connection):
                table = (f"{warehouse.quote(raw_dataset(source))}."
                         f"{warehouse.quote(LOAD_WINDOWS_TABLE)}")
                value = connection.execute(
                    sa.text(f"SELECT max(window_end) FROM {table}")).scalar()
                if value is not None:
                    ends.append(value if value.tzinfo else value.replace(tzinfo=UTC))
    return max(ends, default=BEGINNING_OF_HISTORY).astimezone(UTC)


#: Materialization metadata of a raw asset: records of its tables quarantined by the load.
QUARANTINED = "quarantined_records"


def quarantined_counts(
    warehouse: Warehouse, source: str, load_ids: Iterable[str]
) -> dict[str, int]:
    """Landed table -> records of `source` sent to `_quarantine` by the loads `load_ids`."""
    load_ids = list(load_ids)
    schema = raw_dataset(source)
    if not load_ids or not warehouse.table_exists(schema, QUARANTINE_TABLE):
        return {}
    table = f"{warehouse.quote(schema)}.{warehouse.quote(QUARANTINE_TABLE)}"
    placeholders = ", ".join(f":load_{i}" for i in range(len(load_ids)))
    rows = warehouse.query(
        f"SELECT table_name, count(*) AS n FROM {table} "
        f"WHERE _dlt_load_id IN ({placeholders}) GROUP BY table_name ORDER BY table_name",
        {f"load_{i}": load_id for i, load_id in enumerate(load_ids)},
    )
    return {row["table_name"]: int(row["n"]) for row in rows}


def with_quarantine_counts(
    events: Iterable[object],
    warehouse: Warehouse,
    source: str,
    pipeline: dlt.Pipeline,
    log: logging.Logger | dg.DagsterLogManager,
) -> Iterator[object]:
    """The materializations of one dlt run, each with `quarantined_records`: how many
    records of its tables this load sent to `_quarantine` (0 when none). A warning names
    the counts per table (never a record's contents) when there are any."""
    by_asset: dict[dg.AssetKey, int] | None = None
    for event in events:
        if by_asset is None:  # the dlt run is over once it reports its first asset
            load_info = pipeline.last_trace.last_load_info if pipeline.last_trace else None
            counts = quarantined_counts(
                warehouse, source, load_info.loads_ids if load_info else ()
            )
            by_asset = {}
            for table, count in counts.items():
                # A nested table (`schedules__intervals`) belongs to its parent's asset.
                key = raw_asset_key(raw_dataset(source), table.split("__", 1)[0])
                by_asset[key] = by_asset.get(key, 0) + count
            if counts:
                detail = ", ".join(f"{table} {count}" for table, count in counts.items())
                log.warning(
                    f"{source}: {sum(counts.values())} records quarantined ({detail}); "
                    f"see {raw_dataset(source)}.{QUARANTINE_TABLE}"
                )
        if isinstance(event, dg.MaterializeResult | dg.AssetMaterialization):
            count = dg.MetadataValue.int(by_asset.get(event.asset_key, 0))
            # Both event types are immutable records: `_replace` copies with new metadata.
            event = event._replace(metadata={**(event.metadata or {}), QUARANTINED: count})
        yield event


def _raw_dlt_assets(source: str, template, partitions_def, warehouse_kind: str):
    """The `@dlt_assets` decorator for one source: keys raw_<source>/<table>, daily partitions,
    one run per backfill range."""
    return dlt_assets(
        dlt_source=template,
        dlt_pipeline=dlt.pipeline(
            pipeline_name=f"helpdesk_etl_{source}", dataset_name=raw_dataset(source)
        ),
        name=f"{source}_raw",
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        dagster_dlt_translator=RawTranslator(source, warehouse_kind),
    )


def _load_window(
    context: dg.AssetExecutionContext,
    dlt_resource: DagsterDltResource,
    warehouse: WarehouseResource,
    settings: Settings,
    source: str,
    make_source,
):
    """Extract the run's window from `source` and land it; then record the window."""
    start, end = extraction_window(context, settings)
    context.log.info(f"{source} window [{start.isoformat()}, {end.isoformat()})")
    # dlt opens a DuckDB file with its own settings: close what a transform step held open.
    warehouse.release()
    wh = warehouse.get()
    with dlt_pipeline_for(source, wh) as pipeline:
        # The run's few events, gathered: the load is over, and the file closed, before
        # anything else reads the warehouse.
        events = list(dlt_resource.run(
            context=context, dlt_source=make_source(start, end), dlt_pipeline=pipeline
        ))
    yield from with_quarantine_counts(events, wh, source, pipeline, context.log)
    record_loaded_window(wh, source, start, end, context.run.run_id)


def build_zendesk_assets(
    settings: Settings, partitions_def: dg.PartitionsDefinition, warehouse_kind: str
) -> dg.AssetsDefinition:
    """The Zendesk raw tables as one dlt multi-asset, daily-partitioned."""
    from connectors.zendesk import zendesk_source

    # The definition-time source only names the resources; the run builds the real one.
    template = zendesk_source(
        subdomain="example", email="x", api_token="x", start=BEGINNING_OF_HISTORY
    )

    @_raw_dlt_assets("zendesk", template, partitions_def, warehouse_kind)
    def zendesk_raw(
        context: dg.AssetExecutionContext,
        dlt: DagsterDltResource,
        warehouse: WarehouseResource,
        zendesk: ZendeskResource,
    ):
        """Extract the window of the run's partitions from Zendesk and land it."""
        yield from _load_window(context, dlt, warehouse, settings, "zendesk", zendesk.source)

    return zendesk_raw


def build_intercom_assets(
    settings: Settings, partitions_def: dg.PartitionsDefinition, warehouse_kind: str
) -> dg.AssetsDefinition:
    """The Intercom raw tables (conversations with their parts and contacts, admins, teams,
    companies), daily-partitioned like Zendesk's."""
    from connectors.intercom import intercom_source

    template = intercom_source("x", start=BEGINNING_OF_HISTORY)

    @_raw_dlt_assets("intercom", template, partitions_def, warehouse_kind)
    def intercom_raw(
        context: dg.AssetExecutionContext,
        dlt: DagsterDltResource,
        warehouse: WarehouseResource,
        intercom: IntercomResource,
    ):
        """Extract the window of the run's partitions from Intercom and land it."""
        yield from _load_window(context, dlt, warehouse, settings, "intercom", intercom.source)

    return intercom_raw


def build_freshdesk_assets(
    settings: Settings, partitions_def: dg.PartitionsDefinition, warehouse_kind: str
) -> dg.AssetsDefinition:
    """The Freshdesk raw tables (tickets, conversations, activities, ratings, agents,
    groups, statuses), daily-partitioned like Zendesk's."""
    from connectors.freshdesk import freshdesk_source

    template = freshdesk_source("x", domain="x", start=BEGINNING_OF_HISTORY)

    @_raw_dlt_assets("freshdesk", template, partitions_def, warehouse_kind)
    def freshdesk_raw(
        context: dg.AssetExecutionContext,
        dlt: DagsterDltResource,
        warehouse: WarehouseResource,
        freshdesk: FreshdeskResource,
    ):
        """Extract the window of the run's partitions from Freshdesk and land it."""
        yield from _load_window(context, dlt, warehouse, settings, "freshdesk", freshdesk.source)

    return freshdesk_raw


def build_hubspot_assets(
    settings: Settings, partitions_def: dg.PartitionsDefinition, warehouse_kind: str
) -> dg.AssetsDefinition:
    """The HubSpot raw tables (companies, deals), daily-partitioned like the helpdesk's."""
    from connectors.hubspot import hubspot_source

    template = hubspot_source("x", start=BEGINNING_OF_HISTORY)

    @_raw_dlt_assets("hubspot", template, partitions_def, warehouse_kind)
    def hubspot_raw(
        context: dg.AssetExecutionContext,
        dlt: DagsterDltResource,
        warehouse: WarehouseResource,
        hubspot: HubSpotResource,
    ):
        """Extract the window of the run's partitions from HubSpot and land it."""
        yield from _load_window(context, dlt, warehouse, settings, "hubspot", hubspot.source)

    return hubspot_raw


def build_salesforce_assets(
    settings: Settings, partitions_def: dg.PartitionsDefinition, warehouse_kind: str
) -> dg.AssetsDefinition:
    """The Salesforce raw tables (accounts, opportunities), daily-partitioned."""
    from connectors.salesforce import salesforce_source

    template = salesforce_source("https://example.my.salesforce.com", "x",
                                 start=BEGINNING_OF_HISTORY)

    @_raw_dlt_assets("salesforce", template, partitions_def, warehouse_kind)
    def salesforce_raw(
        context: dg.AssetExecutionContext,
        dlt: DagsterDltResource,
        warehouse: WarehouseResource,
        salesforce: SalesforceResource,
    ):
        """Extract the window of the run's partitions from Salesforce and land it."""
        yield from _load_window(
            context, dlt, warehouse, settings, "salesforce", salesforce.source
        )

    return salesforce_raw
