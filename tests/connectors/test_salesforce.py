"""The Salesforce dlt source against the sandbox, over real HTTP, into a temporary DuckDB."""

from __future__ import annotations

import itertools
import logging
import traceback
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import dlt
import pytest

from connectors.http import (
    ApiAuthError,
    ApiResponseError,
    ApiRetriesExhaustedError,
    RetryPolicy,
)
from connectors.salesforce import DEFAULT_OPPORTUNITY_FIELDS, salesforce_source
from connectors.salesforce.helpers import (
    SObjectTable,
    field_sources,
    field_types,
    soql_datetime,
    window_soql,
)
from connectors.salesforce.settings import OPPORTUNITY_REQUIRED_FIELDS
from sandbox import Sandbox
from sandbox.salesforce_api import FIELDS as SANDBOX_FIELDS
from sandbox.salesforce_api import STAGE_NAMES, salesforce_id
from sandbox.world import World
from tests.connectors.landing import columns, counts, quarantined, query
from tests.connectors.landing import new_pipeline as new_crm_pipeline
from tests.connectors.test_hubspot import T0, api_error_in, crm_world

DATASET = "raw_salesforce"
BEGINNING = datetime(2000, 1, 1, tzinfo=UTC)
QUICK_RETRY = RetryPolicy(max_attempts=4, backoff_seconds=0.01, max_backoff_seconds=0.05)
QUERY_ALL = "/services/data/v60.0/queryAll"
DESCRIBE = "/services/data/v60.0/sobjects/{sobject}/describe"


@pytest.fixture(scope="module")
def world() -> World:
    return crm_world()


@pytest.fixture
def sandbox(world: World):
    """The sandbox serving `world` in batches of 5 records (so every query pages)."""
    with Sandbox(world, port=0, salesforce_batch_size=5) as sb:
        yield sb


def source_for(sb: Sandbox, **overrides: Any) -> Any:
    """A Salesforce source pointed at `sb` (whole history, quick retries)."""
    arguments: dict[str, Any] = {
        "instance_url": sb.url,
        "access_token": sb.credentials["salesforce_access_token"],
        "start": BEGINNING,
        "retry": QUICK_RETRY,
    }
    arguments.update(overrides)
    return salesforce_source(**arguments)


def new_pipeline(tmp_path: Path) -> dlt.Pipeline:
    """A dlt pipeline into a DuckDB file under `tmp_path`, landing in `raw_salesforce`."""
    return new_crm_pipeline(tmp_path, DATASET)


def whole_world(world: World) -> dict[str, int]:
    return {"accounts": len(world.crm_companies), "opportunities": len(world.deals)}


# --- whole loads ----------------------------------------------------------------------------


def test_both_queries_page_and_land_the_whole_world_deleted_included(sandbox, world, tmp_path):
    pipeline = new_pipeline(tmp_path)
    pipeline.run(source_for(sandbox))

    assert counts(pipeline) == whole_world(world)
    first_pages = [r for r in sandbox.requests if r.path == QUERY_ALL]
    assert sorted(r.query["q"].split(" FROM ")[1].split()[0] for r in first_pages) == [
        "Account",
        "Opportunity",
    ]
    more_pages = [r for r in sandbox.requests if r.path.startswith("/services/data/v60.0/query/")]
    assert len(more_pages) >= (len(world.crm_companies) + len(world.deals)) // 5 - 2
    deleted = query(pipeline, "SELECT count(*) FROM accounts WHERE is_deleted")
    assert deleted == [(sum(c.archived for c in world.crm_companies),)] != [(0,)]
    deleted = query(pipeline, "SELECT count(*) FROM opportunities WHERE is_deleted")
    assert deleted == [(sum(d.archived for d in world.deals),)] != [(0,)]


