"""The HubSpot dlt source against the sandbox, over real HTTP, into a temporary DuckDB."""

from __future__ import annotations

import itertools
import logging
import traceback
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from connectors.http import (
    ApiAuthError,
    ApiClient,
    BearerAuth,
    RetryPolicy,
)
from connectors.hubspot import DEFAULT_DEAL_PROPERTIES, hubspot_source, settings
from connectors.hubspot.helpers import (
    ObjectTable,
    build_client,
    object_id,
    primary_company_id,
    property_sources,
    property_types,
)
from sandbox import Sandbox
from sandbox.world import (
    DEAL_STAGES,
    CrmCompany,
    CrmContact,
    Deal,
    SurveyResponse,
    World,
    survey_response_group,
)
from tests.connectors.landing import api_error_in, columns, counts, new_pipeline, quarantined, query

DATASET = "raw_hubspot"
BEGINNING = datetime(2000, 1, 1, tzinfo=UTC)
#: The test world's changes happen from T0 on, a few hours apart.
T0 = datetime(2024, 3, 1, tzinfo=UTC)
QUICK_RETRY = RetryPolicy(max_attempts=4, backoff_seconds=0.01, max_backoff_seconds=0.05)


def crm_world(companies: int = 23, deals: int = 41, surveys: int = 19) -> World:
    """Companies, deals and survey responses with every shape the connector meets: archived
    ones (a deal of an archived company has no association), deals without a company, empty
    properties, answers edited after they were submitted."""
    industries = ("Software", "Retail", None)
    company_list = [
        CrmCompany(
            id=1000 + k,
            name=f"Company {k}",
            domain=f"c{k}.example",
            industry=industries[k % 3],
            created_at=T0 - timedelta(days=400),
            updated_at=T0 + timedelta(hours=7 * k),
            archived=k % 10 == 9,
            archived_at=T0 + timedelta(hours=7 * k + 100) if k % 10 == 9 else None,
        )
        for k in range(companies)
    ]
    deal_list = [
        Deal(
            id=5000 + k,
            company_id=None if k % 13 == 12 else company_list[k % companies].id,
            name=f"Deal {k}",
            amount=None if k % 9 == 8 else 1200.0 + k + 0.25 * (k % 2),
            close_date=date(2024, 1, 1) + timedelta(days=k),
            stage=DEAL_STAGES[k % len(DEAL_STAGES)],
            term_months=(12, 1, None, 24)[k % 4],
            mrr=99.5 if k % 5 == 0 else None,
            created_at=T0 - timedelta(days=30),
            updated_at=T0 + timedelta(hours=5 * k),
            archived=k % 11 == 10,
        )
        for k in range(deals)
    ]
    kinds = (("NPS", 10), ("CSAT", 2), ("CES", 7))
    survey_list = [
        SurveyResponse(
            id=8000 + k,
            survey_id=1 + k % 3,
            survey_name=f"Survey {1 + k % 3}",
            survey_type=kinds[k % 3][0],
            value=k % (kinds[k % 3][1] + 1) + (k % 3 == 2),  # CES answers from 1
            submitted_at=T0 + timedelta(hours=6 * k),
            contact_id=7000 + k,
            content=f"comment {k}" if k % 4 == 0 else None,
            updated_at=T0 + timedelta(hours=6 * k + (30 if k % 5 == 4 else 0)),
            archived=k % 8 == 7,
            archived_at=T0 + timedelta(hours=6 * k + 50) if k % 8 == 7 else None,
        )
        for k in range(surveys)
    ]
    # The responding contacts: most at a company, some without one (k % 6 == 0), some that
    # HubSpot does not find (k % 7 == 3: the batch read answers 207 for them).
    contact_list = [
        CrmContact(7000 + k, company_list[k % companies].id if k % 6 else None)
        for k in range(surveys) if k % 7 != 3
    ]
    return World(crm_companies=company_list, deals=deal_list, survey_responses=survey_list,
                 crm_contacts=contact_list)


def contact_company(world: World, response: SurveyResponse) -> int | None:
    """The company a survey response lands with: its contact's, if HubSpot finds it."""
    return next((c.company_id for c in world.crm_contacts if c.id == response.contact_id), None)


