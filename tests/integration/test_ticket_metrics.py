"""marts.ticket_metrics over small hand-built histories, end to end, on DuckDB and PostgreSQL.

Each ticket's expected values are worked out by hand in the comments next to them. The world
travels over real HTTP from the sandbox, through the dlt connector, into the warehouse.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from sandbox.world import (
    Call,
    Comment,
    Organization,
    SatisfactionRating,
    Ticket,
    Update,
    User,
    World,
)
from tests.integration.pipeline_runner import run_world, table_snapshot

ADMIN, AGENT_ANA, AGENT_BEN = 1, 2, 3
ALICE, BOB = 10, 11
TRIGGER = -1
START, END = date(2025, 6, 2), date(2025, 6, 10)  # as-of time: 2025-06-10 00:00 UTC


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A June 2025 instant in UTC."""
    return datetime(2025, 6, day, hour, minute, tzinfo=UTC)


def hand_built_world() -> World:
    """Seven tickets, each exercising one rule of METRICS.md."""
    users = [
        User(ADMIN, "Ada Admin", "ada@helpdesk.example", role="admin"),
        User(AGENT_ANA, "Ana Agent", "ana@helpdesk.example", role="agent"),
        User(AGENT_BEN, "Ben Agent", "ben@helpdesk.example", role="agent"),
        User(ALICE, "Alice", "alice@acme.example", organization_id=100),
        User(BOB, "Bob", "bob@globex.example", organization_id=101),
    ]
    organizations = [
        Organization(100, "Acme", ["acme.example"]),
        Organization(101, "Globex", ["globex.example"]),
    ]
    tickets = [
        # 1: a private note before the first reply; pending and back; solved, then closed.
        Ticket(1, at(2, 9), ALICE, organization_id=100, assignee_id=AGENT_ANA, updates=[
            Update(at(2, 9), ALICE, status="new", comment=Comment("My invoice is wrong")),
            Update(at(2, 9, 30), AGENT_ANA, status="open", comment=Comment("check", public=False)),
            Update(at(2, 10), AGENT_ANA, status="pending", comment=Comment("Which invoice?")),
            Update(at(3, 9), ALICE, status="open", comment=Comment("No. 42"), via="email"),
            Update(at(3, 10), AGENT_ANA, status="solved", comment=Comment("Fixed")),
            Update(at(7, 10), TRIGGER, status="closed", via="rule"),
        ]),
        # 2: opened by an agent (outbound): the description is not a reply.
        Ticket(2, at(2, 11), BOB, submitter_id=AGENT_BEN, organization_id=101,
               assignee_id=AGENT_BEN, channel="web", updates=[
            Update(at(2, 11), AGENT_BEN, status="open", comment=Comment("Your renewal")),
            Update(at(2, 12), BOB, comment=Comment("Thanks, question"), via="email"),
            Update(at(2, 13), AGENT_BEN, status="solved", comment=Comment("Answer")),
        ]),
        # 3: solved, reopened by the customer, on hold, solved again.
        Ticket(3, at(4, 8), ALICE, organization_id=100, assignee_id=AGENT_ANA, updates=[
            Update(at(4, 8), ALICE, status="new", comment=Comment("Login fails")),
            Update(at(4, 8, 30), AGENT_ANA, status="solved", comment=Comment("Reset it")),
            Update(at(4, 12), ALICE, status="open", comment=Comment("Still fails"), via="email"),
            Update(at(4, 12, 30), AGENT_ANA, status="hold", comment=Comment("Asking vendor")),
            Update(at(4, 14, 30), AGENT_ANA, status="solved", comment=Comment("Vendor fixed")),
        ]),
        # 4: a phone ticket closed without passing through solved; the trigger's
        # acknowledgement is a system message, not a reply.
        Ticket(4, at(5, 10), BOB, organization_id=101, channel="voice", updates=[
            Update(at(5, 10), BOB, status="new", comment=Comment("Call me"), via="voice"),
            Update(at(5, 10, 15), TRIGGER, comment=Comment("We got your request"), via="rule"),
            Update(at(5, 11), AGENT_BEN, status="closed", via="api"),
        ]),
        # 5: no agent reply yet, only a private note; still open at the as-of time.
        Ticket(5, at(9, 15), ALICE, organization_id=100, updates=[
            Update(at(9, 15), ALICE, status="new", comment=Comment("Feature request")),
            Update(at(9, 15, 10), AGENT_ANA, status="open", comment=Comment("hm", public=False)),
        ]),
        # 6: deleted: keeps its row with status deleted.
        Ticket(6, at(6, 9), BOB, organization_id=101, updates=[
            Update(at(6, 9), BOB, status="new", comment=Comment("spam")),
            Update(at(6, 12), AGENT_BEN, status="deleted"),
        ]),
    ]
    calls = [Call(900, 4, AGENT_BEN, at(5, 10, 30), talk_time=300, hold_time=60, wrap_up_time=120),
             # On the deleted ticket 6: left out of the daily handle time, like the ticket.
             Call(901, 6, AGENT_BEN, at(6, 9, 5), talk_time=200)]
    ratings = [
        SatisfactionRating(70, 1, "bad", at(3, 12), at(3, 12), ALICE, AGENT_ANA),
        SatisfactionRating(71, 2, "good", at(2, 14), at(2, 14), BOB, AGENT_BEN),
        SatisfactionRating(72, 3, "offered", at(4, 15), at(4, 15), ALICE, AGENT_ANA),
    ]
    return World(users=users, organizations=organizations, tickets=tickets, calls=calls,
                 satisfaction_ratings=ratings)


