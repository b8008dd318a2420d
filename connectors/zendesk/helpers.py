"""Zendesk API plumbing: client construction, the four pagination styles, row shaping."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import orjson
import pyarrow as pa

from connectors.http import (
    ApiClient,
    ApiRecordError,
    ApiResponseError,
    BasicAuth,
    BearerAuth,
    RetryPolicy,
    prefetch,
    validate_base_url,
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
    params: Mapping[str, Any] | None = None,
    stop_after: Callable[[Page], bool] | None = None,
) -> Iterator[Record]:
    """Pages of a cursor-based incremental export (`start_time`, then `after_cursor`), as
    whole response bodies: the `data_key` records (never an empty list) with the sideloads
    the request `include`s (e.g. `metric_sets`) beside them.

    Stops at `end_of_stream` (the cursor left there is for the next poll, not this run), or
    after a page for which `stop_after(records)` is true (e.g. it passed the window's end).
    """
    if _too_recent(path, start_time):
        return
    sticky = {"per_page": page_size, **(params or {})}
    url, query = path, {"start_time": start_time, **sticky}
    seen_cursors: set[str] = set()
    while True:
        body = client.get_json(url, query)
        records = _records(body, data_key, path)
        if records:
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
    params: Mapping[str, Any] | None = None,
    stop_after: Callable[[Page], bool] | None = None,
) -> Iterator[Page]:
    """Pages of a time-based incremental export (`start_time`, then `next_page`).

    Stops at `end_of_stream`, at an empty page, after a page for which `stop_after(page)` is
    true (e.g. it passed the window's end), or when `next_page` stops moving forward
    (the Talk exports always return a `next_page`: a short page that does not advance the
    clock is their end). A full page that does not advance would loop forever: an error.
    """
    if _too_recent(path, start_time):
        return
    sticky = {"per_page": page_size, **(params or {})}
    url, query = path, {"start_time": start_time, **sticky}
    current_start = start_time
    while True:
        body = client.get_json(url, query)
        records = _records(body, data_key, path)
        if records:
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

    Falls back to offset pagination's `next_page` when the response has no `meta`.
    """
    sticky = {"page[size]": min(page_size, settings.MAX_CURSOR_PAGE_SIZE), **(params or {})}
    url, query = path, sticky
    seen_links: set[str] = set()
    while True:
        body = client.get_json(url, query)
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


def passed(end: Any, value_of: Callable[[Record], Any]) -> Callable[[Page], bool] | None:
    """A `stop_after` test: has a time-ordered export's page reached `end` (None: never)?"""
    if end is None:
        return None

    def reached(page: Page) -> bool:
        last = page[-1]
        try:
            value = value_of(last) if isinstance(last, dict) else None
        except (TypeError, ValueError):
            return False  # the record's own shaping reports it
        return value is not None and value >= end

    return reached


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
    except (TypeError, ValueError):
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


def json_text(value: Any) -> str | None:
    """A JSON value (list, object, ...) as compact JSON text; None stays NULL."""
    if value is None:
        return None
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def epoch_seconds(moment: datetime) -> int:
    """Unix seconds of an aware datetime (never negative: the APIs reject that)."""
    return max(0, int(moment.timestamp()))


# How each column type of settings.py lands. JSON values land as JSON text (`json` reads
# as text on DuckDB and PostgreSQL alike; cast with ::json where needed).
_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "timestamp": parse_timestamp,
    "date": parse_date,
    "text": as_text,
    "json": json_text,
}
_DLT_TYPES = {"json": "text"}
_ARROW_TYPES = {
    "bigint": pa.int64(),
    "text": pa.string(),
    "json": pa.string(),
    "bool": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
}
#: Arrow conversion failures that mean "a value of the wrong type".
_ARROW_VALUE_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError)


