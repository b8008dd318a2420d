"""Routes of the simulated Zendesk Support / Talk API over one :class:`~sandbox.world.World`.

:class:`ZendeskApi` is transport-free: ``handle(method, path, query, base_url)``
returns an :class:`ApiResponse`; :mod:`sandbox.server` adds HTTP, auth, rate
limits and faults. Paths are accepted with or without the ``.json`` suffix.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sandbox import serialize
from sandbox.metrics import MetricSets
from sandbox.pagination import (
    ApiError,
    Key,
    Query,
    check_start_time,
    cursor_export_body,
    cursor_window,
    int_param,
    list_page,
    page_size,
    param,
    time_export_body,
    time_window,
)
from sandbox.timeline import Audit, TicketState, derive_ticket, epoch
from sandbox.world import SatisfactionRating, User, World

#: Maximum (and default) page size of the incremental exports.
INCREMENTAL_PAGE_SIZE = 1000
#: Paths counted against the incremental-export rate limit.
INCREMENTAL_PREFIXES = ("/api/v2/incremental/", "/api/v2/channels/voice/stats/incremental/")
#: What the satisfaction ratings list's `start_time` / `end_time` compare: Zendesk documents
#: "time of the oldest / most recent satisfaction rating", which reads either way; the
#: sandbox serves `updated_at` unless told `created_at` (docs/sandbox.md).
RATING_TIME_FIELDS = ("updated_at", "created_at")
#: Compound score filters of the satisfaction ratings list.
SCORE_FILTERS: dict[str, Callable[[SatisfactionRating], bool]] = {
    "offered": lambda r: r.score == "offered",
    "unoffered": lambda r: r.score == "unoffered",
    "received": lambda r: r.score in ("good", "bad"),
    "received_with_comment": lambda r: r.score in ("good", "bad") and bool(r.comment),
    "received_without_comment": lambda r: r.score in ("good", "bad") and not r.comment,
    "good": lambda r: r.score == "good",
    "good_with_comment": lambda r: r.score == "good" and bool(r.comment),
    "good_without_comment": lambda r: r.score == "good" and not r.comment,
    "bad": lambda r: r.score == "bad",
    "bad_with_comment": lambda r: r.score == "bad" and bool(r.comment),
    "bad_without_comment": lambda r: r.score == "bad" and not r.comment,
}


@dataclass(slots=True)
class ApiResponse:
    """Status, JSON-able body and extra headers of one API answer."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def is_incremental(path: str) -> bool:
    """Whether a path is an incremental export (its own, lower rate limit)."""
    return path.startswith(INCREMENTAL_PREFIXES)


