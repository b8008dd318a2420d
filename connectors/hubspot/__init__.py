"""HubSpot CRM as a dlt source: companies, deals (the contracts, when won) and survey
responses.

Tables (see docs/crm-landed-tables.md for every column):
- `companies`: one row per company with the requested properties, merged on `id`.
- `deals`: one row per deal with the requested properties and `company_id`, its primary
  associated company, merged on `id`.
- `feedback_submissions`: one row per survey response (NPS, CSAT, CES) with its survey,
  answer, submission time and the responding contact's primary company, merged on `id`. A
  token without a scope for them lands none (a warning says so).

All are extracted for a window [start, end) of their last change (`changed_at`: HubSpot's
`updatedAt`, i.e. `hs_lastmodifieddate`, or `archivedAt`). Archived objects land with
`archived = true`, so staging can drop them. Windows are stateless when `end` is given: a
re-run of an older window emits only what changed inside it.
"""

import logging
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import dlt
from dlt.sources import DltResource, DltSource

from connectors.http import (
    DEFAULT_READ_TIMEOUT_SECONDS,
    ApiAuthError,
    ApiClient,
    RetryPolicy,
    prefetch,
)
from connectors.hubspot import settings
from connectors.hubspot.helpers import (
    ContactCompanies,
    ObjectTable,
    SurveyResponseTable,
    build_client,
    check_won_stages,
    new_fields,
    new_quarantine,
    object_pages,
    property_sources,
    property_types,
)
from connectors.hubspot.settings import DEFAULT_COMPANY_PROPERTIES, DEFAULT_DEAL_PROPERTIES
from connectors.typed_rows import Landing, with_quarantine
from connectors.window import extract_window

__all__ = ["DEFAULT_COMPANY_PROPERTIES", "DEFAULT_DEAL_PROPERTIES", "hubspot_source"]

logger = logging.getLogger(__name__)

# No `from __future__ import annotations` here: dlt finds a resource's incremental argument
# by its evaluated `dlt.sources.incremental` annotation.


def hubspot_source(
    access_token: str,
    base_url: str | None = None,
    *,
    start: datetime,
    end: datetime | None = None,
    page_size: int = settings.DEFAULT_PAGE_SIZE,
    retry: RetryPolicy | None = None,
    deal_properties: Sequence[str] | Mapping[str, str] = DEFAULT_DEAL_PROPERTIES,
    company_properties: Sequence[str] | Mapping[str, str] = DEFAULT_COMPANY_PROPERTIES,
    close_date_property: str = settings.DEFAULT_CLOSE_DATE_PROPERTY,
    contract_term_property: str = settings.DEFAULT_CONTRACT_TERM_PROPERTY,
    mrr_property: str = settings.DEFAULT_MRR_PROPERTY,
    amount_property: str = settings.DEFAULT_AMOUNT_PROPERTY,
    won_stages: Sequence[str] = settings.DEFAULT_WON_STAGES,
    segment_property: str = settings.DEFAULT_SEGMENT_PROPERTY,
    timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS,
) -> DltSource:
    """The HubSpot dlt source for the extract window [start, end).

    `access_token` is a private-app token (Bearer). `base_url` overrides
    `https://api.hubapi.com`; it must be https:// unless it points at a loopback host.
    `start` must be timezone-aware; `end` None means up to now (then dlt keeps incremental
    state between runs). Properties are HubSpot internal names; a list lands known ones
    typed (`amount` decimal, `closedate` timestamp, ...) and others as text, a mapping
    name -> type (`text`, `decimal`, `double`, `bigint`, `bool`, `timestamp`, `date`) says
    how each lands. The properties staging reads are settings that keep their canonical
    column: `closedate`, `contract_term_months`, `hs_mrr`, `amount` (deals) and `industry`
    (companies) are filled from `close_date_property`, `contract_term_property`,
    `mrr_property`, `amount_property` and `segment_property`, typed as the canonical
    property (when that column is landed at all). Deals land `is_won`: their `dealstage` is
    one of `won_stages`. The default `retry` waits out a 429 for HubSpot's 10-second window
    unless `Retry-After` says otherwise; `timeout_seconds` bounds each read (a timeout is
    retried). An object that cannot land goes to `_quarantine` with the reason (the rest of
    its page lands); a new top-level object field lands as a new column. Nothing is fetched
    until the source is extracted.
    """
    if start.tzinfo is None or (end is not None and end.tzinfo is None):
        raise ValueError("hubspot_source: start and end must be timezone-aware datetimes")
    if end is not None and end <= start:
        raise ValueError(f"hubspot_source: end ({end}) must be after start ({start})")
    if not 1 <= page_size <= settings.MAX_PAGE_SIZE:
        raise ValueError(f"hubspot_source: page_size must be 1..{settings.MAX_PAGE_SIZE}")
    company_types = property_types(company_properties, settings.OBJECT_COLUMNS)
    companies_table = ObjectTable(
        settings.COMPANIES_PATH,
        "company",
        settings.OBJECT_COLUMNS,
        company_types,
        property_sources(company_types, {"industry": segment_property}),
    )
    deal_columns = {**settings.OBJECT_COLUMNS, **settings.DEAL_COLUMNS}
    deal_types = property_types(deal_properties, deal_columns)
    deal_sources = {
        "closedate": close_date_property,
        "contract_term_months": contract_term_property,
        "hs_mrr": mrr_property,
        "amount": amount_property,
    }
    deals_table = ObjectTable(
        settings.DEALS_PATH,
        "deal",
        deal_columns,
        deal_types,
        property_sources(deal_types, deal_sources),
        check_won_stages(won_stages),
    )
    client = build_client(access_token, base_url, retry, timeout_seconds)
    # Everything is passed explicitly, so dlt never fills an argument from the environment.
    return _hubspot(client, start, end, page_size, companies_table, deals_table)