def every_table(world: World) -> dict[str, int]:
    """Rows per landed table when the whole world is loaded."""
    return {"companies": len(world.crm_companies), "deals": len(world.deals),
            "feedback_submissions": len(world.survey_responses)}


@pytest.fixture(scope="module")
def world() -> World:
    return crm_world()


@pytest.fixture
def sandbox(world: World):
    """The sandbox serving `world` (rate limits as configured by default)."""
    with Sandbox(world, port=0) as sb:
        yield sb


def source_for(sb: Sandbox, **overrides: Any) -> Any:
    """A HubSpot source pointed at `sb` (whole history, quick retries)."""
    arguments: dict[str, Any] = {
        "access_token": sb.credentials["hubspot_access_token"],
        "base_url": sb.url,
        "start": BEGINNING,
        "retry": QUICK_RETRY,
    }
    arguments.update(overrides)
    return hubspot_source(**arguments)



def changed_at(record: CrmCompany | Deal | SurveyResponse) -> datetime:
    """When a world record last changed, as the connector's `changed_at` sees it."""
    updated = record.updated_at or record.created_at
    archived_at = getattr(record, "archived_at", None) if record.archived else None
    return max(updated, archived_at or updated)


# --- whole loads ----------------------------------------------------------------------------


def test_both_endpoints_page_and_land_the_whole_world(sandbox, world, tmp_path):
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox, page_size=4))

    assert counts(pipeline) == every_table(world)
    pages = Counter(
        (r.path, r.query.get("archived")) for r in sandbox.requests if r.path.startswith("/crm/")
    )
    for path in ("/crm/v3/objects/companies", "/crm/v3/objects/deals",
                 "/crm/v3/objects/feedback_submissions"):
        assert pages[(path, "false")] > 1, f"{path} was not paged"
        assert pages[(path, "true")] >= 1, f"{path}: archived objects were not asked for"
    deal_requests = [r for r in sandbox.requests if r.path == "/crm/v3/objects/deals"]
    assert all(r.query.get("associations") == "companies" for r in deal_requests)
    assert all("hs_mrr" in r.query.get("properties", "") for r in deal_requests)


def test_values_land_typed_and_match_the_world(sandbox, world, tmp_path):
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox))

    deal_columns = columns(pipeline, "deals")
    assert deal_columns["id"] == "BIGINT" and deal_columns["company_id"] == "BIGINT"
    assert deal_columns["amount"].startswith("DECIMAL")
    assert deal_columns["hs_mrr"].startswith("DECIMAL")
    assert deal_columns["closedate"] == "TIMESTAMP WITH TIME ZONE"
    assert deal_columns["contract_term_months"] == "BIGINT"
    assert deal_columns["archived"] == "BOOLEAN"
    assert set(columns(pipeline, "companies")) >= {"name", "domain", "industry", "archived"}

    live_companies = {c.id for c in world.crm_companies if not c.archived}
    landed = {
        row[0]: row[1:]
        for row in query(
            pipeline,
            "SELECT id, company_id, amount, hs_mrr, CAST(closedate AS DATE), "
            "contract_term_months, dealstage, archived FROM deals",
        )
    }
    expected = {
        d.id: (
            d.company_id if d.company_id in live_companies else None,
            None if d.amount is None else Decimal(str(d.amount)),
            None if d.mrr is None else Decimal(str(d.mrr)),
            d.close_date,
            d.term_months,
            d.stage,
            d.archived,
        )
        for d in world.deals
    }
    assert landed == expected
    companies = {
        row[0]: row[1:]
        for row in query(pipeline, "SELECT id, name, domain, industry, archived FROM companies")
    }
    assert companies == {
        c.id: (c.name, c.domain, c.industry, c.archived) for c in world.crm_companies
    }
    archived_at = query(pipeline, "SELECT count(*) FROM companies WHERE archived_at IS NOT NULL")
    assert archived_at == [(sum(c.archived for c in world.crm_companies),)]


