"""Seeded generator of a realistic synthetic helpdesk history (:func:`generate_world`).

Everything is drawn from one ``random.Random(seed)`` in a fixed order and kept
as integer epoch seconds until the end, so a seed plus the arguments always
gives the same world, and 100,000 tickets take seconds.

What the simulation produces: weekday/daytime-heavy arrivals in US Eastern
time; a routing trigger (sometimes with an auto-reply comment by author -1);
agents who act in business hours (Mon-Fri 9-17 Eastern, US holidays off) with
a few out-of-hours replies; private notes; pending and on-hold cycles;
customer replies; reopens (solved -> open); solved tickets closed by an
automation 4 days later; abandoned pending tickets closed by an automation
without passing solved; a few deleted spam tickets; agent-initiated
(outbound) tickets; phone tickets with Talk calls; chat and messaging
tickets; CSAT offered a day after solving and sometimes answered; a handful of
long-running tickets created before the window.
"""

from __future__ import annotations

import random
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sandbox import texts
from sandbox.business_time import BusinessCalendar
from sandbox.crm_generate import generate_crm, generate_crm_contacts, generate_survey_responses
from sandbox.freshdesk_generate import (
    freshdesk_business_hours,
    freshdesk_companies,
    freshdesk_time_entries,
    generate_freshdesk,
)
from sandbox.intercom_generate import generate_intercom, intercom_companies
from sandbox.world import (
    SYSTEM_AUTHOR_ID,
    Call,
    Comment,
    Group,
    Holiday,
    Organization,
    SatisfactionRating,
    Schedule,
    Ticket,
    Update,
    User,
    World,
)

DAY = 86_400
HOUR = 3_600
MINUTE = 60
EASTERN = ZoneInfo("America/New_York")

CHANNELS = (("email", 40), ("web", 24), ("chat", 12), ("voice", 10), ("native_messaging", 8),
            ("api", 6))
