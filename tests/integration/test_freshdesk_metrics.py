"""Freshdesk end to end, on DuckDB and PostgreSQL: tickets served by the sandbox's Freshdesk
API, landed by the connector (the status history from the ticket activities export),
staged beside Zendesk's tickets and measured by the same marts.

Every expected figure below is worked out by hand from the tickets' histories."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from pipelines.cli import kpi_summary
from sandbox import World, generate_world
from sandbox.business_time import BusinessCalendar
from sandbox.freshdesk_api import derive_ticket
from sandbox.world import (
    FreshdeskAgent,
    FreshdeskBusinessHours,
    FreshdeskContact,
    FreshdeskEvent,
    FreshdeskGroup,
    FreshdeskRating,
    FreshdeskTicket,
    FreshdeskTimeEntry,
    Schedule,
)
from tests.integration.pipeline_runner import run_world, status_history, two_nights
from tests.sandbox.sandbox_world import build_small_world

START, END = date(2024, 3, 1), date(2024, 3, 10)  # as-of time: 2024-03-10 00:00 UTC
T0 = datetime(2024, 3, 5, 9, tzinfo=UTC)
ANN, BEN, SUPPORT = 101, 102, 201
NEW_YORK_HOURS, LONDON_HOURS, STALE_DEFAULT_HOURS = 301, 302, 303
ALICE = FreshdeskContact(501, "Alice", "alice@acme.example")
BOB = FreshdeskContact(502, "Bob", "bob@globex.example")
STORY, PHONE, OUTBOUND, DELETED = 1, 2, 3, 4
OPEN, PENDING, RESOLVED, CLOSED, WAITING_ON_CUSTOMER, WAITING_ON_THIRD_PARTY = 2, 3, 4, 5, 6, 7
TWO_DAYS = 2 * 24 * 60


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def freshdesk_world() -> World:
    """Zendesk's small hand-built world plus four Freshdesk tickets: an e-mail with every
    kind of step (assignment, a private note, replies, the two custom statuses, a
    resolution, the customer's reopen, a second resolution, the automation's close, a
    rating), a phone ticket still pending, an outbound e-mail the customer answered, and a
    deleted ticket; the agents' time entries on them (timers, and one logged afterwards)."""
    world = build_small_world()
    # Support follows a London calendar open on Tuesdays 09:10-12:00 (GMT in March: UTC);
    # a ticket without a group the default, New York's weekdays 08:00-17:00 (13:00-22:00 UTC).
    world.freshdesk_groups = [FreshdeskGroup(SUPPORT, "Support", agent_ids=[ANN, BEN],
                                             business_hour_id=LONDON_HOURS)]
    world.freshdesk_business_hours = [
        FreshdeskBusinessHours(NEW_YORK_HOURS, "Default", "Eastern Time (US & Canada)",
                               {day: (480, 1020) for day in ("monday", "tuesday", "wednesday",
                                                             "thursday", "friday")},
                               is_default=True),
        FreshdeskBusinessHours(LONDON_HOURS, "London", "London", {"tuesday": (550, 720)})]
    world.freshdesk_agents = [
        FreshdeskAgent(ANN, "Ann Agent", "ann@sandbox.example", group_ids=[SUPPORT]),
        FreshdeskAgent(BEN, "Ben Agent", "ben@sandbox.example", group_ids=[SUPPORT]),
    ]
    world.freshdesk_contacts = [ALICE, BOB]
    story = [
        FreshdeskEvent(at(5), "agent", ANN, assign=ANN),
        FreshdeskEvent(at(12), "agent", ANN, message="note", body="<div>VIP</div>"),
        FreshdeskEvent(at(15), "agent", ANN, message="reply", body="<div>Which file?</div>",
                       status=WAITING_ON_CUSTOMER),
        FreshdeskEvent(at(40), "requester", message="incoming", body="<div>This one</div>",
                       status=OPEN),
        FreshdeskEvent(at(60), "agent", ANN, status=WAITING_ON_THIRD_PARTY),
        FreshdeskEvent(at(90), "agent", ANN, message="reply", body="<div>Fixed</div>",
                       status=RESOLVED),
        FreshdeskEvent(at(200), "requester", message="incoming", body="<div>Again</div>",
                       status=OPEN),
        FreshdeskEvent(at(230), "agent", BEN, message="reply", body="<div>Done</div>",
                       status=RESOLVED),
        FreshdeskEvent(at(230 + TWO_DAYS), "system", status=CLOSED,
                       rule="Close resolved tickets after 48 hours", rule_type=3),
    ]
    world.freshdesk_tickets = [
        FreshdeskTicket(STORY, at(0), ALICE.id, "Export broken", source=1, priority=3,
                        group_id=SUPPORT, events=story),
        FreshdeskTicket(PHONE, at(600), BOB.id, "Refund", source=3, events=[
            FreshdeskEvent(at(610), "agent", ANN, message="reply", body="<div>Sure</div>",
                           status=PENDING)]),
        FreshdeskTicket(OUTBOUND, at(300), BOB.id, "Renewal", source=10, status=PENDING,
                        responder_id=ANN, creator_id=ANN, group_id=SUPPORT, events=[
                            FreshdeskEvent(at(400), "requester", message="incoming",
                                           body="<div>A question</div>", status=OPEN),
                            FreshdeskEvent(at(420), "agent", ANN, message="reply",
                                           body="<div>An answer</div>", status=RESOLVED)]),
        FreshdeskTicket(DELETED, at(700), ALICE.id, "Spam?", events=[
            FreshdeskEvent(at(710), "agent", ANN, deleted=True)]),
    ]
    world.freshdesk_ratings = [FreshdeskRating(9001, STORY, ALICE.id, 103, at(300),
                                               agent_id=BEN, group_id=SUPPORT)]
    world.freshdesk_time_entries = [
        FreshdeskTimeEntry(7001, STORY, ANN, at(3), at(15), at(3)),  # 12 minutes
        # 20 minutes logged by hand at minute 100, for the work up to the reply at 90
        FreshdeskTimeEntry(7002, STORY, ANN, at(80), at(100), at(90), timer=False),
        FreshdeskTimeEntry(7003, STORY, BEN, at(220), at(232), at(220)),
        FreshdeskTimeEntry(7004, PHONE, ANN, at(600), at(612), at(600)),
        FreshdeskTimeEntry(7005, DELETED, ANN, at(705), at(710), at(705)),
    ]
    return world