def test_survey_responses_land_typed_without_their_free_text(sandbox, world, tmp_path):
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox, page_size=5))

    landed_columns = columns(pipeline, "feedback_submissions")
    assert landed_columns["hs_value"] == "DOUBLE"
    assert landed_columns["hs_submission_timestamp"] == "TIMESTAMP WITH TIME ZONE"
    assert "hs_content" not in landed_columns
    landed = {
        row[0]: row[1:]
        for row in query(
            pipeline,
            "SELECT id, hs_survey_id, hs_survey_type, hs_value, hs_response_group, "
            "hs_submission_timestamp, hs_contact_id, archived, company_id "
            "FROM feedback_submissions",
        )
    }
    assert landed == {
        r.id: (str(r.survey_id), r.survey_type, r.value,
               survey_response_group(r.survey_type, r.value), r.submitted_at,
               str(r.contact_id), r.archived, contact_company(world, r))
        for r in world.survey_responses
    }
    assert {value for *_, value in landed.values()} >= {None, 1001}
    # One batch read per page of responses, each contact asked for once.
    reads = [r for r in sandbox.requests if r.path.endswith("/contacts/batch/read")]
    pages = [r for r in sandbox.requests if r.path == "/crm/v3/objects/feedback_submissions"]
    assert 0 < len(reads) <= len(pages)
    assert not any("comment" in str(row) for row in query(pipeline, "SELECT * FROM "
                                                           "feedback_submissions"))


def test_an_nps_answer_off_its_scale_is_quarantined(sandbox, tmp_path):
    record = ('{{"id": "{id}", "properties": {{"hs_survey_type": "NPS", "hs_value": "{value}", '
              '"hs_content": "private words"}}, "createdAt": "2024-03-01T00:00:00Z", '
              '"updatedAt": "2024-03-02T00:00:00Z", "archived": false}}')
    sandbox.inject_fault(
        path_prefix="/crm/v3/objects/feedback_submissions",
        status=200,
        body='{"results": [' + record.format(id=91, value=11) + ", "
        + record.format(id=92, value=7) + "]}",
    )
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox).with_resources("feedback_submissions"))
    assert query(pipeline, "SELECT id, hs_value FROM feedback_submissions WHERE id IN (91, 92)") \
        == [(92, 7.0)]
    [row] = quarantined(pipeline)
    assert (row["table_name"], row["record_id"], row["column_name"]) == (
        "feedback_submissions", "91", "hs_value")
    assert "outside the NPS scale 0-10" in row["reason"]
    assert "private words" not in str(row)


def test_a_token_without_the_survey_scope_still_lands_companies_and_deals(
    world, tmp_path, caplog
):
    """HubSpot answers 403 MISSING_SCOPES for feedback submissions: a warning names the
    scope, the table lands empty, the other tables land whole."""
    with Sandbox(world, port=0, hubspot_missing_scopes=["feedback_submissions"]) as sb:
        pipeline = new_pipeline(tmp_path, DATASET)
        with caplog.at_level(logging.WARNING, logger="connectors.hubspot"):
            pipeline.run(source_for(sb))
    assert counts(pipeline) == {**every_table(world), "feedback_submissions": 0}
    warnings = [r.getMessage() for r in caplog.records if r.name == "connectors.hubspot"]
    assert len(warnings) == 1 and "crm.objects.feedback_submissions.read" in warnings[0]


def test_without_the_contacts_scope_responses_land_without_a_company(world, tmp_path, caplog):
    with Sandbox(world, port=0, hubspot_missing_scopes=["contacts"]) as sb:
        pipeline = new_pipeline(tmp_path, DATASET)
        with caplog.at_level(logging.WARNING, logger="connectors.hubspot"):
            pipeline.run(source_for(sb, page_size=5))
    assert counts(pipeline) == every_table(world)
    assert query(pipeline, "SELECT count(company_id) FROM feedback_submissions") == [(0,)]
    warnings = [r.getMessage() for r in caplog.records if r.name.startswith("connectors.hubspot")]
    assert len(warnings) == 1 and "crm.objects.contacts.read" in warnings[0]


def test_a_403_on_companies_still_stops_the_run(world, tmp_path):
    with Sandbox(world, port=0, hubspot_missing_scopes=["companies"]) as sb:
        with pytest.raises(Exception) as failure:
            new_pipeline(tmp_path, DATASET).run(source_for(sb))
    error = api_error_in(failure.value)
    assert isinstance(error, ApiAuthError) and error.status == 403
    assert error.error_code == "MISSING_SCOPES" and "/crm/v3/objects/companies" in str(error)


