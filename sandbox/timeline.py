"""Derive a ticket's audits, status history and current state from its updates.

This is the sandbox's ground truth: the incremental exports, the ticket
objects and the metric sets are all computed from :class:`TicketState`.
Ids of audits and child events are functions of the ticket id and the
update's position, so they are stable across runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sandbox.world import SYSTEM_AUTHOR_ID, Comment, Ticket, Update

#: Spacing of audit ids inside a ticket's id block (room for child events).
AUDIT_ID_STRIDE = 100
#: Size of a ticket's id block.
TICKET_ID_BLOCK = 100_000

#: Trigger / automation identities used for ``via.source`` of rule updates.
TRIGGER = {"id": 360000101, "title": "Notify requester and CCs of comment update", "rel": "trigger"}
AUTOMATION = {"id": 360000201, "title": "Close ticket 4 days after status is set to solved",
              "rel": "automation"}


def epoch(moment: datetime) -> int:
    """Unix seconds of an aware datetime, truncated to the second."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: the sandbox needs timezone-aware datetimes")
    return int(moment.timestamp() // 1)


@dataclass(slots=True)
class ChildEvent:
    """One child event of an audit: ``Create``/``Change`` of a field, or a ``Comment``."""

    id: int
    event_type: str
    field: str | None = None
    value: Any = None
    previous_value: Any = None


@dataclass(slots=True)
class Audit:
    """One ticket audit as the ticket-events export shows it."""

    id: int
    ticket_id: int
    timestamp: int
    author_id: int
    via: str
    rule: dict[str, Any] | None
    events: list[ChildEvent]
    comment: Comment | None = None
    comment_event_id: int | None = None


@dataclass(slots=True)
class TicketState:
    """Everything derived from one ticket's updates."""

    ticket: Ticket
    audits: list[Audit] = field(default_factory=list)
    status: str = "new"
    assignee_id: int | None = None
    group_id: int | None = None
    priority: str | None = None
    created_ts: int = 0
    updated_ts: int = 0
    description: str = ""
    is_public: bool = False
    #: ``(epoch, status)`` for the creation and every status change, in order.
    status_history: list[tuple[int, str]] = field(default_factory=list)
    #: ``(epoch, author_id, public)`` for every comment, description included.
    comments: list[tuple[int, int, bool]] = field(default_factory=list)
    #: ``(epoch, assignee_id)`` for every assignment change.
    assignments: list[tuple[int, int | None]] = field(default_factory=list)
    #: ``(epoch, group_id)`` for every group change.
    group_changes: list[tuple[int, int | None]] = field(default_factory=list)


class _Events(list[ChildEvent]):
    """Child events of one audit, numbered after the audit id."""

    def __init__(self, audit_id: int) -> None:
        super().__init__()
        self.audit_id = audit_id

    def add(self, event_type: str, name: str | None, value: Any, previous: Any = None) -> None:
        self.append(ChildEvent(self.audit_id + 1 + len(self), event_type, name, value, previous))


def _creation_update(ticket: Ticket) -> Update:
    """The implicit creation update of a ticket built without updates."""
    return Update(at=ticket.created_at, author_id=ticket.requester_id, status="new",
                  comment=Comment(ticket.subject), via=ticket.channel)


def effective_via(update: Update) -> str:
    """The update's channel; author -1 with the default ``web`` counts as a rule."""
    if update.author_id == SYSTEM_AUTHOR_ID and update.via == "web":
        return "rule"
    return update.via


def rule_of(update: Update) -> dict[str, Any] | None:
    """The trigger or automation behind a rule update (closing is an automation)."""
    if effective_via(update) != "rule":
        return None
    return AUTOMATION if update.status == "closed" else TRIGGER


def derive_ticket(ticket: Ticket) -> TicketState:
    """Replay a ticket's updates into its :class:`TicketState`."""
    updates = sorted(ticket.updates, key=lambda u: u.at) or [_creation_update(ticket)]
    state = TicketState(ticket=ticket)
    state.created_ts = epoch(ticket.created_at)
    block = ticket.id * TICKET_ID_BLOCK
    for pos, update in enumerate(updates):
        ts = state.created_ts if pos == 0 else max(epoch(update.at), state.created_ts)
        audit_id = block + AUDIT_ID_STRIDE * (pos + 1)
        events = _Events(audit_id)
        add = events.add
        via = effective_via(update)
        author = SYSTEM_AUTHOR_ID if via == "rule" else update.author_id
        if pos == 0:
            state.status = update.status or "new"
            state.assignee_id = update.assignee_id or ticket.assignee_id
            state.group_id = update.group_id or ticket.group_id
            state.priority = update.priority or ticket.priority
            add("Create", "subject", ticket.subject)
            add("Create", "requester_id", ticket.requester_id)
            add("Create", "status", state.status)
            add("Create", "priority", state.priority)
            for name, value in (("type", ticket.type), ("group_id", state.group_id),
                                ("assignee_id", state.assignee_id),
                                ("organization_id", ticket.organization_id)):
                if value is not None:
                    add("Create", name, value)
            if ticket.tags:
                add("Create", "tags", list(ticket.tags))
            state.status_history.append((ts, state.status))
            if state.assignee_id is not None:
                state.assignments.append((ts, state.assignee_id))
            if state.group_id is not None:
                state.group_changes.append((ts, state.group_id))
            state.description = update.comment.body if update.comment else ""
        else:
            if update.status and update.status != state.status:
                if update.status != "deleted":
                    add("Change", "status", update.status, state.status)
                state.status = update.status
                state.status_history.append((ts, update.status))
            if update.priority and update.priority != state.priority:
                add("Change", "priority", update.priority, state.priority)
                state.priority = update.priority
            if update.group_id is not None and update.group_id != state.group_id:
                add("Change", "group_id", update.group_id, state.group_id)
                state.group_id = update.group_id
                state.group_changes.append((ts, update.group_id))
            if update.assignee_id is not None and update.assignee_id != state.assignee_id:
                add("Change", "assignee_id", update.assignee_id, state.assignee_id)
                state.assignee_id = update.assignee_id
                state.assignments.append((ts, update.assignee_id))
        state.updated_ts = ts
        if update.comment is not None:
            state.comments.append((ts, author, update.comment.public))
            state.is_public = state.is_public or update.comment.public
        if update.status == "deleted":
            continue  # deletions leave no audit in the event stream
        if not events and update.comment is None:
            continue
        comment_event_id = audit_id + 1 + len(events) if update.comment is not None else None
        state.audits.append(Audit(
            id=audit_id, ticket_id=ticket.id, timestamp=ts,
            author_id=author,
            via=via, rule=rule_of(update), events=list(events),
            comment=update.comment, comment_event_id=comment_event_id,
        ))
    return state
