"""Every endpoint's pagination, end to end over real HTTP with small pages."""

from __future__ import annotations

import math
from urllib.parse import parse_qs, urlsplit

import requests

from sandbox import Sandbox, World
from tests.sandbox.sandbox_world import at

TICKETS = "/api/v2/incremental/tickets/cursor.json"
EVENTS = "/api/v2/incremental/ticket_events.json"
USERS = "/api/v2/incremental/users/cursor.json"
ORGS = "/api/v2/incremental/organizations.json"
CALLS = "/api/v2/channels/voice/stats/incremental/calls.json"
GROUPS = "/api/v2/groups.json"
RATINGS = "/api/v2/satisfaction_ratings.json"


def walk_cursor_export(api: requests.Session, url: str, key: str) -> tuple[list[dict], list[dict]]:
    """Follow after_url until end_of_stream; return items and page bodies."""
    items, pages = [], []
    while True:
        body = api.get(url).json()
        pages.append(body)
        items += body[key]
        if body["end_of_stream"]:
            return items, pages
        url = body["after_url"]


def walk_time_export(api: requests.Session, url: str, key: str) -> tuple[list[dict], list[dict]]:
    """Follow next_page until end_of_stream; return items (with boundary repeats) and pages."""
    items, pages = [], []
    while True:
        body = api.get(url).json()
        pages.append(body)
        items += body[key]
        if body["end_of_stream"]:
            return items, pages
        url = body["next_page"]


def test_ticket_cursor_export_pages_to_the_end(sb: Sandbox, api: requests.Session) -> None:
    tickets, pages = walk_cursor_export(api, f"{sb.url}{TICKETS}?start_time=0&per_page=2",
                                        "tickets")
    assert sorted(t["id"] for t in tickets) == [1, 2, 3, 4, 5]
    assert len(tickets) == 5  # cursor exports never repeat a record
    assert [len(p["tickets"]) for p in pages] == [2, 2, 1]
    assert [p["end_of_stream"] for p in pages] == [False, False, True]
    stamps = [t["generated_timestamp"] for t in tickets]
    assert stamps == sorted(stamps)
    cursor_requests = [r for r in sb.requests if r.path == TICKETS]
    assert len(cursor_requests) == 3
    assert "start_time" in cursor_requests[0].query
    assert all("cursor" in r.query and r.query["per_page"] == "2" for r in cursor_requests[1:])
    # polling again with the last cursor: nothing new, same cursor back
    last = pages[-1]
    again = api.get(last["after_url"]).json()
    assert again["tickets"] == [] and again["end_of_stream"] is True
    assert again["after_cursor"] == last["after_cursor"]


def test_ticket_start_time_filters_on_update_time(sb: Sandbox, api: requests.Session) -> None:
    start = int(at(7, 0).timestamp())
    body = api.get(f"{sb.url}{TICKETS}", params={"start_time": start}).json()
    # 1 closed on the 9th, 5 created on the 7th, 2 and 3 were rated on the 7th
    assert {t["id"] for t in body["tickets"]} == {1, 2, 3, 5}
    assert all(t["generated_timestamp"] >= start for t in body["tickets"])


def test_exclude_deleted(sb: Sandbox, api: requests.Session) -> None:
    body = api.get(f"{sb.url}{TICKETS}", params={"start_time": 0, "exclude_deleted": "true"})
    assert 4 not in {t["id"] for t in body.json()["tickets"]}


def test_ticket_events_time_export_repeats_the_boundary_record(
        sb: Sandbox, api: requests.Session, small_world: World) -> None:
    items, pages = walk_time_export(
        api, f"{sb.url}{EVENTS}?start_time=0&per_page=4&include=comment_events", "ticket_events")
    unique = {e["id"] for e in items}
    assert len(unique) == 15  # every audit except the deletion
    for previous, page in zip(pages, pages[1:], strict=False):
        assert page["ticket_events"][0]["id"] == previous["ticket_events"][-1]["id"]
        assert previous["end_time"] == previous["ticket_events"][-1]["timestamp"]
        assert parse_qs(urlsplit(previous["next_page"]).query)["start_time"] == [
            str(previous["end_time"])]
    assert all(p["count"] == len(p["ticket_events"]) for p in pages)
    assert [p["end_of_stream"] for p in pages][-1] is True
    assert len(pages) == 5
    stamps = [e["timestamp"] for e in items]
    assert stamps == sorted(stamps)
    # next_page keeps the sideload and page size
    assert parse_qs(urlsplit(pages[0]["next_page"]).query)["include"] == ["comment_events"]


def test_user_cursor_export(sb: Sandbox, api: requests.Session) -> None:
    users, pages = walk_cursor_export(api, f"{sb.url}{USERS}?start_time=0&per_page=2", "users")
    assert sorted(u["id"] for u in users) == [1, 2, 10, 11, 12]
    assert len(pages) == 3
    assert {u["role"] for u in users} == {"agent", "admin", "end-user"}


def test_organization_time_export(sb: Sandbox, api: requests.Session) -> None:
    items, pages = walk_time_export(api, f"{sb.url}{ORGS}?start_time=0&per_page=2",
                                    "organizations")
    assert {o["id"] for o in items} == {100, 101, 102}
    assert [len(p["organizations"]) for p in pages] == [2, 2]