def test_values_land_typed_and_match_the_world(sandbox, world, tmp_path):
    pipeline = new_pipeline(tmp_path)
    pipeline.run(source_for(sandbox))

    opportunity_columns = columns(pipeline, "opportunities")
    assert opportunity_columns["amount"].startswith("DECIMAL")
    assert opportunity_columns["close_date"] == "DATE"
    assert opportunity_columns["is_won"] == opportunity_columns["is_deleted"] == "BOOLEAN"
    assert opportunity_columns["contract_term_months_c"] == "BIGINT"
    assert opportunity_columns["system_modstamp"] == "TIMESTAMP WITH TIME ZONE"
    landed = {
        row[0]: row[1:]
        for row in query(
            pipeline,
            "SELECT id, account_id, amount, close_date, contract_term_months_c, is_won, "
            "stage_name, is_deleted, system_modstamp FROM opportunities",
        )
    }
    expected = {
        salesforce_id("Opportunity", d.id): (
            None if d.company_id is None else salesforce_id("Account", d.company_id),
            None if d.amount is None else Decimal(str(d.amount)),
            d.close_date,
            d.term_months,
            d.stage == "closedwon",
            STAGE_NAMES[d.stage],
            d.archived,
            d.updated_at,
        )
        for d in world.deals
    }
    assert landed == expected
    accounts = {
        row[0]: row[1:]
        for row in query(pipeline, "SELECT id, name, website, industry, is_deleted FROM accounts")
    }
    assert accounts == {
        salesforce_id("Account", c.id): (c.name, f"www.{c.domain}", c.industry, c.archived)
        for c in world.crm_companies
    }


def test_batch_size_asks_for_smaller_pages(world, tmp_path):
    big = World(crm_companies=crm_world(companies=450, deals=0).crm_companies)
    with Sandbox(big, port=0) as sb:
        pipeline = new_pipeline(tmp_path)
        pipeline.run(source_for(sb, batch_size=200).with_resources("accounts"))
        more_pages = [r for r in sb.requests if "/query/" in r.path]
    assert len(more_pages) == 2
    assert counts(pipeline) == {"accounts": 450}


def test_both_tables_exist_when_the_org_is_empty(tmp_path):
    pipeline = new_pipeline(tmp_path)
    with Sandbox(World(), port=0) as sb:
        pipeline.run(source_for(sb))
    assert counts(pipeline) == {"accounts": 0, "opportunities": 0}
    assert "account_id" in columns(pipeline, "opportunities")


def test_field_lists_are_settings(sandbox, tmp_path):
    pipeline = new_pipeline(tmp_path)
    source = source_for(
        sandbox, opportunity_fields={"Amount": "double", "IsClosed": "bool"}, account_fields=[]
    )
    pipeline.run(source)
    assert columns(pipeline, "opportunities")["amount"] == "DOUBLE"
    assert set(columns(pipeline, "opportunities")) == {
        "id", "account_id", "is_deleted", "system_modstamp", "created_date", "amount", "is_closed"
    }
    assert set(columns(pipeline, "accounts")) == {
        "id", "is_deleted", "system_modstamp", "created_date"
    }


def test_staging_fields_are_settings_landing_under_their_canonical_columns(
    sandbox, world, tmp_path
):
    # The sandbox serves only its own fields: the segment from `Name` proves the rename.
    pipeline = new_pipeline(tmp_path)
    pipeline.run(source_for(sandbox, segment_field="Name"))
    accounts = query(pipeline, "SELECT name, industry FROM accounts")
    assert accounts and all(name == industry for name, industry in accounts)
    soql = [r.query["q"] for r in sandbox.requests if r.path == QUERY_ALL]
    account_soql = [q for q in soql if "FROM Account" in q]
    assert account_soql and all(
        "Industry" not in q and q.count("Name") == 1 for q in account_soql
    )


def test_an_org_without_the_term_field_lands_every_opportunity_with_an_empty_term(
    world, tmp_path, caplog
):
    # Most orgs never add Contract_Term_Months__c (or hide it from the integration user):
    # Salesforce then refuses any SOQL naming it (400 INVALID_FIELD).
    pipeline = new_pipeline(tmp_path)
    with Sandbox(world, port=0, salesforce_batch_size=5, salesforce_custom_fields=False) as sb:
        with caplog.at_level(logging.WARNING, logger="connectors.salesforce"):
            pipeline.run(source_for(sb))
        requests_made = list(sb.requests)

    assert counts(pipeline) == whole_world(world)
    assert columns(pipeline, "opportunities")["contract_term_months_c"] == "BIGINT"
    terms = query(pipeline, "SELECT count(*) FROM opportunities WHERE contract_term_months_c "
                  "IS NOT NULL")
    assert terms == [(0,)]
    warnings = [r.getMessage() for r in caplog.records if "Contract_Term_Months__c" in
                r.getMessage()]
    assert warnings == [
        "salesforce: Opportunity has no field Contract_Term_Months__c the integration user "
        "can read (SALESFORCE_CONTRACT_TERM_FIELD): contract_term_months_c lands empty; "
        "staging takes 12 months"
    ]
    describes = sorted(r.path for r in requests_made if r.path.endswith("/describe"))
    assert describes == [DESCRIBE.format(sobject=o) for o in ("Account", "Opportunity")]
    soql = [r.query["q"] for r in requests_made if r.path == QUERY_ALL]
    assert soql and not any("Contract_Term_Months__c" in q for q in soql)


