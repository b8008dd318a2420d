"""The generated CRM side: determinism, shared domains, contract histories, end-to-end paging."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date

import pytest
import requests

from sandbox import Sandbox, World, generate_world
from sandbox.crm_common import add_months
from sandbox.crm_generate import support_experience
from sandbox.world import Deal

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
