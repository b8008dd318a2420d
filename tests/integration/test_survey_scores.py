"""Survey scores (NPS, CSAT, CES) from HubSpot feedback submissions and the helpdesk's
satisfaction ratings, end to end (sandbox -> connector -> staging -> marts), on both
warehouses.

The helpdesk is the hand-built world of test_ticket_metrics (loaded 2025-06-02 .. 06-09, UTC
days), the CRM test_revenue_marts'; the survey responses are set here and every expected
figure is worked out by hand beside them.
"""

from __future__ import annotations

from datetime import date

import pytest

from sandbox.world import CrmContact, SurveyResponse
from tests.integration.pipeline_runner import run_world
from tests.integration.test_revenue_marts import crm_world
from tests.integration.test_ticket_metrics import END, START, at
from warehouse import Warehouse

DAYS = 8  # 2025-06-02 .. 2025-06-09


def survey_world():
    world = crm_world()

    def nps(id_, value, day, hour, name="Quarterly NPS", **kw):
        return SurveyResponse(id_, 1, name, "NPS", value, at(day, hour), contact_id=900 + id_,
                              **kw)

    def csat(id_, value, day, hour, **kw):
        return SurveyResponse(id_, 2, "Support CSAT", "CSAT", value, at(day, hour),
                              channel="WEB", **kw)

    def ces(id_, value, day, hour, **kw):
        return SurveyResponse(id_, 3, "Support effort", "CES", value, at(day, hour), **kw)

    world.survey_responses = [
        # June 2: promoters 10 and 9, passive 8, detractor 3 -> NPS 100 x (2 - 1) / 4 = 25;
        # the archived 0 does not count.
        nps(101, 10, 2, 10), nps(102, 9, 2, 11), nps(103, 8, 2, 12), nps(104, 3, 2, 13),
        nps(105, 0, 2, 14, archived=True, archived_at=at(2, 15)),
        # June 3: one detractor -> NPS -100; the survey renamed from that day on.
        nps(106, 6, 3, 9, name="Quarterly NPS (Q2)"),
        # June 2: happy, neutral, unhappy -> CSAT 1/3; June 4: a 2 that HubSpot's survey
        # grouped as passive is not satisfied (the survey's own grouping decides).
        csat(201, 2, 2, 9, content="Quick and friendly"), csat(202, 1, 2, 10),
        csat(203, 0, 2, 11), csat(204, 2, 4, 9, response_group="PASSIVE"),
        # June 2: 7 and 4 on 1-7 -> CES 5.5; June 9 at 23:30 UTC: 2 -> CES 2.
        ces(301, 7, 2, 16), ces(302, 4, 2, 17), ces(303, 2, 9, 23),
    ]
    # The NPS answers' contacts: 101-105 at Acme (company 1), 106 at Globex (2). The CSAT
    # and CES ones have none (not found in HubSpot: no company).
    world.crm_contacts = [CrmContact(900 + k, 1) for k in range(101, 106)] + [
        CrmContact(1006, 2)]
    return world


@pytest.fixture
def loaded(monkeypatch, tmp_path, warehouse_url):
    return run_world(monkeypatch, tmp_path, survey_world(), warehouse_url, START, END, crm=True)


def scores(warehouse, survey_id: str) -> dict[date, dict]:
    rows = warehouse.query(
        "SELECT * FROM marts.survey_scores_daily WHERE survey_id = :survey ORDER BY date",
        {"survey": survey_id},
    )
    return {r["date"]: r for r in rows}


def test_survey_responses_are_staged_archived_ones_flagged_without_free_text(loaded):
    rows = loaded.query("SELECT * FROM staging.survey_responses ORDER BY response_id")
    assert [r["response_id"] for r in rows] == [
        "101", "102", "103", "104", "105", "106", "201", "202", "203", "204", "301", "302",
        "303"]
    assert [r["response_id"] for r in rows if r["is_deleted"]] == ["105"]
    assert rows[4]["updated_at"] == at(2, 15)  # its archiving, its last change
    first = rows[0]
    assert (first["source"], first["survey_id"], first["survey_type"], first["score"]) == (
        "hubspot", "1", "nps", 10)
    assert (first["scale_min"], first["scale_max"], first["response_group"]) == (0, 10,
                                                                                 "promoter")
    assert first["submitted_at"] == at(2, 10) and first["contact_id"] == "1001"
    assert {r["channel"] for r in rows if r["survey_type"] == "csat"} == {"web"}
    assert "hs_content" not in loaded.columns("raw_hubspot", "feedback_submissions")


