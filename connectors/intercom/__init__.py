"""Intercom as a dlt source: conversations with their parts and contacts, admins, teams and
companies.

Tables (see docs/intercom-landed-tables.md for every column):
- `conversations` + `conversation_parts`: the conversations whose `updated_at` falls in the
  window [start, end), found with `POST /conversations/search`, each read whole with
  `GET /conversations/{id}` (search results carry no parts); merged on `id`. Each
  conversation's opening message lands as a part too (`part_type = 'source'`, position 0).
- `contacts`: the contacts of those conversations (`contact_id`, the first listed: the one
  staging reads), each read once per run
  with `GET /contacts/{id}` after the conversations; merged on `id`. Lands through the
  `conversations` resource, as the parts do (one Dagster asset).
- `admins`, `teams`, `companies`: reference data, loaded whole on every run, merged on `id`
  (`companies` through the scroll `GET /companies/scroll`).

Windows are stateless: a re-run of a window emits only the conversations updated inside it
(as the detail answer has them), so it never overwrites rows that a newer window landed.
"""

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import dlt
from dlt.sources import DltResource, DltSource

from connectors.http import (
    DEFAULT_READ_TIMEOUT_SECONDS,
    ApiAuthError,
    ApiClient,
    ApiError,
    RetryPolicy,
    prefetch,
)
from connectors.intercom import settings
from connectors.intercom.helpers import (
    DetailFetcher,
    SearchSelection,
    WindowSelector,
    build_client,
    first_line,
    landed_table,
    list_records,
    new_fields,
    new_quarantine,
    scroll_pages,
    search_pages,
    shape_admin,
    shape_company,
    shape_contact,
    shape_conversation,
    shape_parts,
    shape_team,
)
from connectors.typed_rows import (
    SHAPE_ERRORS,
    Landing,
    Quarantine,
    Rejected,
    Rejection,
    coalesce_pages,
    column_hints,
    empty_page,
    unshapeable,
    with_quarantine,
)

__all__ = ["intercom_source"]

logger = logging.getLogger(__name__)

# No `from __future__ import annotations` here, as in the other connectors: dlt inspects
# resource signatures (an incremental argument is found by its evaluated type). The window
# is not a dlt incremental: `conversations` lands the parts too, and a part's own
# `updated_at` is not its conversation's, so one cursor column cannot window both tables;
# the connector keeps [start, end) itself (`WindowSelector`).


def intercom_source(
    access_token: str,
    base_url: str | None = None,
    *,
    start: datetime,
    end: datetime | None = None,
    land_free_text: bool = False,
    page_size: int = settings.DEFAULT_PAGE_SIZE,
    retry: RetryPolicy | None = None,
    timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS,
) -> DltSource:
    """The Intercom dlt source for the extract window [start, end).

    `access_token` is an Intercom access token (Bearer). `base_url` overrides
    `https://api.intercom.io` (EU and Australian workspaces: `https://api.eu.intercom.io`,
    `https://api.au.intercom.io`); it must be https:// unless it points at a loopback host.
    `start` must be timezone-aware; `end` None means up to now. Every request asks for API
    version 2.11. Conversation titles, message bodies, rating remarks, admins' e-mail and
    job titles and contacts' e-mail and name land only with `land_free_text` (their columns
    are NULL otherwise).
    `page_size` is the search's page (at most 150 conversations). The default `retry` waits
    out a 429 until Intercom's `X-RateLimit-Reset` (any policy does: it is read from the
    API); `timeout_seconds` bounds each read (a timeout is retried). A record that cannot
    land goes to `_quarantine` with the reason (the rest of its page lands); a new
    top-level field lands as a new column. Nothing is fetched until the source is
    extracted.
    """
    if start.tzinfo is None or (end is not None and end.tzinfo is None):
        raise ValueError("intercom_source: start and end must be timezone-aware datetimes")
    if end is not None and end <= start:
        raise ValueError(f"intercom_source: end ({end}) must be after start ({start})")
    if not 1 <= page_size <= settings.MAX_PAGE_SIZE:
        raise ValueError(f"intercom_source: page_size must be 1..{settings.MAX_PAGE_SIZE}")
    client = build_client(access_token, base_url, retry, timeout_seconds)
    # Everything is passed explicitly, so dlt never fills an argument from the environment.
    return _intercom(client, start, end, land_free_text, page_size)


