"""Intercom end to end, on DuckDB and PostgreSQL: conversations served by the sandbox's
Intercom API, landed by the connector, staged as tickets, messages and status history, and
measured by the same marts as Zendesk's tickets, beside Zendesk's in one warehouse.

Every expected figure below is worked out by hand from the conversations' parts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from sandbox import World
from sandbox.world import (
    IntercomAdmin,
    IntercomContact,
    IntercomConversation,
    IntercomPart,
    IntercomRating,
    IntercomTeam,
)
from tests.integration.pipeline_runner import TwoNights, run_world, status_history, two_nights
from tests.sandbox.sandbox_world import build_small_world

START, END = date(2024, 3, 1), date(2024, 3, 10)  # as-of time: 2024-03-10 00:00 UTC
T0 = datetime(2024, 3, 5, 9, tzinfo=UTC)
BOT, ANN, BEN, TEAM = 1, 11, 12, 21
ALICE = IntercomContact("6650000000000000000000a1", "user", "Alice", "alice@acme.example")
LEAD = IntercomContact("6650000000000000000000b2", "lead", None, "lead@globex.example")
STORY, OPEN_EMAIL, OUTBOUND, ANSWERED = 301, 302, 303, 304


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def intercom_world() -> World:
    """Zendesk's small hand-built world plus four Intercom conversations: one with every
    kind of part (bot greeting, routing, a note, replies, a snooze, a close, a customer's
    reopen, a second close, a rating), an email still open, an outbound message nobody
    answered and one the customer answered."""
    world = build_small_world()
    world.intercom_admins = [
        IntercomAdmin(BOT, "Operator", "operator+app@intercom.io", is_bot=True,
                      has_inbox_seat=False),
        IntercomAdmin(ANN, "Ann Agent", "ann@sandbox.example", team_ids=[TEAM]),
        IntercomAdmin(BEN, "Ben Agent", "ben@sandbox.example", team_ids=[TEAM]),
    ]
    world.intercom_teams = [IntercomTeam(TEAM, "Support", [ANN, BEN])]
    story = [
        IntercomPart(at(1), "comment", "bot", BOT, "<p>Hi! A teammate will be with you.</p>"),
        IntercomPart(at(2), "default_assignment", "bot", BOT, assigned_to=("team", TEAM)),
        IntercomPart(at(10), "assignment", "admin", ANN, assigned_to=("admin", ANN)),
        IntercomPart(at(12), "note", "admin", ANN, "<p>VIP</p>"),
        IntercomPart(at(15), "comment", "admin", ANN, "<p>Hello Alice</p>"),
        IntercomPart(at(20), "comment", "contact", body="<p>Still broken</p>"),
        IntercomPart(at(40), "comment", "admin", ANN, "<p>Fixed now</p>"),
        IntercomPart(at(41), "snoozed", "admin", ANN, snoozed_until=at(100)),
        IntercomPart(at(100), "timer_unsnooze", "bot", BOT),
        IntercomPart(at(110), "close", "admin", ANN),
        IntercomPart(at(200), "open", "contact", body="<p>Broken again</p>"),
        IntercomPart(at(230), "comment", "admin", BEN, "<p>On it</p>"),
        IntercomPart(at(240), "close", "admin", BEN),
    ]
    world.intercom_conversations = [
        IntercomConversation(STORY, at(0), ALICE, body="<p>The export is broken</p>",
                             parts=story, priority="priority",
                             rating=IntercomRating(5, at(240), at(300), BEN)),
        IntercomConversation(OPEN_EMAIL, at(600), LEAD, source_type="email",
                             subject="Refund", parts=[
                                 IntercomPart(at(610), "comment", "admin", ANN, "<p>Sure</p>")]),
        IntercomConversation(OUTBOUND, at(300), LEAD, delivered_as="admin_initiated",
                             source_admin_id=ANN, body="<p>How are we doing?</p>"),
        IntercomConversation(ANSWERED, at(320), ALICE, delivered_as="admin_initiated",
                             source_admin_id=BEN, body="<p>Any questions?</p>", parts=[
                                 IntercomPart(at(400), "open", "contact", body="<p>One</p>"),
                                 IntercomPart(at(420), "comment", "admin", BEN, "<p>Yes</p>"),
                                 IntercomPart(at(430), "close", "admin", BEN)]),
    ]
    return world


@pytest.fixture
def loaded(monkeypatch, tmp_path, warehouse_url):
    """The world loaded for [START, END), Zendesk and Intercom configured."""
    return run_world(monkeypatch, tmp_path, intercom_world(), warehouse_url, START, END,
                     intercom=True)


def by_ticket(warehouse, sql: str) -> dict[str, dict]:
    return {row["ticket_id"]: row for row in warehouse.query(sql)}


def test_conversations_are_tickets_beside_zendesk(loaded):
    tickets = by_ticket(loaded, "SELECT * FROM staging.tickets WHERE source = 'intercom'")
    assert set(tickets) == {str(STORY), str(OPEN_EMAIL), str(OUTBOUND), str(ANSWERED)}
    story = tickets[str(STORY)]
    assert (story["channel"], story["status"], story["priority"]) == ("chat", "solved", "high")
    assert (story["assignee_id"], story["group_id"]) == (str(ANN), str(TEAM))  # assigned at 10
    email = tickets[str(OPEN_EMAIL)]
    assert (email["channel"], email["status"]) == ("email", "open")
    zendesk = loaded.query("SELECT count(*) AS n FROM staging.tickets WHERE source = 'zendesk'")
    assert zendesk[0]["n"] == 5


def test_status_history_comes_from_the_parts(loaded):
    history = status_history(loaded, "intercom")
    assert history[str(STORY)] == [
        (at(0), None, "open"), (at(41), "open", "pending"), (at(100), "pending", "open"),
        (at(110), "open", "solved"), (at(200), "solved", "open"), (at(240), "open", "solved"),
    ]
    assert history[str(OPEN_EMAIL)] == [(at(600), None, "open")]
    # An outbound message has no status until the customer answers it.
    assert str(OUTBOUND) not in history
    assert history[str(ANSWERED)] == [(at(400), None, "open"), (at(430), "open", "solved")]


def test_messages_roles_and_first_message(loaded):
    rows = loaded.query(
        "SELECT author_role, is_public, is_first_message, count(*) AS n FROM staging.messages "
        f"WHERE source = 'intercom' AND ticket_id = '{STORY}' "
        "GROUP BY author_role, is_public, is_first_message")
    counts = {(r["author_role"], r["is_public"], r["is_first_message"]): r["n"] for r in rows}
    # Alice's opening message and two replies; the bot's greeting; Ann's note; three replies.
    assert counts == {("end_user", True, True): 1, ("end_user", True, False): 2,
                      ("system", True, False): 1, ("agent", False, False): 1,
                      ("agent", True, False): 3}


def test_ticket_metrics_worked_out_by_hand(loaded):
    metrics = by_ticket(loaded, "SELECT * FROM marts.ticket_metrics WHERE source = 'intercom'")
    story = metrics[str(STORY)]
    # The bot's greeting is no reply: Ann's at minute 15 is the first.
    assert story["first_response_minutes"] == pytest.approx(15)
    assert story["first_resolution_minutes"] == pytest.approx(110)
    assert story["full_resolution_minutes"] == pytest.approx(240)
    assert (story["agent_replies"], story["replies_to_resolution"], story["reopens"]) == (3, 3, 1)
    assert story["is_one_touch"] is False
    assert story["agent_wait_minutes"] == pytest.approx(59)  # snoozed 41 -> 100
    assert story["requester_wait_minutes"] == pytest.approx(41 + 10 + 40)
    assert story["csat_score"] == pytest.approx(1.0)
    assert story["first_response_business_minutes"] is None  # no office hours in the API
    email = metrics[str(OPEN_EMAIL)]
    assert email["first_response_minutes"] == pytest.approx(10)
    assert email["final_resolved_at"] is None
    outbound = metrics[str(OUTBOUND)]
    assert outbound["first_response_minutes"] is None  # Ann's message opened it: no reply
    assert outbound["first_resolved_at"] is None
    answered = metrics[str(ANSWERED)]
    assert answered["first_response_minutes"] == pytest.approx(100)  # 320 -> Ben at 420
    assert answered["full_resolution_minutes"] == pytest.approx(110)
    assert answered["is_one_touch"] is True


def test_daily_marts_count_the_conversations(loaded):
    day = loaded.query(
        "SELECT channel, tickets_created, tickets_solved, tickets_reopened, first_responses, "
        "csat_responses, csat_rate, backlog_end_of_day FROM marts.support_daily "
        "WHERE source = 'intercom' AND date = '2024-03-05' ORDER BY channel")
    assert [(r["channel"], r["tickets_created"], r["tickets_solved"], r["tickets_reopened"],
             r["first_responses"], r["csat_responses"], r["backlog_end_of_day"])
            for r in day] == [("chat", 3, 3, 1, 2, 1, 0), ("email", 1, 0, 0, 1, 0, 1)]
    backlog = loaded.query(
        "SELECT date, channel, status, open_tickets FROM marts.backlog_daily "
        "WHERE source = 'intercom' AND open_tickets > 0 ORDER BY date, channel")
    assert {(str(r["date"]), r["channel"], r["status"], r["open_tickets"]) for r in backlog} \
        == {(f"2024-03-0{d}", "email", "open", 1) for d in range(5, 10)}


def test_reconciliation_compares_what_intercom_reports(loaded):
    rows = {r["metric"]: r for r in loaded.query(
        "SELECT * FROM marts.metric_reconciliation WHERE source = 'intercom'")}
    # Intercom reports no reply count, waits or business minutes: no row for them.
    assert set(rows) == {"first_response_minutes", "first_resolution_minutes",
                         "full_resolution_minutes", "reopens"}
    for metric, row in rows.items():
        assert (row["tickets_compared"], row["tickets_differ"]) == (4, 0), metric
    zendesk = loaded.query(
        "SELECT count(*) AS n FROM marts.metric_reconciliation WHERE source = 'zendesk'")
    assert zendesk[0]["n"] == 11



#: The two nights' runs: 01:30 UTC on 03-06 and 03-07.
NIGHTS = (datetime(2024, 3, 6, 1, 30, tzinfo=UTC), datetime(2024, 3, 7, 1, 30, tzinfo=UTC))


def two_nights_of(monkeypatch, tmp_path, warehouse_url, change, queries) -> TwoNights:
    """The nights of 03-05 and 03-06, each over the world as Intercom shows it at 01:30 the
    next morning after `change(world)`, and a single run over both days."""

    def world(cutoff: datetime) -> World:
        w = intercom_world()
        change(w)
        for c in w.intercom_conversations:
            c.parts = [p for p in c.parts if p.at < cutoff]
            if c.rating is not None and c.rating.replied_at >= cutoff:
                c.rating = None
        return w

    return two_nights(monkeypatch, tmp_path, warehouse_url, world, queries, START, NIGHTS,
                      intercom=True)


DAY_5 = ("SELECT channel, tickets_created, tickets_solved, tickets_reopened, first_responses, "
         "csat_responses, csat_rate, backlog_end_of_day FROM marts.support_daily "
         "WHERE source = 'intercom' AND date = '2024-03-05' ORDER BY channel")


def test_parts_of_a_day_count_though_their_conversation_changed_after_it(
        monkeypatch, tmp_path, warehouse_url):
    """The email conversation gets a reply and a close on 03-05 at 23:50, and the
    customer's "thanks" on 03-06 at 00:20: after the day ended, before its night ran.
    Intercom gives the 23:50 parts only with the conversation as it is at 00:20."""

    def change(world: World) -> None:
        email = next(c for c in world.intercom_conversations if c.id == OPEN_EMAIL)
        email.parts += [IntercomPart(at(890), "comment", "admin", ANN, "<p>Refunded</p>"),
                        IntercomPart(at(890), "close", "admin", ANN),
                        IntercomPart(at(920), "comment", "contact", body="<p>Thanks</p>")]

    result = two_nights_of(monkeypatch, tmp_path, warehouse_url, change, [DAY_5])
    (nights,), (once,) = result.second, result.once
    email = nights[1]
    assert (email["channel"], email["tickets_solved"], email["backlog_end_of_day"]) \
        == ("email", 1, 0)
    assert nights == once


def test_a_rating_answered_the_next_day_counts_on_the_day_it_was_requested(
        monkeypatch, tmp_path, warehouse_url):
    """The story's rating, requested at its close on 03-05, is answered on 03-06 at 09:00
    (Intercom's API gives only the request time): the second night recomputes 03-05."""

    def change(world: World) -> None:
        story = next(c for c in world.intercom_conversations if c.id == STORY)
        story.rating = IntercomRating(2, at(240), at(1440), BEN)

    scores = ("SELECT date, responses FROM marts.survey_scores_daily "
              "WHERE source = 'intercom' ORDER BY date")
    result = two_nights_of(monkeypatch, tmp_path, warehouse_url, change, [DAY_5, scores])
    nights, once = result.second, result.once
    chat = nights[0][0]
    assert (chat["csat_responses"], chat["csat_rate"]) == (1, 0.0)  # 2 stars
    assert [(str(r["date"]), r["responses"]) for r in nights[1]] \
        == [("2024-03-05", 1), ("2024-03-06", 0)]
    assert nights == once


def test_the_bot_writing_as_an_admin_and_a_remark_on_an_assignment_are_no_replies(
        monkeypatch, tmp_path, warehouse_url):
    """Intercom's bot sometimes writes as an `admin` (its reference's Operator example), and
    a teammate's remark on an assignment shows as a note: neither is the first response."""
    world = intercom_world()
    story = next(c for c in world.intercom_conversations if c.id == STORY)
    story.parts[2:2] = [
        IntercomPart(at(5), "comment", "admin", BOT, "<p>Here is an article</p>"),
        IntercomPart(at(8), "assignment", "admin", ANN, "<p>Over to Ann</p>",
                     assigned_to=("admin", ANN)),
    ]
    loaded = run_world(monkeypatch, tmp_path, world, warehouse_url, START, END, intercom=True)
    metrics = by_ticket(loaded, "SELECT * FROM marts.ticket_metrics WHERE source = 'intercom'")
    assert metrics[str(STORY)]["first_response_minutes"] == pytest.approx(15)
    assert metrics[str(STORY)]["agent_replies"] == 3
    roles = {(r["author_role"], r["is_public"]) for r in loaded.query(
        "SELECT author_role, is_public FROM staging.messages WHERE source = 'intercom' "
        f"AND ticket_id = '{STORY}' AND created_at IN "
        "(TIMESTAMPTZ '2024-03-05 09:05:00+00', TIMESTAMPTZ '2024-03-05 09:08:00+00')")}
    assert roles == {("system", True), ("agent", False)}
    agents = {r["user_id"] for r in loaded.query(
        "SELECT user_id FROM staging.users WHERE source = 'intercom'")}
    assert agents == {str(ANN), str(BEN)}  # the bot has no inbox seat


def test_intercom_companies_map_to_crm_accounts(monkeypatch, tmp_path, warehouse_url):
    """An Intercom company maps to a CRM account by the customer's own id for it
    (`company_id`) or else by its website's domain, as a Zendesk organisation does; a
    conversation belongs to its contact's company when Intercom lists exactly one."""
    from sandbox.intercom_generate import company_id_for, intercom_companies
    from tests.integration.test_revenue_marts import crm_world
    from tests.integration.test_ticket_metrics import END as CRM_END
    from tests.integration.test_ticket_metrics import START as CRM_START

    world = crm_world()
    world.intercom_companies = intercom_companies(world)
    acme, globex = (company_id_for(next(o.id for o in world.organizations if o.name == name))
                    for name in ("Acme", "Globex"))
    by_id = {c.id: c for c in world.intercom_companies}
    by_id[globex].company_id, by_id[globex].website = "2", None  # the CRM's own account id
    contacts = [
        IntercomContact("6650000000000000000000c3", "user", "Carol", "carol@acme.example",
                        company_ids=[acme]),
        IntercomContact("6650000000000000000000d4", "user", "Dave", "dave@globex.example",
                        company_ids=[globex]),
        IntercomContact("6650000000000000000000e5", "user", "Erin", "erin@acme.example",
                        company_ids=[acme, globex]),  # two companies: no single account
        LEAD,  # no company
    ]
    world.intercom_admins = [IntercomAdmin(ANN, "Ann Agent", "ann@sandbox.example")]
    opened = datetime(2025, 6, 3, 10, tzinfo=UTC)
    world.intercom_conversations = [
        IntercomConversation(400 + k, opened + timedelta(minutes=k), contact,
                             body="<p>Invoice</p>", parts=[
                                 IntercomPart(opened + timedelta(minutes=k + 20), "comment",
                                              "admin", ANN, "<p>Sent</p>")])
        for k, contact in enumerate(contacts)]
    loaded = run_world(monkeypatch, tmp_path, world, warehouse_url, CRM_START, CRM_END,
                       crm=True, intercom=True)
    mapped = {r["organization_id"]: (r["account_id"], r["matched_by"]) for r in loaded.query(
        "SELECT * FROM staging.organization_accounts WHERE helpdesk_source = 'intercom'")}
    assert mapped[acme] == ("1", "domain")  # https://www.acme.example
    assert mapped[globex] == ("2", "external_id")
    tickets = {r["ticket_id"]: (r["organization_id"], r["account_id"]) for r in loaded.query(
        "SELECT ticket_id, organization_id, account_id FROM marts.ticket_metrics "
        "WHERE source = 'intercom'")}
    assert tickets == {"400": (acme, "1"), "401": (globex, "2"), "402": (None, None),
                       "403": (None, None)}


def test_a_contact_moved_to_another_company_moves_its_other_conversations(
        monkeypatch, tmp_path, warehouse_url):
    """Alice moves from Acme to Globex; Intercom shows it when her second conversation is
    answered again on 03-06. The night reads her contact with that conversation, and her
    first conversation, untouched since 03-05, moves to Globex with it, as in a single run.
    (Twenty-four more conversations nobody touches keep the night incremental: more than a
    quarter of the tickets changed would rebuild the table whole.)"""
    from sandbox.intercom_generate import company_id_for, intercom_companies

    first_night = NIGHTS[0]

    def world_at(cutoff: datetime) -> World:
        w = intercom_world()
        w.intercom_companies = intercom_companies(w)
        acme, globex = (company_id_for(next(o.id for o in w.organizations if o.name == name))
                        for name in ("Acme", "Globex"))
        moved = cutoff > first_night
        alice = IntercomContact(ALICE.id, "user", "Alice", ALICE.email,
                                company_ids=[globex if moved else acme])
        for c in w.intercom_conversations:
            if c.contact.id == ALICE.id:
                c.contact = alice
            if c.id == ANSWERED:
                c.parts.append(IntercomPart(at(1500), "comment", "contact", body="<p>More</p>"))
            c.parts = [p for p in c.parts if p.at < cutoff]
            if c.rating is not None and c.rating.replied_at >= cutoff:
                c.rating = None
        w.intercom_conversations += [
            IntercomConversation(500 + k, at(30 + k), LEAD, body="<p>Hello</p>", parts=[
                IntercomPart(at(60 + k), "comment", "admin", ANN, "<p>Hi</p>")])
            for k in range(24)]
        return w

    query = ("SELECT ticket_id, organization_id FROM staging.tickets "
             "WHERE source = 'intercom' AND ticket_id < '500' ORDER BY ticket_id")
    result = two_nights(monkeypatch, tmp_path, warehouse_url, world_at, [query], START, NIGHTS,
                        intercom=True)
    (first,), (second,), (once,) = result.first, result.second, result.once
    acme, globex = company_id_for(100), company_id_for(101)
    assert [(r["ticket_id"], r["organization_id"]) for r in first] == [
        (str(STORY), acme), (str(OPEN_EMAIL), None), (str(OUTBOUND), None),
        (str(ANSWERED), acme)]
    assert [r["organization_id"] for r in second] == [globex, None, None, globex]
    assert second == once
