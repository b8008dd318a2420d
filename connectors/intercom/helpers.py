"""Intercom API plumbing: client construction, conversation search paging, the detail
requests, the companies scroll, and row shaping."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.http import (
    CONNECT_TIMEOUT_SECONDS,
    DEFAULT_READ_TIMEOUT_SECONDS,
    ApiAuthError,
    ApiClient,
    ApiError,
    ApiResponseError,
    ApiRetriesExhaustedError,
    BearerAuth,
    RetryPolicy,
    validate_base_url,
)
from connectors.intercom import settings
from connectors.typed_rows import (
    PARSE_ERRORS,
    NewFields,
    Quarantine,
    Rejected,
    TypedTable,
    bad_value,
    describe,
    json_text,
    parse_bool,
    parse_integer,
)

logger = logging.getLogger(__name__)

Record = dict[str, Any]

#: The range of a bigint column (Arrow int64).
_INT64 = (-(2**63), 2**63 - 1)


# --- client ---------------------------------------------------------------------------------


def build_client(
    access_token: str,
    base_url: str | None,
    retry: RetryPolicy | None,
    timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS,
) -> ApiClient:
    """An `ApiClient` for one Intercom workspace; raises ValueError naming a missing or bad
    setting. Every request asks for API version `settings.API_VERSION`; the client waits for
    Intercom's `X-RateLimit-Reset` before the window runs out, and after a 429."""
    if not access_token:
        raise ValueError("Intercom needs INTERCOM_ACCESS_TOKEN (an Intercom access token)")
    url = (
        validate_base_url(base_url, "INTERCOM_BASE_URL") if base_url else settings.DEFAULT_BASE_URL
    )
    return ApiClient(
        source=settings.SOURCE_NAME,
        base_url=url,
        auth=BearerAuth(access_token),
        secrets=[access_token],
        credentials_hint=settings.CREDENTIALS_HINT,
        retry=retry or RetryPolicy(rate_limit_wait_seconds=settings.RATE_LIMIT_WINDOW_SECONDS),
        timeout=(CONNECT_TIMEOUT_SECONDS, timeout_seconds),
        headers={
            "Intercom-Version": settings.API_VERSION,
            "User-Agent": "helpdesk-etl (dlt intercom source)",
        },
        rate_limit_headers=settings.RATE_LIMIT_HEADERS,
    )


# --- conversation search --------------------------------------------------------------------


def search_body(start: datetime, end: datetime | None, page_size: int,
                starting_after: str | None = None) -> Record:
    """The `POST /conversations/search` body for conversations updated in [start, end).

    The reference calls `>` "Greater (or equal) than" and `<` "Lower (or equal) than"
    without saying which: asking for `updated_at > start - 1 AND updated_at < end` (whole
    seconds, the window widened to whole seconds) finds the window's conversations either
    way, and the caller keeps those really inside it."""
    low = math.floor(start.timestamp()) - 1
    filters: list[Record] = [{"field": "updated_at", "operator": ">", "value": low}]
    if end is not None:
        high = math.ceil(end.timestamp())
        filters.append({"field": "updated_at", "operator": "<", "value": high})
    pagination: Record = {"per_page": page_size}
    if starting_after is not None:
        pagination["starting_after"] = starting_after
    return {"query": {"operator": "AND", "value": filters}, "pagination": pagination}