def column_hints(*column_sets: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """dlt column hints fixing the type (and order) of every landed column."""
    hints: dict[str, dict[str, Any]] = {}
    for columns in column_sets:
        for name, data_type in columns.items():
            hints[name] = {
                "data_type": _DLT_TYPES.get(data_type, data_type),
                "nullable": name != "id",
            }
    return hints


class LandedColumns:
    """The landed columns of one table: picks them out of API records and builds pages.

    Only the listed columns land, so a new API field never adds a column, and free text
    lands only when asked for. Pages are Arrow tables: dlt writes them straight to Parquet
    and skips row-by-row normalisation, which is what makes large extracts fast. A record
    that cannot be converted raises `ApiRecordError` naming endpoint, record and column.
    """

    def __init__(self, endpoint: str, *column_sets: Mapping[str, str]) -> None:
        self.endpoint = endpoint
        plan = [(name, data_type) for columns in column_sets for name, data_type in columns.items()]
        self._plain = tuple(name for name, data_type in plan if data_type not in _CONVERTERS)
        self._converted = tuple(
            (name, _CONVERTERS[data_type]) for name, data_type in plan if data_type in _CONVERTERS
        )
        self.schema = pa.schema(
            [
                pa.field(name, _ARROW_TYPES[data_type], nullable=name != "id")
                for name, data_type in plan
            ]
        )

    def row(self, record: Mapping[str, Any]) -> Record:
        """The landed columns of one API record, converted."""
        try:
            get = record.get
        except AttributeError:
            raise record_error(self.endpoint, record, None, "is not a JSON object") from None
        row = {name: get(name) for name in self._plain}
        for name, convert in self._converted:
            try:
                row[name] = convert(get(name))
            except (TypeError, ValueError) as exc:
                raise record_error(self.endpoint, record, name, str(exc)) from None
        return row

    def pages(
        self, pages: Iterator[Page], shape: Callable[[Any], Record] | None = None
    ) -> Iterator[pa.Table]:
        """Each API page as an Arrow table, fetched one page ahead; if there is no page at
        all, one empty table, so the landed table exists even for an unused feature."""
        shape = shape or self.row
        landed = False
        for page in prefetch(pages):
            landed = True
            yield self.page([shape(record) for record in page])
        if not landed:
            yield self.empty()

    def empty(self) -> pa.Table:
        """No rows, but the landed columns (dlt still creates the table)."""
        return self.schema.empty_table()

    def columns_page(self, columns: Mapping[str, list[Any]]) -> pa.Table:
        """A page given column by column (name -> values) as one Arrow table."""
        arrays = []
        for field in self.schema:
            values = columns[field.name]
            try:
                arrays.append(pa.array(values, type=field.type))
            except _ARROW_VALUE_ERRORS as exc:
                bad = next(i for i, v in enumerate(values) if not _fits(v, field.type))
                record = {"id": columns["id"][bad]}
                problem = f"has a value of the wrong type ({exc})"
                raise record_error(self.endpoint, record, field.name, problem) from None
        return pa.Table.from_arrays(arrays, schema=self.schema)

    def page(self, rows: Page) -> pa.Table:
        """Rows (as `row` makes them) as one Arrow table with the landed types."""
        try:
            # Column by column: several times faster than Table.from_pylist.
            arrays = [
                pa.array([row.get(field.name) for row in rows], type=field.type)
                for field in self.schema
            ]
            return pa.Table.from_arrays(arrays, schema=self.schema)
        except _ARROW_VALUE_ERRORS:
            for row in rows:  # find the culprit, to name it
                try:
                    pa.Table.from_pylist([row], schema=self.schema)
                except _ARROW_VALUE_ERRORS as exc:
                    problem = f"has a value of the wrong type ({exc})"
                    raise record_error(self.endpoint, row, None, problem) from None
            raise


def _fits(value: Any, arrow_type: pa.DataType) -> bool:
    try:
        pa.array([value], type=arrow_type)
    except _ARROW_VALUE_ERRORS:
        return False
    return True


def record_error(endpoint: str, record: Any, column: str | None, problem: str) -> ApiRecordError:
    """The error for one unusable record: which endpoint, which record, which column, why."""
    record_id = record.get("id") if isinstance(record, dict) else None
    where = f" column {column!r}" if column else ""
    return ApiRecordError(
        f"{settings.SOURCE_NAME}: GET {endpoint} returned a record (id={record_id!r}) whose"
        f"{where} cannot be landed: {problem}. Check that record in Zendesk; the run stops "
        "rather than land it wrong.",
        source=settings.SOURCE_NAME,
        endpoint=endpoint,
    )


def via_channel(via: Any) -> str | None:
    """The channel of a `via`: the object's `channel`, or the via text the API gave."""
    if isinstance(via, dict):
        channel = via.get("channel")
        return None if channel is None else str(channel)
    if isinstance(via, str) and via:
        return via
    return None


def shape_ticket(columns: LandedColumns, ticket: Mapping[str, Any]) -> Record:
    """A `tickets` row: the landed columns plus flattened via and satisfaction score."""
    row = columns.row(ticket)
    via = ticket.get("via")
    row["via_channel"] = via_channel(via)
    source = via.get("source") if isinstance(via, dict) else None
    row["via_source_rel"] = source.get("rel") if isinstance(source, dict) else None
    rating = ticket.get("satisfaction_rating")
    row["satisfaction_score"] = rating.get("score") if isinstance(rating, dict) else None
    if row["generated_timestamp"] is None:
        row["generated_timestamp"] = ticket_change_time(ticket)
    return row


def shape_metric_sets(columns: LandedColumns, body: Mapping[str, Any]) -> Page:
    """`ticket_metric_sets` rows from a ticket-export body with `include=metric_sets`.

    Each Ticket Metrics duration `{calendar, business}` lands as two flat columns, and each
    row carries its ticket's change time (the window cursor), so a metric set lands in the
    same window as its ticket. The sideload is matched to tickets by `ticket_id`, not by
    position; a ticket may have none (Zendesk keeps no metrics for deleted tickets).
    """
    endpoint = settings.INCREMENTAL_TICKETS_PATH
    change_times = {
        ticket.get("id"): ticket_change_time(ticket)
        for ticket in body["tickets"]
        if isinstance(ticket, dict)
    }
    rows = []
    for metric_set in _records(body, "metric_sets", endpoint):
        row = columns.row(metric_set)
        if row["ticket_id"] not in change_times:
            problem = f"is the metric set of ticket {row['ticket_id']!r}, which is not on its page"
            raise record_error(endpoint, metric_set, "ticket_id", problem)
        row["generated_timestamp"] = change_times[row["ticket_id"]]
        for duration in settings.METRIC_SET_DURATIONS:
            minutes = metric_set.get(f"{duration}_in_minutes")
            if minutes is not None and not isinstance(minutes, dict):
                raise record_error(
                    endpoint, metric_set, f"{duration}_in_minutes", "is not a JSON object"
                )
            minutes = minutes or {}
            row[f"{duration}_calendar_minutes"] = minutes.get("calendar")
            row[f"{duration}_business_minutes"] = minutes.get("business")
        rows.append(row)
    return rows


def ticket_change_time(ticket: Mapping[str, Any]) -> int | None:
    """Unix seconds of a ticket's last change: `generated_timestamp`, else `updated_at`."""
    generated = ticket.get("generated_timestamp")
    if generated is not None:
        return generated
    updated_at = parse_timestamp(ticket.get("updated_at"))
    return None if updated_at is None else int(updated_at.timestamp())


def event_time(event: Mapping[str, Any]) -> datetime | None:
    """When a ticket event (audit) happened."""
    return parse_timestamp(event.get("created_at") or event.get("timestamp"))


def shape_ticket_events(
    events: Page, *, land_free_text: bool
) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """Split a page of ticket events into `ticket_events` and flat child-event columns.

    Each child carries its audit's ticket, time and via (and author: for non-comment events
    the audit's updater), so staging reads one table without joins. Create/Change children
    get `field_name`, `value` and `previous_value` as text, whichever of the two shapes the
    API uses (`field_name`/`value`, or the field's own name as the key). Columns, not rows:
    a page holds tens of thousands of children, and lists go to Arrow fastest.
    """
    endpoint = settings.INCREMENTAL_TICKET_EVENTS_PATH
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
        if not isinstance(event, dict):
            raise record_error(endpoint, event, None, "is not a JSON object")
        try:
            created_at = event_time(event)
        except (TypeError, ValueError) as exc:
            raise record_error(endpoint, event, "created_at", str(exc)) from None
        audit_via = via_channel(event.get("via"))
        updater_id = event.get("updater_id")
        audit_id = event.get("id")
        ticket_id = event.get("ticket_id")
        audits["id"].append(audit_id)
        audits["ticket_id"].append(ticket_id)
        audits["created_at"].append(created_at)
        audits["updater_id"].append(updater_id)
        audits["via_channel"].append(audit_via)
        audits["event_type"].append(event.get("event_type"))

        for child in event.get("child_events") or ():
            if not isinstance(child, dict):
                raise record_error(endpoint, event, "child_events", "has a non-object child")
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
    return audits, children