@pytest.mark.parametrize("value, expected", [
    ("7000000001", "7000000001"), ("007", "7"), (12, "12"),  # one spelling, as HubSpot's
    ("\u00b2", None), ("12a", None), ("", None), ("-1", None), (True, None), (None, None),
])
def test_contact_ids_have_one_spelling_and_only_ascii_digits(value, expected):
    """A superscript digit passes `str.isdigit` but not `int`: it must not reach the batch
    read (it failed the whole run)."""
    assert object_id(value) == expected


@pytest.mark.parametrize("results, expected", [
    # HubSpot lists the primary company twice (labelled and unlabelled): one company.
    ([{"id": "7", "type": "deal_to_company"}, {"id": "7", "type": "deal_to_company_unlabeled"}],
     "7"),
    # Another company associated without the label, listed first: the primary still wins.
    ([{"id": "8", "type": "deal_to_company_unlabeled"}, {"id": "7", "type": "deal_to_company"}],
     "7"),
    ([{"id": "8", "type": "deal_to_company_unlabeled"}], "8"),  # no primary: the first
    ([], None),
])
def test_the_primary_company_is_the_labelled_association(results, expected):
    deal = {"id": "1", "associations": {"companies": {"results": results}}}
    assert primary_company_id(deal) == expected


def test_both_tables_exist_when_the_crm_is_empty(tmp_path):
    pipeline = new_pipeline(tmp_path, DATASET)
    with Sandbox(World(), port=0) as sb:
        pipeline.run(source_for(sb))
    assert counts(pipeline) == {"companies": 0, "deals": 0, "feedback_submissions": 0}
    assert "company_id" in columns(pipeline, "deals")


def test_property_lists_and_types_are_settings(sandbox, world, tmp_path):
    pipeline = new_pipeline(tmp_path, DATASET)
    source = source_for(
        sandbox,
        deal_properties={"amount": "double", "hs_is_closed_won": "bool"},
        company_properties=["name"],
    )
    pipeline.run(source)
    assert columns(pipeline, "deals")["amount"] == "DOUBLE"
    assert columns(pipeline, "deals")["hs_is_closed_won"] == "BOOLEAN"
    assert "closedate" not in columns(pipeline, "deals")
    assert "industry" not in columns(pipeline, "companies")
    won = query(pipeline, "SELECT count(*) FROM deals WHERE hs_is_closed_won")
    assert won == [(sum(d.stage == "closedwon" for d in world.deals),)]


def test_staging_properties_are_settings_landing_under_their_canonical_columns(
    sandbox, world, tmp_path
):
    # The sandbox serves only its own properties, so the configured names are ones it has:
    # the segment from `domain`, the MRR from `amount`; each lands in the default's column.
    pipeline = new_pipeline(tmp_path, DATASET)
    source = source_for(
        sandbox,
        segment_property="domain",
        mrr_property="amount",
        won_stages=["closedwon", "closedlost"],
    )
    pipeline.run(source)

    companies = query(pipeline, "SELECT id, industry, domain FROM companies")
    assert companies and all(industry == domain for _, industry, domain in companies)
    deal_columns = columns(pipeline, "deals")
    assert deal_columns["hs_mrr"].startswith("DECIMAL") and deal_columns["is_won"] == "BOOLEAN"
    landed = dict(query(pipeline, "SELECT id, hs_mrr FROM deals"))
    assert landed == {
        d.id: None if d.amount is None else Decimal(str(d.amount)) for d in world.deals
    }
    won = {row[0] for row in query(pipeline, "SELECT id FROM deals WHERE is_won")}
    assert won == {d.id for d in world.deals if d.stage in ("closedwon", "closedlost")}
    asked = [r.query.get("properties", "").split(",") for r in sandbox.requests]
    company_asks = [
        a for r, a in zip(sandbox.requests, asked, strict=True)
        if r.path == "/crm/v3/objects/companies"
    ]
    assert company_asks
    assert all("industry" not in a and a.count("domain") == 1 for a in company_asks)


def test_is_won_defaults_to_the_closedwon_stage(sandbox, world, tmp_path):
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox, deal_properties=["dealname"]))
    won = {row[0] for row in query(pipeline, "SELECT id FROM deals WHERE is_won")}
    assert won == {d.id for d in world.deals if d.stage == "closedwon"}
    assert "dealstage" not in columns(pipeline, "deals")  # asked for is_won, not landed


