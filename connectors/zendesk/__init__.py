"""Zendesk Support + Talk as a dlt source: tickets, their events, people, schedules, CSAT, calls.

Tables (see docs/zendesk-landed-tables.md for every column):
- `tickets` + `ticket_metric_sets`, `ticket_events` + `ticket_child_events`,
  `satisfaction_ratings`, `calls`: extracted for a window [start, end) of their change time,
  merged on `id`.
- `users`, `organizations`, `groups`, `schedules` (+ `schedules__intervals`),
  `schedule_holidays`: reference data, loaded whole on every run, merged on `id`.

Windows are stateless when `end` is given: a re-run of an older window emits only what
changed inside it, so it never overwrites rows that a newer window landed.
"""

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import dlt
from dlt.sources import DltResource, DltSource

from connectors.http import DEFAULT_READ_TIMEOUT_SECONDS, ApiClient, RetryPolicy, prefetch
from connectors.typed_rows import (
    ARROW_VALUE_ERRORS,
    DEDUPLICATED_MERGE,
    Landing,
    Rejected,
    Rejection,
    TypedTable,
    coalesce_pages,
    column_hints,
    empty_page,
    first_occurrences,
    with_quarantine,
)
from connectors.window import extract_window
from connectors.zendesk import settings
from connectors.zendesk.helpers import (
    EventColumns,
    build_client,
    cursor_list_pages,
    epoch_seconds,
    event_epoch,
    event_time,
    incremental_cursor_bodies,
    incremental_time_pages,
    landed_table,
    metric_set_shaper,
    metric_sets_of,
    new_fields,
    new_quarantine,
    parse_timestamp,
    passed,
    shape_ticket_events,
    single_page,
    ticket_change_time,
    ticket_restart_time,
    ticket_shaper,
    updated_epoch,
)

__all__ = ["zendesk_source"]

# No `from __future__ import annotations` here: dlt finds a resource's incremental argument
# by its evaluated `dlt.sources.incremental` annotation.


def zendesk_source(
    subdomain: str | None = None,
    email: str | None = None,
    api_token: str | None = None,
    oauth_token: str | None = None,
    base_url: str | None = None,
    *,
    start: datetime,
    end: datetime | None = None,
    land_free_text: bool = False,
    page_size: int = settings.DEFAULT_PAGE_SIZE,
    retry: RetryPolicy | None = None,
    timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS,
) -> DltSource:
    """The Zendesk dlt source for the extract window [start, end).

    Credentials: `email` + `api_token` (HTTP Basic `{email}/token:{api_token}`) or
    `oauth_token` (Bearer). `base_url` overrides `https://{subdomain}.zendesk.com`; it must
    be https:// unless it points at a loopback host. `start` must be timezone-aware; `end`
    None means up to now (then the windowed tables keep dlt incremental state between runs).
    Comment bodies, subjects, descriptions and other free text land only with
    `land_free_text`. A record that cannot land goes to `_quarantine` with the reason
    (the rest of its page lands); a top-level field the connector does not know lands as a
    new column. `timeout_seconds` bounds each read of an answer (a timeout is retried).
    Nothing is fetched until the source is extracted.
    """
    if start.tzinfo is None or (end is not None and end.tzinfo is None):
        raise ValueError("zendesk_source: start and end must be timezone-aware datetimes")
    if end is not None and end <= start:
        raise ValueError(f"zendesk_source: end ({end}) must be after start ({start})")
    if not 1 <= page_size <= settings.MAX_INCREMENTAL_PAGE_SIZE:
        raise ValueError(
            f"zendesk_source: page_size must be 1..{settings.MAX_INCREMENTAL_PAGE_SIZE}"
        )
    client = build_client(
        subdomain=subdomain,
        email=email,
        api_token=api_token,
        oauth_token=oauth_token,
        base_url=base_url,
        retry=retry,
        timeout_seconds=timeout_seconds,
    )
    # Everything is passed explicitly, so dlt never fills an argument from the environment.
    return _zendesk(client, start, end, land_free_text, page_size)