@dlt.source(name=settings.SOURCE_NAME)
def _intercom(
    client: ApiClient, start: datetime, end: datetime | None, land_free_text: bool,
    page_size: int,
) -> Sequence[DltResource]:
    """The resources of one Intercom workspace for one window."""
    conversation_resource = conversations(client, land_free_text, page_size, start, end)
    # conversations lands the parts and the contacts too. A table variant starts as a copy of
    # the resource's hints: drop the conversation columns before giving each its own.
    for table_name, table_columns in ((settings.PARTS_TABLE, settings.PART_COLUMNS),
                                      (settings.CONTACTS_TABLE, settings.CONTACT_COLUMNS)):
        for columns in ({}, column_hints(table_columns)):
            conversation_resource.apply_hints(
                table_name=table_name,
                primary_key="id",
                write_disposition="merge",
                columns=columns,
                create_table_variant=True,
            )
    resources = (conversation_resource, admins(client, land_free_text),
                 teams(client, land_free_text), companies(client, land_free_text))
    with_quarantine(resources)
    return resources


@dlt.resource(
    name=settings.CONVERSATIONS_TABLE,
    primary_key="id",
    write_disposition="merge",
    columns=column_hints(settings.CONVERSATION_COLUMNS),
    max_table_nesting=0,
)
def conversations(
    client: ApiClient,
    land_free_text: bool,
    page_size: int,
    start: datetime,
    end: datetime | None,
) -> Iterator[Any]:
    """Conversations updated in the window, their parts in `conversation_parts` and their
    contacts in `contacts`: one search for the window, then one detail request per
    conversation (a few at a time), then one request per distinct (first) contact of the landed
    conversations (a few at a time). Each conversation and each contact is fetched once per
    extraction, however often the search lists it (one updated while the search is paged
    moves to a later page) or however many conversations it is in."""
    yield from coalesce_pages(_conversation_items(client, land_free_text, page_size, start, end))


