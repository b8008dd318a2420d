"""Zendesk Ticket Metrics objects (the ``metric_sets`` sideload), from the sandbox's ground truth.

Definitions follow Zendesk's Ticket Metrics: reply time to the first public
agent comment after the description; first/full resolution to the first/last
solve; agent wait = time in ``pending``; requester wait = time in ``new``,
``open`` and ``hold``; on-hold = time in ``hold``. Times are integer minutes,
``calendar`` and ``business`` (on the default schedule, the one with the lowest
id; equal to calendar when there is none). Only completed status intervals
count, so the values never depend on the wall clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.business_time import BusinessCalendar
from sandbox.timeline import TicketState
from sandbox.world import World

UNSOLVED_WAIT = {"new", "open", "hold"}


#: ``HH:MM:SSZ`` of every second of a day, and ``YYYY-MM-DDT`` of the days met so far:
#: serving a page formats thousands of times, and ``strftime`` was a third of the
#: sandbox's CPU time (the sandbox shares the machine with the pipeline it serves).
_CLOCK = [f"{h:02d}:{m:02d}:{s:02d}Z" for h in range(24) for m in range(60) for s in range(60)]
_DAYS: dict[int, str] = {}


def iso(ts: int | None) -> str | None:
    """Zendesk's timestamp format (UTC, seconds, ``Z``)."""
    if ts is None:
        return None
    if type(ts) is not int:
        return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    day, second = divmod(ts, 86400)
    prefix = _DAYS.get(day)
    if prefix is None:
        prefix = _DAYS[day] = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%dT")
    return prefix + _CLOCK[second]


class MetricSets:
    """Computes metric sets for tickets of one world (business calendar built once)."""

    def __init__(self, world: World, staff_ids: set[int], first_ts: int, last_ts: int) -> None:
        self.staff_ids = staff_ids
        self.calendar: BusinessCalendar | None = None
        if world.schedules:
            schedule = min(world.schedules, key=lambda s: s.id)
            first = datetime.fromtimestamp(first_ts, UTC).date() - timedelta(days=2)
            last = datetime.fromtimestamp(last_ts, UTC).date() + timedelta(days=2)
            self.calendar = BusinessCalendar(schedule, first, last)

    def _pair(self, start: int | None, end: int | None) -> dict[str, int | None]:
        if start is None or end is None:
            return {"calendar": None, "business": None}
        calendar = max(0, end - start) // 60
        business = (self.calendar.business_seconds(start, end) // 60 if self.calendar
                    else calendar)
        return {"calendar": calendar, "business": business}

    def _sum(self, spans: list[tuple[int, int]]) -> dict[str, int]:
        calendar = sum(e - s for s, e in spans) // 60
        business = (sum(self.calendar.business_seconds(s, e) for s, e in spans) // 60
                    if self.calendar else calendar)
        return {"calendar": calendar, "business": business}

    def metric_set(self, state: TicketState, base_url: str) -> dict[str, Any]:
        """The Ticket Metrics object of one ticket."""
        t = state.ticket
        history = state.status_history
        spans: dict[str, list[tuple[int, int]]] = {}
        for (start, status), (end, _) in zip(history, history[1:], strict=False):
            spans.setdefault(status, []).append((start, end))
        solves = [ts for ts, status in history if status == "solved"]
        resolutions = [ts for k, (ts, status) in enumerate(history)
                       if status == "solved"
                       or (status == "closed" and (k == 0 or history[k - 1][1] != "solved"))]
        reopens = sum(1 for (_, a), (_, b) in zip(history, history[1:], strict=False)
                      if a == "solved" and b in ("new", "open", "pending", "hold"))
        replies = [ts for k, (ts, author, public) in enumerate(state.comments)
                   if k > 0 and public and author in self.staff_ids]
        final = resolutions[-1] if resolutions and state.status in ("solved", "closed") else None
        requester_updates = [ts for ts, author, _ in state.comments if author == t.requester_id]
        assignee_updates = [ts for ts, author, _ in state.comments
                            if state.assignee_id is not None and author == state.assignee_id]
        status_changes = [ts for ts, _ in history]
        return {
            "url": f"{base_url}/api/v2/ticket_metrics/{t.id}.json",
            "id": t.id,
            "ticket_id": t.id,
            "created_at": iso(state.created_ts),
            "updated_at": iso(state.updated_ts),
            "group_stations": len(state.group_changes),
            "assignee_stations": len(state.assignments),
            "reopens": reopens,
            "replies": len(replies),
            "assignee_updated_at": iso(max(assignee_updates, default=None)),
            "requester_updated_at": iso(max(requester_updates, default=None)),
            "status_updated_at": iso(status_changes[-1] if status_changes else None),
            "initially_assigned_at": iso(state.assignments[0][0] if state.assignments else None),
            "assigned_at": iso(state.assignments[-1][0] if state.assignments else None),
            "solved_at": iso(solves[-1] if solves and state.status in ("solved", "closed")
                             else None),
            "latest_comment_added_at": iso(state.comments[-1][0] if state.comments else None),
            "reply_time_in_minutes": self._pair(state.created_ts, replies[0] if replies else None),
            "first_resolution_time_in_minutes": self._pair(
                state.created_ts, resolutions[0] if resolutions else None),
            "full_resolution_time_in_minutes": self._pair(state.created_ts, final),
            "agent_wait_time_in_minutes": self._sum(spans.get("pending", [])),
            "requester_wait_time_in_minutes": self._sum(
                [s for status in sorted(UNSOLVED_WAIT) for s in spans.get(status, [])]),
            "on_hold_time_in_minutes": self._sum(spans.get("hold", [])),
            "custom_status_updated_at": iso(status_changes[-1] if status_changes else None),
        }
