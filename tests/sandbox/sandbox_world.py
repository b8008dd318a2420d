"""A small hand-built world for the sandbox tests (every interesting ticket history)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sandbox import (
    Call,
    Comment,
    Group,
    Holiday,
    Organization,
    SatisfactionRating,
    Schedule,
    Ticket,
    Update,
    User,
    World,
)

AGENT, ADMIN, ALICE, BOB, CAROL = 1, 2, 10, 11, 12


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A UTC instant in March 2024 (Monday the 4th is a working day)."""
    return datetime(2024, 3, day, hour, minute, second, tzinfo=UTC)


def build_small_world() -> World:
    """Five tickets covering the interesting histories, with distinct timestamps."""
    users = [
        User(AGENT, "Agnes Agent", "agnes@sandbox.example", "agent", default_group_id=1),
        User(ADMIN, "Adam Admin", "admin@sandbox.example", "admin"),
        User(ALICE, "Alice", "alice@acme.example", organization_id=100,
             created_at=at(1, 8), updated_at=at(4, 14)),
        User(BOB, "Bob", "bob@globex.example", organization_id=101, created_at=at(1, 9),
             updated_at=at(5, 9), phone="+15550001111"),
        User(CAROL, "Carol", "carol@mail.example", created_at=at(2, 9), updated_at=at(6, 10)),
    ]
    orgs = [
        Organization(100, "Acme", ["acme.example"], created_at=at(1, 1), updated_at=at(1, 2)),
        Organization(101, "Globex", ["globex.example"], created_at=at(1, 3), updated_at=at(2, 4)),
        Organization(102, "Initech", ["initech.example"], created_at=at(1, 5),
                     updated_at=at(3, 6), external_id="crm-102"),
    ]
    groups = [Group(1, "Support"), Group(2, "Billing"), Group(3, "Technical")]
    schedule = Schedule(
        7, "US hours", "Eastern Time (US & Canada)",
        intervals=[(d * 1440 + 540, d * 1440 + 1020) for d in range(1, 6)],
        holidays=[Holiday(70, "Company day", date(2024, 3, 8), date(2024, 3, 8))])
    t1 = Ticket(1, at(4, 14), ALICE, organization_id=100, channel="email", subject="Login broken",
                tags=["login"], updates=[
                    Update(at(4, 14), ALICE, "new", Comment("I cannot log in"), via="email"),
                    Update(at(4, 14, 0, 5), -1, via="rule", group_id=1,
                           comment=Comment("We received your request")),
                    Update(at(4, 15), AGENT, "pending", Comment("Try resetting"),
                           assignee_id=AGENT),
                    Update(at(5, 10), ALICE, "open", Comment("Still broken"), via="email"),
                    Update(at(5, 11), AGENT, "solved", Comment("Fixed now")),
                    Update(at(9, 12), -1, "closed", via="rule"),
                ])
    t2 = Ticket(2, at(5, 9, 30), BOB, organization_id=101, channel="web", group_id=2,
                priority="high", subject="Refund", updates=[
                    Update(at(5, 9, 30), BOB, "new", Comment("Please refund me"), via="web"),
                    Update(at(5, 10, 30), AGENT, "hold", Comment("Asked finance", public=False),
                           assignee_id=AGENT),
                    Update(at(6, 10), AGENT, "solved", Comment("Refunded")),
                    Update(at(6, 12), BOB, "open", Comment("Not received"), via="email"),
                    Update(at(6, 13), AGENT, "solved", Comment("Sent again"), priority="urgent"),
                ])
    t3 = Ticket(3, at(5, 16), BOB, submitter_id=AGENT, assignee_id=AGENT, group_id=3,
                channel="voice", subject="Call", updates=[
                    Update(at(5, 16), AGENT, "open", Comment("Inbound call", public=False),
                           via="voice"),
                    Update(at(5, 16, 10), AGENT, "solved"),
                ])
    t4 = Ticket(4, at(6, 8), CAROL, channel="web", subject="Spam", updates=[
        Update(at(6, 8), CAROL, "new", Comment("Buy now"), via="web"),
        Update(at(6, 8, 30), AGENT, "deleted"),
    ])
    t5 = Ticket(5, at(7, 9), CAROL, submitter_id=AGENT, assignee_id=AGENT, group_id=1,
                channel="web", subject="Renewal", updates=[
                    Update(at(7, 9), AGENT, "pending", Comment("Your renewal is due")),
                ])
    calls = [
        Call(501, 3, AGENT, at(5, 15, 58), talk_time=420, hold_time=30, wrap_up_time=60,
             wait_time=20, customer_id=BOB),
        Call(502, None, None, at(5, 17), talk_time=0, wait_time=90,
             completion_status="abandoned_in_queue"),
        Call(503, 3, AGENT, at(6, 9), talk_time=120, wrap_up_time=30, direction="outbound"),
    ]
    ratings = [
        SatisfactionRating(901, 1, "good", at(6, 11), at(6, 15), ALICE, AGENT, 1, "Thanks!"),
        SatisfactionRating(902, 2, "offered", at(7, 13), at(7, 13), BOB, AGENT, 2),
        SatisfactionRating(903, 3, "bad", at(6, 16), at(7, 8), BOB, AGENT, 3),
        SatisfactionRating(904, 5, "unoffered", at(7, 10), at(7, 10), CAROL, AGENT, 1),
    ]
    return World(users=users, organizations=orgs, groups=groups, schedules=[schedule],
                 tickets=[t1, t2, t3, t4, t5], calls=calls, satisfaction_ratings=ratings)
