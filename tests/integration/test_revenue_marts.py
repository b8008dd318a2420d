"""MRR movements, churn, retention and CLV from HubSpot deals, end to end, on both warehouses.

The helpdesk is the hand-built world of test_ticket_metrics (loaded to 2025-06-09, so June
2025 is the last, partial month: its MRR is measured on June 9). The CRM is built here;
every expected value is worked out by hand beside it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from sandbox.world import CrmCompany, Deal
from tests.integration.pipeline_runner import run_world, world_as_of
from tests.integration.test_ticket_metrics import END, START, hand_built_world

CREATED = datetime(2024, 12, 1, tzinfo=UTC)


def crm_world():
    world = hand_built_world()
    world.crm_companies = [
        CrmCompany(1, "Acme Inc.", "acme.example", "software", CREATED),
        CrmCompany(2, "Globex", "globex.example", "retail", CREATED),
        CrmCompany(3, "Initech", "initech.example", None, CREATED),  # segment unknown
        CrmCompany(4, "Hooli", "hooli.example", "software", CREATED),  # never paid
        CrmCompany(5, "Gone Ltd", "gone.example", "software", CREATED, archived=True),
    ]

    def deal(id_, company, start, mrr=None, amount=None, term=1, stage="closedwon", **kw):
        return Deal(id_, company, f"deal {id_}", amount, start, stage=stage, term_months=term,
                    mrr=mrr, created_at=CREATED, **kw)

    world.deals = [
        # Acme, monthly: Jan 100 (new), Feb 150 (expansion; no hs_mrr: amount / 1),
        # Mar 120 (contraction), Apr 120 (retained), nothing at May 31 (churned),
        # June 130 (reactivation).
        deal(11, 1, date(2025, 1, 15), mrr=100, amount=100),
        deal(12, 1, date(2025, 2, 15), amount=150),
        deal(13, 1, date(2025, 3, 15), mrr=120, amount=120),
        deal(14, 1, date(2025, 4, 15), mrr=120, amount=120),
        deal(15, 1, date(2025, 6, 1), mrr=130, amount=130),
        # Globex, annual: 1,200 over 12 months = 100 a month from March.
        deal(21, 2, date(2025, 3, 1), amount=1200, term=12),
        # Initech joins in April (50) and is gone by the end of May.
        deal(31, 3, date(2025, 4, 10), mrr=50, amount=50),
        # Hooli: a lost deal and an archived won one -- no revenue, no rows.
        deal(41, 4, date(2025, 2, 1), mrr=500, amount=500, stage="closedlost"),
        deal(42, 4, date(2025, 2, 1), mrr=500, amount=500, archived=True),
        # An archived company's won deal does not count.
        deal(51, 5, date(2025, 2, 1), mrr=999, amount=999),
    ]
    return world


@pytest.fixture
def loaded(monkeypatch, tmp_path, warehouse_url):
    return run_world(monkeypatch, tmp_path, crm_world(), warehouse_url, START, END, crm=True)


def months(warehouse, sql, params=None):
    return [tuple(float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
                  for v in row.values())
            for row in warehouse.query(sql, params or {})]


def test_every_movement_type(loaded):
    rows = months(loaded, "SELECT month, account_id, mrr, previous_mrr, movement "
                          "FROM marts.account_mrr_monthly ORDER BY account_id, month")
    m = lambda month: date(2025, month, 1)  # noqa: E731
    assert rows == [
        (m(1), "1", 100.0, 0.0, "new"),
        (m(2), "1", 150.0, 100.0, "expansion"),
        (m(3), "1", 120.0, 150.0, "contraction"),
        (m(4), "1", 120.0, 120.0, "retained"),
        (m(5), "1", 0.0, 120.0, "churned"),
        (m(6), "1", 130.0, 0.0, "reactivation"),
        (m(3), "2", 100.0, 0.0, "new"),
        (m(4), "2", 100.0, 100.0, "retained"),
        (m(5), "2", 100.0, 100.0, "retained"),
        (m(6), "2", 100.0, 100.0, "retained"),
        (m(4), "3", 50.0, 0.0, "new"),
        (m(5), "3", 0.0, 50.0, "churned"),
        (m(6), "3", 0.0, 0.0, "inactive"),
    ]


def test_churn_monthly_all_segments(loaded):
    rows = loaded.query("SELECT * FROM marts.churn_monthly WHERE segment = 'all' ORDER BY month")
    by_month = {r["month"].month: r for r in rows}
    assert sorted(by_month) == [1, 2, 3, 4, 5, 6]
    jan = by_month[1]  # nobody paid at the end of December: every rate is NULL
    assert (jan["accounts_start"], jan["accounts_new"], jan["accounts_end"]) == (0, 1, 1)
    assert jan["logo_churn_rate"] is None and jan["nrr"] is None and jan["grr"] is None
    feb = by_month[2]
    assert (feb["mrr_start"], feb["mrr_expansion"], feb["mrr_end"]) == (100, 50, 150)
    assert (feb["nrr"], feb["grr"], feb["logo_churn_rate"]) == (1.5, 1.0, 0.0)
    mar = by_month[3]
    assert (mar["mrr_start"], mar["mrr_new"], mar["mrr_contraction"], mar["mrr_end"]) == (
        150, 100, 30, 220)
    assert mar["grr"] == pytest.approx(0.8)
    assert mar["gross_revenue_churn_rate"] == pytest.approx(0.2)
    assert mar["customer_retention_rate"] == 1.0
    may = by_month[5]  # Acme (120) and Initech (50) churn, Globex stays
    assert (may["accounts_start"], may["accounts_churned"], may["accounts_end"]) == (3, 2, 1)
    assert (may["mrr_start"], may["mrr_churned"], may["mrr_end"]) == (270, 170, 100)
    assert may["logo_churn_rate"] == pytest.approx(2 / 3)
    assert may["customer_retention_rate"] == pytest.approx(1 / 3)
    assert may["nrr"] == pytest.approx(100 / 270)
    jun = by_month[6]  # Acme comes back: reactivation, not new or expansion
    assert (jun["accounts_start"], jun["accounts_reactivated"], jun["accounts_new"]) == (1, 1, 0)
    assert (jun["mrr_reactivation"], jun["mrr_end"], jun["nrr"]) == (130, 230, 1.0)


def test_movements_reconcile_and_segments(loaded):
    unbalanced = loaded.scalar(
        "SELECT count(*) FROM marts.churn_monthly WHERE abs(mrr_start + mrr_new + mrr_expansion"
        " + mrr_reactivation - mrr_contraction - mrr_churned - mrr_end) > 0.01")
    assert unbalanced == 0
    segments = {r["segment"]
                for r in loaded.query("SELECT DISTINCT segment FROM marts.churn_monthly")}
    assert segments == {"all", "software", "retail", "unknown"}
    assert loaded.scalar("SELECT count(*) FROM marts.churn_monthly") == 6 * 4
    june_unknown = loaded.query("SELECT * FROM marts.churn_monthly "
                                "WHERE segment = 'unknown' AND month = '2025-06-01'")[0]
    assert june_unknown["accounts_start"] == 0 and june_unknown["logo_churn_rate"] is None


def test_customer_lifetime_value(loaded):
    rows = {r["account_id"]: r for r in loaded.query("SELECT * FROM marts.customer_lifetime_value")}
    assert sorted(rows) == ["1", "2", "3"]
    acme = rows["1"]  # software churn over Jan-Jun: Feb 0, Mar 0, Apr 0, May 1 -> mean 0.25
    assert (acme["segment"], acme["first_paid_month"], acme["tenure_months"]) == (
        "software", date(2025, 1, 1), 5)
    assert acme["is_active"] is True and acme["current_mrr"] == 130
    assert acme["revenue_to_date"] == 620
    assert acme["segment_monthly_churn_rate"] == pytest.approx(0.25)
    assert acme["expected_lifetime_months"] == pytest.approx(4)
    assert acme["predicted_clv"] == pytest.approx(620 + 130 * 0.8 * 4)
    globex = rows["2"]  # retail never churned: the floor (0.0167), not a division by zero
    assert globex["segment_monthly_churn_rate"] == pytest.approx(0.0167)
    assert globex["predicted_clv"] == pytest.approx(400 + 100 * 0.8 / 0.0167)
    assert globex["segment_arpa"] == 100
    initech = rows["3"]  # churned: value to date only
    assert initech["is_active"] is False and initech["predicted_clv"] == 50


def test_account_health(loaded):
    """The 90 days to June 9 (March 12 - June 9) cover every ticket; the revenue trend
    compares June's MRR with the highest of March-June."""
    rows = {r["account_id"]: r for r in loaded.query("SELECT * FROM marts.account_health")}
    assert sorted(rows) == ["1", "2", "3", "4"]  # live accounts; the archived one left out
    acme = rows["1"]  # tickets 1, 3, 5 (5 unanswered and open)
    assert (acme["window_start"], acme["window_end"]) == (date(2025, 3, 12), date(2025, 6, 9))
    assert (acme["tickets"], acme["resolved_tickets"]) == (3, 2)
    assert acme["frt_median_minutes"] == pytest.approx(45)  # 60 and 30
    assert acme["reopen_rate"] == pytest.approx(0.5)  # ticket 3 reopened, ticket 1 not
    assert (acme["csat_responses"], acme["csat_rate"]) == (1, 0.0)  # 1 bad; 1 offered only
    assert (acme["current_mrr"], acme["mrr_three_months_ago"], acme["recent_peak_mrr"]) \
        == (130, 120, 130)
    assert acme["mrr_change_rate"] == pytest.approx(10 / 120)
    assert [acme[f"{c}_component"] for c in ("csat", "responsiveness", "reopens", "revenue")] \
        == [0, 100, 50, 100]
    assert acme["health_score"] == pytest.approx(0.2 * 100 + 0.2 * 50 + 0.3 * 100)  # 60
    assert acme["risk_band"] == "watch"
    globex = rows["2"]  # tickets 2 and 4; the deleted 6 left out; FRT 120 (4 has none)
    assert (globex["tickets"], globex["frt_median_minutes"], globex["reopen_rate"]) \
        == (2, 120, 0)
    assert globex["responsiveness_component"] == pytest.approx(100 * (1440 - 120) / 1380)
    assert globex["health_score"] == pytest.approx(
        round(30 + 0.2 * 100 * (1440 - 120) / 1380 + 20 + 30, 1))  # 99.1
    assert globex["risk_band"] == "healthy"
    initech = rows["3"]  # no helpdesk organisation; 50 at the end of April, then nothing
    assert initech["tickets"] == 0 and initech["frt_median_minutes"] is None
    assert initech["responsiveness_component"] is None  # no median, not 0
    assert (initech["recent_peak_mrr"], initech["revenue_component"]) == (50, 0)
    assert (initech["health_score"], initech["risk_band"]) == (0, "churned")
    hooli = rows["4"]  # never paid, no tickets: nothing to score
    assert hooli["revenue_component"] is None and hooli["health_score"] is None
    assert hooli["risk_band"] == "unknown"


