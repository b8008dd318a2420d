"""The sandbox HTTP server: auth, rate limits, fault injection and request recording.

Zendesk is served under ``/api/v2/``; HubSpot CRM v3 under ``/crm/``
(:mod:`sandbox.hubspot_api`), Salesforce REST under ``/services/data/``
(:mod:`sandbox.salesforce_api`), Intercom (2.11) under ``/conversations``,
``/admins``, ``/teams`` and ``/me`` (:mod:`sandbox.intercom_api`) and Freshdesk (API v2)
under ``/freshdesk/`` (:mod:`sandbox.freshdesk_api`: ``{url}/freshdesk`` stands in for
``https://{domain}.freshdesk.com``), each with its own auth, limits and error bodies.

Usage::

    with Sandbox(world) as sb:
        requests.get(f"{sb.url}/api/v2/groups.json", auth=(f"{email}/token", token))

Auth is HTTP Basic ``{email}/token:{api_token}`` or ``Authorization: Bearer
{oauth_token}``; anything else is 401 ``{"error": "Couldn't authenticate you"}``.
``POST /__sandbox/faults`` (JSON with the fields of :meth:`Sandbox.inject_fault`)
queues a fault over HTTP; ``GET`` lists them, ``DELETE`` clears them. Control
requests need no auth and are neither recorded nor rate limited.

Faults (:mod:`sandbox.limits`) apply to every vendor's paths alike, each with the
vendor's own error bodies, record lists and cursors (the ``*_FAULTS`` profiles
below). ``status``, ``reset``, ``timeout`` and ``expired_cursor`` answer before
auth and rate limits; ``truncated``, ``repeat_page`` and ``bad_record`` alter the
real answer (which went through auth and limits as usual).
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import logging
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

import orjson

from sandbox.crm_common import CrmRequest, VendorApi, VendorResponse
from sandbox.freshdesk_api import (
    DEFAULT_FRESHDESK_API_KEY,
    DOCUMENTED_RATE_LIMIT_PER_MINUTE,
    S3_ACCESS_DENIED,
    FreshdeskApi,
)
from sandbox.freshdesk_api import error as freshdesk_error
from sandbox.hubspot_api import DEFAULT_HUBSPOT_TOKEN, HubSpotApi, error_body
from sandbox.intercom_api import DEFAULT_INTERCOM_TOKEN, IntercomApi, error_list
from sandbox.limits import (
    DEFAULT_TIMEOUT_DELAY,
    IMMEDIATE_KINDS,
    Fault,
    FaultProfile,
    FaultRegistry,
    SlidingWindowLimiter,
    alter_record,
)
from sandbox.salesforce_api import DEFAULT_SALESFORCE_TOKEN, SalesforceApi, errors
from sandbox.world import World
from sandbox.zendesk_api import ApiResponse, ZendeskApi, is_incremental

log = logging.getLogger(__name__)

CONTROL_PREFIX = "/__sandbox/"
DEFAULT_EMAIL = "admin@sandbox.example"
DEFAULT_API_TOKEN = "sandbox-api-token-6f1c2b7e9d"  # noqa: S105 - a fake sandbox credential
DEFAULT_OAUTH_TOKEN = "sandbox-oauth-token-3a8e5d0c41"  # noqa: S105 - a fake sandbox credential


def _first(query: Mapping[str, list[str]], name: str) -> str:
    values = query.get(name) or [""]
    return values[-1]


def _zendesk_cursor(path: str, query: Mapping[str, list[str]], body: bytes) -> bool:
    """Cursor-based exports (``cursor=``) and cursor-paginated lists (``page[after]=``)."""
    return bool(_first(query, "cursor") or _first(query, "page[after]"))


def _zendesk_expired(path: str) -> tuple[int, Any]:
    """422 on the incremental exports, 400 on the lists (same error body)."""
    return (422 if is_incremental(path) else 400), {
        "error": "InvalidPaginationParameter",
        "description": "The cursor has expired or is invalid. Restart the export from a "
                       "start_time."}


def _body_field(body: bytes, *path: str) -> Any:
    """The value at `path` in a JSON request body (None when absent or not JSON)."""
    try:
        value = json.loads(body) if body else None
    except ValueError:
        return None
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _hubspot_cursor(path: str, query: Mapping[str, list[str]], body: bytes) -> bool:
    """``after=`` on the list endpoints, ``"after"`` in a search request's JSON body."""
    return bool(_first(query, "after") or _body_field(body, "after"))