def search_pages(
    client: ApiClient, start: datetime, end: datetime | None, page_size: int
) -> Iterator[list[Any]]:
    """The pages of conversations (search results, without parts) updated in the window,
    following `pages.next.starting_after` until there is no `next`; an empty page ends the
    search too. A cursor that comes back twice is an error rather than an endless loop."""
    path = settings.SEARCH_CONVERSATIONS_PATH
    seen: set[str] = set()
    cursor: str | None = None
    while True:
        body = client.post_json(path, search_body(start, end, page_size, cursor))
        if not isinstance(body, dict) or not isinstance(body.get("conversations"), list):
            keys = sorted(body) if isinstance(body, dict) else type(body).__name__
            raise ApiResponseError(
                f"{settings.SOURCE_NAME}: POST {path} returned no 'conversations' list (got "
                f"{keys}); does the workspace answer with API version {settings.API_VERSION}?",
                source=settings.SOURCE_NAME,
                endpoint=path,
            )
        records = body["conversations"]
        if records:
            yield records
        cursor = next_cursor(body, path)
        if cursor is None or not records:
            return
        if cursor in seen:
            raise ApiResponseError(
                f"{settings.SOURCE_NAME}: POST {path} pagination does not advance (cursor "
                f"{cursor!r} came back twice); stopping instead of looping",
                source=settings.SOURCE_NAME,
                endpoint=path,
            )
        seen.add(cursor)


def next_cursor(body: Mapping[str, Any], path: str) -> str | None:
    """`pages.next.starting_after` of a search answer, None on the last page."""
    pages = body.get("pages")
    following = pages.get("next") if isinstance(pages, dict) else None
    if not following:
        return None
    cursor = following.get("starting_after") if isinstance(following, dict) else None
    if not isinstance(cursor, str) or not cursor:
        raise ApiResponseError(
            f"{settings.SOURCE_NAME}: POST {path} returned a next page without a "
            f"'starting_after' cursor (pages.next = {describe(following)})",
            source=settings.SOURCE_NAME,
            endpoint=path,
        )
    return cursor


@dataclass
class SearchSelection:
    """The conversations of one search page to fetch (in page order), and the search
    results that cannot be used (no id, no or an unreadable `updated_at`)."""

    ids: list[str] = field(default_factory=list)
    rejected: list[tuple[Any, Rejected]] = field(default_factory=list)


class WindowSelector:
    """Picks, page by page, the search results updated in [start, end) (`end` None: no end)
    whose conversation this extraction has not fetched yet: a conversation updated while
    the search pages are read can come back on a later page."""

    def __init__(self, start: datetime, end: datetime | None) -> None:
        self.start = start
        self.end = end
        self.seen: set[str] = set()

    def inside(self, moment: datetime) -> bool:
        """Whether a time lies in the window."""
        return self.start <= moment and (self.end is None or moment < self.end)

    def select(self, records: Iterable[Any]) -> SearchSelection:
        """The ids to fetch from one search page, and the unusable results."""
        selection = SearchSelection()
        for record in records:
            try:
                conversation_id, updated_at = _search_key(record)
            except Rejected as rejected:
                selection.rejected.append((record, rejected))
                continue
            if not self.inside(updated_at) or conversation_id in self.seen:
                continue
            self.seen.add(conversation_id)
            selection.ids.append(conversation_id)
        return selection


def _search_key(record: Any) -> tuple[str, datetime]:
    """A search result's conversation id and `updated_at`; `Rejected` if it has none."""
    if not isinstance(record, dict):
        raise Rejected("the record is not a JSON object")
    conversation_id = _parse("id", record.get("id"), id_text, "text", "id")
    if conversation_id is None:
        raise Rejected("id is missing (its primary key)", "id")
    updated_at = _parse("updated_at", record.get("updated_at"), epoch_time, "timestamp",
                        "updated_at")
    if updated_at is None:
        raise Rejected("updated_at is missing (the window cursor)", "updated_at")
    return conversation_id, updated_at


# --- conversation details -------------------------------------------------------------------


