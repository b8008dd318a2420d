"""The nightly job and its schedule."""

from __future__ import annotations

import dagster as dg

NIGHTLY_JOB = "nightly_refresh"

#: Runs carrying this tag are queued one at a time (dagster.yaml): a DuckDB file has one writer.
WAREHOUSE_WRITER_TAG = "helpdesk-etl/warehouse-writer"


def nightly_job() -> dg.UnresolvedAssetJobDefinition:
    """Every asset: the day's raw partitions, then staging and every mart downstream.

    Its partitions (days in the reporting time zone) are those of the selected assets.
    """
    return dg.define_asset_job(
        NIGHTLY_JOB,
        selection=dg.AssetSelection.all(),
        tags={WAREHOUSE_WRITER_TAG: "1"},
        description="Load a day (or a range of days) from every source and refresh every table.",
    )


def nightly_schedule(job: dg.UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    """At 01:30 in the reporting time zone, materialise yesterday's partition and downstream."""
    return dg.build_schedule_from_partitioned_job(
        job,
        hour_of_day=1,
        minute_of_hour=30,
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