@dlt.source(name=settings.SOURCE_NAME)
def _zendesk(
    client: ApiClient, start: datetime, end: datetime | None, land_free_text: bool, page_size: int
) -> Sequence[DltResource]:
    """The resources of one Zendesk account for one window."""

    def window(cursor: str, as_epoch: bool = False) -> dlt.sources.incremental[Any]:
        convert = epoch_seconds if as_epoch else (lambda moment: moment)
        return extract_window(cursor, convert(start), convert(end) if end is not None else None)

    free = land_free_text
    ticket_resource = tickets(client, free, page_size, window("generated_timestamp", as_epoch=True))
    # tickets lands the metric sets too. A table variant starts as a copy of the resource's
    # hints: drop the ticket columns before giving the metric sets their own.
    for columns in ({}, column_hints(settings.METRIC_SET_COLUMNS)):
        ticket_resource.apply_hints(
            table_name=settings.METRIC_SETS_TABLE,
            primary_key="id",
            write_disposition="merge",
            columns=columns,
            create_table_variant=True,
        )
    events = ticket_events(client, free, page_size, window("created_at"))
    # ticket_events lands two tables; each gets its own hints (a variant of the resource's).
    # Audits never change once made, and the resource hands each id over once
    # (`first_occurrences`): dlt need not deduplicate the staged rows.
    for table, columns in (
        ("ticket_events", column_hints(settings.TICKET_EVENT_COLUMNS)),
        (
            settings.CHILD_EVENTS_TABLE,
            column_hints(
                settings.CHILD_EVENT_COLUMNS,
                settings.CHILD_EVENT_FREE_TEXT_COLUMNS if free else {},
            ),
        ),
    ):
        events.apply_hints(
            table_name=table,
            primary_key="id",
            write_disposition=dict(DEDUPLICATED_MERGE),
            columns=columns,
            create_table_variant=True,
        )
    schedule_resource = schedules(client)
    # schedules lands two tables; a schedule's intervals are replaced as a set.
    schedule_resource.apply_hints(
        table_name="schedules",
        columns=column_hints(settings.SCHEDULE_COLUMNS),
        create_table_variant=True,
    )
    schedule_resource.apply_hints(
        table_name=settings.SCHEDULE_INTERVALS_TABLE,
        primary_key=["schedule_id", "start_time"],
        merge_key="schedule_id",
        columns=column_hints(settings.SCHEDULE_INTERVAL_COLUMNS),
        create_table_variant=True,
    )
    resources = (
        ticket_resource,
        events,
        users(client, free, page_size),
        organizations(client, free, page_size),
        groups(client, free, page_size),
        schedule_resource,
        schedule_holidays(client),
        satisfaction_ratings(client, free, page_size, window("updated_at")),
        calls(client, page_size, window("updated_at")),
    )
    if land_free_text:
        for resource in resources:
            free_text_columns = settings.FREE_TEXT_COLUMNS.get(resource.name)
            if free_text_columns:
                resource.apply_hints(columns=column_hints(free_text_columns))
    with_quarantine(resources)
    return resources


@dlt.resource(
    name="tickets",
    primary_key="id",
    write_disposition="merge",
    columns=column_hints(settings.TICKET_COLUMNS),
    max_table_nesting=0,
)
def tickets(
    client: ApiClient,
    land_free_text: bool,
    page_size: int,
    changed: dlt.sources.incremental[int],
) -> Iterator[Any]:
    """Tickets whose last change (`generated_timestamp`) falls in the window; deleted ones
    arrive with status `deleted`. Cursor-based incremental export, ordered by change time,
    with `include=metric_sets`: each ticket's Ticket Metrics (Zendesk's own reply, resolution
    and wait times) land in `ticket_metric_sets`, in the same window as the ticket."""
    yield from coalesce_pages(_ticket_items(client, land_free_text, page_size, changed))


def _ticket_items(
    client: ApiClient,
    land_free_text: bool,
    page_size: int,
    changed: dlt.sources.incremental[int],
) -> Iterator[Any]:
    """The dlt items of `tickets`, one API page at a time."""
    path = settings.INCREMENTAL_TICKETS_PATH
    ticket_columns = (
        settings.TICKET_COLUMNS,
        settings.TICKET_FREE_TEXT_COLUMNS if land_free_text else {},
    )
    ticket_table = landed_table(*ticket_columns, cursor="generated_timestamp")
    quarantine = new_quarantine(land_free_text)
    ticket_landing = Landing(
        quarantine,
        path,
        "tickets",
        ticket_table,
        shape=ticket_shaper(ticket_table),
        new_fields=new_fields(path, land_free_text, *ticket_columns),
    )
    metric_set_table = landed_table(settings.METRIC_SET_COLUMNS, cursor="generated_timestamp")
    metric_set_landing = Landing(
        quarantine,
        path,
        settings.METRIC_SETS_TABLE,
        metric_set_table,
        new_fields=new_fields(settings.METRIC_SETS_TABLE, land_free_text,
                              settings.METRIC_SET_COLUMNS),
    )
    bodies = incremental_cursor_bodies(
        client,
        path,
        "tickets",
        start_time=changed.start_value,
        page_size=page_size,
        change_time=ticket_restart_time,
        params={"include": settings.TICKETS_INCLUDE},
        stop_after=passed(changed.end_value, ticket_change_time),
    )
    for body in prefetch(bodies):
        yield from ticket_landing.items(body["tickets"])
        shape = metric_set_shaper(metric_set_table, body)
        yield from metric_set_landing.items(metric_sets_of(body), shape=shape)
    # An empty window still leaves both tables in place.
    yield empty_page(ticket_table, "tickets")
    yield empty_page(metric_set_table, settings.METRIC_SETS_TABLE)


