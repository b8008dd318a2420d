"""Salesforce as a dlt source: Accounts and Opportunities (the contracts, when won).

Tables (see docs/crm-landed-tables.md for every column):
- `accounts`: one row per Account with the requested fields, merged on `id`.
- `opportunities`: one row per Opportunity with `account_id` and the requested fields,
  merged on `id`.

Both are extracted with SOQL through `queryAll` for a window [start, end) of
`SystemModstamp`, so records deleted in the window land too, with `is_deleted = true`, for
staging to drop. Each extract first describes the sObject once and queries only the fields
the org has (a missing one lands empty, with a warning). Windows are stateless when `end`
is given: a re-run of an older window emits only what changed inside it.
"""

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import dlt
from dlt.sources import DltResource, DltSource

from connectors.http import DEFAULT_READ_TIMEOUT_SECONDS, ApiClient, RetryPolicy, prefetch
from connectors.salesforce import settings
from connectors.salesforce.helpers import (
    SObjectTable,
    build_client,
    check_batch_size,
    describe_fields,
    field_sources,
    field_types,
    new_quarantine,
    query_all_pages,
    validate_api_version,
    window_soql,
)
from connectors.salesforce.settings import DEFAULT_ACCOUNT_FIELDS, DEFAULT_OPPORTUNITY_FIELDS
from connectors.typed_rows import Landing, with_quarantine
from connectors.window import extract_window

__all__ = ["DEFAULT_ACCOUNT_FIELDS", "DEFAULT_OPPORTUNITY_FIELDS", "salesforce_source"]

# No `from __future__ import annotations` here: dlt finds a resource's incremental argument
# by its evaluated `dlt.sources.incremental` annotation.


def salesforce_source(
    instance_url: str,
    access_token: str,
    *,
    api_version: str = settings.DEFAULT_API_VERSION,
    start: datetime,
    end: datetime | None = None,
    retry: RetryPolicy | None = None,
    opportunity_fields: Sequence[str] | Mapping[str, str] = DEFAULT_OPPORTUNITY_FIELDS,
    account_fields: Sequence[str] | Mapping[str, str] = DEFAULT_ACCOUNT_FIELDS,
    batch_size: int | None = None,
    contract_term_field: str = settings.DEFAULT_CONTRACT_TERM_FIELD,
    segment_field: str = settings.DEFAULT_SEGMENT_FIELD,
    timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS,
) -> DltSource:
    """The Salesforce dlt source for the extract window [start, end).

    `instance_url` is the org's (`https://acme.my.salesforce.com`; plain http:// only for a
    loopback host), `access_token` an OAuth access token (Bearer). `start` must be
    timezone-aware; `end` None means up to now (then dlt keeps incremental state between
    runs). Fields are API names; a list lands known ones typed (`Amount` decimal,
    `CloseDate` date, `IsWon` bool, `Contract_Term_Months__c` bigint) and others as text,
    a mapping name -> type says how each lands; `Id`, `IsDeleted`, `SystemModstamp`,
    `CreatedDate` (and an Opportunity's `AccountId`) always land. The fields staging reads
    that are settings keep their canonical column and type: `contract_term_months_c` is
    filled from `contract_term_field`, an Account's `industry` from `segment_field` (when
    that column is landed at all). Each extract describes Account and Opportunity once and
    queries only the fields the org has (names match case-insensitively): a field it lacks
    or hides from the integration user lands as an empty column, with a warning naming the
    setting (an org without `Contract_Term_Months__c` lands no term: staging takes 12
    months); a missing always-landed field fails the run. `batch_size` (200..2000)
    asks for smaller pages (`Sforce-Query-Options`). 503s and 403 `REQUEST_LIMIT_EXCEEDED`
    are retried with backoff up to `retry.max_attempts`; `timeout_seconds` bounds each read
    (a timeout is retried). A record that cannot land goes to `_quarantine` with the reason
    (the rest of its page lands); an expired query locator re-issues the query from the
    last `SystemModstamp` landed. Nothing is fetched until the source is extracted.
    """
    if start.tzinfo is None or (end is not None and end.tzinfo is None):
        raise ValueError("salesforce_source: start and end must be timezone-aware datetimes")
    if end is not None and end <= start:
        raise ValueError(f"salesforce_source: end ({end}) must be after start ({start})")
    check_batch_size(batch_size)
    api_version = validate_api_version(api_version)
    account_types = field_types(account_fields, settings.ACCOUNT_REQUIRED_FIELDS)
    accounts_table = SObjectTable(
        api_version,
        "Account",
        account_types,
        field_sources(account_types, {settings.DEFAULT_SEGMENT_FIELD: segment_field}),
    )
    opportunity_types = field_types(opportunity_fields, settings.OPPORTUNITY_REQUIRED_FIELDS)
    opportunities_table = SObjectTable(
        api_version,
        "Opportunity",
        opportunity_types,
        field_sources(
            opportunity_types, {settings.DEFAULT_CONTRACT_TERM_FIELD: contract_term_field}
        ),
    )
    client = build_client(instance_url, access_token, retry, batch_size, timeout_seconds)
    # Everything is passed explicitly, so dlt never fills an argument from the environment.
    return _salesforce(client, api_version, start, end, accounts_table, opportunities_table)


