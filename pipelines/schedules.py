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
    """The monthly revenue marts (MRR movements, churn) and customer lifetime value."""
    return dg.define_asset_job(
        MONTHLY_JOB,
        selection=monthly,
        description="Recompute the month's MRR movements and churn, then customer lifetime value.",
    )


def monthly_schedule(
    job: dg.UnresolvedAssetJobDefinition, partitions_def: dg.MonthlyPartitionsDefinition,
    timezone: str,
) -> dg.ScheduleDefinition:
    """Nightly at 02:30, after the nightly load: refresh the month in progress.

    On the first days of a month the previous month is refreshed too, so it is final once
    its last day has been loaded.
    """

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
        wanted = keys[-2:] if now.day <= 2 else keys[-1:]
        for key in wanted:
            yield dg.RunRequest(run_key=f"{key}@{now.date()}", partition_key=key)

    return _schedule