@pytest.fixture
def loaded(monkeypatch, tmp_path, warehouse_url):
    """The world loaded for [START, END), Zendesk and Freshdesk configured."""
    return run_world(monkeypatch, tmp_path, freshdesk_world(), warehouse_url, START, END,
                     freshdesk=True)


def by_ticket(warehouse, sql: str) -> dict[str, dict]:
    return {row["ticket_id"]: row for row in warehouse.query(sql)}


def test_tickets_beside_zendesk(loaded):
    tickets = by_ticket(loaded, "SELECT * FROM staging.tickets WHERE source = 'freshdesk'")
    assert set(tickets) == {str(STORY), str(PHONE), str(OUTBOUND), str(DELETED)}
    story = tickets[str(STORY)]
    assert (story["channel"], story["status"], story["priority"]) == ("email", "closed", "high")
    assert (story["assignee_id"], story["group_id"]) == (str(ANN), str(SUPPORT))
    assert (tickets[str(PHONE)]["channel"], tickets[str(PHONE)]["status"]) == ("phone",
                                                                               "pending")
    assert tickets[str(DELETED)]["status"] == "deleted"
    zendesk = loaded.query("SELECT count(*) AS n FROM staging.tickets WHERE source = 'zendesk'")
    assert zendesk[0]["n"] == 5


def test_status_history_comes_from_the_activities(loaded):
    history = status_history(loaded, "freshdesk")
    assert history[str(STORY)] == [
        (at(0), None, "open"), (at(15), "open", "pending"), (at(40), "pending", "open"),
        (at(60), "open", "hold"), (at(90), "hold", "solved"), (at(200), "solved", "open"),
        (at(230), "open", "solved"), (at(230 + TWO_DAYS), "solved", "closed"),
    ]
    assert history[str(PHONE)] == [(at(600), None, "open"), (at(610), "open", "pending")]
    assert history[str(OUTBOUND)] == [(at(300), None, "pending"), (at(400), "pending", "open"),
                                      (at(420), "open", "solved")]
    assert history[str(DELETED)] == [(at(700), None, "open"), (at(710), "open", "deleted")]


def test_messages_roles_and_first_message(loaded):
    rows = loaded.query(
        "SELECT ticket_id, author_id, author_role, is_public, is_first_message "
        "FROM staging.messages WHERE source = 'freshdesk' AND ticket_id IN "
        f"('{STORY}', '{OUTBOUND}') ORDER BY ticket_id, created_at")
    seen = [(r["ticket_id"], r["author_id"], r["author_role"], r["is_public"],
             r["is_first_message"]) for r in rows]
    s, o = str(STORY), str(OUTBOUND)
    assert seen == [
        (s, str(ALICE.id), "end_user", True, True),  # the description
        (s, str(ANN), "agent", False, False),  # the private note
        (s, str(ANN), "agent", True, False),
        (s, str(ALICE.id), "end_user", True, False),
        (s, str(ANN), "agent", True, False),
        (s, str(ALICE.id), "end_user", True, False),
        (s, str(BEN), "agent", True, False),
        # An outbound e-mail: the agent wrote the description.
        (o, str(ANN), "agent", True, True),
        (o, str(BOB.id), "end_user", True, False),
        (o, str(ANN), "agent", True, False),
    ]


def test_ticket_metrics_worked_out_by_hand(loaded):
    metrics = by_ticket(loaded, "SELECT * FROM marts.ticket_metrics WHERE source = 'freshdesk'")
    story = metrics[str(STORY)]
    # The private note at minute 12 is no reply: Ann's at minute 15 is the first.
    assert story["first_response_minutes"] == pytest.approx(15)
    assert story["first_resolution_minutes"] == pytest.approx(90)
    assert story["full_resolution_minutes"] == pytest.approx(230)  # closing is no resolution
    assert (story["agent_replies"], story["replies_to_resolution"], story["reopens"]) == (3, 3, 1)
    assert story["agent_wait_minutes"] == pytest.approx(25)  # waiting on customer 15 -> 40
    assert story["on_hold_minutes"] == pytest.approx(30)  # waiting on third party 60 -> 90
    assert story["requester_wait_minutes"] == pytest.approx(15 + 20 + 30 + 30)
    assert story["csat_score"] == pytest.approx(1.0)
    phone = metrics[str(PHONE)]
    assert phone["first_response_minutes"] == pytest.approx(10)
    assert phone["final_resolved_at"] is None
    outbound = metrics[str(OUTBOUND)]
    assert outbound["first_response_minutes"] == pytest.approx(120)  # Ann's reply at 420
    assert outbound["full_resolution_minutes"] == pytest.approx(120)
    assert outbound["is_one_touch"] is True
    assert metrics[str(DELETED)]["status"] == "deleted"