def test_a_custom_term_property_lands_in_contract_term_months_typed():
    deal_columns = {**settings.OBJECT_COLUMNS, **settings.DEAL_COLUMNS}
    typed = property_types(DEFAULT_DEAL_PROPERTIES, deal_columns)
    table = ObjectTable(
        settings.DEALS_PATH, "deal", deal_columns, typed,
        property_sources(typed, {"contract_term_months": "term_length"}), ("won_9",),
    )
    assert "term_length" in table.requested and "contract_term_months" not in table.requested
    row = table.row({
        "id": "7", "updatedAt": "2024-03-01T00:00:00Z",
        "properties": {"term_length": "24", "contract_term_months": "6", "dealstage": "won_9"},
    })
    assert row["contract_term_months"] == 24 and row["is_won"] is True
    assert "term_length" not in row


# --- windows ----------------------------------------------------------------------------------


def test_a_window_lands_only_what_changed_inside_it(sandbox, world, tmp_path):
    low, high = T0 + timedelta(days=1), T0 + timedelta(days=3)
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox, start=low, end=high, page_size=7))

    for table, records in (("companies", world.crm_companies), ("deals", world.deals),
                           ("feedback_submissions", world.survey_responses)):
        expected = {r.id for r in records if low <= changed_at(r) < high}
        assert 0 < len(expected) < len(records), table
        landed = {row[0] for row in query(pipeline, f"SELECT id FROM {table}")}  # noqa: S608
        assert landed == expected, table


def test_an_older_window_never_overwrites_newer_rows_and_windows_add_up(
    sandbox, world, tmp_path
):
    edges = [BEGINNING, *(T0 + timedelta(days=k) for k in range(0, 8, 2)), None]
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox, start=edges[-2]))  # the newest (open) window first
    newest = query(pipeline, "SELECT * FROM deals ORDER BY id")
    assert newest and len(newest) < len(world.deals)
    for start, end in itertools.pairwise(edges[:-1]):
        pipeline.run(source_for(sandbox, start=start, end=end))
    assert counts(pipeline) == every_table(world)
    newest_ids = [row[0] for row in newest]
    after = query(pipeline, "SELECT * FROM deals ORDER BY id")
    assert [row for row in after if row[0] in newest_ids] == newest


# --- failures ---------------------------------------------------------------------------------


def test_429_with_hubspots_body_and_5xx_are_retried(sandbox, world, tmp_path, caplog):
    sandbox.inject_fault(path_prefix="/crm/v3/objects/companies", status=429, times=1)
    sandbox.inject_fault(path_prefix="/crm/v3/objects/deals", status=502, times=1)
    sandbox.inject_fault(path_prefix="/crm/v3/objects/deals", status=503, times=1)
    pipeline = new_pipeline(tmp_path, DATASET)
    with caplog.at_level(logging.WARNING, logger="connectors.http"):
        pipeline.run(source_for(sandbox, page_size=10))

    assert counts(pipeline) == every_table(world)
    messages = [r.getMessage() for r in caplog.records]
    assert any("HTTP 429" in m for m in messages), messages
    assert any("HTTP 502" in m for m in messages) and any("HTTP 503" in m for m in messages)


def test_a_bare_429_waits_out_hubspots_ten_second_window(sandbox):
    """Without `Retry-After`, the default policy waits 10 s (HubSpot's burst window)."""
    sandbox.inject_fault(path_prefix="/crm/v3/objects/companies", status=429, times=1)
    token = sandbox.credentials["hubspot_access_token"]
    policy = build_client(token, sandbox.url, None).retry
    assert policy.rate_limit_wait_seconds == 10.0
    waits: list[float] = []
    client = ApiClient(
        source="hubspot", base_url=sandbox.url, auth=BearerAuth(token), retry=policy,
        sleep=waits.append,
    )
    body = client.get_json("/crm/v3/objects/companies", {"limit": 1})
    assert waits == [10.0] and len(body["results"]) == 1


