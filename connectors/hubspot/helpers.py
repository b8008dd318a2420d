"""HubSpot API plumbing: client construction, object paging, typed rows as Arrow pages."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from connectors.http import (
    CONNECT_TIMEOUT_SECONDS,
    DEFAULT_READ_TIMEOUT_SECONDS,
    ApiAuthError,
    ApiClient,
    ApiError,
    ApiResponseError,
    BearerAuth,
    RetryPolicy,
    validate_base_url,
)
from connectors.hubspot import settings
from connectors.typed_rows import (
    PARSE_ERRORS,
    NewFields,
    Quarantine,
    Rejected,
    TypedTable,
    bad_value,
    describe,
    parse_value,
)

Record = dict[str, Any]

logger = logging.getLogger(__name__)

# --- client ---------------------------------------------------------------------------------


def build_client(
    access_token: str,
    base_url: str | None,
    retry: RetryPolicy | None,
    timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS,
) -> ApiClient:
    """An `ApiClient` for one HubSpot account; raises ValueError naming a missing setting."""
    if not access_token:
        raise ValueError("HubSpot needs HUBSPOT_ACCESS_TOKEN (a private-app access token)")
    url = validate_base_url(base_url, "HUBSPOT_BASE_URL") if base_url else settings.DEFAULT_BASE_URL
    return ApiClient(
        source=settings.SOURCE_NAME,
        base_url=url,
        auth=BearerAuth(access_token),
        secrets=[access_token],
        credentials_hint=settings.CREDENTIALS_HINT,
        retry=retry or RetryPolicy(rate_limit_wait_seconds=settings.RATE_LIMIT_WINDOW_SECONDS),
        timeout=(CONNECT_TIMEOUT_SECONDS, timeout_seconds),
        headers={"User-Agent": "helpdesk-etl (dlt hubspot source)"},
    )


def property_types(
    properties: Sequence[str] | Mapping[str, str], reserved: Mapping[str, str]
) -> dict[str, str]:
    """Property name -> landed type, for a list of names (known types, else text) or a
    mapping that gives the types. Raises ValueError for a bad name, type or a clash."""
    if isinstance(properties, str):
        raise ValueError("HubSpot properties must be a list of property names, not one string")
    if isinstance(properties, Mapping):
        typed = dict(properties)
    else:
        typed = {name: settings.PROPERTY_TYPES.get(name, "text") for name in properties}
    for name, data_type in typed.items():
        check_property_name(name)
        if name in reserved:
            raise ValueError(f"HubSpot property {name!r} clashes with the landed column {name!r}")
        if data_type not in settings.PROPERTY_TYPE_NAMES:
            raise ValueError(
                f"HubSpot property {name!r}: type {data_type!r} is not one of "
                f"{sorted(settings.PROPERTY_TYPE_NAMES)}"
            )
    return typed


def check_property_name(name: Any) -> str:
    """A HubSpot internal property name (lower-case letters, digits, `_`), or ValueError."""
    if (
        not isinstance(name, str)
        or not name
        or not name.replace("_", "").isalnum()
        or not name.isascii()
        or name != name.lower()
    ):
        raise ValueError(f"HubSpot property names are lower-case internal names, got {name!r}")
    return name


def property_sources(
    typed: Mapping[str, str], configured: Mapping[str, str]
) -> dict[str, str]:
    """Landed column -> the HubSpot property it is filled from: each column from the property
    of its own name, except the canonical columns in `configured` (column -> property) that
    are landed. Raises ValueError for a bad property name."""
    sources = {column: column for column in typed}
    for column, name in configured.items():
        check_property_name(name)
        if column in sources:
            sources[column] = name
    return sources


def check_won_stages(won_stages: Sequence[str]) -> tuple[str, ...]:
    """The won deal stage ids as a tuple: at least one, each a non-empty string."""
    if isinstance(won_stages, str):
        raise ValueError("HubSpot won_stages must be a list of deal stage ids, not one string")
    stages = tuple(won_stages)
    if not stages or not all(isinstance(s, str) and s.strip() == s and s for s in stages):
        raise ValueError(f"HubSpot won_stages must be non-empty stage ids, got {stages!r}")
    return stages


# --- paging ---------------------------------------------------------------------------------


def object_pages(
    client: ApiClient,
    path: str,
    properties: Sequence[str],
    *,
    page_size: int,
    associations: str | None = None,
) -> Iterator[list[Record]]:
    """Every object of a type, page by page: live ones, then archived ones.

    The list endpoint (`limit`, `after` from `paging.next.after`) returns properties and
    associations in one pass and has no result cap; search has neither associations nor
    archived objects and stops at 10,000 results, so the window is applied client-side.
    HubSpot documents no expiry for `after` cursors: a 400 on a cursor request is an error
    naming the cursor, not something a restart would fix.
    """
    for archived in ("false", "true"):
        query: dict[str, Any] = {
            "limit": page_size,
            "archived": archived,
            "properties": ",".join(properties),
            "associations": associations,
        }
        seen: set[str] = set()
        after = None
        while True:
            try:
                body = client.get_json(path, {**query, "after": after})
            except ApiError as error:
                if after is None or error.status != 400:
                    raise
                raise ApiResponseError(
                    f"{settings.SOURCE_NAME}: GET {path} refused the paging cursor it returned "
                    f"itself (HTTP 400 {error.error_code or ''}); HubSpot's `after` cursors "
                    "do not expire, so the run stops rather than restart and risk a gap. "
                    f"Re-run the window. Cause: {error}",
                    source=settings.SOURCE_NAME,
                    endpoint=path,
                    status=error.status,
                    error_code=error.error_code,
                ) from None
            results = body.get("results") if isinstance(body, dict) else None
            if not isinstance(results, list):
                keys = sorted(body) if isinstance(body, dict) else type(body).__name__
                raise ApiResponseError(
                    f"{settings.SOURCE_NAME}: GET {path} returned no 'results' list (got "
                    f"{keys}); is HUBSPOT_BASE_URL pointing at the HubSpot API?",
                    source=settings.SOURCE_NAME,
                    endpoint=path,
                )
            if results:
                yield results
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not after or not results:
                break
            if after in seen:
                raise ApiResponseError(
                    f"{settings.SOURCE_NAME}: GET {path} paging does not advance (cursor "
                    f"{after!r} came back twice); stopping instead of looping.",
                    source=settings.SOURCE_NAME,
                    endpoint=path,
                )
            seen.add(after)


def primary_company_id(deal: Mapping[str, Any]) -> str | None:
    """The deal's primary associated company: the `deal_to_company` association, else the
    first associated company, else None. Raises `Rejected` if `associations`,
    `associations.companies` or its `results` is not of its JSON type."""
    associations = deal.get("associations") or {}
    if not isinstance(associations, dict):
        raise _not_a("associations", associations, "JSON object")
    companies = associations.get("companies") or {}
    if not isinstance(companies, dict):
        raise _not_a("associations.companies", companies, "JSON object")
    results = companies.get("results") or []
    if not isinstance(results, list):
        raise _not_a("associations.companies.results", results, "list")
    ids = [(a.get("type"), a.get("id")) for a in results if isinstance(a, dict)]
    primary = [i for kind, i in ids if kind == settings.PRIMARY_COMPANY_ASSOCIATION]
    return (primary or [i for _, i in ids] or [None])[0]


def _not_a(field: str, value: Any, json_type: str) -> Rejected:
    return Rejected(f"{field} = {describe(value)} is not a {json_type}", "company_id")


# --- typed rows (vendor-neutral parsing lives in connectors.typed_rows) -----------------


_TOP_LEVEL_FIELDS = {
    "created_at": "createdAt",
    "updated_at": "updatedAt",
    "archived_at": "archivedAt",
}


def new_quarantine() -> Quarantine:
    """The HubSpot quarantine (records stored without free-text properties)."""
    return Quarantine(settings.SOURCE_NAME, private_fields=settings.PRIVATE_FIELDS)


def new_fields() -> NewFields:
    """Top-level object fields that are new (land as columns); properties stay as asked."""
    return NewFields(settings.KNOWN_RECORD_FIELDS, settings.PRIVATE_FIELDS)


class ObjectTable(TypedTable):
    """The landed columns of one object type: typed rows out of API objects, Arrow pages.

    Every value HubSpot sends is a string; each lands with the type of its column. An
    object whose value does not parse is rejected (`Rejected`: it goes to the quarantine).
    """

    def __init__(
        self, endpoint: str, object_name: str, columns: Mapping[str, str],
        properties: Mapping[str, str], sources: Mapping[str, str] | None = None,
        won_stages: Sequence[str] = (),
    ) -> None:
        super().__init__({**columns, **properties}, required=("id", "changed_at"))
        self.endpoint = endpoint
        self.object_name = object_name
        self.object_columns = dict(columns)
        self.properties = dict(properties)
        #: Landed property column -> the HubSpot property it is filled from.
        self.sources = {name: (sources or {}).get(name, name) for name in self.properties}
        self.won_stages = frozenset(won_stages)
        #: Always-returned time properties that no column is filled from: still checked.
        self._checked_times = [
            name for name in settings.ALWAYS_RETURNED_TIMES if name not in self.sources.values()
        ]

    @property
    def requested(self) -> list[str]:
        """The HubSpot properties to ask for (each once; `dealstage` for `is_won`)."""
        names = list(dict.fromkeys(self.sources.values()))
        if "is_won" in self.object_columns and settings.STAGE_PROPERTY not in names:
            names.append(settings.STAGE_PROPERTY)
        return names

    def row(self, record: Any) -> Record:
        """The landed row of one API object (its `company_id`, for deals, included)."""
        if not isinstance(record, dict) or not isinstance(record.get("properties") or {}, dict):
            raise Rejected("the record is not a JSON object with 'properties'")
        row: Record = {"id": self._parse("id", record.get("id"), "bigint")}
        if row["id"] is None:
            raise Rejected("id is missing (its primary key)", "id")
        for column, field in _TOP_LEVEL_FIELDS.items():
            row[column] = self._parse(field, record.get(field), "timestamp", column)
        row["archived"] = bool(self._parse("archived", record.get("archived"), "bool", "archived"))
        changes = [moment for moment in (row["updated_at"], row["archived_at"]) if moment]
        if not changes:
            raise Rejected("updatedAt is missing (it is the window cursor)", "updated_at")
        row["changed_at"] = max(changes)
        if "company_id" in self.object_columns:
            row["company_id"] = self._parse(
                "associations.companies", primary_company_id(record), "bigint", "company_id"
            )
        values = record.get("properties") or {}
        if "is_won" in self.object_columns:
            stage = values.get(settings.STAGE_PROPERTY)
            if stage is not None and not isinstance(stage, str):
                raise Rejected(
                    f"properties.{settings.STAGE_PROPERTY} = {describe(stage)} is not text "
                    "(a deal stage id)",
                    "is_won",
                )
            row["is_won"] = stage in self.won_stages
        for name, data_type in self.properties.items():
            source = self.sources[name]
            row[name] = self._parse(f"properties.{source}", values.get(source), data_type, name)
        for name in self._checked_times:
            self._parse(f"properties.{name}", values.get(name), "timestamp", None)
        return row

    def _parse(self, field: str, value: Any, data_type: str, column: str | None = None) -> Any:
        try:
            return parse_value(value, data_type)
        except PARSE_ERRORS as exc:
            rejected = bad_value(field, value, data_type, exc)
            rejected.column = column
            raise rejected from None


class SurveyResponseTable(ObjectTable):
    """The landed columns of feedback submissions (survey responses): an object table whose
    answer must lie on its survey type's fixed scale (`settings.SURVEY_VALUE_RANGES`), with
    the responding contact's primary company (`company_id`, filled by `ContactCompanies`)."""

    def __init__(self) -> None:
        super().__init__(settings.FEEDBACK_SUBMISSIONS_PATH, "feedback submission",
                         {**settings.OBJECT_COLUMNS, **settings.SURVEY_COLUMNS},
                         settings.SURVEY_PROPERTIES)

    def row(self, record: Any) -> Record:
        """The landed row of one submission; `Rejected` if its answer is off its scale."""
        row = super().row(record)
        survey_type, value = row["hs_survey_type"], row["hs_value"]
        low, high = settings.SURVEY_VALUE_RANGES.get(str(survey_type).upper(), (None, None))
        if value is not None and low is not None and not low <= value <= high:
            raise Rejected(
                f"properties.hs_value = {describe(value)} is outside the {survey_type} scale "
                f"{low}-{high}",
                "hs_value",
            )
        return row