def test_daily_marts_count_the_tickets(loaded):
    day = loaded.query(
        "SELECT channel, tickets_created, tickets_solved, tickets_reopened, first_responses, "
        "csat_responses, csat_rate, backlog_end_of_day FROM marts.support_daily "
        "WHERE source = 'freshdesk' AND date = '2024-03-05' ORDER BY channel")
    assert [(r["channel"], r["tickets_created"], r["tickets_solved"], r["tickets_reopened"],
             r["first_responses"], r["csat_responses"], r["backlog_end_of_day"])
            for r in day] == [("email", 2, 3, 1, 2, 1, 0), ("phone", 1, 0, 0, 1, 0, 1)]
    backlog = loaded.query(
        "SELECT date, channel, status, open_tickets FROM marts.backlog_daily "
        "WHERE source = 'freshdesk' AND open_tickets > 0 ORDER BY date, channel")
    assert {(str(r["date"]), r["channel"], r["status"], r["open_tickets"]) for r in backlog} \
        == {(f"2024-03-0{d}", "phone", "pending", 1) for d in range(5, 10)}


def test_business_minutes_follow_the_group_calendar_or_the_default(loaded, warehouse_url):
    minutes = {row["ticket_id"]: row for row in loaded.query(
        "SELECT ticket_id, schedule_id, first_response_business_minutes AS fr, "
        "first_resolution_business_minutes AS fs, full_resolution_business_minutes AS fl "
        "FROM staging.ticket_business_minutes WHERE source = 'freshdesk'")}
    story, phone, outbound = (minutes[str(t)] for t in (STORY, PHONE, OUTBOUND))
    # Support's tickets on London's Tuesday 09:10-12:00: the story opened at 09:00, answered
    # at 09:15, resolved at 10:30 and again at 12:50.
    assert story["schedule_id"] == str(LONDON_HOURS)
    assert (story["fr"], story["fs"], story["fl"]) == pytest.approx((5, 80, 170))
    # The outbound e-mail, 14:00 -> 16:00, after London closed.
    assert outbound["schedule_id"] == str(LONDON_HOURS)
    assert (outbound["fr"], outbound["fl"]) == pytest.approx((0, 0))
    # No group: the default, New York's 08:00-17:00 (14:00 there at 19:00 UTC): 10 minutes.
    assert phone["schedule_id"] == str(NEW_YORK_HOURS)
    assert phone["fr"] == pytest.approx(10) and phone["fl"] is None
    metrics = by_ticket(loaded, "SELECT ticket_id, first_response_business_minutes "
                                "FROM marts.ticket_metrics WHERE source = 'freshdesk'")
    assert metrics[str(STORY)]["first_response_business_minutes"] == pytest.approx(5)
    schedules = {(r["schedule_id"], r["time_zone"], r["is_default"]) for r in loaded.query(
        "SELECT schedule_id, time_zone, is_default FROM staging.schedules "
        "WHERE source = 'freshdesk'")}
    assert schedules == {(str(NEW_YORK_HOURS), "America/New_York", True),
                         (str(LONDON_HOURS), "Europe/London", False)}
    # The demo's summary: the median of 5, 10 and 0 (the deleted ticket left out).
    helpdesks = {row["source"]: row for row in kpi_summary(warehouse_url)["helpdesks"]}
    assert helpdesks["freshdesk"]["median_first_response_business_minutes"] == \
        pytest.approx(5)


def test_a_group_calendar_that_did_not_land_is_no_default(monkeypatch, tmp_path,
                                                          warehouse_url):
    """London's calendar closes before it opens, so it is quarantined: Support's tickets get
    no business minutes (never the default's); a calendar deleted while default still
    landed beside the real one (a higher id, closed all week) is not the default."""
    world = freshdesk_world()
    world.freshdesk_business_hours[1].hours = {"tuesday": (720, 550)}
    world.freshdesk_business_hours.append(FreshdeskBusinessHours(
        STALE_DEFAULT_HOURS, "Old default", "Eastern Time (US & Canada)", {},
        is_default=True))
    warehouse = run_world(monkeypatch, tmp_path, world, warehouse_url, START, END,
                          freshdesk=True)
    reasons = [r["reason"] for r in warehouse.query(
        "SELECT reason FROM raw_freshdesk._quarantine WHERE table_name = 'business_hours'")]
    assert len(reasons) == 1 and "business_hours.tuesday" in reasons[0]
    metrics = by_ticket(warehouse, "SELECT ticket_id, first_response_business_minutes AS fr "
                                   "FROM marts.ticket_metrics WHERE source = 'freshdesk'")
    assert metrics[str(STORY)]["fr"] is None and metrics[str(OUTBOUND)]["fr"] is None
    assert metrics[str(PHONE)]["fr"] == pytest.approx(10)  # New York's, not the closed one
    assert [r["schedule_id"] for r in warehouse.query(
        "SELECT schedule_id FROM staging.schedules WHERE source = 'freshdesk' AND is_default"
    )] == [str(NEW_YORK_HOURS)]


WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


