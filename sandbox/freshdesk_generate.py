"""Seeded Freshdesk side of a generated world (:func:`generate_freshdesk`): groups, agents,
contacts, tickets with their full histories, and satisfaction ratings.

It draws from its own ``random.Random(f"freshdesk:{seed}")`` and only reads the world (the
Zendesk end users and organisations become the contacts and companies), so every other
figure of the world is what it is without it. What it produces:

* the five groups of the helpdesk (Support, Billing, Technical, Onboarding, Escalations)
  and ten agents: the account administrator (the API key's owner), six full-time agents,
  two occasional (day-pass) agents and one agent deactivated a third of the way through
  the window (``active=False``; works tickets only before that);
* tickets over the world's days, weekday and daytime (UTC) heavy: ~45 % email, ~22 %
  portal, ~10 % phone, ~12 % chat, ~3 % feedback widget, ~6 % outbound email (source 10:
  an agent writes first, the ticket starts Pending and assigned);
* per ticket a history of events, each becoming a ticket activity (the first is the
  creation, ``new_ticket``): a dispatch'r rule routing most tickets to the topic's group;
  an agent taking the ticket (business hours Mon-Fri 13:00-22:00 UTC, minutes for chat and
  phone, hours for email); private notes; priority raises; public replies that set Pending,
  Waiting on Customer (6), Waiting on Third Party (7) or Resolved; the requester's replies
  (which set the ticket back to Open, also from Resolved: a reopen); third parties coming
  back; agents resolving quiet tickets; the supervisor rule "Close resolved tickets after
  48 hours" closing resolved tickets at the next hourly run after 48 hours (performer
  system); ~1 % marked spam, ~0.5 % deleted; tickets still open or waiting at the end;
* satisfaction ratings (the default survey's 5-point scale, mostly happy) on ~35 % of
  resolved tickets, 1 hour to 2 days after the resolution, never after the last day;
* time entries (:func:`freshdesk_time_entries`, from a stream of their own) for about half
  the agents' replies and notes: mostly timers running up to the reply, some logged by hand
  afterwards, a few of those days later and dated back to the work.
"""

from __future__ import annotations

import random
from bisect import bisect_left
from datetime import UTC, datetime

from sandbox import texts
from sandbox.business_time import next_staffed
from sandbox.world import (
    FreshdeskAgent,
    FreshdeskBusinessHours,
    FreshdeskCompany,
    FreshdeskContact,
    FreshdeskEvent,
    FreshdeskGroup,
    FreshdeskRating,
    FreshdeskTicket,
    FreshdeskTimeEntry,
    World,
)

DAY = 86_400
HOUR = 3_600
MINUTE = 60
GROUP_ID_BASE = 48_000_000_001
AGENT_ID_BASE = 47_000_000_001
CONTACT_ID_BASE = 46_000_000_000
COMPANY_ID_BASE = 45_000_000_000
RATING_ID_BASE = 49_000_000_001
TIME_ENTRY_ID_BASE = 43_000_000_001
BUSINESS_HOURS_ID_BASE = 42_000_000_001
#: The business calendar the Escalations group follows.
EUROPE_HOURS_ID = BUSINESS_HOURS_ID_BASE + 1
OPEN, PENDING, RESOLVED, CLOSED, WAITING_CUSTOMER, WAITING_THIRD_PARTY = 2, 3, 4, 5, 6, 7
#: (source, weight): Email, Portal, Phone, Chat, Feedback Widget, Outbound Email.
SOURCES = ((1, 45), (2, 22), (3, 10), (7, 12), (9, 3), (10, 6))
PRIORITIES = ((1, 45), (2, 35), (3, 15), (4, 5))
TYPES = ("Question", "Incident", "Problem", "Feature Request", "Refund")
#: Agents: (name index, group indexes, occasional); the last one is deactivated.
AGENT_GROUPS = ((0, 1, 2, 3, 4), (0,), (0, 3), (1,), (1, 0), (2,), (2, 4), (0,), (3,), (0, 2))
OCCASIONAL = frozenset({7, 8})
DEACTIVATED = 9
CLOSE_RULE = "Close resolved tickets after 48 hours"
#: Automation rule types: 1 dispatch'r (on creation), 3 supervisor (time-based).
DISPATCHR, SUPERVISOR = 1, 3
#: Arrival weight per UTC hour (customers mostly in the Americas and Europe).
HOUR_WEIGHTS = (3, 2, 2, 1, 1, 1, 2, 3, 5, 7, 9, 10, 11, 12, 13, 13, 13, 12, 11, 10, 8, 6, 5, 4)
RATING_WEIGHTS = ((103, 45), (102, 25), (100, 14), (-102, 9), (-103, 7))
#: Minutes an agent spends on one reply or note, by ticket source (phone and chat: the
#: conversation itself); others: email-like.
WORK_MINUTES = {3: (3, 25), 7: (4, 30)}
EMAIL_WORK_MINUTES = (2, 20)
TIME_NOTES = ("Investigated the account settings.", "Reproduced the issue.",
              "Call with the customer.", "Checked the billing history.", None, None)
