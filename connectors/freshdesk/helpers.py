"""Freshdesk API plumbing: client construction, `Link`-header paging, the ticket window,
conversations, the ticket activities export, and row shaping."""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson
import requests

from connectors.freshdesk import settings
from connectors.http import (
    CONNECT_TIMEOUT_SECONDS,
    DEFAULT_READ_TIMEOUT_SECONDS,
    ApiAuthError,
    ApiClient,
    ApiError,
    ApiResponseError,
    BasicAuth,
    RetryPolicy,
    validate_base_url,
)
from connectors.typed_rows import (
    PARSE_ERRORS,
    SHAPE_ERRORS,
    Quarantine,
    Rejected,
    Rejection,
    TypedTable,
    bad_value,
    describe,
    json_text,
    parse_value,
    unshapeable,
)

logger = logging.getLogger(__name__)

Record = dict[str, Any]


# --- client ---------------------------------------------------------------------------------


def base_url_for(base_url: str | None, domain: str | None) -> str:
    """The API's base URL: `base_url` (https, or http to a loopback host) if given, else
    `https://{domain}.freshdesk.com`; ValueError naming the setting otherwise."""
    if base_url:
        return validate_base_url(base_url, "FRESHDESK_BASE_URL")
    domain = (domain or "").strip()
    if domain.endswith(".freshdesk.com"):
        domain = domain.removesuffix(".freshdesk.com")
    if not domain or not domain.replace("-", "").isalnum():
        raise ValueError(
            "Freshdesk needs FRESHDESK_DOMAIN (the account's subdomain: acme for "
            f"acme.freshdesk.com) or FRESHDESK_BASE_URL, got domain {domain!r}"
        )
    return settings.DOMAIN_BASE_URL.format(domain=domain)


def build_client(
    api_key: str,
    base_url: str | None,
    domain: str | None,
    retry: RetryPolicy | None,
    timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS,
) -> ApiClient:
    """An `ApiClient` for one Freshdesk account (Basic auth: the API key and `X`); raises
    ValueError naming a missing or bad setting. It paces itself on
    `X-RateLimit-Remaining` and waits out a 429's `Retry-After`."""
    if not api_key:
        raise ValueError("Freshdesk needs FRESHDESK_API_KEY (a Freshdesk API key)")
    url = base_url_for(base_url, domain)
    auth = BasicAuth(api_key, "X")
    encoded = requests.auth._basic_auth_str(api_key, "X").split(" ", 1)[1]
    return ApiClient(
        source=settings.SOURCE_NAME,
        base_url=url,
        auth=auth,
        secrets=[api_key, encoded],
        credentials_hint=settings.CREDENTIALS_HINT,
        retry=retry or RetryPolicy(rate_limit_wait_seconds=settings.RATE_LIMIT_WINDOW_SECONDS),
        timeout=(CONNECT_TIMEOUT_SECONDS, timeout_seconds),
        headers={"User-Agent": "helpdesk-etl (dlt freshdesk source)"},
        rate_limit_headers=settings.RATE_LIMIT_HEADERS,
    )


# --- paging ---------------------------------------------------------------------------------


def next_link(headers: Mapping[str, str]) -> str | None:
    """The `rel="next"` URL of a `Link` header, None on the last page."""
    value = headers.get("Link") or headers.get("link")
    if not value:
        return None
    for link in requests.utils.parse_header_links(value):
        if link.get("rel") == "next" and link.get("url"):
            return link["url"]
    return None


def records_of(body: Any, path: str, data_key: str | None = None) -> list[Any]:
    """The records of a list answer (a JSON array, or `body[data_key]`);
    `ApiResponseError` if it is something else."""
    records = body.get(data_key) if data_key and isinstance(body, dict) else body
    if not isinstance(records, list):
        got = sorted(body) if isinstance(body, dict) else type(body).__name__
        raise ApiResponseError(
            f"{settings.SOURCE_NAME}: GET {path} did not answer a list of records (got {got})",
            source=settings.SOURCE_NAME,
            endpoint=path,
        )
    return records


