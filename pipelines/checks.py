"""Asset checks guarding the tables: unique grain keys, non-negative durations, and our
calendar metrics agreeing with the helpdesk's own."""


from collections.abc import Sequence
from typing import Any

import dagster as dg

from pipelines.resources import WarehouseResource
from transforms import ALL_MODELS, Model
from transforms.incremental import Built, recorded_unique
from transforms.runner import duplicate_keys_sql
from warehouse import Warehouse

GRAIN_IS_UNIQUE = "grain_is_unique"
DURATIONS_NOT_NEGATIVE = "durations_not_negative"
CALENDAR_METRICS_MATCH_HELPDESK = "calendar_metrics_match_helpdesk"
MRR_MOVEMENTS_RECONCILE = "mrr_movements_reconcile"
ORGANIZATIONS_MAPPED_TO_ACCOUNTS = "organizations_mapped_to_accounts"

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
    """How many grain keys of `model` occur more than once (in the whole table)."""
    return warehouse.scalar(duplicate_keys_sql(warehouse, model))


def grain_check_spec(model: Model) -> dg.AssetCheckSpec:
    """The uniqueness check of a model's grain, evaluated right after each build (blocking)."""
    return dg.AssetCheckSpec(
        GRAIN_IS_UNIQUE,
        asset=dg.AssetKey([model.schema, model.name]),
        description=f"One row per ({', '.join(model.grain)}).",
        blocking=True,
    )


def _selected_from(model: Model) -> Model | None:
    """The per-ticket table a view selects its rows from, grain passed through
    (`Model.row_subset_of`), or None. Only the tables the view reads are tried (a view is
    never a staging model, so its SQL is the same for every source)."""
    if model.materialized != "view":
        return None
    reads = model.tables_read([])
    for table in ALL_MODELS:
        if (table.per_ticket and (table.schema, table.name) in reads
                and model.row_subset_of(table.grain) == (table.schema, table.name)):
            return table
    return None


def grain_check_result(warehouse: Warehouse, model: Model,
                       built: Built | None = None) -> dg.AssetCheckResult:
    """Evaluate `grain_check_spec(model)`: the count the build took (per-ticket models,
    transforms/incremental.py: over the recomputed tickets' keys when that suffices); for a
    view selecting rows of a per-ticket table whose last build's check found its grain
    unique, that outcome (a repeated key of the view would be one of the table: counting the
    view's 1.8M and 4.7M rows at 1M tickets took 0.4 s of a nightly run); else a count over
    the whole table."""
    if built is not None and built.duplicate_keys is not None:
        duplicates, checked = built.duplicate_keys, built.grain_checked
    elif (table := _selected_from(model)) is not None and recorded_unique(warehouse, table.name):
        duplicates, checked = 0, (f"not counted: a selection of {table.qualified_name}'s "
                                  "rows, whose grain its last build's check found unique")
    else:
        duplicates, checked = duplicate_grain_count(warehouse, model), "whole table"
    return dg.AssetCheckResult(
        check_name=GRAIN_IS_UNIQUE, passed=duplicates == 0,
        metadata={"duplicate_keys": duplicates, "checked": checked},
    )


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


def calendar_agreement(warehouse: Warehouse) -> list[dict[str, Any]]:
    """Per source and calendar-minute metric (`label`: `source.metric`): the agreement with
    the helpdesk's own values, from marts.metric_reconciliation."""
    return warehouse.query(
        "SELECT source || '.' || metric AS label, definitions_coincide, agreement_rate, "
        "worst_ticket_ids FROM marts.metric_reconciliation "
        "WHERE unit = 'calendar_minutes' ORDER BY source, metric"
    )


