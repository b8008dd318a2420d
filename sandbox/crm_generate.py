"""Seeded CRM side of a generated world: companies and deals (:func:`generate_crm`),
HubSpot survey responses (:func:`generate_survey_responses`) and the contacts who gave them
(:func:`generate_crm_contacts`).

Each uses its own ``random.Random`` stream (seeded from the world's seed), so the
helpdesk part of a world is byte-for-byte what it was without the CRM, and the
companies and deals are what they were without the surveys.

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

Survey responses (HubSpot feedback submissions), over the helpdesk's ``days``
days ending with its last day:

* three surveys: NPS (``Quarterly NPS``, 0-10, by email, to contacts of the
  organisations that have a CRM company, a contact at most once per 90 days,
  about ``tickets / 1000`` a week, at least 2), CSAT (``Support CSAT``,
  HubSpot's 0-2 faces) and CES (``Support effort``, 1-7) answered after ~5 %
  of solved tickets each (EMAIL, or WEB for web, chat and messaging tickets);
* scores worse for organisations with a worse support experience
  (:func:`support_experience`) and, for CSAT and CES, for tickets rated bad in
  Zendesk or whose first agent reply took over 24 hours;
* free text on some answers (more often on detractors), ~2 % edited later
  (``updated_at`` after the submission), ~1 % archived.

Contacts (HubSpot contacts), one per contact who answered a survey (its own stream too, so
the responses are what they are without it):

* ``company_id`` = the live CRM company of the end user's organisation (by its first email
  domain); ``None`` for end users without an organisation or whose organisation has no CRM
  company (they answer CSAT and CES after their tickets, never NPS);
* created before the contact's first response (and before the end user's Zendesk creation),
  modified at or after the last one (an answer updates the contact); once there are 20
  contacts, one with a company is archived after its last answer (its responses stay, so
  a batch read of it answers 207).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sandbox.crm_common import add_months
from sandbox.world import (
    DEAL_STAGES,
    SURVEY_SCALES,
    CrmCompany,
    CrmContact,
    Deal,
    Organization,
    SurveyResponse,
    Ticket,
    World,
    survey_response_group,
)

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
FEEDBACK_ID_BASE = 8_000_000_001
#: HubSpot contact id of the k-th end user (by user id) of the helpdesk.
CONTACT_ID_BASE = 7_000_000_001
#: The generated surveys by hs_survey_type: (hs_survey_id, hs_survey_name).
SURVEYS = {"NPS": (1, "Quarterly NPS"), "CSAT": (2, "Support CSAT"), "CES": (3, "Support effort")}
#: Share of solved tickets answered with a CSAT / a CES response.
TICKET_SURVEY_SHARE = {"CSAT": 0.05, "CES": 0.05}
#: Ticket channels whose surveys are answered on the web (the rest by email).
WEB_CHANNELS = ("web", "chat", "native_messaging")
NPS_QUIET_DAYS = 90
#: Free-text answers by response group, and how often a response carries one.
SURVEY_COMMENTS = {
    "DETRACTOR": ("Took days to get a first answer.", "Had to explain the problem three times.",
                  "The issue came back a week later.", "Polite, but nothing got fixed.",
                  "Too hard to reach a person."),
    "PASSIVE": ("Fine, but it took a while.", "Solved in the end.", "Answer was right but slow.",
                "OK overall; the docs could be clearer."),
    "PROMOTER": ("Quick and friendly help!", "Fixed on the first reply, thanks.",
                 "Great product and great support.", "The agent went above and beyond."),
}
COMMENT_SHARE = {"DETRACTOR": 0.45, "PASSIVE": 0.2, "PROMOTER": 0.25}


def _at(day: date, rng: random.Random, start_hour: int = 8, end_hour: int = 20) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC) + timedelta(
        seconds=rng.randint(start_hour * 3600, end_hour * 3600 - 1))


def _waited_long(ticket: Ticket, staff: set[int]) -> bool:
    """Whether the ticket's first public agent reply came more than 24 hours after it."""
    first = next((u.at for u in ticket.updates[1:] if u.author_id in staff and u.comment
                  and u.comment.public), None)
    return first is not None and (first - ticket.created_at).total_seconds() > LONG_WAIT_SECONDS


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
        tickets[t.organization_id] = tickets.get(t.organization_id, 0) + 1
        if _waited_long(t, staff):
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


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def _survey_value(rng: random.Random, survey_type: str, pain: float) -> int:
    """An answer on the survey's scale; ``pain`` (about 0 = fine .. 1 = awful) lowers it."""
    low, high = SURVEY_SCALES[survey_type]
    if survey_type == "CSAT":
        unhappy = min(0.85, 0.05 + 0.75 * pain)
        neutral = 0.12 + 0.2 * min(1.0, pain)
        roll = rng.random()
        return 0 if roll < unhappy else 1 if roll < unhappy + neutral else 2
    mean, spread, drop = {"NPS": (8.6, 1.6, 5.5), "CES": (6.0, 1.0, 4.0)}[survey_type]
    return _clamp(round(rng.gauss(mean - drop * pain, spread)), low, high)