def _hubspot_expired(path: str) -> tuple[int, Any]:
    return 400, error_body("Invalid paging cursor", "VALIDATION_ERROR")


_SALESFORCE_MORE = re.compile(r"/services/data/v\d+\.\d+/(?:query|queryAll)/[^/]+/?")


def _salesforce_cursor(path: str, query: Mapping[str, list[str]], body: bytes) -> bool:
    """A ``nextRecordsUrl`` (``/query/<locator>-<offset>``)."""
    return _SALESFORCE_MORE.fullmatch(path) is not None


def _salesforce_expired(path: str) -> tuple[int, Any]:
    return 400, errors("INVALID_QUERY_LOCATOR", "invalid query locator")


def _salesforce_stream(path: str, records: list[Any]) -> str:
    """Pages of one sObject form a stream: the first comes from ``/queryAll``, the rest
    from ``/query/<locator>``."""
    first = records[0] if records else None
    kind = first.get("attributes", {}).get("type") if isinstance(first, dict) else None
    return f"salesforce:{kind}" if kind else path


ZENDESK_FAULTS = FaultProfile(
    vendor="zendesk",
    record_keys=("tickets", "ticket_events", "users", "organizations", "groups",
                 "satisfaction_ratings", "calls", "schedules", "holidays"),
    id_field="id", timestamp_field="created_at",
    wrong_type_fields=("requester_id", "ticket_id", "organization_id", "user_id"),
    wrong_type_value={"unexpected": "object"},
    expired_cursor=_zendesk_expired, carries_cursor=_zendesk_cursor)
HUBSPOT_FAULTS = FaultProfile(
    vendor="hubspot", record_keys=("results",), id_field="id",
    timestamp_field="properties.createdate",
    wrong_type_fields=("properties.amount", "properties.hs_mrr", "properties.hs_value",
                       "archived"),
    wrong_type_value="twelve", expired_cursor=_hubspot_expired,
    carries_cursor=_hubspot_cursor)


def _intercom_cursor(path: str, query: Mapping[str, list[str]], body: bytes) -> bool:
    """``starting_after=`` on the list, ``pagination.starting_after`` in a search body."""
    return bool(_first(query, "starting_after")
                or _body_field(body, "pagination", "starting_after"))


def _intercom_expired(path: str) -> tuple[int, Any]:
    """Intercom documents no stale-cursor error: a 400 ``parameter_invalid``, as for any
    cursor it cannot read."""
    return 400, error_list("parameter_invalid", "starting_after is invalid or has expired")


SALESFORCE_FAULTS = FaultProfile(
    vendor="salesforce", record_keys=("records",), id_field="Id",
    timestamp_field="CreatedDate", wrong_type_fields=("Amount", "IsDeleted"),
    wrong_type_value="twelve", expired_cursor=_salesforce_expired,
    carries_cursor=_salesforce_cursor, stream_key=_salesforce_stream)
INTERCOM_FAULTS = FaultProfile(
    vendor="intercom", record_keys=("conversations", "admins", "teams"), id_field="id",
    timestamp_field="updated_at",
    wrong_type_fields=("admin_assignee_id", "team_ids", "admin_ids"),
    wrong_type_value="twelve", expired_cursor=_intercom_expired,
    carries_cursor=_intercom_cursor)


