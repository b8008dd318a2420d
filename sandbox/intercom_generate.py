"""Seeded Intercom side of a generated world (:func:`generate_intercom`): admins, teams and
conversations over the helpdesk's days.

It draws from its own ``random.Random(f"intercom:{seed}")`` and only reads the world (the
Zendesk end users become the contacts), so the helpdesk and the CRM are byte-for-byte what
they are without it. What it produces:

* eight human admins (one away) and the bot admin ``Operator`` (Intercom's bot, which
  greets, routes, answers some conversations as Fin and closes idle ones), in three teams
  (Customer Support, Billing, Technical);
* conversations over the world's days, weekday and daytime heavy: ~78 % chat
  (``source.type`` ``conversation``), ~15 % email, ~7 % admin-initiated outbound messages
  (closed until the contact answers, ~half never answered);
* per conversation a timeline of parts: sometimes a bot greeting; ~10 % answered by Fin
  (``ai_agent_participated``), about half of them closed by the bot without a teammate;
  the bot's ``default_assignment`` to the topic's team; a teammate's ``assignment`` to
  themself and replies (minutes in chat, hours by email, longer outside business hours,
  which are Mon-Fri 13:00-22:00 UTC); contact replies; private notes; snoozes that end by
  ``timer_unsnooze`` (the bot, at ``snoozed_until``) or an admin's ``unsnoozed``;
  ``away_mode_assignment`` when the assignee is away; closes by the teammate (sometimes by
  the bot after a day idle); reopens (the contact writes into the closed conversation: an
  ``open`` part with the message); conversations still open, waiting or snoozed at the end;
* ratings (1-5, mostly 4-5, some with a remark) on ~40 % of conversations that end closed
  with a teammate, requested at the final close and answered 5 minutes to a day later,
  never after the last day;
* the world's customer organisations as companies (:func:`intercom_companies`, no random
  draw), each end user's contact belonging to its organisation's company.
"""

from __future__ import annotations

import random
from bisect import bisect_left
from datetime import UTC, datetime

from sandbox import texts
from sandbox.business_time import next_staffed
from sandbox.world import (
    IntercomAdmin,
    IntercomCompany,
    IntercomContact,
    IntercomConversation,
    IntercomPart,
    IntercomRating,
    IntercomTeam,
    Organization,
    User,
    World,
)

DAY = 86_400
HOUR = 3_600
MINUTE = 60
#: Ids: the bot admin, the first human admin, the first team, the first conversation.
BOT_ADMIN_ID = 991_270_000
ADMIN_ID_BASE = 991_270_001
TEAM_ID_BASE = 5_017_001
CONVERSATION_ID_BASE = 215_470_000_000_001
TEAMS = ("Customer Support", "Billing", "Technical")
#: Team (index into TEAMS) per Zendesk topic; others go to Customer Support.
TOPIC_TEAMS = {"billing": 1, "bug": 2, "integration": 2}
#: (team indexes) per human admin; the last admin is away (away mode, reassigning).
ADMIN_TEAMS = ((0, 1), (0,), (0,), (0,), (1,), (1,), (2,), (2,))
JOB_TITLES = ("Support Lead", "Support Specialist", "Support Specialist", "Support Specialist",
              "Billing Specialist", "Billing Specialist", "Support Engineer", "Support Engineer")
#: Arrival weight per UTC hour (customers mostly in the Americas and Europe).
HOUR_WEIGHTS = (3, 2, 2, 1, 1, 1, 2, 3, 5, 7, 9, 10, 11, 12, 13, 13, 13, 12, 11, 10, 8, 6, 5, 4)
BOT_GREETING = "<p>Thanks for reaching out! A teammate will be with you shortly.</p>"
FIN_ANSWERS = ("<p>Here's an article that should help: Resetting your password.</p>",
               "<p>You can change your plan under Settings → Billing.</p>",
               "<p>Exports run in the background; you'll get an email when it's ready.</p>")
CONTACT_THANKS = ("Thanks, that solved it!", "Perfect, thank you.", "Got it, thanks.")
ASK_HUMAN = ("That doesn't help, can I talk to a person?", "I need a human please.")
RATING_WEIGHTS = ((1, 3), (2, 4), (3, 10), (4, 28), (5, 55))


def _p(text: str) -> str:
    return f"<p>{text}</p>"