def list_pages(client: ApiClient, path: str, params: Mapping[str, Any]) -> Iterator[list[Any]]:
    """Every page of a list endpoint, following the `Link: <...>; rel="next"` header. A
    next link that comes back twice is an error rather than an endless loop."""
    seen: set[str] = set()
    url: str = path
    query: Mapping[str, Any] | None = params
    while True:
        body, headers = client.get_json_with_headers(url, query)
        records = records_of(body, path)
        if records:
            yield records
        following = next_link(headers)
        if following is None or not records:
            return
        if following in seen:
            raise ApiResponseError(
                f"{settings.SOURCE_NAME}: GET {path} pagination does not advance (the same "
                "next link came back twice); stopping instead of looping",
                source=settings.SOURCE_NAME,
                endpoint=path,
            )
        seen.add(following)
        url, query = following, None


def iso_seconds(moment: datetime) -> str:
    """A time as Freshdesk's query parameters take it: ISO 8601 UTC, whole seconds (a
    fraction is dropped, so the query starts at or before `moment`)."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def ticket_pages(
    client: ApiClient, start: datetime, end: datetime | None, page_size: int,
    list_filter: str | None,
) -> Iterator[list[Any]]:
    """The pages of tickets updated since `start` (oldest update first, with their
    `stats`); `list_filter` `deleted` / `spam` for the deleted / spam ones (the plain list
    leaves both out). Paging stops after the page that reaches `end`.

    Freshdesk pages this list by offset, over live data: a ticket of an earlier page that is
    updated while the list is read moves to its end, and every later ticket moves back a
    place, so following `page=N+1` would step over one of them for good (the next window
    starts after its update). Each page is therefore a new query from the last `updated_at`
    seen (`updated_since` includes it: the tickets of that second come again, and the
    caller drops the tickets seen twice); only a page whose tickets were all updated in that
    same second is followed by the query's next page. That also keeps the page number far
    from Freshdesk's cap (`settings.MAX_TICKET_LIST_PAGE`)."""
    path = settings.TICKETS_PATH
    since, page = start, 1
    while True:
        params: dict[str, Any] = {
            "updated_since": iso_seconds(since),
            "order_by": "updated_at",
            "order_type": "asc",
            "include": "stats",
            "per_page": page_size,
            "page": page,
        }
        if list_filter:
            params["filter"] = list_filter
        body, headers = client.get_json_with_headers(path, params)
        records = records_of(body, path)
        if records:
            yield records
        times = [t for t in map(_updated_at_or_none, records) if t is not None]
        last_seen = max(times) if times else None
        if next_link(headers) is None or not records:
            return
        if end is not None and last_seen is not None and last_seen >= end:
            return
        if last_seen is not None and iso_seconds(last_seen) > iso_seconds(since):
            since, page = last_seen, 1
            continue
        page += 1
        if page > settings.MAX_TICKET_LIST_PAGE:
            raise ApiResponseError(
                f"{settings.SOURCE_NAME}: GET {path} has more than "
                f"{settings.MAX_TICKET_LIST_PAGE} pages of tickets updated at "
                f"{iso_seconds(since)}; the list cannot be read past them",
                source=settings.SOURCE_NAME,
                endpoint=path,
            )


def _updated_at_or_none(record: Any) -> datetime | None:
    return _time_or_none(record, "updated_at")


def _time_or_none(record: Any, name: str) -> datetime | None:
    """The time `record[name]`, or None when there is none or it does not parse."""
    if not isinstance(record, dict):
        return None
    try:
        return parse_value(record.get(name), "timestamp")
    except PARSE_ERRORS:
        return None


# --- value parsing --------------------------------------------------------------------------


def parse(field_name: str, value: Any, data_type: str, column: str | None) -> Any:
    """An API value as its landed type (`typed_rows.parse_value`); objects and lists are
    refused for scalar types; a value that does not parse raises `Rejected` naming the API
    field and the landed column."""
    if data_type == "json":
        return json_text(value)
    try:
        if isinstance(value, dict | list):
            raise ValueError("an object or a list where a single value was expected")
        if data_type == "bool" and value is not None and not isinstance(value, bool | str):
            raise ValueError("not true or false")
        return parse_value(value, data_type)
    except PARSE_ERRORS as exc:
        rejected = bad_value(field_name, value, data_type, exc)
        rejected.column = column
        raise rejected from None