def test_one_row_per_day_and_survey(loaded):
    surveys = loaded.query("SELECT DISTINCT source, survey_id, survey_type "
                           "FROM marts.survey_scores_daily ORDER BY source, survey_id")
    assert [(r["source"], r["survey_id"], r["survey_type"]) for r in surveys] == [
        ("hubspot", "1", "nps"), ("hubspot", "2", "csat"), ("hubspot", "3", "ces"),
        ("zendesk", "satisfaction_ratings", "csat")]
    assert loaded.scalar("SELECT count(*) FROM marts.survey_scores_daily") == DAYS * 4
    assert loaded.scalar("SELECT min(date) FROM marts.survey_scores_daily") == START


def test_nps_hand_computed(loaded):
    days = scores(loaded, "1")
    june2, june3, june4 = days[date(2025, 6, 2)], days[date(2025, 6, 3)], days[date(2025, 6, 4)]
    assert (june2["responses"], june2["promoters"], june2["passives"], june2["detractors"]) \
        == (4, 2, 1, 1)
    assert june2["nps"] == pytest.approx(25)
    assert (june3["responses"], june3["nps"]) == (1, pytest.approx(-100))
    assert (june4["responses"], june4["nps"]) == (0, None)  # no responses: NULL, not 0
    # The survey's name as of each day: renamed with its June 3 response.
    assert [days[date(2025, 6, d)]["survey_name"] for d in (2, 3, 9)] == [
        "Quarterly NPS", "Quarterly NPS (Q2)", "Quarterly NPS (Q2)"]
    assert june2["answered_responses"] == 4
    assert june2["csat_rate"] is None and june2["ces_avg"] is None  # other survey types


def test_csat_follows_the_surveys_own_grouping(loaded):
    days = scores(loaded, "2")
    june2, june4 = days[date(2025, 6, 2)], days[date(2025, 6, 4)]
    assert (june2["responses"], june2["satisfied_responses"]) == (3, 1)
    assert june2["csat_rate"] == pytest.approx(1 / 3)
    assert (june2["promoters"], june2["passives"], june2["detractors"]) == (1, 1, 1)
    assert (june4["responses"], june4["csat_rate"]) == (1, 0)
    assert june2["nps"] is None


def test_ces_is_the_mean_answer_with_its_scale(loaded):
    days = scores(loaded, "3")
    june2, june9 = days[date(2025, 6, 2)], days[date(2025, 6, 9)]
    assert (june2["responses"], june2["ces_avg"]) == (2, pytest.approx(5.5))
    assert (june9["responses"], june9["ces_avg"]) == (1, pytest.approx(2))
    assert (june2["scale_min"], june2["scale_max"], june2["higher_is_better"]) == (1, 7, True)


def test_helpdesk_ratings_agree_with_support_daily(loaded):
    """The helpdesk's ratings are one CSAT survey: the same responses and rate per day as
    support_daily's csat columns (good on June 2, bad on June 3; the offered one unrated)."""
    days = scores(loaded, "satisfaction_ratings")
    support = loaded.query(
        "SELECT date, sum(csat_responses) AS responses, "
        "sum(csat_rate * csat_responses) AS satisfied "
        "FROM marts.support_daily GROUP BY date ORDER BY date")
    assert [(d, r["responses"], r["satisfied_responses"]) for d, r in days.items()] == [
        (s["date"], s["responses"], int(s["satisfied"] or 0)) for s in support]
    assert (days[date(2025, 6, 2)]["csat_rate"], days[date(2025, 6, 3)]["csat_rate"]) == (1, 0)
    assert sum(r["responses"] for r in days.values()) == 2