def test_account_health_counts_a_reopened_open_ticket_and_never_leaves_0_to_100(loaded):
    """Edge cases set in the mart's inputs, then account_health rebuilt alone: Acme's ticket
    1 reopened and open again counts in the reopen rate (it was resolved once), and Globex
    with a negative contract value in June is churned, its revenue component 0, not below."""
    from pipelines.settings import Settings
    from pipelines.transform_assets import build_model
    from transforms import MART_MODELS

    loaded.execute("UPDATE marts.ticket_metrics SET reopens = 1, final_resolved_at = NULL, "
                   "status = 'open' WHERE ticket_id = '1'")
    loaded.execute("UPDATE marts.account_mrr_monthly SET mrr = -20 "
                   "WHERE account_id = '2' AND month = '2025-06-01'")
    model = next(m for m in MART_MODELS if m.name == "account_health")
    build_model(model, loaded, Settings.from_env())
    rows = {r["account_id"]: r for r in loaded.query("SELECT * FROM marts.account_health")}
    acme, globex = rows["1"], rows["2"]
    assert (acme["resolved_tickets"], acme["reopen_rate"]) == (2, 1.0)  # tickets 1 and 3
    assert acme["reopens_component"] == 0
    assert (globex["current_mrr"], globex["revenue_component"]) == (-20, 0)
    assert globex["risk_band"] == "churned"
    assert all(0 <= r["health_score"] <= 100 for r in rows.values()
               if r["health_score"] is not None)


