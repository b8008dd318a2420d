"""JSON shapes: documented field names and values derived from the hand-built world."""

from __future__ import annotations

import requests

from sandbox import Sandbox
from tests.sandbox.sandbox_world import AGENT, ALICE, at

TICKETS = "/api/v2/incremental/tickets/cursor.json"
EVENTS = "/api/v2/incremental/ticket_events.json"

TICKET_FIELDS = {
    "id", "url", "external_id", "via", "created_at", "updated_at", "generated_timestamp",
    "type", "subject", "raw_subject", "description", "priority", "status", "recipient",
    "requester_id", "submitter_id", "assignee_id", "organization_id", "group_id",
    "collaborator_ids", "follower_ids", "email_cc_ids", "has_incidents", "is_public", "due_at",
    "tags", "custom_fields", "satisfaction_rating", "sharing_agreement_ids", "ticket_form_id",
    "brand_id", "problem_id", "forum_topic_id", "allow_channelback", "allow_attachments",
}


def tickets(api: requests.Session, sb: Sandbox, **params: object) -> dict:
    return api.get(sb.url + TICKETS, params={"start_time": 0, **params}).json()


def audits(api: requests.Session, sb: Sandbox, comments: bool = True) -> list[dict]:
    params = {"start_time": 0, **({"include": "comment_events"} if comments else {})}
    return api.get(sb.url + EVENTS, params=params).json()["ticket_events"]


def test_ticket_object_fields_and_current_state(sb: Sandbox, api: requests.Session) -> None:
    by_id = {t["id"]: t for t in tickets(api, sb)["tickets"]}
    t1 = by_id[1]
    assert TICKET_FIELDS <= set(t1)
    assert t1["via"]["channel"] == "email"
    assert t1["via"]["source"]["from"]["address"] == "alice@acme.example"
    assert t1["status"] == "closed"
    assert t1["group_id"] == 1 and t1["assignee_id"] == AGENT
    assert t1["requester_id"] == ALICE and t1["submitter_id"] == ALICE
    assert t1["description"] == "I cannot log in"
    assert t1["created_at"] == "2024-03-04T14:00:00Z"
    assert t1["updated_at"] == "2024-03-09T12:00:00Z"
    assert t1["generated_timestamp"] == int(at(9, 12).timestamp())
    assert t1["satisfaction_rating"] == {"id": 901, "score": "good", "comment": "Thanks!"}
    assert t1["is_public"] is True and t1["tags"] == ["login"]
    assert by_id[2]["priority"] == "urgent" and by_id[2]["status"] == "solved"
    assert by_id[3]["via"]["channel"] == "voice" and by_id[3]["submitter_id"] == AGENT
    assert by_id[3]["is_public"] is False
    assert by_id[4]["status"] == "deleted"
    assert by_id[5]["status"] == "pending"
    assert by_id[5]["satisfaction_rating"]["score"] == "unoffered"


def test_creation_audit_has_create_events_and_the_description(
        sb: Sandbox, api: requests.Session) -> None:
    creation = next(a for a in audits(api, sb) if a["ticket_id"] == 1)
    assert creation["event_type"] == "Audit"
    assert creation["updater_id"] == ALICE and creation["via"] == "Mail"
    assert creation["created_at"] == "2024-03-04T14:00:00Z"
    creates = {k: v for e in creation["child_events"] if e["event_type"] == "Create"
               for k, v in e.items()
               if k not in ("id", "via", "via_reference_id", "event_type", "added_tags",
                            "removed_tags")}
    assert creates == {"subject": "Login broken", "requester_id": ALICE, "status": "new",
                       "priority": "normal", "organization_id": 100, "tags": ["login"]}
    comment = next(e for e in creation["child_events"] if e["event_type"] == "Comment")
    assert comment["type"] == "Comment" and comment["author_id"] == ALICE
    assert comment["body"] == "I cannot log in" and comment["public"] is True
    assert comment["html_body"].startswith('<div class="zd-comment"')
    assert comment["via"]["channel"] == "email"
    assert comment["audit_id"] == creation["id"]
    assert comment["created_at"] == creation["created_at"]