def test_an_asked_for_field_the_org_lacks_lands_empty_with_a_warning(
    sandbox, world, tmp_path, caplog
):
    source = source_for(sandbox, opportunity_fields=[*DEFAULT_OPPORTUNITY_FIELDS, "Nope__c"])
    pipeline = new_pipeline(tmp_path)
    with caplog.at_level(logging.WARNING, logger="connectors.salesforce"):
        pipeline.run(source.with_resources("opportunities"))
    landed = query(pipeline, "SELECT count(*), count(nope_c) FROM opportunities")
    assert landed == [(len(world.deals), 0)]
    assert "Opportunity has no field Nope__c the integration user can read " \
        "(opportunity_fields): nope_c lands empty" in caplog.text


def test_field_names_match_the_orgs_case_insensitively(sandbox, world, tmp_path):
    pipeline = new_pipeline(tmp_path)
    pipeline.run(source_for(
        sandbox, segment_field="INDUSTRY", contract_term_field="contract_term_months__C",
        account_fields=["name", "Website", "Industry"],
    ))
    assert query(pipeline, "SELECT count(*) FROM opportunities WHERE contract_term_months_c "
                 "IS NOT NULL") == [(sum(d.term_months is not None for d in world.deals),)]
    assert sorted(query(pipeline, "SELECT name, industry FROM accounts"), key=str) == sorted(
        ((c.name, c.industry) for c in world.crm_companies), key=str
    )
    soql = " ".join(r.query["q"] for r in sandbox.requests if r.path == QUERY_ALL)
    assert "Contract_Term_Months__c" in soql and "Industry" in soql and " name" not in soql


def test_a_custom_term_field_lands_in_contract_term_months_c_typed():
    typed = field_types(DEFAULT_OPPORTUNITY_FIELDS, OPPORTUNITY_REQUIRED_FIELDS)
    table = SObjectTable(
        "v60.0", "Opportunity", typed,
        field_sources(typed, {"Contract_Term_Months__c": "Term__c"}),
    )
    assert "Term__c" in table.queried and "Contract_Term_Months__c" not in table.queried
    row = table.row({
        "Id": "006A", "SystemModstamp": "2024-03-01T00:00:00.000+0000", "Term__c": 24.0,
    })
    assert row["contract_term_months_c"] == 24 and "term_c" not in row


# --- windows ----------------------------------------------------------------------------------


def test_a_window_lands_only_what_changed_inside_it(sandbox, world, tmp_path):
    low, high = T0 + timedelta(days=1), T0 + timedelta(days=3)
    pipeline = new_pipeline(tmp_path)
    pipeline.run(source_for(sandbox, start=low, end=high))

    for table, sobject, records in (
        ("accounts", "Account", world.crm_companies),
        ("opportunities", "Opportunity", world.deals),
    ):
        # SystemModstamp is the last modification (an archived company's later archive
        # time is HubSpot's, not Salesforce's).
        expected = {
            salesforce_id(sobject, r.id)
            for r in records
            if low <= (r.updated_at or r.created_at) < high
        }
        assert 0 < len(expected) < len(records), table
        landed = {row[0] for row in query(pipeline, f"SELECT id FROM {table}")}  # noqa: S608
        assert landed == expected, table
    soql = [r.query["q"] for r in sandbox.requests if r.path == QUERY_ALL]
    assert all(
        "WHERE SystemModstamp >= 2024-03-02T00:00:00Z AND SystemModstamp < 2024-03-04T00:00:00Z"
        in q
        for q in soql
    ), soql


def test_consecutive_windows_add_up_and_never_overwrite_newer_rows(sandbox, world, tmp_path):
    edges = [BEGINNING, *(T0 + timedelta(days=k) for k in range(0, 8, 2)), None]
    pipeline = new_pipeline(tmp_path)
    pipeline.run(source_for(sandbox, start=edges[-2]))  # the newest (open) window first
    newest = query(pipeline, "SELECT * FROM opportunities ORDER BY id")
    assert newest and len(newest) < len(world.deals)
    for start, end in itertools.pairwise(edges[:-1]):
        pipeline.run(source_for(sandbox, start=start, end=end))
    assert counts(pipeline) == whole_world(world)
    newest_ids = {row[0] for row in newest}
    after = query(pipeline, "SELECT * FROM opportunities ORDER BY id")
    assert [row for row in after if row[0] in newest_ids] == newest