@dlt.resource(
    name="ticket_events",
    primary_key="id",
    write_disposition="merge",
    max_table_nesting=0,
)
def ticket_events(
    client: ApiClient,
    land_free_text: bool,
    page_size: int,
    created: dlt.sources.incremental[datetime],
) -> Iterator[Any]:
    """Ticket audits made in the window (`ticket_events`) and their child events, flattened
    into `ticket_child_events`: one row per Create / Change / Comment / ... with the audit's
    ticket, time, via and author copied down. Time-based export with `comment_events`.
    Each audit and child event is handed to dlt once, however often the export repeats it
    (the records of a page's last second open the next page)."""
    yield from first_occurrences(
        coalesce_pages(_ticket_event_items(client, land_free_text, page_size, created)),
        ("ticket_events", settings.CHILD_EVENTS_TABLE),
        time_column="created_at",
        horizon=settings.REPEAT_HORIZON_SECONDS,
    )


def _ticket_event_items(
    client: ApiClient,
    land_free_text: bool,
    page_size: int,
    created: dlt.sources.incremental[datetime],
) -> Iterator[Any]:
    """The dlt items of `ticket_events`, one API page at a time."""
    path = settings.INCREMENTAL_TICKET_EVENTS_PATH
    audit_table = landed_table(settings.TICKET_EVENT_COLUMNS, cursor="created_at")
    child_table = landed_table(
        settings.CHILD_EVENT_COLUMNS,
        settings.CHILD_EVENT_FREE_TEXT_COLUMNS if land_free_text else {},
        cursor="created_at",
    )
    quarantine = new_quarantine(land_free_text)
    audit_fields = new_fields(path, land_free_text, settings.TICKET_EVENT_COLUMNS)
    pages = incremental_time_pages(
        client,
        path,
        "ticket_events",
        start_time=epoch_seconds(created.start_value),
        page_size=page_size,
        change_time=event_epoch,
        params={"include": settings.TICKET_EVENTS_INCLUDE},
        stop_after=passed(created.end_value, event_time),
    )
    for page in prefetch(pages):
        rejections: list[Rejection] = []
        while True:  # at most twice: the second pass leaves out the unfit audits
            shaped = shape_ticket_events(page, land_free_text=land_free_text)
            rejections += [
                Rejection(path, "ticket_events", event, why.reason, why.column)
                for event, why in shaped.rejected
            ]
            try:
                audits = audit_table.columns_page(shaped.audits)
                children = child_table.columns_page(shaped.children)
                break
            except ARROW_VALUE_ERRORS:
                unfit = _unfit_audits(shaped, audit_table, child_table)
                if not unfit:
                    raise
            rejections += [
                Rejection(path, "ticket_events", shaped.events[i], why.reason, why.column)
                for i, why in unfit.items()
            ]
            page = [e for i, e in enumerate(shaped.events) if i not in unfit]
        if audits.num_rows:
            yield dlt.mark.with_table_name(
                audit_fields.add(audits, shaped.events), "ticket_events"
            )
        if children.num_rows:
            yield dlt.mark.with_table_name(children, settings.CHILD_EVENTS_TABLE)
        if rejections:
            yield quarantine.item(rejections)
    # An empty window still leaves both tables in place.
    yield empty_page(audit_table, "ticket_events")
    yield empty_page(child_table, settings.CHILD_EVENTS_TABLE)


def _unfit_audits(
    shaped: EventColumns, audit_table: TypedTable, child_table: TypedTable
) -> dict[int, Rejected]:
    """Audit index -> why, for the audits (or their children) whose values do not fit the
    landed types. Looked for only when a whole page fails to convert (the fast path)."""
    unfit = audit_table.unfit_rows(shaped.audits)
    bad_children = child_table.unfit_rows(shaped.children)
    if bad_children:
        # Child rows follow their audits in order: found by position, not by the audit's
        # id (which may be the unhashable value that made the page fail).
        owner = [
            index
            for index, event in enumerate(shaped.events)
            for _ in event.get("child_events") or ()
        ]
        for child, why in bad_children.items():
            why = Rejected(f"a child event's {why.reason}", "child_events")
            unfit.setdefault(owner[child], why)
    return unfit