EXPECTED = {
    "1": dict(
        status="closed", channel="email", first_response_at=at(2, 10),
        first_response_minutes=60,            # 09:00 -> 10:00; the 09:30 note is private
        first_resolved_at=at(3, 10), final_resolved_at=at(3, 10),  # closing is no resolution
        first_resolution_minutes=1500, full_resolution_minutes=1500,  # 25 h
        agent_replies=2, replies_to_resolution=2, reopens=0, is_one_touch=False,
        requester_wait_minutes=120,           # new 30 + open 30 + open 60
        agent_wait_minutes=1380,              # pending 10:00 -> 09:00 next day
        on_hold_minutes=0, handle_seconds=None, csat_score=0.0,
    ),
    "2": dict(
        status="solved", channel="web", first_response_at=at(2, 13),
        first_response_minutes=120,           # the agent's own description is not a reply
        first_resolved_at=at(2, 13), final_resolved_at=at(2, 13),
        first_resolution_minutes=120, full_resolution_minutes=120,
        agent_replies=1, replies_to_resolution=1, reopens=0, is_one_touch=True,
        requester_wait_minutes=120, agent_wait_minutes=0, on_hold_minutes=0,
        handle_seconds=None, csat_score=1.0,
    ),
    "3": dict(
        status="solved", channel="email", first_response_at=at(4, 8, 30),
        first_response_minutes=30,
        first_resolved_at=at(4, 8, 30), final_resolved_at=at(4, 14, 30),
        first_resolution_minutes=30, full_resolution_minutes=390,
        agent_replies=3, replies_to_resolution=3, reopens=1, is_one_touch=False,
        requester_wait_minutes=180,           # new 30 + open 30 + hold 120
        agent_wait_minutes=0, on_hold_minutes=120,
        handle_seconds=None, csat_score=None,  # survey offered, never answered
    ),
    "4": dict(
        status="closed", channel="phone", first_response_at=None,
        first_response_minutes=None,          # a trigger's message is not a reply
        first_resolved_at=at(5, 11), final_resolved_at=at(5, 11),
        first_resolution_minutes=60, full_resolution_minutes=60,
        agent_replies=0, replies_to_resolution=0, reopens=0, is_one_touch=False,
        requester_wait_minutes=60, agent_wait_minutes=0, on_hold_minutes=0,
        handle_seconds=480,                   # talk 300 + hold 60 + wrap-up 120
        csat_score=None,
    ),
    "5": dict(
        status="open", channel="email", first_response_at=None, first_response_minutes=None,
        first_resolved_at=None, final_resolved_at=None,
        first_resolution_minutes=None, full_resolution_minutes=None,
        agent_replies=0, replies_to_resolution=None, reopens=0, is_one_touch=None,
        requester_wait_minutes=540,           # new 10 + open 15:10 -> 00:00 as-of (530)
        agent_wait_minutes=0, on_hold_minutes=0, handle_seconds=None, csat_score=None,
    ),
    "6": dict(status="deleted", first_response_at=None, final_resolved_at=None),
}


def _normalise(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(microsecond=0)
    if isinstance(value, float | int) and not isinstance(value, bool):
        return round(float(value), 6)
    return value


@pytest.fixture
def loaded(monkeypatch, tmp_path, warehouse_url):
    """The hand-built world, loaded for [START, END)."""
    return run_world(monkeypatch, tmp_path, hand_built_world(), warehouse_url, START, END)


def test_ticket_metrics_match_hand_computed_values(loaded):
    rows = {r["ticket_id"]: r for r in loaded.query("SELECT * FROM marts.ticket_metrics")}
    assert sorted(rows) == sorted(EXPECTED)
    for ticket_id, expected in EXPECTED.items():
        row = rows[ticket_id]
        assert row["source"] == "zendesk"
        for column, value in expected.items():
            assert _normalise(row[column]) == _normalise(value), (ticket_id, column, row[column])


def test_ticket_metrics_has_every_contract_column(loaded):
    contract = [
        "source", "ticket_id", "created_at", "channel", "priority", "status", "group_id",
        "assignee_id", "requester_id", "organization_id", "account_id", "first_response_at",
        "first_response_minutes", "first_response_business_minutes", "first_resolved_at",
        "final_resolved_at", "first_resolution_minutes", "full_resolution_minutes",
        "first_resolution_business_minutes", "full_resolution_business_minutes",
        "agent_replies", "replies_to_resolution", "reopens", "is_one_touch",
        "requester_wait_minutes", "agent_wait_minutes", "on_hold_minutes", "handle_seconds",
        "csat_score",
    ]
    assert set(contract) <= set(loaded.columns("marts", "ticket_metrics"))


def test_rerunning_the_same_range_changes_nothing(loaded, monkeypatch, tmp_path, warehouse_url):
    tables = [("marts", "ticket_metrics"), ("marts", "support_daily"),
              ("marts", "backlog_daily"), ("marts", "handle_time_daily"),
              ("staging", "status_changes"), ("staging", "messages"), ("raw_zendesk", "tickets")]
    before = {t: table_snapshot(loaded, *t) for t in tables}
    again = run_world(monkeypatch, tmp_path, hand_built_world(), warehouse_url, START, END)
    assert {t: table_snapshot(again, *t) for t in tables} == before


def test_rerunning_an_older_window_does_not_overwrite_newer_rows(
    loaded, monkeypatch, tmp_path, warehouse_url
):
    tables = [("marts", "ticket_metrics"), ("raw_zendesk", "tickets"),
              ("staging", "status_changes")]
    before = {t: table_snapshot(loaded, *t) for t in tables}
    # June 2-3 only: tickets 1-2 were updated later, so the older window must not roll them back.
    older = run_world(monkeypatch, tmp_path, hand_built_world(), warehouse_url,
                      START, date(2025, 6, 4))
    assert {t: table_snapshot(older, *t) for t in tables} == before
