"""Salesforce REST over real HTTP: auth, SOQL subset, nextRecordsUrl paging, queryAll, limits,
sObject Describe and an org without custom fields."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import requests

from pipelines.cli import build_parser as helpdesk_etl_parser
from sandbox import Sandbox, World
from sandbox.cli import build_parser, service_options
from sandbox.salesforce_api import (
    SoqlError,
    literal_kinds,
    org_fields,
    parse_soql,
    salesforce_id,
)
from tests.sandbox.crm_world import ACME, GONE

V = "/services/data/v60.0"


def query_all(session: requests.Session, sb: Sandbox, soql: str,
              resource: str = "query") -> tuple[list[dict], list[dict]]:
    """Run a query and follow nextRecordsUrl; (records, page bodies)."""
    r = session.get(f"{sb.url}{V}/{resource}", params={"q": soql})
    bodies = []
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        bodies.append(body)
        if body["done"]:
            assert "nextRecordsUrl" not in body
            break
        assert body["nextRecordsUrl"].startswith(f"{V}/query/")
        r = session.get(sb.credentials["salesforce_instance_url"] + body["nextRecordsUrl"])
    return [rec for b in bodies for rec in b["records"]], bodies


def test_ids_are_deterministic_18_chars() -> None:
    account = salesforce_id("Account", ACME)
    assert len(account) == 18 and account.startswith("001")
    assert account == salesforce_id("Account", ACME)
    assert salesforce_id("Opportunity", 9001).startswith("006")
    assert len({salesforce_id("Account", n) for n in range(1000)}) == 1000
    # the checksum suffix encodes the case of the 15-char id (all digits/lower: "AAA")
    assert salesforce_id("Account", 1)[15:] == "AAA"


def test_soql_subset_parses() -> None:
    q = parse_soql("select Id, name, SYSTEMMODSTAMP from account where SystemModstamp >= "
                   "2024-01-01T00:00:00Z and SystemModstamp < 2024-02-01T00:00:00.000+0100 "
                   "ORDER BY SystemModstamp ASC, Id DESC NULLS LAST LIMIT 5")
    assert q.fields == ("Id", "Name", "SystemModstamp") and q.object_name == "Account"
    assert [(c.field, c.op) for c in q.where] == [("SystemModstamp", ">="),
                                                  ("SystemModstamp", "<")]
    assert q.where[0].value == datetime(2024, 1, 1, tzinfo=UTC)
    assert q.where[1].value == datetime(2024, 1, 31, 23, tzinfo=UTC)
    assert q.order_by == (("SystemModstamp", False, False), ("Id", True, True))
    assert q.limit == 5
    q = parse_soql("SELECT Id FROM Opportunity WHERE IsWon = TRUE AND CloseDate >= 2024-01-01 "
                   "AND Name != 'O\\'Brien' AND Amount > 10.5 AND AccountId = NULL")
    assert [c.value for c in q.where] == [True, date(2024, 1, 1), "O'Brien", 10.5, None]


@pytest.mark.parametrize(("soql", "code"), [
    ("", "MALFORMED_QUERY"),
    ("SELECT FROM Account", "MALFORMED_QUERY"),
    ("SELECT Id Account", "MALFORMED_QUERY"),
    ("SELECT Id FROM Account WHERE", "MALFORMED_QUERY"),
    ("SELECT Id FROM Account WHERE SystemModstamp >= 2024-01-01", "MALFORMED_QUERY"),
    ("SELECT Id FROM Account WHERE SystemModstamp >= '2024-01-01T00:00:00Z'", "INVALID_FIELD"),
    ("SELECT Id FROM Account WHERE IsDeleted = TRUE OR IsDeleted = FALSE", "MALFORMED_QUERY"),
    ("SELECT Id FROM Account ORDER SystemModstamp", "MALFORMED_QUERY"),
    ("SELECT Id FROM Account LIMIT x", "MALFORMED_QUERY"),
    ("SELECT Id FROM Account extra", "MALFORMED_QUERY"),
    ("SELECT Id, Bogus FROM Account", "INVALID_FIELD"),
    ("SELECT Id FROM Contact", "INVALID_TYPE"),
    ("SELECT Id FROM Account WHERE Name = Acme", "MALFORMED_QUERY"),
])
def test_soql_errors(soql: str, code: str) -> None:
    with pytest.raises(SoqlError) as info:
        parse_soql(soql)
    assert info.value.body[0]["errorCode"] == code


def test_bad_session_is_401(crm_sb: Sandbox) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"},
                    {"Authorization": f"Bearer {crm_sb.credentials['hubspot_access_token']}"}):
        r = requests.get(f"{crm_sb.url}{V}/query", params={"q": "SELECT Id FROM Account"},
                         headers=headers)
        assert r.status_code == 401
        assert r.json() == [{"message": "Session expired or invalid",
                             "errorCode": "INVALID_SESSION_ID"}]


def test_account_records_and_paging(crm_sb: Sandbox, salesforce: requests.Session) -> None:
    records, bodies = query_all(salesforce, crm_sb, "SELECT Id, Name, Website, Industry, "
                                "CreatedDate, LastModifiedDate, SystemModstamp, IsDeleted "
                                "FROM Account")
    assert len(records) == 3 and len(bodies) == 1  # the archived one is deleted
    acme = records[0]
    assert acme == {
        "attributes": {"type": "Account",
                       "url": f"{V}/sobjects/Account/{salesforce_id('Account', ACME)}"},
        "Id": salesforce_id("Account", ACME), "Name": "Acme Inc.", "Website": "www.acme.example",
        "Industry": "Technology", "CreatedDate": "2024-01-02T12:00:00.000+0000",
        "LastModifiedDate": "2024-03-01T12:00:00.000+0000",
        "SystemModstamp": "2024-03-01T12:00:00.000+0000", "IsDeleted": False}
    assert list(acme) == ["attributes", "Id", "Name", "Website", "Industry", "CreatedDate",
                          "LastModifiedDate", "SystemModstamp", "IsDeleted"]


def test_opportunities_page_with_next_records_url(crm_sb: Sandbox,
                                                  salesforce: requests.Session) -> None:
    soql = ("SELECT Id, AccountId, Name, Amount, CloseDate, StageName, IsWon, IsClosed, "
            "Contract_Term_Months__c, SystemModstamp FROM Opportunity "
            "ORDER BY SystemModstamp ASC")
    records, bodies = query_all(salesforce, crm_sb, soql)
    assert [len(b["records"]) for b in bodies] == [3, 3, 1]  # batch size 3
    assert all(b["totalSize"] == 7 for b in bodies)
    assert [b["done"] for b in bodies] == [False, False, True]
    stamps = [r["SystemModstamp"] for r in records]
    assert stamps == sorted(stamps)
    by_name = {r["Name"]: r for r in records}
    annual = by_name["Acme annual"]
    assert annual["Amount"] == 12000.0 and annual["CloseDate"] == "2024-01-15"
    assert annual["StageName"] == "Closed Won" and annual["IsWon"] is True
    assert annual["IsClosed"] is True and annual["Contract_Term_Months__c"] == 12.0
    assert annual["AccountId"] == salesforce_id("Account", ACME)
    assert by_name["Acme add-on"]["Contract_Term_Months__c"] is None
    assert by_name["Initech lost"]["IsWon"] is False and by_name["Initech lost"]["IsClosed"]
    assert by_name["Initech pipeline"]["StageName"] == "Negotiation/Review"
    assert by_name["Initech pipeline"]["IsClosed"] is False
    assert by_name["Orphan"]["AccountId"] is None
    # a bogus locator
    r = salesforce.get(f"{crm_sb.url}{V}/query/01gNOPE-3")
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_incremental_window_on_system_modstamp(crm_sb: Sandbox,
                                               salesforce: requests.Session) -> None:
    soql = ("SELECT Id, Name FROM Opportunity WHERE SystemModstamp >= 2024-02-01T00:00:00Z "
            "AND SystemModstamp < 2024-03-03T12:00:00Z ORDER BY SystemModstamp ASC")
    records, _ = query_all(salesforce, crm_sb, soql)
    assert [r["Name"] for r in records] == ["Acme add-on", "Globex monthly Feb", "Initech lost",
                                            "Initech pipeline"]
    won, _ = query_all(salesforce, crm_sb, "SELECT Id FROM Opportunity WHERE IsWon = TRUE")
    assert len(won) == 5


def test_query_all_returns_deleted_records(crm_sb: Sandbox,
                                           salesforce: requests.Session) -> None:
    records, bodies = query_all(salesforce, crm_sb, "SELECT Id, IsDeleted FROM Account "
                                "WHERE IsDeleted = TRUE", resource="queryAll")
    assert [r["Id"] for r in records] == [salesforce_id("Account", GONE)]
    assert records[0]["IsDeleted"] is True
    everything, _ = query_all(salesforce, crm_sb, "SELECT Id, IsDeleted FROM Opportunity",
                              resource="queryAll")
    assert len(everything) == 8 and sum(r["IsDeleted"] for r in everything) == 1
    none, _ = query_all(salesforce, crm_sb, "SELECT Id FROM Account WHERE IsDeleted = TRUE")
    assert none == []


def test_malformed_query_over_http(crm_sb: Sandbox, salesforce: requests.Session) -> None:
    r = salesforce.get(f"{crm_sb.url}{V}/query", params={"q": "SELECT Id FROM Account WHERE"})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "MALFORMED_QUERY"
    r = salesforce.get(f"{crm_sb.url}{V}/query/", params={"q": "SELECT Nope FROM Account"})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "INVALID_FIELD"
    r = salesforce.get(f"{crm_sb.url}{V}/sobjects/Account")
    assert r.status_code == 404 and r.json()[0]["errorCode"] == "NOT_FOUND"


def test_batch_size_header(crm_world: World) -> None:
    with Sandbox(crm_world, salesforce_batch_size=2000) as sb:
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {sb.credentials['salesforce_access_token']}"
        s.headers["Sforce-Query-Options"] = "batchSize=1"  # clamped to the minimum of 200
        body = s.get(f"{sb.url}{V}/query", params={"q": "SELECT Id FROM Opportunity"}).json()
        assert body["done"] is True and body["totalSize"] == 7


@pytest.fixture
def limited(crm_world: World) -> Iterator[Sandbox]:
    with Sandbox(crm_world, salesforce_daily_request_limit=2) as sb:
        yield sb


def test_daily_request_limit_is_403_request_limit_exceeded(limited: Sandbox) -> None:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {limited.credentials['salesforce_access_token']}"
    url, q = f"{limited.url}{V}/query", {"q": "SELECT Id FROM Account"}
    first, second = s.get(url, params=q), s.get(url, params=q)
    assert first.headers["Sforce-Limit-Info"] == "api-usage=1/2"
    assert second.headers["Sforce-Limit-Info"] == "api-usage=2/2"
    r = s.get(url, params=q)
    assert r.status_code == 403
    assert r.json() == [{"message": "TotalRequests Limit exceeded.",
                         "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    limited.reset_rate_limits()
    assert s.get(url, params=q).status_code == 200


def test_injected_503_uses_salesforce_body(crm_sb: Sandbox, salesforce: requests.Session) -> None:
    crm_sb.inject_fault("/services/data/", 503, times=1)
    r = salesforce.get(f"{crm_sb.url}{V}/query", params={"q": "SELECT Id FROM Account"})
    assert r.status_code == 503 and r.json()[0]["errorCode"] == "SERVER_UNAVAILABLE"
    r = salesforce.get(f"{crm_sb.url}{V}/query", params={"q": "SELECT Id FROM Account"})
    assert r.status_code == 200


# -- sObject Describe -------------------------------------------------------------------------

OPPORTUNITY_TYPES = {
    "Id": "id", "AccountId": "reference", "Name": "string", "Amount": "currency",
    "CloseDate": "date", "StageName": "picklist", "IsWon": "boolean", "IsClosed": "boolean",
    "Contract_Term_Months__c": "double", "CreatedDate": "datetime",
    "LastModifiedDate": "datetime", "SystemModstamp": "datetime", "IsDeleted": "boolean"}


def test_describe_lists_the_fields_as_salesforce_types_them(
        crm_sb: Sandbox, salesforce: requests.Session) -> None:
    r = salesforce.get(f"{crm_sb.url}{V}/sobjects/Opportunity/describe")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert {k: body[k] for k in ("name", "label", "labelPlural", "keyPrefix", "custom")} == {
        "name": "Opportunity", "label": "Opportunity", "labelPlural": "Opportunities",
        "keyPrefix": "006", "custom": False}
    assert body["urls"]["describe"] == f"{V}/sobjects/Opportunity/describe"
    fields = {f["name"]: f for f in body["fields"]}
    assert {name: f["type"] for name, f in fields.items()} == OPPORTUNITY_TYPES
    for f in fields.values():
        assert {"name", "label", "type", "soapType", "custom", "nillable", "length",
                "precision", "scale", "referenceTo", "picklistValues"} <= set(f)
    assert fields["AccountId"]["referenceTo"] == ["Account"]
    assert fields["AccountId"]["relationshipName"] == "Account"
    amount = fields["Amount"]
    assert (amount["precision"], amount["scale"], amount["soapType"]) == (18, 2, "xsd:double")
    assert [n for n, f in fields.items() if f["custom"]] == ["Contract_Term_Months__c"]
    assert fields["Id"]["nillable"] is False and amount["nillable"] is True
    assert fields["Name"]["length"] == 120 and fields["Id"]["length"] == 18
    stages = [v["value"] for v in fields["StageName"]["picklistValues"]]
    assert {"Prospecting", "Closed Won", "Closed Lost"} <= set(stages)
    # every described field can be queried
    soql = f"SELECT {', '.join(fields)} FROM Opportunity"
    assert salesforce.get(f"{crm_sb.url}{V}/queryAll", params={"q": soql}).status_code == 200
    # a trailing slash and any case name the same object
    account = salesforce.get(f"{crm_sb.url}{V}/sobjects/account/describe/").json()
    assert account["name"] == "Account" and account["keyPrefix"] == "001"
    types = {f["name"]: f["type"] for f in account["fields"]}
    assert types == {"Id": "id", "Name": "string", "Website": "url", "Industry": "picklist",
                     "CreatedDate": "datetime", "LastModifiedDate": "datetime",
                     "SystemModstamp": "datetime", "IsDeleted": "boolean"}


def test_describe_counts_against_the_limit_and_answers_errors_as_salesforce(
        crm_world: World) -> None:
    with Sandbox(crm_world, salesforce_daily_request_limit=5) as sb:
        url = f"{sb.url}{V}/sobjects/Account/describe"
        assert requests.get(url).json() == [{"message": "Session expired or invalid",
                                             "errorCode": "INVALID_SESSION_ID"}]
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {sb.credentials['salesforce_access_token']}"
        assert s.get(url).headers["Sforce-Limit-Info"] == "api-usage=1/5"
        r = s.get(f"{sb.url}{V}/sobjects/Contact/describe")
        assert r.status_code == 404 and r.headers["Sforce-Limit-Info"] == "api-usage=2/5"
        assert r.json() == [{"message": "The requested resource does not exist",
                             "errorCode": "NOT_FOUND"}]
        r = s.post(url)
        assert r.status_code == 405 and r.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"


def test_an_org_without_custom_fields_neither_describes_nor_queries_them(
        crm_world: World) -> None:
    with Sandbox(crm_world, salesforce_custom_fields=False) as sb:
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {sb.credentials['salesforce_access_token']}"
        body = s.get(f"{sb.url}{V}/sobjects/Opportunity/describe").json()
        names = [f["name"] for f in body["fields"]]
        assert names == [n for n in OPPORTUNITY_TYPES if n != "Contract_Term_Months__c"]
        r = s.get(f"{sb.url}{V}/queryAll",
                  params={"q": "SELECT Id, contract_term_months__c FROM Opportunity"})
        assert r.status_code == 400 and r.json()[0]["errorCode"] == "INVALID_FIELD"
        assert "No such column 'contract_term_months__c' on entity 'Opportunity'" in (
            r.json()[0]["message"])
        r = s.get(f"{sb.url}{V}/queryAll", params={"q": f"SELECT {', '.join(names)} "
                                                        "FROM Opportunity"})
        assert r.status_code == 200 and r.json()["totalSize"] == 8
    with pytest.raises(SoqlError):
        parse_soql("SELECT Contract_Term_Months__c FROM Opportunity",
                   literal_kinds(org_fields(custom_fields=False)))
    assert parse_soql("SELECT Contract_Term_Months__c FROM Opportunity").fields == (
        "Contract_Term_Months__c",)


def test_the_command_lines_serve_an_org_without_custom_fields() -> None:
    flag = ["--salesforce-without-custom-fields"]
    assert service_options(build_parser().parse_args(flag))["salesforce_custom_fields"] is False
    assert service_options(build_parser().parse_args([]))["salesforce_custom_fields"] is True
    args = helpdesk_etl_parser().parse_args(["sandbox", *flag])
    assert service_options(args)["salesforce_custom_fields"] is False