def _object(record: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """A nested object of a record ({} when absent or null); `Rejected` otherwise."""
    value = record.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Rejected(f"{name} = {describe(value)} is not a JSON object", None)
    return value


def _record(record: Any) -> Mapping[str, Any]:
    if not isinstance(record, dict):
        raise Rejected("the record is not a JSON object")
    return record


def export_time(value: Any) -> datetime | None:
    """An activity's `performed_at`: the export's `"21-03-2024 09:33:38 +0000"`, or ISO
    8601; as an aware UTC datetime."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("not a time")
    text = value.strip()
    try:
        parsed = datetime.strptime(text, settings.EXPORT_TIME_FORMAT)
    except ValueError:
        parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# --- tickets --------------------------------------------------------------------------------


def shape_ticket(record: Any, land_free_text: bool, deleted: bool) -> Record:
    """The `tickets` row of one ticket of the list (with `include=stats`)."""
    record = _record(record)
    row: Record = {"id": parse("id", record.get("id"), "bigint", "id")}
    for name in settings.TICKET_TIMES:
        row[name] = parse(name, record.get(name), "timestamp", name)
    row["subject"] = (parse("subject", record.get("subject"), "text", "subject")
                      if land_free_text else None)
    for name in settings.TICKET_CODES + settings.TICKET_IDS:
        row[name] = parse(name, record.get(name), "bigint", name)
    row["type"] = parse("type", record.get("type"), "text", "type")
    row["tags"] = _text_list(record, "tags")
    for name in settings.TICKET_FLAGS:
        row[name] = parse(name, record.get(name), "bool", name)
    if deleted:
        row["deleted"] = True
    elif row["deleted"] is None:
        row["deleted"] = False
    stats = _object(record, "stats")
    for name in settings.TICKET_STATS_TIMES:
        row[f"stats_{name}"] = parse(f"stats.{name}", stats.get(name), "timestamp",
                                     f"stats_{name}")
    return row


@dataclass
class TicketSelection:
    """The tickets of one list page inside the window and not landed yet in this run
    (records and rows in page order), whether they are the deleted scan's, and the tickets
    that cannot land."""

    deleted: bool
    records: list[Any] = field(default_factory=list)
    rows: list[Record] = field(default_factory=list)
    rejected: list[tuple[Any, Rejected]] = field(default_factory=list)


class TicketSelector:
    """Shapes ticket pages and keeps the tickets updated in [start, end) (`end` None: no
    end), each once per scan: a ticket updated while the list is paged, or a restarted
    query, can list it again."""

    def __init__(self, start: datetime, end: datetime | None, land_free_text: bool) -> None:
        self.start = start
        self.end = end
        self.land_free_text = land_free_text
        #: Per scan kind (deleted or not): the tickets landed. The live scans (plain and
        #: spam) share theirs: a ticket unmarked as spam while they run shows up in both.
        self.seen: dict[bool, set[int]] = {False: set(), True: set()}

    def inside(self, moment: datetime) -> bool:
        """Whether a time lies in the window."""
        return self.start <= moment and (self.end is None or moment < self.end)

    def select(self, records: Iterable[Any], deleted: bool) -> TicketSelection:
        """The window's new tickets of one page, shaped."""
        selection = TicketSelection(deleted)
        seen = self.seen[deleted]
        for record in records:
            try:
                row = shape_ticket(record, self.land_free_text, deleted)
                if row["id"] is None:
                    raise Rejected("id is missing (its primary key)", "id")
                if row["updated_at"] is None:
                    raise Rejected("updated_at is missing (the window cursor)", "updated_at")
            except Rejected as why:
                selection.rejected.append((record, why))
                continue
            except SHAPE_ERRORS as exc:
                selection.rejected.append((record, unshapeable(exc)))
                continue
            if not self.inside(row["updated_at"]) or row["id"] in seen:
                continue
            seen.add(row["id"])
            selection.records.append(record)
            selection.rows.append(row)
        return selection


# --- conversations --------------------------------------------------------------------------


def shape_conversation(record: Any, land_free_text: bool) -> Record:
    """The `conversations` row of one conversation (reply, note, incoming message); its
    e-mail addresses are never landed."""
    record = _record(record)
    row: Record = {}
    for name in ("id", "ticket_id", "user_id", "source"):
        row[name] = parse(name, record.get(name), "bigint", name)
    for name in ("created_at", "updated_at"):
        row[name] = parse(name, record.get(name), "timestamp", name)
    for name in ("incoming", "private"):
        row[name] = parse(name, record.get(name), "bool", name)
    row["support_email"] = parse("support_email", record.get("support_email"), "text",
                                 "support_email")
    row["body_text"] = (parse("body_text", record.get("body_text"), "text", "body_text")
                        if land_free_text else None)
    return row


class ConversationFetcher:
    """`GET /api/v2/tickets/{id}/conversations` (every page) for the tickets of a
    selection, `workers` tickets at a time, answers in ticket order. A ticket deleted since
    it was listed (404) is counted in `missing` and skipped."""

    def __init__(self, client: ApiClient, page_size: int,
                 workers: int = settings.CONVERSATION_WORKERS) -> None:
        self.client = client
        self.page_size = page_size
        self.workers = workers
        self.missing = 0

    def conversations(
        self, selections: Iterable[TicketSelection]
    ) -> Iterator[tuple[TicketSelection, list[tuple[int, list[Any]]]]]:
        """Each selection with (ticket id, its conversations) for its tickets that are not
        deleted (404s left out)."""
        with ThreadPoolExecutor(max_workers=self.workers,
                                thread_name_prefix="freshdesk-conversations") as pool:
            for selection in selections:
                ids = [] if selection.deleted else [row["id"] for row in selection.rows]
                answers = list(pool.map(self._fetch, ids))
                found = [(i, a) for i, a in zip(ids, answers, strict=True) if a is not None]
                self.missing += len(ids) - len(found)
                yield selection, found

    def _fetch(self, ticket_id: int) -> list[Any] | None:
        path = settings.CONVERSATIONS_PATH.format(id=ticket_id)
        try:
            return [record for page in list_pages(self.client, path,
                                                  {"per_page": self.page_size})
                    for record in page]
        except ApiError as error:  # a refused key (401, 403) is raised like any other
            if error.status != 404:
                raise
            logger.debug("%s: GET %s answered 404 (ticket deleted since it was listed); "
                         "skipped", settings.SOURCE_NAME, path)
            return None


# --- ticket activities ----------------------------------------------------------------------


def export_days(start: datetime, end: datetime | None,
                now: datetime) -> tuple[list[date], list[date]]:
    """The UTC days whose [d, d+1) overlaps the window [start, end) (`end` None: up to
    `now`): (days that have ended, days that have not: their export does not exist yet)."""
    last = end if end is not None else now
    day = start.astimezone(UTC).date()
    ended: list[date] = []
    pending: list[date] = []
    while datetime(day.year, day.month, day.day, tzinfo=UTC) < last:
        following = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
        (ended if following <= now else pending).append(day)
        day += timedelta(days=1)
    return ended, pending


def first_ticket_created(client: ApiClient, start: datetime) -> datetime | None:
    """When the oldest ticket updated since `start` was created (None: no ticket was
    updated since then). No activity since `start` can be older: every activity updates
    its ticket, so the activities export need not be read for earlier days (a first run,
    whose window opens in 1970, reads the account's days only). One request: the ticket
    list of tickets updated since `start`, oldest creation first, one ticket a page."""
    params = {"updated_since": iso_seconds(start), "order_by": "created_at",
              "order_type": "asc", "per_page": 1}
    records = records_of(client.get_json(settings.TICKETS_PATH, params), settings.TICKETS_PATH)
    if not records or not isinstance(records[0], dict):
        return None
    return _time_or_none(records[0], "created_at")


class ExportNotReadyError(ApiError):
    """A day's ticket activities export is not there although the day has ended: not built
    yet, or gone (the `ticket_activities` resource skips the day with a warning)."""


def _not_ready(day: date, cause: str) -> ExportNotReadyError:
    return ExportNotReadyError(
        f"{settings.SOURCE_NAME}: the ticket activities export of {day.isoformat()} (UTC) is "
        f"not there ({cause})",
        source=settings.SOURCE_NAME,
        endpoint=settings.ACTIVITIES_EXPORT_PATH,
    )


def export_urls(body: Any) -> list[str]:
    """The file URLs of an export answer: `{"export": [{"url": ...}, ...]}` (or one
    `{"url": ...}` object, or a top-level `url`)."""
    if not isinstance(body, dict):
        return []
    export = body.get("export")
    entries = export if isinstance(export, list) else [export] if export else [body]
    urls = [e.get("url") for e in entries if isinstance(e, dict)]
    return [u for u in urls if isinstance(u, str) and u]


def export_activities(
    client: ApiClient, day: date, download: Callable[[str], Any]
) -> list[Any]:
    """The `activities_data` of one day's ticket activities export: the export request,
    then the file at the pre-signed URL it gives (`download`, without credentials)."""
    path = settings.ACTIVITIES_EXPORT_PATH
    try:
        body = client.get_json(path, {"created_at": day.isoformat()})
    except ApiError as error:
        if error.status == 404:
            raise _not_ready(day, "HTTP 404") from None
        if error.status == 403:
            raise ApiAuthError(
                f"{settings.SOURCE_NAME}: GET {path} was refused with HTTP 403: the ticket "
                "activities export is not enabled, or the API key is not an admin's. An "
                f"admin must turn it on ({settings.ACTIVITY_EXPORT_SETTING}); check "
                "FRESHDESK_API_KEY",
                source=settings.SOURCE_NAME,
                endpoint=path,
                status=403,
            ) from None
        raise
    if isinstance(body, dict) and isinstance(body.get("activities_data"), list):
        return body["activities_data"]
    urls = export_urls(body)
    if not urls:
        raise _not_ready(day, "the answer holds no file URL")
    activities: list[Any] = []
    for url in urls:
        try:
            data = download(url)
        except ApiError as error:
            if error.status in (403, 404):
                raise _not_ready(day, f"its file answered HTTP {error.status}") from None
            raise
        if not isinstance(data, dict) or not isinstance(data.get("activities_data"), list):
            raise ApiResponseError(
                f"{settings.SOURCE_NAME}: the ticket activities export file of "
                f"{day.isoformat()} holds no 'activities_data' list",
                source=settings.SOURCE_NAME,
                endpoint=settings.ACTIVITIES_FILE_ENDPOINT,
            )
        activities += data["activities_data"]
    return activities


def file_downloader(api_key: str, retry: RetryPolicy,
                    timeout: tuple[float, float]) -> Callable[[str], Any]:
    """A function that GETs the JSON at a pre-signed URL without credentials (the URL is
    its own authorisation). The URL's query string (its signature) and the API key are
    redacted from anything raised or logged; the client logs paths only."""

    def download(url: str) -> Any:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        signature = [parts.query, *(value for _, value in parse_qsl(parts.query))]
        client = ApiClient(
            source=settings.SOURCE_NAME,
            base_url=origin,
            auth=None,
            secrets=[api_key, *signature],
            credentials_hint="the export file's pre-signed URL (it may have expired)",
            retry=retry,
            timeout=timeout,
        )
        try:
            return client.get_json(url)
        finally:
            client.close()

    return download


def activity_ids(records: list[Any]) -> list[str | None]:
    """A stable id per activity of one export, in order: `<ticket id>-<performed_at as
    Unix seconds>-<hash of the activity's canonical JSON>-<ordinal>`, the ordinal counting
    exact duplicates within the export, so re-loading the same export lands the same ids.
    None for a record without a readable ticket id or time (it is quarantined)."""
    counts: Counter[str] = Counter()
    ids: list[str | None] = []
    for record in records:
        try:
            key = _activity_key(record)
        except (*SHAPE_ERRORS, orjson.JSONEncodeError):
            ids.append(None)
            continue
        counts[key] += 1
        ids.append(f"{key}-{counts[key]}")
    return ids


def _activity_key(record: Any) -> str:
    if not isinstance(record, dict):
        raise ValueError("not an object")
    ticket_id = parse_value(record.get("ticket_id"), "bigint")
    performed_at = export_time(record.get("performed_at"))
    if ticket_id is None or performed_at is None:
        raise ValueError("no ticket id or time")
    canonical = orjson.dumps(record, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    digest = hashlib.sha256(canonical).hexdigest()[: settings.ACTIVITY_HASH_CHARS]
    return f"{ticket_id}-{int(performed_at.timestamp())}-{digest}"


def shape_activity(record: Any, activity_id: str | None, export_date: date,
                   land_free_text: bool) -> Record:
    """The `ticket_activities` row of one activity of the export."""
    record = _record(record)
    activity = _object(record, "activity")
    note = _object(activity, "note") if activity else {}
    automation = _object(activity, "automation") if activity else {}
    row: Record = {
        "id": activity_id,
        "ticket_id": parse("ticket_id", record.get("ticket_id"), "bigint", "ticket_id"),
        "performer_type": parse("performer_type", record.get("performer_type"), "text",
                                "performer_type"),
        "performer_id": parse("performer_id", record.get("performer_id"), "bigint",
                              "performer_id"),
        "new_ticket": parse("activity.new_ticket", activity.get("new_ticket"), "bool",
                            "new_ticket"),
        "status": parse("activity.status", activity.get("status"), "text", "status"),
        "priority": parse("activity.priority", activity.get("priority"), "bigint", "priority"),
        "agent_id": parse("activity.agent_id", activity.get("agent_id"), "bigint", "agent_id"),
        "group": parse("activity.group", activity.get("group"), "text", "group"),
        "note_id": parse("activity.note.id", note.get("id"), "bigint", "note_id"),
        "note_type": parse("activity.note.type", note.get("type"), "bigint", "note_type"),
        "automation_rule": parse("activity.automation.rule", automation.get("rule"), "text",
                                 "automation_rule"),
        "activity": json_text(activity) if land_free_text and activity else None,
        "export_date": export_date,
    }
    try:
        row["performed_at"] = export_time(record.get("performed_at"))
    except PARSE_ERRORS as exc:
        raise bad_value("performed_at", record.get("performed_at"), "timestamp",
                        exc) from None
    if row["performed_at"] is None:
        raise Rejected("performed_at is missing (the window cursor)", "performed_at")
    if row["ticket_id"] is None:
        raise Rejected("ticket_id is missing (part of its id)", "ticket_id")
    return row


# --- satisfaction ratings and reference data ------------------------------------------------


def shape_rating(record: Any, land_free_text: bool) -> Record:
    """The `satisfaction_ratings` row of one rating; `rating` is the answer to the
    survey's default question."""
    record = _record(record)
    row: Record = {}
    for name in ("id", "ticket_id", "survey_id", "user_id", "agent_id", "group_id"):
        row[name] = parse(name, record.get(name), "bigint", name)
    for name in ("created_at", "updated_at"):
        row[name] = parse(name, record.get(name), "timestamp", name)
    ratings = _object(record, "ratings")
    row["rating"] = parse(f"ratings.{settings.DEFAULT_QUESTION}",
                          ratings.get(settings.DEFAULT_QUESTION), "bigint", "rating")
    row["ratings"] = json_text(record.get("ratings"))
    row["feedback"] = (parse("feedback", record.get("feedback"), "text", "feedback")
                       if land_free_text else None)
    return row


def time_spent_seconds(value: Any) -> int | None:
    """Seconds of a time entry's `time_spent` (`hh:mm`, hours unbounded); `Rejected` naming
    the value when it is not that."""
    if value is None:
        return None
    hours, sep, minutes = value.partition(":") if isinstance(value, str) else ("", "", "")
    if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2
            and int(minutes) < 60):
        raise Rejected(f"time_spent = {describe(value)} is not a duration in hh:mm",
                       "time_spent_seconds")
    return int(hours) * 3600 + int(minutes) * 60


def shape_time_entry(record: Any, land_free_text: bool) -> Record:
    """The `time_entries` row of one time entry, its `time_spent` in seconds too."""
    record = _record(record)
    row: Record = {}
    for name in ("id", "ticket_id", "agent_id", "company_id"):
        row[name] = parse(name, record.get(name), "bigint", name)
    for name in ("billable", "timer_running"):
        row[name] = parse(name, record.get(name), "bool", name)
    row["time_spent"] = parse("time_spent", record.get("time_spent"), "text", "time_spent")
    row["time_spent_seconds"] = time_spent_seconds(row["time_spent"])
    for name in ("executed_at", "start_time", "created_at", "updated_at"):
        row[name] = parse(name, record.get(name), "timestamp", name)
    row["note"] = parse("note", record.get("note"), "text", "note") if land_free_text else None
    return row


def shape_agent(record: Any, land_free_text: bool) -> Record:
    """The `agents` row of one agent: its name and `active` come from its `contact`
    (an agent's name lands like Zendesk's users' and Intercom's admins' names; its e-mail
    and phone never do)."""
    record = _record(record)
    contact = _object(record, "contact")
    row: Record = {
        "id": parse("id", record.get("id"), "bigint", "id"),
        "type": parse("type", record.get("type"), "text", "type"),
        "ticket_scope": parse("ticket_scope", record.get("ticket_scope"), "bigint",
                              "ticket_scope"),
        "name": parse("contact.name", contact.get("name"), "text", "name"),
        "active": parse("contact.active", contact.get("active"), "bool", "active"),
    }
    for name in ("occasional", "available"):
        row[name] = parse(name, record.get(name), "bool", name)
    for name in ("created_at", "updated_at"):
        row[name] = parse(name, record.get(name), "timestamp", name)
    return row


def shape_group(record: Any, land_free_text: bool) -> Record:
    """The `groups` row of one group (`business_hour_id`: the business calendar its tickets
    follow, None for the account's default)."""
    record = _record(record)
    row: Record = {
        "id": parse("id", record.get("id"), "bigint", "id"),
        "name": parse("name", record.get("name"), "text", "name"),
        "business_hour_id": parse("business_hour_id", record.get("business_hour_id"),
                                  "bigint", "business_hour_id"),
    }
    for name in ("created_at", "updated_at"):
        row[name] = parse(name, record.get(name), "timestamp", name)
    return row


_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap]m)?", re.IGNORECASE)


