"""The simulated HubSpot CRM v3 API: companies, deals, feedback submissions and contacts
(list, search and batch read).

Transport-free like :mod:`sandbox.zendesk_api`; :mod:`sandbox.server` routes
paths under ``/crm/`` here. What is served, per HubSpot's public reference:

* ``GET /crm/v3/objects/{companies|deals|feedback_submissions}`` with ``limit``
  (default 10, max 100), ``after``, ``properties`` (comma-separated or
  repeated), ``associations`` and ``archived`` → ``{"results": [...],
  "paging": {"next": {"after", "link"}}}`` (``paging`` only when there is a
  next page). Records are ``{"id", "properties", "createdAt", "updatedAt",
  "archived"}`` (plus ``archivedAt`` when archived and ``associations`` when
  asked for and present); every property value is a string, unset ones
  ``null``. Object types are also accepted singular (``deal``,
  ``feedback_submission``) and by object type id (``0-2``, ``0-3``, ``0-19``).
* ``POST /crm/v3/objects/{type}/search`` with ``filterGroups``, ``sorts``,
  ``properties``, ``limit`` (max 200) and ``after`` → ``{"total", "results",
  "paging"}``; at most 10,000 results per query (an ``after`` of 10,000 or
  more is a 400).
* Feedback submissions (survey responses, ``World.survey_responses``): HubSpot's
  ``hs_survey_id``, ``hs_survey_name``, ``hs_survey_type`` (NPS, CSAT, CES,
  CUSTOM), ``hs_survey_channel``, ``hs_value``, ``hs_response_group``
  (PROMOTER, PASSIVE, DETRACTOR), ``hs_submission_timestamp``,
  ``hs_contact_id``, ``hs_content``; they carry ``hs_createdate`` (not
  ``createdate``), ``hs_lastmodifieddate`` and ``hs_object_id``, which are
  also the defaults. ``associations=contacts`` lists the responding contact
  (``feedback_submission_to_contact``).
* Contacts (``World.crm_contacts``, object type ``0-1``): ``associatedcompanyid`` (the
  primary company), ``createdate``, ``lastmodifieddate`` (not ``hs_lastmodifieddate``)
  and ``hs_object_id``, the last three always returned and the defaults.
  ``associations=companies`` on the list lists the primary company
  (``contact_to_company`` and ``contact_to_company_unlabeled``).
* ``POST /crm/v3/objects/{type}/batch/read`` (any served type; the connector reads
  contacts) with ``{"properties", "inputs": [{"id"}], "propertiesWithHistory"?,
  "idProperty"?}`` and ``?archived=``: at most 100 inputs (50 with
  ``propertiesWithHistory``; more → 400 ``VALIDATION_ERROR``), by internal id only
  (another ``idProperty`` → 400). Answer 200 ``{"status": "COMPLETE", "results",
  "startedAt", "completedAt"}``, each id once; when some ids are not found (archived
  records are not found unless ``archived=true``, which finds only archived ones) 207 with
  ``"numErrors"`` and one ``OBJECT_NOT_FOUND`` error naming them under ``context.ids``.
* Auth ``Authorization: Bearer <private-app token>``; otherwise 401 with
  HubSpot's JSON error (``category: INVALID_AUTHENTICATION``). A token without
  an object type's read scope (``missing_scopes``, e.g.
  ``crm.objects.feedback_submissions.read``) gets 403 ``MISSING_SCOPES`` with
  the scope under ``errors[].context.requiredGranularScopes``.
* Rate limits: a rolling 10-second burst window (default 100 requests, the
  documented private-app limit of Free/Starter accounts; 190 for
  Professional/Enterprise), an optional daily limit, and the search
  endpoints' own per-second limit (default 5). Over a limit → 429 with
  HubSpot's JSON body (``"errorType": "RATE_LIMIT"``, ``"category":
  "RATE_LIMITS"``, ``policyName``) and ``Retry-After``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from sandbox.crm_common import (
    CrmRequest,
    VendorResponse,
    bearer_token,
    company_updated,
    deal_updated,
    epoch_ms,
    plain_number,
    utc,
)
from sandbox.limits import SlidingWindowLimiter
from sandbox.world import (
    CrmCompany,
    CrmContact,
    Deal,
    SurveyResponse,
    World,
    survey_response_group,
)

DEFAULT_HUBSPOT_TOKEN = "pat-na1-sandbox-7c2f9e4a-1b3d-4e5f-8a6b-0c9d8e7f6a5b"  # noqa: S105 - fake
#: Largest ``limit`` of the list endpoints / of search.
LIST_MAX_LIMIT = 100
SEARCH_MAX_LIMIT = 200
#: Search returns at most this many results for one query.
SEARCH_RESULT_CAP = 10_000
#: Most inputs of one batch read, and of one asking for ``propertiesWithHistory``.
BATCH_MAX_INPUTS = 100
BATCH_HISTORY_MAX_INPUTS = 50
#: Properties every response carries whatever was asked for (companies and deals).
ALWAYS_PROPERTIES = ("createdate", "hs_lastmodifieddate", "hs_object_id")
#: The same per object type: feedback submissions have ``hs_createdate``, not ``createdate``.
ALWAYS_PROPERTIES_BY_TYPE = {
    "companies": ALWAYS_PROPERTIES,
    "deals": ALWAYS_PROPERTIES,
    "feedback_submissions": ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
    "contacts": ("createdate", "lastmodifieddate", "hs_object_id"),
}
#: Properties returned when none are requested (HubSpot's defaults).
DEFAULT_PROPERTIES = {
    "companies": ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    "deals": ("amount", "closedate", "createdate", "dealname", "dealstage",
              "hs_lastmodifieddate", "hs_object_id", "pipeline"),
    "feedback_submissions": ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
    # HubSpot's defaults also name email, firstname and lastname, which the sandbox lacks
    "contacts": ("createdate", "hs_object_id", "lastmodifieddate"),
}
DATETIME_PROPERTIES = {"createdate", "hs_createdate", "hs_lastmodifieddate", "closedate",
                       "hs_submission_timestamp", "lastmodifieddate"}
NUMBER_PROPERTIES = {"amount", "hs_mrr", "contract_term_months", "hs_object_id", "hs_value",
                     "hs_survey_id", "hs_contact_id", "associatedcompanyid"}
#: Association type names of the v3 list endpoints: an association with the primary label
#: is listed twice, labelled and unlabelled, with the same id (as HubSpot lists it).
ASSOCIATION_TYPES = {("deals", "companies"): ("deal_to_company", "deal_to_company_unlabeled"),
                     ("companies", "deals"): ("company_to_deal", "company_to_deal_unlabeled"),
                     ("feedback_submissions", "contacts"): ("feedback_submission_to_contact",),
                     ("contacts", "companies"): ("contact_to_company",
                                                 "contact_to_company_unlabeled")}
OBJECT_ALIASES = {"companies": "companies", "company": "companies", "0-2": "companies",
                  "deals": "deals", "deal": "deals", "0-3": "deals",
                  "feedback_submissions": "feedback_submissions",
                  "feedback_submission": "feedback_submissions",
                  "0-19": "feedback_submissions",
                  "contacts": "contacts", "contact": "contacts", "0-1": "contacts"}
#: Association targets (``associations=``): the served objects.
ASSOCIATION_ALIASES = OBJECT_ALIASES
#: The read scope a private app needs per object type.
READ_SCOPES = {"companies": "crm.objects.companies.read", "deals": "crm.objects.deals.read",
               "feedback_submissions": "crm.objects.feedback_submissions.read",
               "contacts": "crm.objects.contacts.read"}
#: HubSpot's name of an object type in batch errors ("Could not get some CONTACT objects").
BATCH_OBJECT_NAMES = {"companies": "COMPANY", "deals": "DEAL",
                      "feedback_submissions": "FEEDBACK_SUBMISSION", "contacts": "CONTACT"}
SCOPES_LINK = "https://developers.hubspot.com/scopes"

Record = CrmCompany | Deal | SurveyResponse | CrmContact


def hs_time(moment: datetime, milliseconds: bool = False) -> str:
    """HubSpot's timestamp format: ``2024-03-04T14:00:00Z`` / ``...:00.123Z``;
    `milliseconds`: always with them (a batch answer's ``startedAt`` / ``completedAt``)."""
    moment = utc(moment)
    ms = moment.microsecond // 1000
    base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{ms:03d}Z" if ms or milliseconds else f"{base}Z"


def company_properties(company: CrmCompany) -> dict[str, str | None]:
    """Every property the sandbox knows for a company, as HubSpot strings."""
    return {
        "name": company.name,
        "domain": company.domain,
        "industry": company.industry,
        "createdate": hs_time(company.created_at),
        "hs_lastmodifieddate": hs_time(company_updated(company)),
        "hs_object_id": str(company.id),
    }


def deal_properties(deal: Deal) -> dict[str, str | None]:
    """Every property the sandbox knows for a deal, as HubSpot strings."""
    closed = deal.stage in ("closedwon", "closedlost")
    return {
        "dealname": deal.name,
        "amount": None if deal.amount is None else plain_number(deal.amount),
        "closedate": f"{deal.close_date.isoformat()}T00:00:00Z",
        "dealstage": deal.stage,
        "pipeline": "default",
        "hs_mrr": None if deal.mrr is None else plain_number(deal.mrr),
        "contract_term_months": None if deal.term_months is None else str(deal.term_months),
        "hs_is_closed": "true" if closed else "false",
        "hs_is_closed_won": "true" if deal.stage == "closedwon" else "false",
        "createdate": hs_time(deal.created_at),
        "hs_lastmodifieddate": hs_time(deal_updated(deal)),
        "hs_object_id": str(deal.id),
    }


def survey_created(response: SurveyResponse) -> datetime:
    """Creation of a feedback submission (``created_at``, else ``submitted_at``)."""
    return response.created_at or response.submitted_at


def feedback_submission_properties(response: SurveyResponse) -> dict[str, str | None]:
    """Every property the sandbox knows for a feedback submission, as HubSpot strings."""
    group = response.response_group or survey_response_group(response.survey_type,
                                                              response.value)
    return {
        "hs_survey_id": str(response.survey_id),
        "hs_survey_name": response.survey_name,
        "hs_survey_type": response.survey_type,
        "hs_survey_channel": response.channel,
        "hs_value": None if response.value is None else str(response.value),
        "hs_response_group": group,
        "hs_submission_timestamp": hs_time(response.submitted_at),
        "hs_contact_id": None if response.contact_id is None else str(response.contact_id),
        "hs_content": response.content,
        "hs_createdate": hs_time(survey_created(response)),
        "hs_lastmodifieddate": hs_time(record_updated(response)),
        "hs_object_id": str(response.id),
    }


def contact_properties(contact: CrmContact) -> dict[str, str | None]:
    """Every property the sandbox knows for a contact, as HubSpot strings."""
    return {
        "associatedcompanyid": None if contact.company_id is None else str(contact.company_id),
        "createdate": hs_time(contact.created_at),
        "lastmodifieddate": hs_time(record_updated(contact)),
        "hs_object_id": str(contact.id),
    }


def record_created(record: Record) -> datetime:
    """``createdAt`` of any served record."""
    if isinstance(record, SurveyResponse):
        return survey_created(record)
    return record.created_at


def record_updated(record: Record) -> datetime:
    """``updatedAt`` of any served record: its ``updated_at``, else its creation."""
    return record.updated_at or record_created(record)


def error_body(message: str, category: str, **extra: Any) -> dict[str, Any]:
    """HubSpot's error envelope."""
    return {"status": "error", "message": message, "correlationId": str(uuid.uuid4()),
            "category": category, **extra}


def missing_scopes_body(*scopes: str) -> dict[str, Any]:
    """HubSpot's 403 body for a token without a scope the call needs."""
    return error_body(
        "This app hasn't been granted all required scopes to make this call. Read more about "
        f"required scopes here: {SCOPES_LINK}.", "MISSING_SCOPES",
        errors=[{"message": "One or more of the following scopes are required.",
                 "context": {"requiredGranularScopes": list(scopes)}}],
        links={"scopes": SCOPES_LINK})


class HubSpotError(Exception):
    """An error answer with HubSpot's JSON body."""

    def __init__(self, status: int, message: str, category: str = "VALIDATION_ERROR",
                 body: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body if body is not None else error_body(message, category)


def encode_after(record_id: int) -> str:
    """Opaque list cursor (base64 of the last id served)."""
    return base64.urlsafe_b64encode(f"{record_id}\n".encode()).decode()


def decode_after(token: str) -> int:
    """Inverse of :func:`encode_after`; a bare id is accepted too."""
    if token.isdigit():
        return int(token)
    try:
        return int(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().strip())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise HubSpotError(400, f"Invalid after cursor: {token}") from None


def _split(values: Iterable[str]) -> list[str]:
    """Names from repeated and/or comma-separated parameters, in order, without duplicates."""
    out: list[str] = []
    for value in values:
        for name in value.split(","):
            name = name.strip()
            if name and name not in out:
                out.append(name)
    return out


class HubSpotApi:
    """The HubSpot CRM v3 endpoints the sandbox serves, with HubSpot's auth and limits."""

    prefixes = ("/crm/",)

    def __init__(self, world: World, token: str = DEFAULT_HUBSPOT_TOKEN,
                 rate_limit_per_10s: int | None = 100, daily_limit: int | None = None,
                 search_rate_limit_per_second: int | None = 5,
                 clock: Callable[[], float] = time.monotonic,
                 missing_scopes: Iterable[str] = ()) -> None:
        self.world = world
        self.token = token
        #: Object types whose read scope the token lacks (any alias): their requests are 403.
        self.missing_scopes: set[str] = set()
        for name in [missing_scopes] if isinstance(missing_scopes, str) else missing_scopes:
            object_type = OBJECT_ALIASES.get(name.strip().lower())
            if object_type is None:
                raise ValueError(f"unknown HubSpot object type {name!r}; expected one of "
                                 f"{', '.join(sorted(OBJECT_ALIASES))}")
            self.missing_scopes.add(object_type)
        self.burst = SlidingWindowLimiter(rate_limit_per_10s, window=10.0, clock=clock)
        self.daily = SlidingWindowLimiter(daily_limit, window=86_400.0, clock=clock)
        self.search_limiter = SlidingWindowLimiter(search_rate_limit_per_second, window=1.0,
                                                   clock=clock)
        self.companies = sorted(world.crm_companies, key=lambda c: c.id)
        self.deals = sorted(world.deals, key=lambda d: d.id)
        self.feedback_submissions = sorted(world.survey_responses, key=lambda r: r.id)
        self.contacts = sorted(world.crm_contacts, key=lambda c: c.id)
        self.company_ids = {c.id for c in self.companies if not c.archived}
        self.deals_by_company: dict[int, list[int]] = {}
        for d in self.deals:
            if d.company_id is not None and not d.archived:
                self.deals_by_company.setdefault(d.company_id, []).append(d.id)
        self.fault_bodies = {
            401: self.unauthorized().body,
            403: missing_scopes_body(),
            404: error_body("Resource not found", "OBJECT_NOT_FOUND"),
            429: error_body("You have reached your ten_secondly_rolling limit.", "RATE_LIMITS",
                            errorType="RATE_LIMIT", policyName="TEN_SECONDLY_ROLLING"),
            500: error_body("internal error", "INTERNAL_ERROR"),
            502: error_body("Bad gateway", "BAD_GATEWAY"),
            503: error_body("Service unavailable, please retry", "SERVICE_UNAVAILABLE"),
            504: error_body("Gateway timeout", "GATEWAY_TIMEOUT"),
        }

    # -- auth and limits ----------------------------------------------------------------------

    def authenticate(self, header: str | None) -> bool:
        """Whether the header is ``Bearer <the private-app token>``."""
        return bearer_token(header) == self.token

    def unauthorized(self) -> VendorResponse:
        """HubSpot's 401 answer."""
        return VendorResponse(401, error_body(
            "Authentication credentials not found. This API supports OAuth 2.0 authentication "
            "and you can find more details at "
            "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
            "INVALID_AUTHENTICATION"))

    def reset_rate_limits(self) -> None:
        """Forget counted requests."""
        self.burst.reset()
        self.daily.reset()
        self.search_limiter.reset()

    def rate_limit(self, request: CrmRequest) -> tuple[VendorResponse | None, dict[str, str]]:
        """Count a request against the limits; a 429 when over one, plus rate-limit headers."""
        is_search = request.path.rstrip("/").endswith("/search")
        headers: dict[str, str] = {}
        if is_search:
            ok, _, wait = self.search_limiter.acquire()
            if not ok:
                return self._too_many("SECONDLY", "You have reached your secondly limit.",
                                      wait, {}), {}
        ok_daily, daily_remaining, daily_wait = self.daily.acquire()
        if self.daily.limit is not None and not is_search:
            headers["X-HubSpot-RateLimit-Daily"] = str(self.daily.limit)
            headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(daily_remaining)
        if not ok_daily:
            return self._too_many("DAILY", "You have reached your daily limit.", daily_wait,
                                  headers), headers
        ok, remaining, wait = self.burst.acquire()
        if self.burst.limit is not None and not is_search:
            # HubSpot leaves these headers off search responses
            headers.update({
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                "X-HubSpot-RateLimit-Max": str(self.burst.limit),
                "X-HubSpot-RateLimit-Remaining": str(remaining),
                "X-HubSpot-RateLimit-Secondly": str(max(1, self.burst.limit // 10)),
                "X-HubSpot-RateLimit-Secondly-Remaining": str(max(0, remaining // 10)),
            })
        if not ok:
            return self._too_many("TEN_SECONDLY_ROLLING",
                                  "You have reached your ten_secondly_rolling limit.", wait,
                                  headers), headers
        return None, headers

    def _too_many(self, policy: str, message: str, wait: int,
                  headers: dict[str, str]) -> VendorResponse:
        body = error_body(message, "RATE_LIMITS", errorType="RATE_LIMIT", policyName=policy,
                          requestId=str(uuid.uuid4()))
        return VendorResponse(429, body, {**headers, "Retry-After": str(wait)})

    # -- routing ------------------------------------------------------------------------------

    _OBJECTS = re.compile(r"/crm/v3/objects/([^/]+)")
    _SEARCH = re.compile(r"/crm/v3/objects/([^/]+)/search")
    _BATCH_READ = re.compile(r"/crm/v3/objects/([^/]+)/batch/read")

    def handle(self, request: CrmRequest) -> VendorResponse:
        """Answer one request under ``/crm/``."""
        path = request.path.rstrip("/")
        try:
            if (match := self._SEARCH.fullmatch(path)) is not None:
                if request.method != "POST":
                    raise HubSpotError(405, f"{request.method} is not allowed here")
                return self.search(self._allowed(self._object(match.group(1))), request)
            if (match := self._BATCH_READ.fullmatch(path)) is not None:
                if request.method != "POST":
                    raise HubSpotError(405, f"{request.method} is not allowed here")
                return self.batch_read(self._allowed(self._object(match.group(1))), request)
            if (match := self._OBJECTS.fullmatch(path)) is not None:
                if request.method != "GET":
                    raise HubSpotError(405, f"{request.method} is not supported by the sandbox")
                return self.list_objects(self._allowed(self._object(match.group(1))), request)
        except HubSpotError as exc:
            return VendorResponse(exc.status, exc.body)
        return VendorResponse(404, error_body(f"Resource not found: {request.path}",
                                              "OBJECT_NOT_FOUND"))

    @staticmethod
    def _object(name: str) -> str:
        object_type = OBJECT_ALIASES.get(name.lower())
        if object_type is None:
            raise HubSpotError(400, f"Unable to infer object type from: {name}")
        return object_type

    def _allowed(self, object_type: str) -> str:
        """``object_type``, unless the token lacks its read scope (403 MISSING_SCOPES)."""
        if object_type in self.missing_scopes:
            body = missing_scopes_body(READ_SCOPES[object_type])
            raise HubSpotError(403, body["message"], body=body)
        return object_type

    def _records(self, object_type: str) -> list[Record]:
        if object_type == "companies":
            return list(self.companies)
        if object_type == "deals":
            return list(self.deals)
        if object_type == "contacts":
            return list(self.contacts)
        return list(self.feedback_submissions)

    def _properties(self, object_type: str, record: Record) -> dict[str, str | None]:
        if object_type == "companies":
            return company_properties(record)  # type: ignore[arg-type]
        if object_type == "deals":
            return deal_properties(record)  # type: ignore[arg-type]
        if object_type == "contacts":
            return contact_properties(record)  # type: ignore[arg-type]
        return feedback_submission_properties(record)  # type: ignore[arg-type]

    def _render(self, object_type: str, record: Record, wanted: list[str] | None,
                associations: list[str]) -> dict[str, Any]:
        known = self._properties(object_type, record)
        always = ALWAYS_PROPERTIES_BY_TYPE[object_type]
        names = list(DEFAULT_PROPERTIES[object_type]) if not wanted else \
            [*wanted, *(p for p in always if p not in wanted)]
        updated = record_updated(record)
        item: dict[str, Any] = {
            "id": str(record.id),
            "properties": {name: known[name] for name in names if name in known},
            "createdAt": hs_time(record_created(record)),
            "updatedAt": hs_time(updated),
            "archived": record.archived,
        }
        if record.archived:
            archived_at = getattr(record, "archived_at", None) or updated
            item["archivedAt"] = hs_time(archived_at)
        assoc: dict[str, Any] = {}
        for target in associations:
            ids = self._associated(object_type, record, target)
            if ids:
                kinds = ASSOCIATION_TYPES[(object_type, target)]
                assoc[target] = {"results": [{"id": str(i), "type": kind}
                                             for i in ids for kind in kinds]}
        if assoc:
            item["associations"] = assoc
        return item

    def _associated(self, object_type: str, record: Record, target: str) -> list[int]:
        if object_type == "deals" and target == "companies":
            company_id = record.company_id  # type: ignore[union-attr]
            return [company_id] if company_id in self.company_ids else []
        if object_type == "companies" and target == "deals":
            return self.deals_by_company.get(record.id, [])
        if object_type == "contacts" and target == "companies":
            company_id = record.company_id  # type: ignore[union-attr]
            return [company_id] if company_id in self.company_ids else []
        if object_type == "feedback_submissions" and target == "contacts":
            contact_id = record.contact_id  # type: ignore[union-attr]
            return [] if contact_id is None else [contact_id]
        return []

    # -- endpoints ----------------------------------------------------------------------------

    def list_objects(self, object_type: str, request: CrmRequest) -> VendorResponse:
        """``GET /crm/v3/objects/{type}``: pages of records in id order."""
        query = request.query
        limit = self._int(query, "limit", 10)
        limit = max(1, min(LIST_MAX_LIMIT, limit))
        wanted = _split(query.get("properties", []))
        associations = [ASSOCIATION_ALIASES[a.lower()]
                        for a in _split(query.get("associations", []))
                        if a.lower() in ASSOCIATION_ALIASES]
        archived = self._archived(query)
        after_raw = (query.get("after") or [""])[-1]
        after = decode_after(after_raw) if after_raw else None
        records = [r for r in self._records(object_type) if r.archived == archived
                   and (after is None or r.id > after)]
        page = records[:limit]
        body: dict[str, Any] = {
            "results": [self._render(object_type, r, wanted, associations) for r in page]}
        if len(records) > limit:
            token = encode_after(page[-1].id)
            keep = [(k, v) for k in ("limit", "properties", "associations", "archived")
                    for v in query.get(k, [])]
            qs = "&".join(f"{k}={quote(v, safe=',')}" for k, v in [*keep, ("after", token)])
            body["paging"] = {"next": {
                "after": token, "link": f"{request.base_url}{request.path.rstrip('/')}?{qs}"}}
        return VendorResponse(200, body)

    @staticmethod
    def _archived(query: dict[str, list[str]]) -> bool:
        raw = (query.get("archived") or ["false"])[-1].lower()
        if raw not in ("true", "false"):
            raise HubSpotError(400, f"Invalid value for archived: {raw}")
        return raw == "true"

    @staticmethod
    def _int(query: dict[str, list[str]], name: str, default: int) -> int:
        raw = (query.get(name) or [""])[-1]
        if raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise HubSpotError(400, f"Invalid value for {name}: {raw}") from None

    def search(self, object_type: str, request: CrmRequest) -> VendorResponse:
        """``POST /crm/v3/objects/{type}/search``: filter, sort, page (10,000 results max)."""
        try:
            spec = json.loads(request.body or b"{}")
        except ValueError:
            raise HubSpotError(400, "Invalid input JSON on line 1") from None
        if not isinstance(spec, dict):
            raise HubSpotError(400, "Invalid input JSON: expected an object")
        limit = spec.get("limit", 10)
        try:
            limit = max(1, min(SEARCH_MAX_LIMIT, int(limit)))
            offset = int(spec.get("after") or 0)
        except (TypeError, ValueError):
            raise HubSpotError(400, "limit and after must be integers") from None
        if offset >= SEARCH_RESULT_CAP:
            raise HubSpotError(400, f"The search endpoints return at most {SEARCH_RESULT_CAP} "
                               "results per query; narrow the query (e.g. on "
                               "hs_lastmodifieddate) instead of paging further")
        groups = spec.get("filterGroups") or []
        if len(groups) > 5 or sum(len(g.get("filters") or []) for g in groups) > 25 or \
                any(len(g.get("filters") or []) > 10 for g in groups):
            raise HubSpotError(400, "Too many filter groups or filters (max 5 groups, 10 "
                               "filters per group, 25 filters in total)")
        records = [r for r in self._records(object_type) if not r.archived]
        rows = [(r, self._properties(object_type, r)) for r in records]
        if groups:
            rows = [(r, p) for r, p in rows if any(all(_matches(p, f) for f in g.get("filters")
                                                       or []) for g in groups)]
        for prop, descending in reversed(_sorts(spec.get("sorts") or [])):
            rows.sort(key=lambda rp, prop=prop: _sort_key(rp[1].get(prop), prop),
                      reverse=descending)
        total = len(rows)
        page = rows[offset:offset + limit]
        wanted = [str(p) for p in spec.get("properties") or []]
        body: dict[str, Any] = {
            "total": total,
            "results": [self._render(object_type, r, wanted, []) for r, _ in page]}
        if offset + limit < total:
            body["paging"] = {"next": {"after": str(offset + limit)}}
        return VendorResponse(200, body)

    def batch_read(self, object_type: str, request: CrmRequest) -> VendorResponse:
        """``POST /crm/v3/objects/{type}/batch/read``: the records of up to 100 ids; 207 with
        an ``OBJECT_NOT_FOUND`` error naming the ids not found."""
        started = datetime.now(UTC)
        archived = self._archived(request.query)
        try:
            spec = json.loads(request.body or b"{}")
        except ValueError:
            raise HubSpotError(400, "Invalid input JSON on line 1") from None
        inputs = spec.get("inputs") if isinstance(spec, dict) else None
        if not isinstance(inputs, list):
            raise HubSpotError(400, "Invalid input JSON: inputs must be a list of {\"id\": ...}")
        id_property = spec.get("idProperty")
        if id_property not in (None, "", "hs_object_id"):
            raise HubSpotError(400, f"idProperty {id_property} is not supported by the "
                               "sandbox: batch read by internal id (hs_object_id) only")
        with_history = [str(p) for p in spec.get("propertiesWithHistory") or []]
        cap = BATCH_HISTORY_MAX_INPUTS if with_history else BATCH_MAX_INPUTS
        if len(inputs) > cap:
            what = "a batch request for property histories" if with_history else "a batch"
            raise HubSpotError(400, f"The maximum number of inputs supported in {what} is "
                               f"{cap}. Please reduce the number of items and try again")
        ids: list[str] = []
        for item in inputs:
            raw = item.get("id") if isinstance(item, dict) else None
            if raw is None or isinstance(raw, bool | dict | list):
                raise HubSpotError(400, f"Invalid input: {item!r} has no id")
            if str(raw) not in ids:  # each id once, however often it is asked for
                ids.append(str(raw))
        by_id = {str(r.id): r for r in self._records(object_type) if r.archived == archived}
        wanted = [str(p) for p in spec.get("properties") or []]
        results = [self._render(object_type, by_id[i], wanted, []) for i in ids if i in by_id]
        missing = [i for i in ids if i not in by_id]
        body: dict[str, Any] = {"status": "COMPLETE", "results": results}
        if missing:
            body["numErrors"] = 1
            body["errors"] = [{
                "status": "error", "category": "OBJECT_NOT_FOUND",
                "message": f"Could not get some {BATCH_OBJECT_NAMES[object_type]} objects, they "
                           "may be deleted or not exist. Check that ids are valid.",
                "context": {"ids": missing}}]
        body["startedAt"] = hs_time(started, milliseconds=True)
        body["completedAt"] = hs_time(datetime.now(UTC), milliseconds=True)
        return VendorResponse(207 if missing else 200, body)


def _sorts(raw: list[Any]) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    for item in raw:
        if isinstance(item, str):
            out.append((item.lstrip("-"), item.startswith("-")))
        elif isinstance(item, dict) and item.get("propertyName"):
            direction = str(item.get("direction", "ASCENDING")).upper()
            out.append((str(item["propertyName"]), direction == "DESCENDING"))
        else:
            raise HubSpotError(400, f"Invalid sort: {item!r}")
    return out


def _typed(value: Any, prop: str) -> Any:
    """A filter or property value in a comparable form for ``prop``."""
    if value is None:
        return None
    text = str(value)
    if prop in DATETIME_PROPERTIES:
        if text.lstrip("-").isdigit():
            return int(text)
        try:
            return epoch_ms(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            raise HubSpotError(400, f"{text} is not a valid datetime for {prop}") from None
    if prop in NUMBER_PROPERTIES:
        try:
            return float(text)
        except ValueError:
            raise HubSpotError(400, f"{text} is not a valid number for {prop}") from None
    return text.lower()


def _sort_key(value: Any, prop: str) -> tuple[int, Any]:
    typed = _typed(value, prop)
    return (1, 0) if typed is None else (0, typed)


def _matches(properties: dict[str, str | None], spec: dict[str, Any]) -> bool:
    prop = str(spec.get("propertyName") or "")
    operator = str(spec.get("operator") or "EQ").upper()
    actual = _typed(properties.get(prop), prop)
    if operator == "HAS_PROPERTY":
        return actual is not None
    if operator == "NOT_HAS_PROPERTY":
        return actual is None
    if operator in ("IN", "NOT_IN"):
        values = {_typed(v, prop) for v in spec.get("values") or []}
        return (actual in values) == (operator == "IN")
    value = _typed(spec.get("value"), prop)
    if operator == "BETWEEN":
        high = _typed(spec.get("highValue"), prop)
        return actual is not None and value is not None and high is not None \
            and value <= actual <= high
    if operator == "NEQ":
        return actual != value
    if actual is None or value is None:
        return False
    comparisons = {"EQ": actual == value, "LT": actual < value, "LTE": actual <= value,
                   "GT": actual > value, "GTE": actual >= value}
    if operator not in comparisons:
        raise HubSpotError(400, f"Unsupported operator {operator}")
    return comparisons[operator]