def test_talk_calls_export_uses_count_and_always_has_next_page(
        sb: Sandbox, api: requests.Session) -> None:
    url, seen, pages = f"{sb.url}{CALLS}?start_time=0&per_page=2", {}, 0
    while True:
        body = api.get(url).json()
        pages += 1
        assert "end_of_stream" not in body
        assert body["next_page"]
        seen.update({c["id"]: c for c in body["calls"]})
        if body["count"] < 2:
            break
        url = body["next_page"]
    assert sorted(seen) == [501, 502, 503]
    assert pages == 3


def test_groups_offset_pagination(sb: Sandbox, api: requests.Session) -> None:
    first = api.get(f"{sb.url}{GROUPS}", params={"per_page": 2}).json()
    assert [g["id"] for g in first["groups"]] == [1, 2]
    assert first["count"] == 3 and first["previous_page"] is None
    second = api.get(first["next_page"]).json()
    assert [g["id"] for g in second["groups"]] == [3]
    assert second["next_page"] is None and second["previous_page"]
    assert api.get(second["previous_page"]).json()["groups"] == first["groups"]


def test_groups_cursor_pagination(sb: Sandbox, api: requests.Session) -> None:
    url, ids, pages = f"{sb.url}{GROUPS}?page[size]=2", [], []
    while url:
        body = api.get(url).json()
        pages.append(body)
        ids += [g["id"] for g in body["groups"]]
        url = body["links"]["next"]
        assert body["meta"]["has_more"] is (url is not None)
    assert ids == [1, 2, 3]
    back = api.get(pages[1]["links"]["prev"]).json()
    assert [g["id"] for g in back["groups"]] == [1, 2]


def test_satisfaction_ratings_cursor_pagination_and_filters(
        sb: Sandbox, api: requests.Session) -> None:
    url, ids = f"{sb.url}{RATINGS}?page[size]=1", []
    while url:
        body = api.get(url).json()
        ids += [r["id"] for r in body["satisfaction_ratings"]]
        url = body["links"]["next"]
    assert ids == [901, 902, 903, 904]

    def rated(**params: object) -> list[int]:
        body = api.get(f"{sb.url}{RATINGS}", params={"page[size]": 100, **params}).json()
        return [r["id"] for r in body["satisfaction_ratings"]]

    assert rated(score="good") == [901]
    assert rated(score="bad") == [903]
    assert rated(score="offered") == [902]
    assert rated(score="unoffered") == [904]
    assert rated(score="received") == [901, 903]
    assert rated(score="good_with_comment") == [901]
    assert rated(start_time=int(at(7, 0).timestamp())) == [902, 903, 904]
    assert rated(end_time=int(at(6, 23).timestamp())) == [901]
    assert api.get(f"{sb.url}{RATINGS}", params={"score": "meh"}).status_code == 400


def test_satisfaction_ratings_page_size_is_capped_at_100(
        sb: Sandbox, api: requests.Session) -> None:
    body = api.get(f"{sb.url}{RATINGS}", params={"page[size]": 1000}).json()
    assert len(body["satisfaction_ratings"]) == 4
    assert body["meta"]["has_more"] is False and body["links"]["next"] is None


def test_satisfaction_ratings_offset_pagination(sb: Sandbox, api: requests.Session) -> None:
    body = api.get(f"{sb.url}{RATINGS}", params={"per_page": 3}).json()
    assert body["count"] == 4 and len(body["satisfaction_ratings"]) == 3
    assert [r["id"] for r in api.get(body["next_page"]).json()["satisfaction_ratings"]] == [904]


def test_next_links_use_the_request_host(sb: Sandbox, api: requests.Session) -> None:
    port = sb.url.rsplit(":", 1)[1]
    host = f"localhost:{port}"
    headers = {"Host": host}
    body = api.get(f"{sb.url}{TICKETS}?start_time=0&per_page=2", headers=headers).json()
    assert body["after_url"].startswith(f"http://{host}{TICKETS}?cursor=")
    assert body["tickets"][0]["url"].startswith(f"http://{host}/api/v2/tickets/")
    events = api.get(f"{sb.url}{EVENTS}?start_time=0", headers=headers).json()
    assert events["next_page"].startswith(f"http://{host}{EVENTS}?start_time=")
    groups = api.get(f"{sb.url}{GROUPS}?per_page=1", headers=headers).json()
    assert groups["next_page"].startswith(f"http://{host}{GROUPS}?")
    # and the link works as is
    assert api.get(body["after_url"]).status_code == 200


def test_incremental_page_size_is_capped_at_1000(sb: Sandbox, api: requests.Session) -> None:
    body = api.get(f"{sb.url}{TICKETS}", params={"start_time": 0, "per_page": 5000}).json()
    assert len(body["tickets"]) == 5


def test_page_counts_match_requests(sb: Sandbox, api: requests.Session) -> None:
    sb.requests.clear()
    walk_cursor_export(api, f"{sb.url}{USERS}?start_time=0&per_page=1", "users")
    assert len([r for r in sb.requests if r.path == USERS]) == math.ceil(5 / 1)