def day_minute(field_name: str, value: Any, round_up: bool) -> int:
    """The minute of the day of a business calendar's clock time (`08:00:00 am`, `8:00 am`
    or `17:00`); seconds round down, or up for a closing time (`11:59:59 pm` closes at
    1440). `Rejected` naming the field when it is not a time of day."""
    match = _CLOCK.fullmatch(value.strip()) if isinstance(value, str) else None
    hour, minute, second = (int(g or 0) for g in match.groups()[:3]) if match else (0, 0, 0)
    half = (match.group(4) or "").lower() if match else ""
    if not match or minute > 59 or second > 59 or hour > (12 if half else 23) \
            or (half and hour == 0):
        raise Rejected(f"{field_name} = {describe(value)} is not a time of day", field_name)
    if half:
        hour = hour % 12 + (12 if half == "pm" else 0)
    return hour * 60 + minute + (1 if round_up and second else 0)


def shape_business_hours(record: Any, land_free_text: bool) -> Record:
    """The `business_hours` row of one business calendar: each weekday's opening in minutes
    of the local day, NULL on a weekday it leaves out (closed). An opening that does not end
    after it starts, or a `business_hours` that is not an object, is rejected naming it."""
    record = _record(record)
    row: Record = {
        "id": parse("id", record.get("id"), "bigint", "id"),
        "name": parse("name", record.get("name"), "text", "name"),
        "is_default": parse("is_default", record.get("is_default"), "bool", "is_default"),
        "time_zone": parse("time_zone", record.get("time_zone"), "text", "time_zone"),
    }
    for name in ("created_at", "updated_at"):
        row[name] = parse(name, record.get(name), "timestamp", name)
    week = record.get("business_hours")
    if not isinstance(week, dict):
        raise Rejected(f"business_hours = {describe(week)} is not an object of weekdays",
                       "business_hours")
    for day in settings.WEEKDAYS:
        opening = week.get(day)
        start = end = None
        if opening is not None:
            where = f"business_hours.{day}"
            hours = opening if isinstance(opening, dict) else {}
            start = day_minute(f"{where}.start_time", hours.get("start_time"), False)
            end = day_minute(f"{where}.end_time", hours.get("end_time"), True)
            if end <= start:
                raise Rejected(f"{where} = {describe(opening)} does not end after it starts",
                               where)
        row[f"{day}_start_minute"], row[f"{day}_end_minute"] = start, end
    return row