def test_trigger_and_automation_audits_are_rules_by_author_minus_one(
        sb: Sandbox, api: requests.Session) -> None:
    t1 = [a for a in audits(api, sb) if a["ticket_id"] == 1]
    trigger, close = t1[1], t1[-1]
    for audit in (trigger, close):
        assert audit["updater_id"] == -1 and audit["via"] == "Rule"
        assert all(e["via_reference_id"] for e in audit["child_events"])
    group_change = next(e for e in trigger["child_events"] if "group_id" in e)
    assert group_change["event_type"] == "Change"
    assert group_change["group_id"] == 1 and group_change["previous_value"] is None
    comment = next(e for e in trigger["child_events"] if e["event_type"] == "Comment")
    assert comment["author_id"] == -1 and comment["via"]["channel"] == "rule"
    assert comment["via"]["source"]["rel"] == "trigger"
    status = next(e for e in close["child_events"] if "status" in e)
    assert status == {**status, "status": "closed", "previous_value": "solved",
                      "event_type": "Change"}


def test_change_events_carry_previous_values(sb: Sandbox, api: requests.Session) -> None:
    t1 = [a for a in audits(api, sb) if a["ticket_id"] == 1]
    reply = t1[2]
    changes = {e.get("status", e.get("assignee_id")): e["previous_value"]
               for e in reply["child_events"] if e["event_type"] == "Change"}
    assert changes == {"pending": "new", AGENT: None}
    t2 = [a for a in audits(api, sb) if a["ticket_id"] == 2]
    statuses = [(e["previous_value"], e["status"]) for a in t2 for e in a["child_events"]
                if e["event_type"] in ("Create", "Change") and "status" in e
                and e["event_type"] == "Change"]
    assert statuses == [("new", "hold"), ("hold", "solved"), ("solved", "open"),
                        ("open", "solved")]
    priority = [e for a in t2 for e in a["child_events"] if "priority" in e
                and e["event_type"] == "Change"]
    assert priority[0]["priority"] == "urgent" and priority[0]["previous_value"] == "high"


def test_private_notes_and_deletions(sb: Sandbox, api: requests.Session) -> None:
    events = audits(api, sb)
    note = next(e for a in events if a["ticket_id"] == 2 for e in a["child_events"]
                if e["event_type"] == "Comment" and e["body"] == "Asked finance")
    assert note["public"] is False
    assert [a["ticket_id"] for a in events].count(4) == 1  # the deletion leaves no audit


def test_without_comment_sideload_only_flags_describe_comments(
        sb: Sandbox, api: requests.Session) -> None:
    creation = next(a for a in audits(api, sb, comments=False) if a["ticket_id"] == 1)
    for event in creation["child_events"]:
        assert "body" not in event
        assert event["comment_present"] is True and event["comment_public"] is True


def test_event_ids_are_stable_and_unique(sb: Sandbox, api: requests.Session) -> None:
    first = audits(api, sb)
    second = audits(api, sb)
    assert first == second
    ids = [a["id"] for a in first] + [e["id"] for a in first for e in a["child_events"]]
    assert len(ids) == len(set(ids))


def test_metric_sets_sideload(sb: Sandbox, api: requests.Session) -> None:
    body = tickets(api, sb, include="metric_sets")
    metrics = {m["ticket_id"]: m for m in body["metric_sets"]}
    assert set(metrics) == {t["id"] for t in body["tickets"]}
    m = metrics[1]
    assert m["reply_time_in_minutes"] == {"calendar": 60, "business": 60}
    assert m["first_resolution_time_in_minutes"] == {"calendar": 1260, "business": 480}
    assert m["full_resolution_time_in_minutes"] == {"calendar": 1260, "business": 480}
    assert m["agent_wait_time_in_minutes"] == {"calendar": 1140, "business": 420}
    assert m["requester_wait_time_in_minutes"] == {"calendar": 120, "business": 60}
    assert m["on_hold_time_in_minutes"] == {"calendar": 0, "business": 0}
    assert m["replies"] == 2 and m["reopens"] == 0
    assert m["solved_at"] == "2024-03-05T11:00:00Z"
    m2 = metrics[2]
    assert m2["reopens"] == 1 and m2["replies"] == 2
    assert m2["on_hold_time_in_minutes"]["calendar"] == (24 * 60 - 30)
    assert m2["first_resolution_time_in_minutes"]["calendar"] == 24 * 60 + 30
    assert m2["full_resolution_time_in_minutes"]["calendar"] == 27 * 60 + 30
    assert metrics[5]["reply_time_in_minutes"] == {"calendar": None, "business": None}