def test_soql_literals_are_utc_whole_seconds_covering_the_window():
    start = datetime(2024, 3, 5, 1, 2, 3, 500_000, tzinfo=UTC)
    assert soql_datetime(start) == "2024-03-05T01:02:03Z"
    assert soql_datetime(start, round_up=True) == "2024-03-05T01:02:04Z"
    assert soql_datetime(datetime(2024, 3, 5, 1, 2, 3, tzinfo=UTC), round_up=True) == (
        "2024-03-05T01:02:03Z"
    )
    berlin_summer = datetime(2024, 3, 5, 4, 0, tzinfo=timezone(timedelta(hours=2)))
    assert soql_datetime(berlin_summer) == "2024-03-05T02:00:00Z"
    assert window_soql("Account", ["Id", "Name"], start, None) == (
        "SELECT Id, Name FROM Account WHERE SystemModstamp >= 2024-03-05T01:02:03Z "
        "ORDER BY SystemModstamp, Id"
    )


# --- failures ---------------------------------------------------------------------------------


def test_503_and_request_limit_exceeded_are_retried(sandbox, world, tmp_path, caplog):
    sandbox.inject_fault(path_prefix=QUERY_ALL, status=503, times=1)
    sandbox.inject_fault(path_prefix="/services/data/v60.0/query/", status=403, times=2)
    pipeline = new_pipeline(tmp_path)
    with caplog.at_level(logging.WARNING, logger="connectors.http"):
        pipeline.run(source_for(sandbox))

    assert counts(pipeline) == whole_world(world)
    messages = [r.getMessage() for r in caplog.records]
    assert any("HTTP 503" in m for m in messages), messages
    assert sum("HTTP 403" in m and "REQUEST_LIMIT_EXCEEDED" in m for m in messages) == 2


def test_the_orgs_request_limit_fails_clearly_after_bounded_retries(world, tmp_path):
    with Sandbox(world, port=0, salesforce_batch_size=5, salesforce_daily_request_limit=1) as sb:
        retry = RetryPolicy(max_attempts=3, backoff_seconds=0.01)
        with pytest.raises(Exception) as failure:
            new_pipeline(tmp_path).run(source_for(sb, retry=retry).with_resources("accounts"))
        attempts = len(sb.requests)
    error = api_error_in(failure.value)
    assert isinstance(error, ApiRetriesExhaustedError)
    assert "REQUEST_LIMIT_EXCEEDED" in str(error) and "3 attempts" in str(error)
    assert attempts == 1 + 3  # the one allowed request (the describe), then 3 tries at the query


def test_other_403s_are_authorisation_errors(sandbox, tmp_path):
    sandbox.inject_fault(
        path_prefix=QUERY_ALL,
        status=403,
        body='[{"message": "The REST API is not enabled for this Organization.", '
        '"errorCode": "API_DISABLED_FOR_ORG"}]',
    )
    with pytest.raises(Exception) as failure:
        new_pipeline(tmp_path).run(source_for(sandbox).with_resources("accounts"))
    error = api_error_in(failure.value)
    assert isinstance(error, ApiAuthError) and "API_DISABLED_FOR_ORG" in str(error)


def test_401_is_clear_and_never_shows_the_token(sandbox, tmp_path):
    token = "00Dwrong!AQ4AQ.5b1d9e77c2"  # noqa: S105 - a fake credential
    with pytest.raises(Exception) as failure:
        new_pipeline(tmp_path).run(source_for(sandbox, access_token=token))
    error = api_error_in(failure.value)
    assert isinstance(error, ApiAuthError) and error.status == 401
    assert "SALESFORCE_ACCESS_TOKEN" in str(error) and "INVALID_SESSION_ID" in str(error)
    everything = "".join(traceback.format_exception(failure.value))
    assert token not in everything and "Authorization" not in everything


