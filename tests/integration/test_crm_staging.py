"""CRM staging SQL (staging.accounts, staging.contracts, staging.organization_accounts) on
DuckDB and PostgreSQL.

Two kinds of input: raw tables built by hand with the landed column names and types of
docs/crm-landed-tables.md (every edge case, expected rows worked out by hand), and the real
landed tables, loaded by the HubSpot and Salesforce connectors from the sandbox with dlt into
the same warehouse (expected rows derived from the sandbox world).
"""

from __future__ import annotations

import calendar
import itertools
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import dlt
import pytest
import sqlalchemy as sa

from connectors.hubspot import hubspot_source
from connectors.salesforce import salesforce_source
from sandbox import Sandbox
from sandbox.salesforce_api import salesforce_id, website
from sandbox.world import World
from tests.connectors.test_hubspot import BEGINNING, QUICK_RETRY, crm_world
from transforms import INTERMEDIATE_MODELS, STAGING_MODELS
from transforms.models import staging_sql
from transforms.runner import replace_table
from warehouse import Warehouse

PARAMS = {"as_of": datetime(2025, 1, 1, tzinfo=UTC), "reporting_timezone": "UTC"}
ACCOUNT_COLUMNS = ["source", "account_id", "name", "domain", "segment", "created_at",
                   "is_deleted"]
CONTRACT_COLUMNS = ["source", "contract_id", "account_id", "start_date", "term_months",
                    "end_date", "monthly_value", "amount"]
MAPPING_COLUMNS = ["helpdesk_source", "organization_id", "crm_source", "account_id",
                   "matched_by"]
CREATED = datetime(2023, 5, 1, 12, tzinfo=UTC)
SF1, SF2, SF3, SF4 = (f"00100000000000{k}AAA" for k in range(1, 5))
_pipeline_names = itertools.count()

RAW_DDL = [
    "CREATE SCHEMA IF NOT EXISTS raw_hubspot",
    "CREATE SCHEMA IF NOT EXISTS raw_salesforce",
    "CREATE SCHEMA IF NOT EXISTS staging",
    """CREATE TABLE raw_hubspot.companies (
        id bigint, created_at timestamptz, updated_at timestamptz, archived boolean,
        archived_at timestamptz, changed_at timestamptz, name text, domain text, industry text)""",
    """CREATE TABLE raw_hubspot.deals (
        id bigint, created_at timestamptz, updated_at timestamptz, archived boolean,
        archived_at timestamptz, changed_at timestamptz, company_id bigint, dealname text,
        pipeline text, dealstage text, closedate timestamptz, amount decimal(38, 9),
        hs_mrr decimal(38, 9), contract_term_months bigint, is_won boolean)""",
    """CREATE TABLE raw_salesforce.accounts (
        id text, is_deleted boolean, system_modstamp timestamptz, created_date timestamptz,
        name text, website text, industry text)""",
    """CREATE TABLE raw_salesforce.opportunities (
        id text, account_id text, is_deleted boolean, system_modstamp timestamptz,
        created_date timestamptz, name text, stage_name text, close_date date,
        amount decimal(38, 9), is_won boolean, contract_term_months_c bigint)""",
    """CREATE TABLE staging.organizations (
        source text, organization_id text, name text, external_id text, domain_names text,
        created_at timestamptz, updated_at timestamptz, deleted_at timestamptz)""",
]

