"""Zendesk API plumbing: client construction, the four pagination styles, row shaping."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import orjson

from connectors.http import (
    CONNECT_TIMEOUT_SECONDS,
    DEFAULT_READ_TIMEOUT_SECONDS,
    ApiClient,
    ApiError,
    ApiResponseError,
    BasicAuth,
    BearerAuth,
    RetryPolicy,
    validate_base_url,
)
from connectors.typed_rows import (
    PARSE_ERRORS,
    NewFields,
    Quarantine,
    Rejected,
    TypedTable,
    bad_value,
    describe,
    json_text,
)
from connectors.zendesk import settings

logger = logging.getLogger(__name__)

Record = dict[str, Any]
Page = list[Record]


# --- client ---------------------------------------------------------------------------------


def build_client(
    *,
    subdomain: str | None,
    email: str | None,
    api_token: str | None,
    oauth_token: str | None,
    base_url: str | None,
    retry: RetryPolicy | None = None,
    timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS,
) -> ApiClient:
    """An `ApiClient` for one Zendesk account; raises ValueError naming a missing setting."""
    if base_url:
        base_url = validate_base_url(base_url, "ZENDESK_BASE_URL")
    elif subdomain:
        if not subdomain.replace("-", "").isalnum():
            raise ValueError(
                f"ZENDESK_SUBDOMAIN must be the bare subdomain (e.g. 'acme' for "
                f"acme.zendesk.com), got {subdomain!r}"
            )
        base_url = settings.DEFAULT_BASE_URL_TEMPLATE.format(subdomain=subdomain)
    else:
        raise ValueError("Zendesk needs ZENDESK_SUBDOMAIN (or ZENDESK_BASE_URL)")

    secrets: list[str] = []
    if oauth_token:
        auth: Any = BearerAuth(oauth_token)
        secrets.append(oauth_token)
    elif email and api_token:
        auth = BasicAuth(f"{email}/token", api_token)
        secrets.append(api_token)
        secrets.append(base64.b64encode(f"{email}/token:{api_token}".encode()).decode())
    elif api_token:
        raise ValueError("Zendesk needs ZENDESK_EMAIL together with ZENDESK_API_TOKEN")
    else:
        raise ValueError(
            "Zendesk needs credentials: ZENDESK_EMAIL and ZENDESK_API_TOKEN, or ZENDESK_OAUTH_TOKEN"
        )
    return ApiClient(
        source=settings.SOURCE_NAME,
        base_url=base_url,
        auth=auth,
        secrets=secrets,
        credentials_hint=settings.CREDENTIALS_HINT,
        retry=retry,
        timeout=(CONNECT_TIMEOUT_SECONDS, timeout_seconds),
        headers={"User-Agent": "helpdesk-etl (dlt zendesk source)"},
    )


# --- pagination -----------------------------------------------------------------------------


def incremental_cursor_bodies(
    client: ApiClient,
    path: str,
    data_key: str,
    *,
    start_time: int,
    page_size: int,
    change_time: Callable[[Any], int | None],
    params: Mapping[str, Any] | None = None,
    stop_after: Callable[[Page], bool] | None = None,
) -> Iterator[Record]:
    """Pages of a cursor-based incremental export (`start_time`, then `after_cursor`), as
    whole response bodies: the `data_key` records (never an empty list) with the sideloads
    the request `include`s (e.g. `metric_sets`) beside them.

    Stops at `end_of_stream` (the cursor left there is for the next poll, not this run), or
    after a page for which `stop_after(records)` is true (e.g. it passed the window's end).
    An expired cursor (`InvalidPaginationParameter`) restarts the export from the latest
    `change_time` of the records already yielded: the repeats merge away on `id`.
    """
    if _too_recent(path, start_time):
        return
    sticky = {"per_page": page_size, **(params or {})}
    restarts = _Restarts(path, start_time)
    url, query = path, {"start_time": start_time, **sticky}
    seen_cursors: set[str] = set()
    while True:
        try:
            body = client.get_json(url, query)
        except ApiError as error:
            restart = restarts.after(error, cursor_request=url != path or "cursor" in query)
            url, query = path, {"start_time": restart, **sticky}
            seen_cursors.clear()
            continue
        records = _records(body, data_key, path)
        if records:
            restarts.saw(records, change_time)
            yield body
            if stop_after is not None and stop_after(records):
                return
        after_cursor = body.get("after_cursor")
        if body.get("end_of_stream") or not (after_cursor or body.get("after_url")):
            return
        if after_cursor in seen_cursors:
            raise _no_progress(path, f"cursor {after_cursor!r} came back twice")
        seen_cursors.add(after_cursor)
        if body.get("after_url"):
            url, query = body["after_url"], sticky
        else:
            url, query = path, {"cursor": after_cursor, **sticky}


def incremental_time_pages(
    client: ApiClient,
    path: str,
    data_key: str,
    *,
    start_time: int,
    page_size: int,
    change_time: Callable[[Any], int | None],
    params: Mapping[str, Any] | None = None,
    stop_after: Callable[[Page], bool] | None = None,
) -> Iterator[Page]:
    """Pages of a time-based incremental export (`start_time`, then `next_page`).

    Stops at `end_of_stream`, at an empty page, after a page for which `stop_after(page)` is
    true (e.g. it passed the window's end), or when `next_page` stops moving forward
    (the Talk exports always return a `next_page`: a short page that does not advance the
    clock is their end). A full page that does not advance would loop forever: an error.
    A refused `next_page` (`InvalidPaginationParameter`) restarts from the latest
    `change_time` already yielded.
    """
    if _too_recent(path, start_time):
        return
    sticky = {"per_page": page_size, **(params or {})}
    restarts = _Restarts(path, start_time)
    url, query = path, {"start_time": start_time, **sticky}
    current_start = start_time
    while True:
        try:
            body = client.get_json(url, query)
        except ApiError as error:
            current_start = restarts.after(error, cursor_request=url != path)
            url, query = path, {"start_time": current_start, **sticky}
            continue
        records = _records(body, data_key, path)
        if records:
            restarts.saw(records, change_time)
            yield records
            if stop_after is not None and stop_after(records):
                return
        next_page = body.get("next_page")
        if body.get("end_of_stream") or not records or not next_page:
            return
        next_start = _next_start_time(body, next_page)
        if next_start is not None and next_start <= current_start:
            if len(records) < page_size:
                return
            raise _no_progress(
                path, f"a full page of {len(records)} items all at start_time {current_start}"
            )
        if next_start is not None:
            current_start = next_start
        url, query = next_page, sticky


def cursor_list_pages(
    client: ApiClient,
    path: str,
    data_key: str,
    *,
    page_size: int,
    params: Mapping[str, Any] | None = None,
) -> Iterator[Page]:
    """Pages of a list endpoint with cursor pagination (`page[size]`, `links.next`).

    Falls back to offset pagination's `next_page` when the response has no `meta`. An
    expired cursor (`InvalidPaginationParameter`) restarts the list from its first page:
    these lists have no change-time order, and the repeats merge away on `id`.
    """
    sticky = {"page[size]": min(page_size, settings.MAX_CURSOR_PAGE_SIZE), **(params or {})}
    restarts = _Restarts(path, 0)
    url, query = path, sticky
    seen_links: set[str] = set()
    while True:
        try:
            body = client.get_json(url, query)
        except ApiError as error:
            restarts.after(error, cursor_request=url != path)
            url, query = path, sticky
            seen_links.clear()
            continue
        records = _records(body, data_key, path)
        if records:
            yield records
        meta = body.get("meta")
        if isinstance(meta, dict):
            next_link = (body.get("links") or {}).get("next") if meta.get("has_more") else None
            if meta.get("has_more") and not next_link and meta.get("after_cursor"):
                next_link = _with_query(path, {"page[after]": meta["after_cursor"]})
        else:
            next_link = body.get("next_page")
        if not next_link or not records:
            return
        if next_link in seen_links:
            raise _no_progress(path, f"link {next_link!r} came back twice")
        seen_links.add(next_link)
        url, query = next_link, sticky


class _Restarts:
    """Bounded restarts of one export after expired cursors, from the latest change time
    (Unix seconds) of the records it already yielded, else from where it started."""

    def __init__(self, endpoint: str, start_time: int) -> None:
        self.endpoint = endpoint
        self.position = start_time
        self.count = 0

    def saw(self, records: Page, change_time: Callable[[Any], int | None]) -> None:
        """Move the restart position past a yielded page (to its latest change time)."""
        times = [t for t in map(change_time, records) if t is not None]
        if times:
            self.position = max(self.position, max(times))

    def after(self, error: ApiError, *, cursor_request: bool) -> int:
        """The `start_time` to restart from after `error`; re-raises any other error, and
        gives up with a clear error after `settings.MAX_CURSOR_RESTARTS` restarts."""
        expired = (
            cursor_request
            and error.status in settings.EXPIRED_CURSOR_STATUSES
            and error.error_code == settings.EXPIRED_CURSOR_ERROR
        )
        if not expired:
            raise error
        if self.count >= settings.MAX_CURSOR_RESTARTS:
            raise ApiResponseError(
                f"{settings.SOURCE_NAME}: GET {self.endpoint} refused its pagination cursor "
                f"as expired (HTTP {error.status} {error.error_code}) again after "
                f"{self.count} restarts from start_time; giving up. Re-run the window (the "
                "API may be slow: a cursor lives about an hour).",
                source=settings.SOURCE_NAME,
                endpoint=self.endpoint,
                status=error.status,
                error_code=error.error_code,
            ) from None
        self.count += 1
        logger.warning(
            "%s: GET %s: the pagination cursor expired (HTTP %s %s); restarting the export "
            "from start_time %d (restart %d of at most %d)",
            settings.SOURCE_NAME,
            self.endpoint,
            error.status,
            error.error_code,
            self.position,
            self.count,
            settings.MAX_CURSOR_RESTARTS,
        )
        return self.position


def passed(end: Any, value_of: Callable[[Record], Any]) -> Callable[[Page], bool] | None:
    """A `stop_after` test: has a time-ordered export's page reached `end` (None: never)?"""
    if end is None:
        return None

    def reached(page: Page) -> bool:
        last = page[-1]
        try:
            value = value_of(last) if isinstance(last, dict) else None
        except PARSE_ERRORS:
            return False  # the record's own shaping reports it
        return value is not None and value >= end

    return reached


def metric_sets_of(body: Any) -> Page:
    """The `metric_sets` sideload of a ticket-export body (an error if it is missing: the
    request asked for it)."""
    return _records(body, "metric_sets", settings.INCREMENTAL_TICKETS_PATH)


def single_page(client: ApiClient, path: str, data_key: str) -> Page:
    """The one page of an endpoint that is not paginated (schedules, holidays)."""
    return _records(client.get_json(path), data_key, path)


def _too_recent(endpoint: str, start_time: int) -> bool:
    if start_time <= time.time() - settings.INCREMENTAL_MIN_AGE_SECONDS:
        return False
    logger.info(
        "%s: skipping GET %s: start_time %d is less than %d s ago, nothing is exported yet",
        settings.SOURCE_NAME,
        endpoint,
        start_time,
        settings.INCREMENTAL_MIN_AGE_SECONDS,
    )
    return True


def _records(body: Any, data_key: str, endpoint: str) -> Page:
    if not isinstance(body, dict) or not isinstance(body.get(data_key), list):
        keys = sorted(body) if isinstance(body, dict) else type(body).__name__
        raise ApiResponseError(
            f"{settings.SOURCE_NAME}: GET {endpoint} returned no '{data_key}' list "
            f"(got {keys}); is the account's API answering with a different version?",
            source=settings.SOURCE_NAME,
            endpoint=endpoint,
        )
    return body[data_key]


def _next_start_time(body: Mapping[str, Any], next_page: str) -> int | None:
    value = dict(parse_qsl(urlsplit(next_page).query)).get("start_time", body.get("end_time"))
    try:
        return int(value) if value is not None else None
    except PARSE_ERRORS:
        return None


def _with_query(path: str, query: Mapping[str, str]) -> str:
    return f"{path}?{urlencode(query)}"


def _no_progress(endpoint: str, detail: str) -> ApiResponseError:
    return ApiResponseError(
        f"{settings.SOURCE_NAME}: GET {endpoint} pagination does not advance ({detail}); "
        "stopping instead of looping. Try a smaller page size or report it to Zendesk.",
        source=settings.SOURCE_NAME,
        endpoint=endpoint,
    )


# --- row shaping ----------------------------------------------------------------------------


def parse_timestamp(value: Any) -> datetime | None:
    """An API timestamp (ISO 8601 text, or Unix seconds) as an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_date(value: Any) -> Any:
    """An API date (`YYYY-MM-DD`, or a timestamp whose date is meant) as a `date`."""
    if value is None or value == "":
        return None
    return datetime.fromisoformat(value[:10]).date()


def as_text(value: Any) -> str | None:
    """Any API value as stable text: strings as they are, everything else as JSON."""
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def epoch_seconds(moment: datetime) -> int:
    """Unix seconds of an aware datetime (never negative: the APIs reject that)."""
    return max(0, int(moment.timestamp()))


def epoch_of(value: Any) -> int | None:
    """Unix seconds of an API time (ISO text or Unix seconds), None if absent or unparsable:
    used to pick a restart time, where a bad value only means "not this record"."""
    try:
        moment = parse_timestamp(value)
    except PARSE_ERRORS:
        return None
    return None if moment is None else int(moment.timestamp())


#: How each column type of settings.py lands; other types (bigint, bool) go to Arrow as the
#: API sends them, and Arrow refuses a value of the wrong type.
CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "timestamp": parse_timestamp,
    "date": parse_date,
    "text": as_text,
    "json": json_text,
}


def landed_table(
    *column_sets: Mapping[str, str],
    cursor: str | None = None,
    key: tuple[str, ...] = ("id",),
) -> TypedTable:
    """The typed landed columns of one Zendesk table; the primary `key` (and the window
    `cursor`, if any) must be present for a row to land."""
    columns = {name: t for column_set in column_sets for name, t in column_set.items()}
    return TypedTable(columns, converters=CONVERTERS, required=(*key, *filter(None, [cursor])))


def new_fields(endpoint: str, land_free_text: bool, *landed: Mapping[str, str]) -> NewFields:
    """Which top-level fields of `endpoint` are new (land as new columns): not a landed
    column, not read for one, not a documented field we leave out, and not free text."""
    known = {name for columns in landed for name in columns}
    known |= settings.KNOWN_NOT_LANDED.get(endpoint, frozenset())
    return NewFields(known, settings.PRIVATE_FIELDS.get(endpoint, frozenset()), land_free_text)


def new_quarantine(land_free_text: bool) -> Quarantine:
    """The Zendesk quarantine: stored records lose their free text unless asked for."""
    return Quarantine(
        settings.SOURCE_NAME,
        private_fields=settings.QUARANTINE_PRIVATE_KEYS,
        land_free_text=land_free_text,
        redact=_redact_field_changes,
    )


def _redact_field_changes(record: Any) -> Any:
    """An audit without the values of its Create/Change children on fields that may hold
    free text (the same rule as `ticket_child_events`)."""
    if not isinstance(record, dict) or not isinstance(record.get("child_events"), list):
        return record
    children = []
    keep = settings.STRUCTURED_TICKET_FIELDS
    for child in record["child_events"]:
        if isinstance(child, dict) and _may_change_a_field(child):
            field_name = child.get("field_name")
            structured = isinstance(field_name, str) and field_name in keep
            child = {
                k: v
                for k, v in child.items()
                if (k in settings.CHILD_EVENT_META_KEYS or k in keep)
                and not (k in ("value", "previous_value") and not structured)
            }
        children.append(child)
    return {**record, "child_events": children}


def _may_change_a_field(child: Record) -> bool:
    """Whether a child event is (or, malformed, may be) a Create/Change: its type as
    `shape_ticket_events` reads it; a type that is not text counts as one (redacted)."""
    event_type = child.get("event_type") or child.get("type")
    if event_type is None or isinstance(event_type, str):
        return event_type in settings.FIELD_EVENT_TYPES
    return True


def via_channel(via: Any) -> str | None:
    """The channel of a `via`: the object's `channel`, or the via text the API gave."""
    if isinstance(via, dict):
        channel = via.get("channel")
        return None if channel is None else str(channel)
    if isinstance(via, str) and via:
        return via
    return None


def ticket_shaper(table: TypedTable) -> Callable[[Any], Record]:
    """`tickets` rows: the landed columns plus flattened via and satisfaction score."""
    convert = table.convert

    def shape(ticket: Any) -> Record:
        row = convert(ticket)
        via = ticket.get("via")
        row["via_channel"] = via_channel(via)
        source = via.get("source") if isinstance(via, dict) else None
        row["via_source_rel"] = source.get("rel") if isinstance(source, dict) else None
        rating = ticket.get("satisfaction_rating")
        row["satisfaction_score"] = rating.get("score") if isinstance(rating, dict) else None
        if row["generated_timestamp"] is None:
            try:
                row["generated_timestamp"] = ticket_change_time(ticket)
            except PARSE_ERRORS as exc:
                raise bad_value("updated_at", ticket.get("updated_at"), "timestamp", exc) from None
        return row

    return shape


def metric_set_shaper(table: TypedTable, body: Mapping[str, Any]) -> Callable[[Any], Record]:
    """`ticket_metric_sets` rows for one ticket-export body with `include=metric_sets`.

    Each Ticket Metrics duration `{calendar, business}` lands as two flat columns, and each
    row carries its ticket's change time (the window cursor), so a metric set lands in the
    same window as its ticket. The sideload is matched to tickets by `ticket_id`, not by
    position; a ticket may have none (Zendesk keeps no metrics for deleted tickets). A
    metric set of a ticket not on its page is rejected.
    """
    change_times = {}
    for ticket in body["tickets"]:
        if isinstance(ticket, dict):
            try:
                change_times[ticket.get("id")] = ticket_change_time(ticket)
            except PARSE_ERRORS:
                continue  # the ticket itself is quarantined, and its metric set with it
    convert = table.convert

    def shape(metric_set: Any) -> Record:
        row = convert(metric_set)
        if isinstance(row["ticket_id"], dict | list):  # unhashable: no ticket can match it
            raise bad_value("ticket_id", row["ticket_id"], "bigint")
        if row["ticket_id"] not in change_times:
            raise Rejected(
                f"it is the metric set of ticket {describe(row['ticket_id'])}, which is not "
                "on its page (or could not land)",
                "ticket_id",
            )
        row["generated_timestamp"] = change_times[row["ticket_id"]]
        for duration in settings.METRIC_SET_DURATIONS:
            minutes = metric_set.get(f"{duration}_in_minutes")
            if minutes is not None and not isinstance(minutes, dict):
                raise Rejected(f"{duration}_in_minutes is not a JSON object", None)
            minutes = minutes or {}
            row[f"{duration}_calendar_minutes"] = minutes.get("calendar")
            row[f"{duration}_business_minutes"] = minutes.get("business")
        return row

    return shape


def ticket_change_time(ticket: Mapping[str, Any]) -> int | None:
    """Unix seconds of a ticket's last change: `generated_timestamp`, else `updated_at`."""
    generated = ticket.get("generated_timestamp")
    if generated is not None:
        return generated
    updated_at = parse_timestamp(ticket.get("updated_at"))
    return None if updated_at is None else int(updated_at.timestamp())


def ticket_restart_time(ticket: Any) -> int | None:
    """A ticket's change time for restarting an export, None if it has no usable one."""
    if not isinstance(ticket, dict):
        return None
    try:
        value = ticket_change_time(ticket)
    except PARSE_ERRORS:
        return None
    return value if isinstance(value, int) else None


def updated_epoch(record: Any) -> int | None:
    """`updated_at` in Unix seconds, for restarting an export (users, organizations, calls)."""
    return epoch_of(record.get("updated_at")) if isinstance(record, dict) else None


def event_time(event: Mapping[str, Any]) -> datetime | None:
    """When a ticket event (audit) happened."""
    return parse_timestamp(event.get("created_at") or event.get("timestamp"))


def event_epoch(event: Any) -> int | None:
    """An audit's time in Unix seconds, for restarting the export."""
    if not isinstance(event, dict):
        return None
    return epoch_of(event.get("created_at") or event.get("timestamp"))


@dataclass
class EventColumns:
    """One page of ticket events shaped column by column: the audits that can land (in
    `ticket_events` order), their columns and their children's, and the rejected audits."""

    events: list[Record]
    audits: dict[str, list[Any]]
    children: dict[str, list[Any]]
    rejected: list[tuple[Any, Rejected]]


def shape_ticket_events(events: Page, *, land_free_text: bool) -> EventColumns:
    """Split a page of ticket events into `ticket_events` and flat child-event columns.

    Each child carries its audit's ticket, time and via (and author: for non-comment events
    the audit's updater), so staging reads one table without joins. Create/Change children
    get `field_name`, `value` and `previous_value` as text, whichever of the two shapes the
    API uses (`field_name`/`value`, or the field's own name as the key). Columns, not rows:
    a page holds tens of thousands of children, and lists go to Arrow fastest. An audit
    that cannot land (not an object, no id, no or a bad time, a child event that is not an
    object, has no id, or has an event type or field name that is not text) is rejected
    whole, children included.
    """
    kept: list[Record] = []
    rejected: list[tuple[Any, Rejected]] = []
    audits: dict[str, list[Any]] = {name: [] for name in settings.TICKET_EVENT_COLUMNS}
    children: dict[str, list[Any]] = {name: [] for name in settings.CHILD_EVENT_COLUMNS}
    if land_free_text:
        children.update({name: [] for name in settings.CHILD_EVENT_FREE_TEXT_COLUMNS})
    meta_keys = settings.CHILD_EVENT_META_KEYS
    structured = settings.STRUCTURED_TICKET_FIELDS
    field_event_types = settings.FIELD_EVENT_TYPES
    (
        c_id,
        c_audit,
        c_ticket,
        c_created,
        c_type,
        c_author,
        c_via,
        c_field,
        c_value,
        c_previous,
        c_public,
    ) = (children[name].append for name in settings.CHILD_EVENT_COLUMNS)
    c_body = children["body"].append if land_free_text else None

    for event in events:
        try:
            created_at = _checked_audit_time(event)
        except Rejected as problem:
            rejected.append((event, problem))
            continue
        audit_via = via_channel(event.get("via"))
        updater_id = event.get("updater_id")
        audit_id = event.get("id")
        ticket_id = event.get("ticket_id")
        kept.append(event)
        audits["id"].append(audit_id)
        audits["ticket_id"].append(ticket_id)
        audits["created_at"].append(created_at)
        audits["updater_id"].append(updater_id)
        audits["via_channel"].append(audit_via)
        audits["event_type"].append(event.get("event_type"))

        for child in event.get("child_events") or ():
            event_type = child.get("event_type") or child.get("type")
            is_comment = event_type == "Comment"
            field_name = value = previous_value = None
            if event_type in field_event_types:
                field_name = child.get("field_name")
                if field_name is not None:
                    value = child.get("value")
                else:
                    field_name = next((k for k in child if k not in meta_keys), None)
                    value = child.get(field_name) if field_name is not None else None
                previous_value = child.get("previous_value")
                if not land_free_text and field_name not in structured:
                    value = previous_value = None
            c_id(child.get("id"))
            c_audit(audit_id)
            c_ticket(ticket_id)
            c_created(created_at)
            c_type(event_type)
            c_author(child.get("author_id", updater_id) if is_comment else updater_id)
            c_via(via_channel(child.get("via")) or audit_via)
            c_field(field_name)
            c_value(as_text(value))
            c_previous(as_text(previous_value))
            c_public(child.get("public", child.get("comment_public")) if is_comment else None)
            if c_body is not None:
                body = child.get("body") if "body" in child else child.get("plain_body")
                c_body(body if is_comment else None)
    return EventColumns(kept, audits, children, rejected)


def _checked_audit_time(event: Any) -> datetime:
    """An audit's time, checked with the rest of the audit before it is shaped (parsed once
    for both); raises `Rejected` saying why the audit cannot land."""
    if not isinstance(event, dict):
        raise Rejected("the record is not a JSON object")
    if event.get("id") is None:
        raise Rejected("id is missing (its primary key)", "id")
    try:
        created_at = event_time(event)
    except PARSE_ERRORS as exc:
        raise bad_value("created_at", event.get("created_at"), "timestamp", exc) from None
    if created_at is None:
        raise Rejected("created_at is missing (the window cursor)", "created_at")
    child_events = event.get("child_events") or ()
    if not isinstance(child_events, list):
        raise Rejected("child_events is not a list", "child_events")
    for child in child_events:
        if not isinstance(child, dict):
            raise Rejected("a child event is not a JSON object", "child_events")
        get = child.get
        if get("id") is None:
            raise Rejected("a child event has no id", "child_events")
        # `shape_ticket_events` compares these with sets of names: text or absent only.
        if not (
            isinstance(get("event_type"), _TEXT_OR_NONE)
            and isinstance(get("type"), _TEXT_OR_NONE)
            and isinstance(get("field_name"), _TEXT_OR_NONE)
        ):
            raise _child_text_rejected(child)
    return created_at


#: What a child event's `event_type`, `type` and `field_name` may be.
_TEXT_OR_NONE = (str, type(None))


def _child_text_rejected(child: Record) -> Rejected:
    """The rejection of an audit whose child has a non-text `event_type`, `type` or
    `field_name` (found only once the quick check failed)."""
    name = next(
        n for n in ("event_type", "type", "field_name")
        if not isinstance(child.get(n), _TEXT_OR_NONE)
    )
    return Rejected(
        f"a child event's {name} = {describe(child[name])} is not text", "child_events"
    )