def test_the_real_rate_limit_is_survived(world, tmp_path, caplog):
    """A burst limit of 5 requests per 10 s: the run waits (`Retry-After`) and completes."""
    with Sandbox(world, port=0, hubspot_rate_limit_per_10s=5) as sb:
        pipeline = new_pipeline(tmp_path, DATASET)
        with caplog.at_level(logging.WARNING, logger="connectors.http"):
            pipeline.run(source_for(sb, page_size=20))
    assert any("HTTP 429" in r.getMessage() for r in caplog.records)
    assert counts(pipeline) == every_table(world)


def test_401_is_clear_and_never_shows_the_token(sandbox, tmp_path):
    token = "pat-na1-wrong-5b1d9e77c2"  # noqa: S105 - a fake credential
    with pytest.raises(Exception) as failure:
        new_pipeline(tmp_path, DATASET).run(source_for(sandbox, access_token=token))
    error = api_error_in(failure.value)
    assert isinstance(error, ApiAuthError) and error.status == 401
    assert "HUBSPOT_ACCESS_TOKEN" in str(error) and "/crm/v3/objects/" in str(error)
    everything = "".join(traceback.format_exception(failure.value))
    assert token not in everything and "Authorization" not in everything


def test_an_unparsable_property_is_quarantined_naming_record_and_property(sandbox, tmp_path):
    sandbox.inject_fault(
        path_prefix="/crm/v3/objects/deals",
        status=200,
        body='{"results": [{"id": "77", "properties": {"amount": "12,5k"}, '
        '"createdAt": "2024-03-01T00:00:00Z", "updatedAt": "2024-03-02T00:00:00Z", '
        '"archived": false}, {"id": "78", "properties": {"amount": "12.5"}, '
        '"createdAt": "2024-03-01T00:00:00Z", "updatedAt": "2024-03-02T00:00:00Z", '
        '"archived": false}]}',
    )
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox).with_resources("deals"))
    assert query(pipeline, "SELECT amount FROM deals WHERE id = 78") == [(Decimal("12.5"),)]
    assert query(pipeline, "SELECT count(*) FROM deals WHERE id = 77") == [(0,)]
    [row] = quarantined(pipeline)
    assert (row["source"], row["endpoint"], row["table_name"]) == (
        "hubspot", "/crm/v3/objects/deals", "deals"
    )
    assert row["record_id"] == "77" and row["column_name"] == "amount"
    assert "properties.amount" in row["reason"] and "12,5k" in row["reason"]


# --- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://api.hubapi.com", "http://10.0.0.5:8080", "api.hubapi.com"])
def test_plain_http_is_refused_except_for_loopback(url):
    with pytest.raises(ValueError, match="HUBSPOT_BASE_URL"):
        hubspot_source("pat-x", url, start=BEGINNING)


def test_https_and_loopback_and_the_default_are_accepted():
    for url in ("https://api.hubapi.com", "http://127.0.0.1:8080", "http://localhost:1", None):
        source = hubspot_source("pat-x", url, start=BEGINNING)
        assert set(source.resources) == {"companies", "deals", "feedback_submissions"}
    assert build_client("pat-x", None, None).base_url == "https://api.hubapi.com"


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="HUBSPOT_ACCESS_TOKEN"):
        hubspot_source("", start=BEGINNING)
    with pytest.raises(ValueError, match="timezone-aware"):
        hubspot_source("pat-x", start=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="after start"):
        hubspot_source("pat-x", start=BEGINNING, end=BEGINNING)
    with pytest.raises(ValueError, match="page_size"):
        hubspot_source("pat-x", start=BEGINNING, page_size=101)
    with pytest.raises(ValueError, match="clashes"):
        hubspot_source("pat-x", start=BEGINNING, deal_properties=["company_id"])
    with pytest.raises(ValueError, match="not one of"):
        hubspot_source("pat-x", start=BEGINNING, deal_properties={"amount": "money"})
    with pytest.raises(ValueError, match="lower-case internal names"):
        hubspot_source("pat-x", start=BEGINNING, contract_term_property="term length")
    with pytest.raises(ValueError, match="won_stages"):
        hubspot_source("pat-x", start=BEGINNING, won_stages="closedwon")
    with pytest.raises(ValueError, match="won_stages"):
        hubspot_source("pat-x", start=BEGINNING, won_stages=[])
    with pytest.raises(ValueError, match="clashes"):
        hubspot_source("pat-x", start=BEGINNING, deal_properties=["is_won"])
    assert "contract_term_months" in DEFAULT_DEAL_PROPERTIES