# (id, archived, name, domain, industry)
HUBSPOT_COMPANIES = [
    (101, False, "Acme", " WWW.Acme.COM ", "Software"),
    (102, False, "Beta", "beta.io", ""),
    (103, True, "Gone", "gone.com", None),
    (104, False, "No domain", None, "Retail"),
    (105, False, "Shared A", "shared.com", "Retail"),
    (106, False, "Shared B", "www.shared.com", "Retail"),
]
# (id, is_deleted, name, website, industry)
SALESFORCE_ACCOUNTS = [
    (SF1, False, "Example", "https://www.Example.org/about", "Retail"),
    (SF2, False, "Shop", "http://shop.example.net:8080/x?y=1", "Software"),
    (SF3, True, "Deleted", "example.co.uk", "Retail"),
    (SF4, False, "Blank", "", " "),
]
# (id, company_id, archived, dealstage, closedate, amount, hs_mrr, contract_term_months)
HUBSPOT_DEALS = [
    (201, 101, False, "closedwon", date(2024, 1, 31), "1200", "150", 12),  # hs_mrr wins
    (202, 101, False, "closedwon", date(2024, 3, 15), "1200", None, None),  # term 12: 100
    (203, 102, False, "closedwon", date(2024, 1, 31), "600", None, 6),  # 100, Jul 31
    (204, 102, False, "closedwon", date(2024, 5, 1), "240", None, 0),  # term 0 -> 12: 20
    (205, 101, False, "closedlost", date(2024, 2, 1), "999", None, 12),  # lost: out
    (206, 101, True, "closedwon", date(2024, 2, 1), "999", None, 12),  # archived: out
    (207, None, False, "closedwon", date(2024, 2, 1), "999", None, 12),  # no company: out
    (208, 105, False, "closedwon", date(2024, 1, 31), "50", None, 1),  # ends Feb 29
    (209, 101, False, "contractsent", date(2024, 2, 1), "999", None, 12),  # open: out
]
# (id, account_id, is_deleted, is_won, close_date, amount, contract_term_months_c)
SALESFORCE_OPPORTUNITIES = [
    ("006000000000001AAA", SF1, False, True, date(2024, 2, 1), "2400", 24),
    ("006000000000002AAA", SF2, False, True, date(2024, 2, 29), "1200", None),
    ("006000000000003AAA", SF1, False, False, date(2024, 2, 1), "999", 12),  # lost: out
    ("006000000000004AAA", SF1, True, True, date(2024, 2, 1), "999", 12),  # deleted: out
    ("006000000000005AAA", None, False, True, date(2024, 2, 1), "999", 12),  # no account
    ("006000000000006AAA", SF4, False, True, date(2024, 6, 30), None, -3),  # no amount
]
# (organization_id, external_id, domain_names as JSON text)
ORGANIZATIONS = [
    ("1", "102", '["acme.com"]'),  # external id beats the domain match (101)
    ("2", None, '["other.org", "ACME.com"]'),  # domain, case-insensitive -> 101
    ("3", None, '["shared.com"]'),  # 105 and 106 match: lowest id
    ("4", None, '["notacme.com", "acme.com.au"]'),  # no exact domain: no row
    ("5", "103", '["gone.com"]'),  # only a deleted account matches: no row
    ("6", None, '["example.org"]'),  # Salesforce, by domain
    ("7", f" {SF2} ", "[]"),  # Salesforce, by external id (trimmed)
    ("8", None, "[]"),  # nothing: no row
    ("9", "not-an-account", '["shared.com","acme.com"]'),  # 101 < 105: 101 by domain
    ("10", SF3, '["example.co.uk"]'),  # deleted account by id and by domain: no row
]


def _model(name: str):
    return next(m for m in (*STAGING_MODELS, *INTERMEDIATE_MODELS) if m.name == name)


def build_crm_staging(warehouse: Warehouse, sources: tuple[str, ...]) -> None:
    """Build staging.accounts and staging.contracts the way the runner does (UNION ALL)."""
    for name in ("accounts", "contracts"):
        replace_table(warehouse, "staging", name, staging_sql(_model(name), list(sources)),
                      PARAMS)


def build_mapping(warehouse: Warehouse) -> None:
    model = _model("organization_accounts")
    replace_table(warehouse, "staging", model.name, model.sql(), PARAMS)


def rows(warehouse: Warehouse, table: str, order: str) -> list[tuple]:
    result = warehouse.query(f"SELECT * FROM staging.{table} ORDER BY {order}")  # noqa: S608
    return [tuple(_plain(v) for v in row.values()) for row in result]


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value