class ContactCompanies:
    """The primary company of the contacts who answered surveys: read in batches of at most
    100 ids (`POST /crm/v3/objects/contacts/batch/read`, property `associatedcompanyid`),
    each contact once a run.

    `pages` passes the pages of feedback submissions through, reading the companies of each
    page's new contacts first (on the paging thread, so the requests stay sequential);
    `fill` then sets `company_id` on the page's rows. A contact HubSpot does not find (a 207
    answer lists it) or without a company gets none; a token without the contacts scope (403
    `MISSING_SCOPES`) gets one warning and no companies for the run.
    """

    def __init__(self, client: ApiClient) -> None:
        self.client = client
        self.companies: dict[str, int | None] = {}
        self.allowed = True

    def pages(self, pages: Iterator[list[Record]]) -> Iterator[list[Record]]:
        """`pages` as they are, the companies of their contacts read before each is passed."""
        for page in pages:
            wanted = {contact_id_of(record) for record in page} - self.companies.keys()
            wanted.discard(None)
            ordered = sorted(wanted, key=int)  # ids are plain ASCII digits (contact_id_of)
            for start in range(0, len(ordered), settings.MAX_BATCH_READ_INPUTS):
                self._read(ordered[start:start + settings.MAX_BATCH_READ_INPUTS])
            yield page

    def fill(self, rows: list[Record]) -> None:
        """Set `company_id` on rows that have none, from their contact's company."""
        for row in rows:
            if row.get("company_id") is None:
                row["company_id"] = self.companies.get(object_id(row.get("hs_contact_id")))

    def _read(self, ids: list[str]) -> None:
        self.companies.update(dict.fromkeys(ids))
        if not self.allowed:
            return
        path = settings.CONTACTS_BATCH_READ_PATH
        try:
            body = self.client.post_json(path, {
                "properties": [settings.CONTACT_COMPANY_PROPERTY],
                "inputs": [{"id": contact_id} for contact_id in ids],
            })
        except ApiAuthError as error:
            if error.status != 403 or error.error_code != settings.MISSING_SCOPES:
                raise
            self.allowed = False
            logger.warning(
                "%s: POST %s answered 403 %s: the token lacks the %s scope, so survey "
                "responses land without their contact's company (grant the scope to the "
                "private app to attribute them to accounts)",
                settings.SOURCE_NAME, path, error.error_code, settings.CONTACTS_SCOPE,
            )
            return
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            raise ApiResponseError(
                f"{settings.SOURCE_NAME}: POST {path} returned no 'results' list",
                source=settings.SOURCE_NAME,
                endpoint=path,
            )
        for contact in results:
            contact_id = object_id(contact.get("id")) if isinstance(contact, dict) else None
            if contact_id not in self.companies:
                logger.debug("%s: POST %s answered contact %r, not asked for; left out",
                             settings.SOURCE_NAME, path, contact_id)
                continue
            value = (contact.get("properties") or {}).get(settings.CONTACT_COMPANY_PROPERTY)
            try:
                self.companies[contact_id] = parse_value(value, "bigint")
            except PARSE_ERRORS:
                logger.warning(
                    "%s: contact %s has %s = %s, not a company id; its survey responses land "
                    "without a company",
                    settings.SOURCE_NAME, contact_id, settings.CONTACT_COMPANY_PROPERTY,
                    describe(value),
                )


def contact_id_of(record: Any) -> str | None:
    """The contact id of a feedback submission (`properties.hs_contact_id`) as `object_id`
    gives it, else None."""
    properties = record.get("properties") if isinstance(record, dict) else None
    return object_id(properties.get("hs_contact_id") if isinstance(properties, dict) else None)


def object_id(value: Any) -> str | None:
    """A HubSpot object id in one spelling (ASCII digits, no leading zeros: `"007"` and 7
    are `"7"`, as HubSpot answers it), or None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return str(int(value))
    return None