class WorldIndex:
    """Derived state and sort orders of a world, computed once."""

    def __init__(self, world: World, rating_time_field: str = "updated_at") -> None:
        if rating_time_field not in RATING_TIME_FIELDS:
            raise ValueError(f"rating_time_field must be one of {RATING_TIME_FIELDS}, "
                             f"not {rating_time_field!r}")
        self.world = world
        self.rating_time_field = rating_time_field
        self.users = {u.id: u for u in world.users}
        self.staff_ids = {u.id for u in world.users if u.role in ("agent", "admin")}
        latest: dict[int, SatisfactionRating] = {}
        for r in sorted(world.satisfaction_ratings, key=lambda r: (epoch(r.updated_at), r.id)):
            latest[r.ticket_id] = r
        self.latest_rating = latest
        self.states: dict[int, TicketState] = {}
        self.ticket_times: dict[int, int] = {}
        audits: list[tuple[Key, Audit]] = []
        for ticket in world.tickets:
            state = derive_ticket(ticket)
            self.states[ticket.id] = state
            rating = latest.get(ticket.id)
            self.ticket_times[ticket.id] = max(
                state.updated_ts, epoch(rating.updated_at) if rating else 0)
            audits += [((a.timestamp, a.id), a) for a in state.audits]
        self.ticket_keys = sorted((ts, tid) for tid, ts in self.ticket_times.items())
        self.live_ticket_keys = [k for k in self.ticket_keys
                                 if self.states[k[1]].status != "deleted"]
        audits.sort(key=lambda pair: pair[0])
        self.audit_keys = [k for k, _ in audits]
        self.audits = [a for _, a in audits]
        self.user_keys = sorted(
            (epoch(u.updated_at or u.created_at), u.id) for u in world.users)
        self.orgs = {o.id: o for o in world.organizations}
        self.org_keys = sorted(
            (epoch(o.updated_at or o.created_at), o.id) for o in world.organizations)
        calls = sorted(world.calls, key=lambda c: (serialize.call_updated_ts(c), c.id))
        self.calls = calls
        self.call_keys = [(serialize.call_updated_ts(c), c.id) for c in calls]
        self.groups = sorted(world.groups, key=lambda g: g.id)
        self.ratings = sorted(world.satisfaction_ratings, key=lambda r: r.id)
        #: `ratings_matching`, remembered for the last few filters: a client pages through
        #: one filter, and filtering every rating again for each page would be quadratic; a
        #: long-running sandbox sees a new window every night, so the memory is bounded.
        self.ratings_matching = lru_cache(maxsize=16)(self._ratings_matching)
        self.schedules = {s.id: s for s in sorted(world.schedules, key=lambda s: s.id)}
        self._metrics: MetricSets | None = None

    def _ratings_matching(self, score: str | None, start_time: int | None,
                          end_time: int | None) -> list[SatisfactionRating]:
        """The ratings (sorted by id) with the ``score`` filter's score, updated (or
        created: ``rating_time_field``) between ``start_time`` and ``end_time`` (epoch
        seconds, both included; None: unbounded)."""
        field = self.rating_time_field
        return [
            r for r in self.ratings
            if (not score or SCORE_FILTERS[score](r))
            and (start_time is None or epoch(getattr(r, field)) >= start_time)
            and (end_time is None or epoch(getattr(r, field)) <= end_time)
        ]

    def metrics(self) -> MetricSets:
        """The metric-set calculator (business calendar built on first use)."""
        if self._metrics is None:
            times = [s.created_ts for s in self.states.values()] or [0]
            last = [s.updated_ts for s in self.states.values()] or [0]
            self._metrics = MetricSets(self.world, self.staff_ids, min(times), max(last))
        return self._metrics


Handler = Callable[[re.Match[str], Query, str], ApiResponse]