def test_business_minutes_match_a_generated_accounts_calendars(monkeypatch, tmp_path,
                                                                 warehouse_url):
    """Every Freshdesk ticket of a generated account: its business minutes as the sandbox's
    own business calendar counts them, in its group's calendar (the Escalations group's
    European one) or the default, between the staged milestones."""
    last_day = date(2025, 6, 30)
    world = generate_world(seed=11, tickets=20, days=14, end_date=last_day,
                           freshdesk_tickets=250)
    warehouse = run_world(monkeypatch, tmp_path, world, warehouse_url,
                          last_day - timedelta(days=13), last_day + timedelta(days=1),
                          freshdesk=True)
    calendars = {
        b.id: BusinessCalendar(
            Schedule(b.id, b.name, b.time_zone,
                     [(WEEKDAYS.index(day) * 1440 + start, WEEKDAYS.index(day) * 1440 + end)
                      for day, (start, end) in b.hours.items()]),
            last_day - timedelta(days=20), last_day + timedelta(days=7))
        for b in world.freshdesk_business_hours}
    default = next(b.id for b in world.freshdesk_business_hours if b.is_default)
    group_calendar = {g.id: g.business_hour_id for g in world.freshdesk_groups}
    group_of = {t.id: derive_ticket(t, {}).group_id for t in world.freshdesk_tickets}
    rows = warehouse.query(
        "SELECT m.ticket_id, bm.schedule_id, m.created_at, m.first_response_at, "
        "m.final_resolved_at, bm.first_response_business_minutes AS fr, "
        "bm.full_resolution_business_minutes AS fl "
        "FROM staging.ticket_milestones AS m LEFT JOIN staging.ticket_business_minutes AS bm "
        "ON bm.source = m.source AND bm.ticket_id = m.ticket_id WHERE m.source = 'freshdesk'")
    assert len(rows) > 200
    on_europe = 0
    for row in rows:
        calendar_id = group_calendar.get(group_of[int(row["ticket_id"])]) or default
        assert row["schedule_id"] == str(calendar_id), row
        on_europe += calendar_id != default
        calendar = calendars[calendar_id]
        created = int(row["created_at"].timestamp())
        for milestone, minutes in (("first_response_at", "fr"), ("final_resolved_at", "fl")):
            if row[milestone] is None:
                assert row[minutes] is None, row
            else:
                expected = calendar.business_seconds(
                    created, int(row[milestone].timestamp())) / 60
                assert row[minutes] == pytest.approx(expected, abs=1e-6), (row, milestone)
    assert on_europe > 0


HANDLED_ON_DAY_5 = ("SELECT channel, agent_id, handled_contacts, handle_seconds, aht_seconds "
                    "FROM marts.handle_time_daily WHERE source = 'freshdesk' "
                    "AND date = '2024-03-05' AND handled_contacts > 0 ORDER BY channel, agent_id")


def test_handle_time_from_time_entries(loaded):
    """One handled contact per ticket and agent who logged time on it, on the day of the
    first entry; a deleted ticket's left out of the day."""
    records = {(r["ticket_id"], r["agent_id"]): (r["channel"], r["started_at"],
                                                  r["handle_seconds"])
               for r in loaded.query("SELECT * FROM staging.handle_time_records "
                                     "WHERE source = 'freshdesk'")}
    assert records == {(str(STORY), str(ANN)): ("email", at(3), 32 * 60),
                       (str(STORY), str(BEN)): ("email", at(220), 12 * 60),
                       (str(PHONE), str(ANN)): ("phone", at(600), 12 * 60),
                       (str(DELETED), str(ANN)): ("email", at(705), 5 * 60)}
    assert [tuple(r.values()) for r in loaded.query(HANDLED_ON_DAY_5)] == [
        ("email", str(ANN), 1, 1920, 1920.0), ("email", str(BEN), 1, 720, 720.0),
        ("phone", str(ANN), 1, 720, 720.0)]
    day = {r["channel"]: r for r in loaded.query(
        "SELECT channel, handled_contacts, handle_seconds, aht_seconds FROM marts.support_daily "
        "WHERE source = 'freshdesk' AND date = '2024-03-05'")}
    assert (day["email"]["handled_contacts"], day["email"]["handle_seconds"],
            day["email"]["aht_seconds"]) == (2, 2640, 1320.0)
    metrics = by_ticket(loaded, "SELECT * FROM marts.ticket_metrics WHERE source = 'freshdesk'")
    assert metrics[str(STORY)]["handle_seconds"] == 2640
    assert metrics[str(PHONE)]["handle_seconds"] == 720
    assert metrics[str(OUTBOUND)]["handle_seconds"] is None


def test_reconciliation_compares_what_freshdesk_reports(loaded):
    rows = {r["metric"]: r for r in loaded.query(
        "SELECT * FROM marts.metric_reconciliation WHERE source = 'freshdesk'")}
    # Freshdesk's stats give the first response and the (last) resolution only.
    assert set(rows) == {"first_response_minutes", "full_resolution_minutes"}
    for metric, row in rows.items():
        assert (row["tickets_compared"], row["tickets_differ"]) == (3, 0), metric


def as_of(cutoff: datetime, change=None) -> World:
    """`freshdesk_world()` after `change(world)`, as Freshdesk shows it at `cutoff`."""
    w = freshdesk_world()
    if change is not None:
        change(w)
    w.freshdesk_tickets = [t for t in w.freshdesk_tickets if t.created_at < cutoff]
    for ticket in w.freshdesk_tickets:
        ticket.events = [e for e in ticket.events if e.at < cutoff]
    w.freshdesk_ratings = [r for r in w.freshdesk_ratings if r.created_at < cutoff]
    w.freshdesk_time_entries = [e for e in w.freshdesk_time_entries
                                if (e.started_at if e.timer else e.stopped_at) < cutoff]
    return w


