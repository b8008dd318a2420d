"""Intercom (2.11) contacts and companies over real HTTP: ``GET /contacts/{id}`` (its
``companies`` list of at most 10), ``GET /contacts/{id}/companies``, ``GET /companies/{id}``
and the ``GET /companies/scroll`` rules (one scroll per app, expiry, the end page)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import requests

import sandbox.intercom_api as intercom_api
from sandbox import Sandbox, World, generate_world
from sandbox.world import IntercomCompany, IntercomContact, IntercomConversation
from tests.sandbox.sandbox_world import build_small_world

T0 = datetime(2024, 3, 4, 9, tzinfo=UTC)
T1 = datetime(2024, 3, 9, 12, tzinfo=UTC)
#: Sixteen companies; ids in hex order match their index.
COMPANIES = [
    IntercomCompany(f"65f00000000000000000{k:04x}", f"org-{k}", f"Company {k}",
                    f"https://www.c{k}.example", T0, T1 if k % 2 else None,
                    monthly_spend=99.9 * k, size=10 * k or None,
                    industry="Software" if k % 3 == 0 else None,
                    plan="Pro" if k == 1 else None)
    for k in range(16)]
BIG = IntercomContact("6650000000000000000000c1", "user", "Big Buyer", "big@c0.example", "501",
                      [c.id for c in COMPANIES[:12]], T0, T1)
ONE = IntercomContact("6650000000000000000000c2", "user", "Solo", "solo@c1.example", "502",
                      [COMPANIES[1].id], T0)
NONE = IntercomContact("6650000000000000000000c3", "lead", None, "anon@nowhere.example", None)
COMPANY_KEYS = ["type", "company_id", "id", "app_id", "name", "remote_created_at",
                "created_at", "updated_at", "last_request_at", "monthly_spend",
                "session_count", "user_count", "size", "website", "industry", "tags",
                "segments", "plan", "custom_attributes"]


def build_world() -> World:
    """The small helpdesk world plus 16 companies and three contacts in four
    conversations (``ONE`` in two of them)."""
    world = build_small_world()
    world.intercom_companies = list(reversed(COMPANIES))  # the API sorts by id
    world.intercom_conversations = [
        IntercomConversation(301, T0, BIG), IntercomConversation(302, T0, ONE),
        IntercomConversation(303, T1, ONE), IntercomConversation(304, T1, NONE)]
    return world


@pytest.fixture(scope="module")
def intercom_world() -> World:
    return build_world()


def get(session: requests.Session, sb: Sandbox, path: str, **params: Any) -> Any:
    r = session.get(sb.url + path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def error_of(r: requests.Response) -> dict[str, Any]:
    body = r.json()
    assert body["type"] == "error.list" and body["request_id"]
    assert len(body["errors"]) == 1
    return body["errors"][0]


def scroll_all(session: requests.Session, sb: Sandbox) -> list[dict[str, Any]]:
    """Every page of one scroll, the empty end page included."""
    pages = [get(session, sb, "/companies/scroll")]
    while pages[-1]["data"]:
        pages.append(get(session, sb, "/companies/scroll",
                         scroll_param=pages[-1]["scroll_param"]))
    return pages


# --- contacts ---------------------------------------------------------------------------------


def test_contact_shape_and_its_first_ten_companies(isb: Sandbox,
                                                   intercom: requests.Session) -> None:
    body = get(intercom, isb, f"/contacts/{BIG.id}")
    assert list(body)[:17] == [
        "type", "id", "workspace_id", "external_id", "role", "email", "phone", "name",
        "avatar", "owner_id", "social_profiles", "has_hard_bounced", "marked_email_as_spam",
        "unsubscribed_from_emails", "created_at", "updated_at", "signed_up_at"]
    assert {"location", "custom_attributes", "tags", "notes", "companies", "last_seen_at",
            "last_replied_at", "ios_last_seen_at", "opted_in_subscription_types",
            "utm_source", "referrer"} <= set(body)
    assert body["type"] == "contact" and body["id"] == BIG.id
    assert body["workspace_id"] == "sandboxapp" and body["external_id"] == "501"
    assert (body["role"], body["name"], body["email"]) == ("user", "Big Buyer",
                                                           "big@c0.example")
    assert body["created_at"] == int(T0.timestamp()) == body["signed_up_at"]
    assert body["updated_at"] == int(T1.timestamp())
    assert body["social_profiles"] == {"type": "list", "data": []}
    assert body["location"] == {"type": "location", "country": None, "region": None,
                                "city": None, "country_code": None, "continent_code": None}
    assert body["tags"] == {"type": "list", "data": [], "url": f"/contacts/{BIG.id}/tags",
                            "total_count": 0, "has_more": False}
    assert body["notes"]["url"] == f"/contacts/{BIG.id}/notes"
    companies = body["companies"]
    assert companies["type"] == "list"
    assert companies["url"] == f"/contacts/{BIG.id}/companies"
    assert companies["total_count"] == 12 and companies["has_more"] is True
    assert companies["data"] == [{"type": "company", "id": c.id, "url": f"/companies/{c.id}"}
                                 for c in COMPANIES[:10]]


def test_contact_without_companies_and_defaults(isb: Sandbox,
                                                intercom: requests.Session) -> None:
    lead = get(intercom, isb, f"/contacts/{NONE.id}")
    assert lead["companies"] == {"type": "list", "data": [],
                                 "url": f"/contacts/{NONE.id}/companies",
                                 "total_count": 0, "has_more": False}
    assert lead["role"] == "lead" and lead["external_id"] is None and lead["name"] is None
    assert lead["signed_up_at"] is None
    assert lead["updated_at"] == lead["created_at"]  # no updated_at: created_at
    solo = get(intercom, isb, f"/contacts/{ONE.id}")  # in two conversations: one contact
    assert solo["companies"]["total_count"] == 1 and solo["companies"]["has_more"] is False
    attached = get(intercom, isb, f"/contacts/{NONE.id}/companies")
    assert attached == {"type": "list", "data": [],
                        "pages": {"type": "pages", "next": None, "page": 1, "per_page": 50,
                                  "total_pages": 0},
                        "total_count": 0}


def test_attached_companies_lists_all_twelve(isb: Sandbox,
                                             intercom: requests.Session) -> None:
    body = get(intercom, isb, f"/contacts/{BIG.id}/companies")
    assert list(body) == ["type", "data", "pages", "total_count"]
    assert body["type"] == "list" and body["total_count"] == 12
    assert [c["id"] for c in body["data"]] == [c.id for c in COMPANIES[:12]]
    assert all(list(c) == COMPANY_KEYS for c in body["data"])
    assert body["pages"] == {"type": "pages", "next": None, "page": 1, "per_page": 50,
                             "total_pages": 1}
    # page by page
    first = get(intercom, isb, f"/contacts/{BIG.id}/companies", per_page=5)
    assert len(first["data"]) == 5 and first["pages"]["total_pages"] == 3
    assert first["pages"]["next"] == (f"{isb.url}/contacts/{BIG.id}/companies"
                                      "?page=2&per_page=5")
    nxt = intercom.get(first["pages"]["next"]).json()
    assert [c["id"] for c in nxt["data"]] == [c.id for c in COMPANIES[5:10]]
    last = get(intercom, isb, f"/contacts/{BIG.id}/companies", per_page=5, page=3)
    assert [c["id"] for c in last["data"]] == [c.id for c in COMPANIES[10:12]]
    assert last["pages"]["next"] is None and last["pages"]["page"] == 3
    r = intercom.get(isb.url + f"/contacts/{BIG.id}/companies", params={"per_page": "x"})
    assert r.status_code == 400 and error_of(r)["code"] == "parameter_invalid"


# --- companies --------------------------------------------------------------------------------


def test_company_shape(isb: Sandbox, intercom: requests.Session) -> None:
    body = get(intercom, isb, f"/companies/{COMPANIES[1].id}")
    assert list(body) == COMPANY_KEYS
    created = int(T0.timestamp())
    assert body == {
        "type": "company", "company_id": "org-1", "id": COMPANIES[1].id,
        "app_id": "sandboxapp", "name": "Company 1", "remote_created_at": created,
        "created_at": created, "updated_at": int(T1.timestamp()), "last_request_at": None,
        "monthly_spend": 99, "session_count": 0, "user_count": 2, "size": 10,
        "website": "https://www.c1.example", "industry": None,
        "tags": {"type": "tag.list", "tags": []},
        "segments": {"type": "segment.list", "segments": []},
        "plan": {"type": "plan", "id": body["plan"]["id"], "name": "Pro"},
        "custom_attributes": {}}
    assert body["plan"]["id"].isdigit()
    other = get(intercom, isb, f"/companies/{COMPANIES[14].id}")
    assert other["user_count"] == 0 and other["plan"] == {}
    assert other["updated_at"] == other["created_at"]
    assert get(intercom, isb, f"/companies/{COMPANIES[0].id}")["user_count"] == 1


def test_unknown_ids_are_404(isb: Sandbox, intercom: requests.Session) -> None:
    for path in ("/contacts/nope", "/contacts/nope/companies"):
        r = intercom.get(isb.url + path)
        assert r.status_code == 404
        assert error_of(r) == {"code": "not_found", "message": "User Not Found"}
    r = intercom.get(isb.url + "/companies/65f000000000000000009999")
    assert r.status_code == 404
    assert error_of(r) == {"code": "company_not_found", "message": "Company Not Found"}
    r = intercom.post(isb.url + f"/companies/{COMPANIES[0].id}")
    assert r.status_code == 405


def test_unauthenticated_is_401(isb: Sandbox) -> None:
    for path in (f"/contacts/{BIG.id}", f"/contacts/{BIG.id}/companies",
                 f"/companies/{COMPANIES[0].id}", "/companies/scroll"):
        for headers in ({}, {"Authorization": "Bearer nope"}):
            r = requests.get(isb.url + path, headers=headers)
            assert r.status_code == 401, path
            assert error_of(r) == {"code": "unauthorized", "message": "Access Token Invalid"}
    # a refused request opens no scroll
    token = {"Authorization": f"Bearer {isb.credentials['intercom_access_token']}"}
    assert requests.get(isb.url + "/companies/scroll", headers=token).status_code == 200


def test_new_endpoints_are_rate_limited(intercom_world: World) -> None:
    with Sandbox(intercom_world, intercom_rate_limit_per_10s=3) as sb:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {sb.credentials['intercom_access_token']}"
        answers = [session.get(sb.url + path) for path in (
            f"/contacts/{BIG.id}", f"/contacts/{BIG.id}/companies",
            f"/companies/{COMPANIES[0].id}", "/companies/scroll")]
        assert [r.status_code for r in answers] == [200, 200, 200, 429]
        assert answers[0].headers["X-RateLimit-Limit"] == "3"
        assert error_of(answers[3])["code"] == "rate_limit_exceeded"


# --- the scroll -------------------------------------------------------------------------------


def test_scroll_pages_cover_every_company_once(isb: Sandbox, intercom: requests.Session,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intercom_api, "SCROLL_PAGE_SIZE", 5)
    pages = scroll_all(intercom, isb)
    assert [len(p["data"]) for p in pages] == [5, 5, 5, 1, 0]
    for page in pages:
        assert list(page) == ["type", "data", "pages", "total_count", "scroll_param"]
        assert page["type"] == "list" and page["pages"] is None
        assert page["total_count"] is None
    assert len({p["scroll_param"] for p in pages}) == 1
    ids = [c["id"] for p in pages for c in p["data"]]
    assert ids == [c.id for c in COMPANIES]  # in id order, each once
    assert all(list(c) == COMPANY_KEYS for p in pages for c in p["data"])
    # the finished scroll's param has expired; a new scroll may open at once
    r = intercom.get(isb.url + "/companies/scroll",
                     params={"scroll_param": pages[0]["scroll_param"]})
    assert r.status_code == 404
    assert error_of(r) == {"code": "not_found", "message": "scroll parameter not found"}
    again = scroll_all(intercom, isb)
    assert again[0]["scroll_param"] != pages[0]["scroll_param"]
    assert [c["id"] for p in again for c in p["data"]] == ids


def test_one_open_scroll_per_app(isb: Sandbox, intercom: requests.Session,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intercom_api, "SCROLL_PAGE_SIZE", 5)
    first = get(intercom, isb, "/companies/scroll")
    r = intercom.get(isb.url + "/companies/scroll")
    assert r.status_code == 400
    assert error_of(r) == {"code": "scroll_exists",
                           "message": "scroll already exists for this workspace"}
    # the refused request did not disturb the open scroll
    second = get(intercom, isb, "/companies/scroll", scroll_param=first["scroll_param"])
    assert [c["id"] for c in second["data"]] == [c.id for c in COMPANIES[5:10]]
    for bad in ("nope", "12d403b5-dc79-47b5-8ea1-01a5ac8cb6cc"):
        r = intercom.get(isb.url + "/companies/scroll", params={"scroll_param": bad})
        assert r.status_code == 404 and error_of(r)["code"] == "not_found"


def test_scroll_expires_after_a_minute_unused(isb: Sandbox, intercom: requests.Session,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intercom_api, "SCROLL_PAGE_SIZE", 5)
    now = [1000.0]
    isb.intercom.clock = lambda: now[0]
    param = get(intercom, isb, "/companies/scroll")["scroll_param"]
    now[0] += 59.0  # used within the minute: still open, and the minute starts again
    assert len(get(intercom, isb, "/companies/scroll", scroll_param=param)["data"]) == 5
    now[0] += 59.0
    assert intercom.get(isb.url + "/companies/scroll").status_code == 400
    assert len(get(intercom, isb, "/companies/scroll", scroll_param=param)["data"]) == 5
    now[0] += 60.0  # a minute unused: expired
    r = intercom.get(isb.url + "/companies/scroll", params={"scroll_param": param})
    assert r.status_code == 404 and error_of(r)["message"] == "scroll parameter not found"
    fresh = get(intercom, isb, "/companies/scroll")  # and a new scroll may open
    assert fresh["scroll_param"] != param
    assert [c["id"] for c in fresh["data"]] == [c.id for c in COMPANIES[:5]]


# --- a generated world ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated() -> World:
    return generate_world(seed=11, tickets=300, days=20, end_date="2025-06-30")


def test_generated_world_contacts_and_companies(generated: World) -> None:
    contacts = {c.contact.id: c.contact for c in generated.intercom_conversations}
    companies = {c.id: c for c in generated.intercom_companies}
    assert contacts and companies
    assert any(c.company_ids for c in contacts.values())
    with Sandbox(generated, rate_limit_per_minute=None,
                 incremental_rate_limit_per_minute=None,
                 intercom_rate_limit_per_10s=None) as sb:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {sb.credentials['intercom_access_token']}"
        members: dict[str, int] = {}
        for contact in contacts.values():
            body = get(session, sb, f"/contacts/{contact.id}")
            assert (body["id"], body["role"], body["email"], body["external_id"]) == (
                contact.id, contact.role, contact.email, contact.external_id)
            assert body["created_at"] == int(contact.created_at.timestamp())
            expected = [cid for cid in contact.company_ids if cid in companies]
            assert [c["id"] for c in body["companies"]["data"]] == expected[:10]
            assert body["companies"]["total_count"] == len(expected)
            attached = get(session, sb, f"/contacts/{contact.id}/companies")
            assert [c["id"] for c in attached["data"]] == expected
            assert all(c["name"] == companies[c["id"]].name for c in attached["data"])
            for cid in expected:
                members[cid] = members.get(cid, 0) + 1
        pages = scroll_all(session, sb)
        scrolled = [c for p in pages for c in p["data"]]
        assert sorted(c["id"] for c in scrolled) == sorted(companies)
        assert len(scrolled) == len(companies)
        assert [len(p["data"]) for p in pages][-1] == 0
        assert all(len(p["data"]) == intercom_api.SCROLL_PAGE_SIZE for p in pages[:-2])
        assert {c["id"]: c["user_count"] for c in scrolled} == {
            cid: members.get(cid, 0) for cid in companies}
        one = next(iter(companies.values()))
        body = get(session, sb, f"/companies/{one.id}")
        assert (body["company_id"], body["name"], body["website"]) == (
            one.company_id, one.name, one.website)