def contact_ids(world: World) -> dict[int, int]:
    """The HubSpot contact id of every end user: ``CONTACT_ID_BASE + k`` for the k-th end user
    by user id (what :func:`generate_survey_responses` puts in ``contact_id``)."""
    end_users = sorted((u for u in world.users if u.role == "end-user"), key=lambda u: u.id)
    return {u.id: CONTACT_ID_BASE + k for k, u in enumerate(end_users)}


def generate_survey_responses(world: World, companies: list[CrmCompany], seed: int,
                              last_day: date, days: int = 90) -> list[SurveyResponse]:
    """HubSpot feedback submissions (NPS, CSAT, CES) for a generated world, over its ``days``
    days ending with ``last_day`` (deterministic per seed; its own random stream, and the
    world and ``companies`` are only read). See the module docstring for what is made."""
    rng = random.Random(f"surveys:{seed}")
    first_day = last_day - timedelta(days=days - 1)
    start = datetime.combine(first_day, time(), tzinfo=UTC)
    end = datetime.combine(last_day + timedelta(days=1), time(), tzinfo=UTC)
    latest = end - timedelta(seconds=1)
    staff = {u.id for u in world.users if u.role in ("agent", "admin")}
    end_users = sorted((u for u in world.users if u.role == "end-user"), key=lambda u: u.id)
    contact_of = contact_ids(world)
    experience = support_experience(world)
    org_pain = {org: bad + 0.5 * long for org, (bad, long) in experience.items()}
    typical = sorted(org_pain.values())[len(org_pain) // 2] if org_pain else 0.0
    rated_bad = {r.ticket_id for r in world.satisfaction_ratings if r.score == "bad"}
    drafts: list[SurveyResponse] = []

    def draft(survey_type: str, value: int, at: datetime, contact: int, channel: str) -> None:
        survey_id, name = SURVEYS[survey_type]
        group = survey_response_group(survey_type, value) or "PASSIVE"
        content = rng.choice(SURVEY_COMMENTS[group]) \
            if rng.random() < COMMENT_SHARE[group] else None
        drafts.append(SurveyResponse(
            id=0, survey_id=survey_id, survey_name=name, survey_type=survey_type, value=value,
            submitted_at=at, contact_id=contact, channel=channel, content=content))

    # CSAT and CES: answered a little after a ticket's first solve in the window
    for ticket in sorted(world.tickets, key=lambda t: t.id):
        solved = next((u.at for u in ticket.updates if u.status == "solved"), None)
        contact = contact_of.get(ticket.requester_id)
        if solved is None or contact is None or not start <= solved < end:
            continue
        relative = org_pain.get(ticket.organization_id or 0, typical) - typical
        pain = max(0.0, relative + 0.5 * (ticket.id in rated_bad)
                   + 0.3 * _waited_long(ticket, staff))
        channel = "WEB" if ticket.channel in WEB_CHANNELS else "EMAIL"
        for survey_type, share in TICKET_SURVEY_SHARE.items():
            if rng.random() >= share:
                continue
            at = solved + timedelta(seconds=rng.randint(600, 2 * 86_400))
            if at < end:  # later answers are not in yet
                draft(survey_type, _survey_value(rng, survey_type, pain), at, contact, channel)

    # NPS: contacts of the CRM's (live) companies, at most once a quarter each
    domains = {c.domain for c in companies if c.domain and not c.archived}
    org_ids = {o.id for o in world.organizations if o.domain_names
               and o.domain_names[0] in domains}
    audience = [u for u in end_users if u.organization_id in org_ids]
    per_day = max(2.0, len(world.tickets) / 1000) / 7
    answered: dict[int, date] = {}
    for k in range(days):
        day = first_day + timedelta(days=k)
        rate = per_day * (1.2 if day.isoweekday() <= 5 else 0.5)
        count = int(rate) + (rng.random() < rate - int(rate))
        for _ in range(count if audience else 0):
            user = rng.choice(audience)
            contact = contact_of[user.id]
            at = _at(day, rng, 12, 23)
            if contact in answered and (day - answered[contact]).days < NPS_QUIET_DAYS:
                continue
            answered[contact] = day
            pain = max(0.0, org_pain.get(user.organization_id or 0, typical) - typical)
            draft("NPS", _survey_value(rng, "NPS", pain), at, contact, "EMAIL")

    out = sorted(drafts, key=lambda r: (r.submitted_at, r.survey_id, r.contact_id or 0))
    for k, response in enumerate(out):
        response.id = FEEDBACK_ID_BASE + k
        response.created_at = min(latest, response.submitted_at
                                  + timedelta(seconds=rng.randint(1, 90)))
    edited = [r for r in out if rng.random() < 0.02]
    archived = [r for r in out if rng.random() < 0.01]
    if len(out) >= 20:  # a handful of each, however small the world
        edited = edited or [rng.choice(out)]
        archived = archived or [rng.choice(out)]
    for r in edited:  # e.g. a contact merge or a corrected answer, days later
        created = r.created_at or r.submitted_at
        r.updated_at = max(created, min(latest, created + timedelta(
            seconds=rng.randint(3600, 20 * 86_400))))
    for r in archived:
        created = r.created_at or r.submitted_at
        r.archived = True
        r.archived_at = max(created, min(latest, created + timedelta(
            seconds=rng.randint(3600, 10 * 86_400))))
        r.updated_at = max(r.updated_at or created, r.archived_at)
    return out


def generate_crm_contacts(world: World, companies: list[CrmCompany],
                          responses: list[SurveyResponse], seed: int,
                          last_day: date) -> list[CrmContact]:
    """One HubSpot contact per distinct ``contact_id`` of ``responses`` (in id order),
    deterministic per seed from its own random stream; the world, ``companies`` and
    ``responses`` are only read. See the module docstring for what is made."""
    rng = random.Random(f"contacts:{seed}")
    latest = datetime.combine(last_day + timedelta(days=1), time(), tzinfo=UTC) \
        - timedelta(seconds=1)
    user_of = {contact: user_id for user_id, contact in contact_ids(world).items()}
    users = {u.id: u for u in world.users}
    company_by_domain: dict[str, int] = {}
    for company in sorted(companies, key=lambda c: c.id):
        if company.domain and not company.archived:
            company_by_domain.setdefault(company.domain, company.id)
    company_of_org = {o.id: company_by_domain.get(o.domain_names[0]) if o.domain_names
                      else None for o in world.organizations}
    answered: dict[int, list[datetime]] = {}
    for response in responses:
        if response.contact_id is not None:
            answered.setdefault(response.contact_id, []).append(response.submitted_at)
    out: list[CrmContact] = []
    for contact_id in sorted(answered):
        first, last = min(answered[contact_id]), max(answered[contact_id])
        user = users.get(user_of.get(contact_id, 0))
        org_id = user.organization_id if user is not None else None
        company_id = company_of_org.get(org_id) if org_id is not None else None
        anchor = min(first, user.created_at) if user is not None else first
        created = anchor - timedelta(seconds=rng.randint(600, 30 * 86_400))
        updated = min(latest, last + timedelta(seconds=rng.randint(60, 3 * 86_400)))
        out.append(CrmContact(id=contact_id, company_id=company_id, created_at=created,
                              updated_at=max(created, updated)))
    with_company = [c for c in out if c.company_id is not None]
    if len(out) >= 20 and with_company:  # one archived contact whose responses remain
        gone = rng.choice(with_company)
        gone.archived = True
        gone.updated_at = min(latest, (gone.updated_at or gone.created_at)
                              + timedelta(seconds=rng.randint(3600, 10 * 86_400)))
    return out