def test_users_organizations_groups(sb: Sandbox, api: requests.Session) -> None:
    users = api.get(f"{sb.url}/api/v2/incremental/users/cursor.json?start_time=0").json()["users"]
    alice = next(u for u in users if u["id"] == ALICE)
    assert alice["role"] == "end-user" and alice["organization_id"] == 100
    assert alice["time_zone"] == "Eastern Time (US & Canada)"
    assert alice["iana_time_zone"] == "America/New_York"
    assert {"id", "url", "name", "email", "created_at", "updated_at", "active"} <= set(alice)
    orgs = api.get(f"{sb.url}/api/v2/incremental/organizations.json?start_time=0").json()
    initech = next(o for o in orgs["organizations"] if o["id"] == 102)
    assert initech["domain_names"] == ["initech.example"] and initech["external_id"] == "crm-102"
    group = api.get(f"{sb.url}/api/v2/groups.json").json()["groups"][0]
    assert {"id", "url", "name", "description", "default", "deleted", "created_at",
            "updated_at"} <= set(group)


def test_schedules_and_holidays(sb: Sandbox, api: requests.Session) -> None:
    schedules = api.get(f"{sb.url}/api/v2/business_hours/schedules.json").json()["schedules"]
    assert schedules[0]["time_zone"] == "Eastern Time (US & Canada)"
    assert schedules[0]["intervals"][0] == {"start_time": 1980, "end_time": 2460}
    holidays = api.get(f"{sb.url}/api/v2/business_hours/schedules/7/holidays.json").json()
    assert holidays == {"holidays": [{"id": 70, "name": "Company day",
                                      "start_date": "2024-03-08", "end_date": "2024-03-08"}]}
    missing = api.get(f"{sb.url}/api/v2/business_hours/schedules/999/holidays.json")
    assert missing.status_code == 404 and missing.json()["error"] == "RecordNotFound"


def test_talk_call_fields(sb: Sandbox, api: requests.Session) -> None:
    calls = api.get(f"{sb.url}/api/v2/channels/voice/stats/incremental/calls.json",
                    params={"start_time": 0}).json()["calls"]
    call = next(c for c in calls if c["id"] == 501)
    assert {k: call[k] for k in ("agent_id", "ticket_id", "direction", "talk_time", "hold_time",
                                 "wrap_up_time", "wait_time", "duration", "completion_status",
                                 "consultation_time")} == {
        "agent_id": AGENT, "ticket_id": 3, "direction": "inbound", "talk_time": 420,
        "hold_time": 30, "wrap_up_time": 60, "wait_time": 20, "duration": 470,
        "completion_status": "completed", "consultation_time": 0}
    assert call["created_at"] == "2024-03-05T15:58:00Z"
    assert call["updated_at"] == "2024-03-05T16:06:50Z"
    assert {"call_charge", "minutes_billed", "customer_id", "phone_number"} <= set(call)


def test_satisfaction_rating_fields(sb: Sandbox, api: requests.Session) -> None:
    rating = api.get(f"{sb.url}/api/v2/satisfaction_ratings.json").json()[
        "satisfaction_ratings"][0]
    assert rating == {**rating, "id": 901, "ticket_id": 1, "score": "good", "comment": "Thanks!",
                      "assignee_id": AGENT, "group_id": 1, "requester_id": ALICE,
                      "created_at": "2024-03-06T11:00:00Z",
                      "updated_at": "2024-03-06T15:00:00Z"}
    assert rating["url"].endswith("/api/v2/satisfaction_ratings/901.json")


def test_error_bodies(sb: Sandbox, api: requests.Session) -> None:
    missing = api.get(sb.url + EVENTS)
    assert missing.status_code == 400 and missing.json()["error"] == "InvalidValue"
    future = api.get(sb.url + EVENTS, params={"start_time": 4_102_444_800})
    assert future.status_code == 422
    assert future.json()["description"].startswith("Too recent start_time")
    assert api.get(sb.url + TICKETS).status_code == 400
    bad_cursor = api.get(sb.url + TICKETS, params={"cursor": "%%%"})
    assert bad_cursor.status_code == 422
    unknown = api.get(sb.url + "/api/v2/tickets/9999/nonsense.json")
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "InvalidEndpoint", "description": "Not found"}
    assert api.get(sb.url + "/api/v2/groups").status_code == 200  # .json suffix optional