class DetailFetcher:
    """`GET <path>` (`path`: a template with `{id}`, by default `/conversations/{id}`) for the
    ids of each selection (a search page's conversations, a batch of contacts), `workers` at
    a time, answers in the order asked. A record deleted since it was listed (404) is
    counted in `missing` and skipped: its absence is not the run's failure."""

    def __init__(self, client: ApiClient, workers: int = settings.DETAIL_WORKERS,
                 path: str = settings.CONVERSATION_PATH) -> None:
        self.client = client
        self.workers = workers
        self.path = path
        self.missing = 0

    def details(self, pages: Iterable[SearchSelection]) -> Iterator[tuple[SearchSelection, list]]:
        """Each selection with the detail records of its ids, in order (404s left out)."""
        with ThreadPoolExecutor(max_workers=self.workers,
                                thread_name_prefix="intercom-detail") as pool:
            for selection in pages:
                answers = list(pool.map(self._fetch, selection.ids))
                found = [d for d in answers if d is not _DELETED]
                self.missing += len(answers) - len(found)
                yield selection, found

    def _fetch(self, record_id: str) -> Any:
        path = self.path.format(id=record_id)
        try:
            return self.client.get_json(path)
        except ApiError as error:  # a refused token (401, 403) is raised like any other
            if error.status != 404:
                raise
            logger.debug("%s: GET %s answered 404 (deleted since it was listed); skipped",
                         settings.SOURCE_NAME, path)
            return _DELETED


#: What `DetailFetcher._fetch` answers for a conversation that is gone (HTTP 404).
_DELETED = object()


# --- value parsing --------------------------------------------------------------------------


def epoch_time(value: Any) -> datetime | None:
    """A Unix time in seconds (Intercom's times: integers; digits as text are read too) as
    an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("a boolean is not a time")
    if isinstance(value, str):
        value = float(value.strip())
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("not a number of seconds")
    return datetime.fromtimestamp(value, UTC)


def id_text(value: Any) -> str | None:
    """An Intercom id as text: ids are strings, but some (assignees, team ids, admin ids
    in lists) are sent as integers. Objects, lists and booleans are refused."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("not an id")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("not a whole number")
        value = int(value)
    return str(value)


def text(value: Any) -> str | None:
    """Text as it is; another scalar as its JSON text; objects and lists are refused."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json_text(value)
    raise ValueError("not text")


def integer(value: Any) -> int | None:
    """A whole number that fits a bigint (`12`, `12.0`, `"12"`)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError("not a whole number")
        number = int(value)
    elif isinstance(value, str):
        number = parse_integer(value)
    else:
        raise ValueError("not a number")
    if not _INT64[0] <= number <= _INT64[1]:
        raise ValueError("out of the bigint range")
    return number


def double(value: Any) -> float | None:
    """A finite number (`12`, `12.5`, `"12.5"`) as a double."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, str):
        value = float(value.strip())
    if not isinstance(value, int | float):
        raise ValueError("not a number")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def boolean(value: Any) -> bool | None:
    """`true` / `false` (JSON booleans, or the words as text)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return parse_bool(value)
    raise ValueError("not true or false")


def id_list(values: Any) -> str | None:
    """A list of ids as JSON text of strings (`["1","2"]`), so its elements compare with the
    landed id columns; None stays NULL."""
    if values is None:
        return None
    if not isinstance(values, list):
        raise ValueError("not a list")
    return json_text([id_text(v) for v in values])


def _parse(field_name: str, value: Any, parse: Callable[[Any], Any], data_type: str,
           column: str | None) -> Any:
    """`parse(value)`; a value that does not parse raises `Rejected` naming the API field
    and the landed column."""
    try:
        return parse(value)
    except PARSE_ERRORS as exc:
        rejected = bad_value(field_name, value, data_type, exc)
        rejected.column = column
        raise rejected from None