def test_an_answer_edited_later_moves_its_own_day(monkeypatch, tmp_path, warehouse_url):
    """A response submitted on June 3 and edited on June 5 lands in June 5's window (the
    window follows the last change) but counts on June 3: the night of June 5 recomputes
    June 3 too."""
    world = survey_world()
    edited = next(r for r in world.survey_responses if r.id == 106)
    edited.value, edited.updated_at = 9, at(5, 8)
    cut = date(2025, 6, 5)
    run_world(monkeypatch, tmp_path, world, warehouse_url, START, cut, crm=True)
    assert scores(Warehouse(warehouse_url), "1")[date(2025, 6, 3)]["responses"] == 0
    warehouse = run_world(monkeypatch, tmp_path, world, warehouse_url, cut, END, crm=True,
                          first_partition=START)
    june3 = scores(warehouse, "1")[date(2025, 6, 3)]
    assert (june3["responses"], june3["promoters"], june3["nps"]) == (1, 1, pytest.approx(100))


def test_a_response_archived_later_leaves_its_day(monkeypatch, tmp_path, warehouse_url):
    """June 2's detractor (104) is archived on June 5: the night of June 5 lands the
    archiving and recomputes June 2 without it (NPS 25 -> 100 x 2 / 3)."""
    world = survey_world()
    cut = date(2025, 6, 5)
    first = run_world(monkeypatch, tmp_path, world, warehouse_url, START, cut, crm=True)
    assert scores(first, "1")[date(2025, 6, 2)]["nps"] == pytest.approx(25)
    archived = next(r for r in world.survey_responses if r.id == 104)
    archived.archived, archived.archived_at = True, at(5, 8)
    warehouse = run_world(monkeypatch, tmp_path, world, warehouse_url, cut, END, crm=True,
                          first_partition=START)
    june2 = scores(warehouse, "1")[date(2025, 6, 2)]
    assert (june2["responses"], june2["detractors"]) == (3, 0)
    assert june2["nps"] == pytest.approx(200 / 3)


def test_an_unanswered_response_is_left_out_of_the_scores(monkeypatch, tmp_path, warehouse_url):
    """A submission without a value (or, on CSAT, without HubSpot's group) is a response but
    no answer: NPS and CSAT are over the answered ones."""
    world = survey_world()
    world.survey_responses += [
        SurveyResponse(107, 1, "Quarterly NPS", "NPS", None, at(2, 18)),
        SurveyResponse(205, 2, "Support CSAT", "CSAT", None, at(2, 18)),
    ]
    warehouse = run_world(monkeypatch, tmp_path, world, warehouse_url, START, END, crm=True)
    nps_day = scores(warehouse, "1")[date(2025, 6, 2)]
    csat_day = scores(warehouse, "2")[date(2025, 6, 2)]
    assert (nps_day["responses"], nps_day["answered_responses"]) == (5, 4)
    assert nps_day["nps"] == pytest.approx(25)
    assert (csat_day["responses"], csat_day["answered_responses"]) == (4, 3)
    assert csat_day["csat_rate"] == pytest.approx(1 / 3)


def test_account_health_scores_the_accounts_nps(loaded):
    """NPS by the responding contacts' companies over the 90 days: Acme's 10, 9, 8 and 3
    (NPS 25, component 62.5), Globex's 6 (NPS -100, component 0); the other components as
    test_revenue_marts works them out, the weights rescaled over 1.2."""
    rows = {r["account_id"]: r for r in loaded.query("SELECT * FROM marts.account_health")}
    acme, globex, initech = rows["1"], rows["2"], rows["3"]
    assert (acme["nps_responses"], acme["nps"], acme["nps_component"]) == (4, 25, 62.5)
    assert acme["health_score"] == pytest.approx(round((60 + 0.2 * 62.5) / 1.2, 1))  # 60.4
    assert (globex["nps_responses"], globex["nps"], globex["nps_component"]) == (1, -100, 0)
    responsiveness = 100 * (1440 - 120) / 1380
    assert globex["health_score"] == pytest.approx(
        round((30 + 0.2 * responsiveness + 20 + 30) / 1.2, 1))  # 82.6
    assert (initech["nps_responses"], initech["nps"], initech["nps_component"]) == (0, None,
                                                                                    None)
    assert loaded.scalar("SELECT count(*) FROM staging.survey_responses "
                         "WHERE account_id = '1'") == 5  # 101-105, the archived one too
    assert loaded.scalar("SELECT count(account_id) FROM staging.survey_responses "
                         "WHERE survey_type <> 'nps'") == 0  # contacts HubSpot did not find