def _utc(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def company_id_for(organization_id: int) -> str:
    """The Intercom id (24 hex) of the company of a Zendesk organisation."""
    return f"6651{organization_id:020x}"


def intercom_companies(world: World) -> list[IntercomCompany]:
    """The world's customer organisations as Intercom companies: the customer's own id
    (``company_id``) is the organisation's external id, the website its first domain. No
    random draw: the rest of the world is unchanged."""
    def company(o: Organization) -> IntercomCompany:
        website = f"https://www.{o.domain_names[0]}" if o.domain_names else None
        return IntercomCompany(company_id_for(o.id), o.external_id or f"org-{o.id}", o.name,
                               website, o.created_at, o.updated_at)

    return [company(o) for o in sorted(world.organizations, key=lambda o: o.id)]


def contact_for(user: User) -> IntercomContact:
    """The Intercom contact of a Zendesk end user: a stable 24-hex id; ~15 % are leads
    (no ``external_id``, no name), the rest users with the Zendesk id as ``external_id``.
    Either belongs to the company of the user's organisation, if any."""
    lead = (user.id * 2_654_435_761) % 100 < 15
    contact_id = f"6650{user.id:020x}"
    companies = [company_id_for(user.organization_id)] if user.organization_id else []
    times = {"company_ids": companies, "created_at": user.created_at,
             "updated_at": user.updated_at}
    if lead:
        return IntercomContact(contact_id, "lead", None, user.email, None, **times)
    return IntercomContact(contact_id, "user", user.name, user.email, str(user.id), **times)


def generate_admins(rng: random.Random) -> tuple[list[IntercomAdmin], list[IntercomTeam]]:
    """Eight teammates, the bot admin and three teams."""
    admins = [IntercomAdmin(BOT_ADMIN_ID, "Operator", "operator+sandboxapp@intercom.io",
                            None, [], is_bot=True, has_inbox_seat=False)]
    for k, (team_indexes, title) in enumerate(zip(ADMIN_TEAMS, JOB_TITLES, strict=True)):
        first, last = rng.choice(texts.FIRST_NAMES), rng.choice(texts.LAST_NAMES)
        away = k == len(ADMIN_TEAMS) - 1
        admins.append(IntercomAdmin(
            ADMIN_ID_BASE + k, f"{first} {last}", f"{first}.{last}@sandbox.example".lower(),
            title, [TEAM_ID_BASE + t for t in team_indexes], away_mode_enabled=away,
            away_mode_reassign=away))
    teams = [IntercomTeam(TEAM_ID_BASE + k, name,
                          [a.id for a in admins if TEAM_ID_BASE + k in a.team_ids])
             for k, name in enumerate(TEAMS)]
    return admins, teams


class _ConversationSim:
    """One conversation's life as parts (integer epoch seconds until the end)."""

    def __init__(self, rng: random.Random, end_ts: int, conversation_id: int, created: int,
                 contact: IntercomContact, admins: list[IntercomAdmin],
                 teams: list[IntercomTeam]) -> None:
        self.rng, self.end_ts = rng, end_ts
        self.id, self.created, self.contact = conversation_id, created, contact
        self.humans = [a for a in admins if not a.is_bot]
        self.teams = teams
        self.parts: list[IntercomPart] = []
        self.last = created
        self.done = False
        self.assignee: int | None = None
        self.ai = False
        self.rating: IntercomRating | None = None

    def emit(self, ts: int, part_type: str, author: str, admin_id: int | None = None,
             body: str | None = None, assigned_to: tuple[str, int | None] | None = None,
             snoozed_until: int | None = None) -> int | None:
        """Append a part unless it falls after the world's end (then stop); its time."""
        if self.done:
            return None
        ts = max(ts, self.last + 1)
        if ts >= self.end_ts:
            self.done = True
            return None
        self.parts.append(IntercomPart(
            _utc(ts), part_type, author, admin_id, body, assigned_to,
            None if snoozed_until is None else _utc(snoozed_until)))
        self.last = ts
        return ts

    def admin_delay(self, ts: int, mean_minutes: float) -> int:
        """When a teammate acts after ``ts``: soon in business hours, else after opening."""
        wait = int(self.rng.expovariate(1 / mean_minutes) * MINUTE) + self.rng.randint(10, 90)
        if self.rng.random() < 0.05:  # out of hours now and then
            return ts + wait
        return next_staffed(ts) + wait

    def contact_delay(self, ts: int, chat: bool) -> int:
        if chat:
            return ts + self.rng.randint(30, 12 * MINUTE)
        return ts + self.rng.randint(20 * MINUTE, 20 * HOUR)

    def pick_admin(self, team_id: int) -> int:
        members = [a.id for a in self.humans if team_id in a.team_ids
                   and not a.away_mode_enabled]
        return self.rng.choice(members or [a.id for a in self.humans])

    # -- the timeline ------------------------------------------------------------------------

    def customer_initiated(self, chat: bool, team_id: int) -> None:
        rng, t = self.rng, self.created
        if chat and rng.random() < 0.45:
            t = self.emit(t + rng.randint(2, 8), "comment", "bot", BOT_ADMIN_ID,
                          BOT_GREETING) or t
        if chat and rng.random() < 0.10:
            self.ai = True
            t = self.emit(t + rng.randint(3, 20), "comment", "bot", BOT_ADMIN_ID,
                          rng.choice(FIN_ANSWERS)) or t
            if rng.random() < 0.55:
                answered = self.emit(self.contact_delay(t, True), "comment", "contact",
                                     body=_p(rng.choice(CONTACT_THANKS)))
                if answered is not None:
                    self.emit(answered + rng.randint(HOUR, 6 * HOUR), "close", "bot",
                              BOT_ADMIN_ID)
                return
            t = self.emit(self.contact_delay(t, True), "comment", "contact",
                          body=_p(rng.choice(ASK_HUMAN))) or t
        routed = self.emit(t + rng.randint(3, 30), "default_assignment", "bot", BOT_ADMIN_ID,
                           assigned_to=("team", team_id))
        if routed is None:
            return
        self.work(routed, chat, team_id, first=True)

    def admin_initiated(self, chat: bool, team_id: int, sender: int) -> None:
        rng = self.rng
        self.assignee = sender
        self.emit(self.created + 1, "assignment", "admin", sender, None, ("admin", sender))
        if rng.random() < 0.5:
            return  # never answered: stays closed
        opened = self.emit(self.contact_delay(self.created, False), "open", "contact",
                           body=_p(rng.choice(texts.CUSTOMER_REPLIES)))
        if opened is not None:
            self.work(opened, chat, team_id, first=False)

    def work(self, t: int, chat: bool, team_id: int, first: bool) -> None:
        """Teammates answer from ``t`` until the conversation is closed (or the world ends)."""
        rng = self.rng
        mean = 4 if chat else 180
        rounds = 1 + int(rng.expovariate(1 / 1.2))
        for round_no in range(rounds + 6):
            t = self.admin_delay(t, mean)
            if first or self.assignee is None:
                self.assignee = self.pick_admin(team_id)
                if self.emit(t, "assignment", "admin", self.assignee,
                             assigned_to=("admin", self.assignee)) is None:
                    return
                first = False
            if rng.random() < 0.12:
                t = self.emit(t + rng.randint(20, 600), "note", "admin", self.assignee,
                              _p(rng.choice(texts.PRIVATE_NOTES))) or t
            t = self.emit(t, "comment", "admin", self.assignee,
                          _p(rng.choice(texts.AGENT_REPLIES))) or t
            if self.done:
                return
            if rng.random() < 0.10:
                t = self.snooze(t)
                if t < 0:
                    return
            if round_no < rounds + 5 and rng.random() < (0.55 if round_no < rounds else 0.2):
                t = self.emit(self.contact_delay(t, chat), "comment", "contact",
                              body=_p(rng.choice(texts.CUSTOMER_REPLIES))) or t
                if self.done:
                    return
                if rng.random() < 0.03:
                    t = self.emit(t + rng.randint(1, 10), "away_mode_assignment", "bot",
                                  BOT_ADMIN_ID, assigned_to=("team", team_id)) or t
                    self.assignee = None
                continue
            if not self.close(t, chat, team_id):
                return
            return

    def snooze(self, t: int) -> int:
        """The teammate snoozes; the snooze ends by timer or by hand. -1: the world ended."""
        rng = self.rng
        until = t + rng.randint(2 * HOUR, 2 * DAY)
        snoozed = self.emit(t + rng.randint(5, 120), "snoozed", "admin", self.assignee,
                            snoozed_until=until)
        if snoozed is None:
            return -1
        if until <= snoozed:
            until = snoozed + HOUR
            self.parts[-1].snoozed_until = _utc(until)
        if rng.random() < 0.7:
            ended = self.emit(until, "timer_unsnooze", "bot", BOT_ADMIN_ID)
        else:
            ended = self.emit(snoozed + int((until - snoozed) * rng.uniform(0.2, 0.9)),
                              "unsnoozed", "admin", self.assignee)
        if ended is None:
            return -1
        followed = self.emit(self.admin_delay(ended, 30), "comment", "admin", self.assignee,
                             _p(rng.choice(texts.AGENT_FOLLOWUPS).format(
                                 subject_lc="your request")))
        return -1 if followed is None else followed

    def close(self, t: int, chat: bool, team_id: int) -> bool:
        """Close (the teammate, or the bot after a day idle); maybe a reopen and more work,
        else maybe a rating. False once the world has ended."""
        rng = self.rng
        by_bot = rng.random() < 0.08
        if by_bot:
            closed = self.emit(t + DAY + rng.randint(0, HOUR), "close", "bot", BOT_ADMIN_ID)
        else:
            closed = self.emit(t + rng.randint(MINUTE, 30 * MINUTE if chat else 6 * HOUR),
                               "close", "admin", self.assignee)
        if closed is None:
            return False
        if rng.random() < 0.08:
            reopened = self.emit(closed + rng.randint(HOUR, 3 * DAY), "open", "contact",
                                 body=_p(rng.choice(texts.CUSTOMER_REPLIES)))
            if reopened is not None:
                self.work(reopened, chat, team_id, first=False)
            return not self.done
        teammate = self.assignee
        if teammate is not None and rng.random() < 0.4:
            replied = closed + rng.randint(5 * MINUTE, DAY)
            if replied < self.end_ts:
                score = rng.choices(*zip(*RATING_WEIGHTS, strict=True))[0]
                remark = None
                if rng.random() < 0.3:
                    remark = rng.choice(texts.CSAT_GOOD if score >= 4 else texts.CSAT_BAD)
                self.rating = IntercomRating(score, _utc(closed), _utc(replied), teammate,
                                             remark)
        return True


def _arrivals(rng: random.Random, n: int, start_ts: int, end_ts: int) -> list[int]:
    """Creation instants: weekdays twice as busy as weekends, daytime heavy (UTC)."""
    days = max(1, (end_ts - start_ts) // DAY)
    weights = [1.0 if _utc(start_ts + d * DAY).isoweekday() <= 5 else 0.45
               for d in range(days)]
    cum, acc = [], 0.0
    for w in weights:
        acc += w
        cum.append(acc)
    out = []
    hours = list(range(24))
    for _ in range(n):
        day = bisect_left(cum, rng.random() * acc)
        hour = rng.choices(hours, HOUR_WEIGHTS)[0]
        out.append(start_ts + day * DAY + hour * HOUR + rng.randrange(HOUR))
    return sorted(out)


def generate_intercom(world: World, seed: int, start_ts: int, end_ts: int,
                      conversations: int) -> tuple[list[IntercomAdmin], list[IntercomTeam],
                                                   list[IntercomConversation]]:
    """Admins, teams and ``conversations`` conversations created in ``[start_ts, end_ts)``
    (epoch seconds), from ``random.Random(f"intercom:{seed}")``; reads only
    ``world.users`` (the end users become contacts)."""
    rng = random.Random(f"intercom:{seed}")
    admins, teams = generate_admins(rng)
    humans = [a for a in admins if not a.is_bot and not a.away_mode_enabled]
    end_users = sorted((u for u in world.users if u.role == "end-user"), key=lambda u: u.id)
    if not end_users or conversations <= 0:
        return admins, teams, []
    cum, acc = [], 0.0
    for k in range(len(end_users)):
        acc += 1 / (k + 1) ** 0.5
        cum.append(acc)
    topics = sorted(texts.TOPICS)
    out: list[IntercomConversation] = []
    for k, created in enumerate(_arrivals(rng, conversations, start_ts, end_ts)):
        user = end_users[bisect_left(cum, rng.random() * acc)]
        topic = rng.choice(topics)
        tag, _, subjects = texts.TOPICS[topic]
        subject = rng.choice(subjects)
        team_id = TEAM_ID_BASE + TOPIC_TEAMS.get(topic, 0)
        roll = rng.random()
        outbound = roll >= 0.93
        chat = roll < 0.78 or (outbound and rng.random() < 0.6)
        sim = _ConversationSim(rng, end_ts, CONVERSATION_ID_BASE + k, created,
                               contact_for(user), admins, teams)
        conversation = IntercomConversation(
            id=sim.id, created_at=_utc(created), contact=sim.contact,
            source_type="conversation" if chat else "email",
            delivered_as="admin_initiated" if outbound else "customer_initiated",
            subject="" if chat else subject,
            url="https://app.sandbox.example/dashboard" if chat and not outbound else None,
            priority="priority" if rng.random() < 0.08 else "not_priority",
            tags=[tag] if rng.random() < 0.6 else [],
            custom_attributes={"topic": topic})
        if outbound:
            sender = rng.choice(humans).id
            conversation.source_admin_id = sender
            conversation.body = _p(rng.choice(texts.AGENT_FOLLOWUPS).format(
                subject_lc=subject[0].lower() + subject[1:]))
            sim.admin_initiated(chat, team_id, sender)
        else:
            conversation.body = _p(rng.choice(texts.CUSTOMER_OPENERS).format(
                subject=subject, subject_lc=subject[0].lower() + subject[1:]))
            sim.customer_initiated(chat, team_id)
        conversation.parts = sim.parts
        conversation.rating = sim.rating
        conversation.ai_agent_participated = sim.ai
        out.append(conversation)
    return admins, teams, out