def _conversation_items(
    client: ApiClient,
    land_free_text: bool,
    page_size: int,
    start: datetime,
    end: datetime | None,
) -> Iterator[Any]:
    """The dlt items of `conversations`, one search page at a time."""
    conversation_table = landed_table(settings.CONVERSATION_COLUMNS,
                                      required=("id", "updated_at"))
    part_table = landed_table(settings.PART_COLUMNS,
                              required=("id", "conversation_id", "conversation_updated_at"))
    quarantine = new_quarantine(land_free_text)
    path = settings.CONVERSATION_PATH
    conversation_landing = Landing(
        quarantine, path, settings.CONVERSATIONS_TABLE, conversation_table,
        new_fields=new_fields(settings.CONVERSATIONS_TABLE, land_free_text),
    )
    part_landing = Landing(
        quarantine, path, settings.PARTS_TABLE, part_table,
        new_fields=new_fields(settings.PARTS_TABLE, land_free_text),
    )
    selector = WindowSelector(start, end)
    fetcher = DetailFetcher(client)
    capped = moved = 0
    #: The contacts of the landed conversations, in order of first appearance.
    contact_ids: dict[str, None] = {}
    pages = fetcher.details(
        selector.select(page) for page in search_pages(client, start, end, page_size)
    )
    for selection, details in prefetch(pages):
        rejections = [
            Rejection(settings.SEARCH_CONVERSATIONS_PATH, settings.CONVERSATIONS_TABLE, record,
                      why.reason, why.column)
            for record, why in selection.rejected
        ]
        conversation_kept: list[Any] = []
        conversation_rows: list[dict[str, Any]] = []
        part_kept: list[Any] = []
        part_rows: list[dict[str, Any]] = []
        for detail in details:
            try:
                row = shape_conversation(detail, land_free_text)
                conversation_table.check_required(row)
                if not selector.inside(row["updated_at"]):
                    # Updated again since the search: the window of that update lands it.
                    moved += 1
                    continue
                parts = shape_parts(detail, row, land_free_text)
            except Rejected as why:
                rejections.append(conversation_landing.reject(detail, why))
                continue
            except SHAPE_ERRORS as exc:  # a malformed record the shaping did not foresee
                rejections.append(conversation_landing.reject(detail, unshapeable(exc)))
                continue
            row["parts_landed"] = sum(1 for part in parts.rows if part["position"] > 0)
            if parts.total is not None and parts.total > parts.returned:
                capped += 1
            conversation_kept.append(detail)
            conversation_rows.append(row)
            part_kept += parts.records
            part_rows += parts.rows
            rejections += [part_landing.reject(part, why) for part, why in parts.rejected]
        conversation_page, _ = conversation_landing.build(
            conversation_kept, conversation_rows, rejections
        )
        part_page, _ = part_landing.build(part_kept, part_rows, rejections)
        # The first contact only: the one a conversation's organisation comes from (a night
        # recomputes the conversations of every contact it read: transforms/changes).
        contact_ids.update(dict.fromkeys(
            c for c in conversation_page.column("contact_id").to_pylist() if c))
        if conversation_page.num_rows:
            yield dlt.mark.with_table_name(conversation_page, settings.CONVERSATIONS_TABLE)
        if part_page.num_rows:
            yield dlt.mark.with_table_name(part_page, settings.PARTS_TABLE)
        if rejections:
            yield quarantine.item(rejections)
    _report(fetcher.missing, capped, moved)
    yield from _contact_items(client, list(contact_ids), land_free_text, quarantine)
    # An empty window still leaves the three tables in place.
    yield empty_page(conversation_table, settings.CONVERSATIONS_TABLE)
    yield empty_page(part_table, settings.PARTS_TABLE)


def _contact_items(
    client: ApiClient, contact_ids: list[str], land_free_text: bool, quarantine: Quarantine
) -> Iterator[Any]:
    """The dlt items of `contacts`: `GET /contacts/{id}` for each id (once each, the
    conversation details' number at a time), `CONTACT_BATCH_SIZE` contacts a page. A contact
    deleted since (404) lands nothing; one INFO line counts them. Ends with an empty page,
    so the table exists after a window without contacts."""
    table = landed_table(settings.CONTACT_COLUMNS)
    landing = Landing(
        quarantine, settings.CONTACT_PATH, settings.CONTACTS_TABLE, table,
        shape=lambda record: shape_contact(record, land_free_text),
        new_fields=new_fields(settings.CONTACTS_TABLE, land_free_text),
    )
    fetcher = DetailFetcher(client, path=settings.CONTACT_PATH)
    size = settings.CONTACT_BATCH_SIZE
    batches = (SearchSelection(ids=contact_ids[i:i + size])
               for i in range(0, len(contact_ids), size))
    try:
        for _, records in fetcher.details(batches):
            yield from landing.items(records)
    except ApiAuthError as error:
        if error.status != 403:
            raise
        _refused(settings.CONTACT_PATH, error, "the conversations land without their "
                 "contacts (their organisation stays unknown)", "contacts")
    if fetcher.missing:
        logger.info(
            "%s: %d contact(s) of the window's conversations are gone (GET %s answered "
            "404); skipped",
            settings.SOURCE_NAME, fetcher.missing, settings.CONTACT_PATH,
        )
    yield empty_page(table, settings.CONTACTS_TABLE)


