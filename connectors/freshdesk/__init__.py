"""Freshdesk (API v2) as a dlt source: tickets with their conversations, the ticket
activities export (status history), satisfaction ratings, time entries, agents, groups,
business calendars and statuses.

Tables (see docs/freshdesk-landed-tables.md for every column):
- `tickets` + `conversations`: the tickets whose `updated_at` falls in the window
  [start, end) (the ticket list, oldest update first, with `include=stats`; deleted tickets
  from `filter=deleted`), and every conversation of each ticket that is not deleted.
- `ticket_activities`: the daily ticket activities export of each UTC day of the window
  that has ended, activities performed in the window.
- `satisfaction_ratings`: ratings created in the window.
- `time_entries`: the agents' time entries executed in the window, or in the days before it
  that `time_entries_from` reaches back over (the API filters them by `executed_at` only).
- `agents`, `groups`, `companies`, `business_hours`, `ticket_statuses`, `survey_scale`:
  reference data, loaded whole on every run.
Every table is merged on `id`.
"""

import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

import dlt
from dlt.sources import DltResource, DltSource

from connectors.freshdesk import settings
from connectors.freshdesk.helpers import (
    ConversationFetcher,
    ExportNotReadyError,
    TicketSelector,
    activity_ids,
    build_client,
    export_activities,
    export_days,
    file_downloader,
    first_ticket_created,
    iso_seconds,
    landed_table,
    list_pages,
    new_quarantine,
    records_of,
    rejections_of,
    shape_activity,
    shape_agent,
    shape_business_hours,
    shape_company,
    shape_conversation,
    shape_group,
    shape_rating,
    shape_scale_point,
    shape_status,
    shape_time_entry,
    status_choices,
    survey_scale,
    ticket_pages,
)
from connectors.http import DEFAULT_READ_TIMEOUT_SECONDS, ApiClient, RetryPolicy, prefetch
from connectors.typed_rows import (
    SHAPE_ERRORS,
    Landing,
    Rejected,
    Rejection,
    coalesce_pages,
    column_hints,
    empty_page,
    unshapeable,
    with_quarantine,
)

__all__ = ["freshdesk_source"]

logger = logging.getLogger(__name__)

# No `from __future__ import annotations` here, as in the other connectors: dlt inspects
# resource signatures. The window is kept by the connector (as Intercom's): `tickets` lands
# the conversations too, whose own `updated_at` is not the ticket's.


def freshdesk_source(
    api_key: str,
    base_url: str | None = None,
    *,
    domain: str | None = None,
    start: datetime,
    end: datetime | None = None,
    tickets_to_now: bool = False,
    activities_from: datetime | None = None,
    time_entries_from: datetime | None = None,
    land_free_text: bool = False,
    page_size: int = settings.DEFAULT_PAGE_SIZE,
    retry: RetryPolicy | None = None,
    timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS,
) -> DltSource:
    """The Freshdesk dlt source for the extract window [start, end).

    `api_key` is a Freshdesk API key (HTTP Basic auth with `X` as the password; the ticket
    activities export needs an admin's key and the export turned on). `base_url` overrides
    `https://{domain}.freshdesk.com`; it must be https:// unless it points at a loopback
    host. `start` must be timezone-aware; `end` None means up to now. `tickets_to_now`:
    tickets (with their conversations) updated at or after `end` land too, every ticket
    updated since `start` (the activities and ratings keep to [start, end)).
    The activities land by whole UTC days: every day of [`activities_from`, end) that has
    ended (`activities_from` defaults to `start`). A day's export exists only once the UTC
    day has ended, and may come later still, so a day left out (not ended, or its export
    missing) comes with a window whose activities reach back over it (the pipeline's reach
    back two days: `pipelines.resources.FreshdeskResource`). The time entries land when
    executed in [`time_entries_from`, end) (default `start`): the API filters them by
    `executed_at` alone, so an entry updated after its window (a timer stopped later, one
    logged afterwards and dated back) lands with a later window reaching back over it (the
    pipeline's reach back seven days). Subjects, conversation bodies, rating feedback,
    time-entry notes and the activities' raw JSON land only with `land_free_text` (their
    columns are NULL otherwise); e-mail addresses never land.
    `page_size` is the list pages' size (at most 100). The client paces itself on
    `X-RateLimit-Remaining` and waits out a 429's `Retry-After`; `timeout_seconds` bounds
    each read (a timeout is retried). A record that cannot land goes to `_quarantine` with
    the reason (the rest of its page lands). Nothing is fetched until the source is
    extracted.
    """
    activities_from = start if activities_from is None else activities_from
    time_entries_from = start if time_entries_from is None else time_entries_from
    if start.tzinfo is None or activities_from.tzinfo is None or (
            time_entries_from.tzinfo is None) or (end is not None and end.tzinfo is None):
        raise ValueError("freshdesk_source: start and end must be timezone-aware datetimes")
    if end is not None and end <= start:
        raise ValueError(f"freshdesk_source: end ({end}) must be after start ({start})")
    if not 1 <= page_size <= settings.MAX_PAGE_SIZE:
        raise ValueError(f"freshdesk_source: page_size must be 1..{settings.MAX_PAGE_SIZE}")
    client = build_client(api_key, base_url, domain, retry, timeout_seconds)
    download = file_downloader(api_key, client.retry, client.timeout)
    # Everything is passed explicitly, so dlt never fills an argument from the environment.
    return _freshdesk(client, download, start, end, None if tickets_to_now else end,
                      activities_from, time_entries_from, land_free_text, page_size)