def test_tickets_carry_their_crm_account(loaded):
    accounts = dict(
        (r["ticket_id"], r["account_id"])
        for r in loaded.query("SELECT ticket_id, account_id FROM marts.ticket_metrics")
    )
    # Acme (organization 100) has tickets 1, 3, 5; Globex (101) tickets 2, 4, 6.
    assert accounts == {"1": "1", "3": "1", "5": "1", "2": "2", "4": "2", "6": "2"}


def test_a_crm_without_a_helpdesk(monkeypatch, tmp_path, duckdb_url):
    """HubSpot alone: the helpdesk-side tables are built empty, the revenue marts in full."""
    import dagster as dg

    from pipelines.cli import run_partitions
    from sandbox import Sandbox
    from tests.integration.pipeline_runner import configure
    from warehouse import Warehouse

    with Sandbox(crm_world(), port=0) as sandbox:
        configure(monkeypatch, tmp_path, sandbox, duckdb_url, START, crm=True)
        for name in ("ZENDESK_API_TOKEN", "ZENDESK_EMAIL", "ZENDESK_SUBDOMAIN",
                     "ZENDESK_BASE_URL"):
            monkeypatch.delenv(name)
        with dg.DagsterInstance.ephemeral() as instance:
            run_partitions(START, END, instance=instance)
    warehouse = Warehouse(duckdb_url)
    assert warehouse.scalar("SELECT count(*) FROM marts.ticket_metrics") == 0
    assert warehouse.scalar("SELECT count(*) FROM marts.account_mrr_monthly") == 13
    assert warehouse.scalar("SELECT count(*) FROM marts.customer_lifetime_value") == 3