@pytest.fixture
def hand_built(warehouse_url) -> Warehouse:
    """The hand-built raw CRM tables and helpdesk organisations."""
    warehouse = Warehouse(warehouse_url)
    for statement in RAW_DDL:
        warehouse.execute(statement)
    with warehouse.transaction() as connection:
        for cid, archived, name, domain, industry in HUBSPOT_COMPANIES:
            connection.execute(sa.text(
                "INSERT INTO raw_hubspot.companies (id, created_at, archived, name, domain, "
                "industry) VALUES (:id, :created, :archived, :name, :domain, :industry)"),
                {"id": cid, "created": CREATED, "archived": archived, "name": name,
                 "domain": domain, "industry": industry})
        for did, company, archived, stage, closed, amount, mrr, term in HUBSPOT_DEALS:
            connection.execute(sa.text(
                "INSERT INTO raw_hubspot.deals (id, company_id, archived, dealname, pipeline, "
                "dealstage, closedate, amount, hs_mrr, contract_term_months, is_won) VALUES "
                "(:id, :company, :archived, 'deal', 'default', :stage, :closed, "
                "CAST(:amount AS decimal(38, 9)), CAST(:mrr AS decimal(38, 9)), :term, :won)"),
                {"id": did, "company": company, "archived": archived, "stage": stage,
                 "won": stage == "closedwon",
                 "closed": datetime(closed.year, closed.month, closed.day, tzinfo=UTC),
                 "amount": amount, "mrr": mrr, "term": term})
        for aid, deleted, name, site, industry in SALESFORCE_ACCOUNTS:
            connection.execute(sa.text(
                "INSERT INTO raw_salesforce.accounts (id, is_deleted, created_date, name, "
                "website, industry) VALUES (:id, :deleted, :created, :name, :site, :industry)"),
                {"id": aid, "deleted": deleted, "created": CREATED, "name": name, "site": site,
                 "industry": industry})
        for oid, account, deleted, won, closed, amount, term in SALESFORCE_OPPORTUNITIES:
            connection.execute(sa.text(
                "INSERT INTO raw_salesforce.opportunities (id, account_id, is_deleted, name, "
                "stage_name, close_date, amount, is_won, contract_term_months_c) VALUES (:id, "
                ":account, :deleted, 'opp', 'x', :closed, CAST(:amount AS decimal(38, 9)), "
                ":won, :term)"),
                {"id": oid, "account": account, "deleted": deleted, "closed": closed,
                 "amount": amount, "won": won, "term": term})
        for org_id, external_id, domains in ORGANIZATIONS:
            connection.execute(sa.text(
                "INSERT INTO staging.organizations (source, organization_id, name, external_id, "
                "domain_names, created_at) VALUES ('zendesk', :id, 'org', :ext, :domains, "
                ":created)"),
                {"id": org_id, "ext": external_id, "domains": domains, "created": CREATED})
    yield warehouse
    warehouse.dispose()


def test_accounts_normalise_domains_and_segments_and_flag_deleted(hand_built):
    build_crm_staging(hand_built, ("hubspot", "salesforce"))

    assert hand_built.columns("staging", "accounts") == ACCOUNT_COLUMNS
    assert rows(hand_built, "accounts", "source, account_id") == [
        ("hubspot", "101", "Acme", "acme.com", "Software", CREATED, False),
        ("hubspot", "102", "Beta", "beta.io", "unknown", CREATED, False),
        ("hubspot", "103", "Gone", "gone.com", "unknown", CREATED, True),
        ("hubspot", "104", "No domain", None, "Retail", CREATED, False),
        ("hubspot", "105", "Shared A", "shared.com", "Retail", CREATED, False),
        ("hubspot", "106", "Shared B", "shared.com", "Retail", CREATED, False),
        ("salesforce", SF1, "Example", "example.org", "Retail", CREATED, False),
        ("salesforce", SF2, "Shop", "shop.example.net", "Software", CREATED, False),
        ("salesforce", SF3, "Deleted", "example.co.uk", "Retail", CREATED, True),
        ("salesforce", SF4, "Blank", None, "unknown", CREATED, False),
    ]


