"""Salesforce API plumbing: client construction, SOQL, queryAll paging, typed Arrow pages."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import requests
from dlt.common.normalizers.naming.snake_case import NamingConvention

from connectors.http import (
    ApiClient,
    ApiRecordError,
    ApiResponseError,
    BearerAuth,
    RetryPolicy,
    validate_base_url,
)
from connectors.salesforce import settings
from connectors.typed_rows import TypedTable, parse_value

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


# --- SOQL and paging ------------------------------------------------------------------------


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


def query_all_pages(client: ApiClient, api_version: str, soql: str) -> Iterator[list[Record]]:
    """The records of a SOQL query including deleted ones (`queryAll`), page by page,
    following `nextRecordsUrl` until `done`."""
    path = settings.QUERY_ALL_PATH.format(api_version=api_version)
    url, params = path, {"q": soql}
    seen: set[str] = set()
    while True:
        body = client.get_json(url, params)
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list):
            keys = sorted(body) if isinstance(body, dict) else type(body).__name__
            raise ApiResponseError(
                f"{settings.SOURCE_NAME}: GET {path} returned no 'records' list (got {keys}); "
                "is SALESFORCE_INSTANCE_URL the org's instance URL?",
                source=settings.SOURCE_NAME,
                endpoint=path,
            )
        if records:
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


# --- typed rows -----------------------------------------------------------------------------


class SObjectTable(TypedTable):
    """The landed columns of one sObject: typed rows out of records, Arrow pages.

    Columns are the fields' snake_case names. A value that does not fit its column's type
    stops the run with an `ApiRecordError` naming the sObject, the record's Id and the field.
    """

    def __init__(
        self,
        api_version: str,
        sobject: str,
        fields: Mapping[str, str],
        sources: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__({column_name(field): data_type for field, data_type in fields.items()})
        self.endpoint = settings.QUERY_ALL_PATH.format(api_version=api_version)
        self.sobject = sobject
        self.fields = dict(fields)
        #: Canonical field (whose column lands) -> the field queried for it.
        self.sources = {field: (sources or {}).get(field, field) for field in self.fields}
        self._columns = [
            (self.sources[field], column_name(field), t) for field, t in self.fields.items()
        ]

    @property
    def queried(self) -> list[str]:
        """The fields to SELECT, each once."""
        return list(dict.fromkeys(self.sources.values()))

    def row(self, record: Any) -> Record:
        """The landed row of one record."""
        if not isinstance(record, dict):
            raise self._error(record, None, "is not a JSON object")
        row: Record = {}
        for field, column, data_type in self._columns:
            value = record.get(field)
            try:
                row[column] = parse_value(value, data_type)
            except (ValueError, ArithmeticError, OverflowError) as exc:
                problem = f"= {value!r} is not a valid {data_type} ({exc})"
                raise self._error(record, field, problem) from None
        if row["id"] is None or row["system_modstamp"] is None:
            raise self._error(record, None, "has no Id or SystemModstamp")
        return row

    def _error(self, record: Any, field: str | None, problem: str) -> ApiRecordError:
        record_id = record.get("Id") if isinstance(record, dict) else None
        what = f" field {field!r}" if field else ""
        return ApiRecordError(
            f"{settings.SOURCE_NAME}: GET {self.endpoint} returned {self.sobject} "
            f"Id={record_id!r} whose{what} cannot be landed: {problem}. Fix the record in "
            "Salesforce (or land that field as text); the run stops rather than land it wrong.",
            source=settings.SOURCE_NAME,
            endpoint=self.endpoint,
        )


def check_batch_size(batch_size: int | None) -> None:
    """ValueError unless None or within what `Sforce-Query-Options: batchSize` accepts."""
    if batch_size is not None and not (
        settings.MIN_BATCH_SIZE <= batch_size <= settings.MAX_BATCH_SIZE
    ):
        raise ValueError(
            f"salesforce_source: batch_size must be {settings.MIN_BATCH_SIZE}.."
            f"{settings.MAX_BATCH_SIZE} (or None for Salesforce's default)"
        )