def shape_company(record: Any, land_free_text: bool) -> Record:
    """The `companies` row of one company (its `domains` map contacts' e-mail domains to
    it, and staging maps it to a CRM account by them)."""
    record = _record(record)
    row: Record = {
        "id": parse("id", record.get("id"), "bigint", "id"),
        "name": parse("name", record.get("name"), "text", "name"),
        "domains": _text_list(record, "domains"),
    }
    for name in ("created_at", "updated_at"):
        row[name] = parse(name, record.get(name), "timestamp", name)
    return row


def _text_list(record: Record, name: str) -> str:
    """`record[name]`, a list of texts (missing: empty), as JSON text."""
    values = record.get(name)
    if values is not None and not (isinstance(values, list)
                                   and all(isinstance(v, str) for v in values)):
        raise Rejected(f"{name} = {describe(values)} is not a list of texts", name)
    return json_text(values if values is not None else [])


def status_choices(fields: list[Any]) -> list[Any]:
    """The statuses of the default `status` ticket field as records `{"id", "name",
    "customer_label"}`. Its `choices` map each status value to `[agent label, customer
    label]`; a list of `{"value"/"id", "label", "customer_display_name"}` objects is read
    too. `ApiResponseError` if the field is missing."""
    path = settings.TICKET_FIELDS_PATH
    status = next((f for f in fields if isinstance(f, dict)
                   and f.get("name") == settings.STATUS_FIELD), None)
    if status is None:
        raise ApiResponseError(
            f"{settings.SOURCE_NAME}: GET {path} has no '{settings.STATUS_FIELD}' field",
            source=settings.SOURCE_NAME,
            endpoint=path,
        )
    choices = status.get("choices")
    if isinstance(choices, dict):
        records = []
        for value, labels in choices.items():
            labels = labels if isinstance(labels, list) else [labels]
            records.append({"id": value,
                            "name": labels[0] if labels else None,
                            "customer_label": labels[1] if len(labels) > 1 else None})
        return records
    if isinstance(choices, list):
        return [
            {"id": c.get("value", c.get("id")), "name": c.get("label"),
             "customer_label": c.get("customer_display_name")} if isinstance(c, dict) else c
            for c in choices
        ]
    raise ApiResponseError(
        f"{settings.SOURCE_NAME}: GET {path}: the '{settings.STATUS_FIELD}' field's choices "
        f"are {describe(choices)}, not an object or a list",
        source=settings.SOURCE_NAME,
        endpoint=path,
    )


