"""Daily partitions (days in the reporting time zone) and the extraction window of a run."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.settings import Settings

#: Where "the beginning of the helpdesk's history" is when HISTORY_START_DATE is not set.
BEGINNING_OF_HISTORY = datetime(1970, 1, 1, tzinfo=UTC)


def daily_partitions(settings: Settings) -> dg.DailyPartitionsDefinition:
    """One partition per day from PIPELINE_START_DATE, days in REPORTING_TIMEZONE."""
    return dg.DailyPartitionsDefinition(
        start_date=settings.pipeline_start_date.isoformat(),
        timezone=settings.reporting_timezone,
    )


def monthly_partitions(settings: Settings) -> dg.MonthlyPartitionsDefinition:
    """One partition per month from PIPELINE_START_DATE's month, the current month included."""
    return dg.MonthlyPartitionsDefinition(
        start_date=settings.pipeline_start_date.replace(day=1).isoformat(),
        timezone=settings.reporting_timezone,
        end_offset=1,
    )


def mart_range(context: dg.AssetExecutionContext) -> tuple[date, date]:
    """The [first, end) dates a run of a partitioned mart recomputes.

    A run that includes the first partition also recomputes everything before it (like the
    raw assets' first window): revenue history starts long before the first partition.
    """
    window = context.partition_time_window
    first, end = window.start.date(), window.end.date()
    first_key = context.assets_def.partitions_def.get_first_partition_key()
    if context.partition_key_range.start == first_key:
        first = date(1, 1, 1)
    return first, end


def extraction_window(
    context: dg.AssetExecutionContext, settings: Settings
) -> tuple[datetime, datetime]:
    """The [start, end) window, in UTC, that a run of partitioned raw assets extracts.

    A run covers one partition or a range of them (single-run backfill). A window that
    starts at the first partition opens at the beginning of the helpdesk's history instead
    (or HISTORY_START_DATE), so tickets created earlier arrive with their whole history.
    """
    window = context.partition_time_window
    # A window still in progress ends now: the as-of time must not lie in the future.
    start, end = window.start.astimezone(UTC), min(window.end.astimezone(UTC), datetime.now(UTC))
    first_key = context.assets_def.partitions_def.get_first_partition_key()
    if context.partition_key_range.start == first_key:
        if settings.history_start_date is not None:
            zone = ZoneInfo(settings.reporting_timezone)
            history_start = datetime.combine(settings.history_start_date, time(), zone)
            start = min(start, history_start.astimezone(UTC))
        else:
            start = BEGINNING_OF_HISTORY
    return start, end