def test_contracts_are_won_live_deals_with_term_and_monthly_value(hand_built):
    build_crm_staging(hand_built, ("hubspot", "salesforce"))

    assert hand_built.columns("staging", "contracts") == CONTRACT_COLUMNS
    assert rows(hand_built, "contracts", "source, contract_id") == [
        # hs_mrr set: it is the monthly value, not 1200 / 12
        ("hubspot", "201", "101", date(2024, 1, 31), 12, date(2025, 1, 31), 150.0, 1200.0),
        # empty term: 12 months; no hs_mrr: amount / 12
        ("hubspot", "202", "101", date(2024, 3, 15), 12, date(2025, 3, 15), 100.0, 1200.0),
        ("hubspot", "203", "102", date(2024, 1, 31), 6, date(2024, 7, 31), 100.0, 600.0),
        # term 0: 12 months
        ("hubspot", "204", "102", date(2024, 5, 1), 12, date(2025, 5, 1), 20.0, 240.0),
        # one month from Jan 31 ends on the last day of February (leap year)
        ("hubspot", "208", "105", date(2024, 1, 31), 1, date(2024, 2, 29), 50.0, 50.0),
        ("salesforce", "006000000000001AAA", SF1, date(2024, 2, 1), 24, date(2026, 2, 1),
         100.0, 2400.0),
        ("salesforce", "006000000000002AAA", SF2, date(2024, 2, 29), 12, date(2025, 2, 28),
         100.0, 1200.0),
        # negative term: 12 months; no amount: no monthly value
        ("salesforce", "006000000000006AAA", SF4, date(2024, 6, 30), 12, date(2025, 6, 30),
         None, None),
    ]
    types = {row["column_name"]: row["data_type"].lower() for row in hand_built.query(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'staging' AND table_name = 'contracts'")}
    assert types["term_months"] == "integer"
    assert types["start_date"] == types["end_date"] == "date"
    assert types["monthly_value"] in ("double", "double precision")
    assert types["amount"] in ("double", "double precision")


def test_contract_days_do_not_depend_on_the_session_time_zone(hand_built):
    """closedate is midnight UTC: the start day must not move with the session's zone."""
    zone = "SET TimeZone = 'America/Los_Angeles'"
    model = _model("contracts")
    with hand_built.transaction() as connection:
        connection.execute(sa.text(zone))
        connection.execute(sa.text(f"CREATE TABLE staging.c AS {model.sql('hubspot')}"), PARAMS)
        starts = connection.execute(
            sa.text("SELECT start_date FROM staging.c WHERE contract_id = '201'")).scalar_one()
        if hand_built.is_duckdb:  # a DuckDB setting outlives the transaction
            connection.execute(sa.text("RESET TimeZone"))
    assert starts == date(2024, 1, 31)


def test_organisations_map_by_external_id_then_domain_lowest_id_wins(hand_built):
    build_crm_staging(hand_built, ("hubspot", "salesforce"))
    build_mapping(hand_built)

    assert hand_built.columns("staging", "organization_accounts") == MAPPING_COLUMNS
    assert rows(hand_built, "organization_accounts", "CAST(organization_id AS integer)") == [
        ("zendesk", "1", "hubspot", "102", "external_id"),
        ("zendesk", "2", "hubspot", "101", "domain"),
        ("zendesk", "3", "hubspot", "105", "domain"),
        ("zendesk", "6", "salesforce", SF1, "domain"),
        ("zendesk", "7", "salesforce", SF2, "external_id"),
        ("zendesk", "9", "hubspot", "101", "domain"),
    ]


def test_mapping_builds_from_an_empty_accounts_table(hand_built):
    """Without a CRM, staging.accounts exists but is empty: no organisation maps."""
    build_crm_staging(hand_built, ("hubspot",))
    hand_built.execute("DELETE FROM staging.accounts")
    build_mapping(hand_built)
    assert rows(hand_built, "organization_accounts", "organization_id") == []


# --- the real landed tables -----------------------------------------------------------------


def land_crm(warehouse: Warehouse, world: World, tmp_path: Path) -> None:
    """Run both CRM connectors against the sandbox into the warehouse, whole history."""
    with Sandbox(world, port=0) as sb:
        for dataset, source in (
            ("raw_hubspot", hubspot_source(
                access_token=sb.credentials["hubspot_access_token"], base_url=sb.url,
                start=BEGINNING, retry=QUICK_RETRY)),
            ("raw_salesforce", salesforce_source(
                instance_url=sb.url, access_token=sb.credentials["salesforce_access_token"],
                start=BEGINNING, retry=QUICK_RETRY)),
        ):
            with warehouse.dlt_destination() as destination:
                pipeline = dlt.pipeline(
                    pipeline_name=f"crm_staging_test_{next(_pipeline_names)}",
                    pipelines_dir=str(tmp_path / "dlt"),
                    destination=destination,
                    dataset_name=dataset,
                )
                pipeline.run(source)


def test_staging_over_the_connectors_landed_tables(warehouse_url, tmp_path):
    world = crm_world()
    warehouse = Warehouse(warehouse_url)
    land_crm(warehouse, world, tmp_path)
    try:
        build_crm_staging(warehouse, ("hubspot", "salesforce"))
        accounts = rows(warehouse, "accounts", "source, account_id")
        contracts = rows(warehouse, "contracts", "source, contract_id")
    finally:
        warehouse.dispose()

    expected_accounts = []
    for source in ("hubspot", "salesforce"):
        for c in world.crm_companies:
            account_id = str(c.id) if source == "hubspot" else salesforce_id("Account", c.id)
            # the Salesforce sandbox serves Website as www.<domain>: staging strips it again
            assert source == "hubspot" or website(c.domain) == f"www.{c.domain}"
            expected_accounts.append((source, account_id, c.name, c.domain,
                                      c.industry or "unknown", c.created_at, c.archived))
    assert accounts == sorted(expected_accounts, key=lambda r: (r[0], r[1]))

    expected_contracts = []
    for source in ("hubspot", "salesforce"):
        for d in world.deals:
            if d.stage != "closedwon" or d.archived or d.company_id is None:
                continue
            company = next(c for c in world.crm_companies if c.id == d.company_id)
            if source == "hubspot" and company.archived:
                continue  # HubSpot serves no association to an archived company
            term = d.term_months if d.term_months and d.term_months > 0 else 12
            end = add_months(d.close_date, term)
            amount = None if d.amount is None else float(d.amount)
            mrr = d.mrr if source == "hubspot" and d.mrr is not None else (
                None if amount is None else amount / term)
            if source == "hubspot":
                ids = (str(d.id), str(d.company_id))
            else:
                ids = (salesforce_id("Opportunity", d.id), salesforce_id("Account", d.company_id))
            expected_contracts.append((source, *ids, d.close_date, term, end, mrr, amount))
    expected_contracts.sort(key=lambda r: (r[0], r[1]))
    assert len(expected_contracts) >= 4
    assert [r[:6] for r in contracts] == [r[:6] for r in expected_contracts]
    for got, want in zip(contracts, expected_contracts, strict=True):
        assert got[7] == want[7]
        assert got[6] == (None if want[6] is None else pytest.approx(want[6]))
    assert any(r[6] is not None and r[7] is not None and r[6] != r[7] / r[4]
               for r in contracts if r[0] == "hubspot")  # some hs_mrr in use


def add_months(day: date, months: int) -> date:
    """`day` plus `months` calendar months, clamped to the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
