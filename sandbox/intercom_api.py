"""The simulated Intercom REST API (version 2.11): admins, teams, conversations, contacts and
companies.

Transport-free like :mod:`sandbox.hubspot_api`; :mod:`sandbox.server` routes the paths
``/conversations``, ``/admins``, ``/teams``, ``/me``, ``/contacts`` and ``/companies`` here
(Intercom's own paths, the sandbox URL standing in for ``https://api.intercom.io``). What is
served, per Intercom's 2.11 reference (see docs/sandbox.md, "Intercom", for the sources and
the choices made where it is silent):

* ``GET /me`` (the app's admin with its ``app``), ``GET /admins`` → ``{"type":
  "admin.list", "admins"}``, ``GET /admins/{id}``, ``GET /teams`` → ``{"type":
  "team.list", "teams"}``, ``GET /teams/{id}``.
* ``POST /conversations/search`` with ``{"query", "pagination": {"per_page",
  "starting_after"}}``: single filters ``{"field", "operator", "value"}`` and groups
  ``{"operator": "AND" | "OR", "value": [...]}`` (at most 2 levels, 15 filters per
  group), operators ``= != IN NIN > < ~ !~ ^ $`` by field type; ``per_page`` 1..150
  (default 20). Results in ``(updated_at, id)`` order; the cursor is keyset (the last
  result's sort values), so paging a fixed query visits each match once.
* ``GET /conversations`` (``per_page`` ≤ 150, default 20, ``starting_after``), newest
  ``updated_at`` first. Listed and searched conversations carry no ``conversation_parts``.
* ``GET /conversations/{id}`` (``display_as=plaintext``): the conversation with its parts,
  the 500 most recent when there are more (``total_count`` stays the real count).
* ``GET /contacts/{id}`` (the contact object; its ``companies`` addressable list shows at most
  10), ``GET /contacts/{id}/companies`` (its companies in full, page-numbered),
  ``GET /companies/{id}`` and ``GET /companies/scroll`` (``scroll_param``; one scroll per
  app, expiring after a minute unused and at its end).
* Auth ``Authorization: Bearer <access token>``; otherwise 401 ``error.list``
  ``unauthorized`` "Access Token Invalid". Rate limit: requests per 10-second window,
  ``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset`` (Unix seconds) on authenticated
  answers, 429 ``rate_limit_exceeded`` over it.

Everything Intercom derives from a conversation's history (state, ``waiting_since``,
assignees, ``statistics``, ``updated_at``...) is derived here from
:class:`~sandbox.world.IntercomConversation` parts by :func:`derive_conversation`, once per
API instance.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import math
import re
import statistics
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.crm_common import CrmRequest, VendorResponse, bearer_token, utc
from sandbox.limits import SlidingWindowLimiter
from sandbox.world import (
    IntercomAdmin,
    IntercomCompany,
    IntercomContact,
    IntercomConversation,
    IntercomPart,
    IntercomTeam,
    World,
)

#: Intercom's documented limit: 10,000 requests a minute per app, spread over 10-second
#: windows (what `python -m sandbox` serves by default, and the benchmark measures against).
DOCUMENTED_RATE_LIMIT_PER_10S = 1666
DEFAULT_INTERCOM_TOKEN = "dG9rOnNhbmRib3gtaW50ZXJjb206MTo0Mg=="  # noqa: S105 - a fake credential
#: The API version whose shapes are served, whatever ``Intercom-Version`` asks for.
INTERCOM_VERSION = "2.11"
APP_ID = "sandboxapp"
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 150
#: Most conversation parts one conversation answer carries (the most recent ones).
PART_LIMIT = 500
#: Search limits: levels of AND/OR groups, and filters in one group.
MAX_NESTING = 2
MAX_GROUP_FILTERS = 15
#: Part types that assign the conversation (``count_assignments`` counts them).
ASSIGNMENT_PARTS = frozenset({"assignment", "default_assignment", "away_mode_assignment",
                              "assign_and_reopen", "assign_and_unsnooze"})
#: Part types that reopen a closed or snoozed conversation.
OPENING_PARTS = frozenset({"open", "assign_and_reopen"})
UNSNOOZING_PARTS = frozenset({"unsnoozed", "timer_unsnooze", "assign_and_unsnooze"})
#: Part types through which a contact writes (a contact's ``open`` carries its message).
CONTACT_TEXT_PARTS = frozenset({"comment", "open"})
AVATAR = "https://static.intercomassets.com/assets/default-avatars/admins/128.png"
#: Companies a contact's ``companies`` list shows ("Up to 10 will be displayed here").
CONTACT_COMPANIES_SHOWN = 10
#: ``GET /contacts/{id}/companies``: default and largest ``per_page`` (the 2.11 example
#: answer shows 50; the parameter's text says 15, see docs/sandbox.md).
ATTACHED_DEFAULT_PER_PAGE = 50
ATTACHED_MAX_PER_PAGE = 150
#: Companies per ``GET /companies/scroll`` page (Intercom documents no page size).
SCROLL_PAGE_SIZE = 50
#: A scroll unused this long (seconds) expires ("If the scroll isn't used for 1 minute").
SCROLL_EXPIRY_SECONDS = 60.0
#: The contact fields Intercom 2.11 serves as ``null`` when unknown (its example order).
CONTACT_NULL_FIELDS = (
    "last_seen_at", "last_replied_at", "last_contacted_at", "last_email_opened_at",
    "last_email_clicked_at", "language_override", "browser", "browser_version",
    "browser_language", "os")
CONTACT_DEVICE_FIELDS = (
    "android_app_name", "android_app_version", "android_device", "android_os_version",
    "android_sdk_version", "android_last_seen_at", "ios_app_name", "ios_app_version",
    "ios_device", "ios_os_version", "ios_sdk_version", "ios_last_seen_at")
CONTACT_UTM_FIELDS = ("utm_campaign", "utm_content", "utm_medium", "utm_source", "utm_term",
                      "referrer")

#: Searchable fields and their types (Intercom's "Accepted Fields" for conversations).
SEARCH_FIELDS: dict[str, str] = {
    "id": "string", "created_at": "date", "updated_at": "date",
    "source.type": "string", "source.id": "string", "source.delivered_as": "string",
    "source.subject": "string", "source.body": "string", "source.author.id": "string",
    "source.author.type": "string", "source.author.name": "string",
    "source.author.email": "string", "source.url": "string",
    "contact_ids": "string", "teammate_ids": "string",
    "admin_assignee_id": "integer", "team_assignee_id": "integer",
    "open": "boolean", "read": "boolean", "state": "string",
    "waiting_since": "date", "snoozed_until": "date", "tag_ids": "string",
    "priority": "string", "ai_agent_participated": "boolean",
    "statistics.time_to_assignment": "integer", "statistics.time_to_admin_reply": "integer",
    "statistics.time_to_first_close": "integer", "statistics.time_to_last_close": "integer",
    "statistics.median_time_to_reply": "integer",
    "statistics.first_contact_reply_at": "date", "statistics.first_assignment_at": "date",
    "statistics.first_admin_reply_at": "date", "statistics.first_close_at": "date",
    "statistics.last_assignment_at": "date",
    "statistics.last_assignment_admin_reply_at": "date",
    "statistics.last_contact_reply_at": "date", "statistics.last_admin_reply_at": "date",
    "statistics.last_close_at": "date", "statistics.last_closed_by_id": "string",
    "statistics.count_reopens": "integer", "statistics.count_assignments": "integer",
    "statistics.count_conversation_parts": "integer",
    "conversation_rating.requested_at": "date", "conversation_rating.replied_at": "date",
    "conversation_rating.score": "integer", "conversation_rating.remark": "string",
    "conversation_rating.contact_id": "string", "conversation_rating.admin_id": "string",
}
#: Operators valid per field type (Intercom's "Accepted Operators").
OPERATORS: dict[str, frozenset[str]] = {
    "string": frozenset({"=", "!=", "IN", "NIN", "~", "!~", "^", "$"}),
    "date": frozenset({"=", "!=", "IN", "NIN", ">", "<"}),
    "integer": frozenset({"=", "!=", "IN", "NIN", ">", "<"}),
    "boolean": frozenset({"=", "!=", "IN", "NIN"}),
}


def epoch(moment: Any) -> int | None:
    """Unix seconds of a datetime (``None`` stays ``None``)."""
    return None if moment is None else int(utc(moment).timestamp())


def error_list(code: str, message: str) -> dict[str, Any]:
    """Intercom's error envelope: an ``error.list`` with one error."""
    return {"type": "error.list", "request_id": str(uuid.uuid4()),
            "errors": [{"code": code, "message": message}]}


