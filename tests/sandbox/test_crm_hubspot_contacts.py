"""HubSpot contacts over real HTTP: the batch read endpoint (200, 207 for ids not found, the
100-input cap, missing scopes, limits), the list, and the generated contacts of the survey
responses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
import requests

from sandbox import CrmContact, Sandbox, World, generate_world
from sandbox import generate as generate_module
from sandbox.crm_generate import contact_ids, generate_crm_contacts
from sandbox.hubspot_api import HubSpotApi
from tests.sandbox.crm_world import ACME, GLOBEX, GONE, INITECH, at
from tests.sandbox.test_crm_hubspot import COMPANIES
from tests.sandbox.test_crm_hubspot_surveys import CONTACT, FEEDBACK, build_survey_world

CONTACTS = "/crm/v3/objects/contacts"
BATCH_READ = CONTACTS + "/batch/read"
ALWAYS = {"createdate", "lastmodifieddate", "hs_object_id"}
NOT_FOUND = ("Could not get some CONTACT objects, they may be deleted or not exist. Check that "
             "ids are valid.")
ARCHIVED = CONTACT + 3
NO_COMPANY = CONTACT + 2


def build_contact_world() -> World:
    """The survey world plus its four contacts: two with a company, one without, one
    archived (its responses remain)."""
    world = build_survey_world()
    world.crm_contacts = [
        CrmContact(CONTACT, ACME, at(1, 20), at(3, 1, 13)),
        CrmContact(CONTACT + 1, GLOBEX, at(2, 1)),  # never modified: updated = created
        CrmContact(NO_COMPANY, None, at(2, 15), at(3, 20)),
        CrmContact(ARCHIVED, INITECH, at(2, 20), at(3, 25), archived=True),
    ]
    return world


@pytest.fixture(scope="module")
def contact_world() -> World:
    return build_contact_world()


@pytest.fixture
def contact_sb(contact_world: World) -> Iterator[Sandbox]:
    with Sandbox(contact_world, rate_limit_per_minute=None,
                 incremental_rate_limit_per_minute=None, hubspot_rate_limit_per_10s=None,
                 hubspot_search_rate_limit_per_second=None) as server:
        yield server


def _session(sb: Sandbox) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sb.credentials['hubspot_access_token']}"
    return session


@pytest.fixture
def hub(contact_sb: Sandbox) -> requests.Session:
    return _session(contact_sb)


def _read(hub: requests.Session, sb: Sandbox, ids: list[object], path: str = BATCH_READ,
          **body: object) -> requests.Response:
    return hub.post(sb.url + path, json={"properties": ["associatedcompanyid"],
                                         "inputs": [{"id": i} for i in ids], **body})


def test_batch_read_returns_the_primary_company_as_a_string(contact_sb: Sandbox,
                                                            hub: requests.Session) -> None:
    r = _read(hub, contact_sb, [str(CONTACT), str(CONTACT + 1), str(NO_COMPANY)])
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == ["status", "results", "startedAt", "completedAt"]
    assert body["status"] == "COMPLETE"
    assert body["startedAt"].endswith("Z") and body["startedAt"] <= body["completedAt"]
    assert body["results"][0] == {
        "id": str(CONTACT),
        "properties": {"associatedcompanyid": str(ACME), "createdate": "2024-01-20T12:00:00Z",
                       "lastmodifieddate": "2024-03-01T13:00:00Z",
                       "hs_object_id": str(CONTACT)},
        "createdAt": "2024-01-20T12:00:00Z", "updatedAt": "2024-03-01T13:00:00Z",
        "archived": False,
    }
    companies = {c["id"]: c["properties"]["associatedcompanyid"] for c in body["results"]}
    assert companies == {str(CONTACT): str(ACME), str(CONTACT + 1): str(GLOBEX),
                         str(NO_COMPANY): None}  # no company: null, not missing
    never_modified = body["results"][1]
    assert never_modified["properties"]["lastmodifieddate"] == never_modified["updatedAt"] \
        == never_modified["createdAt"] == "2024-02-01T12:00:00Z"


def test_batch_read_properties_duplicates_and_aliases(contact_sb: Sandbox,
                                                      hub: requests.Session) -> None:
    # unknown properties are left out; contacts have lastmodifieddate, not hs_lastmodifieddate
    r = _read(hub, contact_sb, [CONTACT], properties=["email", "hs_lastmodifieddate"])
    assert r.status_code == 200 and set(r.json()["results"][0]["properties"]) == ALWAYS
    # without properties: the defaults the sandbox knows
    r = hub.post(contact_sb.url + BATCH_READ, json={"inputs": [{"id": str(CONTACT)}]})
    assert set(r.json()["results"][0]["properties"]) == ALWAYS
    # an id asked for twice (or as a number) comes back once
    r = _read(hub, contact_sb, [str(CONTACT + 1), CONTACT, str(CONTACT + 1), str(CONTACT)])
    assert r.status_code == 200
    assert [c["id"] for c in r.json()["results"]] == [str(CONTACT + 1), str(CONTACT)]
    for alias in ("contact", "0-1", "CONTACTS"):
        other = _read(hub, contact_sb, [CONTACT], path=f"{CONTACTS[:-8]}{alias}/batch/read")
        assert other.status_code == 200 and other.json()["results"][0]["id"] == str(CONTACT)
    # the other object types read the same way
    r = _read(hub, contact_sb, [ACME, 1], path=COMPANIES + "/batch/read", properties=["name"])
    assert r.status_code == 207 and r.json()["results"][0]["properties"]["name"] == "Acme Inc."
    assert r.json()["errors"][0]["message"].startswith("Could not get some COMPANY objects")


def test_ids_not_found_answer_207_with_their_ids(contact_sb: Sandbox,
                                                 hub: requests.Session) -> None:
    r = _read(hub, contact_sb, [str(CONTACT), "99", str(ARCHIVED), "99", "nope"])
    assert r.status_code == 207
    body = r.json()
    assert list(body) == ["status", "results", "numErrors", "errors", "startedAt",
                          "completedAt"]
    assert body["status"] == "COMPLETE" and body["numErrors"] == 1
    assert [c["id"] for c in body["results"]] == [str(CONTACT)]
    # an archived contact is not found without archived=true
    assert body["errors"] == [{"status": "error", "category": "OBJECT_NOT_FOUND",
                               "message": NOT_FOUND,
                               "context": {"ids": ["99", str(ARCHIVED), "nope"]}}]
    nothing = _read(hub, contact_sb, ["1", "2"])
    assert nothing.status_code == 207 and nothing.json()["results"] == []
    assert nothing.json()["errors"][0]["context"] == {"ids": ["1", "2"]}
    # archived=true reads archived records only
    r = hub.post(contact_sb.url + BATCH_READ, params={"archived": "true"},
                 json={"inputs": [{"id": str(ARCHIVED)}, {"id": str(CONTACT)}]})
    assert r.status_code == 207
    gone = r.json()["results"][0]
    assert gone["id"] == str(ARCHIVED) and gone["archived"] is True
    assert gone["archivedAt"] == "2024-03-25T12:00:00Z"
    assert r.json()["errors"][0]["context"]["ids"] == [str(CONTACT)]


def test_batch_read_validation(contact_sb: Sandbox, hub: requests.Session) -> None:
    r = _read(hub, contact_sb, [str(CONTACT + k % 4) for k in range(101)])
    assert r.status_code == 400
    body = r.json()
    assert body["status"] == "error" and body["category"] == "VALIDATION_ERROR"
    assert body["message"] == ("The maximum number of inputs supported in a batch is 100. "
                               "Please reduce the number of items and try again")
    assert len(body["correlationId"]) == 36
    full = _read(hub, contact_sb, [str(CONTACT + k % 3) for k in range(100)])
    assert full.status_code == 200 and len(full.json()["results"]) == 3
    history = _read(hub, contact_sb, [str(CONTACT)] * 51,
                    propertiesWithHistory=["associatedcompanyid"])
    assert history.status_code == 400 and "property histories is 50" in history.json()["message"]
    assert _read(hub, contact_sb, [str(CONTACT)] * 50,
                 propertiesWithHistory=["associatedcompanyid"]).status_code == 200
    assert _read(hub, contact_sb, [str(CONTACT)], idProperty="hs_object_id").status_code == 200
    email = _read(hub, contact_sb, ["a@acme.example"], idProperty="email")
    assert email.status_code == 400 and email.json()["category"] == "VALIDATION_ERROR"
    for bad in ({"properties": ["associatedcompanyid"]}, {"inputs": [{}]}, {"inputs": {}}):
        r = hub.post(contact_sb.url + BATCH_READ, json=bad)
        assert r.status_code == 400 and r.json()["category"] == "VALIDATION_ERROR", bad
    assert hub.post(contact_sb.url + BATCH_READ, data=b"{").status_code == 400
    assert hub.get(contact_sb.url + BATCH_READ).status_code == 405
    assert requests.post(contact_sb.url + BATCH_READ, json={"inputs": []}).status_code == 401


def test_batch_reads_count_against_the_ten_second_window(contact_world: World) -> None:
    with Sandbox(contact_world, hubspot_rate_limit_per_10s=3,
                 hubspot_search_rate_limit_per_second=None) as sb:
        hub = _session(sb)
        assert hub.get(sb.url + FEEDBACK).status_code == 200
        first = _read(hub, sb, [CONTACT])
        assert first.status_code == 200
        assert first.headers["X-HubSpot-RateLimit-Max"] == "3"
        assert first.headers["X-HubSpot-RateLimit-Remaining"] == "1"
        assert _read(hub, sb, [CONTACT]).status_code == 200
        r = _read(hub, sb, [CONTACT])
        assert r.status_code == 429 and r.json()["policyName"] == "TEN_SECONDLY_ROLLING"
        assert int(r.headers["Retry-After"]) >= 1


@pytest.fixture
def scopeless(contact_world: World) -> Iterator[Sandbox]:
    with Sandbox(contact_world, hubspot_rate_limit_per_10s=None,
                 hubspot_search_rate_limit_per_second=None,
                 hubspot_missing_scopes=["contacts"]) as sb:
        yield sb


def test_missing_contacts_scope_answers_403(scopeless: Sandbox) -> None:
    hub = _session(scopeless)
    for r in (_read(hub, scopeless, [CONTACT]), hub.get(scopeless.url + CONTACTS),
              _read(hub, scopeless, [CONTACT], path="/crm/v3/objects/0-1/batch/read")):
        assert r.status_code == 403
        body = r.json()
        assert body["category"] == "MISSING_SCOPES" and body["status"] == "error"
        assert body["errors"] == [{
            "message": "One or more of the following scopes are required.",
            "context": {"requiredGranularScopes": ["crm.objects.contacts.read"]}}]
    # the feedback submissions still answer, with their contact association
    r = hub.get(scopeless.url + FEEDBACK, params={"associations": "contacts"})
    assert r.status_code == 200 and r.json()["results"][0]["associations"]["contacts"]
    assert requests.post(scopeless.url + BATCH_READ, json={"inputs": []},
                         headers={"Authorization": "Bearer nope"}).status_code == 401
    assert HubSpotApi(World(), missing_scopes=["0-1"]).missing_scopes == {"contacts"}


def test_contacts_list_with_company_associations(contact_sb: Sandbox,
                                                 hub: requests.Session) -> None:
    body = hub.get(contact_sb.url + CONTACTS, params={"associations": "companies"}).json()
    assert [c["id"] for c in body["results"]] == [str(CONTACT + k) for k in range(3)]
    assert all(set(c["properties"]) == ALWAYS for c in body["results"])
    assert body["results"][0]["associations"] == {"companies": {"results": [
        {"id": str(ACME), "type": "contact_to_company"},
        {"id": str(ACME), "type": "contact_to_company_unlabeled"}]}}
    assert "associations" not in body["results"][2]  # no company
    archived = hub.get(contact_sb.url + CONTACTS, params={"archived": "true"}).json()
    assert [c["id"] for c in archived["results"]] == [str(ARCHIVED)]


def test_a_contact_of_an_archived_company_has_no_association() -> None:
    world = build_contact_world()
    world.crm_contacts = [CrmContact(CONTACT, GONE, at(1, 1))]
    api = HubSpotApi(world)
    record = api._render("contacts", world.crm_contacts[0], ["associatedcompanyid"],
                         ["companies"])
    assert record["properties"]["associatedcompanyid"] == str(GONE)
    assert "associations" not in record


# -- the generated contacts ------------------------------------------------------------------

END = date(2025, 6, 30)


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(seed=7, tickets=3000, days=60, end_date=END)


def test_generated_contacts_are_the_survey_contacts_with_their_company(world: World) -> None:
    contacts = {c.id: c for c in world.crm_contacts}
    responses = world.survey_responses
    assert [c.id for c in world.crm_contacts] == sorted(contacts)
    assert set(contacts) == {r.contact_id for r in responses}
    user_of = {contact: user for user, contact in contact_ids(world).items()}
    users = {u.id: u for u in world.users}
    company_by_domain = {c.domain: c.id for c in world.crm_companies if not c.archived}
    orgs = {o.id: o for o in world.organizations}
    for contact in world.crm_contacts:
        org_id = users[user_of[contact.id]].organization_id
        expected = company_by_domain.get(orgs[org_id].domain_names[0]) if org_id else None
        assert contact.company_id == expected, contact
    no_company = [c for c in world.crm_contacts if c.company_id is None]
    # end users without an organisation, or whose organisation has no CRM company
    assert 0 < len(no_company) < len(contacts) // 2
    assert any(users[user_of[c.id]].organization_id for c in no_company)
    assert any(users[user_of[c.id]].organization_id is None for c in no_company)
    nps = {r.contact_id for r in responses if r.survey_type == "NPS"}
    assert all(contacts[c].company_id is not None for c in nps)  # NPS goes to customers
    end = max(r.submitted_at for r in responses)
    for contact in world.crm_contacts:
        submitted = [r.submitted_at for r in responses if r.contact_id == contact.id]
        assert contact.created_at < min(submitted)
        assert contact.updated_at is not None and max(submitted) <= contact.updated_at
        assert contact.updated_at.date() <= END and contact.created_at.tzinfo is not None
    assert end.date() <= END
    archived = [c for c in world.crm_contacts if c.archived]
    assert len(archived) == 1 and archived[0].company_id is not None


def test_generated_contacts_are_deterministic_and_change_nothing_else(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    again = generate_world(seed=7, tickets=3000, days=60, end_date=END)
    assert again.crm_contacts == world.crm_contacts
    assert generate_world(seed=8, tickets=3000, days=60,
                          end_date=END).crm_contacts != world.crm_contacts
    assert generate_world(seed=7, tickets=300, days=60, end_date=END,
                          crm_months=0).crm_contacts == []
    assert generate_crm_contacts(world, world.crm_companies, world.survey_responses, 7,
                                 END) == world.crm_contacts
    assert generate_crm_contacts(world, world.crm_companies, [], 7, END) == []
    monkeypatch.setattr(generate_module, "generate_crm_contacts", lambda *a, **k: [])
    without = generate_world(seed=7, tickets=3000, days=60, end_date=END)
    assert without.crm_contacts == []
    for name in ("users", "organizations", "tickets", "satisfaction_ratings", "crm_companies",
                 "deals", "survey_responses"):
        assert getattr(without, name) == getattr(world, name), name


def test_generated_contacts_batch_read_end_to_end(world: World) -> None:
    with Sandbox(world, hubspot_rate_limit_per_10s=None,
                 hubspot_search_rate_limit_per_second=None) as sb:
        hub = _session(sb)
        ids = sorted({str(r.contact_id) for r in world.survey_responses}, key=int)
        found: dict[str, str | None] = {}
        missing: list[str] = []
        for start in range(0, len(ids), 100):
            r = _read(hub, sb, ids[start:start + 100])
            assert r.status_code in (200, 207), r.text
            found.update({c["id"]: c["properties"]["associatedcompanyid"]
                          for c in r.json()["results"]})
            for error in r.json().get("errors", []):
                missing += error["context"]["ids"]
    contacts = {str(c.id): c for c in world.crm_contacts}
    assert missing == [i for i in ids if contacts[i].archived] and len(missing) == 1
    assert found == {i: None if c.company_id is None else str(c.company_id)
                     for i, c in contacts.items() if not c.archived}