def shape_status(record: Any, land_free_text: bool) -> Record:
    """The `ticket_statuses` row of one status choice."""
    record = _record(record)
    return {
        "id": parse("id", record.get("id"), "bigint", "id"),
        "name": parse("name", record.get("name"), "text", "name"),
        "customer_label": parse("customer_label", record.get("customer_label"), "text",
                                "customer_label"),
    }


def survey_scale(surveys: list[Any]) -> list[Any]:
    """The scale of each survey's default question as records `{"id", "survey_id",
    "rating", "position", "points"}`, one per accepted rating, worst first (Freshdesk's
    ratings run from -103, extremely unhappy, to 103, extremely happy; a survey accepts
    2, 3, 5 or 7 of them). A survey without a default question with accepted ratings has
    no scale (its ratings are placed on the seven-point scale by staging)."""
    records: list[Any] = []
    for survey in surveys:
        if not isinstance(survey, dict):
            records.append(survey)  # quarantined by the landing
            continue
        questions = survey.get("questions")
        default = next((q for q in questions if isinstance(q, dict) and (
            q.get("default") or q.get("id") == settings.DEFAULT_QUESTION)), None) \
            if isinstance(questions, list) else None
        accepted = default.get("accepted_ratings") if default else None
        if not isinstance(accepted, list) or not accepted:
            continue
        try:
            ratings = sorted({int(r) for r in accepted})
        except (TypeError, ValueError):
            records.append(survey)
            continue
        records += [{"id": f"{survey.get('id')}:{rating}", "survey_id": survey.get("id"),
                     "rating": rating, "position": position, "points": len(ratings)}
                    for position, rating in enumerate(ratings, start=1)]
    return records


