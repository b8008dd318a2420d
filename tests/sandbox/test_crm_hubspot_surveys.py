"""HubSpot feedback submissions (survey responses) over real HTTP: paging, properties,
response groups, archived records, search windows, contact associations, missing scopes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from sandbox import Sandbox, World
from sandbox.hubspot_api import HubSpotApi
from sandbox.world import SurveyResponse, survey_response_group
from tests.sandbox.crm_world import at, build_crm_world
from tests.sandbox.test_crm_hubspot import COMPANIES, DEALS, page_all, search

FEEDBACK = "/crm/v3/objects/feedback_submissions"
PROPERTIES = ("hs_survey_id", "hs_survey_name", "hs_survey_type", "hs_survey_channel",
              "hs_value", "hs_response_group", "hs_submission_timestamp", "hs_contact_id",
              "hs_content")
ALWAYS = {"hs_createdate", "hs_lastmodifieddate", "hs_object_id"}
CONTACT = 7_000_000_001


def _nps(rid: int, value: int, day: int, **kw: Any) -> SurveyResponse:
    return SurveyResponse(rid, 1, "Quarterly NPS", "NPS", value, at(3, day), CONTACT, **kw)


def build_survey_world() -> World:
    """The CRM world plus ten responses to an NPS, a CSAT, a CES and a custom survey."""
    world = build_crm_world()
    world.survey_responses = [
        _nps(301, 10, 1, content="Great support", created_at=at(3, 1, 13)),
        _nps(302, 7, 2),
        _nps(303, 6, 3),
        SurveyResponse(304, 2, "Support CSAT", "CSAT", 2, at(3, 4), CONTACT + 1, "WEB"),
        SurveyResponse(305, 2, "Support CSAT", "CSAT", 1, at(3, 5), CONTACT + 1, "WEB"),
        # answered on March 6, edited on the 20th
        SurveyResponse(306, 3, "Support effort", "CES", 4, at(3, 6), CONTACT + 2,
                       updated_at=at(3, 20)),
        # HubSpot's own grouping of the record wins over the value's default
        SurveyResponse(307, 3, "Support effort", "CES", 3, at(3, 7), CONTACT + 2,
                       response_group="PASSIVE"),
        SurveyResponse(308, 2, "Support CSAT", "CSAT", 0, at(3, 8), CONTACT + 1,
                       updated_at=at(3, 9), archived=True, archived_at=at(3, 9)),
        SurveyResponse(309, 9, "Feature poll", "CUSTOM", 3, at(3, 10), None, "LINK"),
        SurveyResponse(310, 3, "Support effort", "CES", 7, at(3, 11), CONTACT + 3),
    ]
    return world


@pytest.fixture(scope="module")
def survey_world() -> World:
    return build_survey_world()


@pytest.fixture
def survey_sb(survey_world: World) -> Iterator[Sandbox]:
    with Sandbox(survey_world, rate_limit_per_minute=None,
                 incremental_rate_limit_per_minute=None, hubspot_rate_limit_per_10s=None,
                 hubspot_search_rate_limit_per_second=None) as server:
        yield server


@pytest.fixture
def hub(survey_sb: Sandbox) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {survey_sb.credentials['hubspot_access_token']}"
    return session


def test_feedback_submissions_page_with_properties_as_strings(survey_sb: Sandbox,
                                                              hub: requests.Session) -> None:
    pages = page_all(hub, survey_sb.url + FEEDBACK,
                     {"limit": "4", "properties": ",".join(PROPERTIES)})
    assert [len(p) for p in pages] == [4, 4, 1]
    records = [r for p in pages for r in p]
    assert [r["id"] for r in records] == [str(i) for i in range(301, 311) if i != 308]
    first = records[0]
    assert first == {
        "id": "301",
        "properties": {
            "hs_survey_id": "1", "hs_survey_name": "Quarterly NPS", "hs_survey_type": "NPS",
            "hs_survey_channel": "EMAIL", "hs_value": "10", "hs_response_group": "PROMOTER",
            "hs_submission_timestamp": "2024-03-01T12:00:00Z", "hs_contact_id": str(CONTACT),
            "hs_content": "Great support", "hs_createdate": "2024-03-01T13:00:00Z",
            "hs_lastmodifieddate": "2024-03-01T13:00:00Z", "hs_object_id": "301"},
        "createdAt": "2024-03-01T13:00:00Z", "updatedAt": "2024-03-01T13:00:00Z",
        "archived": False,
    }
    assert all(isinstance(v, str) or v is None for r in records for v in r["properties"].values())
    assert all(set(r["properties"]) == set(PROPERTIES) | ALWAYS for r in records)
    assert records[1]["properties"]["hs_content"] is None  # unset: null, not missing
    custom = next(r for r in records if r["id"] == "309")["properties"]
    assert custom["hs_contact_id"] is None and custom["hs_survey_channel"] == "LINK"
    edited = next(r for r in records if r["id"] == "306")
    assert edited["createdAt"] == "2024-03-06T12:00:00Z"
    assert edited["updatedAt"] == edited["properties"]["hs_lastmodifieddate"] \
        == "2024-03-20T12:00:00Z"
    assert "createdate" not in edited["properties"]  # feedback submissions: hs_createdate


def test_default_properties_and_object_type_aliases(survey_sb: Sandbox,
                                                    hub: requests.Session) -> None:
    body = hub.get(survey_sb.url + FEEDBACK).json()
    assert [r["id"] for r in body["results"]][:3] == ["301", "302", "303"]
    assert "paging" not in body  # 9 live records, default limit 10
    assert all(set(r["properties"]) == ALWAYS for r in body["results"])
    # requested properties come with the three always-returned ones; unknown ones are left out
    r = hub.get(survey_sb.url + FEEDBACK, params={"properties": "hs_value,nope"}).json()
    assert set(r["results"][0]["properties"]) == {"hs_value"} | ALWAYS
    for alias in ("feedback_submission", "0-19", "FEEDBACK_SUBMISSIONS"):
        other = hub.get(f"{survey_sb.url}/crm/v3/objects/{alias}").json()
        assert [r["id"] for r in other["results"]] == [r["id"] for r in body["results"]]


def test_archived_feedback_submissions_only_with_archived_true(survey_sb: Sandbox,
                                                               hub: requests.Session) -> None:
    body = hub.get(survey_sb.url + FEEDBACK, params={"archived": "true",
                                                     "properties": "hs_value"}).json()
    assert [r["id"] for r in body["results"]] == ["308"]
    record = body["results"][0]
    assert record["archived"] is True and record["archivedAt"] == "2024-03-09T12:00:00Z"
    assert record["properties"]["hs_value"] == "0"
    live = hub.get(survey_sb.url + FEEDBACK, params={"limit": "100"}).json()["results"]
    assert "308" not in {r["id"] for r in live}
    assert not any(r["archived"] for r in live) and all("archivedAt" not in r for r in live)


def test_response_group_follows_hubspot_rules(survey_sb: Sandbox, survey_world: World,
                                              hub: requests.Session) -> None:
    body = hub.get(survey_sb.url + FEEDBACK, params={
        "limit": "100", "properties": "hs_survey_type,hs_value,hs_response_group"}).json()
    groups = {r["id"]: r["properties"]["hs_response_group"] for r in body["results"]}
    assert groups == {"301": "PROMOTER", "302": "PASSIVE", "303": "DETRACTOR",  # NPS 10, 7, 6
                      "304": "PROMOTER", "305": "PASSIVE",  # CSAT happy, neutral
                      "306": "PASSIVE", "307": "PASSIVE",  # CES 4; 3 grouped PASSIVE by HubSpot
                      "309": None,  # a custom survey has no group
                      "310": "PROMOTER"}  # CES 7
    by_id = {r.id: r for r in survey_world.survey_responses}
    for rid, group in groups.items():
        response = by_id[int(rid)]
        assert group == (response.response_group
                         or survey_response_group(response.survey_type, response.value))
    assert survey_response_group("NPS", 9) == "PROMOTER"
    assert survey_response_group("NPS", 8) == "PASSIVE"
    assert survey_response_group("CSAT", 0) == "DETRACTOR"
    assert survey_response_group("CES", 5) == "PROMOTER"
    assert survey_response_group("CES", 3) == "DETRACTOR"


def test_search_feedback_by_submission_and_modification_time(survey_sb: Sandbox,
                                                             hub: requests.Session) -> None:
    url = survey_sb.url + FEEDBACK + "/search"
    spec: dict[str, Any] = {
        "filterGroups": [{"filters": [
            {"propertyName": "hs_submission_timestamp", "operator": "GTE",
             "value": "2024-03-02T00:00:00Z"},
            {"propertyName": "hs_submission_timestamp", "operator": "LT",
             "value": str(1709985600000)},  # 2024-03-09T12:00Z in ms: exclusive
        ]}],
        "sorts": [{"propertyName": "hs_submission_timestamp", "direction": "DESCENDING"}],
        "properties": ["hs_value"], "limit": 3,
    }
    seen: list[str] = []
    while True:
        r = search(hub, url, spec)
        assert r.status_code == 200, r.text
        body = r.json()
        seen += [x["id"] for x in body["results"]]
        assert set(body["results"][0]["properties"]) == {"hs_value"} | ALWAYS
        if "paging" not in body:
            break
        spec["after"] = body["paging"]["next"]["after"]
    # March 2-8, newest first; 308 (March 8) is archived: never matches
    assert seen == ["307", "306", "305", "304", "303", "302"] and body["total"] == 6
    # the cursor of an incremental load: what changed since March 12 is the edit of 306
    r = search(hub, url, {"filterGroups": [{"filters": [
        {"propertyName": "hs_lastmodifieddate", "operator": "GT",
         "value": "2024-03-12T00:00:00Z"}]}]})
    assert [x["id"] for x in r.json()["results"]] == ["306"]
    r = search(hub, url, {"filterGroups": [{"filters": [
        {"propertyName": "hs_createdate", "operator": "BETWEEN", "value": "2024-03-01T12:30:00Z",
         "highValue": "2024-03-02T12:00:00Z"}]}]})
    assert [x["id"] for x in r.json()["results"]] == ["301", "302"]
    # hs_value compares as a number ("10" >= "9"), hs_survey_type as text
    r = search(hub, url, {"filterGroups": [{"filters": [
        {"propertyName": "hs_survey_type", "operator": "EQ", "value": "NPS"},
        {"propertyName": "hs_value", "operator": "GTE", "value": "9"}]}]})
    assert [x["id"] for x in r.json()["results"]] == ["301"]
    r = search(hub, url, {"filterGroups": [{"filters": [
        {"propertyName": "hs_submission_timestamp", "operator": "GT", "value": "soon"}]}]})
    assert r.status_code == 400 and r.json()["category"] == "VALIDATION_ERROR"


def test_feedback_submissions_associate_their_contact(survey_sb: Sandbox,
                                                      hub: requests.Session) -> None:
    body = hub.get(survey_sb.url + FEEDBACK, params={"associations": "contacts,companies",
                                                     "limit": "100"}).json()
    by_id = {r["id"]: r for r in body["results"]}
    assert by_id["304"]["associations"] == {"contacts": {"results": [
        {"id": str(CONTACT + 1), "type": "feedback_submission_to_contact"}]}}
    assert "associations" not in by_id["309"]  # no contact; and never a company
    assert all(set(r.get("associations", {})) <= {"contacts"} for r in body["results"])
    # a company or deal has no contacts in the sandbox
    companies = hub.get(survey_sb.url + COMPANIES, params={"associations": "contacts"}).json()
    assert all("associations" not in c for c in companies["results"])


@pytest.fixture
def scopeless(survey_world: World) -> Iterator[Sandbox]:
    with Sandbox(survey_world, hubspot_rate_limit_per_10s=None,
                 hubspot_search_rate_limit_per_second=None,
                 hubspot_missing_scopes=["feedback_submissions"]) as sb:
        yield sb


def test_missing_scope_answers_403_with_hubspot_body(scopeless: Sandbox) -> None:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {scopeless.credentials['hubspot_access_token']}"
    for r in (s.get(scopeless.url + FEEDBACK),
              s.get(scopeless.url + "/crm/v3/objects/0-19", params={"limit": "5"}),
              s.post(scopeless.url + FEEDBACK + "/search", json={})):
        assert r.status_code == 403
        body = r.json()
        assert body["status"] == "error" and body["category"] == "MISSING_SCOPES"
        assert body["message"] == (
            "This app hasn't been granted all required scopes to make this call. Read more "
            "about required scopes here: https://developers.hubspot.com/scopes.")
        assert body["errors"] == [{
            "message": "One or more of the following scopes are required.",
            "context": {"requiredGranularScopes": ["crm.objects.feedback_submissions.read"]}}]
        assert body["links"] == {"scopes": "https://developers.hubspot.com/scopes"}
        assert len(body["correlationId"]) == 36
    # the other objects still answer, and a bad token is still a 401 first
    assert s.get(scopeless.url + COMPANIES).status_code == 200
    assert s.get(scopeless.url + DEALS).status_code == 200
    assert s.post(scopeless.url + DEALS + "/search", json={}).status_code == 200
    bad = requests.get(scopeless.url + FEEDBACK, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_missing_scopes_take_any_alias_and_refuse_unknown_objects(survey_world: World) -> None:
    api = HubSpotApi(survey_world, missing_scopes=["0-19", "Deal"])
    assert HubSpotApi(survey_world, missing_scopes="feedback_submission").missing_scopes == {
        "feedback_submissions"}
    assert api.missing_scopes == {"feedback_submissions", "deals"}
    assert HubSpotApi(survey_world).missing_scopes == set()
    with pytest.raises(ValueError, match="widgets"):
        HubSpotApi(survey_world, missing_scopes=["widgets"])