def _freshdesk_cursor(path: str, query: Mapping[str, list[str]], body: bytes) -> bool:
    """Freshdesk pages by number: a request for page 2 or later (or an export download,
    whose pre-signed link can expire) is the closest thing to a cursor."""
    if path.startswith("/freshdesk/exports/"):
        return True
    page = _first(query, "page")
    return page.isdigit() and int(page) > 1


def _freshdesk_expired(path: str) -> tuple[int, Any]:
    """An expired export link answers as S3 does (403 XML); a page as a 400 on ``page``."""
    if path.startswith("/freshdesk/exports/"):
        return 403, S3_ACCESS_DENIED
    return 400, freshdesk_error("page", "The page is no longer available; restart the "
                                "listing from page 1")


@dataclass(frozen=True)
class _ArrayFaultProfile(FaultProfile):
    """Freshdesk's lists are bare JSON arrays (the export download keeps its records under
    ``activities_data``)."""

    def record_list(self, body: Any) -> list[Any] | None:
        if isinstance(body, list):
            return body
        return FaultProfile.record_list(self, body)


FRESHDESK_FAULTS = _ArrayFaultProfile(
    vendor="freshdesk", record_keys=("activities_data",), id_field="id",
    timestamp_field="updated_at",
    wrong_type_fields=("requester_id", "user_id", "group_ids", "agent_ids", "ticket_id"),
    wrong_type_value="twelve", expired_cursor=_freshdesk_expired,
    carries_cursor=_freshdesk_cursor)


class RecordedRequest(NamedTuple):
    """One request the sandbox received: method, path and query (last value per name)."""

    method: str
    path: str
    query: dict[str, str]


