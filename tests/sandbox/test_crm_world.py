"""The generated CRM side: determinism, shared domains, contract histories, survey responses,
end-to-end paging."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from statistics import mean

import pytest
import requests

from sandbox import Sandbox, World, generate_world
from sandbox import generate as generate_module
from sandbox.crm_common import add_months
from sandbox.crm_generate import (
    CONTACT_ID_BASE,
    generate_crm,
    generate_survey_responses,
    support_experience,
)
from sandbox.world import SURVEY_SCALES, Deal

END = date(2025, 6, 30)


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(seed=7, tickets=3000, days=60, end_date=END)


def test_crm_is_deterministic_and_leaves_the_helpdesk_unchanged(world: World) -> None:
    again = generate_world(seed=7, tickets=3000, days=60, end_date=END)
    assert again.crm_companies == world.crm_companies and again.deals == world.deals
    without = generate_world(seed=7, tickets=3000, days=60, end_date=END, crm_months=0)
    assert without.crm_companies == [] and without.deals == []
    for name in ("users", "organizations", "tickets", "calls", "satisfaction_ratings"):
        assert getattr(without, name) == getattr(world, name), name
    other = generate_world(seed=8, tickets=3000, days=60, end_date=END)
    assert other.deals != world.deals


def test_companies_share_the_organisations_domains(world: World) -> None:
    org_domains = {o.domain_names[0] for o in world.organizations}
    crm_domains = {c.domain for c in world.crm_companies}
    mapped = org_domains & crm_domains
    assert 0.8 <= len(mapped) / len(org_domains) < 1.0  # ~10 % without a CRM company
    crm_only = [c for c in world.crm_companies if c.domain not in org_domains]
    assert crm_only and any(c.archived for c in crm_only)
    assert len({c.id for c in world.crm_companies}) == len(world.crm_companies)
    industries = {c.industry for c in world.crm_companies}
    assert None in industries and len(industries) >= 5


def _mrr(deals: list[Deal], month_end: date) -> dict[int, float]:
    out: dict[int, float] = {}
    for d in deals:
        if d.stage != "closedwon" or d.archived or d.company_id is None:
            continue
        term = d.term_months or 12
        if d.close_date <= month_end < add_months(d.close_date, term):
            value = d.mrr if d.mrr is not None else (d.amount or 0) / term
            out[d.company_id] = out.get(d.company_id, 0.0) + value
    return out


def test_contracts_start_renew_expand_contract_churn_and_come_back(world: World) -> None:
    won = [d for d in world.deals if d.stage == "closedwon" and not d.archived]
    assert {d.term_months for d in won} >= {1, 12, None}
    assert all(d.close_date <= END for d in won)
    assert all(d.mrr is None or d.mrr * (d.term_months or 12) == d.amount for d in won)
    assert any(d.mrr is None for d in won) and any(d.mrr is not None for d in won)
    assert all(d.created_at <= (d.updated_at or d.created_at) for d in world.deals)
    assert {d.stage for d in world.deals} > {"closedwon", "closedlost"}
    assert any(d.archived for d in world.deals) and any(d.company_id is None
                                                        for d in world.deals)
    assert min(d.close_date for d in won) < add_months(END.replace(day=1), -23)
    moves = {"new": 0, "expansion": 0, "contraction": 0, "churned": 0, "reactivation": 0}
    previous: dict[int, float] = {}
    paid: set[int] = set()
    for k in range(24):
        first = add_months(END.replace(day=1), k - 23)
        month_end = add_months(first, 1).replace(day=1).toordinal() - 1
        current = _mrr(won, date.fromordinal(month_end))
        for company, value in current.items():
            before = previous.get(company, 0.0)
            if company not in paid:
                moves["new"] += k > 0
            elif before == 0:
                moves["reactivation"] += 1
            elif value > before:
                moves["expansion"] += 1
            elif value < before:
                moves["contraction"] += 1
        moves["churned"] += sum(1 for c, v in previous.items() if v > 0 and c not in current)
        paid |= set(current)
        previous = current
    assert all(count > 0 for count in moves.values()), moves


def test_support_experience_reads_ratings_and_first_replies(crm_world: World) -> None:
    experience = support_experience(crm_world)
    # Acme (100): ticket 1 rated good, first agent reply after 1 hour
    assert experience[100] == (0.0, 0.0)
    # Globex (101): ticket 2, rating only offered (unanswered: not counted); its first public
    # agent reply came 24.5 hours later (the private hold note before it does not count)
    assert experience[101] == (0.0, 1.0)
    # a bad rating on an organisation's ticket counts
    world = dataclasses.replace(crm_world, tickets=[
        dataclasses.replace(t, organization_id=101) if t.id == 3 else t
        for t in crm_world.tickets])
    assert support_experience(world)[101] == (1.0, 0.5)


def test_churn_is_more_likely_after_bad_support() -> None:
    base = generate_world(seed=3, tickets=2000, days=60, end_date=END)
    churned_bad = churned_good = total_bad = total_good = 0
    for seed in range(4):
        w = generate_world(seed=seed, tickets=2000, days=60, end_date=END)
        exp = support_experience(w)
        org_by_domain = {o.domain_names[0]: o.id for o in w.organizations}
        for c in w.crm_companies:
            org = org_by_domain.get(c.domain or "")
            if org is None:
                continue
            bad, long = exp.get(org, (0.0, 0.0))
            deals = [d for d in w.deals if d.company_id == c.id and d.stage == "closedwon"
                     and not d.archived]
            if not deals:
                continue
            ended = max(add_months(d.close_date, d.term_months or 12) for d in deals) <= END
            if bad + long > 0.5:
                total_bad += 1
                churned_bad += ended
            elif bad + long < 0.1:
                total_good += 1
                churned_good += ended
    assert base.deals and total_bad and total_good
    assert churned_bad / total_bad > churned_good / total_good


@pytest.fixture
def big_sb(world: World) -> Iterator[Sandbox]:
    with Sandbox(world, hubspot_rate_limit_per_10s=None,
                 hubspot_search_rate_limit_per_second=None) as sb:
        yield sb


def test_generated_world_pages_end_to_end(big_sb: Sandbox, world: World) -> None:
    creds = big_sb.credentials
    hub = requests.Session()
    hub.headers["Authorization"] = f"Bearer {creds['hubspot_access_token']}"
    url: str | None = big_sb.url + "/crm/v3/objects/deals?limit=100&associations=companies" \
        "&properties=dealname,amount,closedate,dealstage,hs_mrr,contract_term_months"
    ids: list[str] = []
    pages = 0
    while url:
        body = hub.get(url).json()
        ids += [d["id"] for d in body["results"]]
        pages += 1
        url = body.get("paging", {}).get("next", {}).get("link")
    live = sorted(d.id for d in world.deals if not d.archived)
    assert [int(i) for i in ids] == live and pages == -(-len(live) // 100) > 1

    sf = requests.Session()
    sf.headers["Authorization"] = f"Bearer {creds['salesforce_access_token']}"
    sf.headers["Sforce-Query-Options"] = "batchSize=200"
    r = sf.get(f"{creds['salesforce_instance_url']}/services/data/v60.0/queryAll",
               params={"q": "SELECT Id, AccountId, Amount, CloseDate, IsWon, IsDeleted, "
                       "SystemModstamp FROM Opportunity ORDER BY SystemModstamp"})
    records = []
    while True:
        body = r.json()
        records += body["records"]
        if body["done"]:
            break
        r = sf.get(creds["salesforce_instance_url"] + body["nextRecordsUrl"])
    assert len(records) == len(world.deals) == body["totalSize"]
    assert len({rec["Id"] for rec in records}) == len(records)
    assert sum(rec["IsDeleted"] for rec in records) == sum(d.archived for d in world.deals)


def test_world_dataclasses_are_hand_buildable() -> None:
    deal = Deal(1, None, "x", None, date(2024, 1, 1))
    assert deal.stage == "closedwon" and deal.term_months == 12 and not deal.archived
    assert {f.name for f in dataclasses.fields(World)} >= {"crm_companies", "deals"}


def test_survey_responses_are_deterministic_and_change_nothing_else(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    again = generate_world(seed=7, tickets=3000, days=60, end_date=END)
    assert again.survey_responses == world.survey_responses and world.survey_responses
    other = generate_world(seed=8, tickets=3000, days=60, end_date=END)
    assert other.survey_responses != world.survey_responses
    assert generate_world(seed=7, tickets=300, days=60, end_date=END,
                          crm_months=0).survey_responses == []
    # a world generated without the surveys has the same helpdesk, companies and deals
    monkeypatch.setattr(generate_module, "generate_survey_responses", lambda *a, **k: [])
    without = generate_world(seed=7, tickets=3000, days=60, end_date=END)
    assert without.survey_responses == []
    for name in ("users", "organizations", "groups", "schedules", "tickets", "calls",
                 "satisfaction_ratings", "crm_companies", "deals"):
        assert getattr(without, name) == getattr(world, name), name
    # the generators only read the world: running them again gives the same data
    companies, deals = generate_crm(world, 7, END, 24)
    assert (companies, deals) == (world.crm_companies, world.deals)
    assert generate_survey_responses(world, companies, 7, END, 60) == world.survey_responses
    assert (world.crm_companies, world.deals) == (companies, deals)


def test_generated_surveys_have_three_types_on_their_scales(world: World) -> None:
    responses = world.survey_responses
    surveys = {(r.survey_id, r.survey_name, r.survey_type) for r in responses}
    assert surveys == {(1, "Quarterly NPS", "NPS"), (2, "Support CSAT", "CSAT"),
                       (3, "Support effort", "CES")}
    by_type = {t: [r for r in responses if r.survey_type == t] for t in SURVEY_SCALES}
    # CSAT and CES after ~1 in 20 solved tickets each, NPS a handful a week
    assert 60 <= len(by_type["CSAT"]) <= 250 and 60 <= len(by_type["CES"]) <= 250
    assert 8 <= len(by_type["NPS"]) <= 60
    for survey_type, items in by_type.items():
        low, high = SURVEY_SCALES[survey_type]
        values = {r.value for r in items}
        assert all(v is not None and low <= v <= high for v in values), survey_type
        assert len(values) >= 3, survey_type  # not one constant answer
    assert {r.channel for r in by_type["NPS"]} == {"EMAIL"}
    assert {r.channel for r in by_type["CSAT"]} == {"EMAIL", "WEB"}
    assert len({r.id for r in responses}) == len(responses)
    assert [r.id for r in responses] == sorted(r.id for r in responses)
    end_users = sorted(u.id for u in world.users if u.role == "end-user")
    contacts = {r.contact_id for r in responses}
    assert all(c is not None and CONTACT_ID_BASE <= c < CONTACT_ID_BASE + len(end_users)
               for c in contacts)
    assert 0 < sum(r.content is not None for r in responses) < len(responses)
    start = datetime(2025, 5, 2, tzinfo=UTC)  # the first of the world's 60 days
    end = datetime.combine(END + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    for r in responses:
        created = r.created_at or r.submitted_at
        updated = r.updated_at or created
        assert r.submitted_at.tzinfo is not None and start <= r.submitted_at <= created
        assert created <= updated < end
        assert r.response_group is None  # HubSpot's grouping of the value
        if r.archived:
            assert r.archived_at is not None and created <= r.archived_at <= updated
    assert 1 <= sum(r.archived for r in responses) <= len(responses) // 20
    edited = [r for r in responses if not r.archived and r.updated_at and r.created_at
              and r.updated_at > r.created_at]
    assert 1 <= len(edited) <= len(responses) // 10


def test_survey_scores_are_worse_after_bad_support(world: World) -> None:
    pain = {org: bad + long / 2 for org, (bad, long) in support_experience(world).items()}
    middle = sorted(pain.values())[len(pain) // 2]
    end_users = sorted((u for u in world.users if u.role == "end-user"), key=lambda u: u.id)
    org_of = {CONTACT_ID_BASE + k: u.organization_id for k, u in enumerate(end_users)}
    for survey_type in ("CSAT", "CES"):
        worse = [r.value for r in world.survey_responses if r.survey_type == survey_type
                 and pain.get(org_of[r.contact_id], 0.0) > middle]
        better = [r.value for r in world.survey_responses if r.survey_type == survey_type
                  and org_of[r.contact_id] in pain and pain[org_of[r.contact_id]] <= middle]
        assert worse and better and mean(worse) < mean(better), survey_type


def test_generated_feedback_submissions_page_end_to_end(big_sb: Sandbox, world: World) -> None:
    hub = requests.Session()
    hub.headers["Authorization"] = f"Bearer {big_sb.credentials['hubspot_access_token']}"
    seen: dict[bool, list[int]] = {}
    for archived in (False, True):
        url: str | None = (f"{big_sb.url}/crm/v3/objects/feedback_submissions?limit=100"
                           f"&archived={str(archived).lower()}"
                           "&properties=hs_survey_type,hs_value,hs_submission_timestamp")
        ids: list[int] = []
        while url:
            body = hub.get(url).json()
            ids += [int(r["id"]) for r in body["results"]]
            assert all(r["properties"]["hs_value"].isdigit() for r in body["results"])
            url = body.get("paging", {}).get("next", {}).get("link")
        seen[archived] = ids
    assert seen[False] == sorted(r.id for r in world.survey_responses if not r.archived)
    assert seen[True] == sorted(r.id for r in world.survey_responses if r.archived)