DAY_5 = ("SELECT channel, tickets_created, tickets_solved, first_responses, "
         "replies_to_resolution_avg, backlog_end_of_day FROM marts.support_daily "
         "WHERE source = 'freshdesk' AND date = '2024-03-05' ORDER BY channel")


def test_replies_of_a_day_count_though_their_ticket_changed_after_it(
        monkeypatch, tmp_path, warehouse_url):
    """The phone ticket gets a reply that resolves it on 03-05 at 23:50, and the customer's
    "thanks" on 03-06 at 00:20: after the day ended, before its night ran. Freshdesk lists
    the ticket (and its 23:50 reply) only as it is at 00:20, past the day's window."""

    def change(world: World) -> None:
        phone = next(t for t in world.freshdesk_tickets if t.id == PHONE)
        phone.events += [
            FreshdeskEvent(at(890), "agent", ANN, message="reply", body="<div>Refunded</div>",
                           status=RESOLVED),
            FreshdeskEvent(at(920), "requester", message="incoming", body="<div>Thanks</div>"),
        ]

    cutoffs = (datetime(2024, 3, 6, 1, 30, tzinfo=UTC), datetime(2024, 3, 7, 1, 30, tzinfo=UTC))
    result = two_nights(monkeypatch, tmp_path, warehouse_url,
                        lambda cutoff: as_of(cutoff, change), [DAY_5], START, cutoffs,
                        freshdesk=True)
    (nights,), (once,) = result.second, result.once
    phone = nights[1]
    assert (phone["channel"], phone["tickets_solved"], phone["first_responses"],
            phone["replies_to_resolution_avg"], phone["backlog_end_of_day"]) \
        == ("phone", 1, 1, 2.0, 0)
    assert nights == once


FIRST_NIGHT = datetime(2024, 3, 12, 1, 30, tzinfo=UTC)
NIGHTS = (FIRST_NIGHT, datetime(2024, 3, 13, 1, 30, tzinfo=UTC))
HANDLED = ("SELECT date, channel, agent_id, handled_contacts, handle_seconds "
           "FROM marts.handle_time_daily WHERE source = 'freshdesk' "
           "AND handled_contacts > 0 ORDER BY date, channel, agent_id")
HANDLED_BEFORE = [(date(2024, 3, 5), "email", str(ANN), 1, 1920),
                  (date(2024, 3, 5), "email", str(BEN), 1, 720),
                  (date(2024, 3, 5), "phone", str(ANN), 1, 720)]


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 3, day, hour, minute, tzinfo=UTC)


def test_time_logged_after_its_night_counts_on_the_day_of_the_work(
        monkeypatch, tmp_path, warehouse_url):
    """Ben's timer on the phone ticket, from 23:40 on 03-11, still runs at the night of 03-11
    (01:30 on 03-12): not counted. On 03-12 he logs 25 minutes on the outbound ticket (solved
    on 03-05, unchanged since) dated back to 03-05 15:55, 6 days 16 hours before the night's
    day (a window reads seven days of time entries back). The night of 03-12 recomputes
    those days and the outbound ticket's
    metrics, as a single run does. (Nine tickets: the per-ticket models would rebuild whole
    for any change; kept incremental, the outbound ticket is recomputed only because its
    time entry counts as its change.)"""
    from transforms import incremental

    monkeypatch.setattr(incremental, "FULL_BUILD_SHARE", 1.0)

    def change(world: World) -> None:
        world.freshdesk_time_entries += [
            FreshdeskTimeEntry(7006, PHONE, BEN, utc(11, 23, 40), utc(12, 1, 40),
                               utc(11, 23, 40)),
            FreshdeskTimeEntry(7007, OUTBOUND, BEN, utc(12, 14, 35), utc(12, 15), at(415),
                               timer=False)]

    tickets = ("SELECT ticket_id, handle_seconds FROM marts.ticket_metrics "
               f"WHERE source = 'freshdesk' AND ticket_id IN ('{PHONE}', '{OUTBOUND}') "
               "ORDER BY ticket_id")
    result = two_nights(monkeypatch, tmp_path, warehouse_url,
                        lambda cutoff: as_of(cutoff, change), [HANDLED, tickets], START,
                        NIGHTS, sandbox_clock=True, freshdesk=True)
    (first, tickets_first), (second, tickets_second), once = \
        result.first, result.second, result.once
    assert [tuple(r.values()) for r in first] == HANDLED_BEFORE
    assert [r["handle_seconds"] for r in tickets_first] == [720, None]
    day_5, day_11 = date(2024, 3, 5), date(2024, 3, 11)
    assert [tuple(r.values()) for r in second] == [
        HANDLED_BEFORE[0], (day_5, "email", str(BEN), 2, 720 + 1500), HANDLED_BEFORE[2],
        (day_11, "phone", str(BEN), 1, 7200)]
    assert [r["handle_seconds"] for r in tickets_second] == [720 + 7200, 1500]
    assert [second, tickets_second] == once