class ZendeskApi:
    """The Zendesk endpoints the sandbox serves."""

    def __init__(self, world: World, clock: Callable[[], float] = time.time,
                 admin_email: str = "admin@sandbox.example",
                 rating_time_field: str = "updated_at") -> None:
        self.world = world
        self.index = WorldIndex(world, rating_time_field)
        self.clock = clock
        self.admin_email = admin_email
        self.subdomain = world.account_subdomain
        self.routes: list[tuple[re.Pattern[str], Handler]] = [
            (re.compile(r"/api/v2/incremental/tickets/cursor"), self.incremental_tickets),
            (re.compile(r"/api/v2/incremental/ticket_events"), self.incremental_ticket_events),
            (re.compile(r"/api/v2/incremental/users/cursor"), self.incremental_users),
            (re.compile(r"/api/v2/incremental/organizations"), self.incremental_organizations),
            (re.compile(r"/api/v2/groups"), self.groups),
            (re.compile(r"/api/v2/business_hours/schedules"), self.schedules),
            (re.compile(r"/api/v2/business_hours/schedules/(\d+)"), self.schedule),
            (re.compile(r"/api/v2/business_hours/schedules/(\d+)/holidays"), self.holidays),
            (re.compile(r"/api/v2/satisfaction_ratings"), self.satisfaction_ratings),
            (re.compile(r"/api/v2/channels/voice/stats/incremental/calls"),
             self.incremental_calls),
            (re.compile(r"/api/v2/users/me"), self.me),
        ]

    def handle(self, method: str, path: str, query: Query, base_url: str) -> ApiResponse:
        """Answer one request; unknown paths are 404 ``InvalidEndpoint``."""
        route = path[:-5] if path.endswith(".json") else path
        route = route.rstrip("/") or "/"
        for pattern, handler in self.routes:
            match = pattern.fullmatch(route)
            if match is None:
                continue
            if method != "GET":
                return ApiResponse(405, {"error": "MethodNotAllowed",
                                         "description": f"{method} is not supported here"})
            try:
                return handler(match, query, base_url)
            except ApiError as exc:
                return ApiResponse(exc.status, exc.body)
        return ApiResponse(404, {"error": "InvalidEndpoint", "description": "Not found"})

    # -- incremental exports ----------------------------------------------------------------

    def incremental_tickets(self, match: re.Match[str], query: Query, base: str) -> ApiResponse:
        """Incremental ticket export, cursor based (optionally ``include=metric_sets``)."""
        idx = self.index
        exclude_deleted = (param(query, "exclude_deleted") or "").lower() == "true"
        keys = idx.live_ticket_keys if exclude_deleted else idx.ticket_keys
        per_page = page_size(query, "per_page", INCREMENTAL_PAGE_SIZE, INCREMENTAL_PAGE_SIZE)
        window, position = cursor_window(keys, query, per_page, self.clock())
        page = keys[window.start:window.stop]
        requesters = idx.users
        tickets = [serialize.ticket_json(
            idx.states[tid], idx.latest_rating.get(tid), ts, ts,
            requesters.get(idx.states[tid].ticket.requester_id), base, self.subdomain)
            for ts, tid in page]
        body = cursor_export_body("tickets", tickets, keys, window, position, base,
                                  "/api/v2/incremental/tickets/cursor.json",
                                  self._keep(query, "per_page", "include", "exclude_deleted"))
        includes = (param(query, "include") or "").split(",")
        if "metric_sets" in includes:
            metrics = idx.metrics()
            body["metric_sets"] = [metrics.metric_set(idx.states[tid], base) for _, tid in page]
        return ApiResponse(200, body)

    def incremental_ticket_events(self, match: re.Match[str], query: Query,
                                  base: str) -> ApiResponse:
        """Incremental ticket event export, time based (``include=comment_events``)."""
        idx = self.index
        start_time = check_start_time(int_param(query, "start_time"), self.clock())
        per_page = page_size(query, "per_page", INCREMENTAL_PAGE_SIZE, INCREMENTAL_PAGE_SIZE)
        window = time_window(idx.audit_keys, start_time, per_page, self.clock())
        with_comments = "comment_events" in (param(query, "include") or "").split(",")
        events = [serialize.audit_json(a, with_comments, idx.users.get(a.author_id),
                                       self.subdomain)
                  for a in idx.audits[window.start:window.stop]]
        body = time_export_body("ticket_events", events, idx.audit_keys, window, start_time,
                                base, "/api/v2/incremental/ticket_events.json",
                                self._keep(query, "per_page", "include"))
        return ApiResponse(200, body)

    def incremental_users(self, match: re.Match[str], query: Query, base: str) -> ApiResponse:
        """Incremental user export, cursor based."""
        idx = self.index
        per_page = page_size(query, "per_page", INCREMENTAL_PAGE_SIZE, INCREMENTAL_PAGE_SIZE)
        window, position = cursor_window(idx.user_keys, query, per_page, self.clock())
        users = [serialize.user_json(idx.users[uid], base)
                 for _, uid in idx.user_keys[window.start:window.stop]]
        body = cursor_export_body("users", users, idx.user_keys, window, position, base,
                                  "/api/v2/incremental/users/cursor.json",
                                  self._keep(query, "per_page"))
        return ApiResponse(200, body)

    def incremental_organizations(self, match: re.Match[str], query: Query,
                                  base: str) -> ApiResponse:
        """Incremental organization export, time based."""
        idx = self.index
        start_time = check_start_time(int_param(query, "start_time"), self.clock())
        per_page = page_size(query, "per_page", INCREMENTAL_PAGE_SIZE, INCREMENTAL_PAGE_SIZE)
        window = time_window(idx.org_keys, start_time, per_page, self.clock())
        orgs = [serialize.organization_json(idx.orgs[oid], base)
                for _, oid in idx.org_keys[window.start:window.stop]]
        body = time_export_body("organizations", orgs, idx.org_keys, window, start_time, base,
                                "/api/v2/incremental/organizations.json",
                                self._keep(query, "per_page"))
        return ApiResponse(200, body)

    def incremental_calls(self, match: re.Match[str], query: Query, base: str) -> ApiResponse:
        """Talk incremental calls export (time based; ``next_page`` always set, no end flag)."""
        idx = self.index
        start_time = check_start_time(int_param(query, "start_time"), self.clock())
        per_page = page_size(query, "per_page", INCREMENTAL_PAGE_SIZE, INCREMENTAL_PAGE_SIZE)
        window = time_window(idx.call_keys, start_time, per_page, self.clock())
        calls = [serialize.call_json(c) for c in idx.calls[window.start:window.stop]]
        body = time_export_body("calls", calls, idx.call_keys, window, start_time, base,
                                "/api/v2/channels/voice/stats/incremental/calls.json",
                                self._keep(query, "per_page"), end_of_stream=False)
        return ApiResponse(200, body)

    # -- lists --------------------------------------------------------------------------------

    def groups(self, match: re.Match[str], query: Query, base: str) -> ApiResponse:
        """List groups (offset or cursor pagination)."""
        body = list_page(self.index.groups, query, base, "/api/v2/groups.json", "groups",
                         lambda group: serialize.group_json(group, base), [])
        return ApiResponse(200, body)

    def satisfaction_ratings(self, match: re.Match[str], query: Query,
                             base: str) -> ApiResponse:
        """List satisfaction ratings, filtered by ``score`` and ``start_time``/``end_time``."""
        filters: list[tuple[str, str]] = []
        score = param(query, "score")
        if score:
            if score not in SCORE_FILTERS:
                raise ApiError(400, "InvalidValue", f"Invalid score filter: {score}")
            filters.append(("score", score))
        start_time, end_time = int_param(query, "start_time"), int_param(query, "end_time")
        if start_time is not None:
            filters.append(("start_time", str(start_time)))
        if end_time is not None:
            filters.append(("end_time", str(end_time)))
        ratings = self.index.ratings_matching(score or None, start_time, end_time)
        body = list_page(ratings, query, base,
                         "/api/v2/satisfaction_ratings.json", "satisfaction_ratings",
                         lambda rating: serialize.rating_json(rating, base), filters)
        return ApiResponse(200, body)

    def schedules(self, match: re.Match[str], query: Query, base: str) -> ApiResponse:
        """List business-hours schedules."""
        return ApiResponse(200, {"schedules": [serialize.schedule_json(s)
                                               for s in self.index.schedules.values()]})

    def schedule(self, match: re.Match[str], query: Query, base: str) -> ApiResponse:
        """Show one schedule."""
        return ApiResponse(200, {"schedule": serialize.schedule_json(self._schedule(match))})

    def holidays(self, match: re.Match[str], query: Query, base: str) -> ApiResponse:
        """List a schedule's holidays."""
        schedule = self._schedule(match)
        return ApiResponse(200, {"holidays": [serialize.holiday_json(h)
                                              for h in schedule.holidays]})

    def me(self, match: re.Match[str], query: Query, base: str) -> ApiResponse:
        """The authenticated user (the sandbox admin)."""
        user = next((u for u in self.world.users if u.email == self.admin_email), None)
        if user is None:
            user = User(id=1, name="Sandbox Admin", email=self.admin_email, role="admin")
        return ApiResponse(200, {"user": serialize.user_json(user, base)})

    # -- helpers ------------------------------------------------------------------------------

    def _schedule(self, match: re.Match[str]) -> Any:
        schedule = self.index.schedules.get(int(match.group(1)))
        if schedule is None:
            raise ApiError(404, "RecordNotFound", "Not found")
        return schedule

    @staticmethod
    def _keep(query: Query, *names: str) -> list[tuple[str, str]]:
        """Request parameters carried over into next-page links."""
        return [(n, v) for n in names if (v := param(query, n)) is not None]