class IntercomError(Exception):
    """An error answer with Intercom's ``error.list`` body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = error_list(code, message)


def invalid(message: str) -> IntercomError:
    """A 400 ``parameter_invalid`` (Intercom documents the code, not the search messages)."""
    return IntercomError(400, "parameter_invalid", message)


# -- what Intercom derives from the parts ------------------------------------------------------


@dataclass(slots=True)
class ConversationState:
    """A conversation as of its last part: what :func:`derive_conversation` computes."""

    state: str
    open: bool
    read: bool
    updated_at: int
    waiting_since: int | None
    snoozed_until: int | None
    admin_assignee_id: int | None
    team_assignee_id: int | None
    first_contact_reply_at: int | None
    teammate_ids: list[int]
    statistics: dict[str, Any]
    part_ids: list[int] = field(default_factory=list)


def part_id(conversation: IntercomConversation, position: int, part: IntercomPart) -> int:
    """A part's id: its own, else ``conversation_id * 100000 + position + 1``."""
    return part.id if part.id is not None else conversation.id * 100_000 + position + 1


#: Part types whose body the customer sees: a reply, or one sent with a close. A body on an
#: assignment (or a snooze) shows as a note in the inbox ("appears as note", Intercom's
#: reference on assigning a conversation), like the notes themselves.
VISIBLE_PART_TYPES = frozenset({"comment", "open", "close"})


def is_admin_reply(part: IntercomPart) -> bool:
    """A visible human admin part: written by a teammate (not the bot), a part type the
    customer sees, with a body (what Intercom's ``first_admin_reply_at`` and reply times
    count)."""
    return part.author == "admin" and part.part_type in VISIBLE_PART_TYPES and bool(part.body)


def is_contact_text(part: IntercomPart) -> bool:
    """A text part from the contact (a comment, or the message that reopened it)."""
    return part.author == "contact" and part.part_type in CONTACT_TEXT_PARTS \
        and bool(part.body)


