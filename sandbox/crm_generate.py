"""Seeded CRM side of a generated world: companies and deals (:func:`generate_crm`).

Uses its own ``random.Random`` stream (seeded from the world's seed), so the
helpdesk part of a world is byte-for-byte what it was without the CRM.

What it produces, over ``months`` calendar months ending with the world's last
day:

* a CRM company for ~90 % of the helpdesk organisations (same name, sometimes
  with a legal suffix; ``domain`` = the organisation's first email domain), a
  few CRM-only companies (prospects and customers without a helpdesk
  organisation; a few archived), industries derived from the company's line
  of business (~8 % empty);
* won deals = contracts: annual (term 12, ~15 % with the term property empty)
  or monthly (term 1, one deal per month); renewals, expansions and
  contractions at renewal, mid-term add-on contracts, churn (no renewal) and
  some customers coming back months later; ``hs_mrr`` set on ~75 % of deals
  (always ``amount / term``);
* churn more likely for companies whose organisation's tickets got bad CSAT
  ratings or waited long (> 24 h) for a first agent reply;
* lost deals, open pipeline deals (future close dates), a few archived
  duplicates of won deals and a few deals with no company.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sandbox.crm_common import add_months
from sandbox.world import DEAL_STAGES, CrmCompany, Deal, Organization, World

COMPANY_ID_BASE = 4_000_000_001
DEAL_ID_BASE = 6_000_000_001
#: Industry by the second word of a generated organisation name.
INDUSTRY_BY_WORD = {
    "Analytics": "Technology", "Software": "Technology", "Systems": "Technology",
    "Labs": "Technology", "Robotics": "Technology", "Bakery": "Food & Beverage",
    "Foods": "Food & Beverage", "Clinics": "Healthcare", "Health": "Healthcare",
    "Logistics": "Transportation", "Travel": "Hospitality", "Media": "Media",
    "Studios": "Media", "Motors": "Manufacturing", "Textiles": "Manufacturing",
    "Works": "Manufacturing", "Outfitters": "Retail", "Partners": "Consulting",
    "Ventures": "Finance", "Energy": "Energy",
}
SUFFIXES = (" Inc.", " Ltd", " GmbH", " LLC")
CRM_ONLY_FIRST = ("Alder", "Basalt", "Canyon", "Drift", "Echo", "Fjord", "Glacier", "Hollow",
                  "Indigo", "Jasper", "Kestrel", "Lagoon", "Mesa", "Onyx", "Pebble", "Quill")
#: Base churn probability at a renewal, by plan (annual renewals are yearly).
BASE_CHURN = {12: 0.10, 1: 0.02}
LONG_WAIT_SECONDS = 24 * 3600


def _at(day: date, rng: random.Random, start_hour: int = 8, end_hour: int = 20) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC) + timedelta(
        seconds=rng.randint(start_hour * 3600, end_hour * 3600 - 1))


def support_experience(world: World) -> dict[int, tuple[float, float]]:
    """Per organisation: (share of bad among answered ratings, share of tickets whose
    first public agent reply took more than 24 hours)."""
    staff = {u.id for u in world.users if u.role in ("agent", "admin")}
    org_of = {t.id: t.organization_id for t in world.tickets}
    tickets: dict[int, int] = {}
    long_waits: dict[int, int] = {}
    for t in world.tickets:
        if t.organization_id is None:
            continue
        first = next((u.at for u in t.updates[1:] if u.author_id in staff and u.comment
                      and u.comment.public), None)
        tickets[t.organization_id] = tickets.get(t.organization_id, 0) + 1
        if first is not None and (first - t.created_at).total_seconds() > LONG_WAIT_SECONDS:
            long_waits[t.organization_id] = long_waits.get(t.organization_id, 0) + 1
    rated: dict[int, int] = {}
    bad: dict[int, int] = {}
    for r in world.satisfaction_ratings:
        org = org_of.get(r.ticket_id)
        if org is None or r.score not in ("good", "bad"):
            continue
        rated[org] = rated.get(org, 0) + 1
        bad[org] = bad.get(org, 0) + (r.score == "bad")
    return {org: (bad.get(org, 0) / rated[org] if rated.get(org) else 0.0,
                  long_waits.get(org, 0) / n) for org, n in tickets.items()}


class _CrmSim:
    def __init__(self, rng: random.Random, last_day: date, months: int) -> None:
        self.rng = rng
        self.last_day = last_day
        self.end = datetime.combine(last_day + timedelta(days=1), time(), tzinfo=UTC)
        self.window_start = add_months(last_day.replace(day=1), -(months - 1))
        self.deals: list[Deal] = []

    def deal(self, company: CrmCompany | None, name: str, close: date, stage: str,
             term: int | None, mrr: float | None, amount: float | None,
             lead_days: tuple[int, int] = (5, 45)) -> Deal:
        rng = self.rng
        created = _at(close - timedelta(days=rng.randint(*lead_days)), rng)
        closed_at = _at(close, rng)
        updated = min(self.end - timedelta(seconds=1),
                      closed_at + timedelta(seconds=rng.randint(0, 3 * 86_400)))
        if stage not in ("closedwon", "closedlost"):
            updated = min(self.end - timedelta(seconds=1),
                          created + timedelta(seconds=rng.randint(0, 20 * 86_400)))
        created = min(created, updated)
        deal = Deal(id=0, company_id=company.id if company else None, name=name, amount=amount,
                    close_date=close, stage=stage, term_months=term, mrr=mrr,
                    created_at=created, updated_at=updated)
        self.deals.append(deal)
        return deal

    def contract(self, company: CrmCompany, close: date, term: int, mrr: int,
                 label: str) -> None:
        rng = self.rng
        show_term: int | None = term
        if term == 12 and rng.random() < 0.15:
            show_term = None  # empty property: 12 by the documented default
        show_mrr = float(mrr) if rng.random() < 0.75 else None
        plan = "Annual" if term == 12 else "Monthly"
        lead = (5, 45) if label in ("New business", "Reactivation", "Add-on") else (1, 10)
        self.deal(company, f"{company.name} - {plan} {label} {close:%Y-%m}", close, "closedwon",
                  show_term, show_mrr, float(mrr * term), lead)

    def customer(self, company: CrmCompany, hazard: float) -> None:
        """Contracts of one customer from its first purchase to the end of the window."""
        rng = self.rng
        term = 12 if rng.random() < 0.55 else 1
        mrr = max(50, int(round(rng.lognormvariate(6.6, 0.8), -1)))
        if rng.random() < 0.55:
            start = add_months(self.window_start, -rng.randint(0, 11 if term == 12 else 0))
        else:
            start = add_months(self.window_start, rng.randint(1, 22))
        t = start.replace(day=rng.randint(1, 28))
        label = "New business"
        while t <= self.last_day:
            self.contract(company, t, term, mrr, label)
            if term == 12 and rng.random() < 0.12:
                addon = add_months(t, rng.randint(3, 9))
                if addon <= self.last_day:
                    self.contract(company, addon, 12, max(20, int(mrr * rng.uniform(0.1, 0.3))),
                                  "Add-on")
            renewal = add_months(t, term)
            if renewal > self.last_day:
                return
            if rng.random() < min(0.9, BASE_CHURN[term] * hazard):
                if rng.random() >= 0.35:
                    return
                t = add_months(renewal, rng.randint(2, 10))
                mrr = max(50, int(mrr * rng.uniform(0.7, 1.2)))
                label = "Reactivation"
                continue
            roll = rng.random()
            step = 1 if term == 12 else 6  # monthly plans change price less often per deal
            if roll < 0.18 / step:
                mrr = int(mrr * rng.uniform(1.1, 1.6))
            elif roll < 0.26 / step:
                mrr = max(50, int(mrr * rng.uniform(0.6, 0.9)))
            t, label = renewal, "Renewal"


def _company_for(org: Organization, rng: random.Random, cid: int) -> CrmCompany:
    name = org.name
    if rng.random() < 0.2:
        name += rng.choice(SUFFIXES)
    word = org.name.split()[1] if len(org.name.split()) > 1 else ""
    industry = None if rng.random() < 0.08 else INDUSTRY_BY_WORD.get(word, "Other")
    return CrmCompany(id=cid, name=name, domain=org.domain_names[0] if org.domain_names else None,
                      industry=industry)


def generate_crm(world: World, seed: int, last_day: date,
                 months: int = 24) -> tuple[list[CrmCompany], list[Deal]]:
    """CRM companies and deals for a generated world (deterministic per seed)."""
    if months < 1:
        return [], []
    rng = random.Random(f"crm:{seed}")
    sim = _CrmSim(rng, last_day, months)
    experience = support_experience(world)
    companies: list[tuple[CrmCompany, float, bool]] = []  # (company, hazard, customer?)
    cid = COMPANY_ID_BASE
    for org in sorted(world.organizations, key=lambda o: o.id):
        if rng.random() < 0.10:
            continue  # an organisation without a CRM company
        company = _company_for(org, rng, cid)
        cid += 1
        bad_share, long_share = experience.get(org.id, (0.0, 0.0))
        companies.append((company, 1 + 4 * bad_share + 2 * long_share, rng.random() < 0.88))
    used = {c.domain for c, _, _ in companies} | {
        d for o in world.organizations for d in o.domain_names}
    for k in range(max(2, len(world.organizations) // 10)):
        first = CRM_ONLY_FIRST[k % len(CRM_ONLY_FIRST)]
        second = rng.choice(sorted(INDUSTRY_BY_WORD))
        domain = f"{first}{second}{k}.example".lower()
        if domain in used:
            continue
        used.add(domain)
        industry = None if rng.random() < 0.08 else INDUSTRY_BY_WORD[second]
        company = CrmCompany(id=cid, name=f"{first} {second}", domain=domain, industry=industry)
        cid += 1
        companies.append((company, 1.0, rng.random() < 0.5))

    open_stages = [s for s in DEAL_STAGES if s not in ("closedwon", "closedlost")]
    for company, hazard, is_customer in companies:
        if is_customer:
            sim.customer(company, hazard)
        if rng.random() < 0.3:
            close = sim.window_start + timedelta(
                days=rng.randint(0, (last_day - sim.window_start).days))
            amount = float(max(50, int(round(rng.lognormvariate(8.5, 0.8), -2))))
            sim.deal(company, f"{company.name} - Lost opportunity {close:%Y-%m}", close,
                     "closedlost", 12, None, amount)
        if rng.random() < 0.15:
            close = last_day + timedelta(days=rng.randint(10, 90))
            amount = float(max(50, int(round(rng.lognormvariate(8.5, 0.8), -2))))
            sim.deal(company, f"{company.name} - Pipeline {close:%Y-%m}", close,
                     rng.choice(open_stages), 12, None, amount, lead_days=(60, 120))
    for k in range(3):  # deals nobody associated with a company
        close = last_day - timedelta(days=rng.randint(5, 200))
        sim.deal(None, f"Unassigned opportunity {k + 1}", close,
                 "closedlost" if k else "qualifiedtobuy", 12, None, 1200.0)

    won = [d for d in sim.deals if d.stage == "closedwon"]
    for original in won:
        if rng.random() < 0.02:
            copy = Deal(id=0, company_id=original.company_id,
                        name=f"{original.name} (duplicate)", amount=original.amount,
                        close_date=original.close_date, stage="closedwon",
                        term_months=original.term_months, mrr=original.mrr,
                        created_at=original.created_at,
                        updated_at=min(sim.end - timedelta(seconds=1),
                                       original.created_at + timedelta(hours=2)),
                        archived=True)
            sim.deals.append(copy)

    deals = sorted(sim.deals, key=lambda d: (d.created_at, d.company_id or 0, d.name))
    for k, deal in enumerate(deals):
        deal.id = DEAL_ID_BASE + k
    first_deal: dict[int, datetime] = {}
    for deal in deals:
        if deal.company_id is not None:
            first_deal.setdefault(deal.company_id, deal.created_at)
    org_domains = {d for o in world.organizations for d in o.domain_names}
    out: list[CrmCompany] = []
    archived_one = False
    for company, _, _ in companies:
        anchor = first_deal.get(company.id, _at(
            sim.window_start + timedelta(days=rng.randint(0, (last_day - sim.window_start).days)),
            rng))
        company.created_at = anchor - timedelta(seconds=rng.randint(3600, 120 * 86_400))
        company.updated_at = min(sim.end - timedelta(seconds=1), company.created_at + timedelta(
            seconds=rng.randint(0, max(1, int((sim.end - company.created_at).total_seconds())))))
        if company.domain not in org_domains and company.id not in first_deal \
                and (rng.random() < 0.25 or not archived_one):
            archived_one = True
            company.archived = True
            company.archived_at = company.updated_at
        out.append(company)
    return out, deals