def test_a_required_field_the_org_does_not_show_is_a_clear_error():
    typed = field_types(DEFAULT_OPPORTUNITY_FIELDS, OPPORTUNITY_REQUIRED_FIELDS)
    table = SObjectTable("v60.0", "Opportunity", typed, field_sources(typed, {}))
    hidden = [f for f in SANDBOX_FIELDS["Opportunity"] if f != "AccountId"]
    with pytest.raises(ApiResponseError) as failure:
        table.in_org(hidden)
    message = str(failure.value)
    assert "Opportunity" in message and "AccountId" in message and "field-level security" in message
    assert failure.value.endpoint == DESCRIBE.format(sobject="Opportunity")


def test_a_describe_without_a_field_list_is_a_clear_error(sandbox, tmp_path):
    sandbox.inject_fault(DESCRIBE.format(sobject="Account"), status=200, body='{"name": "x"}')
    with pytest.raises(Exception) as failure:
        new_pipeline(tmp_path).run(source_for(sandbox).with_resources("accounts"))
    error = api_error_in(failure.value)
    assert isinstance(error, ApiResponseError) and "'fields'" in str(error)
    assert error.endpoint == DESCRIBE.format(sobject="Account")


def test_a_value_that_does_not_fit_is_quarantined_naming_record_and_field(sandbox, tmp_path):
    good = (
        '{"Id": "006000000000002AAA", "AccountId": null, "IsDeleted": false, '
        '"SystemModstamp": "2024-03-02T00:00:00.000+0000", '
        '"CreatedDate": "2024-03-01T00:00:00.000+0000", "Contract_Term_Months__c": 12}'
    )
    sandbox.inject_fault(
        path_prefix=QUERY_ALL,
        status=200,
        body='{"totalSize": 2, "done": true, "records": [{"Id": "006000000000001AAA", '
        '"AccountId": null, "IsDeleted": false, "SystemModstamp": "2024-03-02T00:00:00.000+0000", '
        '"CreatedDate": "2024-03-01T00:00:00.000+0000", "Contract_Term_Months__c": 12.5}, '
        + good + "]}",
    )
    pipeline = new_pipeline(tmp_path)
    pipeline.run(source_for(sandbox).with_resources("opportunities"))
    assert query(pipeline, "SELECT id FROM opportunities") == [("006000000000002AAA",)]
    [row] = quarantined(pipeline)
    assert row["record_id"] == "006000000000001AAA" and row["table_name"] == "opportunities"
    assert row["column_name"] == "contract_term_months_c"
    assert "Contract_Term_Months__c" in row["reason"] and "12.5" in row["reason"]


# --- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://acme.my.salesforce.com", "http://192.168.1.5", ""])
def test_plain_http_is_refused_except_for_loopback(url):
    with pytest.raises(ValueError, match="SALESFORCE_INSTANCE_URL"):
        salesforce_source(url, "tok-x", start=BEGINNING)


def test_bad_arguments_are_refused():
    ok = "https://acme.my.salesforce.com"
    assert set(salesforce_source(ok, "tok-x", start=BEGINNING).resources) == {
        "accounts",
        "opportunities",
    }
    assert salesforce_source("http://[::1]:8080", "tok-x", start=BEGINNING) is not None
    with pytest.raises(ValueError, match="SALESFORCE_ACCESS_TOKEN"):
        salesforce_source(ok, "", start=BEGINNING)
    with pytest.raises(ValueError, match="api_version"):
        salesforce_source(ok, "tok-x", start=BEGINNING, api_version="60")
    with pytest.raises(ValueError, match="timezone-aware"):
        salesforce_source(ok, "tok-x", start=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="after start"):
        salesforce_source(ok, "tok-x", start=BEGINNING, end=BEGINNING)
    with pytest.raises(ValueError, match="batch_size"):
        salesforce_source(ok, "tok-x", start=BEGINNING, batch_size=50)
    with pytest.raises(ValueError, match="plain field API name"):
        salesforce_source(ok, "tok-x", start=BEGINNING, account_fields=["Name FROM User --"])
    with pytest.raises(ValueError, match="same column"):
        salesforce_source(ok, "tok-x", start=BEGINNING, account_fields=["IsDeleted", "Is_Deleted"])
    with pytest.raises(ValueError, match="plain field API name"):
        salesforce_source(ok, "tok-x", start=BEGINNING, segment_field="Industry, Name")
    with pytest.raises(ValueError, match="plain field API name"):
        salesforce_source(ok, "tok-x", start=BEGINNING, contract_term_field="Term__c--")
