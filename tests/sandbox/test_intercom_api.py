"""Intercom (2.11) over real HTTP: auth, admins and teams, conversation search and list paging,
query validation, one conversation with its parts (and the 500-part cap), statistics, rate
limits and every fault kind on Intercom paths."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from sandbox import Sandbox, World
from sandbox.intercom_api import DEFAULT_INTERCOM_TOKEN, decode_cursor
from sandbox.limits import BAD_TIMESTAMP
from sandbox.world import (
    IntercomAdmin,
    IntercomContact,
    IntercomConversation,
    IntercomPart,
    IntercomRating,
    IntercomTeam,
)
from tests.sandbox.sandbox_world import build_small_world

SEARCH = "/conversations/search"
T0 = datetime(2024, 3, 4, 9, tzinfo=UTC)
BOT, ANN, BEN, TEAM = 1, 11, 12, 21
ALICE = IntercomContact("6650000000000000000000a1", "user", "Alice", "alice@acme.example", "10")
LEAD = IntercomContact("6650000000000000000000b2", "lead", None, "lead@globex.example", None)
STORY, FRESH, SNOOZED, CLOSED, OUTBOUND, ANSWERED, TIE_A, TIE_B, LONG = range(101, 110)


def at(minutes: float, seconds: int = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, seconds=seconds)


def ts(minutes: float, seconds: int = 0) -> int:
    return int(at(minutes, seconds).timestamp())


def story() -> IntercomConversation:
    """Bot greeting, routing, a note, replies, a snooze, a close, a reopen, a second close,
    a rating: every statistic has a value."""
    parts = [
        IntercomPart(at(1), "comment", "bot", BOT, "<p>Hi!</p>"),
        IntercomPart(at(2), "default_assignment", "bot", BOT, assigned_to=("team", TEAM)),
        IntercomPart(at(10), "assignment", "admin", ANN, assigned_to=("admin", ANN)),
        IntercomPart(at(12), "note", "admin", ANN, "<p>VIP customer</p>"),
        IntercomPart(at(15), "comment", "admin", ANN, "<p>Hello <b>Alice</b> &amp; co</p>"),
        IntercomPart(at(20), "comment", "contact", body="<p>Still broken</p>"),
        IntercomPart(at(25), "comment", "contact", body="<p>Hello?</p>"),
        IntercomPart(at(40), "comment", "admin", ANN, "<p>Fixed now</p>"),
        IntercomPart(at(41), "snoozed", "admin", ANN, snoozed_until=at(100)),
        IntercomPart(at(100), "timer_unsnooze", "bot", BOT),
        IntercomPart(at(110), "close", "admin", ANN),
        IntercomPart(at(200), "open", "contact", body="<p>Broken again</p>"),
        IntercomPart(at(230), "comment", "admin", BEN, "<p>On it</p>"),
        IntercomPart(at(240), "close", "admin", BEN),
    ]
    return IntercomConversation(
        STORY, at(0), ALICE, body="<p>The export is broken</p>", parts=parts,
        url="https://app.example/export", tags=["bug"], priority="priority",
        rating=IntercomRating(5, at(240), at(300), BEN, "Great"),
        custom_attributes={"topic": "bug"})


def build_intercom_world() -> World:
    """The small helpdesk world plus two teammates, the bot, a team and nine conversations."""
    world = build_small_world()
    world.intercom_admins = [
        IntercomAdmin(BOT, "Operator", "operator+sandboxapp@intercom.io", is_bot=True,
                      has_inbox_seat=False),
        IntercomAdmin(ANN, "Ann Agent", "ann@sandbox.example", "Support Lead", [TEAM]),
        IntercomAdmin(BEN, "Ben Agent", "ben@sandbox.example", None, [TEAM],
                      away_mode_enabled=True, away_mode_reassign=True),
    ]
    world.intercom_teams = [IntercomTeam(TEAM, "Support", [ANN, BEN])]
    long_parts = [IntercomPart(at(2000, k + 1), "comment",
                               "contact" if k % 2 else "admin", None if k % 2 else ANN,
                               f"<p>message {k}</p>") for k in range(501)]
    world.intercom_conversations = [
        story(),
        IntercomConversation(FRESH, at(1000), ALICE, body="<p>New question</p>"),
        IntercomConversation(SNOOZED, at(1100), ALICE, parts=[
            IntercomPart(at(1105), "snoozed", "admin", ANN, snoozed_until=at(5000))]),
        IntercomConversation(CLOSED, at(1200), LEAD, source_type="email", subject="Refund",
                             parts=[IntercomPart(at(1210), "close", "admin", ANN)]),
        IntercomConversation(OUTBOUND, at(1300), LEAD, delivered_as="admin_initiated",
                             source_admin_id=ANN, body="<p>How are we doing?</p>"),
        IntercomConversation(ANSWERED, at(1400), ALICE, delivered_as="admin_initiated",
                             source_admin_id=BEN, parts=[IntercomPart(
                                 at(1450), "open", "contact", body="<p>Fine thanks</p>")]),
        IntercomConversation(TIE_A, at(1600), ALICE),
        IntercomConversation(TIE_B, at(1600), LEAD),
        IntercomConversation(LONG, at(1999), ALICE, parts=long_parts),
    ]
    return world


@pytest.fixture(scope="module")
def intercom_world() -> World:
    return build_intercom_world()


def search(session: requests.Session, sb: Sandbox, query: Any,
           **pagination: Any) -> requests.Response:
    body: dict[str, Any] = {"query": query}
    if pagination:
        body["pagination"] = pagination
    return session.post(sb.url + SEARCH, json=body)


def search_all(session: requests.Session, sb: Sandbox, query: Any,
               per_page: int) -> list[dict[str, Any]]:
    """Every page of a search, following ``pages.next.starting_after``."""
    pages: list[dict[str, Any]] = []
    cursor = None
    while True:
        pagination: dict[str, Any] = {"per_page": per_page}
        if cursor:
            pagination["starting_after"] = cursor
        r = search(session, sb, query, **pagination)
        assert r.status_code == 200, r.text
        pages.append(r.json())
        nxt = r.json()["pages"].get("next")
        if not nxt:
            return pages
        cursor = nxt["starting_after"]


def error_of(r: requests.Response) -> dict[str, Any]:
    body = r.json()
    assert body["type"] == "error.list" and body["request_id"]
    assert len(body["errors"]) == 1
    return body["errors"][0]


# --- auth, admins, teams ----------------------------------------------------------------------


def test_missing_or_wrong_token_is_401_error_list(isb: Sandbox) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"},
                    {"Authorization": f"Bearer {isb.credentials['oauth_token']}"},
                    {"Authorization": DEFAULT_INTERCOM_TOKEN}):
        r = requests.get(isb.url + "/admins", headers=headers)
        assert r.status_code == 401
        assert error_of(r) == {"code": "unauthorized", "message": "Access Token Invalid"}
        assert "X-RateLimit-Limit" not in r.headers
    intercom = {"Authorization": f"Bearer {isb.credentials['intercom_access_token']}"}
    assert requests.get(isb.url + "/api/v2/groups.json", headers=intercom).status_code == 401


def test_token_and_credentials_are_configurable(intercom_world: World) -> None:
    with Sandbox(intercom_world, intercom_access_token="my-token") as sb:
        assert sb.credentials["intercom_access_token"] == "my-token"
        ok = requests.get(sb.url + "/teams", headers={"Authorization": "Bearer my-token"})
        assert ok.status_code == 200
        default = {"Authorization": f"Bearer {DEFAULT_INTERCOM_TOKEN}"}
        assert requests.get(sb.url + "/teams", headers=default).status_code == 401


def test_admins_teams_and_me(isb: Sandbox, intercom: requests.Session) -> None:
    admins = intercom.get(isb.url + "/admins").json()
    assert admins["type"] == "admin.list"
    assert [a["id"] for a in admins["admins"]] == ["1", "11", "12"]
    ann = admins["admins"][1]
    assert ann == {"type": "admin", "email": "ann@sandbox.example", "id": "11",
                   "name": "Ann Agent", "away_mode_enabled": False,
                   "away_mode_reassign": False, "has_inbox_seat": True, "team_ids": [TEAM],
                   "job_title": "Support Lead", "avatar": ann["avatar"]}
    assert admins["admins"][0]["has_inbox_seat"] is False
    assert admins["admins"][2]["away_mode_enabled"] is True
    assert intercom.get(isb.url + "/admins/12").json()["name"] == "Ben Agent"
    r = intercom.get(isb.url + "/admins/99")
    assert r.status_code == 404 and error_of(r)["code"] == "admin_not_found"
    teams = intercom.get(isb.url + "/teams").json()
    assert teams == {"type": "team.list", "teams": [
        {"type": "team", "id": "21", "name": "Support", "admin_ids": [ANN, BEN],
         "admin_priority_level": None}]}
    assert intercom.get(isb.url + "/teams/21").json()["name"] == "Support"
    me = intercom.get(isb.url + "/me").json()
    assert me["type"] == "admin" and me["id"] == "11" and me["app"]["type"] == "app"


def test_intercom_version_header_is_recorded(isb: Sandbox, intercom: requests.Session) -> None:
    intercom.get(isb.url + "/teams")
    requests.get(isb.url + "/teams", headers={
        "Authorization": f"Bearer {isb.credentials['intercom_access_token']}"})
    assert isb.intercom.versions[-2:] == ["2.11", None]
    assert isb.requests[-1].path == "/teams"


# --- search -----------------------------------------------------------------------------------


def test_search_pages_a_window_each_conversation_once(isb: Sandbox,
                                                      intercom: requests.Session) -> None:
    window = {"operator": "AND", "value": [
        {"field": "updated_at", "operator": ">", "value": ts(999)},
        {"field": "updated_at", "operator": "<", "value": str(ts(1700))}]}
    pages = search_all(intercom, isb, window, per_page=2)
    ids = [c["id"] for p in pages for c in p["conversations"]]
    # (updated_at, id) order; the two conversations updated in the same second by id
    assert ids == [str(i) for i in (FRESH, SNOOZED, CLOSED, OUTBOUND, ANSWERED, TIE_A, TIE_B)]
    assert [p["pages"]["page"] for p in pages] == [1, 2, 3, 4]
    assert {p["total_count"] for p in pages} == {7}
    assert {p["pages"]["total_pages"] for p in pages} == {4}
    assert [len(p["conversations"]) for p in pages] == [2, 2, 2, 1]
    assert "next" not in pages[-1]["pages"] and pages[0]["pages"]["next"]["page"] == 2
    first = pages[0]["conversations"][0]
    assert "conversation_parts" not in first and first["statistics"]["type"] == \
        "conversation_statistics"
    assert pages[0]["type"] == "conversation.list"
    assert pages[0]["pages"]["per_page"] == 2


def test_search_cursor_is_keyset_and_default_page_size(isb: Sandbox,
                                                       intercom: requests.Session) -> None:
    everything = {"field": "created_at", "operator": ">", "value": 0}
    r = search(intercom, isb, everything)
    assert r.json()["pages"]["per_page"] == 20 and r.json()["total_count"] == 9
    first = search(intercom, isb, everything, per_page=3).json()
    cursor = first["pages"]["next"]["starting_after"]
    assert cursor.startswith("Wz")  # base64 of a JSON array, like Intercom's
    assert decode_cursor(cursor)[1] == int(first["conversations"][-1]["id"])
    # another page size after the same cursor continues where the first page ended
    rest = search(intercom, isb, everything, per_page=100, starting_after=cursor).json()
    ids = [c["id"] for c in first["conversations"] + rest["conversations"]]
    assert len(ids) == len(set(ids)) == 9 and rest["pages"]["page"] == 2
    # the cursor belongs to the body: a starting_after in the query string is ignored
    again = intercom.post(isb.url + SEARCH, params={"starting_after": cursor},
                          json={"query": everything, "pagination": {"per_page": 3}}).json()
    assert again["conversations"] == first["conversations"]


def test_greater_and_lower_are_strict(isb: Sandbox, intercom: requests.Session) -> None:
    def ids(query: Any) -> set[int]:
        r = search(intercom, isb, query, per_page=150)
        assert r.status_code == 200, r.text
        return {int(c["id"]) for c in r.json()["conversations"]}

    closed_at = ts(1210)  # CLOSED's updated_at
    assert CLOSED not in ids({"field": "updated_at", "operator": ">", "value": closed_at})
    assert CLOSED not in ids({"field": "updated_at", "operator": "<", "value": closed_at})
    assert ids({"field": "updated_at", "operator": "=", "value": closed_at}) == {CLOSED}
    assert ids({"field": "updated_at", "operator": ">", "value": closed_at - 1}) >= {CLOSED}
    assert ids({"field": "updated_at", "operator": "!=", "value": closed_at}) == \
        set(range(101, 110)) - {CLOSED}


def test_nested_groups_and_fields(isb: Sandbox, intercom: requests.Session) -> None:
    def ids(query: Any) -> set[int]:
        r = search(intercom, isb, query, per_page=150)
        assert r.status_code == 200, r.text
        return {int(c["id"]) for c in r.json()["conversations"]}

    nested = {"operator": "AND", "value": [
        {"field": "created_at", "operator": ">", "value": ts(1050)},
        {"operator": "OR", "value": [
            {"field": "state", "operator": "=", "value": "snoozed"},
            {"field": "open", "operator": "=", "value": False}]}]}
    assert ids(nested) == {SNOOZED, CLOSED, OUTBOUND}
    assert ids({"field": "state", "operator": "IN", "value": ["snoozed", "closed"]}) == \
        {STORY, SNOOZED, CLOSED, OUTBOUND}
    assert ids({"field": "state", "operator": "NIN", "value": ["open"]}) == \
        {STORY, SNOOZED, CLOSED, OUTBOUND}
    assert ids({"field": "open", "operator": "=", "value": "true"}) == \
        {FRESH, SNOOZED, ANSWERED, TIE_A, TIE_B, LONG}
    assert ids({"field": "id", "operator": "=", "value": str(STORY)}) == {STORY}
    assert ids({"field": "id", "operator": "IN", "value": [STORY, str(LONG)]}) == {STORY, LONG}
    assert ids({"field": "source.delivered_as", "operator": "=",
                "value": "admin_initiated"}) == {OUTBOUND, ANSWERED}
    assert ids({"field": "source.type", "operator": "=", "value": "email"}) == {CLOSED}
    assert ids({"field": "contact_ids", "operator": "=", "value": LEAD.id}) == \
        {CLOSED, OUTBOUND, TIE_B}
    assert ids({"field": "admin_assignee_id", "operator": "=", "value": ANN}) == {STORY}
    assert ids({"field": "statistics.count_reopens", "operator": ">", "value": 0}) == {STORY}
    assert ids({"field": "source.body", "operator": "~", "value": "EXPORT"}) == {STORY}
    assert ids({"field": "tag_ids", "operator": "!=", "value": "1"}) == set(range(101, 110))


@pytest.mark.parametrize(("body", "code"), [
    ({"query": {"field": "updated_at", "operator": ">", "value": 0},
      "pagination": {"per_page": 151}}, "parameter_invalid"),
    ({"query": {"field": "updated_at", "operator": ">", "value": 0},
      "pagination": {"per_page": 0}}, "parameter_invalid"),
    ({"query": {"field": "nope", "operator": "=", "value": 1}}, "parameter_invalid"),
    ({"query": {"field": "state", "operator": ">", "value": "open"}}, "parameter_invalid"),
    ({"query": {"field": "updated_at", "operator": ">=", "value": 0}}, "parameter_invalid"),
    ({"query": {"field": "updated_at", "operator": ">", "value": "foobar"}},
     "parameter_invalid"),
    ({"query": {"field": "state", "operator": "IN", "value": "open"}}, "parameter_invalid"),
    ({"query": {"operator": "AND", "value": []}}, "parameter_invalid"),
    ({"query": {"operator": "AND", "value": [{"operator": "OR", "value": [
        {"operator": "AND", "value": [{"field": "open", "operator": "=", "value": True}]}]}]}},
     "parameter_invalid"),
    ({"query": {"operator": "OR", "value": [
        {"field": "id", "operator": "=", "value": str(k)} for k in range(16)]}},
     "parameter_invalid"),
    ({"query": {"field": "updated_at", "operator": ">", "value": 0},
      "pagination": {"starting_after": "not-a-cursor"}}, "parameter_invalid"),
    ({"pagination": {"per_page": 5}}, "parameter_not_found"),
])
def test_bad_searches_are_400_error_lists(isb: Sandbox, intercom: requests.Session,
                                          body: dict[str, Any], code: str) -> None:
    r = intercom.post(isb.url + SEARCH, json=body)
    assert r.status_code == 400, r.text
    assert error_of(r)["code"] == code


def test_search_needs_post_and_json(isb: Sandbox, intercom: requests.Session) -> None:
    r = intercom.post(isb.url + SEARCH, data=b"{nope", headers={"Content-Type":
                                                                "application/json"})
    assert r.status_code == 400 and error_of(r)["code"] == "bad_request"
    assert intercom.get(isb.url + SEARCH).status_code == 405


# --- list -------------------------------------------------------------------------------------


def test_list_conversations_newest_first_by_cursor(isb: Sandbox,
                                                   intercom: requests.Session) -> None:
    seen: list[str] = []
    params: dict[str, Any] = {"per_page": 4}
    pages = 0
    while True:
        body = intercom.get(isb.url + "/conversations", params=params).json()
        pages += 1
        assert body["type"] == "conversation.list" and body["total_count"] == 9
        assert all("conversation_parts" not in c for c in body["conversations"])
        seen += [c["id"] for c in body["conversations"]]
        nxt = body["pages"].get("next")
        if not nxt:
            break
        params = {"per_page": 4, "starting_after": nxt["starting_after"]}
    assert pages == 3 and len(seen) == len(set(seen)) == 9
    updated = [(c["updated_at"], int(c["id"])) for c in
               intercom.get(isb.url + "/conversations", params={"per_page": 150})
               .json()["conversations"]]
    assert updated == sorted(updated, reverse=True)
    assert seen[0] == str(LONG)
    r = intercom.get(isb.url + "/conversations", params={"per_page": 151})
    assert r.status_code == 400 and error_of(r)["code"] == "parameter_invalid"
    assert intercom.get(isb.url + "/conversations").json()["pages"]["per_page"] == 20


# --- one conversation -------------------------------------------------------------------------


def test_one_conversation_with_parts_state_and_statistics(isb: Sandbox,
                                                          intercom: requests.Session) -> None:
    body = intercom.get(f"{isb.url}/conversations/{STORY}").json()
    assert body["type"] == "conversation" and body["id"] == str(STORY)
    assert body["created_at"] == ts(0) and body["updated_at"] == ts(300)  # the rating
    assert (body["state"], body["open"], body["read"]) == ("closed", False, True)
    assert body["waiting_since"] is None and body["snoozed_until"] is None
    assert (body["admin_assignee_id"], body["team_assignee_id"]) == (ANN, TEAM)
    assert body["priority"] == "priority"
    assert body["source"] == {
        "type": "conversation", "id": str(STORY * 100_000), "delivered_as": "customer_initiated",
        "subject": "", "body": "<p>The export is broken</p>",
        "author": {"id": ALICE.id, "type": "user", "name": "Alice",
                   "email": "alice@acme.example"},
        "attachments": [], "url": "https://app.example/export", "redacted": False}
    assert body["contacts"] == {"type": "contact.list", "contacts": [
        {"type": "contact", "id": ALICE.id, "external_id": "10"}]}
    assert body["first_contact_reply"] == {"created_at": ts(0), "type": "conversation",
                                           "url": "https://app.example/export"}
    assert body["teammates"] == {"type": "admin.list", "teammates": [
        {"type": "admin", "id": "11"}, {"type": "admin", "id": "12"}]}
    assert body["conversation_rating"] == {
        "rating": 5, "remark": "Great", "created_at": ts(240),
        "contact": {"type": "contact", "id": ALICE.id, "external_id": "10"},
        "teammate": {"type": "admin", "id": "12"}}
    assert body["tags"]["type"] == "tag.list" and body["tags"]["tags"][0]["name"] == "bug"
    assert body["statistics"] == {
        "type": "conversation_statistics",
        "time_to_assignment": 600,  # the last assignment (10 min) before the first reply
        "time_to_admin_reply": 900,
        "time_to_first_close": 110 * 60,
        "time_to_last_close": 240 * 60,
        "median_time_to_reply": 1200,  # replies after 15, 20 (from 20 min) and 30 minutes
        "first_contact_reply_at": ts(0),
        "first_assignment_at": ts(2),  # the bot's default assignment to the team
        "first_admin_reply_at": ts(15),  # not the bot's greeting, not the note
        "first_close_at": ts(110),
        "last_assignment_at": ts(10),
        "last_assignment_admin_reply_at": ts(15),
        "last_contact_reply_at": ts(200),
        "last_admin_reply_at": ts(230),
        "last_close_at": ts(240),
        "last_closed_by_id": "12",
        "count_reopens": 1,
        "count_assignments": 2,
        "count_conversation_parts": 14}
    parts = body["conversation_parts"]
    assert parts["type"] == "conversation_part.list" and parts["total_count"] == 14
    assert [p["part_type"] for p in parts["conversation_parts"]] == [
        "comment", "default_assignment", "assignment", "note", "comment", "comment", "comment",
        "comment", "snoozed", "timer_unsnooze", "close", "open", "comment", "close"]
    bot, routed = parts["conversation_parts"][:2]
    assert bot == {"type": "conversation_part", "id": str(STORY * 100_000 + 1),
                   "part_type": "comment", "body": "<p>Hi!</p>", "created_at": ts(1),
                   "updated_at": ts(1), "notified_at": ts(1), "assigned_to": None,
                   "author": {"id": "1", "type": "bot", "name": "Operator",
                              "email": "operator+sandboxapp@intercom.io"},
                   "attachments": [], "external_id": None, "redacted": False}
    assert routed["assigned_to"] == {"type": "team", "id": str(TEAM)}
    assert parts["conversation_parts"][11]["author"]["type"] == "user"
    plain = intercom.get(f"{isb.url}/conversations/{STORY}",
                         params={"display_as": "plaintext"}).json()
    assert plain["conversation_parts"]["conversation_parts"][4]["body"] == "Hello Alice & co"
    assert plain["source"]["body"] == "The export is broken"


def test_derived_states_of_the_other_conversations(isb: Sandbox,
                                                   intercom: requests.Session) -> None:
    def get(cid: int) -> dict[str, Any]:
        return intercom.get(f"{isb.url}/conversations/{cid}").json()

    fresh = get(FRESH)
    assert (fresh["state"], fresh["open"], fresh["waiting_since"]) == ("open", True, ts(1000))
    assert fresh["read"] is False and fresh["updated_at"] == ts(1000)
    snoozed = get(SNOOZED)
    assert (snoozed["state"], snoozed["open"], snoozed["snoozed_until"]) == \
        ("snoozed", True, ts(5000))
    outbound = get(OUTBOUND)
    assert (outbound["state"], outbound["first_contact_reply"]) == ("closed", None)
    assert outbound["source"]["author"]["type"] == "admin"
    assert outbound["statistics"]["first_contact_reply_at"] is None
    assert outbound["contacts"]["contacts"][0] == {"type": "contact", "id": LEAD.id,
                                                   "external_id": None}
    answered = get(ANSWERED)
    assert (answered["state"], answered["waiting_since"]) == ("open", ts(1450))
    assert answered["statistics"]["first_contact_reply_at"] == ts(1450)
    assert answered["statistics"]["count_reopens"] == 0  # the answer is not a reopen


def test_at_most_500_parts_the_most_recent(isb: Sandbox, intercom: requests.Session) -> None:
    body = intercom.get(f"{isb.url}/conversations/{LONG}").json()
    parts = body["conversation_parts"]
    assert parts["total_count"] == 501 and len(parts["conversation_parts"]) == 500
    assert parts["conversation_parts"][0]["body"] == "<p>message 1</p>"
    assert parts["conversation_parts"][-1]["id"] == str(LONG * 100_000 + 501)
    assert body["statistics"]["count_conversation_parts"] == 501
    assert body["updated_at"] == ts(2000, 501)


def test_unknown_conversation_is_404(isb: Sandbox, intercom: requests.Session) -> None:
    for path in ("/conversations/999", "/conversations/abc", "/conversations/101/nope",
                 "/teams/5"):
        r = intercom.get(isb.url + path)
        assert r.status_code == 404
        assert error_of(r)["code"] in ("not_found", "team_not_found")
    r = intercom.get(isb.url + "/conversations/999")
    assert error_of(r) == {"code": "not_found", "message": "Resource Not Found"}


# --- rate limit -------------------------------------------------------------------------------


def test_rate_limit_429_with_headers_and_recovery(intercom_world: World) -> None:
    now = [1000.0]
    with Sandbox(intercom_world, intercom_rate_limit_per_10s=3) as sb:
        sb.intercom.limiter.clock = lambda: now[0]
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {sb.credentials['intercom_access_token']}"
        remaining = []
        for _ in range(3):
            r = session.get(sb.url + "/teams")
            assert r.status_code == 200 and r.headers["X-RateLimit-Limit"] == "3"
            remaining.append(r.headers["X-RateLimit-Remaining"])
        assert remaining == ["2", "1", "0"]
        r = session.post(sb.url + SEARCH, json={"query": {"field": "open", "operator": "=",
                                                          "value": True}})
        assert r.status_code == 429
        assert error_of(r) == {"code": "rate_limit_exceeded",
                               "message": "Exceeded rate limit of 3 in 10_seconds"}
        assert r.headers["X-RateLimit-Remaining"] == "0"
        reset = int(r.headers["X-RateLimit-Reset"])
        assert time.time() - 1 <= reset <= time.time() + 11
        now[0] += 10.0  # the window has passed
        assert session.get(sb.url + "/teams").status_code == 200
        # Zendesk and the other vendors do not share Intercom's window
        zendesk = {"Authorization": f"Bearer {sb.credentials['oauth_token']}"}
        assert requests.get(sb.url + "/api/v2/groups.json", headers=zendesk).status_code == 200


# --- faults -----------------------------------------------------------------------------------


def test_status_faults_carry_intercom_error_bodies(isb: Sandbox,
                                                   intercom: requests.Session) -> None:
    isb.inject_fault("/conversations", 503)
    isb.inject_fault("/admins", 429, retry_after=2)
    isb.inject_fault("/teams", 401)
    r = intercom.get(isb.url + "/conversations")
    assert r.status_code == 503 and error_of(r)["code"] == "service_unavailable"
    r = intercom.get(isb.url + "/admins")
    assert r.status_code == 429 and r.headers["Retry-After"] == "2"
    assert error_of(r)["code"] == "rate_limit_exceeded"
    r = intercom.get(isb.url + "/teams")
    assert r.status_code == 401 and error_of(r)["code"] == "unauthorized"
    assert intercom.get(isb.url + "/conversations").status_code == 200


def test_reset_timeout_and_truncated(isb: Sandbox, intercom: requests.Session) -> None:
    isb.inject_fault(SEARCH, kind="reset")
    with pytest.raises(requests.ConnectionError):
        search(intercom, isb, {"field": "open", "operator": "=", "value": True})
    isb.inject_fault("/conversations/101", kind="timeout", delay=1.0)
    with pytest.raises(requests.ReadTimeout):
        intercom.get(f"{isb.url}/conversations/101", timeout=0.3)
    auth = f"Bearer {isb.credentials['intercom_access_token']}"
    isb.inject_fault("/conversations/101", kind="truncated")
    with socket.create_connection((isb.host, isb.port), timeout=5) as conn:
        conn.sendall((f"GET /conversations/101 HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}"
                      "\r\nConnection: close\r\n\r\n").encode())
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b": ")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")))
    assert len(body) == length // 2
    assert intercom.get(f"{isb.url}/conversations/101").status_code == 200


def test_repeat_page_on_search(isb: Sandbox, intercom: requests.Session) -> None:
    query = {"field": "created_at", "operator": ">", "value": 0}
    first = search(intercom, isb, query, per_page=3).json()
    isb.inject_fault(SEARCH, kind="repeat_page")
    second = search(intercom, isb, query, per_page=3,
                    starting_after=first["pages"]["next"]["starting_after"]).json()
    ids = [c["id"] for c in second["conversations"]]
    assert ids[:3] == [c["id"] for c in first["conversations"]] and len(ids) == 6
    assert second["pages"]["page"] == 2


def test_expired_cursor_only_on_cursor_requests(isb: Sandbox,
                                                intercom: requests.Session) -> None:
    isb.inject_fault("/conversations", kind="expired_cursor", times=2)
    query = {"field": "created_at", "operator": ">", "value": 0}
    first = search(intercom, isb, query, per_page=3)
    assert first.status_code == 200  # no cursor: passes, fault kept
    cursor = first.json()["pages"]["next"]["starting_after"]
    r = search(intercom, isb, query, per_page=3, starting_after=cursor)
    assert r.status_code == 400 and error_of(r)["code"] == "parameter_invalid"
    listed = intercom.get(isb.url + "/conversations", params={"per_page": 2}).json()
    r = intercom.get(isb.url + "/conversations", params={
        "per_page": 2, "starting_after": listed["pages"]["next"]["starting_after"]})
    assert r.status_code == 400 and error_of(r)["code"] == "parameter_invalid"
    assert not isb.faults.pending()


def test_bad_record_modes_on_intercom(isb: Sandbox, intercom: requests.Session) -> None:
    query = {"field": "created_at", "operator": ">", "value": 0}
    isb.inject_fault(SEARCH, kind="bad_record", mode="missing_id")
    assert "id" not in search(intercom, isb, query).json()["conversations"][0]
    isb.inject_fault(SEARCH, kind="bad_record", mode="bad_timestamp", record_index=1)
    assert search(intercom, isb, query).json()["conversations"][1]["updated_at"] == \
        BAD_TIMESTAMP
    isb.inject_fault(SEARCH, kind="bad_record", mode="wrong_type")
    assert search(intercom, isb, query).json()["conversations"][0]["admin_assignee_id"] == \
        "twelve"
    isb.inject_fault("/admins", kind="bad_record", mode="wrong_type")
    assert intercom.get(isb.url + "/admins").json()["admins"][0]["team_ids"] == "twelve"
    isb.inject_fault("/teams", kind="bad_record", mode="new_field", field="color",
                     value="blue")
    assert intercom.get(isb.url + "/teams").json()["teams"][0]["color"] == "blue"
    # the API's own data is untouched
    assert search(intercom, isb, query).json()["conversations"][0]["id"] == str(STORY)