@dlt.source(name=settings.SOURCE_NAME)
def _salesforce(
    client: ApiClient,
    api_version: str,
    start: datetime,
    end: datetime | None,
    accounts_table: SObjectTable,
    opportunities_table: SObjectTable,
) -> Sequence[DltResource]:
    """The resources of one Salesforce org for one window."""

    def window() -> dlt.sources.incremental[datetime]:
        return extract_window("system_modstamp", start, end)

    resources = (
        accounts(client, api_version, accounts_table, window()),
        opportunities(client, api_version, opportunities_table, window()),
    )
    with_quarantine(resources)
    return resources


def _window_pages(
    client: ApiClient,
    api_version: str,
    table_name: str,
    table: SObjectTable,
    changed: dlt.sources.incremental[datetime],
) -> Iterator[Any]:
    """Arrow pages of the records whose `SystemModstamp` falls in the window (deleted ones
    included); one empty page if none does, so the table exists anyway. Records that cannot
    land are quarantined. Only the fields the org has are queried (its describe)."""
    table = table.in_org(describe_fields(client, table.describe_endpoint))
    start, end = changed.start_value, changed.end_value
    soql = window_soql(table.sobject, table.queried, start, end)

    def restart_soql(latest: datetime) -> str:
        return window_soql(table.sobject, table.queried, max(start, latest), end)

    landing = Landing(
        new_quarantine(), table.endpoint, table_name, table, shape=table.row,
        new_fields=table.new_fields(),
    )
    yield from landing.pages(prefetch(query_all_pages(client, api_version, soql, restart_soql)))


@dlt.resource(name="accounts", primary_key="id", write_disposition="merge", max_table_nesting=0)
def accounts(
    client: ApiClient,
    api_version: str,
    table: SObjectTable,
    changed: dlt.sources.incremental[datetime],
) -> Iterator[Any]:
    """Accounts (deleted ones flagged `is_deleted`) whose SystemModstamp is in the window."""
    yield from _window_pages(client, api_version, "accounts", table, changed)


@dlt.resource(
    name="opportunities", primary_key="id", write_disposition="merge", max_table_nesting=0
)
def opportunities(
    client: ApiClient,
    api_version: str,
    table: SObjectTable,
    changed: dlt.sources.incremental[datetime],
) -> Iterator[Any]:
    """Opportunities (deleted ones flagged `is_deleted`) whose SystemModstamp is in the
    window, with their `account_id`."""
    yield from _window_pages(client, api_version, "opportunities", table, changed)