PRIORITIES = (("low", 15), ("normal", 60), ("high", 20), ("urgent", 5))
TYPES = ((None, 35), ("question", 30), ("incident", 20), ("problem", 8), ("task", 7))
#: Mean first-touch delay in business minutes by priority.
FIRST_TOUCH_MINUTES = {"urgent": 25, "high": 70, "normal": 150, "low": 300, None: 150}
#: Relative arrival weight per local hour (Eastern).
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 3, 6, 10, 14, 15, 15, 13, 14, 15, 14, 12, 9, 6, 5, 4, 3, 2, 1)
#: Relative arrival weight per ISO weekday (Mon=1 .. Sun=7).
WEEKDAY_WEIGHTS = {1: 1.15, 2: 1.1, 3: 1.05, 4: 1.0, 5: 0.9, 6: 0.3, 7: 0.25}


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _utc(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th (1-based; -1 = last) ISO weekday of a month."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.isoweekday()) % 7 + 7 * (n - 1))
    last = (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)
    return last - timedelta(days=(last.isoweekday() - weekday) % 7)


def _observed(day: date) -> date:
    if day.isoweekday() == 6:
        return day - timedelta(days=1)
    if day.isoweekday() == 7:
        return day + timedelta(days=1)
    return day


def us_holidays(years: range) -> list[tuple[str, date, date]]:
    """A few US federal holidays (observed dates) as ``(name, start, end)``."""
    out: list[tuple[str, date, date]] = []
    for y in years:
        thanksgiving = _nth_weekday(y, 11, 4, 4)
        out += [
            ("New Year's Day", _observed(date(y, 1, 1)), _observed(date(y, 1, 1))),
            ("Memorial Day", _nth_weekday(y, 5, 1, -1), _nth_weekday(y, 5, 1, -1)),
            ("Independence Day", _observed(date(y, 7, 4)), _observed(date(y, 7, 4))),
            ("Labor Day", _nth_weekday(y, 9, 1, 1), _nth_weekday(y, 9, 1, 1)),
            ("Thanksgiving", thanksgiving, thanksgiving + timedelta(days=1)),
            ("Christmas Day", _observed(date(y, 12, 25)), _observed(date(y, 12, 25))),
        ]
    return sorted(out, key=lambda h: h[1])


def _weekly(days: range, start_hour: int, end_hour: int) -> list[tuple[int, int]]:
    """Intervals (minutes from Sunday 00:00) for the given weekdays (0=Sunday)."""
    return [(d * 1440 + start_hour * 60, d * 1440 + end_hour * 60) for d in days]


@dataclass
class _Ctx:
    """Generator state shared by the per-ticket simulation."""

    rng: random.Random
    cal: BusinessCalendar
    end_ts: int
    agents_by_group: dict[int, list[int]]
    users: list[User]
    user_cum: list[float]
    group_ids: list[int]
    calls: list[Call] = field(default_factory=list)
    ratings: list[SatisfactionRating] = field(default_factory=list)

    def pick(self, options: tuple) -> object:
        values, weights = zip(*options, strict=True)
        return self.rng.choices(values, weights)[0]

    def agent_delay(self, ts: int, mean_minutes: float) -> int:
        """When an agent acts after ``ts``: mostly business time, sometimes out of hours."""
        minutes = self.rng.expovariate(1 / mean_minutes)
        if self.rng.random() < 0.06:
            return ts + 60 + int(minutes * MINUTE)
        return self.cal.add(ts, int(minutes * MINUTE)) + self.rng.randint(30, 600)

    def customer_delay(self, ts: int) -> int:
        """When a customer answers after ``ts`` (calendar time)."""
        r = self.rng.random()
        if r < 0.5:
            return ts + self.rng.randint(10 * MINUTE, 3 * HOUR)
        if r < 0.85:
            return ts + self.rng.randint(3 * HOUR, 20 * HOUR)
        return ts + self.rng.randint(DAY, 3 * DAY)


def _make_people(rng: random.Random, n_users: int, n_orgs: int, start_ts: int,
                 end_ts: int, group_ids: list[int]) -> tuple[list[User], list[Organization]]:
    orgs: list[Organization] = []
    seen_domains: set[str] = set()
    for i in range(n_orgs):
        name = f"{rng.choice(texts.ORG_FIRST)} {rng.choice(texts.ORG_SECOND)}"
        domain = name.lower().replace(" ", "") + ".example"
        if domain in seen_domains:
            name, domain = f"{name} {i}", f"{domain[:-8]}{i}.example"
        seen_domains.add(domain)
        created = start_ts - rng.randint(60, 1500) * DAY
        updated = min(end_ts - 1, created + rng.randint(0, 1500) * DAY)
        orgs.append(Organization(id=10_001 + i, name=name, domain_names=[domain],
                                 created_at=_utc(created), external_id=f"acct-{i + 1:04d}",
                                 updated_at=_utc(updated)))
    users: list[User] = []
    next_id = 100_001
    for i in range(32):
        first, last = rng.choice(texts.FIRST_NAMES), rng.choice(texts.LAST_NAMES)
        role = "admin" if i < 2 else "agent"
        created = start_ts - rng.randint(200, 1500) * DAY
        users.append(User(
            id=next_id, name=f"{first} {last}", email=f"{first}.{last}.{i}@sandbox.example".lower(),
            role=role, created_at=_utc(created),
            updated_at=_utc(end_ts - rng.randint(1, 20) * DAY - rng.randint(0, DAY)),
            default_group_id=group_ids[i % len(group_ids)],
        ))
        next_id += 1
    org_weights = [1 / (k + 1) ** 0.7 for k in range(len(orgs))]
    for _ in range(n_users):
        first, last = rng.choice(texts.FIRST_NAMES), rng.choice(texts.LAST_NAMES)
        org = rng.choices(orgs, org_weights)[0] if orgs and rng.random() < 0.85 else None
        domain = org.domain_names[0] if org else "mail.example"
        created = start_ts - rng.randint(-60, 700) * DAY - rng.randint(0, DAY)
        users.append(User(
            id=next_id, name=f"{first} {last}", email=f"{first}.{last}.{next_id}@{domain}".lower(),
            role="end-user", organization_id=org.id if org else None, created_at=_utc(created),
            phone=f"+1555{next_id % 10_000_000:07d}",
        ))
        next_id += 1
    return users, orgs


def _arrivals(rng: random.Random, n: int, first_day: date, days: int,
              holidays: set[date]) -> list[int]:
    """Ticket creation instants: weekday- and daytime-heavy, Eastern time."""
    day_list = [first_day + timedelta(days=k) for k in range(days)]
    weights = [WEEKDAY_WEIGHTS[d.isoweekday()] * (0.4 if d in holidays else 1.0)
               * rng.uniform(0.85, 1.15) for d in day_list]
    total = sum(weights)
    expected = [n * w / total for w in weights]
    counts = [int(e) for e in expected]
    order = sorted(range(days), key=lambda k: (counts[k] - expected[k], k))
    for k in order[: n - sum(counts)]:
        counts[k] += 1
    hours = list(range(24))
    out: list[int] = []
    for d, count in zip(day_list, counts, strict=True):
        midnight = _epoch(datetime.combine(d, time(), tzinfo=EASTERN))
        for hour in rng.choices(hours, HOUR_WEIGHTS, k=count):
            out.append(midnight + hour * HOUR + rng.randrange(HOUR))
    return out


class _TicketSim:
    """Simulates one ticket's life as a list of updates (plus calls and ratings)."""

    def __init__(self, ctx: _Ctx, ticket_id: int, created: int, long_running: bool) -> None:
        self.ctx, self.rng = ctx, ctx.rng
        self.id, self.created, self.long_running = ticket_id, created, long_running
        self.updates: list[Update] = []
        self.done = False

    def emit(self, ts: int, author: int, **kwargs: object) -> bool:
        """Append an update unless it falls after the world's end (then stop)."""
        if self.done or ts >= self.ctx.end_ts:
            self.done = True
            return False
        if self.updates and ts <= _epoch(self.updates[-1].at):
            ts = _epoch(self.updates[-1].at) + self.rng.randint(1, 30)
            if ts >= self.ctx.end_ts:
                self.done = True
                return False
        self.updates.append(Update(at=_utc(ts), author_id=author, **kwargs))  # type: ignore[arg-type]
        return True

    def last_ts(self) -> int:
        return _epoch(self.updates[-1].at)

    def run(self) -> Ticket:
        ctx, rng = self.ctx, self.rng
        channel = str(ctx.pick(CHANNELS))
        requester = ctx.users[bisect_left(ctx.user_cum, rng.random() * ctx.user_cum[-1])]
        topic = rng.choice(sorted(texts.TOPICS))
        tag, group_index, subjects = texts.TOPICS[topic]
        subject = rng.choice(subjects)
        group_id = ctx.group_ids[group_index % len(ctx.group_ids)]
        priority = "urgent" if topic == "outage" and rng.random() < 0.5 else ctx.pick(PRIORITIES)
        agent = rng.choice(ctx.agents_by_group[group_id])
        outbound = channel in ("email", "web") and rng.random() < 0.04
        ticket = Ticket(
            id=self.id, created_at=_utc(self.created), requester_id=requester.id,
            submitter_id=agent if outbound or channel == "voice" else requester.id,
            organization_id=requester.organization_id, channel=channel,
            priority=priority, subject=subject, type=ctx.pick(TYPES),  # type: ignore[arg-type]
            tags=[tag] + ([channel] if channel in ("chat", "voice") else []),
            custom_fields={360_000_001: topic},
        )
        self.ticket, self.requester, self.agent, self.group_id = ticket, requester, agent, group_id
        self.subject, self.channel = subject, channel
        if outbound:
            self.outbound()
        elif channel == "voice":
            self.voice()
        elif channel == "chat":
            self.chat()
        else:
            self.inbound()
        ticket.updates = self.updates
        return ticket

    # -- openings ---------------------------------------------------------------------------

    def opener(self) -> str:
        return self.rng.choice(texts.CUSTOMER_OPENERS).format(
            subject=self.subject, subject_lc=self.subject[0].lower() + self.subject[1:])

    def inbound(self) -> None:
        rng = self.rng
        routed = self.channel in ("email", "web", "api") and rng.random() < 0.6
        self.emit(self.created, self.requester.id, status="new", via=self.channel,
                  comment=Comment(self.opener()), group_id=None if routed else self.group_id)
        if routed:
            reply = Comment(texts.TRIGGER_REPLY) if rng.random() < 0.35 else None
            self.emit(self.created + rng.randint(1, 20), SYSTEM_AUTHOR_ID, via="rule",
                      group_id=self.group_id, comment=reply)
        if rng.random() < 0.005:
            self.emit(self.ctx.agent_delay(self.created, 30), self.agent, status="deleted")
            return
        mean = FIRST_TOUCH_MINUTES.get(self.ticket.priority, 150)
        self.conversation(self.ctx.agent_delay(self.created, mean), first=True)

    def outbound(self) -> None:
        body = self.rng.choice(texts.AGENT_FOLLOWUPS).format(
            subject_lc=self.subject[0].lower() + self.subject[1:])
        self.ticket.assignee_id, self.ticket.group_id = self.agent, self.group_id
        self.emit(self.created, self.agent, status="pending", via="web", comment=Comment(body))
        self.after_pending(self.created)

    def chat(self) -> None:
        rng, ctx = self.rng, self.ctx
        self.emit(self.created, self.requester.id, status="new", via="chat",
                  comment=Comment(self.opener()), group_id=self.group_id)
        if not ctx.cal.is_open(self.created):
            self.conversation(ctx.agent_delay(self.created, 60), first=True)
            return
        t = self.created + rng.randint(20, 240)
        self.emit(t, self.agent, status="open", via="chat", assignee_id=self.agent,
                  comment=Comment(rng.choice(texts.AGENT_REPLIES)))
        t += rng.randint(4 * MINUTE, 25 * MINUTE)
        if rng.random() < 0.8:
            self.solve(t, comment=True, via="chat")
        else:
            self.emit(t, self.agent, status="pending", via="chat",
                      comment=Comment(rng.choice(texts.AGENT_REPLIES)))
            self.after_pending(t)

    def voice(self) -> None:
        rng, ctx = self.rng, self.ctx
        wait = rng.randint(5, 180)
        talk = int(rng.lognormvariate(5.5, 0.6))
        hold = rng.randint(20, 300) if rng.random() < 0.3 else 0
        wrap = rng.randint(20, 240)
        self.ticket.assignee_id, self.ticket.group_id = self.agent, self.group_id
        self.emit(self.created, self.agent, status="open", via="voice",
                  comment=Comment(f"Inbound call from {self.requester.phone}", public=False))
        ctx.calls.append(Call(
            id=0, ticket_id=self.id, agent_id=self.agent, created_at=_utc(self.created - wait),
            talk_time=talk, hold_time=hold, wrap_up_time=wrap, wait_time=wait,
            customer_id=self.requester.id, phone_number=self.requester.phone or "+15555550100"))
        end_of_call = self.created + talk + hold + wrap
        if rng.random() < 0.55:
            self.solve(end_of_call, comment=False, via="voice")
        else:
            self.conversation(ctx.agent_delay(end_of_call, 120), first=False)

    # -- the loop ---------------------------------------------------------------------------

    def conversation(self, t: int, first: bool) -> None:
        """Agent works the ticket from ``t``: notes, holds, replies; ends solved or waiting."""
        rng, ctx = self.rng, self.ctx
        rounds = 1 + int(rng.expovariate(1 / 0.9))
        via = self.channel if self.channel in ("chat", "native_messaging") else "web"
        rounds += 3 if self.long_running else 0
        for round_no in range(rounds + 6):
            if self.done:
                return
            assign = self.agent if first else None
            first = False
            if rng.random() < 0.04:
                self.emit(t, self.agent, priority="urgent" if rng.random() < 0.3 else "high")
            if rng.random() < 0.06:
                new_group = rng.choice(ctx.group_ids)
                self.agent = rng.choice(ctx.agents_by_group[new_group])
                self.emit(t, self.agent, group_id=new_group, assignee_id=self.agent,
                          status="open", comment=Comment(rng.choice(texts.PRIVATE_NOTES), False))
                assign = None
                t = ctx.agent_delay(t, 90)
            if rng.random() < 0.15:
                self.emit(t, self.agent, status="open", assignee_id=assign,
                          comment=Comment(rng.choice(texts.PRIVATE_NOTES), public=False))
                assign = None
                t = ctx.agent_delay(t, 45)
            if rng.random() < (0.5 if self.long_running else 0.07):
                self.emit(t, self.agent, status="hold", assignee_id=assign,
                          comment=Comment(rng.choice(texts.PRIVATE_NOTES), public=False))
                assign = None
                span = rng.randint(10, 40) * DAY if self.long_running else rng.randint(2 * HOUR,
                                                                                     3 * DAY)
                t = ctx.agent_delay(t + span, 30)
            reply = Comment(rng.choice(texts.AGENT_REPLIES))
            if round_no >= rounds + 5 or (round_no >= rounds - 1 and rng.random() < 0.7):
                self.solve(t, comment=True, via=via, assignee=assign, body=reply)
                return
            status = "open" if rng.random() < 0.08 else "pending"
            if not self.emit(t, self.agent, status=status, via=via, assignee_id=assign,
                             comment=reply):
                return
            if status == "open":
                t = ctx.agent_delay(t, 120)
                continue
            t = self.customer_turn(t)
            if t < 0:
                return

    def customer_turn(self, t: int) -> int:
        """The customer answers a pending ticket (returns the agent's next time) or not (-1)."""
        rng, ctx = self.rng, self.ctx
        if rng.random() < 0.8:
            answer = ctx.customer_delay(t)
            via = self.channel if self.channel in ("email", "chat", "native_messaging") else "email"
            if not self.emit(answer, self.requester.id, status="open", via=via,
                             comment=Comment(rng.choice(texts.CUSTOMER_REPLIES))):
                return -1
            return ctx.agent_delay(answer, 120)
        if rng.random() < 0.6:
            self.solve(ctx.agent_delay(t + rng.randint(3, 5) * DAY, 60), comment=True, via="web")
        else:
            self.automation_close(t + 10 * DAY)
        return -1

    def after_pending(self, t: int) -> None:
        nxt = self.customer_turn(t)
        if nxt >= 0:
            self.conversation(nxt, first=self.ticket.assignee_id is None)

    def solve(self, t: int, comment: bool, via: str, assignee: int | None = None,
              body: Comment | None = None) -> None:
        """Solve at ``t``; then CSAT, maybe a reopen, else the 4-day close automation."""
        rng, ctx = self.rng, self.ctx
        text = body or (Comment(rng.choice(texts.AGENT_REPLIES)) if comment else None)
        if not self.emit(t, self.agent, status="solved", via=via, assignee_id=assignee,
                         comment=text):
            return
        if rng.random() < 0.6 and self.channel != "api":
            self.offer_csat(t + DAY + rng.randint(0, HOUR))
        if rng.random() < 0.07:
            answer = t + rng.randint(30 * MINUTE, 72 * HOUR)
            if self.emit(answer, self.requester.id, status="open", via="email",
                         comment=Comment(rng.choice(texts.CUSTOMER_REPLIES))):
                self.conversation(ctx.agent_delay(answer, 90), first=False)
            return
        self.automation_close(t + 4 * DAY)

    def automation_close(self, t: int) -> None:
        # automations run hourly: the close lands in the next hourly run
        run = (t // HOUR + 1) * HOUR + self.rng.randint(0, 15 * MINUTE)
        self.emit(run, SYSTEM_AUTHOR_ID, status="closed", via="rule")

    def offer_csat(self, t: int) -> None:
        rng, ctx = self.rng, self.ctx
        if t >= ctx.end_ts:
            return
        score, updated, remark = "offered", t, None
        if rng.random() < 0.5:
            answered = t + rng.randint(10 * MINUTE, 48 * HOUR)
            if answered < ctx.end_ts:
                score = "good" if rng.random() < 0.82 else "bad"
                updated = answered
                if rng.random() < 0.3:
                    remark = rng.choice(texts.CSAT_GOOD if score == "good" else texts.CSAT_BAD)
        ctx.ratings.append(SatisfactionRating(
            id=0, ticket_id=self.id, score=score, created_at=_utc(t), updated_at=_utc(updated),
            requester_id=self.requester.id, assignee_id=self.agent, group_id=self.group_id,
            comment=remark))


def _schedules(first_day: date, last_day: date) -> list[Schedule]:
    holidays = us_holidays(range(first_day.year - 1, last_day.year + 2))
    us = [Holiday(id=1_001 + k, name=name, start_date=s, end_date=e)
          for k, (name, s, e) in enumerate(holidays)]
    uk = [Holiday(id=2_001 + k, name=name, start_date=d, end_date=d)
          for k, (name, d) in enumerate(
              (n, date(y, m, dd)) for y in range(first_day.year - 1, last_day.year + 2)
              for n, m, dd in (("New Year's Day", 1, 1), ("Christmas Day", 12, 25),
                               ("Boxing Day", 12, 26)))]
    created = _utc(_epoch(datetime.combine(first_day, time(), tzinfo=UTC)) - 900 * DAY)
    return [
        Schedule(id=360_000_011, name="US Business Hours", time_zone="Eastern Time (US & Canada)",
                 intervals=_weekly(range(1, 6), 9, 17), holidays=us, created_at=created),
        Schedule(id=360_000_012, name="EMEA Business Hours", time_zone="London",
                 intervals=_weekly(range(1, 6), 8, 16), holidays=uk, created_at=created),
    ]


def _resolve_end_date(end_date: date | datetime | str | None) -> date:
    if end_date is None:
        return datetime.now(UTC).date() - timedelta(days=1)
    if isinstance(end_date, datetime):
        return end_date.date()
    if isinstance(end_date, str):
        return date.fromisoformat(end_date)
    return end_date


def generate_world(seed: int = 42, tickets: int = 5000, days: int = 90,
                   end_date: date | datetime | str | None = None,
                   crm_months: int = 24, intercom_conversations: int | None = None,
                   freshdesk_tickets: int | None = None) -> World:
    """Generate a deterministic world of about ``tickets`` tickets over ``days`` days.

    ``end_date`` is the last day included (UTC); it defaults to yesterday. The
    same seed and arguments always give the same world. The CRM side (companies
    and deals over ``crm_months`` months ending on ``end_date``; 0 for none) comes
    from its own random stream (:mod:`sandbox.crm_generate`), so it never changes
    the helpdesk data; so do HubSpot's survey responses over the ``days`` days
    (``survey_responses``; none when ``crm_months`` is 0), which change neither, and
    the HubSpot contacts who gave them (``crm_contacts``, with their primary company).
    The Intercom side (admins, teams and ``intercom_conversations`` conversations over the
    same days; default a third of ``tickets``, 0 for none) comes from its own stream too
    (:mod:`sandbox.intercom_generate`) and changes nothing else. So does the Freshdesk side
    (groups, agents, contacts, ``freshdesk_tickets`` tickets with their histories,
    ratings and the agents' time entries over the same days; default a quarter of
    ``tickets``, 0 for none; :mod:`sandbox.freshdesk_generate`).
    """
    if tickets < 0 or days < 1:
        raise ValueError("tickets must be >= 0 and days >= 1")
    rng = random.Random(seed)
    last_day = _resolve_end_date(end_date)
    first_day = last_day - timedelta(days=days - 1)
    start_ts = _epoch(datetime.combine(first_day, time(), tzinfo=UTC))
    end_ts = _epoch(datetime.combine(last_day + timedelta(days=1), time(), tzinfo=UTC))

    schedules = _schedules(first_day - timedelta(days=120), last_day)
    cal = BusinessCalendar(schedules[0], first_day - timedelta(days=120),
                           last_day + timedelta(days=90))
    group_created = _utc(start_ts - 800 * DAY)
    groups = [Group(id=20_001 + k, name=name, description=desc, created_at=group_created,
                    updated_at=group_created) for k, (name, desc) in enumerate(texts.GROUPS)]
    group_ids = [g.id for g in groups]
    n_users = max(30, min(1500, tickets // 3))
    users, orgs = _make_people(rng, n_users, max(5, n_users // 10), start_ts, end_ts, group_ids)
    agents_by_group: dict[int, list[int]] = {g: [] for g in group_ids}
    for u in users:
        if u.role == "agent":
            agents_by_group[u.default_group_id or group_ids[0]].append(u.id)
    end_users = [u for u in users if u.role == "end-user"]
    cum, acc = [], 0.0
    for k in range(len(end_users)):
        acc += 1 / (k + 1) ** 0.5
        cum.append(acc)
    ctx = _Ctx(rng=rng, cal=cal, end_ts=end_ts, agents_by_group=agents_by_group,
               users=end_users, user_cum=cum, group_ids=group_ids)

    n_long = max(1, tickets // 80) if tickets >= 20 else 0
    holiday_days = {h.start_date + timedelta(days=k) for h in schedules[0].holidays
                    for k in range((h.end_date - h.start_date).days + 1)}
    # Eastern evenings of the last day fall on the next UTC day: fold them back into the window
    arrivals = [ts - DAY if ts >= end_ts else ts + DAY if ts < start_ts else ts
                for ts in _arrivals(rng, tickets - n_long, first_day, days, holiday_days)]
    created = sorted([(start_ts - rng.randint(5 * DAY, 60 * DAY), True) for _ in range(n_long)]
                     + [(ts, False) for ts in arrivals])
    world_tickets = [_TicketSim(ctx, k + 1, ts, long).run()
                     for k, (ts, long) in enumerate(created)]

    first_contact: dict[int, int] = {}
    for t in world_tickets:
        first_contact.setdefault(t.requester_id, _epoch(t.created_at))
    for u in end_users:
        first = first_contact.get(u.id)
        created_ts = _epoch(u.created_at)
        if first is not None and created_ts > first:
            created_ts = first - rng.randint(60, 30 * DAY)
        created_ts = min(created_ts, end_ts - DAY)
        u.created_at = _utc(created_ts)
        touched = max(created_ts, first or created_ts) + rng.randint(0, HOUR)
        u.updated_at = _utc(min(end_ts - 1, touched))

    abandoned = max(0, len(ctx.calls) // 20)
    for _ in range(abandoned):
        at = rng.choice(created)[0]
        ctx.calls.append(Call(id=0, ticket_id=None, agent_id=None, created_at=_utc(at),
                              talk_time=0, wait_time=rng.randint(30, 400),
                              completion_status="abandoned_in_queue"))
    ctx.calls.sort(key=lambda c: (c.created_at, c.ticket_id or 0))
    for k, call in enumerate(ctx.calls):
        call.id = 5_000_001 + k
    ctx.ratings.sort(key=lambda r: (r.created_at, r.ticket_id))
    for k, rating in enumerate(ctx.ratings):
        rating.id = 7_000_001 + k
    world = World(users=users, organizations=orgs, groups=groups, schedules=schedules,
                  tickets=world_tickets, calls=ctx.calls, satisfaction_ratings=ctx.ratings)
    world.crm_companies, world.deals = generate_crm(world, seed, last_day, crm_months)
    if crm_months >= 1:
        world.survey_responses = generate_survey_responses(world, world.crm_companies, seed,
                                                           last_day, days)
        world.crm_contacts = generate_crm_contacts(world, world.crm_companies,
                                                   world.survey_responses, seed, last_day)
    n_intercom = tickets // 3 if intercom_conversations is None else intercom_conversations
    world.intercom_admins, world.intercom_teams, world.intercom_conversations = \
        generate_intercom(world, seed, start_ts, end_ts, n_intercom)
    world.intercom_companies = intercom_companies(world)
    n_freshdesk = tickets // 4 if freshdesk_tickets is None else freshdesk_tickets
    (world.freshdesk_groups, world.freshdesk_agents, world.freshdesk_contacts,
     world.freshdesk_tickets, world.freshdesk_ratings) = \
        generate_freshdesk(world, seed, start_ts, end_ts, n_freshdesk)
    world.freshdesk_companies = freshdesk_companies(world)
    world.freshdesk_business_hours = freshdesk_business_hours(world.freshdesk_groups[0].created_at)
    world.freshdesk_time_entries = freshdesk_time_entries(world.freshdesk_tickets, seed, end_ts)
    return world