def test_a_group_moved_to_the_default_calendar_recomputes_its_tickets(
        monkeypatch, tmp_path, warehouse_url):
    """On 03-12 Support stops following London's calendar: its tickets, none of them updated
    since, are counted on the default (New York) from that night on, as in a single run."""

    def world_at(cutoff: datetime) -> World:
        def change(world: World) -> None:
            if cutoff > FIRST_NIGHT:
                world.freshdesk_groups[0].business_hour_id = None

        return as_of(cutoff, change)

    minutes = ("SELECT ticket_id, schedule_id, first_response_business_minutes AS fr "
               "FROM staging.ticket_business_minutes WHERE source = 'freshdesk' "
               f"AND ticket_id = '{STORY}'")
    result = two_nights(monkeypatch, tmp_path, warehouse_url, world_at, [minutes], START,
                        NIGHTS, sandbox_clock=True, freshdesk=True)
    (first,), (second,), (once,) = result.first, result.second, result.once
    assert [(r["schedule_id"], r["fr"]) for r in first] == [(str(LONDON_HOURS), 5)]
    assert [(r["schedule_id"], r["fr"]) for r in second] == [(str(NEW_YORK_HOURS), 0)]
    assert second == once


def test_a_relabelled_status_and_a_new_survey_scale_recompute_unchanged_tickets(
        monkeypatch, tmp_path, warehouse_url):
    """On 03-12 an admin shows "Waiting on Third Party" to customers as "Awaiting your Reply"
    (so it is `pending`, no longer `hold`) and the survey moves from five answers to seven.
    No ticket changes that night, yet its run recomputes them as a single run over the final
    lists would: the status list and the scales are reference data of the per-ticket tables
    (transforms/models.py)."""
    import sandbox.freshdesk_api as freshdesk_api

    seven_points = {103: "Extremely Happy", 102: "Very Happy", 101: "Happy", 100: "Neutral",
                    -101: "Unhappy", -102: "Very Unhappy", -103: "Extremely Unhappy"}

    def world_at(cutoff: datetime) -> World:
        if cutoff > FIRST_NIGHT:  # the nights run in order, then the single run
            monkeypatch.setitem(freshdesk_api.STATUS_CUSTOMER_LABELS, WAITING_ON_THIRD_PARTY,
                                "Awaiting your Reply")
            monkeypatch.setattr(freshdesk_api, "SURVEY_SCALE", seven_points)

        def change(world: World) -> None:
            world.freshdesk_ratings[0].rating = 102  # "Happy" on five answers, 4th of 5

        return as_of(cutoff, change)

    queries = [
        "SELECT to_status FROM staging.status_changes WHERE source = 'freshdesk' "
        f"AND ticket_id = '{STORY}' ORDER BY changed_at, status_change_id",
        "SELECT on_hold_minutes, requester_wait_minutes, agent_wait_minutes, csat_score "
        "FROM marts.ticket_metrics "
        f"WHERE source = 'freshdesk' AND ticket_id = '{STORY}'",
    ]
    result = two_nights(monkeypatch, tmp_path, warehouse_url, world_at, queries, START,
                        NIGHTS, sandbox_clock=True, freshdesk=True)
    (statuses_first, (first,)), (statuses_second, (second,)) = result.first, result.second
    third_party = 3  # open at creation, pending (Waiting on Customer), open, Third Party
    assert statuses_first[third_party]["to_status"] == "hold"
    assert statuses_second[third_party]["to_status"] == "pending"
    assert first["on_hold_minutes"] == pytest.approx(30)  # minutes 60 -> 90
    assert second["on_hold_minutes"] == pytest.approx(0)
    # On hold, the requester waits (Zendesk's definition); pending, the agent does.
    assert second["requester_wait_minutes"] == pytest.approx(first["requester_wait_minutes"]
                                                             - 30)
    assert second["agent_wait_minutes"] == pytest.approx(first["agent_wait_minutes"] + 30)
    assert first["csat_score"] == pytest.approx(0.75)
    assert second["csat_score"] == pytest.approx(5 / 6)  # 6th of 7
    assert result.second == result.once


def test_time_moved_to_another_day_leaves_its_old_day(monkeypatch, tmp_path, warehouse_url):
    """Ben's 10 minutes on the story ticket, logged for 03-09, are moved to 03-10 on 03-12:
    nothing in the warehouse shows the old day any more, so the night recomputes the seven
    days its time entries reach back over, and 03-09 loses them, as in a single run."""

    def world_at(cutoff: datetime) -> World:
        def change(world: World) -> None:
            entry = FreshdeskTimeEntry(7008, STORY, BEN, utc(9, 10), utc(9, 10, 10),
                                       utc(9, 10), timer=False)
            if cutoff > FIRST_NIGHT:
                entry.executed_at, entry.edited_at = utc(10, 10), utc(12, 12)
            world.freshdesk_time_entries.append(entry)

        return as_of(cutoff, change)

    result = two_nights(monkeypatch, tmp_path, warehouse_url, world_at, [HANDLED], START,
                        NIGHTS, freshdesk=True)
    (first,), (second,), (once,) = result.first, result.second, result.once
    assert [tuple(r.values()) for r in first] == [
        *HANDLED_BEFORE, (date(2024, 3, 9), "email", str(BEN), 1, 600)]
    assert [tuple(r.values()) for r in second] == [
        *HANDLED_BEFORE, (date(2024, 3, 10), "email", str(BEN), 1, 600)]
    assert second == once