def test_a_deal_landed_late_reaches_the_months_it_ran(monkeypatch, tmp_path, warehouse_url):
    """A won deal entered on June 7 with a close date of April 1 (a contract recorded late):
    the night that lands it recomputes April and May too, as a full rebuild would. (The
    monthly run used to recompute only the months of the days it loaded: April and May never
    learnt of the contract, and June called it 'retained' from nothing.)"""
    cut = date(2025, 6, 7)
    pipeline_start = date(2025, 5, 1)  # June is not the first month partition
    before = world_as_of(crm_world(), datetime(2025, 6, 7, tzinfo=UTC))
    entered = datetime(2025, 6, 7, 10, tzinfo=UTC)
    after = crm_world()
    after.crm_companies.append(CrmCompany(6, "Late Co", "late.example", "retail", entered))
    after.deals.append(Deal(61, 6, "deal 61", 300, date(2025, 4, 1), term_months=12,
                            created_at=entered, updated_at=entered))
    run_world(monkeypatch, tmp_path, before, warehouse_url, pipeline_start, cut, crm=True)
    warehouse = run_world(monkeypatch, tmp_path, after, warehouse_url, cut, END, crm=True,
                          first_partition=pipeline_start)
    try:
        late = months(warehouse, "SELECT month, mrr, previous_mrr, movement "
                                 "FROM marts.account_mrr_monthly WHERE account_id = '6' "
                                 "ORDER BY month")
        april = warehouse.query("SELECT accounts_new, mrr_new FROM marts.churn_monthly "
                                "WHERE segment = 'all' AND month = '2025-04-01'")[0]
        clv = warehouse.query("SELECT first_paid_month, revenue_to_date "
                              "FROM marts.customer_lifetime_value WHERE account_id = '6'")[0]
    finally:
        warehouse.dispose()
    assert late == [(date(2025, 4, 1), 25.0, 0.0, "new"),
                    (date(2025, 5, 1), 25.0, 25.0, "retained"),
                    (date(2025, 6, 1), 25.0, 25.0, "retained")]
    assert (april["accounts_new"], float(april["mrr_new"])) == (2, 75.0)  # Initech and Late Co
    assert (clv["first_paid_month"], float(clv["revenue_to_date"])) == (date(2025, 4, 1), 75.0)