def _object(record: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """A nested object of a record ({} when absent or null); `Rejected` if it is something
    else."""
    value = record.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Rejected(f"{name} = {describe(value)} is not a JSON object", None)
    return value


def _listed(container: Any, key: str, name: str) -> list[Any]:
    """The list of a `*.list` object (`{"type": "tag.list", "tags": [...]}`), or the list
    itself; [] when absent."""
    if container is None:
        return []
    if isinstance(container, dict):
        container = container.get(key)
        if container is None:
            return []
    if not isinstance(container, list):
        raise Rejected(f"{name} is not a list", None)
    return container


# --- conversations ---------------------------------------------------------------------------


_TIMES = ("created_at", "updated_at", "waiting_since", "snoozed_until")


def shape_conversation(record: Any, land_free_text: bool) -> Record:
    """The `conversations` row of one conversation (as `GET /conversations/{id}` answers
    it), without `parts_landed` (the parts decide it); `Rejected` if it cannot land."""
    if not isinstance(record, dict):
        raise Rejected("the record is not a JSON object")
    row: Record = {"id": _parse("id", record.get("id"), id_text, "text", "id")}
    for name in _TIMES:
        row[name] = _parse(name, record.get(name), epoch_time, "timestamp", name)
    row["title"] = (_parse("title", record.get("title"), text, "text", "title")
                    if land_free_text else None)
    for name in ("state", "priority"):
        row[name] = _parse(name, record.get(name), text, "text", name)
    for name in ("open", "read"):
        row[name] = _parse(name, record.get(name), boolean, "bool", name)
    for name in ("admin_assignee_id", "team_assignee_id"):
        row[name] = _parse(name, record.get(name), id_text, "text", name)

    source = _object(record, "source")
    author = _object(source, "author") if source else {}
    row["source_type"] = _parse("source.type", source.get("type"), text, "text", "source_type")
    row["source_id"] = _parse("source.id", source.get("id"), id_text, "text", "source_id")
    row["source_delivered_as"] = _parse("source.delivered_as", source.get("delivered_as"),
                                        text, "text", "source_delivered_as")
    row["source_author_type"] = _parse("source.author.type", author.get("type"), text, "text",
                                       "source_author_type")
    row["source_author_id"] = _parse("source.author.id", author.get("id"), id_text, "text",
                                     "source_author_id")

    contacts = _listed(record.get("contacts"), "contacts", "contacts")
    contact_ids = [
        _parse("contacts.contacts[].id", c.get("id") if isinstance(c, dict) else c, id_text,
               "text", "contact_ids")
        for c in contacts
    ]
    row["contact_id"] = contact_ids[0] if contact_ids else None
    row["contact_ids"] = json_text(contact_ids)
    tags = _listed(record.get("tags"), "tags", "tags")
    row["tags"] = json_text([
        _parse("tags.tags[].name", t.get("name") if isinstance(t, dict) else t, text, "text",
               "tags")
        for t in tags
    ])

    first_reply = _object(record, "first_contact_reply")
    row["first_contact_reply_at"] = _parse("first_contact_reply.created_at",
                                           first_reply.get("created_at"), epoch_time,
                                           "timestamp", "first_contact_reply_at")
    statistics = _object(record, "statistics")
    for name in settings.STATISTICS_TIMES:
        row[f"stat_{name}"] = _parse(f"statistics.{name}", statistics.get(name), epoch_time,
                                     "timestamp", f"stat_{name}")
    row["stat_last_closed_by_id"] = _parse("statistics.last_closed_by_id",
                                           statistics.get("last_closed_by_id"), id_text,
                                           "text", "stat_last_closed_by_id")
    for name in settings.STATISTICS_COUNTS:
        row[f"stat_{name}"] = _parse(f"statistics.{name}", statistics.get(name), integer,
                                     "bigint", f"stat_{name}")
    row.update(_rating(record, land_free_text))
    parts = _object(record, "conversation_parts")
    row["parts_total_count"] = _parse("conversation_parts.total_count",
                                      parts.get("total_count"), integer, "bigint",
                                      "parts_total_count")
    row["parts_landed"] = 0
    return row


def _rating(record: Mapping[str, Any], land_free_text: bool) -> Record:
    """The `rating*` columns of a conversation's `conversation_rating` (NULL while
    unrated); a rating off the 1-5 scale is `Rejected`."""
    rating = _object(record, "conversation_rating")
    value = _parse("conversation_rating.rating", rating.get("rating"), integer, "bigint",
                   "rating")
    low, high = settings.RATING_RANGE
    if value is not None and not low <= value <= high:
        raise Rejected(
            f"conversation_rating.rating = {describe(value)} is outside the scale "
            f"{low}-{high}",
            "rating",
        )
    contact = _object(rating, "contact") if rating else {}
    teammate = _object(rating, "teammate") if rating else {}
    remark = (_parse("conversation_rating.remark", rating.get("remark"), text, "text",
                     "rating_remark") if land_free_text else None)
    return {
        "rating": value,
        "rating_created_at": _parse("conversation_rating.created_at", rating.get("created_at"),
                                    epoch_time, "timestamp", "rating_created_at"),
        "rating_contact_id": _parse("conversation_rating.contact.id", contact.get("id"),
                                    id_text, "text", "rating_contact_id"),
        "rating_teammate_id": _parse("conversation_rating.teammate.id", teammate.get("id"),
                                     id_text, "text", "rating_teammate_id"),
        "rating_remark": remark,
    }


@dataclass
class ShapedParts:
    """The `conversation_parts` rows of one conversation (its source row first), the
    records they come from (same order), its parts that cannot land, and how many parts the
    answer held (`returned`) of how many the conversation has (`total`)."""

    rows: list[Record]
    records: list[Any]
    rejected: list[tuple[Any, Rejected]]
    returned: int
    total: int | None


def conversation_parts(record: Mapping[str, Any]) -> list[Any]:
    """The parts list of a conversation's detail answer ([] if it has none); `Rejected`
    (the whole conversation) if it is not a list."""
    parts = record.get("conversation_parts")
    if parts is None:
        return []
    return _listed(parts, "conversation_parts", "conversation_parts.conversation_parts")


def shape_parts(record: Mapping[str, Any], conversation: Mapping[str, Any],
                land_free_text: bool) -> ShapedParts:
    """The part rows of one conversation whose row is `conversation`: its opening message
    (`source`, position 0) and each part of the answer (positions 1.. in answer order). A
    part that cannot land is rejected alone; the others land."""
    conversation_id = conversation["id"]
    updated_at = conversation["updated_at"]
    parts = conversation_parts(record)
    shaped = ShapedParts([], [], [], len(parts), conversation.get("parts_total_count"))
    source = record.get("source")
    if isinstance(source, dict):
        shaped.rows.append({
            "id": f"{settings.SOURCE_PART_ID_PREFIX}{conversation_id}",
            "conversation_id": conversation_id,
            "position": 0,
            "part_type": settings.SOURCE_PART_TYPE,
            "created_at": conversation["created_at"],
            "updated_at": None,
            "notified_at": None,
            "author_type": conversation["source_author_type"],
            "author_id": conversation["source_author_id"],
            "assigned_to_type": None,
            "assigned_to_id": None,
            **_body_columns(source, land_free_text, "source"),
            "conversation_updated_at": updated_at,
        })
        shaped.records.append(source)
    for position, part in enumerate(parts, start=1):
        try:
            row = _part_row(part, land_free_text)
        except Rejected as rejected:
            rejected.reason += f" (part {position} of conversation {conversation_id})"
            shaped.rejected.append((part, rejected))
            continue
        row.update(conversation_id=conversation_id, position=position,
                   conversation_updated_at=updated_at)
        shaped.rows.append(row)
        shaped.records.append(part)
    return shaped


def _part_row(part: Any, land_free_text: bool) -> Record:
    """The landed columns of one conversation part (without its conversation's)."""
    if not isinstance(part, dict):
        raise Rejected("the part is not a JSON object")
    part_id = _parse("id", part.get("id"), id_text, "text", "id")
    if part_id is None:
        raise Rejected("id is missing (its primary key)", "id")
    author = _object(part, "author")
    assigned = _object(part, "assigned_to")
    row: Record = {
        "id": part_id,
        "part_type": _parse("part_type", part.get("part_type"), text, "text", "part_type"),
    }
    for name in ("created_at", "updated_at", "notified_at"):
        row[name] = _parse(name, part.get(name), epoch_time, "timestamp", name)
    row["author_type"] = _parse("author.type", author.get("type"), text, "text", "author_type")
    row["author_id"] = _parse("author.id", author.get("id"), id_text, "text", "author_id")
    row["assigned_to_type"] = _parse("assigned_to.type", assigned.get("type"), text, "text",
                                     "assigned_to_type")
    row["assigned_to_id"] = _parse("assigned_to.id", assigned.get("id"), id_text, "text",
                                   "assigned_to_id")
    row.update(_body_columns(part, land_free_text, "part"))
    return row


def _body_columns(message: Mapping[str, Any], land_free_text: bool, what: str) -> Record:
    """`redacted`, `has_body` and (free text) `body` of a part or source message."""
    body = message.get("body")
    if body is not None and not isinstance(body, str):
        raise Rejected(f"the {what}'s body is not text", "body")
    return {
        "redacted": _parse("redacted", message.get("redacted"), boolean, "bool", "redacted"),
        "has_body": bool(body and body.strip()),
        "body": body if land_free_text else None,
    }


# --- admins and teams -----------------------------------------------------------------------


def shape_admin(record: Any, land_free_text: bool) -> Record:
    """The `admins` row of one admin (teammate); e-mail and job title only as free text."""
    if not isinstance(record, dict):
        raise Rejected("the record is not a JSON object")
    row: Record = {
        "id": _parse("id", record.get("id"), id_text, "text", "id"),
        "type": _parse("type", record.get("type"), text, "text", "type"),
        "name": _parse("name", record.get("name"), text, "text", "name"),
        "email": None,
        "job_title": None,
    }
    if land_free_text:
        for name in ("email", "job_title"):
            row[name] = _parse(name, record.get(name), text, "text", name)
    for name in ("away_mode_enabled", "away_mode_reassign", "has_inbox_seat"):
        row[name] = _parse(name, record.get(name), boolean, "bool", name)
    row["team_ids"] = _parse("team_ids", record.get("team_ids"), id_list, "json", "team_ids")
    return row


def shape_team(record: Any, land_free_text: bool) -> Record:
    """The `teams` row of one team."""
    if not isinstance(record, dict):
        raise Rejected("the record is not a JSON object")
    return {
        "id": _parse("id", record.get("id"), id_text, "text", "id"),
        "name": _parse("name", record.get("name"), text, "text", "name"),
        "admin_ids": _parse("admin_ids", record.get("admin_ids"), id_list, "json", "admin_ids"),
    }


# --- contacts and companies -----------------------------------------------------------------


def shape_contact(record: Any, land_free_text: bool) -> Record:
    """The `contacts` row of one contact (`GET /contacts/{id}`); e-mail and name only as
    free text. `company_ids` are the ids of `companies.data` (at most 10 of
    `companies.total_count`: `has_more_companies` says when there are more)."""
    if not isinstance(record, dict):
        raise Rejected("the record is not a JSON object")
    row: Record = {
        "id": _parse("id", record.get("id"), id_text, "text", "id"),
        "role": _parse("role", record.get("role"), text, "text", "role"),
        "external_id": _parse("external_id", record.get("external_id"), id_text, "text",
                              "external_id"),
    }
    for name in ("created_at", "updated_at"):
        row[name] = _parse(name, record.get(name), epoch_time, "timestamp", name)
    for name in ("email", "name"):
        row[name] = (_parse(name, record.get(name), text, "text", name)
                     if land_free_text else None)
    companies = _object(record, "companies")
    listed = _listed(companies.get("data"), "data", "companies.data")
    row["company_ids"] = json_text([
        _parse("companies.data[].id", c.get("id") if isinstance(c, dict) else c, id_text,
               "text", "company_ids")
        for c in listed
    ])
    row["company_count"] = _parse("companies.total_count", companies.get("total_count"),
                                  integer, "bigint", "company_count")
    row["has_more_companies"] = _parse("companies.has_more", companies.get("has_more"),
                                       boolean, "bool", "has_more_companies")
    return row


def shape_company(record: Any, land_free_text: bool) -> Record:
    """The `companies` row of one company (a scroll page's record). The company's name and
    website are the organisation's, not a person's: they always land."""
    if not isinstance(record, dict):
        raise Rejected("the record is not a JSON object")
    row: Record = {
        "id": _parse("id", record.get("id"), id_text, "text", "id"),
        "company_id": _parse("company_id", record.get("company_id"), id_text, "text",
                             "company_id"),
    }
    for name in ("name", "website", "industry"):
        row[name] = _parse(name, record.get(name), text, "text", name)
    for name in ("size", "user_count"):
        row[name] = _parse(name, record.get(name), integer, "bigint", name)
    row["monthly_spend"] = _parse("monthly_spend", record.get("monthly_spend"), double,
                                  "double", "monthly_spend")
    plan = _object(record, "plan")
    row["plan_name"] = _parse("plan.name", plan.get("name"), text, "text", "plan_name")
    for name in ("created_at", "updated_at", "remote_created_at"):
        row[name] = _parse(name, record.get(name), epoch_time, "timestamp", name)
    return row


def scroll_pages(client: ApiClient, path: str = settings.COMPANIES_SCROLL_PATH,
                 ) -> Iterator[list[Any]]:
    """The pages of a scroll (`GET /companies/scroll`, then `?scroll_param=<p>` of the answer
    before) until a page with an empty `data`.

    A request with a `scroll_param` that fails with an error saying the scroll is gone
    (`_scroll_gone`: expired, not found, "restart the scroll"), or that fails every retry
    (Intercom's 500 "Please restart the scroll operation" is retried with the same
    parameter first), restarts the scroll from its first page, at most
    `settings.MAX_SCROLL_RESTARTS` times; records already yielded are not yielded again (by
    `id`). Unless the answer said the parameter expired, the broken scroll may still be open
    (one per app): the restart waits until `settings.SCROLL_EXPIRY_SECONDS` after the last
    page answered. Any other error is raised, and so is a restart that fails, a second
    failure, or a scroll that keeps answering records already read (more such pages in a row
    than pages with new ones, plus one: a restart re-reads the pages before it)."""
    yielded: set[Any] = set()
    restarts = fresh_pages = stale_pages = 0
    failure: ApiError | None = None  # what made the last restart
    scroll_param: str | None = None
    last_answer = time.monotonic()
    while True:
        try:
            body = client.get_json(path, {"scroll_param": scroll_param})
        except ApiError as error:
            restartable = scroll_param is not None and _scroll_gone(error)
            if failure is None and not restartable:
                raise
            if failure is not None or restarts >= settings.MAX_SCROLL_RESTARTS:
                what = (f"restarting it from its first page failed ({first_line(error)})"
                        if failure is not None else
                        f"it failed part-way again ({first_line(error)})")
                raise ApiResponseError(
                    f"{settings.SOURCE_NAME}: GET {path}: the scroll was restarted {restarts} "
                    f"time(s) and {what}; giving up. Re-run later: "
                    "only one scroll may be open per app (another client scrolling the "
                    "companies, or a scroll left open, blocks a new one for a minute).",
                    source=settings.SOURCE_NAME,
                    endpoint=path,
                    status=error.status,
                ) from error
            restarts += 1
            failure = error
            wait = 0.0 if _scroll_expired(error) else max(
                0.0, settings.SCROLL_EXPIRY_SECONDS - (time.monotonic() - last_answer))
            logger.warning(
                "%s: GET %s failed part-way (%s); restarting the scroll from its first page "
                "%s(restart %d of at most %d)",
                settings.SOURCE_NAME, path, first_line(error),
                f"in {wait:.0f} s, once the broken one has expired " if wait else "", restarts,
                settings.MAX_SCROLL_RESTARTS,
            )
            time.sleep(wait)
            scroll_param = None
            continue
        failure = None
        last_answer = time.monotonic()
        records = _records_of(body, path, "data")
        if not records:
            return
        fresh = [r for r in records if _scroll_key(r) not in yielded]
        yielded.update(key for key in map(_scroll_key, fresh) if key is not None)
        if fresh:
            fresh_pages, stale_pages = fresh_pages + 1, 0
            yield fresh
        else:
            stale_pages += 1
            if stale_pages > fresh_pages + 1:
                raise ApiResponseError(
                    f"{settings.SOURCE_NAME}: GET {path} answered {stale_pages} pages in a row "
                    "holding only records it had already sent: the scroll is not advancing",
                    source=settings.SOURCE_NAME,
                    endpoint=path,
                )
        following = body.get("scroll_param")
        if not isinstance(following, str) or not following:
            raise ApiResponseError(
                f"{settings.SOURCE_NAME}: GET {path} returned a page of {len(records)} "
                f"record(s) without a 'scroll_param' (got {describe(following)}): the rest "
                "of the scroll cannot be read",
                source=settings.SOURCE_NAME,
                endpoint=path,
            )
        scroll_param = following


def _scroll_gone(error: ApiError) -> bool:
    """Whether a failed request with a `scroll_param` means the scroll must start again: its
    answer's body speaks of the scroll with one of `SCROLL_RESTART_WORDS`, or every retry
    failed."""
    if isinstance(error, ApiRetriesExhaustedError):
        return True
    return not isinstance(error, ApiAuthError) and _says_scroll(error,
                                                                settings.SCROLL_RESTART_WORDS)


def _scroll_expired(error: ApiError) -> bool:
    """Whether the failed request's answer says its scroll is closed already (expired, or
    its parameter not found), so a new one can open at once."""
    return not isinstance(error, ApiRetriesExhaustedError) and _says_scroll(
        error, settings.SCROLL_EXPIRED_WORDS)


def _says_scroll(error: ApiError, words: tuple[str, ...]) -> bool:
    """Whether the body of a failed request's answer (`ApiError` appends it) speaks of the
    scroll with one of `words`."""
    answer = str(error).partition("Response:")[2].lower()
    return "scroll" in answer and any(word in answer for word in words)


def first_line(error: BaseException) -> str:
    """The first line of an error's message (its type's name when it has none)."""
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _scroll_key(record: Any) -> Any:
    """A scroll record's id for de-duplication across a restart (None: none usable; such a
    record is never dropped, it is quarantined)."""
    if not isinstance(record, dict):
        return None
    key = record.get("id")
    return key if isinstance(key, str | int) and not isinstance(key, bool) else None


def list_records(client: ApiClient, path: str, data_key: str) -> list[Any]:
    """The records of a list endpoint that answers in one page (`/admins`, `/teams`)."""
    return _records_of(client.get_json(path), path, data_key)


def _records_of(body: Any, path: str, data_key: str) -> list[Any]:
    """The `data_key` list of an answer of `path`; a clear error when it has none."""
    if not isinstance(body, dict) or not isinstance(body.get(data_key), list):
        keys = sorted(body) if isinstance(body, dict) else type(body).__name__
        raise ApiResponseError(
            f"{settings.SOURCE_NAME}: GET {path} returned no '{data_key}' list (got {keys}); "
            f"does the workspace answer with API version {settings.API_VERSION}?",
            source=settings.SOURCE_NAME,
            endpoint=path,
        )
    return body[data_key]


# --- landing pieces -------------------------------------------------------------------------


def landed_table(columns: Mapping[str, str], required: tuple[str, ...] = ("id",)) -> TypedTable:
    """The typed landed columns of one table (rows arrive converted by the shapers)."""
    return TypedTable(columns, required=required)


def new_fields(table_name: str, land_free_text: bool) -> NewFields:
    """Which top-level fields of a table's records are new (land as new columns)."""
    return NewFields(settings.KNOWN_FIELDS[table_name], settings.PRIVATE_FIELDS[table_name],
                     land_free_text)


def new_quarantine(land_free_text: bool) -> Quarantine:
    """The Intercom quarantine: stored records lose their free text and personal data
    unless asked for."""
    return Quarantine(settings.SOURCE_NAME, private_fields=settings.QUARANTINE_PRIVATE_KEYS,
                      land_free_text=land_free_text)