@dlt.source(name=settings.SOURCE_NAME)
def _freshdesk(
    client: ApiClient, download: Callable[[str], Any], start: datetime,
    end: datetime | None, tickets_end: datetime | None, activities_from: datetime,
    time_entries_from: datetime, land_free_text: bool, page_size: int,
) -> Sequence[DltResource]:
    """The resources of one Freshdesk account for one window (the tickets' ends at
    `tickets_end`, the activities' starts at `activities_from`, the time entries' at
    `time_entries_from`)."""
    ticket_resource = tickets(client, land_free_text, page_size, start, tickets_end)
    # tickets lands the conversations too. A table variant starts as a copy of the
    # resource's hints: drop the ticket columns before giving the conversations their own.
    for columns in ({}, column_hints(settings.CONVERSATION_COLUMNS)):
        ticket_resource.apply_hints(
            table_name=settings.CONVERSATIONS_TABLE,
            primary_key="id",
            write_disposition="merge",
            columns=columns,
            create_table_variant=True,
        )
    resources = (
        ticket_resource,
        ticket_activities(client, download, land_free_text, activities_from, end),
        satisfaction_ratings(client, land_free_text, page_size, start, end),
        time_entries(client, land_free_text, page_size, time_entries_from, end),
        agents(client, land_free_text, page_size),
        groups(client, land_free_text, page_size),
        companies(client, land_free_text, page_size),
        business_hours(client, land_free_text, page_size),
        ticket_statuses(client, land_free_text),
        survey_scales(client, land_free_text, page_size),
    )
    with_quarantine(resources)
    return resources


# --- tickets and conversations --------------------------------------------------------------


@dlt.resource(
    name=settings.TICKETS_TABLE,
    primary_key="id",
    write_disposition="merge",
    columns=column_hints(settings.TICKET_COLUMNS),
    max_table_nesting=0,
)
def tickets(
    client: ApiClient, land_free_text: bool, page_size: int, start: datetime,
    end: datetime | None,
) -> Iterator[Any]:
    """Tickets updated in the window (the deleted ones too, `deleted = true`), and the
    conversations of each ticket that is not deleted in `conversations` (a few tickets at
    a time)."""
    yield from coalesce_pages(_ticket_items(client, land_free_text, page_size, start, end))


