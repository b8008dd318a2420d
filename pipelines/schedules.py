"""The nightly job and its schedule."""

from __future__ import annotations

import dagster as dg

NIGHTLY_JOB = "nightly_refresh"
MONTHLY_JOB = "monthly_revenue_refresh"


def nightly_job(monthly: dg.AssetSelection) -> dg.UnresolvedAssetJobDefinition:
    """Every daily and unpartitioned asset: the day's raw partitions, staging, the marts.

    Its partitions (days in the reporting time zone) are those of the selected assets. The
    monthly revenue marts (and what reads them) have their own job, `monthly`.
    """
    return dg.define_asset_job(
        NIGHTLY_JOB,
        selection=dg.AssetSelection.all() - monthly,
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


def monthly_job(monthly: dg.AssetSelection) -> dg.UnresolvedAssetJobDefinition:
    """The monthly revenue marts (MRR movements, churn) and customer lifetime value, run over
    every month (`monthly_schedule`)."""
    return dg.define_asset_job(
        MONTHLY_JOB,
        selection=monthly,
        description="Recompute the months' MRR movements and churn, then customer lifetime value.",
    )


def monthly_schedule(
    job: dg.UnresolvedAssetJobDefinition, partitions_def: dg.MonthlyPartitionsDefinition,
    timezone: str,
) -> dg.ScheduleDefinition:
    """Nightly at 02:30, after the nightly load: recompute every month, in one run over the
    whole range of month partitions.

    Every month, not the month in progress alone: a deal won today may have started months
    ago (a close date entered late), and a corrected amount or an archived duplicate changes
    every month its contract ran. The marts are small (accounts x months).
    """
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    @dg.schedule(
        name=f"{MONTHLY_JOB}_schedule",
        cron_schedule="30 2 * * *",
        job=job,
        execution_timezone=timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    def _schedule(context: dg.ScheduleEvaluationContext):
        now = context.scheduled_execution_time
        keys = partitions_def.get_partition_keys(current_time=now)
        if keys:
            first, last = keys[0], keys[-1]
            yield dg.RunRequest(run_key=f"{first}..{last}@{now.date()}",
                                tags={ASSET_PARTITION_RANGE_START_TAG: first,
                                      ASSET_PARTITION_RANGE_END_TAG: last})

    return _schedule