def shape_scale_point(record: Any, land_free_text: bool) -> Record:
    """The `survey_scale` row of one accepted rating."""
    record = _record(record)
    return {
        "id": parse("id", record.get("id"), "text", "id"),
        "survey_id": parse("survey_id", record.get("survey_id"), "bigint", "survey_id"),
        "rating": parse("rating", record.get("rating"), "bigint", "rating"),
        "position": parse("position", record.get("position"), "bigint", "position"),
        "points": parse("points", record.get("points"), "bigint", "points"),
    }


# --- landing pieces -------------------------------------------------------------------------


def landed_table(columns: Mapping[str, str], required: tuple[str, ...] = ("id",)) -> TypedTable:
    """The typed landed columns of one table (rows arrive converted by the shapers)."""
    return TypedTable(columns, required=required)


def new_quarantine(land_free_text: bool) -> Quarantine:
    """The Freshdesk quarantine: stored records lose their free text and personal data
    unless asked for."""
    return Quarantine(settings.SOURCE_NAME, private_fields=settings.QUARANTINE_PRIVATE_KEYS,
                      land_free_text=land_free_text)


def rejections_of(endpoint: str, table_name: str,
                  rejected: Iterable[tuple[Any, Rejected]]) -> list[Rejection]:
    """`Rejection`s of (record, why) pairs of one endpoint and table."""
    return [Rejection(endpoint, table_name, record, why.reason, why.column)
            for record, why in rejected]