def test_a_week_across_a_dst_change_recomputes_where_its_time_entries_start(
        monkeypatch, tmp_path, warehouse_url):
    """Freshdesk alone (no Zendesk, whose late-day query would recompute the record's own
    day), New York, clocks forward on 03-10: the night of 03-16 reads time entries from
    168 hours before 03-16 00:00 EDT, 23:00 EST on 03-08. Ben's 10 minutes on the story
    ticket at 23:30 on 03-08 become 20 on 03-16: 03-08 is recomputed, as a single run has
    it."""
    def world_at(cutoff: datetime) -> World:
        def change(world: World) -> None:
            entry = FreshdeskTimeEntry(7008, STORY, BEN, utc(9, 4, 30), utc(9, 4, 40),
                                       utc(9, 4, 30), timer=False)
            if cutoff > utc(16, 5, 30):
                entry.stopped_at, entry.edited_at = utc(9, 4, 50), utc(16, 12)
            world.freshdesk_time_entries.append(entry)

        return as_of(cutoff, change)

    ben = ("SELECT date, handle_seconds FROM marts.handle_time_daily WHERE source = "
           f"'freshdesk' AND agent_id = '{BEN}' AND handled_contacts > 0 ORDER BY date")
    result = two_nights(monkeypatch, tmp_path, warehouse_url, world_at, [ben], START,
                        (utc(16, 5, 30), utc(17, 5, 30)), "America/New_York",
                        freshdesk=True, zendesk=False)
    (first,), (second,), (once,) = result.first, result.second, result.once
    assert [tuple(r.values()) for r in first] == [(date(2024, 3, 5), 720),
                                                  (date(2024, 3, 8), 600)]
    assert [tuple(r.values()) for r in second] == [(date(2024, 3, 5), 720),
                                                   (date(2024, 3, 8), 1200)]
    assert second == once


def test_history_without_the_activities_export_starts_from_the_tickets_stats(
        monkeypatch, tmp_path, warehouse_url, caplog):
    """An account whose exports of those days are gone (the sandbox keeps a day's export for
    a day: every day of 2024 is long gone): the run warns and goes on, and each ticket's
    history is rebuilt from what its `stats` say: open at creation, solved at `resolved_at`,
    closed at `closed_at`, its current status at `status_updated_at`."""
    loaded = run_world(monkeypatch, tmp_path, freshdesk_world(), warehouse_url, START, END,
                       freshdesk=True,
                       sandbox_options={"freshdesk_export_retention_days": 1})
    assert any("no ticket activities export" in r.getMessage() for r in caplog.records)
    assert loaded.query("SELECT count(*) AS n FROM raw_freshdesk.ticket_activities")[0]["n"] == 0
    history = status_history(loaded, "freshdesk")
    assert history[str(STORY)] == [(at(0), None, "open"), (at(230), "open", "solved"),
                                   (at(230 + TWO_DAYS), "solved", "closed")]
    assert history[str(PHONE)] == [(at(600), None, "open"), (at(610), "open", "pending")]
    assert history[str(DELETED)] == [(at(700), None, "open"), (at(710), "open", "deleted")]
    metrics = by_ticket(loaded, "SELECT * FROM marts.ticket_metrics WHERE source = 'freshdesk'")
    # The first resolution and the reopen are lost with the export: Freshdesk's stats keep
    # the last resolution only.
    assert metrics[str(STORY)]["full_resolution_minutes"] == pytest.approx(230)
    assert metrics[str(STORY)]["reopens"] == 0
    assert metrics[str(STORY)]["first_response_minutes"] == pytest.approx(15)


def test_activities_of_a_local_evening_in_the_next_utc_day_count_on_their_day(
        monkeypatch, tmp_path, warehouse_url):
    """New York: the phone ticket is resolved on 03-05 at 21:00 local, 02:00 UTC on 03-06.
    Freshdesk exports activities by UTC day once it has ended, so the night of 03-05 (01:30
    local, 06:30 UTC on 03-06) finds no export of 03-06 yet; the next night reads it (a
    window's activities reach back a day) and recomputes 03-05. The two nights end where a
    single run over both days does."""
    resolved = datetime(2024, 3, 6, 2, tzinfo=UTC)

    def change(world: World) -> None:
        phone = next(t for t in world.freshdesk_tickets if t.id == PHONE)
        phone.events.append(FreshdeskEvent(resolved, "agent", ANN, message="reply",
                                           body="<div>Refunded</div>", status=RESOLVED))

    backlog = ("SELECT date, status, open_tickets FROM marts.backlog_daily WHERE source = "
               "'freshdesk' AND channel = 'phone' AND date = '2024-03-05' "
               "AND open_tickets > 0")
    cutoffs = (datetime(2024, 3, 6, 6, 30, tzinfo=UTC), datetime(2024, 3, 7, 6, 30, tzinfo=UTC))
    result = two_nights(monkeypatch, tmp_path, warehouse_url,
                        lambda cutoff: as_of(cutoff, change), [DAY_5, backlog], START, cutoffs,
                        "America/New_York", sandbox_clock=True, freshdesk=True)
    (before, _), (after, backlog_after), (once, _) = result.first, result.second, result.once
    phone = {r["channel"]: r for r in before}["phone"]
    assert (phone["tickets_solved"], phone["backlog_end_of_day"]) == (0, 1)  # not yet known
    phone = {r["channel"]: r for r in after}["phone"]
    assert (phone["tickets_solved"], phone["backlog_end_of_day"]) == (1, 0)
    assert after == once
    assert backlog_after == []  # solved before the end of its local day