THIRD_PARTY_NOTES = ("Vendor confirmed the fix is deployed.",
                     "Carrier answered: the parcel is back in transit.",
                     "Engineering replied on the internal ticket.")


def _utc(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _div(text: str) -> str:
    return f"<div>{text}</div>"


def _weighted(pairs: tuple[tuple[int, int], ...]) -> tuple[list[int], list[int]]:
    values, cum, acc = [], [], 0
    for value, weight in pairs:
        acc += weight
        values.append(value)
        cum.append(acc)
    return values, cum


def _pick(rng: random.Random, table: tuple[list[int], list[int]]) -> int:
    values, cum = table
    return values[bisect_left(cum, rng.random() * cum[-1])]


class _Sim:
    """One ticket's life as events (integer epoch seconds until the end)."""

    def __init__(self, rng: random.Random, end_ts: int, created: int,
                 agents_for: dict[int, list[tuple[int, float]]],
                 deactivated: tuple[int, int]) -> None:
        self.rng, self.end_ts, self.created = rng, end_ts, created
        self.agents_for = agents_for
        self.deactivated = deactivated
        self.events: list[FreshdeskEvent] = []
        self.last = created
        self.done = False
        self.status = OPEN
        self.priority = 1
        self.agent: int | None = None
        self.group: int | None = None
        self.resolved_at: int | None = None
        self.resolutions: list[tuple[int, int | None, int | None]] = []
        #: The topic's group, for an agent who takes a ticket no rule routed.
        self.fallback_group: int | None = None

    def emit(self, ts: int, actor: str, agent_id: int | None = None, **changes: object) -> int:
        """Append an event unless it falls after the world's end (then stop); its time, or
        -1 once the world has ended."""
        if self.done:
            return -1
        ts = max(ts, self.last + 1)
        if ts >= self.end_ts:
            self.done = True
            return -1
        if actor == "agent" and agent_id == self.deactivated[0] and ts >= self.deactivated[1]:
            # the agent has left: a colleague takes the ticket over in the same step
            agent_id = self.pick_agent(self.group, ts)
            if self.agent == self.deactivated[0]:
                self.agent = agent_id
                changes["assign"] = agent_id
        self.events.append(FreshdeskEvent(_utc(ts), actor, agent_id, **changes))  # type: ignore[arg-type]
        self.last = ts
        status = changes.get("status")
        if isinstance(status, int):
            if status == RESOLVED or (status == CLOSED and self.status != RESOLVED):
                self.resolutions.append((ts, self.agent, self.group))
            self.status = status
        return ts

    def pick_agent(self, group: int | None, ts: int) -> int:
        pool = self.agents_for[group if group is not None else -1]
        gone_id, gone_at = self.deactivated
        pool = [(a, w) for a, w in pool if a != gone_id or ts < gone_at] or pool
        total = sum(w for _, w in pool)
        roll = self.rng.random() * total
        for agent, weight in pool:
            roll -= weight
            if roll <= 0:
                return agent
        return pool[-1][0]

    def agent_delay(self, ts: int, mean_minutes: float) -> int:
        wait = int(self.rng.expovariate(1 / mean_minutes) * MINUTE) + self.rng.randint(30, 300)
        if self.rng.random() < 0.05:
            return ts + wait
        return next_staffed(ts) + wait

    def customer_delay(self, ts: int, quick: bool) -> int:
        if quick:
            return ts + self.rng.randint(2 * MINUTE, 40 * MINUTE)
        return ts + self.rng.randint(30 * MINUTE, 30 * HOUR)

    # -- the history -------------------------------------------------------------------------

    def work(self, t: int, quick: bool) -> None:
        """Agents work the ticket from ``t`` until it is resolved and closed (or the world
        ends)."""
        rng = self.rng
        mean = 6 if quick else 150
        for _ in range(8):
            t = self.agent_delay(self.last, mean)
            if self.agent == self.deactivated[0] and t >= self.deactivated[1]:
                self.agent = None  # the agent left: someone else takes over
            if self.agent is None:
                self.agent = self.pick_agent(self.group, t)
                t = self.emit(t, "agent", self.agent, assign=self.agent,
                              group_id=self.group if self.group is not None else
                              self.fallback_group)
                if t < 0:
                    return
                if self.group is None:
                    self.group = self.fallback_group
            if rng.random() < 0.12:
                t = self.emit(t + rng.randint(60, 900), "agent", self.agent, message="note",
                              body=_div(rng.choice(texts.PRIVATE_NOTES)))
                if t < 0:
                    return
            if self.priority < 4 and rng.random() < 0.06:
                self.priority += 1
                t = self.emit(t + rng.randint(10, 120), "agent", self.agent,
                              priority=self.priority)
                if t < 0:
                    return
            roll = rng.random()
            nxt = (PENDING if roll < 0.48 else WAITING_CUSTOMER if roll < 0.62 else
                   WAITING_THIRD_PARTY if roll < 0.69 else RESOLVED if roll < 0.92 else OPEN)
            t = self.emit(t + rng.randint(60, 1200), "agent", self.agent, message="reply",
                          body=_div(rng.choice(texts.AGENT_REPLIES)),
                          status=nxt if nxt != self.status else None)
            if t < 0:
                return
            if nxt in (PENDING, WAITING_CUSTOMER, OPEN):
                if rng.random() < (0.62 if nxt != OPEN else 0.9):
                    t = self.emit(self.customer_delay(t, quick), "requester", message="incoming",
                                  body=_div(rng.choice(texts.CUSTOMER_REPLIES)),
                                  status=OPEN if self.status != OPEN else None)
                    if t < 0:
                        return
                    continue
                t = self.emit(t + rng.randint(2 * DAY, 5 * DAY), "agent", self.agent,
                              status=RESOLVED)
            elif nxt == WAITING_THIRD_PARTY:
                t = self.emit(t + rng.randint(HOUR, 3 * DAY), "agent", self.agent,
                              message="note", body=_div(rng.choice(THIRD_PARTY_NOTES)),
                              status=OPEN)
                if t < 0:
                    return
                continue
            if t < 0:
                return
            if not self.after_resolution(t, quick):
                return
        if self.status not in (RESOLVED, CLOSED):
            t = self.emit(t + rng.randint(HOUR, DAY), "agent", self.agent, status=RESOLVED)
            if t >= 0:
                self.after_resolution(t, quick, reopen=False)

    def after_resolution(self, t: int, quick: bool, reopen: bool = True) -> bool:
        """Resolved at ``t``: maybe the requester reopens it (True: keep working), else the
        supervisor rule closes it at the next hourly run after 48 hours."""
        rng = self.rng
        if reopen and rng.random() < 0.07:
            back = self.emit(t + rng.randint(HOUR, 40 * HOUR), "requester", message="incoming",
                             body=_div(rng.choice(texts.CUSTOMER_REPLIES)), status=OPEN)
            return back >= 0
        due = t + 48 * HOUR
        self.emit(due - due % HOUR + HOUR, "system", status=CLOSED, rule=CLOSE_RULE,
                  rule_type=SUPERVISOR)
        return False


def _arrivals(rng: random.Random, n: int, start_ts: int, end_ts: int) -> list[int]:
    """Creation instants: weekdays about twice as busy as weekends, daytime heavy (UTC)."""
    days = max(1, (end_ts - start_ts) // DAY)
    cum, acc = [], 0.0
    for d in range(days):
        weekday = _utc(start_ts + d * DAY).isoweekday() <= 5
        for h in range(24):
            acc += (1.0 if weekday else 0.45) * HOUR_WEIGHTS[h]
            cum.append(acc)
    out = [start_ts + bisect_left(cum, rng.random() * acc) * HOUR + rng.randrange(HOUR)
           for _ in range(n)]
    return sorted(min(ts, end_ts - 1) for ts in out)


def freshdesk_business_hours(setup: datetime) -> list[FreshdeskBusinessHours]:
    """The account's business calendars, set up at `setup` (with its groups): the default
    (New York, weekdays 08:00-17:00) and one for Europe (London, weekdays 09:00-18:00,
    Saturday mornings), which the Escalations group follows (`generate_freshdesk`; the other
    groups follow the default). No random draw: the rest of the world is unchanged."""
    weekdays = ("monday", "tuesday", "wednesday", "thursday", "friday")
    extra = {"created_at": setup, "updated_at": setup}
    return [
        FreshdeskBusinessHours(BUSINESS_HOURS_ID_BASE, "Default", "Eastern Time (US & Canada)",
                               {day: (8 * 60, 17 * 60) for day in weekdays}, is_default=True,
                               description="Default Business Calendar", **extra),
        FreshdeskBusinessHours(EUROPE_HOURS_ID, "Europe", "London",
                               {**{day: (9 * 60, 18 * 60) for day in weekdays},
                                "saturday": (10 * 60, 14 * 60)},
                               description="European business hours", **extra),
    ]


def freshdesk_companies(world: World) -> list[FreshdeskCompany]:
    """The world's customer organisations as Freshdesk companies (id `COMPANY_ID_BASE` + the
    organisation's, the contacts' `company_id`): the customers are the same whichever
    helpdesk they write to. No random draw: the rest of the world is unchanged."""
    return [FreshdeskCompany(COMPANY_ID_BASE + o.id, o.name, list(o.domain_names),
                             o.created_at, o.updated_at)
            for o in sorted(world.organizations, key=lambda o: o.id)]


def generate_freshdesk(world: World, seed: int, start_ts: int, end_ts: int, tickets: int
                       ) -> tuple[list[FreshdeskGroup], list[FreshdeskAgent],
                                  list[FreshdeskContact], list[FreshdeskTicket],
                                  list[FreshdeskRating]]:
    """Groups, agents, contacts, ``tickets`` tickets created in ``[start_ts, end_ts)`` (epoch
    seconds) and their ratings, from ``random.Random(f"freshdesk:{seed}")``; reads only
    ``world.users`` and ``world.organizations``."""
    rng = random.Random(f"freshdesk:{seed}")
    setup = _utc(start_ts - 400 * DAY)
    groups = [FreshdeskGroup(GROUP_ID_BASE + k, name, desc, [], setup, setup,
                             EUROPE_HOURS_ID if name == "Escalations" else None)
              for k, (name, desc) in enumerate(texts.GROUPS)]
    gone_at = start_ts + (end_ts - start_ts) // 3
    agents: list[FreshdeskAgent] = []
    for k, group_indexes in enumerate(AGENT_GROUPS):
        first, last = rng.choice(texts.FIRST_NAMES), rng.choice(texts.LAST_NAMES)
        joined = _utc(start_ts - rng.randint(30, 380) * DAY)
        agents.append(FreshdeskAgent(
            AGENT_ID_BASE + k, f"{first} {last}",
            f"{first}.{last}.fd{k}@sandbox.example".lower(), occasional=k in OCCASIONAL,
            active=k != DEACTIVATED, ticket_scope=1 if k == 0 else 2,
            group_ids=[GROUP_ID_BASE + g for g in group_indexes],
            job_title="Account Administrator" if k == 0 else "Support Agent",
            created_at=joined, updated_at=_utc(gone_at) if k == DEACTIVATED else joined))
    for g in groups:
        g.agent_ids = [a.id for a in agents if g.id in a.group_ids]
    end_users = sorted((u for u in world.users if u.role == "end-user"), key=lambda u: u.id)
    contacts = [FreshdeskContact(CONTACT_ID_BASE + u.id, u.name, u.email,
                                 None if u.organization_id is None
                                 else COMPANY_ID_BASE + u.organization_id, u.phone)
                for u in end_users]
    if not contacts or tickets <= 0:
        return groups, agents, contacts, [], []
    agents_for: dict[int, list[tuple[int, float]]] = {-1: [
        (a.id, 0.2 if a.occasional else 1.0) for a in agents if a.id != AGENT_ID_BASE]}
    for g in groups:
        agents_for[g.id] = [(a, 0.2 if agents[a - AGENT_ID_BASE].occasional else 1.0)
                            for a in g.agent_ids if a != AGENT_ID_BASE] or agents_for[-1]
    cum, acc = [], 0.0
    for k in range(len(contacts)):
        acc += 1 / (k + 1) ** 0.5
        cum.append(acc)
    topics = sorted(texts.TOPICS)
    sources, priorities = _weighted(SOURCES), _weighted(PRIORITIES)
    ratings_table = _weighted(RATING_WEIGHTS)
    deactivated = (AGENT_ID_BASE + DEACTIVATED, gone_at)
    out: list[FreshdeskTicket] = []
    ratings: list[FreshdeskRating] = []
    for k, created in enumerate(_arrivals(rng, tickets, start_ts, end_ts)):
        contact = contacts[bisect_left(cum, rng.random() * acc)]
        topic = rng.choice(topics)
        tag, group_index, subjects = texts.TOPICS[topic]
        subject = rng.choice(subjects)
        group_id = GROUP_ID_BASE + group_index
        source = _pick(rng, sources)
        priority = _pick(rng, priorities)
        sim = _Sim(rng, end_ts, created, agents_for, deactivated)
        sim.priority = priority
        sim.fallback_group = group_id
        ticket = FreshdeskTicket(
            id=k + 1, created_at=_utc(created), requester_id=contact.id, subject=subject,
            source=source, priority=priority, type=rng.choice(TYPES),
            tags=[tag] if rng.random() < 0.6 else [], company_id=contact.company_id)
        quick = source in (3, 7)
        subject_lc = subject[0].lower() + subject[1:]
        if source == 10:
            agent = sim.pick_agent(group_id, created)
            ticket.creator_id = ticket.responder_id = sim.agent = agent
            ticket.group_id = sim.group = group_id
            ticket.status = sim.status = PENDING
            ticket.description = _div(rng.choice(texts.AGENT_FOLLOWUPS).format(
                subject_lc=subject_lc))
            if rng.random() < 0.55:
                t = sim.emit(sim.customer_delay(created, False), "requester",
                             message="incoming", body=_div(rng.choice(texts.CUSTOMER_REPLIES)),
                             status=OPEN)
                if t >= 0:
                    sim.work(t, quick)
            else:
                sim.emit(created + rng.randint(3 * DAY, 7 * DAY), "agent", agent, status=CLOSED)
        else:
            ticket.description = _div(rng.choice(texts.CUSTOMER_OPENERS).format(
                subject=subject, subject_lc=subject_lc))
            t = created
            if rng.random() < 0.85:
                t = sim.emit(t + rng.randint(2, 30), "system", group_id=group_id,
                             rule=f"Route {topic} tickets", rule_type=DISPATCHR)
                sim.group = group_id
            if t >= 0 and rng.random() < 0.01:
                sim.emit(sim.agent_delay(t, 60), "agent", sim.pick_agent(sim.group, t),
                         spam=True)
            elif t >= 0:
                sim.work(t, quick)
        if rng.random() < 0.005 and not sim.done:
            sim.emit(sim.last + rng.randint(HOUR, 3 * DAY), "agent",
                     sim.agent or sim.pick_agent(sim.group, sim.last), deleted=True)
        ticket.events = sim.events
        for resolved, agent_id, grp in sim.resolutions:
            if rng.random() < 0.35:
                at = resolved + rng.randint(HOUR, 2 * DAY)
                if at < end_ts:
                    score = _pick(rng, ratings_table)
                    feedback = None
                    if rng.random() < 0.3:
                        feedback = rng.choice(texts.CSAT_GOOD if score > 100 else texts.CSAT_BAD)
                    ratings.append(FreshdeskRating(0, ticket.id, contact.id, score, _utc(at),
                                                   agent_id, grp, feedback))
                break
        out.append(ticket)
    ratings.sort(key=lambda r: (r.created_at, r.ticket_id))
    for k, rating in enumerate(ratings):
        rating.id = RATING_ID_BASE + k
    return groups, agents, contacts, out, ratings


def freshdesk_time_entries(tickets: list[FreshdeskTicket], seed: int, end_ts: int
                           ) -> list[FreshdeskTimeEntry]:
    """The agents' time entries on ``tickets``, from ``random.Random(f"freshdesk-time:{seed}")``
    (a stream of their own: every other figure of the world is unchanged), none created at or
    after ``end_ts``. About half of the agents' replies and notes get one: 70 % a timer that
    ran for the work up to the reply, stopped up to 10 minutes after it (a wrap-up); the rest
    logged by hand later that day, or 1-3 days later and dated back to the reply's time.
    Ids follow the order of creation."""
    rng = random.Random(f"freshdesk-time:{seed}")
    entries: list[FreshdeskTimeEntry] = []
    for ticket in tickets:
        low, high = WORK_MINUTES.get(ticket.source, EMAIL_WORK_MINUTES)
        for event in ticket.events:
            if event.actor != "agent" or event.message not in ("reply", "note") \
                    or event.agent_id is None or rng.random() >= 0.5:
                continue
            at = int(event.at.timestamp())
            minutes = rng.randint(low, high)
            note = rng.choice(TIME_NOTES)
            billable = rng.random() < 0.6
            if rng.random() < 0.7:
                started, stopped = at - minutes * MINUTE, at + rng.randint(0, 10 * MINUTE)
                created, executed, timer = started, started, True
            else:
                late = rng.random() < 0.15
                stopped = at + (rng.randint(DAY, 3 * DAY) if late else
                                rng.randint(5 * MINUTE, 8 * HOUR))
                started = stopped - minutes * MINUTE
                created, executed, timer = stopped, at, False
            if created >= end_ts:
                continue
            entries.append(FreshdeskTimeEntry(0, ticket.id, event.agent_id, _utc(started),
                                              _utc(stopped), _utc(executed), timer, billable,
                                              note, ticket.company_id))
    entries.sort(key=lambda e: (e.started_at if e.timer else e.stopped_at, e.ticket_id))
    for k, entry in enumerate(entries):
        entry.id = TIME_ENTRY_ID_BASE + k
    return entries