@dlt.resource(
    name="users",
    primary_key="id",
    write_disposition="merge",
    columns=column_hints(settings.USER_COLUMNS),
    max_table_nesting=0,
)
def users(client: ApiClient, land_free_text: bool, page_size: int) -> Iterator[Any]:
    """Every user (agents, admins, end users; `role` tells which), loaded whole each run."""
    landing = _landing(
        settings.INCREMENTAL_USERS_PATH,
        "users",
        land_free_text,
        settings.USER_COLUMNS,
        settings.USER_FREE_TEXT_COLUMNS,
    )
    bodies = incremental_cursor_bodies(
        client,
        settings.INCREMENTAL_USERS_PATH,
        "users",
        start_time=0,
        page_size=page_size,
        change_time=updated_epoch,
    )
    yield from landing.pages(body["users"] for body in prefetch(bodies))


@dlt.resource(
    name="organizations",
    primary_key="id",
    write_disposition="merge",
    columns=column_hints(settings.ORGANIZATION_COLUMNS),
    max_table_nesting=0,
)
def organizations(client: ApiClient, land_free_text: bool, page_size: int) -> Iterator[Any]:
    """Every organization, loaded whole each run (time-based incremental export from 0)."""
    landing = _landing(
        settings.INCREMENTAL_ORGANIZATIONS_PATH,
        "organizations",
        land_free_text,
        settings.ORGANIZATION_COLUMNS,
        settings.ORGANIZATION_FREE_TEXT_COLUMNS,
    )
    pages = incremental_time_pages(
        client,
        settings.INCREMENTAL_ORGANIZATIONS_PATH,
        "organizations",
        start_time=0,
        page_size=page_size,
        change_time=updated_epoch,
    )
    yield from landing.pages(prefetch(pages))


@dlt.resource(
    name="groups",
    primary_key="id",
    write_disposition="merge",
    columns=column_hints(settings.GROUP_COLUMNS),
    max_table_nesting=0,
)
def groups(client: ApiClient, land_free_text: bool, page_size: int) -> Iterator[Any]:
    """Every agent group, deleted ones included (old tickets still point at them)."""
    landing = _landing(
        settings.GROUPS_PATH,
        "groups",
        land_free_text,
        settings.GROUP_COLUMNS,
        settings.GROUP_FREE_TEXT_COLUMNS,
    )
    pages = cursor_list_pages(
        client,
        settings.GROUPS_PATH,
        "groups",
        page_size=page_size,
        params={"exclude_deleted": "false"},
    )
    yield from landing.pages(prefetch(pages))


@dlt.resource(name="schedules", primary_key="id", write_disposition="merge")
def schedules(client: ApiClient) -> Iterator[Any]:
    """Business-hours schedules, and their weekly open intervals in `schedules__intervals`
    (`schedule_id`, `start_time`/`end_time` in minutes from Sunday 00:00 local time)."""
    quarantine = new_quarantine(False)
    landing = Landing(
        quarantine,
        settings.SCHEDULES_PATH,
        "schedules",
        landed_table(settings.SCHEDULE_COLUMNS),
        new_fields=new_fields(settings.SCHEDULES_PATH, False, settings.SCHEDULE_COLUMNS),
    )
    interval_table = landed_table(
        settings.SCHEDULE_INTERVAL_COLUMNS, key=("schedule_id", "start_time")
    )
    intervals = Landing(
        quarantine, settings.SCHEDULES_PATH, settings.SCHEDULE_INTERVALS_TABLE, interval_table
    )
    found = single_page(client, settings.SCHEDULES_PATH, "schedules")
    yield from landing.pages([found])
    yield from intervals.pages(
        [
            [
                {**interval, "schedule_id": schedule.get("id")}
                if isinstance(interval, dict)
                else interval
                for schedule in found
                if isinstance(schedule, dict) and isinstance(schedule.get("intervals"), list)
                for interval in schedule["intervals"]
            ]
        ]
    )


