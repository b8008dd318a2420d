"""HubSpot CRM v3 over real HTTP: auth, list paging, properties, associations, search, limits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from sandbox import Sandbox, World
from tests.sandbox.crm_world import ACME, GLOBEX, GONE, INITECH

COMPANIES = "/crm/v3/objects/companies"
DEALS = "/crm/v3/objects/deals"


def page_all(session: requests.Session, url: str, params: dict[str, str]) -> list[list[dict]]:
    """Follow paging.next.link to the end; the pages."""
    pages: list[list[dict]] = []
    r = session.get(url, params=params)
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        pages.append(body["results"])
        nxt = body.get("paging", {}).get("next")
        if not nxt:
            return pages
        assert nxt["link"].startswith(url + "?")
        r = session.get(nxt["link"])


def test_missing_or_wrong_token_is_401_with_hubspot_body(crm_sb: Sandbox) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"},
                    {"Authorization": crm_sb.credentials["hubspot_access_token"]}):
        r = requests.get(crm_sb.url + COMPANIES, headers=headers)
        assert r.status_code == 401
        body = r.json()
        assert body["status"] == "error" and body["category"] == "INVALID_AUTHENTICATION"
        assert "message" in body and "correlationId" in body
    # Zendesk credentials do not open the CRM and vice versa
    zendesk = {"Authorization": f"Bearer {crm_sb.credentials['oauth_token']}"}
    assert requests.get(crm_sb.url + COMPANIES, headers=zendesk).status_code == 401
    hub = {"Authorization": f"Bearer {crm_sb.credentials['hubspot_access_token']}"}
    assert requests.get(crm_sb.url + "/api/v2/groups.json", headers=hub).status_code == 401


def test_companies_page_by_after_to_the_end(crm_sb: Sandbox, hubspot: requests.Session) -> None:
    pages = page_all(hubspot, crm_sb.url + COMPANIES, {"limit": "2"})
    assert [len(p) for p in pages] == [2, 1]
    assert [c["id"] for p in pages for c in p] == [str(ACME), str(GLOBEX), str(INITECH)]
    first = pages[0][0]
    assert first == {
        "id": str(ACME),
        "properties": {"createdate": "2024-01-02T12:00:00Z", "domain": "acme.example",
                       "hs_lastmodifieddate": "2024-03-01T12:00:00Z",
                       "hs_object_id": str(ACME), "name": "Acme Inc."},
        "createdAt": "2024-01-02T12:00:00Z", "updatedAt": "2024-03-01T12:00:00Z",
        "archived": False,
    }
    r = hubspot.get(crm_sb.url + COMPANIES, params={"limit": "2"})
    assert r.json()["paging"]["next"]["after"]
    assert "paging" not in hubspot.get(crm_sb.url + COMPANIES).json()  # default limit 10


def test_requested_properties_only_plus_defaults(crm_sb: Sandbox,
                                                 hubspot: requests.Session) -> None:
    r = hubspot.get(crm_sb.url + COMPANIES, params={"properties": "name,industry,nope"})
    props = [c["properties"] for c in r.json()["results"]]
    assert set(props[0]) == {"name", "industry", "hs_object_id", "createdate",
                             "hs_lastmodifieddate"}
    assert props[1]["industry"] is None  # Globex has none: null, not missing
    deals = hubspot.get(crm_sb.url + DEALS, params=[
        ("properties", "dealname,amount,closedate,dealstage"),
        ("properties", "pipeline,hs_mrr,contract_term_months"), ("limit", "100")]).json()
    by_id = {d["id"]: d["properties"] for d in deals["results"]}
    assert by_id["9001"]["amount"] == "12000" and by_id["9001"]["hs_mrr"] == "1000"
    assert by_id["9001"]["closedate"] == "2024-01-15T00:00:00Z"
    assert by_id["9001"]["contract_term_months"] == "12"
    assert by_id["9002"]["amount"] == "2400.5"
    assert by_id["9002"]["contract_term_months"] is None and by_id["9002"]["hs_mrr"] is None
    assert by_id["9005"]["dealstage"] == "closedlost" and by_id["9005"]["pipeline"] == "default"
    assert by_id["9006"]["amount"] is None
    assert all(isinstance(v, str) or v is None for p in by_id.values() for v in p.values())
    assert "9008" not in by_id  # archived


def test_deal_associations(crm_sb: Sandbox, hubspot: requests.Session) -> None:
    body = hubspot.get(crm_sb.url + DEALS, params={"associations": "companies",
                                                   "limit": "100"}).json()
    by_id = {d["id"]: d for d in body["results"]}
    # The primary company twice, labelled and unlabelled (HubSpot's recorded responses).
    assert by_id["9001"]["associations"] == {"companies": {"results": [
        {"id": str(ACME), "type": "deal_to_company"},
        {"id": str(ACME), "type": "deal_to_company_unlabeled"}]}}
    assert "associations" not in by_id["9007"]  # no company
    companies = hubspot.get(crm_sb.url + COMPANIES, params={"associations": "deals"}).json()
    acme = companies["results"][0]
    assert [(a["id"], a["type"]) for a in acme["associations"]["deals"]["results"]] == [
        ("9001", "company_to_deal"), ("9001", "company_to_deal_unlabeled"),
        ("9002", "company_to_deal"), ("9002", "company_to_deal_unlabeled")]
    # without the parameter there is no associations key
    assert "associations" not in hubspot.get(crm_sb.url + DEALS).json()["results"][0]


def test_archived_records(crm_sb: Sandbox, hubspot: requests.Session) -> None:
    companies = hubspot.get(crm_sb.url + COMPANIES, params={"archived": "true"}).json()
    assert [c["id"] for c in companies["results"]] == [str(GONE)]
    assert companies["results"][0]["archived"] is True
    assert companies["results"][0]["archivedAt"] == "2024-01-06T12:00:00Z"
    deals = hubspot.get(crm_sb.url + DEALS, params={"archived": "true"}).json()
    assert [d["id"] for d in deals["results"]] == ["9008"]


def search(session: requests.Session, url: str, body: dict[str, Any]) -> requests.Response:
    return session.post(url, json=body)


def test_search_by_last_modified_window_sorted_and_paged(crm_sb: Sandbox,
                                                         hubspot: requests.Session) -> None:
    url = crm_sb.url + DEALS + "/search"
    spec: dict[str, Any] = {
        "filterGroups": [{"filters": [
            {"propertyName": "hs_lastmodifieddate", "operator": "GTE",
             "value": "2024-02-01T00:00:00Z"},
            {"propertyName": "hs_lastmodifieddate", "operator": "LT",
             "value": str(1709467200000)},  # 2024-03-03T12:00Z in ms: exclusive
        ]}],
        "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
        "properties": ["dealname", "hs_mrr"], "limit": 2,
    }
    seen: list[str] = []
    total = None
    while True:
        r = search(hubspot, url, spec)
        assert r.status_code == 200, r.text
        body = r.json()
        total = body["total"]
        seen += [d["id"] for d in body["results"]]
        assert set(body["results"][0]["properties"]) == {
            "dealname", "hs_mrr", "hs_object_id", "createdate", "hs_lastmodifieddate"}
        assert "X-HubSpot-RateLimit-Max" not in r.headers
        if "paging" not in body:
            break
        spec["after"] = body["paging"]["next"]["after"]
    # modified 02-02 (9002), 02-06 (9004), 02-21 (9005), 03-02 (9006); 9007 at 03-03 excluded
    assert seen == ["9002", "9004", "9005", "9006"] and total == 4


def test_search_result_cap_and_bad_input(crm_sb: Sandbox, hubspot: requests.Session) -> None:
    url = crm_sb.url + COMPANIES + "/search"
    r = search(hubspot, url, {"after": "10000", "limit": 100})
    assert r.status_code == 400
    assert r.json()["category"] == "VALIDATION_ERROR" and "10000" in r.json()["message"]
    r = search(hubspot, url, {"filterGroups": [{"filters": [
        {"propertyName": "name", "operator": "EQ", "value": "globex"}]}]})
    assert [c["id"] for c in r.json()["results"]] == [str(GLOBEX)]
    assert hubspot.post(url, data=b"{not json").status_code == 400
    assert hubspot.get(crm_sb.url + "/crm/v3/objects/widgets").status_code == 400


@pytest.fixture
def limited(crm_world: World) -> Iterator[Sandbox]:
    with Sandbox(crm_world, hubspot_rate_limit_per_10s=3, hubspot_search_rate_limit_per_second=1,
                 hubspot_daily_limit=1000) as sb:
        yield sb


def test_ten_second_limit_answers_429_with_hubspot_body(limited: Sandbox) -> None:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {limited.credentials['hubspot_access_token']}"
    remaining = []
    for _ in range(3):
        r = s.get(limited.url + COMPANIES)
        assert r.status_code == 200
        assert r.headers["X-HubSpot-RateLimit-Max"] == "3"
        assert r.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
        assert r.headers["X-HubSpot-RateLimit-Daily"] == "1000"
        remaining.append(int(r.headers["X-HubSpot-RateLimit-Remaining"]))
    assert remaining == [2, 1, 0]
    r = s.get(limited.url + DEALS)
    assert r.status_code == 429
    body = r.json()
    assert body["status"] == "error" and body["category"] == "RATE_LIMITS"
    assert body["errorType"] == "RATE_LIMIT" and body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert 1 <= int(r.headers["Retry-After"]) <= 10
    assert r.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    limited.reset_rate_limits()
    assert s.get(limited.url + DEALS).status_code == 200


def test_search_has_its_own_per_second_limit(limited: Sandbox) -> None:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {limited.credentials['hubspot_access_token']}"
    assert s.post(limited.url + DEALS + "/search", json={}).status_code == 200
    r = s.post(limited.url + DEALS + "/search", json={})
    assert r.status_code == 429 and r.json()["category"] == "RATE_LIMITS"


def test_injected_faults_use_hubspot_bodies(crm_sb: Sandbox, hubspot: requests.Session) -> None:
    crm_sb.inject_fault("/crm/v3/objects/deals", 503, times=1, retry_after=2)
    crm_sb.inject_fault("/crm/v3/objects/deals", 429, times=1)
    r = hubspot.get(crm_sb.url + DEALS)
    assert r.status_code == 503 and r.headers["Retry-After"] == "2"
    assert r.json()["status"] == "error"
    r = hubspot.get(crm_sb.url + DEALS)
    assert r.status_code == 429 and r.json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert hubspot.get(crm_sb.url + DEALS).status_code == 200
    assert [q.path for q in crm_sb.requests].count(DEALS) == 3