def derive_conversation(conversation: IntercomConversation) -> ConversationState:
    """Replay a conversation's parts into its state and ``statistics``.

    Statistics follow Intercom's definitions ("Reporting metrics for REST API and CSV
    exports" and the 2.11 ``conversation_statistics`` model), everything relative to
    ``first_contact_reply_at`` (the contact's opening message, else its first text part);
    durations are calendar seconds (the sandbox workspace has no office hours).
    """
    created = epoch(conversation.created_at)
    assert created is not None
    timed = [(epoch(p.at), p) for p in conversation.parts]
    contact_opened = conversation.delivered_as != "admin_initiated"
    state = "open" if contact_opened else "closed"
    snoozed_until: int | None = None
    admin_assignee: int | None = None
    team_assignee: int | None = None
    for _, part in timed:
        kind = part.part_type
        if kind == "close":
            state, snoozed_until = "closed", None
        elif kind == "snoozed":
            state, snoozed_until = "snoozed", epoch(part.snoozed_until)
        elif kind in OPENING_PARTS or kind in UNSNOOZING_PARTS:
            state, snoozed_until = "open", None
        if kind in ASSIGNMENT_PARTS and part.assigned_to is not None:
            target, target_id = part.assigned_to
            if target == "admin":
                admin_assignee = target_id
            elif target == "team":
                team_assignee = target_id
            else:  # nobody_admin: unassigned
                admin_assignee = None
    first_contact: int | None = created if contact_opened else next(
        (t for t, p in timed if is_contact_text(p)), None)
    stats = _statistics(first_contact, timed, len(conversation.parts))
    # waiting since: the first contact message not yet answered by a teammate
    waiting: int | None = created if contact_opened else None
    for t, part in timed:
        if is_contact_text(part):
            waiting = t if waiting is None else waiting
        elif is_admin_reply(part):
            waiting = None
    last_activity = max([created, *(t for t, _ in timed)])
    if conversation.rating is not None:
        last_activity = max(last_activity, epoch(conversation.rating.replied_at) or 0)
    last_contact = max((t for t, p in timed if p.author == "contact"), default=None)
    last_admin = max((t for t, p in timed if p.author in ("admin", "bot")), default=None)
    read = conversation.read if conversation.read is not None else \
        last_admin is not None and (last_contact is None or last_admin >= last_contact)
    teammates = list(dict.fromkeys(p.admin_id for _, p in timed
                                   if p.author == "admin" and p.admin_id is not None))
    return ConversationState(
        state=state, open=state != "closed", read=read, updated_at=last_activity,
        waiting_since=waiting, snoozed_until=snoozed_until,
        admin_assignee_id=admin_assignee, team_assignee_id=team_assignee,
        first_contact_reply_at=first_contact, teammate_ids=teammates, statistics=stats,
        part_ids=[part_id(conversation, k, p) for k, p in enumerate(conversation.parts)])


def _statistics(first_contact: int | None, timed: list[tuple[int | None, IntercomPart]],
                n_parts: int) -> dict[str, Any]:
    """Intercom's ``conversation_statistics`` from the timed parts."""
    stats: dict[str, Any] = {
        "type": "conversation_statistics", "time_to_assignment": None,
        "time_to_admin_reply": None, "time_to_first_close": None, "time_to_last_close": None,
        "median_time_to_reply": None, "first_contact_reply_at": first_contact,
        "first_assignment_at": None, "first_admin_reply_at": None, "first_close_at": None,
        "last_assignment_at": None, "last_assignment_admin_reply_at": None,
        "last_contact_reply_at": None, "last_admin_reply_at": None, "last_close_at": None,
        "last_closed_by_id": None, "count_reopens": 0, "count_assignments": 0,
        "count_conversation_parts": n_parts}
    if first_contact is None:
        return stats
    after = [(t, p) for t, p in timed if t is not None and t >= first_contact]
    assignments = [t for t, p in after if p.part_type in ASSIGNMENT_PARTS]
    replies = [t for t, p in after if is_admin_reply(p)]
    closes = [(t, p) for t, p in after if p.part_type == "close"]
    contact_texts = [t for t, p in after if is_contact_text(p)]
    first_reply = replies[0] if replies else None
    before_reply = [t for t in assignments if first_reply is None or t <= first_reply]
    last_assignment = assignments[-1] if assignments else None
    reply_after_assignment = None if last_assignment is None else next(
        (t for t in replies if t >= last_assignment), None)
    stats.update(
        first_assignment_at=assignments[0] if assignments else None,
        last_assignment_at=last_assignment,
        first_admin_reply_at=first_reply,
        last_admin_reply_at=replies[-1] if replies else None,
        last_assignment_admin_reply_at=reply_after_assignment,
        first_close_at=closes[0][0] if closes else None,
        last_close_at=closes[-1][0] if closes else None,
        last_contact_reply_at=max([first_contact, *contact_texts]),
        count_assignments=len(assignments),
        count_reopens=sum(1 for t, p in after
                          if p.part_type in OPENING_PARTS and t > first_contact),
        time_to_assignment=before_reply[-1] - first_contact if before_reply else None,
        time_to_admin_reply=first_reply - first_contact if first_reply is not None else None,
        time_to_first_close=closes[0][0] - first_contact if closes else None,
        time_to_last_close=closes[-1][0] - first_contact if closes else None,
    )
    if closes:
        _, last_close = closes[-1]
        stats["last_closed_by_id"] = None if last_close.admin_id is None \
            else str(last_close.admin_id)
    # reply times: each teammate reply that answers a contact who was waiting, from the
    # first message the contact sent since the previous reply
    times: list[int] = []
    waiting: int | None = first_contact
    for t, part in after:
        if is_contact_text(part):
            waiting = t if waiting is None else waiting
        elif is_admin_reply(part) and waiting is not None:
            times.append(t - waiting)
            waiting = None
    if times:
        stats["median_time_to_reply"] = int(statistics.median(times))
    return stats


# -- rendering ----------------------------------------------------------------------------------


_TAGS = re.compile(r"<[^>]+>")


def plaintext(body: str | None) -> str | None:
    """A body without its HTML (``display_as=plaintext``)."""
    return None if body is None else html.unescape(_TAGS.sub("", body))


def tag_id(name: str) -> str:
    """A stable id for a tag name."""
    return str(1_000_000 + zlib.crc32(name.encode()) % 9_000_000)


def encode_cursor(updated_at: int, conversation_id: int, page: int) -> str:
    """An opaque cursor like Intercom's (``WzE3Mj...``): base64 of ``[sort value in ms, id,
    next page]``."""
    raw = json.dumps([updated_at * 1000, conversation_id, page], separators=(",", ":"))
    return base64.b64encode(raw.encode()).decode()


def decode_cursor(token: str) -> tuple[int, int, int]:
    """``(updated_at, id, page)`` of a cursor; a cursor the sandbox did not issue → 400."""
    try:
        values = json.loads(base64.b64decode(token.encode(), validate=True))
        millis, conversation_id, page = values
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise ValueError(token)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise invalid(f"starting_after is invalid: {token}") from None
    return millis // 1000, conversation_id, page