def _ticket_items(
    client: ApiClient, land_free_text: bool, page_size: int, start: datetime,
    end: datetime | None,
) -> Iterator[Any]:
    """The dlt items of `tickets`, one list page at a time: the live tickets' scan, the
    spam tickets', then the deleted tickets'."""
    ticket_table = landed_table(settings.TICKET_COLUMNS, required=("id", "updated_at"))
    conversation_table = landed_table(settings.CONVERSATION_COLUMNS,
                                      required=("id", "ticket_id"))
    quarantine = new_quarantine(land_free_text)
    ticket_landing = Landing(quarantine, settings.TICKETS_PATH, settings.TICKETS_TABLE,
                             ticket_table)
    conversation_landing = Landing(quarantine, settings.CONVERSATIONS_PATH,
                                   settings.CONVERSATIONS_TABLE, conversation_table)
    selector = TicketSelector(start, end, land_free_text)
    fetcher = ConversationFetcher(client, page_size)
    quarantined = 0

    def selections() -> Iterator[Any]:
        for list_filter in settings.TICKET_SCANS:
            deleted = list_filter == settings.DELETED_FILTER
            for page in ticket_pages(client, start, end, page_size, list_filter):
                yield selector.select(page, deleted)

    for selection, conversations in prefetch(fetcher.conversations(selections())):
        rejections = rejections_of(settings.TICKETS_PATH, settings.TICKETS_TABLE,
                                   selection.rejected)
        ticket_page, _ = ticket_landing.build(list(selection.records), list(selection.rows),
                                              rejections)
        kept: list[Any] = []
        rows: list[dict[str, Any]] = []
        for ticket_id, records in conversations:
            split_kept, split_rows, split_rejections = conversation_landing.split(
                records, partial(_conversation_row, ticket_id=ticket_id,
                                 land_free_text=land_free_text))
            kept += split_kept
            rows += split_rows
            rejections += split_rejections
        conversation_page, _ = conversation_landing.build(kept, rows, rejections)
        if ticket_page.num_rows:
            yield dlt.mark.with_table_name(ticket_page, settings.TICKETS_TABLE)
        if conversation_page.num_rows:
            yield dlt.mark.with_table_name(conversation_page, settings.CONVERSATIONS_TABLE)
        if rejections:
            quarantined += len(rejections)
            yield quarantine.item(rejections)
    if quarantined:
        logger.warning("%s: %d ticket / conversation record(s) could not land and were "
                       "quarantined (see _quarantine)", settings.SOURCE_NAME, quarantined)
    if fetcher.missing:
        logger.warning(
            "%s: %d ticket(s) of the window were deleted between the ticket list and their "
            "conversations request (GET %s answered 404); their conversations were skipped",
            settings.SOURCE_NAME, fetcher.missing, settings.CONVERSATIONS_PATH,
        )
    # An empty window still leaves both tables in place.
    yield empty_page(ticket_table, settings.TICKETS_TABLE)
    yield empty_page(conversation_table, settings.CONVERSATIONS_TABLE)


def _conversation_row(record: Any, ticket_id: int, land_free_text: bool) -> dict[str, Any]:
    """A conversation's row; one that names another ticket cannot land under this one."""
    row = shape_conversation(record, land_free_text)
    if row["ticket_id"] is None:
        row["ticket_id"] = ticket_id
    elif row["ticket_id"] != ticket_id:
        raise Rejected(f"ticket_id = {row['ticket_id']} is not the ticket it was listed "
                       f"under ({ticket_id})", "ticket_id")
    return row


# --- ticket activities ----------------------------------------------------------------------


@dlt.resource(
    name=settings.ACTIVITIES_TABLE,
    primary_key="id",
    write_disposition="merge",
    columns=column_hints(settings.ACTIVITY_COLUMNS),
    max_table_nesting=0,
)
def ticket_activities(
    client: ApiClient, download: Callable[[str], Any], land_free_text: bool,
    start: datetime, end: datetime | None,
) -> Iterator[Any]:
    """The activities of each UTC day that overlaps [start, end) and has ended, whole, from
    the daily ticket activities export (two requests a day: the export, then its file). A
    day not yet ended, or whose export is missing, is left to a window whose activities
    reach back over it."""
    table = landed_table(settings.ACTIVITY_COLUMNS, required=("id", "ticket_id",
                                                              "performed_at"))
    landing = Landing(new_quarantine(land_free_text), settings.ACTIVITIES_FILE_ENDPOINT,
                      settings.ACTIVITIES_TABLE, table)
    now = datetime.now(UTC)
    first_created = first_ticket_created(client, start)
    if first_created is None:  # no ticket was updated since start: no activity either
        ended, pending = [], []
    else:
        ended, pending = export_days(max(start, first_created), end, now)
    if pending:
        logger.info(
            "%s: the ticket activities export of %s (UTC) is skipped: the day has not ended "
            "(a later window whose activities reach back over it reads it)",
            settings.SOURCE_NAME, ", ".join(d.isoformat() for d in pending),
        )

    missing: list[date] = []

    def pages() -> Iterator[Any]:
        for day in ended:
            try:
                yield day, export_activities(client, day, download)
            except ExportNotReadyError:
                missing.append(day)

    def items() -> Iterator[Any]:
        for day, records in prefetch(pages()):
            kept, rows, rejections = _day_activities(records, day, land_free_text, landing)
            page, _ = landing.build(kept, rows, rejections)
            if page.num_rows:
                yield dlt.mark.with_table_name(page, settings.ACTIVITIES_TABLE)
            if rejections:
                logger.warning("%s: %d activity record(s) of the export of %s quarantined",
                               settings.SOURCE_NAME, len(rejections), day.isoformat())
                yield landing.quarantine.item(rejections)

    yield from coalesce_pages(items())
    if missing:
        logger.warning(
            "%s: no ticket activities export for %d day(s) from %s to %s (UTC): Freshdesk "
            "builds a day's export some time after the day ends (the pipeline's next two nights "
            "read the day again), and an old day's export is gone when the account had none "
            "then or no longer keeps it (its tickets' status history then starts from their "
            "creation and stats); their activities are missing for now",
            settings.SOURCE_NAME, len(missing), missing[0].isoformat(),
            missing[-1].isoformat())
    yield empty_page(table, settings.ACTIVITIES_TABLE)