def _report(missing: int, capped: int, moved: int) -> None:
    """One warning per run for each way a conversation of the window landed incompletely
    or not at all, so none goes unnoticed."""
    if missing:
        logger.warning(
            "%s: %d conversation(s) of the window were deleted between the search and their "
            "detail request (GET %s answered 404); skipped",
            settings.SOURCE_NAME, missing, settings.CONVERSATION_PATH,
        )
    if capped:
        logger.warning(
            "%s: %d conversation(s) have more than %d parts; Intercom returns at most %d per "
            "conversation, so only those landed (conversations.parts_total_count > "
            "parts_landed marks them)",
            settings.SOURCE_NAME, capped, settings.MAX_PARTS_RETURNED,
            settings.MAX_PARTS_RETURNED,
        )
    if moved:
        logger.info(
            "%s: %d conversation(s) were updated again after the window's end while it was "
            "extracted; the window of that update lands them",
            settings.SOURCE_NAME, moved,
        )


@dlt.resource(
    name="admins",
    primary_key="id",
    write_disposition="merge",
    columns=column_hints(settings.ADMIN_COLUMNS),
    max_table_nesting=0,
)
def admins(client: ApiClient, land_free_text: bool) -> Iterator[Any]:
    """Every admin (teammate) of the workspace, loaded whole each run (`GET /admins`)."""
    yield from _reference_pages([list_records(client, settings.ADMINS_PATH, "admins")],
                                settings.ADMINS_PATH, "admins", settings.ADMIN_COLUMNS,
                                shape_admin, land_free_text)


@dlt.resource(
    name="teams",
    primary_key="id",
    write_disposition="merge",
    columns=column_hints(settings.TEAM_COLUMNS),
    max_table_nesting=0,
)
def teams(client: ApiClient, land_free_text: bool) -> Iterator[Any]:
    """Every team of the workspace with its admins, loaded whole each run (`GET /teams`)."""
    yield from _reference_pages([list_records(client, settings.TEAMS_PATH, "teams")],
                                settings.TEAMS_PATH, "teams", settings.TEAM_COLUMNS,
                                shape_team, land_free_text)


@dlt.resource(
    name=settings.COMPANIES_TABLE,
    primary_key="id",
    write_disposition="merge",
    columns=column_hints(settings.COMPANY_COLUMNS),
    max_table_nesting=0,
)
def companies(client: ApiClient, land_free_text: bool) -> Iterator[Any]:
    """Every company of the workspace, loaded whole each run through the scroll
    (`GET /companies/scroll`); a scroll that expires part-way is restarted once. A token
    not allowed to read companies (403) lands none, with a warning, and the run goes on."""
    try:
        yield from _reference_pages(scroll_pages(client), settings.COMPANIES_SCROLL_PATH,
                                    settings.COMPANIES_TABLE, settings.COMPANY_COLUMNS,
                                    shape_company, land_free_text)
    except ApiAuthError as error:
        if error.status != 403:
            raise
        _refused(settings.COMPANIES_SCROLL_PATH, error, "no company lands (conversations "
                 "map to no organisation)", "companies")
        yield empty_page(landed_table(settings.COMPANY_COLUMNS), settings.COMPANIES_TABLE)


def _refused(path: str, error: ApiError, consequence: str, scope: str) -> None:
    """One warning for a read the access token is not allowed (403): what is left out, and
    what to grant. Contacts and companies only map conversations to CRM accounts: without
    them the rest of the run is whole."""
    logger.warning(
        "%s: GET %s was refused (%s): %s. Give the access token read access to %s.",
        settings.SOURCE_NAME, path, first_line(error), consequence, scope,
    )


def _reference_pages(
    pages: Iterable[list[Any]],
    path: str,
    table_name: str,
    columns: dict[str, str],
    shape: Callable[[Any, bool], dict[str, Any]],
    land_free_text: bool,
) -> Iterator[Any]:
    """The dlt items of a reference table from its API pages (`/admins` and `/teams` answer
    in one page, `/companies/scroll` in several)."""
    landing = Landing(
        new_quarantine(land_free_text), path, table_name, landed_table(columns),
        shape=lambda record: shape(record, land_free_text),
        new_fields=new_fields(table_name, land_free_text),
    )
    yield from landing.pages(pages)