@dataclass(slots=True)
class CompanyScroll:
    """The app's open companies scroll: its param, the next company's index, last use."""

    param: str
    position: int
    last_used: float


class IntercomApi:
    """The Intercom endpoints the sandbox serves, with Intercom's auth, limits and errors.

    ``clock`` (monotonic seconds) times the rate-limit windows and the scroll expiry; it is
    read at each use, so a test may replace ``api.clock``.
    """

    prefixes = ("/conversations", "/admins", "/teams", "/me", "/contacts", "/companies")

    def __init__(self, world: World, token: str = DEFAULT_INTERCOM_TOKEN,
                 rate_limit_per_10s: int | None = 1000,
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.world = world
        self.token = token
        self.clock = clock
        self.limiter = SlidingWindowLimiter(rate_limit_per_10s, window=10.0, clock=clock)
        self.wall_clock = wall_clock
        #: The ``Intercom-Version`` header of every authenticated request (None: absent).
        self.versions: list[str | None] = []
        self.admins = sorted(world.intercom_admins, key=lambda a: a.id)
        self.admins_by_id = {a.id: a for a in self.admins}
        self.teams = sorted(world.intercom_teams, key=lambda t: t.id)
        self.conversations = {c.id: c for c in world.intercom_conversations}
        self.states = {c.id: derive_conversation(c) for c in world.intercom_conversations}
        #: List items (no parts) in search order, and their searchable fields.
        self._items = {cid: self._render(c, self.states[cid], parts=False)
                       for cid, c in self.conversations.items()}
        self._fields = {cid: _search_fields(item) for cid, item in self._items.items()}
        for cid, conversation in self.conversations.items():
            if conversation.rating is not None:
                self._fields[cid]["conversation_rating.replied_at"] = epoch(
                    conversation.rating.replied_at)
        self._order = sorted(self.conversations,
                             key=lambda cid: (self.states[cid].updated_at, cid))
        # contacts (each conversation's, once) and companies, served in id order
        self.contacts: dict[str, IntercomContact] = {}
        for conversation in world.intercom_conversations:
            self.contacts.setdefault(conversation.contact.id, conversation.contact)
        self.companies = {c.id: c for c in sorted(world.intercom_companies, key=lambda c: c.id)}
        self.user_counts = dict.fromkeys(self.companies, 0)
        for contact in self.contacts.values():
            for company_id in dict.fromkeys(contact.company_ids):
                if company_id in self.user_counts:
                    self.user_counts[company_id] += 1
        self._company_order = list(self.companies)
        self._scroll: CompanyScroll | None = None
        self._scroll_lock = threading.Lock()
        self.fault_bodies = {
            401: self.unauthorized().body,
            403: error_list("api_plan_restricted", "Active subscription needed."),
            404: error_list("not_found", "Resource Not Found"),
            429: error_list("rate_limit_exceeded",
                            f"Exceeded rate limit of {rate_limit_per_10s or 1000} in "
                            "10_seconds"),
            500: error_list("server_error", "Server Error"),
            502: error_list("server_error", "Bad Gateway"),
            503: error_list("service_unavailable", "Service Unavailable"),
            504: error_list("request_timeout", "The request timed out"),
        }

    # -- auth and limits ----------------------------------------------------------------------

    def authenticate(self, header: str | None) -> bool:
        """Whether the header is ``Bearer <the access token>``."""
        return bearer_token(header) == self.token

    def unauthorized(self) -> VendorResponse:
        """Intercom's 401 answer (no rate-limit headers: the request has no valid token)."""
        return VendorResponse(401, error_list("unauthorized", "Access Token Invalid"))

    def reset_rate_limits(self) -> None:
        """Forget counted requests."""
        self.limiter.reset()

    def rate_limit(self, request: CrmRequest) -> tuple[VendorResponse | None, dict[str, str]]:
        """Count a request in the 10-second window; a 429 when over it, plus the headers."""
        self.versions.append(next((v for k, v in request.headers.items()
                                   if k.lower() == "intercom-version"), None))
        ok, remaining, wait = self.limiter.acquire()
        limit = self.limiter.limit
        if limit is None:
            return None, {}
        headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining),
                   # Rounded up: a reset a client waits for must not come before the slot.
                   "X-RateLimit-Reset": str(math.ceil(self.wall_clock()) + wait)}
        if not ok:
            return VendorResponse(429, error_list(
                "rate_limit_exceeded", f"Exceeded rate limit of {limit} in 10_seconds"),
                headers), headers
        return None, headers

    # -- routing ------------------------------------------------------------------------------

    _ONE = re.compile(r"/(conversations|admins|teams)/([^/]+)")
    _COMPANY = re.compile(r"/companies/([^/]+)")
    _CONTACT = re.compile(r"/contacts/([^/]+)(/companies)?")

    def handle(self, request: CrmRequest) -> VendorResponse:
        """Answer one request under the Intercom paths."""
        path = request.path.rstrip("/") or "/"
        try:
            if path == "/conversations/search":
                self._method(request, "POST")
                return self.search(request)
            if path == "/conversations":
                self._method(request, "GET")
                return self.list_conversations(request)
            if path in ("/admins", "/teams", "/me"):
                self._method(request, "GET")
                if path == "/me":
                    return VendorResponse(200, self._me(request))
                if path == "/admins":
                    return VendorResponse(200, {"type": "admin.list", "admins": [
                        self._admin(a) for a in self.admins]})
                return VendorResponse(200, {"type": "team.list", "teams": [
                    self._team(t) for t in self.teams]})
            if (match := self._ONE.fullmatch(path)) is not None:
                self._method(request, "GET")
                return self._one(match.group(1), match.group(2), request)
            if path == "/companies/scroll":
                self._method(request, "GET")
                return self.scroll_companies(request)
            if (match := self._COMPANY.fullmatch(path)) is not None:
                self._method(request, "GET")
                return VendorResponse(200, self._company(self._find_company(match.group(1))))
            if (match := self._CONTACT.fullmatch(path)) is not None:
                self._method(request, "GET")
                contact = self._find_contact(match.group(1))
                if match.group(2):
                    return self.attached_companies(contact, request)
                return VendorResponse(200, self._contact(contact))
        except IntercomError as exc:
            return VendorResponse(exc.status, exc.body)
        return VendorResponse(404, error_list("not_found", "Resource Not Found"))

    @staticmethod
    def _method(request: CrmRequest, allowed: str) -> None:
        if request.method != allowed:
            raise IntercomError(405, "not_allowed",
                                f"{request.method} is not served by the sandbox here")

    def _one(self, kind: str, raw_id: str, request: CrmRequest) -> VendorResponse:
        key = int(raw_id) if raw_id.isdigit() else None
        if kind == "conversations" and key in self.conversations:
            plain = (request.query.get("display_as") or [""])[-1] == "plaintext"
            conversation = self.conversations[key]
            return VendorResponse(200, self._render(conversation, self.states[key],
                                                    parts=True, plain=plain))
        if kind == "admins" and key in self.admins_by_id:
            return VendorResponse(200, self._admin(self.admins_by_id[key]))
        team = next((t for t in self.teams if t.id == key), None)
        if kind == "teams" and team is not None:
            return VendorResponse(200, self._team(team))
        if kind == "admins":
            raise IntercomError(404, "admin_not_found", "Admin not found")
        if kind == "teams":
            raise IntercomError(404, "team_not_found", "Team not found")
        raise IntercomError(404, "not_found", "Resource Not Found")

    # -- objects ------------------------------------------------------------------------------

    def _admin(self, admin: IntercomAdmin) -> dict[str, Any]:
        return {"type": "admin", "email": admin.email, "id": str(admin.id), "name": admin.name,
                "away_mode_enabled": admin.away_mode_enabled,
                "away_mode_reassign": admin.away_mode_reassign,
                "has_inbox_seat": admin.has_inbox_seat, "team_ids": list(admin.team_ids),
                "job_title": admin.job_title,
                "avatar": {"type": "avatar", "image_url": AVATAR}}

    @staticmethod
    def _team(team: IntercomTeam) -> dict[str, Any]:
        return {"type": "team", "id": str(team.id), "name": team.name,
                "admin_ids": list(team.admin_ids), "admin_priority_level": None}

    def _me(self, request: CrmRequest) -> dict[str, Any]:
        """The admin the token belongs to: the first human admin (a generated world's owner)."""
        owner = next((a for a in self.admins if not a.is_bot), None)
        base = self._admin(owner) if owner is not None else {
            "type": "admin", "id": "0", "name": "Sandbox Owner",
            "email": "owner@sandbox.example", "has_inbox_seat": True,
            "avatar": {"type": "avatar", "image_url": AVATAR}}
        return {**base, "email_verified": True, "app": {
            "type": "app", "id_code": APP_ID, "name": "Helpdesk Sandbox",
            "created_at": 1_577_836_800, "secure": False, "identity_verification": False,
            "timezone": "Etc/UTC", "region": "US"}}

    def _author(self, conversation: IntercomConversation, who: str,
                admin_id: int | None) -> dict[str, Any]:
        if who == "contact":
            contact = conversation.contact
            return {"id": contact.id, "type": contact.role, "name": contact.name,
                    "email": contact.email or ""}
        admin = self.admins_by_id.get(admin_id) if admin_id is not None else None
        return {"id": str(admin_id) if admin_id is not None else None,
                "type": "bot" if who == "bot" else "admin",
                "name": admin.name if admin else ("Operator" if who == "bot" else None),
                "email": admin.email if admin else (
                    f"operator+{APP_ID}@intercom.io" if who == "bot" else "")}

    def _render(self, conversation: IntercomConversation, st: ConversationState, *,
                parts: bool, plain: bool = False) -> dict[str, Any]:
        """A conversation as Intercom 2.11 serves it (with its parts only when ``parts``)."""
        text = plaintext if plain else (lambda body: body)
        contact = conversation.contact
        source_author = ("contact", None) if conversation.delivered_as != "admin_initiated" \
            else ("admin", conversation.source_admin_id)
        created = epoch(conversation.created_at)
        rating = conversation.rating
        tags = [{"type": "tag", "id": tag_id(name), "name": name, "applied_at": created,
                 "applied_by": {"type": "admin", "id": str(st.teammate_ids[0])}
                 if st.teammate_ids else None} for name in conversation.tags]
        body: dict[str, Any] = {
            "type": "conversation",
            "id": str(conversation.id),
            "title": conversation.title,
            "created_at": created,
            "updated_at": st.updated_at,
            "waiting_since": st.waiting_since,
            "snoozed_until": st.snoozed_until,
            "source": {
                "type": conversation.source_type,
                "id": str(conversation.id * 100_000),
                "delivered_as": conversation.delivered_as,
                "subject": conversation.subject,
                "body": text(conversation.body),
                "author": self._author(conversation, *source_author),
                "attachments": [],
                "url": conversation.url,
                "redacted": False,
            },
            "contacts": {"type": "contact.list", "contacts": [
                {"type": "contact", "id": contact.id, "external_id": contact.external_id}]},
            "first_contact_reply": None if st.first_contact_reply_at is None else {
                "created_at": st.first_contact_reply_at, "type": conversation.source_type,
                "url": conversation.url},
            "admin_assignee_id": st.admin_assignee_id,
            "team_assignee_id": st.team_assignee_id,
            "open": st.open,
            "state": st.state,
            "read": st.read,
            "tags": {"type": "tag.list", "tags": tags},
            "priority": conversation.priority,
            "sla_applied": None,
            "statistics": dict(st.statistics),
            "conversation_rating": None if rating is None else {
                "rating": rating.rating, "remark": rating.remark or "",
                "created_at": epoch(rating.requested_at),
                "contact": {"type": "contact", "id": contact.id,
                            "external_id": contact.external_id},
                "teammate": {"type": "admin", "id": str(rating.admin_id)}},
            "teammates": {"type": "admin.list", "teammates": [
                {"type": "admin", "id": str(a)} for a in st.teammate_ids]},
            "custom_attributes": dict(conversation.custom_attributes),
            "topics": {},
            "ticket": None,
            "linked_objects": {"type": "list", "data": [], "total_count": 0,
                               "has_more": False},
            "ai_agent": None,
            "ai_agent_participated": conversation.ai_agent_participated,
        }
        if parts:
            served = list(enumerate(conversation.parts))[-PART_LIMIT:]
            body["conversation_parts"] = {
                "type": "conversation_part.list",
                "conversation_parts": [self._part(conversation, st.part_ids[k], p, text)
                                       for k, p in served],
                "total_count": len(conversation.parts)}
        return body

    def _part(self, conversation: IntercomConversation, pid: int, part: IntercomPart,
              text: Callable[[str | None], str | None]) -> dict[str, Any]:
        at = epoch(part.at)
        assigned = None
        if part.assigned_to is not None:
            kind, target = part.assigned_to
            assigned = {"type": kind, "id": None if target is None else str(target)}
        return {"type": "conversation_part", "id": str(pid), "part_type": part.part_type,
                "body": text(part.body), "created_at": at, "updated_at": at,
                "notified_at": at, "assigned_to": assigned,
                "author": self._author(conversation, part.author, part.admin_id),
                "attachments": [], "external_id": None, "redacted": part.redacted}

    # -- contacts and companies ---------------------------------------------------------------

    def _find_contact(self, contact_id: str) -> IntercomContact:
        contact = self.contacts.get(contact_id)
        if contact is None:
            raise IntercomError(404, "not_found", "User Not Found")
        return contact

    def _find_company(self, company_id: str) -> IntercomCompany:
        company = self.companies.get(company_id)
        if company is None:
            raise IntercomError(404, "company_not_found", "Company Not Found")
        return company

    def _company_ids(self, contact: IntercomContact) -> list[str]:
        """The contact's companies that exist in the world, once each, in its order."""
        return [c for c in dict.fromkeys(contact.company_ids) if c in self.companies]

    def _company(self, company: IntercomCompany) -> dict[str, Any]:
        """A company as Intercom 2.11 serves it."""
        created = epoch(company.created_at)
        plan: dict[str, Any] = {} if not company.plan else {
            "type": "plan", "id": tag_id(f"plan:{company.plan}"), "name": company.plan}
        return {
            "type": "company", "company_id": company.company_id, "id": company.id,
            "app_id": APP_ID, "name": company.name, "remote_created_at": created,
            "created_at": created,
            "updated_at": epoch(company.updated_at) if company.updated_at else created,
            "last_request_at": None,
            # the 2.11 company model types it integer: whole units, truncated
            "monthly_spend": int(company.monthly_spend), "session_count": 0,
            "user_count": self.user_counts.get(company.id, 0), "size": company.size,
            "website": company.website, "industry": company.industry,
            "tags": {"type": "tag.list", "tags": []},
            "segments": {"type": "segment.list", "segments": []},
            "plan": plan, "custom_attributes": {},
        }

    @staticmethod
    def _addressable(contact: IntercomContact, what: str,
                     data: list[dict[str, Any]] | None = None, total: int = 0,
                     path: str | None = None) -> dict[str, Any]:
        return {"type": "list", "data": data or [],
                "url": f"/contacts/{contact.id}/{path or what}", "total_count": total,
                "has_more": total > len(data or [])}

    def _contact(self, contact: IntercomContact) -> dict[str, Any]:
        """A contact as Intercom 2.11 serves it (its example's key order)."""
        created = epoch(contact.created_at)
        company_ids = self._company_ids(contact)
        shown = [{"type": "company", "id": cid, "url": f"/companies/{cid}"}
                 for cid in company_ids[:CONTACT_COMPANIES_SHOWN]]
        body: dict[str, Any] = {
            "type": "contact", "id": contact.id, "workspace_id": APP_ID,
            "external_id": contact.external_id, "role": contact.role, "email": contact.email,
            "phone": None, "name": contact.name, "avatar": None, "owner_id": None,
            "social_profiles": {"type": "list", "data": []},
            "has_hard_bounced": False, "marked_email_as_spam": False,
            "unsubscribed_from_emails": False, "created_at": created,
            "updated_at": epoch(contact.updated_at) if contact.updated_at else created,
            # users sign up; leads (anonymous visitors) have no sign-up time
            "signed_up_at": created if contact.role == "user" else None,
        }
        body.update(dict.fromkeys(CONTACT_NULL_FIELDS))
        body["location"] = {"type": "location", "country": None, "region": None,
                            "city": None, "country_code": None, "continent_code": None}
        body.update(dict.fromkeys(CONTACT_DEVICE_FIELDS))
        body.update({
            "custom_attributes": {},
            "tags": self._addressable(contact, "tags"),
            "notes": self._addressable(contact, "notes"),
            "companies": self._addressable(contact, "companies", shown, len(company_ids)),
            "opted_out_subscription_types": self._addressable(
                contact, "opted_out_subscription_types", path="subscriptions"),
            "opted_in_subscription_types": self._addressable(
                contact, "opted_in_subscription_types", path="subscriptions"),
        })
        body.update(dict.fromkeys(CONTACT_UTM_FIELDS))
        return body

    def attached_companies(self, contact: IntercomContact,
                           request: CrmRequest) -> VendorResponse:
        """``GET /contacts/{id}/companies``: the contact's companies in full, by page number
        (``page``, ``per_page``), as 2.11's recorded example answers: ``data`` and a
        ``pages`` object whose ``next`` is a link (``null`` on the last page)."""
        per_page = self._bounded(self._query(request, "per_page"), "per_page",
                                 ATTACHED_DEFAULT_PER_PAGE, ATTACHED_MAX_PER_PAGE)
        page = self._bounded(self._query(request, "page"), "page", 1, 1_000_000)
        ids = self._company_ids(contact)
        total_pages = -(-len(ids) // per_page)
        chunk = ids[(page - 1) * per_page: page * per_page]
        next_link = None if page >= total_pages else \
            f"{request.base_url}/contacts/{contact.id}/companies?page={page + 1}" \
            f"&per_page={per_page}"
        return VendorResponse(200, {
            "type": "list", "data": [self._company(self.companies[cid]) for cid in chunk],
            "pages": {"type": "pages", "next": next_link, "page": page, "per_page": per_page,
                      "total_pages": total_pages},
            "total_count": len(ids)})

    def scroll_companies(self, request: CrmRequest) -> VendorResponse:
        """``GET /companies/scroll``: every company once, ``SCROLL_PAGE_SIZE`` a page in id
        order, the end an empty page. One scroll per app: opening one while another is open
        → 400 ``scroll_exists``; a param unused for a minute, finished, or never issued →
        404 ``not_found`` "scroll parameter not found"."""
        param = (request.query.get("scroll_param") or [""])[-1]
        with self._scroll_lock:
            now = self.clock()
            scroll = self._scroll
            if scroll is not None and now - scroll.last_used >= SCROLL_EXPIRY_SECONDS:
                scroll = self._scroll = None
            if not param:
                if scroll is not None:
                    raise IntercomError(400, "scroll_exists",
                                        "scroll already exists for this workspace")
                scroll = self._scroll = CompanyScroll(str(uuid.uuid4()), 0, now)
            elif scroll is None or scroll.param != param:
                raise IntercomError(404, "not_found", "scroll parameter not found")
            chunk = self._company_order[scroll.position: scroll.position + SCROLL_PAGE_SIZE]
            scroll.position += len(chunk)
            scroll.last_used = now
            if not chunk:  # the end: the param expires with it
                self._scroll = None
            served = scroll.param
        return VendorResponse(200, {
            "type": "list", "data": [self._company(self.companies[cid]) for cid in chunk],
            "pages": None, "total_count": None, "scroll_param": served})

    # -- list and search ----------------------------------------------------------------------

    @staticmethod
    def _bounded(raw: Any, name: str = "per_page", default: int = DEFAULT_PER_PAGE,
                 top: int = MAX_PER_PAGE) -> int:
        """A whole-number parameter `name` in [1, `top`] (`default` when absent): a page
        size or number, from the query string or a search body."""
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
            if isinstance(raw, bool) or (isinstance(raw, float) and raw != value):
                raise ValueError(raw)
        except (TypeError, ValueError):
            raise invalid(f"{name} must be an integer, got {raw!r}") from None
        if not 1 <= value <= top:
            raise invalid(f"{name} must be between 1 and {top}, got {value}")
        return value

    @staticmethod
    def _query(request: CrmRequest, name: str) -> str:
        """The last value of query parameter `name` ("" when absent)."""
        return (request.query.get(name) or [""])[-1]

    def _page(self, ordered: list[int], per_page: int, cursor: str | None,
              total: int, descending: bool = False) -> dict[str, Any]:
        """One page of ``ordered`` (ids in serving order) after the keyset ``cursor``."""
        page_no = 1
        if cursor:
            updated, last_id, page_no = decode_cursor(cursor)
            mark = (updated, last_id)
            ordered = [cid for cid in ordered
                       if ((self.states[cid].updated_at, cid) < mark if descending
                           else (self.states[cid].updated_at, cid) > mark)]
        chunk = ordered[:per_page]
        pages: dict[str, Any] = {"type": "pages", "page": page_no, "per_page": per_page,
                                 "total_pages": -(-total // per_page)}
        if len(ordered) > per_page:
            last = chunk[-1]
            pages["next"] = {"page": page_no + 1, "starting_after": encode_cursor(
                self.states[last].updated_at, last, page_no + 1)}
        return {"type": "conversation.list", "pages": pages, "total_count": total,
                "conversations": [self._items[cid] for cid in chunk]}

    def list_conversations(self, request: CrmRequest) -> VendorResponse:
        """``GET /conversations``: every conversation, most recently updated first."""
        per_page = self._bounded(self._query(request, "per_page"))
        cursor = (request.query.get("starting_after") or [""])[-1] or None
        ordered = list(reversed(self._order))
        return VendorResponse(200, self._page(ordered, per_page, cursor, len(ordered),
                                              descending=True))

    def search(self, request: CrmRequest) -> VendorResponse:
        """``POST /conversations/search``: filter, then page in ``(updated_at, id)`` order."""
        try:
            spec = json.loads(request.body or b"{}")
        except ValueError:
            raise IntercomError(400, "bad_request", "The request body is not valid JSON") \
                from None
        if not isinstance(spec, dict):
            raise IntercomError(400, "bad_request", "The request body must be a JSON object")
        if "query" not in spec:
            raise IntercomError(400, "parameter_not_found", "query parameter is required")
        predicate = compile_query(spec["query"])
        pagination = spec.get("pagination") or {}
        if not isinstance(pagination, dict):
            raise invalid("pagination must be an object")
        per_page = self._bounded(pagination.get("per_page"))
        cursor = pagination.get("starting_after")
        if cursor is not None and not isinstance(cursor, str):
            raise invalid("starting_after must be a string")
        matches = [cid for cid in self._order if predicate(self._fields[cid])]
        return VendorResponse(200, self._page(matches, per_page, cursor, len(matches)))


# -- the search query --------------------------------------------------------------------------


Fields = dict[str, Any]


def _search_fields(item: dict[str, Any]) -> Fields:
    """The searchable values of a rendered conversation (lists for the ``*_ids`` fields)."""
    source = item["source"]
    rating = item["conversation_rating"] or {}
    out: Fields = {
        "id": item["id"], "created_at": item["created_at"], "updated_at": item["updated_at"],
        "source.type": source["type"], "source.id": source["id"],
        "source.delivered_as": source["delivered_as"], "source.subject": source["subject"],
        "source.body": source["body"], "source.url": source["url"],
        "contact_ids": [c["id"] for c in item["contacts"]["contacts"]],
        "teammate_ids": [t["id"] for t in item["teammates"]["teammates"]],
        "admin_assignee_id": item["admin_assignee_id"],
        "team_assignee_id": item["team_assignee_id"],
        "open": item["open"], "read": item["read"], "state": item["state"],
        "waiting_since": item["waiting_since"], "snoozed_until": item["snoozed_until"],
        "tag_ids": [t["id"] for t in item["tags"]["tags"]], "priority": item["priority"],
        "ai_agent_participated": item["ai_agent_participated"],
        "conversation_rating.requested_at": rating.get("created_at"),
        "conversation_rating.replied_at": None,
        "conversation_rating.score": rating.get("rating"),
        "conversation_rating.remark": rating.get("remark"),
        "conversation_rating.contact_id": (rating.get("contact") or {}).get("id"),
        "conversation_rating.admin_id": (rating.get("teammate") or {}).get("id"),
    }
    for key in ("id", "type", "name", "email"):
        out[f"source.author.{key}"] = source["author"].get(key)
    for key, value in item["statistics"].items():
        out[f"statistics.{key}"] = value
    return out


def _typed(value: Any, kind: str, name: str) -> Any:
    """A filter value as the field's type; a value of the wrong type → 400."""
    if value is None:
        return None
    if kind in ("date", "integer"):
        if isinstance(value, bool) or not isinstance(value, int | str) or \
                (isinstance(value, str) and not re.fullmatch(r"-?\d+", value.strip())):
            raise invalid(f"{value!r} is not a valid value for {name} ({kind})")
        return int(value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise invalid(f"{value!r} is not a valid value for {name} (boolean)")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise invalid(f"{value!r} is not a valid value for {name} (string)")
    return str(value)


def compile_query(node: Any, depth: int = 0) -> Callable[[Fields], bool]:
    """A predicate for a search ``query`` (validated as Intercom documents it; 400 else)."""
    if not isinstance(node, dict):
        raise invalid("query must be an object")
    operator = node.get("operator")
    if "field" not in node:
        if operator not in ("AND", "OR"):
            raise invalid(f"operator {operator!r} needs a field (or use AND / OR with a "
                          "list of filters)")
        children = node.get("value")
        if not isinstance(children, list) or not children:
            raise invalid(f"{operator} needs a non-empty list of filters as value")
        if depth >= MAX_NESTING:
            raise invalid(f"There's a limit of max {MAX_NESTING} nested filters")
        if len(children) > MAX_GROUP_FILTERS:
            raise invalid(f"There's a limit of max {MAX_GROUP_FILTERS} filters for each "
                          "AND or OR group")
        preds = [compile_query(child, depth + 1) for child in children]
        if operator == "AND":
            return lambda f: all(p(f) for p in preds)
        return lambda f: any(p(f) for p in preds)
    name = node.get("field")
    kind = SEARCH_FIELDS.get(name) if isinstance(name, str) else None
    if kind is None:
        raise invalid(f"{name!r} is not a searchable conversation field")
    if operator not in OPERATORS[kind]:
        raise invalid(f"operator {operator!r} is not valid for {name} ({kind}); valid: "
                      f"{', '.join(sorted(OPERATORS[kind]))}")
    if "value" not in node:
        raise IntercomError(400, "parameter_not_found", f"value is required for {name}")
    raw = node["value"]
    if operator in ("IN", "NIN"):
        if not isinstance(raw, list):
            raise invalid(f"{operator} needs a list of values for {name}")
        values = {_typed(v, kind, name) for v in raw}
        return lambda f: _any(f.get(name), lambda a: a in values) == (operator == "IN")
    if isinstance(raw, list | dict):
        raise invalid(f"{operator} needs a single value for {name}")
    value = _typed(raw, kind, name)
    return _leaf(name, operator, value)


def _any(actual: Any, test: Callable[[Any], bool]) -> bool:
    """``test`` on a value, or on any element of a list-valued field (``contact_ids``...)."""
    if isinstance(actual, list):
        return any(test(a) for a in actual)
    return test(actual)


def _leaf(name: str, operator: str, value: Any) -> Callable[[Fields], bool]:
    def norm(actual: Any) -> Any:
        return str(actual) if isinstance(value, str) and actual is not None else actual

    if operator == "=":
        return lambda f: _any(f.get(name), lambda a: norm(a) == value)
    if operator == "!=":
        return lambda f: not _any(f.get(name), lambda a: norm(a) == value)
    if operator in (">", "<"):
        # strict, as Intercom behaves (its operator table says "or equal"; see docs/sandbox.md)
        if operator == ">":
            return lambda f: f.get(name) is not None and f[name] > value
        return lambda f: f.get(name) is not None and f[name] < value
    needle = str(value).lower()
    if operator == "!~":
        return lambda f: not _any(f.get(name), lambda a: a is not None and
                                  needle in str(a).lower())
    tests: dict[str, Callable[[str], bool]] = {
        "~": lambda a: needle in a, "^": lambda a: a.startswith(needle),
        "$": lambda a: a.endswith(needle)}
    test = tests[operator]
    return lambda f: _any(f.get(name), lambda a: a is not None and test(str(a).lower()))