@dlt.resource(
    name="schedule_holidays",
    primary_key="id",
    merge_key="schedule_id",
    write_disposition="merge",
    columns=column_hints(settings.HOLIDAY_COLUMNS),
)
def schedule_holidays(client: ApiClient) -> Iterator[Any]:
    """Holidays of every schedule (whole local days without business hours). Merged on
    `schedule_id` as well: a schedule's holidays are replaced as a set, so one deleted in
    Zendesk disappears here too (unless it was the schedule's last)."""
    landing = _landing(
        settings.SCHEDULE_HOLIDAYS_PATH, "schedule_holidays", False, settings.HOLIDAY_COLUMNS
    )
    records: list[Any] = []
    for schedule in single_page(client, settings.SCHEDULES_PATH, "schedules"):
        if not isinstance(schedule, dict) or schedule.get("id") is None:
            continue  # quarantined by `schedules`
        path = settings.SCHEDULE_HOLIDAYS_PATH.format(schedule_id=schedule["id"])
        records += [
            {**holiday, "schedule_id": schedule["id"]} if isinstance(holiday, dict) else holiday
            for holiday in single_page(client, path, "holidays")
        ]
    yield from landing.pages([records])


@dlt.resource(
    name="satisfaction_ratings",
    primary_key="id",
    write_disposition="merge",
    columns=column_hints(settings.SATISFACTION_RATING_COLUMNS),
    max_table_nesting=0,
)
def satisfaction_ratings(
    client: ApiClient,
    land_free_text: bool,
    page_size: int,
    updated: dlt.sources.incremental[datetime],
) -> Iterator[Any]:
    """CSAT ratings (offered / good / bad ...) changed in the window: those Zendesk lists
    for the window, and the received ones it lists for the `RATING_ANSWER_SECONDS` before
    it (an answer to a survey offered earlier, should the list's times be the creation's;
    the window keeps the rows updated inside it)."""
    landing = _landing(
        settings.SATISFACTION_RATINGS_PATH,
        "satisfaction_ratings",
        land_free_text,
        settings.SATISFACTION_RATING_COLUMNS,
        settings.SATISFACTION_RATING_FREE_TEXT_COLUMNS,
        cursor="updated_at",
    )
    start = epoch_seconds(updated.start_value)
    in_window: dict[str, Any] = {"start_time": start}
    if updated.end_value is not None:
        in_window["end_time"] = epoch_seconds(updated.end_value)
    # end_time is inclusive: the earlier days end a second before the window.
    answered_earlier = {"score": "received",
                        "start_time": max(start - settings.RATING_ANSWER_SECONDS, 0),
                        "end_time": start - 1}

    def pages() -> Iterator[Any]:
        for params in (in_window, answered_earlier) if start > 0 else (in_window,):
            for page in cursor_list_pages(client, settings.SATISFACTION_RATINGS_PATH,
                                          "satisfaction_ratings", page_size=page_size,
                                          params=params):
                if params is answered_earlier:
                    # Those last updated before the window were landed by an earlier one:
                    # left out before shaping, so a malformed one is not quarantined
                    # again every night for four weeks.
                    page = [r for r in page if not _updated_before(r, start)]
                if page:
                    yield page

    yield from landing.pages(prefetch(pages()))


def _updated_before(record: Any, moment: int) -> bool:
    """Whether `record` has an `updated_at` that reads as a time before `moment` (Unix s)."""
    try:
        updated = parse_timestamp(record["updated_at"])
    except (KeyError, TypeError, ValueError, OverflowError):
        return False
    return updated is not None and updated.timestamp() < moment


@dlt.resource(
    name="calls",
    primary_key="id",
    write_disposition="merge",
    columns=column_hints(settings.CALL_COLUMNS),
    max_table_nesting=0,
)
def calls(
    client: ApiClient, page_size: int, updated: dlt.sources.incremental[datetime]
) -> Iterator[Any]:
    """Talk calls changed in the window, with talk / hold / wrap-up seconds (handle time)."""
    landing = _landing(
        settings.INCREMENTAL_CALLS_PATH, "calls", False, settings.CALL_COLUMNS, cursor="updated_at"
    )
    pages = incremental_time_pages(
        client,
        settings.INCREMENTAL_CALLS_PATH,
        "calls",
        start_time=epoch_seconds(updated.start_value),
        page_size=page_size,
        change_time=updated_epoch,
        stop_after=passed(updated.end_value, lambda call: parse_timestamp(call.get("updated_at"))),
    )
    yield from landing.pages(prefetch(pages))


def _landing(
    endpoint: str,
    table_name: str,
    land_free_text: bool,
    columns: dict[str, str],
    free_text_columns: dict[str, str] | None = None,
    cursor: str | None = None,
) -> Landing:
    """The landing of a plain Zendesk table: same-named columns, free text only if asked."""
    column_sets = (columns, free_text_columns if land_free_text and free_text_columns else {})
    return Landing(
        new_quarantine(land_free_text),
        endpoint,
        table_name,
        landed_table(*column_sets, cursor=cursor),
        new_fields=new_fields(endpoint, land_free_text, *column_sets),
    )

