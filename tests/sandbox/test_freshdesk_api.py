"""Freshdesk (API v2) over real HTTP: auth, ticket listing (windows, filters, order, paging
and link headers, includes), one ticket, conversations, the two-step activities export and
its not-ready / disabled answers, ratings, time entries, agents, groups, ticket fields, rate
limits and faults on Freshdesk paths."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from sandbox import Sandbox, World
from sandbox.freshdesk_api import CONVERSATION_ID_BASE
from sandbox.limits import BAD_TIMESTAMP
from sandbox.world import (
    FreshdeskAgent,
    FreshdeskBusinessHours,
    FreshdeskContact,
    FreshdeskEvent,
    FreshdeskGroup,
    FreshdeskRating,
    FreshdeskTicket,
    FreshdeskTimeEntry,
)

T0 = datetime(2025, 6, 2, 9, tzinfo=UTC)  # a Monday
NOW = (T0 + timedelta(days=20)).timestamp()
ADMIN, ANN, BEN = 101, 102, 103
SUPPORT, BILLING = 201, 202
DEFAULT_HOURS, EUROPE = 401, 402
ALICE, BOB = 301, 302
STORY, OLD, SPAM, DELETED, OUTBOUND, FRESH = 1, 2, 3, 4, 5, 6


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def iso(hours: float) -> str:
    return at(hours).strftime("%Y-%m-%dT%H:%M:%SZ")


def story() -> FreshdeskTicket:
    """Routed, taken, a note, a reply setting Pending, the customer's answer, Waiting on Third
    Party, resolved, reopened by the customer, resolved again, closed by the supervisor."""
    return FreshdeskTicket(STORY, at(0), ALICE, "Export is broken",
                           "<div>The <b>export</b> fails</div>", source=1, priority=2,
                           type="Incident", tags=["bug"], company_id=9, events=[
        FreshdeskEvent(at(0.01), "system", group_id=SUPPORT, rule="Route bug tickets",
                       rule_type=1),
        FreshdeskEvent(at(1), "agent", ANN, assign=ANN),
        FreshdeskEvent(at(1.5), "agent", ANN, message="note", body="<div>VIP</div>"),
        FreshdeskEvent(at(2), "agent", ANN, message="reply", body="<div>Which file?</div>",
                       status=3),
        FreshdeskEvent(at(5), "requester", message="incoming", body="<div>report.csv</div>",
                       status=2),
        FreshdeskEvent(at(6), "agent", ANN, priority=3, status=7),
        FreshdeskEvent(at(30), "agent", ANN, message="reply", body="<div>Fixed</div>",
                       status=4),
        FreshdeskEvent(at(40), "requester", message="incoming", body="<div>Again</div>",
                       status=2),
        FreshdeskEvent(at(41), "agent", BEN, assign=BEN, group_id=BILLING),
        FreshdeskEvent(at(42), "agent", BEN, message="reply", body="<div>Now?</div>",
                       status=4),
        FreshdeskEvent(at(91), "system", status=5, rule="Close resolved tickets after 48 hours",
                       rule_type=3),
    ])


def build_freshdesk_world() -> World:
    world = World()
    world.freshdesk_groups = [FreshdeskGroup(SUPPORT, "Support", agent_ids=[ADMIN, ANN]),
                              FreshdeskGroup(BILLING, "Billing", agent_ids=[BEN],
                                             business_hour_id=EUROPE)]
    world.freshdesk_business_hours = [
        FreshdeskBusinessHours(DEFAULT_HOURS, "Default", "Eastern Time (US & Canada)",
                               {"monday": (480, 1020), "friday": (0, 1440)}, is_default=True),
        FreshdeskBusinessHours(EUROPE, "Europe", "London", {"saturday": (570, 750)})]
    world.freshdesk_agents = [
        FreshdeskAgent(ADMIN, "Ada Admin", "ada@example.com", group_ids=[SUPPORT]),
        FreshdeskAgent(ANN, "Ann Agent", "ann@example.com", group_ids=[SUPPORT]),
        FreshdeskAgent(BEN, "Ben Agent", "ben@example.com", occasional=True, active=False,
                       group_ids=[BILLING])]
    world.freshdesk_contacts = [FreshdeskContact(ALICE, "Alice", "alice@acme.example", 9),
                                FreshdeskContact(BOB, "Bob", "bob@globex.example")]
    world.freshdesk_tickets = [
        story(),
        FreshdeskTicket(OLD, T0 - timedelta(days=40), BOB, "Old question", events=[
            FreshdeskEvent(at(3), "agent", ANN, message="reply", body="<div>Late</div>")]),
        FreshdeskTicket(SPAM, at(4), BOB, "Cheap pills", events=[
            FreshdeskEvent(at(4.5), "agent", ANN, spam=True)]),
        FreshdeskTicket(DELETED, at(5), BOB, "Duplicate", events=[
            FreshdeskEvent(at(5.5), "agent", ANN, message="reply", body="<div>Dup</div>"),
            FreshdeskEvent(at(6), "agent", ANN, deleted=True)]),
        FreshdeskTicket(OUTBOUND, at(7), BOB, "Your renewal", "<div>Renewal soon</div>",
                        source=10, status=3, group_id=BILLING, responder_id=BEN,
                        creator_id=BEN),
        FreshdeskTicket(FRESH, at(8), ALICE, "New question", priority=4),
    ]
    world.freshdesk_ratings = [
        FreshdeskRating(9001, STORY, ALICE, 103, at(31), ANN, SUPPORT, "Great"),
        FreshdeskRating(9002, STORY, ALICE, -103, at(50), BEN, BILLING)]
    world.freshdesk_time_entries = [
        # A timer over the note and the reply; one still running at NOW; one logged by hand
        # two days after the work and dated back to it.
        FreshdeskTimeEntry(7001, STORY, ANN, at(1.4), at(2.05), at(1.4), billable=True,
                           note="Call", company_id=9),
        FreshdeskTimeEntry(7002, OUTBOUND, BEN, at(479.5), at(481), at(479.5),
                           billable=False),
        FreshdeskTimeEntry(7003, STORY, ANN, at(77.5), at(78), at(30), timer=False,
                           billable=False, company_id=9)]
    return world


@pytest.fixture(scope="module")
def fd_world() -> World:
    return build_freshdesk_world()


@pytest.fixture
def fsb(fd_world: World) -> Iterator[Sandbox]:
    with Sandbox(fd_world, clock=lambda: NOW, freshdesk_rate_limit_per_minute=None) as server:
        yield server


@pytest.fixture
def fd(fsb: Sandbox) -> requests.Session:
    session = requests.Session()
    session.auth = (fsb.credentials["freshdesk_api_key"], "X")
    return session


def url(sb: Sandbox, path: str) -> str:
    return sb.credentials["freshdesk_base_url"] + path


def ids(body: list[dict[str, Any]]) -> list[int]:
    return [item["id"] for item in body]


def test_credentials_and_auth(fsb: Sandbox) -> None:
    assert fsb.credentials["freshdesk_base_url"] == f"{fsb.url}/freshdesk"
    key = fsb.credentials["freshdesk_api_key"]
    ok = requests.get(url(fsb, "/api/v2/groups"), auth=(key, "X"))
    assert ok.status_code == 200 and ok.headers["Content-Type"].startswith("application/json")
    for auth in (None, ("wrong", "X"), (f"{fsb.email}/token", fsb.api_token)):
        denied = requests.get(url(fsb, "/api/v2/tickets"), auth=auth)
        assert denied.status_code == 401
        assert denied.json()["code"] == "invalid_credentials"
    # Zendesk's credentials do not open Freshdesk, nor Freshdesk's Zendesk
    assert requests.get(fsb.url + "/api/v2/groups.json", auth=(key, "X")).status_code == 401


def test_default_listing_is_last_30_days_newest_first(fsb: Sandbox,
                                                      fd: requests.Session) -> None:
    body = fd.get(url(fsb, "/api/v2/tickets")).json()
    # OLD was created 40 days ago; spam and deleted tickets are hidden
    assert ids(body) == [FRESH, OUTBOUND, STORY]
    story_json = body[-1]
    assert story_json["status"] == 5 and story_json["priority"] == 3
    assert story_json["group_id"] == BILLING and story_json["responder_id"] == BEN
    assert story_json["updated_at"] == iso(91) and story_json["created_at"] == iso(0)
    assert story_json["tags"] == ["bug"] and story_json["type"] == "Incident"
    assert story_json["source"] == 1 and story_json["company_id"] == 9
    assert story_json["spam"] is False and "deleted" not in story_json
    assert "description" not in story_json and "stats" not in story_json
    assert {"fr_escalated", "is_escalated", "due_by", "fr_due_by", "requester_id",
            "product_id", "custom_fields", "cc_emails"} <= set(story_json)


def test_updated_since_order_and_filters(fsb: Sandbox, fd: requests.Session) -> None:
    tickets = url(fsb, "/api/v2/tickets")
    since = {"updated_since": "2025-01-01T00:00:00Z"}
    assert ids(fd.get(tickets, params={**since, "order_by": "created_at",
                                       "order_type": "asc"}).json()) == \
        [OLD, STORY, OUTBOUND, FRESH]
    assert ids(fd.get(tickets, params={**since, "order_by": "updated_at"}).json()) == \
        [STORY, FRESH, OUTBOUND, OLD]
    assert ids(fd.get(tickets, params={"updated_since": iso(8)}).json()) == [FRESH, STORY]
    deleted = fd.get(tickets, params={"filter": "deleted"}).json()
    assert ids(deleted) == [DELETED] and deleted[0]["deleted"] is True
    spam = fd.get(tickets, params={"filter": "spam"}).json()
    assert ids(spam) == [SPAM] and spam[0]["spam"] is True
    assert fd.get(tickets, params={"filter": "watching"}).json() == []
    assert ids(fd.get(tickets, params={"filter": "new_and_my_open"}).json()) == [FRESH]
    assert ids(fd.get(tickets, params={"requester_id": BOB}).json()) == [OUTBOUND]
    assert ids(fd.get(tickets, params={"email": "ALICE@acme.example"}).json()) == \
        [FRESH, STORY]
    for bad in ({"filter": "all"}, {"order_by": "priority"}, {"order_type": "up"},
                {"include": "conversations"}, {"updated_since": "yesterday"},
                {"per_page": 101}, {"page": 0}, {"page": 301}, {"colour": "red"}):
        answer = fd.get(tickets, params=bad)
        assert answer.status_code == 400, bad
        body = answer.json()
        assert body["description"] == "Validation failed"
        assert {"field", "message", "code"} <= set(body["errors"][0]), bad


def test_paging_link_header(fsb: Sandbox, fd: requests.Session) -> None:
    first = fd.get(url(fsb, "/api/v2/tickets"),
                   params={"updated_since": "2025-01-01T00:00:00Z", "per_page": 3})
    assert len(first.json()) == 3
    assert first.links["next"]["url"].startswith(url(fsb, "/api/v2/tickets?"))
    assert "page=2" in first.links["next"]["url"] and "per_page=3" in first.links["next"]["url"]
    second = fd.get(first.links["next"]["url"])
    assert ids(second.json()) == [OLD] and "next" not in second.links
    assert "link" not in {k.lower() for k in second.headers}


def test_include_stats_requester_description(fsb: Sandbox, fd: requests.Session) -> None:
    body = fd.get(url(fsb, "/api/v2/tickets"), params={
        "include": "stats,requester,description", "updated_since": iso(0)}).json()
    story_json = next(t for t in body if t["id"] == STORY)
    assert story_json["stats"] == {
        "agent_responded_at": iso(42), "requester_responded_at": iso(40),
        "first_responded_at": iso(2), "status_updated_at": iso(91), "reopened_at": iso(40),
        "resolved_at": iso(42), "closed_at": iso(91), "pending_since": None}
    assert story_json["requester"] == {"id": ALICE, "name": "Alice",
                                       "email": "alice@acme.example", "mobile": None,
                                       "phone": None}
    assert story_json["description"] == "<div>The <b>export</b> fails</div>"
    assert story_json["description_text"] == "The export fails"
    assert story_json["fr_escalated"] is False  # first reply after 2 h, due in 12 h
    outbound = next(t for t in body if t["id"] == OUTBOUND)
    assert outbound["stats"]["pending_since"] == iso(7)
    assert outbound["stats"]["first_responded_at"] is None
    fresh = next(t for t in body if t["id"] == FRESH)
    assert fresh["fr_escalated"] is True  # urgent, never answered


def test_one_ticket(fsb: Sandbox, fd: requests.Session) -> None:
    one = fd.get(url(fsb, f"/api/v2/tickets/{STORY}")).json()
    assert one["id"] == STORY and one["description_text"] == "The export fails"
    assert "stats" not in one
    assert "stats" in fd.get(url(fsb, f"/api/v2/tickets/{STORY}"),
                             params={"include": "stats"}).json()
    assert fd.get(url(fsb, f"/api/v2/tickets/{DELETED}")).json()["deleted"] is True
    missing = fd.get(url(fsb, "/api/v2/tickets/999"))
    assert missing.status_code == 404 and missing.content == b""


def test_conversations(fsb: Sandbox, fd: requests.Session) -> None:
    convs = url(fsb, f"/api/v2/tickets/{STORY}/conversations")
    body = fd.get(convs).json()
    assert [(c["incoming"], c["private"], c["source"], c["user_id"]) for c in body] == [
        (False, True, 2, ANN), (False, False, 0, ANN), (True, False, 0, ALICE),
        (False, False, 0, ANN), (True, False, 0, ALICE), (False, False, 0, BEN)]
    assert [c["id"] for c in body] == [CONVERSATION_ID_BASE + STORY * 1000 + k
                                       for k in range(1, 7)]
    note, reply, incoming = body[0], body[1], body[2]
    assert note["body_text"] == "VIP" and note["to_emails"] == []
    assert reply["to_emails"] == ["alice@acme.example"] and reply["created_at"] == iso(2)
    assert incoming["from_email"] == "alice@acme.example" and incoming["ticket_id"] == STORY
    assert {"body", "support_email", "cc_emails", "bcc_emails", "attachments",
            "updated_at"} <= set(note)
    paged = fd.get(convs, params={"per_page": 4})
    assert len(paged.json()) == 4 and "page=2" in paged.links["next"]["url"]
    assert len(fd.get(paged.links["next"]["url"]).json()) == 2
    for missing in (999, DELETED):
        answer = fd.get(url(fsb, f"/api/v2/tickets/{missing}/conversations"))
        assert answer.status_code == 404


def test_activities_export_two_steps(fsb: Sandbox, fd: requests.Session) -> None:
    day = T0.date().isoformat()
    answer = fd.get(url(fsb, "/api/v2/export/ticket_activities"), params={"created_at": day})
    assert answer.status_code == 200
    (export,) = answer.json()["export"]
    assert export["created_at"] == "2-6-2025"
    download = requests.get(export["url"])  # no auth: a pre-signed link
    assert download.status_code == 200 and "X-RateLimit-Total" not in download.headers
    body = download.json()
    assert body["metadata"] == {"start_at": "02-06-2025 00:00:00 +0000",
                                "end_at": "02-06-2025 23:59:59 +0000",
                                "activities_count": len(body["activities_data"])}
    story_acts = [a for a in body["activities_data"] if a["ticket_id"] == STORY]
    assert story_acts[0] == {
        "performed_at": "02-06-2025 09:00:00 +0000", "ticket_id": STORY,
        "performer_type": "user", "performer_id": ALICE,
        "activity": {"new_ticket": True, "status": "Open", "priority": 2, "source": 1,
                     "requester_id": ALICE, "ticket_type": "Incident",
                     "added_tags": ["bug"]}}
    acts = [a["activity"] for a in story_acts]
    assert acts[1] == {"group": "Support", "automation": {"type": 1,
                                                          "rule": "Route bug tickets"}}
    assert story_acts[1]["performer_type"] == "system" and story_acts[1]["performer_id"] is None
    assert acts[2] == {"agent_id": ANN}
    assert acts[3] == {"note": {"id": CONVERSATION_ID_BASE + STORY * 1000 + 1, "type": 2}}
    assert acts[4]["status"] == "Pending" and acts[4]["note"]["type"] == 0
    assert acts[5]["status"] == "Open" and story_acts[5]["performer_id"] == ALICE
    assert acts[6] == {"priority": 3, "status": "Waiting on Third Party"}
    times = [a["performed_at"] for a in body["activities_data"]]
    assert times == sorted(times, key=lambda s: datetime.strptime(s, "%d-%m-%Y %H:%M:%S %z"))
    # a later day: the close by the supervisor rule (6 June, 04:00)
    later = fd.get(url(fsb, "/api/v2/export/ticket_activities"),
                   params={"created_at": at(91).date().isoformat()})
    closing = requests.get(later.json()["export"][0]["url"]).json()["activities_data"]
    assert {"status": "Closed", "automation": {
        "type": 3, "rule": "Close resolved tickets after 48 hours"}} in \
        [a["activity"] for a in closing]
    # a tampered link is refused as S3 refuses it
    assert requests.get(export["url"].replace("Signature=", "Signature=x")).status_code == 403


def test_export_not_ready_missing_and_disabled(fd_world: World, fsb: Sandbox,
                                               fd: requests.Session) -> None:
    export = url(fsb, "/api/v2/export/ticket_activities")
    today = datetime.fromtimestamp(NOW, UTC).date().isoformat()
    assert fd.get(export, params={"created_at": today}).status_code == 404
    assert fd.get(export).status_code == 400
    assert fd.get(export, params={"created_at": "02/06/2025"}).status_code == 400
    with Sandbox(fd_world, clock=lambda: NOW, freshdesk_activity_export=False) as off:
        denied = requests.get(url(off, "/api/v2/export/ticket_activities"),
                              params={"created_at": "2025-06-02"},
                              auth=(off.credentials["freshdesk_api_key"], "X"))
        assert denied.status_code == 403 and denied.json()["code"] == "access_denied"
    with Sandbox(fd_world, clock=lambda: NOW, freshdesk_export_retention_days=7) as kept:
        gone = requests.get(url(kept, "/api/v2/export/ticket_activities"),
                            params={"created_at": "2025-06-02"},
                            auth=(kept.credentials["freshdesk_api_key"], "X"))
        assert gone.status_code == 404


def test_ratings_surveys_agents_groups_fields(fsb: Sandbox, fd: requests.Session) -> None:
    ratings = fd.get(url(fsb, "/api/v2/surveys/satisfaction_ratings")).json()
    assert ids(ratings) == [9001, 9002]
    assert ratings[0] == {"id": 9001, "survey_id": ratings[0]["survey_id"], "user_id": ALICE,
                          "agent_id": ANN, "feedback": "Great", "group_id": SUPPORT,
                          "ticket_id": STORY, "ratings": {"default_question": 103},
                          "created_at": iso(31), "updated_at": iso(31)}
    assert ids(fd.get(url(fsb, "/api/v2/surveys/satisfaction_ratings"),
                      params={"created_since": iso(40)}).json()) == [9002]
    assert fd.get(url(fsb, "/api/v2/surveys/satisfaction_ratings"),
                  params={"user_id": BOB}).json() == []
    paged = fd.get(url(fsb, "/api/v2/surveys/satisfaction_ratings"), params={"per_page": 1})
    assert "page=2" in paged.links["next"]["url"]
    (survey,) = fd.get(url(fsb, "/api/v2/surveys")).json()
    assert survey["questions"][0]["accepted_ratings"] == [103, 102, 100, -102, -103]
    agents = fd.get(url(fsb, "/api/v2/agents")).json()
    assert ids(agents) == [ADMIN, ANN, BEN]
    ben = agents[2]
    assert ben["occasional"] is True and ben["contact"]["active"] is False
    assert ben["group_ids"] == [BILLING] and ben["contact"]["email"] == "ben@example.com"
    assert fd.get(url(fsb, f"/api/v2/agents/{ANN}")).json()["contact"]["name"] == "Ann Agent"
    groups = fd.get(url(fsb, "/api/v2/groups")).json()
    assert [(g["id"], g["name"], g["agent_ids"], g["business_hour_id"]) for g in groups] == [
        (SUPPORT, "Support", [ADMIN, ANN], None), (BILLING, "Billing", [BEN], EUROPE)]
    status = next(f for f in fd.get(url(fsb, "/api/v2/ticket_fields")).json()
                  if f["name"] == "status")
    assert status["choices"]["6"] == ["Waiting on Customer", "Awaiting your Reply"]
    assert status["choices"]["7"] == ["Waiting on Third Party", "Being Processed"]
    assert status["choices"]["2"][0] == "Open" and status["choices"]["5"][0] == "Closed"


def test_business_hours(fsb: Sandbox, fd: requests.Session) -> None:
    calendars = fd.get(url(fsb, "/api/v2/business_hours")).json()
    assert [(c["id"], c["is_default"], c["time_zone"]) for c in calendars] == [
        (DEFAULT_HOURS, True, "Eastern Time (US & Canada)"), (EUROPE, False, "London")]
    # Freshdesk's clock: 12-hour with seconds; a day open to its end closes at 11:59:59 pm;
    # a closed weekday is left out.
    assert calendars[0]["business_hours"] == {
        "monday": {"start_time": "08:00:00 am", "end_time": "05:00:00 pm"},
        "friday": {"start_time": "12:00:00 am", "end_time": "11:59:59 pm"}}
    one = fd.get(url(fsb, f"/api/v2/business_hours/{EUROPE}")).json()
    assert one["business_hours"] == {
        "saturday": {"start_time": "09:30:00 am", "end_time": "12:30:00 pm"}}
    assert fd.get(url(fsb, "/api/v2/business_hours/999")).status_code == 404
    assert "page=2" in fd.get(url(fsb, "/api/v2/business_hours"),
                              params={"per_page": 1}).links["next"]["url"]


def test_time_entries(fsb: Sandbox, fd: requests.Session) -> None:
    entries = fd.get(url(fsb, "/api/v2/time_entries")).json()
    assert ids(entries) == [7001, 7002, 7003]
    assert entries[0] == {"id": 7001, "billable": True, "note": "Call", "timer_running": False,
                          "agent_id": ANN, "ticket_id": STORY, "company_id": 9,
                          "time_spent": "00:39", "executed_at": iso(1.4),
                          "start_time": iso(1.4), "created_at": iso(1.4),
                          "updated_at": iso(2.05)}
    # NOW is 480 hours in: the timer started half an hour before runs, its time so far.
    running = entries[1]
    assert running["timer_running"] is True and running["time_spent"] == "00:30"
    assert running["updated_at"] == running["created_at"] == iso(479.5)
    manual = entries[2]
    assert (manual["executed_at"], manual["created_at"], manual["time_spent"]) == \
        (iso(30), iso(78), "00:30")

    def listed(**params: Any) -> list[int]:
        return ids(fd.get(url(fsb, "/api/v2/time_entries"), params=params).json())

    assert listed(executed_after=iso(2), executed_before=iso(100)) == [7003]
    assert listed(executed_after=iso(1.4)) == [7001, 7002, 7003]
    assert listed(agent_id=BEN) == [7002] and listed(company_id=9) == [7001, 7003]
    assert listed(billable="false") == [7002, 7003]
    assert "page=2" in fd.get(url(fsb, "/api/v2/time_entries"),
                              params={"per_page": 2}).links["next"]["url"]
    bad = fd.get(url(fsb, "/api/v2/time_entries"), params={"executed_after": "yesterday"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "executed_after"
    assert fd.get(url(fsb, "/api/v2/time_entries"),
                  params={"billable": "maybe"}).status_code == 400


def test_rate_limit_headers_credits_and_429(fd_world: World) -> None:
    with Sandbox(fd_world, clock=lambda: NOW, freshdesk_rate_limit_per_minute=7) as sb:
        session = requests.Session()
        session.auth = (sb.credentials["freshdesk_api_key"], "X")
        plain = session.get(url(sb, "/api/v2/groups"))
        assert plain.headers["X-RateLimit-Total"] == "7"
        assert plain.headers["X-RateLimit-Used-CurrentRequest"] == "1"
        assert plain.headers["X-RateLimit-Remaining"] == "6"
        rich = session.get(url(sb, "/api/v2/tickets"), params={"include": "stats,requester"})
        assert rich.headers["X-RateLimit-Used-CurrentRequest"] == "5"
        assert rich.headers["X-RateLimit-Remaining"] == "1"
        over = session.get(url(sb, "/api/v2/tickets"), params={"include": "stats"})
        assert over.status_code == 429
        assert 1 <= int(over.headers["Retry-After"]) <= 60
        assert session.get(url(sb, "/api/v2/groups")).status_code == 200  # 1 credit left
        assert session.get(url(sb, "/api/v2/groups")).status_code == 429
        sb.reset_rate_limits()
        assert session.get(url(sb, "/api/v2/groups")).status_code == 200


def test_faults_on_freshdesk_paths(fsb: Sandbox, fd: requests.Session) -> None:
    tickets = url(fsb, "/api/v2/tickets")
    fsb.inject_fault("/freshdesk/api/v2/tickets", 429, retry_after=3)
    limited = fd.get(tickets)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
    assert limited.json()["code"] == "too_many_requests"
    fsb.inject_fault("/freshdesk/api/v2/tickets", 503)
    assert fd.get(tickets).json()["code"] == "service_unavailable"
    fsb.inject_fault("/freshdesk/api/v2/tickets", kind="reset")
    with pytest.raises(requests.ConnectionError):
        fd.get(tickets)
    fsb.inject_fault("/freshdesk/api/v2/groups", kind="truncated")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        fd.get(url(fsb, "/api/v2/groups"))
    fsb.inject_fault("/freshdesk/api/v2/tickets", kind="timeout", delay=1.0)
    with pytest.raises((requests.ReadTimeout, requests.ConnectionError)):
        fd.get(tickets, timeout=0.3)
    first = fd.get(tickets, params={"per_page": 2}).json()
    fsb.inject_fault("/freshdesk/api/v2/tickets", kind="repeat_page")
    second = fd.get(tickets, params={"per_page": 2, "page": 2}).json()
    assert ids(second)[:2] == ids(first)
    fsb.inject_fault("/freshdesk/api/v2/tickets", kind="bad_record", mode="bad_timestamp")
    assert fd.get(tickets).json()[0]["updated_at"] == BAD_TIMESTAMP
    fsb.inject_fault("/freshdesk/api/v2/tickets", kind="bad_record", mode="wrong_type")
    assert fd.get(tickets).json()[0]["requester_id"] == "twelve"
    fsb.inject_fault("/freshdesk/api/v2/tickets", kind="expired_cursor")
    assert fd.get(tickets).status_code == 200  # page 1 carries no "cursor": fault kept
    expired = fd.get(tickets, params={"per_page": 2, "page": 2})
    assert expired.status_code == 400 and expired.json()["errors"][0]["field"] == "page"
    fsb.inject_fault("/freshdesk/exports/", kind="expired_cursor")
    link = fd.get(url(fsb, "/api/v2/export/ticket_activities"),
                  params={"created_at": "2025-06-02"}).json()["export"][0]["url"]
    stale = requests.get(link)
    assert stale.status_code == 403 and b"AccessDenied" in stale.content
    assert not fsb.faults.pending()
    # the sandbox still answers after all of it
    assert fd.get(tickets).status_code == 200
    with socket.create_connection((fsb.host, fsb.port), timeout=2):
        pass