def _day_activities(
    records: list[Any], day: date, land_free_text: bool, landing: Landing,
) -> tuple[list[Any], list[dict[str, Any]], list[Rejection]]:
    """Every activity of one day's export: (records, rows, rejections). A day lands whole,
    whatever part of it the window covers: activities never change, their ids are stable
    per export (numbered over the whole export), so landing a day again merges onto the
    same rows, and a day read late (its export missing when an earlier window wanted it)
    lands in full."""
    kept: list[Any] = []
    rows: list[dict[str, Any]] = []
    rejections: list[Rejection] = []
    for record, activity_id in zip(records, activity_ids(records), strict=True):
        try:
            row = shape_activity(record, activity_id, day, land_free_text)
            landing.table.check_required(row)
        except Rejected as why:
            rejections.append(landing.reject(record, why))
            continue
        except SHAPE_ERRORS as exc:
            rejections.append(landing.reject(record, unshapeable(exc)))
            continue
        kept.append(record)
        rows.append(row)
    return kept, rows, rejections


# --- satisfaction ratings -------------------------------------------------------------------


@dlt.resource(
    name=settings.RATINGS_TABLE,
    primary_key="id",
    write_disposition="merge",
    columns=column_hints(settings.RATING_COLUMNS),
    max_table_nesting=0,
)
def satisfaction_ratings(
    client: ApiClient, land_free_text: bool, page_size: int, start: datetime,
    end: datetime | None,
) -> Iterator[Any]:
    """Satisfaction ratings created in the window (`created_since` = start; those created
    at or after `end` are left to their own window)."""
    path = settings.SATISFACTION_RATINGS_PATH
    table = landed_table(settings.RATING_COLUMNS, required=("id", "created_at"))
    landing = Landing(new_quarantine(land_free_text), path, settings.RATINGS_TABLE, table,
                      shape=lambda record: shape_rating(record, land_free_text))

    params = {"created_since": iso_seconds(start), "per_page": page_size}
    yield from _window_pages(client, landing, params, "created_at", start, end)


def _window_pages(
    client: ApiClient, landing: Landing, params: dict[str, Any], column: str,
    start: datetime, end: datetime | None,
) -> Iterator[Any]:
    """The dlt items of the records of `landing`'s list endpoint whose `column` falls in
    [start, end): the API's filter takes only one bound, or counts it inclusive."""

    def in_window(records: list[Any]) -> list[Any]:
        kept, rows, rejections = landing.split(records)
        inside = [r for r, row in zip(kept, rows, strict=True)
                  if start <= row[column] and (end is None or row[column] < end)]
        # Records that cannot land are kept, so `Landing.items` quarantines them.
        return inside + [rejection.record for rejection in rejections]

    pages = list_pages(client, landing.endpoint, params)
    yield from landing.pages(in_window(page) for page in pages)


# --- time entries ---------------------------------------------------------------------------