class Sandbox:
    """A local Zendesk API over a :class:`~sandbox.world.World`, served on a background thread.

    (HubSpot and Salesforce too; ``salesforce_custom_fields=False`` serves a Salesforce org
    without the custom field ``Contract_Term_Months__c``, see :mod:`sandbox.salesforce_api`;
    ``hubspot_missing_scopes`` names HubSpot object types, e.g. ``["contacts"]``,
    whose read scope the private-app token lacks: their requests answer 403
    ``MISSING_SCOPES``, see :mod:`sandbox.hubspot_api`; Intercom: ``intercom_access_token``
    and ``intercom_rate_limit_per_10s``, requests per 10-second window, ``None`` for no
    limit, see :mod:`sandbox.intercom_api`; Freshdesk: ``freshdesk_api_key``,
    ``freshdesk_rate_limit_per_minute`` (credits per minute, ``None`` for no limit),
    ``freshdesk_activity_export=False`` for an account without the ticket activities export
    (403), ``freshdesk_export_retention_days`` (older daily exports are gone) and
    ``freshdesk_export_delay_seconds`` (how long after its UTC day a daily export appears), see
    :mod:`sandbox.freshdesk_api`.)
    ``zendesk_rating_time_field="created_at"``: the satisfaction ratings list's
    ``start_time`` / ``end_time`` compare the creation time instead of the last update.
    """

    def __init__(self, world: World, host: str = "127.0.0.1", port: int = 0,
                 rate_limit_per_minute: int | None = 700,
                 incremental_rate_limit_per_minute: int | None = 10,
                 email: str = DEFAULT_EMAIL, api_token: str = DEFAULT_API_TOKEN,
                 oauth_token: str = DEFAULT_OAUTH_TOKEN,
                 clock: Callable[[], float] = time.time,
                 hubspot_access_token: str = DEFAULT_HUBSPOT_TOKEN,
                 hubspot_rate_limit_per_10s: int | None = 100,
                 hubspot_daily_limit: int | None = None,
                 hubspot_search_rate_limit_per_second: int | None = 5,
                 hubspot_missing_scopes: Iterable[str] = (),
                 salesforce_access_token: str = DEFAULT_SALESFORCE_TOKEN,
                 salesforce_daily_request_limit: int | None = 100_000,
                 salesforce_batch_size: int = 2000,
                 salesforce_custom_fields: bool = True,
                 zendesk_rating_time_field: str = "updated_at",
                 intercom_access_token: str = DEFAULT_INTERCOM_TOKEN,
                 intercom_rate_limit_per_10s: int | None = 1000,
                 freshdesk_api_key: str = DEFAULT_FRESHDESK_API_KEY,
                 freshdesk_rate_limit_per_minute: int | None =
                 DOCUMENTED_RATE_LIMIT_PER_MINUTE,
                 freshdesk_activity_export: bool = True,
                 freshdesk_export_retention_days: int | None = None,
                 freshdesk_export_delay_seconds: int = 0) -> None:
        self.world = world
        self.host = host
        self.port = port
        self.email = email
        self.api_token = api_token
        self.oauth_token = oauth_token
        self.api = ZendeskApi(world, clock=clock, admin_email=email,
                              rating_time_field=zendesk_rating_time_field)
        self.account_limiter = SlidingWindowLimiter(rate_limit_per_minute)
        self.incremental_limiter = SlidingWindowLimiter(incremental_rate_limit_per_minute)
        self.hubspot = HubSpotApi(world, hubspot_access_token, hubspot_rate_limit_per_10s,
                                  hubspot_daily_limit, hubspot_search_rate_limit_per_second,
                                  missing_scopes=hubspot_missing_scopes)
        self.salesforce = SalesforceApi(world, salesforce_access_token,
                                        salesforce_daily_request_limit, salesforce_batch_size,
                                        custom_fields=salesforce_custom_fields)
        self.intercom = IntercomApi(world, intercom_access_token, intercom_rate_limit_per_10s)
        self.freshdesk = FreshdeskApi(world, freshdesk_api_key, freshdesk_rate_limit_per_minute,
                                      clock=clock, activity_export=freshdesk_activity_export,
                                      export_retention_days=freshdesk_export_retention_days,
                                      export_delay_seconds=freshdesk_export_delay_seconds)
        self.vendors: list[VendorApi] = [self.hubspot, self.salesforce, self.intercom,
                                         self.freshdesk]
        self.faults = FaultRegistry()
        self._fault_profiles: list[tuple[VendorApi, FaultProfile]] = [
            (self.hubspot, HUBSPOT_FAULTS), (self.salesforce, SALESFORCE_FAULTS),
            (self.intercom, INTERCOM_FAULTS), (self.freshdesk, FRESHDESK_FAULTS)]
        self.requests: list[RecordedRequest] = []
        #: The last page (real records) served per stream, for ``repeat_page``.
        self._last_pages: dict[str, list[Any]] = {}
        self._pages_lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Bind the port and serve on a daemon thread (idempotent)."""
        if self._server is not None:
            return self
        self._stopping.clear()
        handler = type("SandboxHandler", (_Handler,), {"sandbox": self})
        server = ThreadingHTTPServer((self.host, self.port), handler)
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,),
                                        name="zendesk-sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is None:
            return
        self._stopping.set()  # ends the wait of any `timeout` fault in progress
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- public helpers -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (the real port once started)."""
        return f"http://{self.host}:{self.port}"

    @property
    def credentials(self) -> dict[str, str]:
        """Fake credentials the sandbox accepts.

        Zendesk: ``subdomain``, ``email``, ``api_token``, ``oauth_token``; HubSpot:
        ``hubspot_access_token``; Salesforce: ``salesforce_access_token`` and
        ``salesforce_instance_url`` (the sandbox URL); Intercom: ``intercom_access_token``;
        Freshdesk: ``freshdesk_api_key`` and ``freshdesk_base_url`` (``{url}/freshdesk``).
        """
        return {"subdomain": self.world.account_subdomain, "email": self.email,
                "api_token": self.api_token, "oauth_token": self.oauth_token,
                "hubspot_access_token": self.hubspot.token,
                "salesforce_access_token": self.salesforce.token,
                "salesforce_instance_url": self.url,
                "intercom_access_token": self.intercom.token,
                "freshdesk_api_key": self.freshdesk.api_key,
                "freshdesk_base_url": f"{self.url}/freshdesk"}

    def inject_fault(self, path_prefix: str, status: int | None = None, times: int = 1,
                     retry_after: int | None = None, body: str | None = None, *,
                     kind: str = "status", delay: float = DEFAULT_TIMEOUT_DELAY,
                     mode: str | None = None, field: str | None = None, value: Any = None,
                     record_index: int = 0) -> Fault:
        """Give the next ``times`` requests whose path starts with ``path_prefix`` a fault.

        ``kind`` is one of :data:`sandbox.limits.FAULT_KINDS` (default ``status``: answer
        ``status`` with the vendor's error body, or ``body``, plus ``Retry-After:
        retry_after`` when given). See docs/sandbox.md for each kind's fields. A bad
        combination raises ``ValueError``.
        """
        return self.faults.add(Fault(
            path_prefix=path_prefix, status=status, times=times, retry_after=retry_after,
            body=body, kind=kind, delay=delay, mode=mode, field=field, value=value,
            record_index=record_index))

    def clear_faults(self) -> None:
        """Drop all queued faults."""
        self.faults.clear()

    def reset_rate_limits(self) -> None:
        """Forget the requests counted by every rate limiter (Zendesk and every vendor)."""
        self.account_limiter.reset()
        self.incremental_limiter.reset()
        for vendor in self.vendors:
            vendor.reset_rate_limits()

    def vendor_for(self, path: str) -> VendorApi | None:
        """The vendor API (CRM, Intercom) serving ``path``, or ``None`` for Zendesk."""
        return next((v for v in self.vendors if path.startswith(v.prefixes)), None)

    def fault_profile(self, vendor: VendorApi | None) -> FaultProfile:
        """How faults see the answers of ``vendor`` (``None``: Zendesk)."""
        return next((profile for api, profile in self._fault_profiles if api is vendor),
                    ZENDESK_FAULTS)

    def wait_or_stop(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if the sandbox stops meanwhile."""
        self._stopping.wait(seconds)

    def faulted_body(self, fault: Fault | None, profile: FaultProfile, path: str,
                     body: Any) -> Any:
        """Remember a successful answer's records (for ``repeat_page``) and apply a
        ``repeat_page`` or ``bad_record`` fault to a copy of the body.

        The API's own objects are never altered (Salesforce keeps query snapshots).
        """
        records = profile.record_list(body)
        if records is None:
            return body
        key = profile.stream_key(path, records)
        with self._pages_lock:
            previous = self._last_pages.get(key)
            self._last_pages[key] = list(records)
        if fault is None or fault.kind not in ("repeat_page", "bad_record"):
            return body
        body = copy.deepcopy(body)
        altered = profile.record_list(body)
        assert altered is not None  # same shape as before the copy
        if fault.kind == "repeat_page":
            repeated = copy.deepcopy(previous if previous is not None else records)
            altered[:0] = repeated
            log.info("sandbox fault: %s repeats %d records", path, len(repeated))
        elif altered:
            index = min(fault.record_index, len(altered) - 1)
            if isinstance(altered[index], dict):
                done = alter_record(altered[index], fault, profile)
                log.info("sandbox fault: %s record %d: %s", path, index, done)
        return body

    # -- request handling (called from handler threads) ---------------------------------------

    def authenticate(self, header: str | None) -> bool:
        """Whether an ``Authorization`` header carries valid sandbox credentials."""
        if not header:
            return False
        scheme, _, value = header.strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer":
            return value == self.oauth_token
        if scheme.lower() != "basic":
            return False
        try:
            user, _, secret = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return user.lower() == f"{self.email.lower()}/token" and secret == self.api_token

    def rate_limit(self, path: str) -> tuple[ApiResponse | None, dict[str, str]]:
        """Count a request; return a 429 response if over a limit, plus rate-limit headers."""
        headers: dict[str, str] = {}
        allowed, remaining, reset = self.account_limiter.acquire()
        limit = self.account_limiter.limit
        if limit is not None:
            headers = {"x-rate-limit": str(limit), "x-rate-limit-remaining": str(remaining),
                       "ratelimit-limit": str(limit), "ratelimit-remaining": str(remaining),
                       "ratelimit-reset": str(reset)}
        if not allowed:
            headers["Retry-After"] = str(reset)
            return ApiResponse(429, {"error": "APIRateLimitExceeded", "description":
                                     "Number of allowed API requests per minute exceeded"},
                               headers), headers
        if is_incremental(path):
            ok, _, wait = self.incremental_limiter.acquire()
            if not ok:
                headers = {**headers, "Retry-After": str(wait)}
                return ApiResponse(429, {
                    "error": "APIRateLimitExceeded",
                    "description": "Number of allowed incremental export API requests per "
                                   "minute exceeded"}, headers), headers
        return None, headers

    def control(self, method: str, path: str, body: bytes) -> ApiResponse:
        """The ``/__sandbox/`` control endpoints."""
        if path.rstrip("/") != "/__sandbox/faults":
            return ApiResponse(404, {"error": "InvalidEndpoint", "description": "Not found"})
        if method == "GET":
            return ApiResponse(200, {"faults": [f.to_json() for f in self.faults.pending()]})
        if method == "DELETE":
            self.faults.clear()
            return ApiResponse(200, {"faults": []})
        if method != "POST":
            return ApiResponse(405, {"error": "MethodNotAllowed", "description": method})
        try:
            spec = json.loads(body or b"{}")
        except ValueError as exc:
            return ApiResponse(400, {"error": "InvalidValue",
                                     "description": f"the body is not JSON: {exc}"})
        try:
            fault = self.faults.add(Fault.from_spec(spec))
        except (ValueError, TypeError) as exc:
            return ApiResponse(400, {"error": "InvalidValue", "description": str(exc)})
        return ApiResponse(201, {"fault": fault.to_json()})


class _Handler(BaseHTTPRequestHandler):
    """Per-request handler; ``sandbox`` is bound by :meth:`Sandbox.start`."""

    sandbox: Sandbox
    protocol_version = "HTTP/1.1"
    server_version = "ZendeskSandbox/1.0"
    disable_nagle_algorithm = True  # headers and body go out as separate writes

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log.debug("sandbox: " + format, *args)

    def _dispatch(self, method: str) -> None:
        sb = self.sandbox
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        path = parts.path
        if path.startswith(CONTROL_PREFIX):
            self._send(sb.control(method, path, body))
            return
        query = parse_qs(parts.query, keep_blank_values=True)
        sb.requests.append(RecordedRequest(method, path, {k: v[-1] for k, v in query.items()}))
        vendor = sb.vendor_for(path)
        profile = sb.fault_profile(vendor)
        fault = sb.faults.take(path, profile.carries_cursor(path, query, body))
        if fault is not None and fault.kind in IMMEDIATE_KINDS:
            self._immediate_fault(fault, vendor, profile, path)
            return
        if vendor is not None:
            response = self._vendor(vendor, method, path, query, body)
        else:
            response = self._zendesk(method, path, query)
        if response.status == 200:
            response.body = sb.faulted_body(fault, profile, path, response.body)
        if fault is not None and fault.kind == "truncated":
            self._send_truncated(response)
            return
        self._send(response)

    def _immediate_fault(self, fault: Fault, vendor: VendorApi | None, profile: FaultProfile,
                         path: str) -> None:
        """Faults answered without asking the API: status, reset, timeout, expired cursor."""
        if fault.kind in ("reset", "timeout"):
            self.close_connection = True
        if fault.kind == "status":
            status = fault.status or 500
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None \
                else {}
            defaults = vendor.fault_bodies if vendor is not None else None
            self._send_raw(status, fault.response_body(defaults), headers)
        elif fault.kind == "expired_cursor":
            status, body = profile.expired_cursor(path)
            self._send(ApiResponse(status, body))
        elif fault.kind == "reset":
            # SO_LINGER on with a zero timeout: close() discards the connection with a RST
            # instead of the orderly FIN, as a crashed proxy or load balancer does.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
        else:  # timeout: the request was read; answer nothing, then hang up
            self.sandbox.wait_or_stop(fault.delay)

    def _zendesk(self, method: str, path: str,
                 query: dict[str, list[str]]) -> ApiResponse:
        """A Zendesk request: auth, limits, routes."""
        sb = self.sandbox
        if not sb.authenticate(self.headers.get("Authorization")):
            return ApiResponse(401, {"error": "Couldn't authenticate you"},
                               {"WWW-Authenticate": 'Basic realm="Web Password"'})
        limited, headers = sb.rate_limit(path)
        if limited is not None:
            return limited
        host = self.headers.get("Host") or f"{sb.host}:{sb.port}"
        try:
            response = sb.api.handle(method, path, query, f"http://{host}")
        except Exception:  # pragma: no cover - a sandbox bug must not kill the thread
            log.exception("sandbox failed on %s %s", method, self.path)
            response = ApiResponse(500, {"error": "InternalServerError",
                                         "description": "Sandbox error"})
        response.headers = {**headers, **response.headers}
        return response

    def _vendor(self, vendor: VendorApi, method: str, path: str,
                query: dict[str, list[str]], body: bytes) -> VendorResponse:
        """A CRM request: the vendor's auth, limits and routes (paths a vendor serves without
        auth, such as Freshdesk's pre-signed export downloads, skip the auth)."""
        public = getattr(vendor, "public_path", None)
        if not (public is not None and public(path)) and \
                not vendor.authenticate(self.headers.get("Authorization")):
            return vendor.unauthorized()
        sb = self.sandbox
        host = self.headers.get("Host") or f"{sb.host}:{sb.port}"
        request = CrmRequest(method, path, query, body, dict(self.headers.items()),
                             f"http://{host}")
        limited, headers = vendor.rate_limit(request)
        if limited is not None:
            return limited
        try:
            response = vendor.handle(request)
        except Exception:  # pragma: no cover - a sandbox bug must not kill the thread
            log.exception("sandbox failed on %s %s", method, self.path)
            response = VendorResponse(500, vendor.fault_bodies.get(500, {"error": "internal"}))
        response.headers = {**headers, **response.headers}
        return response

    def _send_truncated(self, response: ApiResponse | VendorResponse) -> None:
        """The real answer with its full ``Content-Length``, but only the first half of the
        body before the connection closes."""
        payload = _encode(response.body)
        self.close_connection = True
        self._send_raw(response.status, payload, response.headers, send=len(payload) // 2)

    def _send(self, response: ApiResponse | VendorResponse) -> None:
        payload = _encode(response.body)
        self._send_raw(response.status, payload, response.headers)

    def _send_raw(self, status: int, payload: bytes, headers: dict[str, str],
                  send: int | None = None) -> None:
        """Send an answer; ``send`` (bytes) cuts the body short of its ``Content-Length``."""
        self.send_response(status)
        looks_json = payload[:1] in (b"{", b"[")
        self.send_header("Content-Type", "application/json; charset=utf-8" if looks_json
                         else "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload if send is None else payload[:send])


def _encode(body: Any) -> bytes:
    """A response body as compact JSON. orjson: the sandbox stands in for a vendor's servers,
    so its own encoding should cost a fraction of what the client spends decoding. Bytes
    are sent as they are (empty bodies, S3's XML)."""
    if isinstance(body, bytes):
        return body
    return orjson.dumps(body)