@dg.asset_check(
    asset=dg.AssetKey(["marts", "metric_reconciliation"]),
    name=CALENDAR_METRICS_MATCH_HELPDESK,
    description=(
        "Every calendar metric defined as the helpdesk defines it agrees with the helpdesk "
        "on every ticket. Metrics whose definitions deliberately differ (the waits: ours run "
        "to the as-of time) are listed, not judged; docs/reconciliation.md. Warns, never blocks."
    ),
)
def calendar_metrics_match_helpdesk(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Warn when a calendar metric that should equal the helpdesk's disagrees on a ticket."""
    rows = calendar_agreement(warehouse.get())
    mismatched = [r for r in rows if r["definitions_coincide"] and r["agreement_rate"] < 1.0]
    different = [r["label"] for r in rows if not r["definitions_coincide"]]
    metadata: dict[str, Any] = {
        f"agreement_rate/{r['label']}": float(r["agreement_rate"]) for r in rows
    }
    metadata["mismatched_metrics"] = ", ".join(r["label"] for r in mismatched) or "none"
    metadata["worst_ticket_ids"] = dg.MetadataValue.json(
        {r["label"]: r["worst_ticket_ids"] for r in mismatched}
    )
    metadata["deliberately_different"] = ", ".join(different) or "none"
    return dg.AssetCheckResult(
        passed=not mismatched, severity=dg.AssetCheckSeverity.WARN, metadata=metadata
    )


def unbalanced_churn_months(warehouse: Warehouse) -> list[dict[str, Any]]:
    """Months and segments whose movements do not add up from mrr_start to mrr_end."""
    return warehouse.query(
        "SELECT month, segment, mrr_start, mrr_end, "
        "mrr_start + mrr_new + mrr_expansion + mrr_reactivation - mrr_contraction "
        "- mrr_churned AS mrr_end_from_movements FROM marts.churn_monthly "
        "WHERE abs(mrr_start + mrr_new + mrr_expansion + mrr_reactivation - mrr_contraction "
        "- mrr_churned - mrr_end) > 0.01 ORDER BY month, segment"
    )


@dg.asset_check(
    asset=dg.AssetKey(["marts", "churn_monthly"]),
    name=MRR_MOVEMENTS_RECONCILE,
    description=(
        "For every month and segment: mrr_start + new + expansion + reactivation "
        "- contraction - churned = mrr_end (to the cent)."
    ),
    blocking=True,
)
def mrr_movements_reconcile(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Check that MRR movements add up, month by month and segment by segment."""
    wh = warehouse.get()
    unbalanced = unbalanced_churn_months(wh)
    checked = wh.scalar("SELECT count(*) FROM marts.churn_monthly")
    return dg.AssetCheckResult(
        passed=not unbalanced,
        metadata={
            "months_and_segments_checked": checked,
            "unbalanced": len(unbalanced),
            "first_unbalanced": str(unbalanced[0]) if unbalanced else "",
        },
    )


@dg.asset_check(
    asset=dg.AssetKey(["staging", "organization_accounts"]),
    name=ORGANIZATIONS_MAPPED_TO_ACCOUNTS,
    description="How many helpdesk organisations map to a CRM account (warns when none do).",
)
def organizations_mapped_to_accounts(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Report mapped and unmapped organisations (tickets of unmapped ones have no account_id)."""
    wh = warehouse.get()
    organizations = wh.scalar("SELECT count(*) FROM staging.organizations")
    mapped = wh.scalar("SELECT count(*) FROM staging.organization_accounts")
    accounts = wh.scalar("SELECT count(*) FROM staging.accounts")
    return dg.AssetCheckResult(
        passed=accounts == 0 or mapped > 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "organizations": organizations,
            "mapped": mapped,
            "unmapped": organizations - mapped,
            "share_mapped": (mapped / organizations) if organizations else 0.0,
        },
    )


def build_checks(configured: bool) -> Sequence[dg.AssetChecksDefinition]:
    """The stand-alone checks, when a source is configured (otherwise no tables exist).

    Grain checks are not here: each model's asset evaluates its own (`grain_check_spec`).
    """
    if not configured:
        return []
    return [
        ticket_metrics_durations_not_negative,
        calendar_metrics_match_helpdesk,
        mrr_movements_reconcile,
        organizations_mapped_to_accounts,
    ]