def test_activities_exported_a_night_late_count_on_their_day(
        monkeypatch, tmp_path, warehouse_url):
    """New York, with Freshdesk building each day's export at 08:00 UTC (its scheduled hour),
    after the 01:30 local night (06:30 UTC). The phone ticket is resolved on 03-05 at 21:00
    local, 02:00 UTC on 03-06. The night of 03-06 finds no export of 03-06 yet; the night of
    03-07 has it, though the resolution lies before its window's day before (local days
    and UTC days overlap): days land whole, so it lands, and 03-05 is recomputed where a
    single run puts it."""
    resolved = datetime(2024, 3, 6, 2, tzinfo=UTC)

    def change(world: World) -> None:
        phone = next(t for t in world.freshdesk_tickets if t.id == PHONE)
        phone.events.append(FreshdeskEvent(resolved, "agent", ANN, message="reply",
                                           body="<div>Refunded</div>", status=RESOLVED))

    cutoffs = (datetime(2024, 3, 7, 6, 30, tzinfo=UTC), datetime(2024, 3, 8, 6, 30, tzinfo=UTC))
    result = two_nights(monkeypatch, tmp_path, warehouse_url,
                        lambda cutoff: as_of(cutoff, change), [DAY_5], START, cutoffs,
                        "America/New_York", sandbox_clock=True, freshdesk=True,
                        night_options={"freshdesk_export_delay_seconds": 8 * 3600})
    (before,), (after,), (once,) = result.first, result.second, result.once
    phone = {r["channel"]: r for r in before}["phone"]
    assert (phone["tickets_solved"], phone["backlog_end_of_day"]) == (0, 1)  # not yet known
    phone = {r["channel"]: r for r in after}["phone"]
    assert (phone["tickets_solved"], phone["backlog_end_of_day"]) == (1, 0)
    assert after == once


def test_an_agents_own_ticket_and_a_renamed_status(monkeypatch, tmp_path, warehouse_url):
    """Who is who comes from the agent list, whoever requested the ticket: Ann files a ticket
    herself and replies to it, then Ben does. And a custom status renamed since its
    activities were exported (the export says "Waiting on Vendor", the status list no longer
    does) is still a custom status, `hold`, not dropped."""
    import sandbox.freshdesk_api as freshdesk_api

    own = 5
    world = freshdesk_world()
    world.freshdesk_tickets.append(FreshdeskTicket(own, at(800), ANN, "Laptop", source=2, events=[
        FreshdeskEvent(at(805), "agent", ANN, message="reply", body="<div>Logged</div>"),
        FreshdeskEvent(at(830), "agent", BEN, message="reply", body="<div>On it</div>",
                       status=WAITING_ON_THIRD_PARTY)]))
    renamed = {**freshdesk_api.FRESHDESK_STATUSES, WAITING_ON_THIRD_PARTY: "Waiting on Vendor"}
    monkeypatch.setattr(freshdesk_api, "status_name",
                        lambda status: renamed.get(status, f"Status {status}"))
    loaded = run_world(monkeypatch, tmp_path, world, warehouse_url, START, END, freshdesk=True)
    roles = [(r["author_id"], r["author_role"]) for r in loaded.query(
        "SELECT author_id, author_role FROM staging.messages WHERE source = 'freshdesk' "
        f"AND ticket_id = '{own}' ORDER BY created_at")]
    assert roles == [(str(ANN), "agent"), (str(ANN), "agent"), (str(BEN), "agent")]
    metrics = by_ticket(loaded, "SELECT * FROM marts.ticket_metrics WHERE source = 'freshdesk'")
    assert metrics[str(own)]["first_response_minutes"] == pytest.approx(5)
    assert metrics[str(own)]["agent_replies"] == 2
    assert metrics[str(own)]["status"] == "hold"
    story = metrics[str(STORY)]
    assert story["on_hold_minutes"] == pytest.approx(30)  # "Waiting on Vendor" 60 -> 90


def test_freshdesk_companies_map_to_crm_accounts_by_domain(monkeypatch, tmp_path,
                                                           warehouse_url):
    """A Freshdesk company maps to the CRM account of its domain, as a Zendesk organisation
    does: the ticket of Acme's contact carries Acme's HubSpot account, beside Zendesk's."""
    from sandbox.freshdesk_generate import COMPANY_ID_BASE, freshdesk_companies
    from tests.integration.test_revenue_marts import crm_world
    from tests.integration.test_ticket_metrics import END as CRM_END
    from tests.integration.test_ticket_metrics import START as CRM_START

    world = crm_world()
    world.freshdesk_companies = freshdesk_companies(world)
    acme = next(o for o in world.organizations if o.name == "Acme")
    contact = FreshdeskContact(503, "Carol", "carol@acme.example", COMPANY_ID_BASE + acme.id)
    world.freshdesk_contacts = [contact]
    world.freshdesk_agents = [FreshdeskAgent(ANN, "Ann Agent", "ann@sandbox.example")]
    opened = datetime(2025, 6, 3, 10, tzinfo=UTC)
    world.freshdesk_tickets = [FreshdeskTicket(
        7, opened, contact.id, "Invoice", company_id=contact.company_id, events=[
            FreshdeskEvent(opened + timedelta(minutes=20), "agent", ANN, message="reply",
                           body="<div>Sent</div>", status=RESOLVED)])]
    loaded = run_world(monkeypatch, tmp_path, world, warehouse_url, CRM_START, CRM_END,
                       crm=True, freshdesk=True)
    mapped = {(r["helpdesk_source"], r["organization_id"]): (r["account_id"], r["matched_by"])
              for r in loaded.query("SELECT * FROM staging.organization_accounts")}
    assert mapped[("freshdesk", str(COMPANY_ID_BASE + acme.id))] == ("1", "domain")
    assert mapped[("zendesk", str(acme.id))][0] == "1"
    ticket = loaded.query("SELECT organization_id, account_id FROM marts.ticket_metrics "
                          "WHERE source = 'freshdesk'")
    assert ticket == [{"organization_id": str(COMPANY_ID_BASE + acme.id), "account_id": "1"}]
