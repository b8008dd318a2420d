"""Salesforce API plumbing: client construction, describe, SOQL, queryAll paging, typed Arrow
pages."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import requests
from dlt.common.normalizers.naming.snake_case import NamingConvention

from connectors.http import (
    CONNECT_TIMEOUT_SECONDS,
    DEFAULT_READ_TIMEOUT_SECONDS,
    ApiClient,
    ApiError,
    ApiResponseError,
    BearerAuth,
    RetryPolicy,
    validate_base_url,
)
from connectors.salesforce import settings
from connectors.typed_rows import (
    PARSE_ERRORS,
    NewFields,
    Quarantine,
    Rejected,
    TypedTable,
    bad_value,
    parse_value,
)

logger = logging.getLogger(__name__)

Record = dict[str, Any]

_API_VERSION = re.compile(r"v\d{2,3}\.\d")
#: A plain field API name (`Amount`, `Contract_Term_Months__c`); no relationships, no SOQL.
_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
#: How field names become column names: dlt's own snake_case (`CloseDate` -> `close_date`).
_NAMING = NamingConvention()


# --- client ---------------------------------------------------------------------------------


def build_client(
    instance_url: str,
    access_token: str,
    retry: RetryPolicy | None,
    batch_size: int | None,
    timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS,
) -> ApiClient:
    """An `ApiClient` for one Salesforce org; raises ValueError naming a missing setting."""
    if not instance_url:
        raise ValueError(
            "Salesforce needs SALESFORCE_INSTANCE_URL (e.g. https://acme.my.salesforce.com)"
        )
    if not access_token:
        raise ValueError("Salesforce needs SALESFORCE_ACCESS_TOKEN (an OAuth access token)")
    headers = {"User-Agent": "helpdesk-etl (dlt salesforce source)"}
    if batch_size is not None:
        headers["Sforce-Query-Options"] = f"batchSize={batch_size}"
    return ApiClient(
        source=settings.SOURCE_NAME,
        base_url=validate_base_url(instance_url, "SALESFORCE_INSTANCE_URL"),
        auth=BearerAuth(access_token),
        secrets=[access_token],
        credentials_hint=settings.CREDENTIALS_HINT,
        retry=retry,
        timeout=(CONNECT_TIMEOUT_SECONDS, timeout_seconds),
        headers=headers,
        retryable_error=request_limit_exceeded,
    )


def request_limit_exceeded(response: requests.Response) -> str | None:
    """The error code of a 403 that means "over the API request limit", else None.

    Salesforce answers `[{"message": ..., "errorCode": "REQUEST_LIMIT_EXCEEDED"}]`.
    """
    if response.status_code != 403:
        return None
    try:
        errors = orjson.loads(response.content)
    except (orjson.JSONDecodeError, requests.exceptions.RequestException):
        return None
    errors = errors if isinstance(errors, list) else [errors]
    for error in errors:
        if isinstance(error, dict) and error.get("errorCode") in settings.RATE_LIMIT_ERROR_CODES:
            return str(error["errorCode"])
    return None


def validate_api_version(api_version: str) -> str:
    """`v60.0`-style version, or ValueError."""
    if not _API_VERSION.fullmatch(api_version):
        raise ValueError(f"Salesforce api_version must look like 'v60.0', got {api_version!r}")
    return api_version


def field_types(
    fields: Sequence[str] | Mapping[str, str], required: Sequence[str]
) -> dict[str, str]:
    """Field API name -> landed type: the required fields first, then the asked-for ones (a
    list: known types, else text; a mapping: the given types). ValueError for a bad name."""
    if isinstance(fields, str):
        raise ValueError("Salesforce fields must be a list of field API names, not one string")
    asked = dict(fields) if isinstance(fields, Mapping) else {
        name: settings.FIELD_TYPES.get(name, "text") for name in fields
    }
    typed = {name: settings.FIELD_TYPES[name] for name in required}
    for name, data_type in asked.items():
        check_field_name(name)
        if data_type not in settings.FIELD_TYPE_NAMES:
            raise ValueError(
                f"Salesforce field {name!r}: type {data_type!r} is not one of "
                f"{sorted(settings.FIELD_TYPE_NAMES)}"
            )
        typed.setdefault(name, data_type)
    columns = [column_name(name) for name in typed]
    clashes = {c for c in columns if columns.count(c) > 1}
    if clashes:
        raise ValueError(f"Salesforce fields land in the same column(s) {sorted(clashes)}")
    return typed


def check_field_name(name: Any) -> str:
    """A plain field API name (`Amount`, `Term__c`), or ValueError."""
    if not isinstance(name, str) or not _FIELD_NAME.fullmatch(name):
        raise ValueError(f"Salesforce field {name!r} is not a plain field API name")
    return name


def field_sources(typed: Mapping[str, str], configured: Mapping[str, str]) -> dict[str, str]:
    """Canonical field -> the field its column is filled from: each from itself, except the
    canonical fields in `configured` (canonical -> field) that are landed. ValueError for
    a bad name."""
    sources = {field: field for field in typed}
    for canonical, name in configured.items():
        check_field_name(name)
        if canonical in sources:
            sources[canonical] = name
    return sources


def column_name(field: str) -> str:
    """The landed column of a field: `CloseDate` -> `close_date`, `IsWon` -> `is_won`,
    `Contract_Term_Months__c` -> `contract_term_months_c`."""
    return _NAMING.normalize_identifier(field)


# --- describe, SOQL and paging -------------------------------------------------------------


def describe_fields(client: ApiClient, endpoint: str) -> list[str]:
    """The API names of an sObject's fields that the org has and the integration user can
    read: its sObject Describe (`endpoint`, `SObjectTable.describe_endpoint`)."""
    fields = _listed(client.get_json(endpoint), "fields", endpoint)
    return [f["name"] for f in fields if isinstance(f, dict) and isinstance(f.get("name"), str)]


def _listed(body: Any, key: str, path: str) -> list[Any]:
    """`body[key]`, a list, or `ApiResponseError` naming what came instead (a body that is
    not Salesforce's: most often an instance URL that is not the org's)."""
    listed = body.get(key) if isinstance(body, dict) else None
    if not isinstance(listed, list):
        keys = sorted(body) if isinstance(body, dict) else type(body).__name__
        raise ApiResponseError(
            f"{settings.SOURCE_NAME}: GET {path} returned no '{key}' list (got {keys}); "
            "is SALESFORCE_INSTANCE_URL the org's instance URL?",
            source=settings.SOURCE_NAME,
            endpoint=path,
        )
    return listed


def soql_datetime(moment: datetime, *, round_up: bool = False) -> str:
    """A SOQL datetime literal in UTC (`2024-03-05T00:00:00Z`, unquoted), to whole seconds:
    rounded down for a window's start, up for its end, so the query never misses a row
    (dlt's incremental drops what falls outside the exact window)."""
    moment = moment.astimezone(UTC)
    whole = moment.replace(microsecond=0)
    if round_up and whole < moment:
        whole += timedelta(seconds=1)
    return whole.strftime("%Y-%m-%dT%H:%M:%SZ")


def window_soql(
    sobject: str, fields: Sequence[str], start: datetime, end: datetime | None
) -> str:
    """`SELECT fields FROM sobject WHERE SystemModstamp in [start, end) ORDER BY ...`."""
    cursor = settings.CURSOR_FIELD
    where = f"{cursor} >= {soql_datetime(start)}"
    if end is not None:
        where += f" AND {cursor} < {soql_datetime(end, round_up=True)}"
    return f"SELECT {', '.join(fields)} FROM {sobject} WHERE {where} ORDER BY {cursor}, Id"


def query_all_pages(
    client: ApiClient,
    api_version: str,
    soql: str,
    restart_soql: Callable[[datetime], str] | None = None,
) -> Iterator[list[Record]]:
    """The records of a SOQL query including deleted ones (`queryAll`), page by page,
    following `nextRecordsUrl` until `done`.

    A query locator expires (HTTP 400 `INVALID_QUERY_LOCATOR`, e.g. after 15 minutes idle):
    then the query is re-issued as `restart_soql(t)`, from `t` = the latest `SystemModstamp`
    already yielded (the query is ordered by it; the repeats merge away on `id`), at most
    `settings.MAX_QUERY_RESTARTS` times.
    """
    path = settings.QUERY_ALL_PATH.format(api_version=api_version)
    url, params = path, {"q": soql}
    seen: set[str] = set()
    restarts = 0
    latest: datetime | None = None
    while True:
        try:
            body = client.get_json(url, params)
        except ApiError as error:
            expired = (
                url != path
                and error.status == 400
                and error.error_code == settings.EXPIRED_LOCATOR_ERROR
            )
            if not expired or restart_soql is None:
                raise
            if restarts >= settings.MAX_QUERY_RESTARTS:
                raise ApiResponseError(
                    f"{settings.SOURCE_NAME}: GET {path}: the query locator expired "
                    f"({error.error_code}) again after {restarts} restarts; giving up. "
                    "Re-run the window.",
                    source=settings.SOURCE_NAME,
                    endpoint=path,
                    status=error.status,
                    error_code=error.error_code,
                ) from None
            restarts += 1
            logger.warning(
                "%s: GET %s: the query locator expired (%s); re-issuing the query from "
                "%s %s (restart %d of at most %d)",
                settings.SOURCE_NAME, path, error.error_code, settings.CURSOR_FIELD,
                "the window start" if latest is None else soql_datetime(latest),
                restarts, settings.MAX_QUERY_RESTARTS,
            )
            url = path
            params = {"q": soql if latest is None else restart_soql(latest)}
            seen.clear()
            continue
        records = _listed(body, "records", path)
        if records:
            latest = _latest_modstamp(records, latest)
            yield records
        next_url = body.get("nextRecordsUrl")
        if body.get("done", True) or not next_url:
            return
        if next_url in seen:
            raise ApiResponseError(
                f"{settings.SOURCE_NAME}: GET {path} paging does not advance ({next_url!r} came "
                "back twice); stopping instead of looping.",
                source=settings.SOURCE_NAME,
                endpoint=path,
            )
        seen.add(next_url)
        url, params = next_url, None


def _latest_modstamp(records: list[Any], latest: datetime | None) -> datetime | None:
    """The latest parsable `SystemModstamp` of `records` and `latest`."""
    for record in records:
        if not isinstance(record, dict):
            continue
        try:
            moment = parse_value(record.get(settings.CURSOR_FIELD), "timestamp")
        except PARSE_ERRORS:
            continue
        if moment is not None and (latest is None or moment > latest):
            latest = moment
    return latest


# --- typed rows -----------------------------------------------------------------------------


def new_quarantine() -> Quarantine:
    """The Salesforce quarantine (records keyed by `Id`, stored without free text)."""
    return Quarantine(settings.SOURCE_NAME, id_field="Id", private_fields=settings.PRIVATE_FIELDS)


class SObjectTable(TypedTable):
    """The landed columns of one sObject: typed rows out of records, Arrow pages.

    Columns are the fields' snake_case names. A record whose value does not fit its
    column's type is rejected (`Rejected`: it goes to the quarantine).
    """

    def __init__(
        self,
        api_version: str,
        sobject: str,
        fields: Mapping[str, str],
        sources: Mapping[str, str | None] | None = None,
    ) -> None:
        super().__init__(
            {column_name(field): data_type for field, data_type in fields.items()},
            required=("id", column_name(settings.CURSOR_FIELD)),
        )
        self.api_version = api_version
        self.endpoint = settings.QUERY_ALL_PATH.format(api_version=api_version)
        self.describe_endpoint = settings.DESCRIBE_PATH.format(
            api_version=api_version, sobject=sobject
        )
        self.sobject = sobject
        self.fields = dict(fields)
        #: Canonical field (whose column lands) -> the field queried for it (None: the org
        #: has no such field, the column lands empty).
        self.sources = {field: (sources or {}).get(field, field) for field in self.fields}
        self._columns = [
            (self.sources[field], column_name(field), t) for field, t in self.fields.items()
        ]

    @property
    def queried(self) -> list[str]:
        """The fields to SELECT, each once."""
        return [field for field in dict.fromkeys(self.sources.values()) if field is not None]

    def in_org(self, org_fields: Sequence[str]) -> SObjectTable:
        """This table for an org whose sObject has `org_fields` (`describe_fields`): each
        field queried as the org spells it (names match case-insensitively, as in SOQL). A
        field the org lacks, or hides from the integration user, is not queried: its column
        lands empty and a warning names the setting to change; if every row needs it,
        `ApiResponseError` instead."""
        spelled = {name.lower(): name for name in org_fields}
        sources: dict[str, str | None] = {}
        for field, source in self.sources.items():
            sources[field] = None if source is None else spelled.get(source.lower())
            if source is None or sources[field] is not None:
                continue
            if field in settings.REQUIRED_FIELDS.get(self.sobject, ()):
                raise ApiResponseError(
                    f"{settings.SOURCE_NAME}: {self.sobject} has no field {source} the "
                    f"integration user can read (GET {self.describe_endpoint} does not list "
                    f"it); every {self.sobject} row needs it: grant the user read access to "
                    f"{self.sobject}.{source} (field-level security).",
                    source=settings.SOURCE_NAME,
                    endpoint=self.describe_endpoint,
                )
            setting, staging = settings.FIELD_SETTINGS.get(
                field, (settings.FIELD_LIST_ARGUMENTS.get(self.sobject, "fields"), "")
            )
            logger.warning(
                "%s: %s has no field %s the integration user can read (%s): %s lands empty%s",
                settings.SOURCE_NAME, self.sobject, source, setting, column_name(field),
                f"; {staging}" if staging else "",
            )
        return SObjectTable(self.api_version, self.sobject, self.fields, sources)

    def new_fields(self) -> NewFields:
        """Top-level record fields that are new (land as columns): neither queried nor
        `attributes`. SOQL returns what it selects, so these are rare."""
        known = {*self.queried, *settings.KNOWN_RECORD_FIELDS}
        return NewFields(known, settings.PRIVATE_FIELDS)

    def row(self, record: Any) -> Record:
        """The landed row of one record."""
        if not isinstance(record, dict):
            raise Rejected("the record is not a JSON object")
        row: Record = {}
        for field, column, data_type in self._columns:
            value = None if field is None else record.get(field)
            try:
                row[column] = parse_value(value, data_type)
            except PARSE_ERRORS as exc:
                rejected = bad_value(field, value, data_type, exc)
                rejected.column = column
                raise rejected from None
        return row


def check_batch_size(batch_size: int | None) -> None:
    """ValueError unless None or within what `Sforce-Query-Options: batchSize` accepts."""
    if batch_size is not None and not (
        settings.MIN_BATCH_SIZE <= batch_size <= settings.MAX_BATCH_SIZE
    ):
        raise ValueError(
            f"salesforce_source: batch_size must be {settings.MIN_BATCH_SIZE}.."
            f"{settings.MAX_BATCH_SIZE} (or None for Salesforce's default)"
        )