@dlt.source(name=settings.SOURCE_NAME)
def _hubspot(
    client: ApiClient,
    start: datetime,
    end: datetime | None,
    page_size: int,
    companies_table: ObjectTable,
    deals_table: ObjectTable,
) -> Sequence[DltResource]:
    """The resources of one HubSpot account for one window."""

    def window() -> dlt.sources.incremental[datetime]:
        return extract_window("changed_at", start, end)

    resources = (
        companies(client, companies_table, page_size, window()),
        deals(client, deals_table, page_size, window()),
        feedback_submissions(client, SurveyResponseTable(), page_size, window()),
    )
    with_quarantine(resources)
    return resources


def _window_pages(
    client: ApiClient,
    table_name: str,
    table: ObjectTable,
    page_size: int,
    changed: dlt.sources.incremental[datetime],
    associations: str | None = None,
    contacts: ContactCompanies | None = None,
) -> Iterator[Any]:
    """Arrow pages of the objects whose `changed_at` falls in the window; one empty page if
    none does, so the table exists anyway. Objects that cannot land are quarantined.
    `contacts`: fill each row's `company_id` from its contact's company (survey responses)."""
    low, high = changed.start_value, changed.end_value
    landing = Landing(
        new_quarantine(),
        table.endpoint,
        table_name,
        table,
        shape=table.row,
        new_fields=new_fields(),
    )
    pages = object_pages(
        client,
        table.endpoint,
        table.requested,
        page_size=page_size,
        associations=associations,
    )
    if contacts is not None:
        pages = contacts.pages(pages)
    landed = False
    for page in prefetch(pages):
        kept, rows, rejections = landing.split(page)
        inside = [
            i for i, r in enumerate(rows)
            if low <= r["changed_at"] and (not high or r["changed_at"] < high)
        ]
        if len(inside) < len(rows):
            kept, rows = [kept[i] for i in inside], [rows[i] for i in inside]
        if contacts is not None:
            contacts.fill(rows)
        arrow_page, kept = landing.build(kept, rows, rejections)
        if arrow_page.num_rows:
            landed = True
            yield dlt.mark.with_table_name(arrow_page, table_name)
        if rejections:
            yield landing.quarantine.item(rejections)
    if not landed:
        yield dlt.mark.with_table_name(table.empty(), table_name)


@dlt.resource(name="companies", primary_key="id", write_disposition="merge", max_table_nesting=0)
def companies(
    client: ApiClient,
    table: ObjectTable,
    page_size: int,
    changed: dlt.sources.incremental[datetime],
) -> Iterator[Any]:
    """Companies (live and archived) whose last change falls in the window."""
    yield from _window_pages(client, "companies", table, page_size, changed)


@dlt.resource(name="deals", primary_key="id", write_disposition="merge", max_table_nesting=0)
def deals(
    client: ApiClient,
    table: ObjectTable,
    page_size: int,
    changed: dlt.sources.incremental[datetime],
) -> Iterator[Any]:
    """Deals (live and archived) whose last change falls in the window, each with its
    primary associated company (`associations=companies`)."""
    yield from _window_pages(client, "deals", table, page_size, changed, associations="companies")


@dlt.resource(
    name="feedback_submissions", primary_key="id", write_disposition="merge", max_table_nesting=0
)
def feedback_submissions(
    client: ApiClient,
    table: ObjectTable,
    page_size: int,
    changed: dlt.sources.incremental[datetime],
) -> Iterator[Any]:
    """Survey responses (live and archived) whose last change falls in the window, each
    with its contact's primary company (`company_id`, `ContactCompanies`).

    HubSpot answers 403 `MISSING_SCOPES` when the token has neither
    `crm.objects.contacts.read` nor `crm.objects.feedback_submissions.read` (or the account
    has no surveys): the table then lands empty, with a warning, and the source's other
    tables land as usual."""
    try:
        yield from _window_pages(client, "feedback_submissions", table, page_size, changed,
                                 contacts=ContactCompanies(client))
    except ApiAuthError as error:
        # (`endpoint` is the URL's path: behind a proxy it has the base URL's path first)
        if error.status != 403 or error.error_code != settings.MISSING_SCOPES \
                or not error.endpoint.endswith(table.endpoint):
            raise
        logger.warning(
            "%s: GET %s answered 403 %s: the token has none of the scopes %s, so no survey "
            "responses are loaded (grant one to the private app to load them)",
            settings.SOURCE_NAME, table.endpoint, error.error_code,
            " or ".join(settings.FEEDBACK_SUBMISSIONS_SCOPES),
        )
        yield dlt.mark.with_table_name(table.empty(), "feedback_submissions")
