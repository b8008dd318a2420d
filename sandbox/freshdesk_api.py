"""The simulated Freshdesk API (v2): tickets, conversations, the ticket activities export,
satisfaction ratings, agents, groups and ticket fields.

Transport-free like :mod:`sandbox.intercom_api`; :mod:`sandbox.server` routes every path
under ``/freshdesk/`` here, so ``{sandbox.url}/freshdesk`` stands in for
``https://{domain}.freshdesk.com`` (Freshdesk's paths start with ``/api/v2/`` like
Zendesk's). What is served (see docs/sandbox.md, "Freshdesk", for the sources and the
choices made where Freshdesk's reference is silent):

* ``GET /api/v2/tickets``: ``filter`` (``new_and_my_open``, ``watching``, ``spam``,
  ``deleted``), ``requester_id``, ``email``, ``company_id``, ``updated_since``,
  ``order_by`` / ``order_type``, ``include`` (``stats``, ``requester``, ``description``;
  2 extra credits each), ``per_page`` (≤ 100, default 30), ``page`` (≤ 300); without
  ``updated_since`` only tickets created in the past 30 days. A bare JSON array; a
  ``Link: <...>; rel="next"`` header while more pages exist.
* ``GET /api/v2/tickets/{id}`` (with ``description``; ``include`` as above),
  ``GET /api/v2/tickets/{id}/conversations`` (paged like the list, oldest first).
* ``GET /api/v2/export/ticket_activities?created_at=YYYY-MM-DD``: ``{"export": [{"created_at",
  "url"}]}`` once the day has ended; the URL (no auth, like an S3 pre-signed link) answers
  ``{"metadata": {...}, "activities_data": [...]}``.
* ``GET /api/v2/surveys/satisfaction_ratings`` (``created_since``, default the past 30
  days; ``user_id``; paged), ``GET /api/v2/surveys``.
* ``GET /api/v2/agents``, ``/agents/{id}``, ``/groups``, ``/groups/{id}`` (with the
  ``business_hour_id`` its tickets follow), ``/companies``, ``/companies/{id}``,
  ``/business_hours``, ``/business_hours/{id}`` (paged),
  ``GET /api/v2/ticket_fields``.
* Auth: HTTP Basic with the API key as user name (any password, ``X`` by convention);
  otherwise 401 ``{"code": "invalid_credentials", ...}``. Rate limit: credits per minute
  (a request costs 1, each ``include`` 2 more), ``X-RateLimit-Total`` / ``-Remaining`` /
  ``-Used-CurrentRequest`` on every authenticated answer, 429 with ``Retry-After``.

Everything Freshdesk derives from a ticket's history (current status, assignee, group,
priority, ``updated_at``, ``stats``, conversations, activities) is derived here from
:class:`~sandbox.world.FreshdeskTicket` events by :func:`derive_ticket`, once per API
instance.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import html
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sandbox.business_time import SECONDS_PER_DAY
from sandbox.crm_common import CrmRequest, VendorResponse
from sandbox.world import (
    FRESHDESK_STATUSES,
    FreshdeskAgent,
    FreshdeskBusinessHours,
    FreshdeskCompany,
    FreshdeskContact,
    FreshdeskGroup,
    FreshdeskRating,
    FreshdeskTicket,
    FreshdeskTimeEntry,
    World,
)

PREFIX = "/freshdesk"
DEFAULT_FRESHDESK_API_KEY = "sandboxFreshdeskKey7Qx2"  # noqa: S105 - a fake sandbox credential
#: Requests (credits) per minute: the Enterprise / Forest per-minute plan figure.
DOCUMENTED_RATE_LIMIT_PER_MINUTE = 700
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
#: "A maximum of 300 pages ... will be returned" (List All Tickets).
MAX_TICKET_PAGES = 300
#: Without ``updated_since`` (tickets) / ``created_since`` (ratings): the past 30 days.
DEFAULT_WINDOW_DAYS = 30
#: Credits an ``include`` adds to a request.
INCLUDE_CREDITS = 2
TICKET_INCLUDES = ("stats", "requester", "description")
TICKET_FILTERS = ("new_and_my_open", "watching", "spam", "deleted")
ORDER_FIELDS = ("created_at", "due_by", "updated_at", "status")
RESOLVED, CLOSED, PENDING, OPEN = 4, 5, 3, 2
#: Conversation ``source``: 0 Reply, 2 Note (5 tweets, 6 survey feedback, 7 Facebook,
#: 8 forwarded email, 9 phone, 10 Mobihelp, 11 e-commerce are not generated).
REPLY_SOURCE, NOTE_SOURCE = 0, 2
#: Conversation ids: ``CONVERSATION_ID_BASE + ticket_id * 1000 + position`` (from 1).
CONVERSATION_ID_BASE = 44_000_000_000_000
SURVEY_ID = 49_000_000
SUPPORT_EMAIL = "support@sandbox.freshdesk.example"
#: The default survey's scale (5 points) and the label of each value.
SURVEY_SCALE = {103: "Very Happy", 102: "Happy", 100: "Neutral", -102: "Unhappy",
                -103: "Very Unhappy"}
#: First-response and resolution targets per priority (seconds, calendar time).
FIRST_RESPONSE_DUE = {1: 24 * 3600, 2: 12 * 3600, 3: 4 * 3600, 4: 3600}
RESOLUTION_DUE = {1: 5 * 86_400, 2: 3 * 86_400, 3: 86_400, 4: 8 * 3600}
TICKET_TYPES = ("Question", "Incident", "Problem", "Feature Request", "Refund")
STATUS_CUSTOMER_LABELS = {2: "Being Processed", 3: "Awaiting your Reply",
                          4: "This ticket has been Resolved", 5: "This ticket has been Closed",
                          6: "Awaiting your Reply", 7: "Being Processed"}

_TAGS = re.compile(r"<[^>]+>")


def iso(ts: int | None) -> str | None:
    """Epoch seconds as Freshdesk writes times: ``2024-03-04T14:00:00Z``."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def export_time(ts: int) -> str:
    """Epoch seconds as the activities export writes them: ``04-03-2024 14:00:00 +0000``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%d-%m-%Y %H:%M:%S +0000")


def epoch(moment: datetime) -> int:
    """Whole epoch seconds of an aware datetime (naive: UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def plain(body: str | None) -> str:
    """An HTML body as text (``description_text``, ``body_text``)."""
    return "" if body is None else " ".join(html.unescape(_TAGS.sub(" ", body)).split())


def error(field_name: str, message: str, code: str = "invalid_value") -> dict[str, Any]:
    """Freshdesk's 400 body: ``Validation failed`` with one error."""
    return {"description": "Validation failed",
            "errors": [{"field": field_name, "message": message, "code": code}]}


class FreshdeskError(Exception):
    """An error answer (status and body; ``body=b""``: an empty body)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def invalid(field_name: str, message: str, code: str = "invalid_value") -> FreshdeskError:
    return FreshdeskError(400, error(field_name, message, code))


NOT_FOUND = FreshdeskError(404, b"")


# -- what Freshdesk derives from the events ----------------------------------------------------


@dataclass(slots=True)
class Conversation:
    """A reply or note, derived from a message event."""

    id: int
    at: int
    kind: str  # reply | note | incoming
    user_id: int
    body: str


@dataclass(slots=True)
class Activity:
    """One ticket activity (a record of the activities export)."""

    at: int
    ticket_id: int
    performer_type: str
    performer_id: int | None
    activity: dict[str, Any]


@dataclass(slots=True)
class TicketState:
    """A ticket as of its last event: what :func:`derive_ticket` computes."""

    status: int
    priority: int
    group_id: int | None
    responder_id: int | None
    updated_at: int
    deleted: bool
    spam: bool
    stats: dict[str, int | None]
    conversations: list[Conversation] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)


def _updated_since(selected: list[tuple[FreshdeskTicket, TicketState]], since: int,
                   order_by: str, order_type: str) -> list[tuple[FreshdeskTicket, TicketState]]:
    """The tickets of a listing updated at or after `since`, in the listing's order (by
    bisection when it is ordered by `updated_at`)."""
    if order_by != "updated_at":
        return [item for item in selected if item[1].updated_at >= since]
    times = [st.updated_at for _, st in selected]
    if order_type == "asc":
        return selected[bisect.bisect_left(times, since):]
    # Descending: the tickets before the first one updated earlier than `since`.
    return selected[:len(times) - bisect.bisect_left(times[::-1], since)]


def status_name(status: int) -> str:
    return FRESHDESK_STATUSES.get(status, f"Status {status}")


def derive_ticket(ticket: FreshdeskTicket, group_names: dict[int, str]) -> TicketState:
    """Replay a ticket's events into its current state, ``stats``, conversations and
    activities.

    ``stats`` by Freshdesk's definitions: ``first_responded_at`` the first public agent
    reply; ``agent_responded_at`` the last one; ``requester_responded_at`` the requester's
    last reply; ``status_updated_at`` the last status change (creation when none);
    ``resolved_at`` the last time it became Resolved (or Closed without passing Resolved);
    ``closed_at`` the last time it became Closed; ``reopened_at`` the last time it left
    Resolved / Closed for another status; ``pending_since`` when it became Pending, while it
    is Pending.
    """
    created = epoch(ticket.created_at)
    status, priority = ticket.status, ticket.priority
    group_id, responder = ticket.group_id, ticket.responder_id
    stats: dict[str, int | None] = {
        "agent_responded_at": None, "requester_responded_at": None,
        "first_responded_at": None, "status_updated_at": created, "reopened_at": None,
        "resolved_at": None, "closed_at": None,
        "pending_since": created if status == PENDING else None}
    if status == RESOLVED:
        stats["resolved_at"] = created
    if status == CLOSED:
        stats["resolved_at"] = stats["closed_at"] = created
    deleted = spam = False
    creator_type, creator_id = ("user", ticket.creator_id) if ticket.creator_id is not None \
        else ("user", ticket.requester_id)
    first: dict[str, Any] = {"new_ticket": True, "status": status_name(status),
                             "priority": priority, "source": ticket.source,
                             "requester_id": ticket.requester_id}
    if ticket.type:
        first["ticket_type"] = ticket.type
    if group_id is not None:
        first["group"] = group_names.get(group_id, str(group_id))
    if responder is not None:
        first["agent_id"] = responder
    if ticket.tags:
        first["added_tags"] = list(ticket.tags)
    activities = [Activity(created, ticket.id, creator_type, creator_id, first)]
    conversations: list[Conversation] = []
    last = created
    for event in ticket.events:
        at = epoch(event.at)
        last = max(last, at)
        change: dict[str, Any] = {}
        if event.message is not None:
            cid = CONVERSATION_ID_BASE + ticket.id * 1000 + len(conversations) + 1
            user = ticket.requester_id if event.actor == "requester" else event.agent_id
            conversations.append(Conversation(cid, at, event.message, user or 0,
                                              event.body or ""))
            change["note"] = {"id": cid, "type": NOTE_SOURCE if event.message == "note"
                              else REPLY_SOURCE}
            if event.message == "reply":
                if stats["first_responded_at"] is None:
                    stats["first_responded_at"] = at
                stats["agent_responded_at"] = at
            elif event.message == "incoming":
                stats["requester_responded_at"] = at
        if event.group_id is not None and event.group_id != group_id:
            group_id = event.group_id
            change["group"] = group_names.get(group_id, str(group_id))
        if event.assign is not None and event.assign != responder:
            responder = event.assign
            change["agent_id"] = responder
        if event.priority is not None and event.priority != priority:
            priority = event.priority
            change["priority"] = priority
        if event.status is not None and event.status != status:
            before, status = status, event.status
            change["status"] = status_name(status)
            stats["status_updated_at"] = at
            if before in (RESOLVED, CLOSED) and status not in (RESOLVED, CLOSED):
                stats["reopened_at"] = at
            if status == RESOLVED or (status == CLOSED and before != RESOLVED):
                stats["resolved_at"] = at
            if status == CLOSED:
                stats["closed_at"] = at
            stats["pending_since"] = at if status == PENDING else None
        if event.deleted:
            deleted = True
            change["deleted"] = True
        if event.spam:
            spam = True
            change["spam"] = True
        if event.actor == "system":
            change["automation"] = {"type": event.rule_type, "rule": event.rule}
            performer: tuple[str, int | None] = ("system", None)
        elif event.actor == "requester":
            performer = ("user", ticket.requester_id)
        else:
            performer = ("user", event.agent_id)
        if change:
            activities.append(Activity(at, ticket.id, performer[0], performer[1], change))
    return TicketState(status=status, priority=priority, group_id=group_id,
                       responder_id=responder, updated_at=last, deleted=deleted, spam=spam,
                       stats=stats, conversations=conversations, activities=activities)


# -- rate limit --------------------------------------------------------------------------------


class CreditLimiter:
    """At most ``limit`` credits in any ``window`` seconds (``None``: unlimited)."""

    def __init__(self, limit: int | None, window: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: deque[tuple[float, int]] = deque()
        self._used = 0
        self._lock = threading.Lock()

    def acquire(self, credits: int) -> tuple[bool, int, int]:
        """``(allowed, remaining, retry_after_seconds)``."""
        if self.limit is None:
            return True, 0, 0
        with self._lock:
            now = self.clock()
            while self._hits and self._hits[0][0] <= now - self.window:
                self._used -= self._hits.popleft()[1]
            if self._used + credits > self.limit:
                need, freed, wait = self._used + credits - self.limit, 0, 1.0
                for at, spent in self._hits:
                    freed += spent
                    if freed >= need:
                        wait = self.window - (now - at)
                        break
                return False, max(0, self.limit - self._used), max(1, math.ceil(wait))
            self._hits.append((now, credits))
            self._used += credits
            return True, self.limit - self._used, 0

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
            self._used = 0


# -- the API -----------------------------------------------------------------------------------


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _parse_time(raw: str, name: str) -> int:
    """An ISO 8601 time or date (``2015-01-19T02:00:00Z``, ``2015-01-19``) as epoch seconds."""
    text = raw.strip()
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time(),
                                      tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise invalid(name, "It should be in the 'YYYY-MM-DDTHH:MM:SSZ' format") from None
    return epoch(moment)


def _positive(query: dict[str, list[str]], name: str, default: int,
              maximum: int | None = None) -> int:
    raw = _one(query, name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise invalid(name, "It should be a Positive Integer", "datatype_mismatch")
    value = int(raw)
    if maximum is not None and value > maximum:
        raise invalid(name, f"It should be a Positive Integer less than or equal to "
                      f"{maximum}")
    return value


class FreshdeskApi:
    """The Freshdesk endpoints the sandbox serves, with Freshdesk's auth, limits and errors.

    ``clock``: the sandbox's "now" (the past-30-days windows; a day's activity export exists
    once the day has ended). ``activity_export=False``: an account without the ticket
    activities export (403). ``export_retention_days``: exports older than that many days
    are gone (404); ``None`` keeps them all. ``export_delay_seconds``: a day's export appears
    that long after the day ends (Freshdesk builds it at a scheduled hour; 404 before).
    """

    prefixes = (f"{PREFIX}/",)

    def __init__(self, world: World, api_key: str = DEFAULT_FRESHDESK_API_KEY,
                 rate_limit_per_minute: int | None = DOCUMENTED_RATE_LIMIT_PER_MINUTE,
                 clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic,
                 activity_export: bool = True,
                 export_retention_days: int | None = None,
                 export_delay_seconds: int = 0) -> None:
        self.world = world
        self.api_key = api_key
        self.clock = clock
        self.activity_export = activity_export
        self.export_retention_days = export_retention_days
        self.export_delay_seconds = export_delay_seconds
        self.limiter = CreditLimiter(rate_limit_per_minute, clock=monotonic)
        self.groups = sorted(world.freshdesk_groups, key=lambda g: g.id)
        self.group_names = {g.id: g.name for g in self.groups}
        self.business_hours = sorted(world.freshdesk_business_hours, key=lambda b: b.id)
        self.agents = sorted(world.freshdesk_agents, key=lambda a: a.id)
        self.agents_by_id = {a.id: a for a in self.agents}
        self.companies = sorted(world.freshdesk_companies, key=lambda c: c.id)
        #: The agent the API key belongs to (``new_and_my_open``): the first active agent.
        self.me = next((a.id for a in self.agents if a.active), None)
        self.contacts = {c.id: c for c in world.freshdesk_contacts}
        self.tickets = {t.id: t for t in world.freshdesk_tickets}
        self.states = {t.id: derive_ticket(t, self.group_names)
                       for t in world.freshdesk_tickets}
        self.ratings = sorted(world.freshdesk_ratings, key=lambda r: (epoch(r.created_at), r.id))
        self.time_entries = sorted(world.freshdesk_time_entries, key=lambda e: e.id)
        #: The world's end: the latest moment any Freshdesk object knows (SLA escalations).
        self.as_of = max([st.updated_at for st in self.states.values()]
                         + [epoch(r.created_at) for r in self.ratings] + [0])
        self._selections: dict[tuple[Any, ...], list[tuple[FreshdeskTicket, TicketState]]] = {}
        self._activities_by_day: dict[str, list[Activity]] = {}
        for st in self.states.values():
            for act in st.activities:
                day = datetime.fromtimestamp(act.at, UTC).date().isoformat()
                self._activities_by_day.setdefault(day, []).append(act)
        for acts in self._activities_by_day.values():
            acts.sort(key=lambda a: (a.at, a.ticket_id))
        self.fault_bodies: dict[int, Any] = {
            401: self.unauthorized().body,
            403: {"code": "access_denied",
                  "message": "You are not authorized to perform this action."},
            404: {"code": "not_found", "message": "Requested resource not found"},
            429: {"code": "too_many_requests",
                  "message": "You have exceeded the limit of requests per minute"},
            500: {"code": "internal_error",
                  "message": "We're sorry, but something went wrong."},
            502: {"code": "bad_gateway", "message": "Bad Gateway"},
            503: {"code": "service_unavailable",
                  "message": "The service is temporarily unavailable"},
            504: {"code": "gateway_timeout", "message": "Gateway Timeout"},
        }

    # -- auth and limits ----------------------------------------------------------------------

    @staticmethod
    def public_path(path: str) -> bool:
        """Export downloads: pre-signed links, no Freshdesk auth or limits."""
        return path.startswith(f"{PREFIX}/exports/")

    def authenticate(self, header: str | None) -> bool:
        """HTTP Basic with the API key as user name (the password is not checked)."""
        if not header:
            return False
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, _ = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return user == self.api_key

    def unauthorized(self) -> VendorResponse:
        return VendorResponse(401, {"code": "invalid_credentials",
                                    "message": "You have to be logged in to perform this "
                                               "action."})

    def reset_rate_limits(self) -> None:
        self.limiter.reset()

    @staticmethod
    def credits(request: CrmRequest) -> int:
        """1 per request, plus 2 per ``include`` on tickets."""
        path = request.path[len(PREFIX):].rstrip("/")
        if path == "/api/v2/tickets" or re.fullmatch(r"/api/v2/tickets/\d+", path):
            raw = _one(request.query, "include") or ""
            return 1 + INCLUDE_CREDITS * len([p for p in raw.split(",") if p.strip()])
        return 1

    def rate_limit(self, request: CrmRequest) -> tuple[VendorResponse | None, dict[str, str]]:
        """Count the request's credits; a 429 with ``Retry-After`` when over the limit."""
        if self.public_path(request.path):
            return None, {}
        cost = self.credits(request)
        ok, remaining, wait = self.limiter.acquire(cost)
        limit = self.limiter.limit
        headers = {"X-Freshdesk-API-Version": "latest=v2; requested=v2"}
        if limit is None:
            return None, headers
        headers.update({"X-RateLimit-Total": str(limit),
                        "X-RateLimit-Remaining": str(remaining),
                        "X-RateLimit-Used-CurrentRequest": str(cost)})
        if not ok:
            headers["Retry-After"] = str(wait)
            return VendorResponse(429, self.fault_bodies[429], headers), headers
        return None, headers

    # -- routing ------------------------------------------------------------------------------

    _TICKET = re.compile(r"/api/v2/tickets/(\d+)")
    _CONVERSATIONS = re.compile(r"/api/v2/tickets/(\d+)/conversations")
    #: The reference lists, each also read one record by id (`/agents/12`).
    _REFERENCE = re.compile(r"/api/v2/(agents|groups|companies|business_hours)(?:/(\d+))?")
    _EXPORT_FILE = re.compile(r"/exports/ticket_activities/(\d{4}-\d{2}-\d{2})\.json")

    def handle(self, request: CrmRequest) -> VendorResponse:
        path = request.path[len(PREFIX):].rstrip("/")
        if path.endswith(".json") and not path.startswith("/exports/"):
            path = path[:-5]
        base = request.base_url + PREFIX
        try:
            if request.method != "GET":
                raise FreshdeskError(405, {"code": "method_not_allowed", "message":
                                           f"{request.method} method is not allowed. It "
                                           "should be one of these method(s): GET"})
            if (m := self._EXPORT_FILE.fullmatch(path)) is not None:
                return self.export_file(m.group(1), request)
            if path == "/api/v2/tickets":
                return self.list_tickets(request, base)
            if (m := self._TICKET.fullmatch(path)) is not None:
                return self.view_ticket(int(m.group(1)), request)
            if (m := self._CONVERSATIONS.fullmatch(path)) is not None:
                return self.conversations(int(m.group(1)), request, base)
            if path == "/api/v2/export/ticket_activities":
                return self.export(request, base)
            if path == "/api/v2/surveys/satisfaction_ratings":
                return self.list_ratings(request, base)
            if path == "/api/v2/surveys":
                return VendorResponse(200, [self._survey()])
            if path == "/api/v2/time_entries":
                return self.list_time_entries(request, base)
            if (m := self._REFERENCE.fullmatch(path)) is not None:
                return self._reference(m.group(1), m.group(2), request, base)
            if path == "/api/v2/ticket_fields":
                return VendorResponse(200, self._ticket_fields())
        except FreshdeskError as exc:
            return VendorResponse(exc.status, exc.body)
        return VendorResponse(404, b"")

    def _reference(self, kind: str, record_id: str | None, request: CrmRequest,
                   base: str) -> VendorResponse:
        """An agent, group, company or business calendar list (paged), or one of its records
        (404 if unknown)."""
        records, render = {"agents": (self.agents, self._agent),
                           "groups": (self.groups, self._group),
                           "companies": (self.companies, self._company),
                           "business_hours": (self.business_hours, self._business_hours),
                           }[kind]
        if record_id is None:
            return self._paged([render(r) for r in records], request, base, f"/api/v2/{kind}")
        record = next((r for r in records if r.id == int(record_id)), None)
        if record is None:
            raise NOT_FOUND
        return VendorResponse(200, render(record))

    # -- paging -------------------------------------------------------------------------------

    def _paged(self, items: list[Any], request: CrmRequest, base: str, path: str,
               max_pages: int | None = None) -> VendorResponse:
        per_page = _positive(request.query, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
        page = _positive(request.query, "page", 1, max_pages)
        start = (page - 1) * per_page
        chunk = items[start:start + per_page]
        headers: dict[str, str] = {}
        if len(items) > start + per_page and (max_pages is None or page < max_pages):
            query = {k: v[-1] for k, v in request.query.items() if k != "page"}
            query["page"] = str(page + 1)
            headers["Link"] = f'<{base}{path}?{urlencode(query)}>; rel="next"'
        return VendorResponse(200, chunk, headers)

    # -- tickets ------------------------------------------------------------------------------

    def _includes(self, request: CrmRequest) -> set[str]:
        raw = _one(request.query, "include") or ""
        parts = {p.strip() for p in raw.split(",") if p.strip()}
        unknown = sorted(parts - set(TICKET_INCLUDES))
        if unknown:
            raise invalid("include", "It should be one of these values: "
                          f"'{','.join(TICKET_INCLUDES)}'")
        return parts

    def list_tickets(self, request: CrmRequest, base: str) -> VendorResponse:
        query = request.query
        includes = self._includes(request)
        known = {"filter", "requester_id", "email", "unique_external_id", "company_id",
                 "updated_since", "order_by", "order_type", "include", "per_page", "page"}
        for name in query:
            if name not in known:
                raise invalid(name, "Unexpected/invalid field in request", "invalid_field")
        flt = _one(query, "filter")
        if flt is not None and flt not in TICKET_FILTERS:
            raise invalid("filter", f"It should be one of these values: "
                          f"'{','.join(TICKET_FILTERS)}'")
        order_by = _one(query, "order_by") or "created_at"
        if order_by not in ORDER_FIELDS:
            raise invalid("order_by", f"It should be one of these values: "
                          f"'{','.join(ORDER_FIELDS)}'")
        order_type = _one(query, "order_type") or "desc"
        if order_type not in ("asc", "desc"):
            raise invalid("order_type", "It should be one of these values: 'asc,desc'")
        since_raw = _one(query, "updated_since")
        since = _parse_time(since_raw, "updated_since") if since_raw else None
        created_floor = None if since is not None else \
            int(self.clock()) - DEFAULT_WINDOW_DAYS * 86_400
        ints: dict[str, int] = {}
        for name in ("requester_id", "company_id"):
            raw = _one(query, name)
            if raw is not None:
                if not raw.isdigit():
                    raise invalid(name, "It should be a Positive Integer", "datatype_mismatch")
                ints[name] = int(raw)
        email = (_one(query, "email") or "").lower() or None
        # Cached without `updated_since`: a client that pages by moving `updated_since` (as
        # Freshdesk's offset paging over live data calls for) asks a new query every page.
        cache_key = (flt, created_floor, tuple(sorted(ints.items())), email, order_by,
                     order_type)
        selected = self._selections.get(cache_key)
        if selected is None:
            selected = self._select(flt, None, created_floor, ints, email, order_by,
                                    order_type)
            if len(self._selections) >= 32:
                self._selections.pop(next(iter(self._selections)))
            self._selections[cache_key] = selected
        if since is not None:
            selected = _updated_since(selected, since, order_by, order_type)
        per_page = _positive(query, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
        page = _positive(query, "page", 1, MAX_TICKET_PAGES)
        window = selected[(page - 1) * per_page: page * per_page]
        rendered = [self._ticket(t, st, includes, listed=True) for t, st in window]
        response = self._paged([None] * len(selected), request, base, "/api/v2/tickets",
                               MAX_TICKET_PAGES)
        response.body = rendered
        return response

    def _select(self, flt: str | None, since: int | None, created_floor: int | None,
                ints: dict[str, int], email: str | None, order_by: str,
                order_type: str) -> list[tuple[FreshdeskTicket, TicketState]]:
        """The tickets a listing matches, in its order (cached per query by the caller: the
        world never changes, and a client pages the same query many times)."""
        selected: list[tuple[FreshdeskTicket, TicketState]] = []
        for tid, ticket in self.tickets.items():
            st = self.states[tid]
            if flt == "deleted":
                if not st.deleted:
                    continue
            elif st.deleted or (st.spam != (flt == "spam")):
                continue
            if flt == "watching":
                continue  # the API key's agent watches no ticket
            if flt == "new_and_my_open" and not (
                    st.status == OPEN and st.responder_id in (None, self.me)):
                continue
            if since is not None and st.updated_at < since:
                continue
            if created_floor is not None and epoch(ticket.created_at) < created_floor:
                continue
            if "requester_id" in ints and ticket.requester_id != ints["requester_id"]:
                continue
            if "company_id" in ints and ticket.company_id != ints["company_id"]:
                continue
            if email is not None:
                contact = self.contacts.get(ticket.requester_id)
                if contact is None or contact.email.lower() != email:
                    continue
            selected.append((ticket, st))

        def key(item: tuple[FreshdeskTicket, TicketState]) -> tuple[int, int]:
            ticket, st = item
            value = {"created_at": lambda: epoch(ticket.created_at),
                     "updated_at": lambda: st.updated_at,
                     "due_by": lambda: self._due(ticket, st)[1],
                     "status": lambda: st.status}[order_by]()
            return value, ticket.id

        selected.sort(key=key, reverse=order_type == "desc")
        return selected

    def touch_ticket(self, ticket_id: int, at: int) -> None:
        """The ticket is updated at `at` (Unix seconds) while clients read: a later listing
        shows it moved (tests of paging over live data; the world itself is unchanged)."""
        self.states[ticket_id].updated_at = at
        self._selections.clear()

    def view_ticket(self, ticket_id: int, request: CrmRequest) -> VendorResponse:
        includes = self._includes(request)
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            raise NOT_FOUND
        return VendorResponse(200, self._ticket(ticket, self.states[ticket_id], includes,
                                                listed=False))

    def _due(self, ticket: FreshdeskTicket, st: TicketState) -> tuple[int, int]:
        """``(fr_due_by, due_by)``: the first-response and resolution targets."""
        created = epoch(ticket.created_at)
        return (created + FIRST_RESPONSE_DUE.get(st.priority, 86_400),
                created + RESOLUTION_DUE.get(st.priority, 5 * 86_400))

    def _ticket(self, ticket: FreshdeskTicket, st: TicketState, includes: set[str], *,
                listed: bool) -> dict[str, Any]:
        fr_due, due = self._due(ticket, st)
        first = st.stats["first_responded_at"]
        resolved = st.stats["resolved_at"] if st.status in (RESOLVED, CLOSED) else None
        contact = self.contacts.get(ticket.requester_id)
        body: dict[str, Any] = {
            "cc_emails": [], "fwd_emails": [], "reply_cc_emails": [], "ticket_cc_emails": [],
            "fr_escalated": (first if first is not None else self.as_of) > fr_due,
            "spam": st.spam,
            "email_config_id": None,
            "group_id": st.group_id,
            "priority": st.priority,
            "requester_id": ticket.requester_id,
            "responder_id": st.responder_id,
            "source": ticket.source,
            "company_id": ticket.company_id,
            "status": st.status,
            "subject": ticket.subject,
            "association_type": None,
            "support_email": SUPPORT_EMAIL,
            "to_emails": [SUPPORT_EMAIL] if ticket.source == 1 else None,
            "product_id": ticket.product_id,
            "id": ticket.id,
            "type": ticket.type,
            "due_by": iso(due),
            "fr_due_by": iso(fr_due),
            "is_escalated": (resolved if resolved is not None else self.as_of) > due,
            "custom_fields": {},
            "created_at": iso(epoch(ticket.created_at)),
            "updated_at": iso(st.updated_at),
            "associated_tickets_count": None,
            "tags": list(ticket.tags),
        }
        if st.deleted:
            body["deleted"] = True
        if not listed or "description" in includes:
            body["description"] = ticket.description
            body["description_text"] = plain(ticket.description)
        if not listed:
            body["attachments"] = []
        if "stats" in includes:
            body["stats"] = {k: iso(v) for k, v in st.stats.items()}
        if "requester" in includes:
            body["requester"] = None if contact is None else {
                "id": contact.id, "name": contact.name, "email": contact.email,
                "mobile": None, "phone": contact.phone}
        return body

    def conversations(self, ticket_id: int, request: CrmRequest, base: str) -> VendorResponse:
        ticket = self.tickets.get(ticket_id)
        if ticket is None or self.states[ticket_id].deleted:
            raise NOT_FOUND
        contact = self.contacts.get(ticket.requester_id)
        items = [self._conversation(ticket, c, contact)
                 for c in self.states[ticket_id].conversations]
        return self._paged(items, request, base, f"/api/v2/tickets/{ticket_id}/conversations")

    def _conversation(self, ticket: FreshdeskTicket, c: Conversation,
                      contact: FreshdeskContact | None) -> dict[str, Any]:
        requester_email = contact.email if contact is not None else None
        agent = self.agents_by_id.get(c.user_id)
        if c.kind == "incoming":
            to, sender = [SUPPORT_EMAIL], requester_email
        elif c.kind == "reply":
            to = [requester_email] if requester_email else []
            sender = f"{agent.name} <{SUPPORT_EMAIL}>" if agent else SUPPORT_EMAIL
        else:
            to, sender = [], None
        return {"body": c.body, "body_text": plain(c.body), "id": c.id,
                "incoming": c.kind == "incoming", "private": c.kind == "note",
                "user_id": c.user_id,
                "support_email": None if c.kind == "note" else SUPPORT_EMAIL,
                "source": NOTE_SOURCE if c.kind == "note" else REPLY_SOURCE,
                "category": 2 if c.kind == "note" else 3,
                "ticket_id": ticket.id, "to_emails": to, "from_email": sender,
                "cc_emails": [], "bcc_emails": None if c.kind == "note" else [],
                "attachments": [], "created_at": iso(c.at), "updated_at": iso(c.at),
                "last_edited_at": None, "last_edited_user_id": None}

    # -- the ticket activities export -----------------------------------------------------------

    def _signature(self, day: str) -> str:
        return hashlib.sha256(f"{self.api_key}:{day}".encode()).hexdigest()[:40]

    def _export_exists(self, day: date) -> bool:
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        now = self.clock()
        if end.timestamp() + self.export_delay_seconds > now:
            return False  # the day has not ended, or its export is not generated yet
        if self.export_retention_days is not None:
            return now - end.timestamp() <= self.export_retention_days * 86_400
        return True

    def export(self, request: CrmRequest, base: str) -> VendorResponse:
        if not self.activity_export:
            raise FreshdeskError(403, self.fault_bodies[403])
        raw = _one(request.query, "created_at")
        if not raw:
            raise invalid("created_at", "It should be a/an String", "missing_field")
        try:
            day = date.fromisoformat(raw.strip())
        except ValueError:
            raise invalid("created_at", "It should be in the 'YYYY-MM-DD' format") from None
        if not self._export_exists(day):
            raise NOT_FOUND
        key = day.isoformat()
        url = (f"{base}/exports/ticket_activities/{key}.json?"
               f"X-Amz-Expires=3600&X-Amz-Signature={self._signature(key)}")
        return VendorResponse(200, {"export": [
            {"created_at": f"{day.day}-{day.month}-{day.year}", "url": url}]})

    def export_file(self, key: str, request: CrmRequest) -> VendorResponse:
        """The export's download (an S3 object in real life: errors are S3's XML)."""
        signature = _one(request.query, "X-Amz-Signature")
        try:
            day = date.fromisoformat(key)
        except ValueError:
            day = None
        if day is None or signature != self._signature(key) or not self._export_exists(day):
            return VendorResponse(403, S3_ACCESS_DENIED)
        start = int(datetime.combine(day, datetime.min.time(), tzinfo=UTC).timestamp())
        acts = self._activities_by_day.get(key, [])
        return VendorResponse(200, {
            "metadata": {"start_at": export_time(start), "end_at": export_time(start + 86_399),
                         "activities_count": len(acts)},
            "activities_data": [{"performed_at": export_time(a.at), "ticket_id": a.ticket_id,
                                 "performer_type": a.performer_type,
                                 "performer_id": a.performer_id, "activity": a.activity}
                                for a in acts]})

    def activities(self, day: str) -> list[Activity]:
        """The activities of one UTC day (``YYYY-MM-DD``), in export order."""
        return list(self._activities_by_day.get(day, []))

    # -- surveys ------------------------------------------------------------------------------

    def list_ratings(self, request: CrmRequest, base: str) -> VendorResponse:
        raw = _one(request.query, "created_since")
        since = _parse_time(raw, "created_since") if raw else \
            int(self.clock()) - DEFAULT_WINDOW_DAYS * 86_400
        user = _one(request.query, "user_id")
        if user is not None and not user.isdigit():
            raise invalid("user_id", "It should be a Positive Integer", "datatype_mismatch")
        items = [self._rating(r) for r in self.ratings if epoch(r.created_at) >= since
                 and (user is None or r.user_id == int(user))]
        return self._paged(items, request, base, "/api/v2/surveys/satisfaction_ratings")

    @staticmethod
    def _rating(r: FreshdeskRating) -> dict[str, Any]:
        at = iso(epoch(r.created_at))
        return {"id": r.id, "survey_id": r.survey_id or SURVEY_ID, "user_id": r.user_id,
                "agent_id": r.agent_id, "feedback": r.feedback, "group_id": r.group_id,
                "ticket_id": r.ticket_id, "ratings": {"default_question": r.rating},
                "created_at": at, "updated_at": at}

    @staticmethod
    def _survey() -> dict[str, Any]:
        return {"id": SURVEY_ID, "title": "Default satisfaction survey", "active": True,
                "questions": [{"id": "default_question", "label":
                               "How would you rate your overall satisfaction for the "
                               "resolution provided by the agent?",
                               "accepted_ratings": sorted(SURVEY_SCALE, reverse=True),
                               "default": True}],
                "created_at": "2020-01-01T00:00:00Z", "updated_at": "2020-01-01T00:00:00Z"}

    # -- time entries -------------------------------------------------------------------------

    def list_time_entries(self, request: CrmRequest, base: str) -> VendorResponse:
        """Every time entry created by the clock's now (all of them when no filter is
        given), filtered by ``executed_after`` / ``executed_before`` (inclusive /
        exclusive), ``agent_id``, ``company_id`` and ``billable``; oldest first."""
        bounds = {}
        for name in ("executed_after", "executed_before"):
            raw = _one(request.query, name)
            bounds[name] = _parse_time(raw, name) if raw else None
        ids = {}
        for name in ("agent_id", "company_id"):
            raw = _one(request.query, name)
            if raw is not None and not raw.isdigit():
                raise invalid(name, "It should be a Positive Integer", "datatype_mismatch")
            ids[name] = None if raw is None else int(raw)
        billable = _one(request.query, "billable")
        if billable not in (None, "true", "false"):
            raise invalid("billable", "It should be a boolean value", "datatype_mismatch")
        now = int(self.clock())
        after, before = bounds["executed_after"], bounds["executed_before"]
        items = [self._time_entry(e, now) for e in self.time_entries
                 if epoch(e.started_at if e.timer else e.stopped_at) <= now
                 and (after is None or epoch(e.executed_at) >= after)
                 and (before is None or epoch(e.executed_at) < before)
                 and ids["agent_id"] in (None, e.agent_id)
                 and ids["company_id"] in (None, e.company_id)
                 and billable in (None, "true" if e.billable else "false")]
        return self._paged(items, request, base, "/api/v2/time_entries")

    @staticmethod
    def _time_entry(e: FreshdeskTimeEntry, now: int) -> dict[str, Any]:
        """A time entry as the API shows it at ``now``: a timer still running shows the time
        so far (``time_spent`` in whole minutes, ``hh:mm``) and its start as last update; an
        edited one its edit."""
        started, stopped = epoch(e.started_at), epoch(e.stopped_at)
        running = e.timer and now < stopped
        minutes = ((now if running else stopped) - started) // 60
        created = started if e.timer else stopped
        updated = epoch(e.edited_at) if e.edited_at is not None else \
            created if running else stopped
        return {"id": e.id, "billable": e.billable, "note": e.note, "timer_running": running,
                "agent_id": e.agent_id, "ticket_id": e.ticket_id, "company_id": e.company_id,
                "time_spent": f"{minutes // 60:02d}:{minutes % 60:02d}",
                "executed_at": iso(epoch(e.executed_at)), "start_time": iso(started),
                "created_at": iso(created), "updated_at": iso(updated)}

    # -- reference data -----------------------------------------------------------------------

    @staticmethod
    def _agent(a: FreshdeskAgent) -> dict[str, Any]:
        created = iso(epoch(a.created_at))
        updated = iso(epoch(a.updated_at or a.created_at))
        return {"available": a.active and not a.occasional, "occasional": a.occasional,
                "id": a.id, "ticket_scope": a.ticket_scope, "signature": None,
                "group_ids": list(a.group_ids), "role_ids": [], "skill_ids": [],
                "available_since": None, "type": "support_agent",
                "created_at": created, "updated_at": updated, "last_active_at": updated,
                "contact": {"active": a.active, "email": a.email, "job_title": a.job_title,
                            "language": "en", "last_login_at": updated, "mobile": None,
                            "name": a.name, "phone": None,
                            "time_zone": "Eastern Time (US & Canada)",
                            "created_at": created, "updated_at": updated}}

    @staticmethod
    def _company(c: FreshdeskCompany) -> dict[str, Any]:
        return {"id": c.id, "name": c.name, "description": None, "note": None,
                "domains": list(c.domains), "health_score": None, "account_tier": None,
                "renewal_date": None, "industry": None, "custom_fields": {},
                "created_at": iso(epoch(c.created_at)),
                "updated_at": iso(epoch(c.updated_at or c.created_at))}

    @staticmethod
    def _group(g: FreshdeskGroup) -> dict[str, Any]:
        return {"id": g.id, "name": g.name, "description": g.description,
                "escalate_to": None, "unassigned_for": None,
                "business_hour_id": g.business_hour_id,
                "group_type": "support_agent_group", "auto_ticket_assign": False,
                "agent_ids": list(g.agent_ids),
                "created_at": iso(epoch(g.created_at)),
                "updated_at": iso(epoch(g.updated_at or g.created_at))}

    @staticmethod
    def _business_hours(b: FreshdeskBusinessHours) -> dict[str, Any]:
        """A business calendar as Freshdesk lists it: each open weekday's `start_time` and
        `end_time` as `08:00:00 am`, the end of the day as `11:59:59 pm`; a closed weekday
        is left out."""
        def clock(minute: int) -> str:
            seconds = min(minute * 60, SECONDS_PER_DAY - 1)
            hour, rest = divmod(seconds, 3600)
            return (f"{(hour - 1) % 12 + 1:02d}:{rest // 60:02d}:{rest % 60:02d} "
                    f"{'am' if hour < 12 else 'pm'}")

        return {"id": b.id, "name": b.name, "description": b.description,
                "time_zone": b.time_zone, "is_default": b.is_default,
                "business_hours": {day: {"start_time": clock(start), "end_time": clock(end)}
                                   for day, (start, end) in b.hours.items()},
                "created_at": iso(epoch(b.created_at)),
                "updated_at": iso(epoch(b.updated_at or b.created_at))}

    def _ticket_fields(self) -> list[dict[str, Any]]:
        stamp = "2020-01-01T00:00:00Z"

        def default(fid: int, name: str, label: str, position: int, kind: str,
                    **extra: Any) -> dict[str, Any]:
            return {"id": fid, "name": name, "label": label, "description": label,
                    "position": position, "required_for_closure": False,
                    "required_for_agents": False, "type": kind, "default": True,
                    "customers_can_edit": False, "label_for_customers": label,
                    "required_for_customers": False, "displayed_to_customers": False,
                    "created_at": stamp, "updated_at": stamp, **extra}

        return [
            default(49_100_001, "requester", "Search a requester", 1, "default_requester"),
            default(49_100_002, "subject", "Subject", 2, "default_subject"),
            default(49_100_003, "ticket_type", "Type", 3, "default_ticket_type",
                    choices=list(TICKET_TYPES)),
            default(49_100_004, "source", "Source", 4, "default_source", choices={
                "Email": 1, "Portal": 2, "Phone": 3, "Chat": 7, "Feedback Widget": 9,
                "Outbound Email": 10}),
            default(49_100_005, "status", "Status", 5, "default_status", choices={
                str(k): [v, STATUS_CUSTOMER_LABELS[k]] for k, v in FRESHDESK_STATUSES.items()}),
            default(49_100_006, "priority", "Priority", 6, "default_priority", choices={
                "Low": 1, "Medium": 2, "High": 3, "Urgent": 4}),
            default(49_100_007, "group", "Group", 7, "default_group",
                    choices={g.name: g.id for g in self.groups}),
            default(49_100_008, "agent", "Agent", 8, "default_agent",
                    choices={a.name: a.id for a in self.agents}),
            default(49_100_009, "description", "Description", 9, "default_description"),
        ]


S3_ACCESS_DENIED = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
                    b"<Message>Request has expired</Message></Error>")