@dlt.resource(
    name=settings.TIME_ENTRIES_TABLE,
    primary_key="id",
    write_disposition="merge",
    columns=column_hints(settings.TIME_ENTRY_COLUMNS),
    max_table_nesting=0,
)
def time_entries(
    client: ApiClient, land_free_text: bool, page_size: int, start: datetime,
    end: datetime | None,
) -> Iterator[Any]:
    """Time entries executed in [start, end) (`executed_after` / `executed_before`; the
    bounds are kept here too, whatever the API counts inclusive). A running timer lands as
    it stands (`timer_running`), and again once stopped, when a window reaches back over
    its `executed_at`."""
    path = settings.TIME_ENTRIES_PATH
    table = landed_table(settings.TIME_ENTRY_COLUMNS, required=("id", "ticket_id",
                                                                "executed_at"))
    landing = Landing(new_quarantine(land_free_text), path, settings.TIME_ENTRIES_TABLE,
                      table, shape=lambda record: shape_time_entry(record, land_free_text))
    params: dict[str, Any] = {"executed_after": iso_seconds(start), "per_page": page_size}
    if end is not None:
        params["executed_before"] = iso_seconds(end)
    yield from _window_pages(client, landing, params, "executed_at", start, end)


# --- reference tables -----------------------------------------------------------------------


def _reference_list(
    table: str, path: str, columns: dict[str, str],
    shape: Callable[[Any, bool], dict[str, Any]], what: str,
) -> Any:
    """The dlt resource of a reference list endpoint: every record of `path` (all pages),
    loaded whole each run and merged on `id` into `table`."""

    def records(client: ApiClient, land_free_text: bool, page_size: int) -> Iterator[Any]:
        yield from _reference_pages(list_pages(client, path, {"per_page": page_size}), path,
                                    table, columns, shape, land_free_text)

    records.__doc__ = f"Every {what} of the account, loaded whole each run (`GET {path}`)."
    return dlt.resource(records, name=table, primary_key="id", write_disposition="merge",
                        columns=column_hints(columns), max_table_nesting=0)


agents = _reference_list(settings.AGENTS_TABLE, settings.AGENTS_PATH, settings.AGENT_COLUMNS,
                         shape_agent, "agent")
groups = _reference_list(settings.GROUPS_TABLE, settings.GROUPS_PATH, settings.GROUP_COLUMNS,
                         shape_group, "group")
companies = _reference_list(settings.COMPANIES_TABLE, settings.COMPANIES_PATH,
                            settings.COMPANY_COLUMNS, shape_company, "company")
business_hours = _reference_list(settings.BUSINESS_HOURS_TABLE, settings.BUSINESS_HOURS_PATH,
                                 settings.BUSINESS_HOURS_COLUMNS, shape_business_hours,
                                 "business calendar")


@dlt.resource(
    name=settings.STATUSES_TABLE,
    primary_key="id",
    write_disposition="merge",
    columns=column_hints(settings.STATUS_COLUMNS),
    max_table_nesting=0,
)
def ticket_statuses(client: ApiClient, land_free_text: bool) -> Iterator[Any]:
    """The ticket statuses (the default `status` ticket field's choices: value, agent
    label, customer label), loaded whole each run (`GET /api/v2/ticket_fields`)."""
    path = settings.TICKET_FIELDS_PATH
    fields = records_of(client.get_json(path), path)
    yield from _reference_pages([status_choices(fields)], path, settings.STATUSES_TABLE,
                                settings.STATUS_COLUMNS, shape_status, land_free_text)


@dlt.resource(
    name=settings.SURVEY_SCALE_TABLE,
    primary_key="id",
    write_disposition="merge",
    columns=column_hints(settings.SURVEY_SCALE_COLUMNS),
    max_table_nesting=0,
)
def survey_scales(client: ApiClient, land_free_text: bool, page_size: int) -> Iterator[Any]:
    """The answers each satisfaction survey accepts, worst first, loaded whole each run
    (`GET /api/v2/surveys`): where a rating lies on its survey's scale."""
    pages = (survey_scale(page) for page in
             list_pages(client, settings.SURVEYS_PATH, {"per_page": page_size}))
    yield from _reference_pages(pages, settings.SURVEYS_PATH, settings.SURVEY_SCALE_TABLE,
                                settings.SURVEY_SCALE_COLUMNS, shape_scale_point,
                                land_free_text)


def _reference_pages(
    pages: Any,
    path: str,
    table_name: str,
    columns: dict[str, str],
    shape: Callable[[Any, bool], dict[str, Any]],
    land_free_text: bool,
) -> Iterator[Any]:
    """The dlt items of a reference table."""
    landing = Landing(
        new_quarantine(land_free_text), path, table_name, landed_table(columns),
        shape=lambda record: shape(record, land_free_text),
    )
    yield from landing.pages(pages)