def test_a_partition_after_an_upgrade_that_changed_the_columns_rebuilds_every_day(loaded):
    """A warehouse built by a version of the mart without `answered_responses`: the next
    night's partition cannot insert its rows into the old table, so the table is rebuilt for
    every day, with the new column (not only the night's day)."""
    from pipelines.settings import Settings
    from pipelines.transform_assets import build_model_days
    from transforms import MART_MODELS

    before = loaded.query("SELECT * FROM marts.survey_scores_daily ORDER BY date, survey_id")
    loaded.execute("ALTER TABLE marts.survey_scores_daily DROP COLUMN answered_responses")
    model = next(m for m in MART_MODELS if m.name == "survey_scores_daily")
    rows, first_day = build_model_days(model, loaded, Settings.from_env(), date(2025, 6, 9),
                                       date(2025, 6, 10))
    assert (rows, first_day) == (DAYS * 4, date(1, 1, 1))
    after = loaded.query("SELECT * FROM marts.survey_scores_daily ORDER BY date, survey_id")
    assert after == before


def test_a_partition_into_an_unchanged_table_recomputes_only_its_days(loaded):
    """The column check finds every daily mart's stored columns (names and types) equal to
    its query's on both engines: a night recomputes its day only, never the whole table.
    A column stored with another type (a model that changed one) rebuilds the table."""
    from pipelines.settings import Settings
    from pipelines.transform_assets import build_model_days
    from transforms import MART_MODELS

    day = date(2025, 6, 9)
    for model in (m for m in MART_MODELS if m.period == "day" and m.date_column):
        _, first_day = build_model_days(model, loaded, Settings.from_env(), day,
                                        date(2025, 6, 10))
        assert first_day <= day and first_day != date(1, 1, 1), model.name
    loaded.execute("ALTER TABLE marts.survey_scores_daily ALTER COLUMN ces_avg TYPE bigint")
    model = next(m for m in MART_MODELS if m.name == "survey_scores_daily")
    _, first_day = build_model_days(model, loaded, Settings.from_env(), day, date(2025, 6, 10))
    assert first_day == date(1, 1, 1)
    assert loaded.scalar("SELECT max(ces_avg) FROM marts.survey_scores_daily "
                         "WHERE survey_id = '3'") == pytest.approx(5.5)


def test_the_demo_summary_rolls_the_days_up_by_survey(loaded, warehouse_url):
    """The summary `make demo` prints, on both engines: over the last 30 days (all of the
    loaded week), each survey once, its score from the summed counts."""
    from pipelines.cli import kpi_summary

    surveys = {s["survey_id"]: s for s in kpi_summary(warehouse_url)["surveys"]}
    assert sorted(surveys) == ["1", "2", "3", "satisfaction_ratings"]
    nps, csat, ces = surveys["1"], surveys["2"], surveys["3"]
    # NPS: 10, 9, 8, 3 and 6: 2 promoters, 2 detractors of 5 -> 0; named as on June 9.
    assert (nps["survey_name"], nps["responses"], nps["nps"]) == ("Quarterly NPS (Q2)", 5, 0)
    assert (csat["responses"], csat["csat_rate"]) == (4, pytest.approx(1 / 4))
    assert ces["ces_avg"] == pytest.approx((7 + 4 + 2) / 3) and ces["scale_max"] == 7
    assert surveys["satisfaction_ratings"]["csat_rate"] == pytest.approx(1 / 2)
