"""Asset checks guarding the tables: unique grain keys and non-negative durations."""


from collections.abc import Sequence

import dagster as dg

from pipelines.resources import WarehouseResource
from transforms import INTERMEDIATE_MODELS, MART_MODELS, STAGING_MODELS, Model
from warehouse import Warehouse

GRAIN_IS_UNIQUE = "grain_is_unique"
DURATIONS_NOT_NEGATIVE = "durations_not_negative"

#: Duration columns of ticket_metrics that can never be negative.
TICKET_METRICS_DURATIONS = (
    "first_response_minutes",
    "first_resolution_minutes",
    "full_resolution_minutes",
    "requester_wait_minutes",
    "agent_wait_minutes",
    "on_hold_minutes",
    "handle_seconds",
)


def duplicate_grain_count(warehouse: Warehouse, model: Model) -> int:
    """How many grain keys of `model` occur more than once."""
    columns = ", ".join(warehouse.quote(c) for c in model.grain)
    table = f"{warehouse.quote(model.schema)}.{warehouse.quote(model.name)}"
    return warehouse.scalar(
        f"SELECT count(*) FROM (SELECT {columns} FROM {table} "
        f"GROUP BY {columns} HAVING count(*) > 1) AS duplicates"
    )


def _grain_check(model: Model) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey([model.schema, model.name]),
        name=GRAIN_IS_UNIQUE,
        description=f"One row per ({', '.join(model.grain)}).",
        blocking=True,
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        duplicates = duplicate_grain_count(warehouse.get(), model)
        return dg.AssetCheckResult(
            passed=duplicates == 0, metadata={"duplicate_keys": duplicates}
        )

    return _check


@dg.asset_check(
    asset=dg.AssetKey(["marts", "ticket_metrics"]),
    name=DURATIONS_NOT_NEGATIVE,
    description="No duration column of ticket_metrics is negative.",
)
def ticket_metrics_durations_not_negative(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Count negative durations per column of marts.ticket_metrics."""
    wh = warehouse.get()
    counts = {
        column: wh.scalar(
            f"SELECT count(*) FROM marts.ticket_metrics WHERE {wh.quote(column)} < 0"
        )
        for column in TICKET_METRICS_DURATIONS
    }
    return dg.AssetCheckResult(passed=not any(counts.values()), metadata=counts)


def build_checks(configured: bool) -> Sequence[dg.AssetChecksDefinition]:
    """Every check, when at least one source is configured (otherwise no tables exist)."""
    if not configured:
        return []
    models = (*STAGING_MODELS, *INTERMEDIATE_MODELS, *MART_MODELS)
    return [*(_grain_check(m) for m in models), ticket_metrics_durations_not_negative]
