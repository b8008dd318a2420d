"""The sandbox's data model: a small, hand-buildable description of a helpdesk's history.

A :class:`World` holds people, reference data and tickets (and, for the CRM
APIs, companies and deals; for Intercom, admins, teams and conversations; for Freshdesk,
groups, agents, contacts, tickets with their histories and satisfaction ratings). A
ticket is a list of :class:`Update` objects (one per Zendesk audit); everything
else the API shows (current status, ``updated_at``, audit and event ids,
metrics) is derived from those updates deterministically by
:mod:`sandbox.timeline`, so the same world always serves the same JSON.

All datetimes must be timezone-aware; they are served in UTC, truncated to the
second, as Zendesk does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

#: Default creation time for reference data built by hand without one.
DEFAULT_CREATED_AT = datetime(2020, 1, 1, tzinfo=UTC)

#: Ticket statuses Zendesk uses (``deleted`` only appears in exports).
STATUSES = ("new", "open", "pending", "hold", "solved", "closed", "deleted")

#: User roles.
ROLES = ("end-user", "agent", "admin")

#: Satisfaction rating scores.
SCORES = ("offered", "unoffered", "good", "bad")

#: Author id Zendesk uses for triggers and automations.
SYSTEM_AUTHOR_ID = -1


@dataclass(slots=True)
class User:
    """A Zendesk user: an end user, an agent or an admin."""

    id: int
    name: str
    email: str
    role: str = "end-user"
    organization_id: int | None = None
    created_at: datetime = DEFAULT_CREATED_AT
    updated_at: datetime | None = None
    time_zone: str = "Eastern Time (US & Canada)"
    phone: str | None = None
    default_group_id: int | None = None
    active: bool = True


@dataclass(slots=True)
class Organization:
    """A customer organisation; ``domain_names`` map email domains to it."""

    id: int
    name: str
    domain_names: list[str] = field(default_factory=list)
    created_at: datetime = DEFAULT_CREATED_AT
    external_id: str | None = None
    updated_at: datetime | None = None


@dataclass(slots=True)
class Group:
    """An agent group."""

    id: int
    name: str
    created_at: datetime = DEFAULT_CREATED_AT
    updated_at: datetime | None = None
    description: str = ""


@dataclass(slots=True)
class Holiday:
    """A schedule holiday: whole local days from ``start_date`` to ``end_date`` inclusive."""

    id: int
    name: str
    start_date: date
    end_date: date


@dataclass(slots=True)
class Schedule:
    """A business-hours schedule.

    ``intervals`` are ``(start_minute, end_minute)`` pairs counted from Sunday
    00:00 local time (Monday 09:00-17:00 is ``(1980, 2460)``); ``time_zone`` is a
    Rails zone name such as ``"Eastern Time (US & Canada)"``.
    """

    id: int
    name: str
    time_zone: str
    intervals: list[tuple[int, int]]
    holidays: list[Holiday] = field(default_factory=list)
    created_at: datetime = DEFAULT_CREATED_AT
    updated_at: datetime | None = None


@dataclass(slots=True)
class Comment:
    """A ticket comment; ``public=False`` is an internal note."""

    body: str
    public: bool = True


@dataclass(slots=True)
class Update:
    """One ticket audit.

    The first update of a ticket is its creation: its comment is the
    description and its status defaults to ``new``. Later fields left ``None``
    are unchanged. A trigger or automation is ``via="rule"`` with
    ``author_id=-1`` (``author_id=-1`` with the default ``via`` also counts as
    a rule, and a ``via="rule"`` update is always served as author -1).
    ``via`` uses Zendesk's ``via.channel`` names (``web``, ``email``, ``api``,
    ``voice``, ``chat``, ``native_messaging``, ``rule``...). A ``status`` of
    ``deleted`` deletes the ticket (no audit appears in the event stream).
    """

    at: datetime
    author_id: int
    status: str | None = None
    comment: Comment | None = None
    via: str = "web"
    assignee_id: int | None = None
    group_id: int | None = None
    priority: str | None = None


@dataclass(slots=True)
class Ticket:
    """A ticket and its history.

    ``assignee_id``, ``group_id`` and ``priority`` are the values at creation
    (the first update may override them); later updates change them. When
    ``updates`` is empty the ticket is treated as created by its requester at
    ``created_at`` with status ``new`` and the subject as description.
    """

    id: int
    created_at: datetime
    requester_id: int
    submitter_id: int | None = None
    assignee_id: int | None = None
    group_id: int | None = None
    organization_id: int | None = None
    channel: str = "email"
    priority: str | None = "normal"
    subject: str = "Help needed"
    type: str | None = None
    updates: list[Update] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    external_id: str | None = None
    brand_id: int = 1
    ticket_form_id: int = 1
    custom_fields: dict[int, str | None] = field(default_factory=dict)


@dataclass(slots=True)
class Call:
    """A Zendesk Talk call; durations are in seconds."""

    id: int
    ticket_id: int | None
    agent_id: int | None
    created_at: datetime
    talk_time: int
    hold_time: int = 0
    wrap_up_time: int = 0
    direction: str = "inbound"
    completion_status: str = "completed"
    wait_time: int = 0
    customer_id: int | None = None
    phone_number: str = "+15555550100"
    consultation_time: int = 0


@dataclass(slots=True)
class SatisfactionRating:
    """A CSAT rating of a ticket (``offered`` = survey sent, not answered)."""

    id: int
    ticket_id: int
    score: str
    created_at: datetime
    updated_at: datetime
    requester_id: int
    assignee_id: int | None = None
    group_id: int | None = None
    comment: str | None = None


@dataclass(slots=True)
class CrmCompany:
    """A CRM company (HubSpot company / Salesforce Account).

    ``domain`` is the bare email/web domain (``acme.example``) the helpdesk
    organisations share; ``industry`` is served verbatim by both CRMs (the
    segment). ``archived`` is HubSpot's archived flag and Salesforce's
    ``IsDeleted`` (``archived_at`` defaults to ``updated_at``).
    """

    id: int
    name: str
    domain: str | None
    industry: str | None = None
    created_at: datetime = DEFAULT_CREATED_AT
    updated_at: datetime | None = None
    archived: bool = False
    archived_at: datetime | None = None


#: HubSpot's default-pipeline deal stages (internal ids); the last two are closed.
DEAL_STAGES = ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
               "decisionmakerboughtin", "contractsent", "closedwon", "closedlost")


@dataclass(slots=True)
class Deal:
    """A CRM deal (HubSpot deal / Salesforce Opportunity); a contract when won.

    ``stage`` is a HubSpot internal stage id (:data:`DEAL_STAGES`); Salesforce
    shows it as ``StageName`` (``Closed Won``...) with ``IsWon`` / ``IsClosed``.
    A won deal is a contract that starts on ``close_date`` and runs
    ``term_months`` (``None``: the property is empty); ``mrr`` is HubSpot's
    ``hs_mrr`` (``None``: empty). ``company_id`` is the associated company.
    """

    id: int
    company_id: int | None
    name: str
    amount: float | None
    close_date: date
    stage: str = "closedwon"
    term_months: int | None = 12
    mrr: float | None = None
    created_at: datetime = DEFAULT_CREATED_AT
    updated_at: datetime | None = None
    archived: bool = False


@dataclass(slots=True)
class CrmContact:
    """A HubSpot contact: a person at a customer, here only as far as the pipeline reads it:
    its primary company (the ``associatedcompanyid`` property; ``None``: no company).
    Survey responses name their contact (``SurveyResponse.contact_id``)."""

    id: int
    company_id: int | None
    created_at: datetime = DEFAULT_CREATED_AT
    updated_at: datetime | None = None
    archived: bool = False


#: HubSpot's survey types (``hs_survey_type``) and, per type, the scale of ``hs_value``:
#: NPS 0-10, CSAT HubSpot's three faces (0 unhappy, 1 neutral, 2 happy), CES 1-7 (1 very
#: difficult, 7 very easy).
SURVEY_SCALES = {"NPS": (0, 10), "CSAT": (0, 2), "CES": (1, 7)}


def survey_response_group(survey_type: str, value: int | None) -> str | None:
    """HubSpot's ``hs_response_group`` for a response: NPS 9-10 PROMOTER, 7-8 PASSIVE, 0-6
    DETRACTOR; CSAT happy PROMOTER, neutral PASSIVE, unhappy DETRACTOR; CES 5-7 PROMOTER, 4
    PASSIVE, 1-3 DETRACTOR. None for no value or another type."""
    if value is None or survey_type not in SURVEY_SCALES:
        return None
    cut = {"NPS": (9, 7), "CSAT": (2, 1), "CES": (5, 4)}[survey_type]
    return "PROMOTER" if value >= cut[0] else "PASSIVE" if value >= cut[1] else "DETRACTOR"


@dataclass(slots=True)
class SurveyResponse:
    """A HubSpot feedback submission: one contact's answer to an NPS, CSAT or CES survey
    (``/crm/v3/objects/feedback_submissions``).

    ``survey_type`` is HubSpot's ``hs_survey_type`` (``NPS``, ``CSAT``, ``CES``,
    ``CUSTOM``); ``value`` its ``hs_value`` on the type's scale (:data:`SURVEY_SCALES`);
    ``response_group`` its ``hs_response_group`` (None: derived from the value by
    :func:`survey_response_group`); ``channel`` its ``hs_survey_channel``; ``content`` the
    free-text answer (``hs_content``). ``created_at`` / ``updated_at`` default to
    ``submitted_at`` (``hs_submission_timestamp``).
    """

    id: int
    survey_id: int
    survey_name: str
    survey_type: str
    value: int | None
    submitted_at: datetime
    contact_id: int | None = None
    channel: str = "EMAIL"
    response_group: str | None = None
    content: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    archived: bool = False
    archived_at: datetime | None = None


#: Intercom conversation states (``state``); ``open`` is true for ``open`` and ``snoozed``.
INTERCOM_STATES = ("open", "closed", "snoozed")


@dataclass(slots=True)
class IntercomTeam:
    """An Intercom team (an inbox teammates are assigned through)."""

    id: int
    name: str
    admin_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class IntercomAdmin:
    """An Intercom admin (teammate). ``is_bot``: the workspace's bot admin (Operator / Fin),
    which authors automated parts as ``{"type": "bot"}`` and has no inbox seat."""

    id: int
    name: str
    email: str
    job_title: str | None = None
    team_ids: list[int] = field(default_factory=list)
    is_bot: bool = False
    away_mode_enabled: bool = False
    away_mode_reassign: bool = False
    has_inbox_seat: bool = True


@dataclass(slots=True)
class IntercomCompany:
    """An Intercom company (a customer organisation). ``id`` is Intercom's 24-hex id,
    ``company_id`` the customer's own id for it (set when the company was created, never
    changed: generated worlds use the organisation's external id), ``website`` its site (its
    host is the organisation's e-mail domain)."""

    id: str
    company_id: str
    name: str
    website: str | None = None
    created_at: datetime = DEFAULT_CREATED_AT
    updated_at: datetime | None = None
    monthly_spend: float = 0.0
    size: int | None = None
    industry: str | None = None
    plan: str | None = None


@dataclass(slots=True)
class IntercomContact:
    """The contact (``role`` ``user`` or ``lead``) a conversation is with; ``id`` is Intercom's
    24-hex id, ``external_id`` the customer's own id (generated worlds: the Zendesk user id).
    ``company_ids``: the ids of the companies the contact belongs to (``IntercomCompany.id``),
    as Intercom lists them; ``created_at`` / ``updated_at``: the contact record's own."""

    id: str
    role: str = "user"
    name: str | None = None
    email: str | None = None
    external_id: str | None = None
    company_ids: list[str] = field(default_factory=list)
    created_at: datetime = DEFAULT_CREATED_AT
    updated_at: datetime | None = None


@dataclass(slots=True)
class IntercomPart:
    """One conversation part, in time order.

    ``author`` is ``"contact"`` (the conversation's contact, served as ``user`` / ``lead``),
    ``"admin"`` or ``"bot"`` (both with ``admin_id``). ``part_type`` uses Intercom's names
    (``comment``, ``note``, ``assignment``, ``default_assignment``,
    ``away_mode_assignment``, ``open``, ``close``, ``snoozed``, ``unsnoozed``,
    ``timer_unsnooze``...); a contact writing into a closed conversation is an ``open``
    part with a body, as Intercom records it. ``assigned_to`` is ``("admin", id)``,
    ``("team", id)`` or ``("nobody_admin", None)`` on assignment parts; ``snoozed_until``
    is the end of a ``snoozed`` part's snooze. ``id=None`` derives
    ``conversation_id * 100000 + position + 1``.
    """

    at: datetime
    part_type: str
    author: str = "admin"
    admin_id: int | None = None
    body: str | None = None
    assigned_to: tuple[str, int | None] | None = None
    snoozed_until: datetime | None = None
    id: int | None = None
    redacted: bool = False


@dataclass(slots=True)
class IntercomRating:
    """A conversation rating (1-5) by the contact: requested when the conversation was closed
    (served as ``created_at``, as Intercom does), answered at ``replied_at`` (which bumps the
    conversation's ``updated_at``), for the teammate ``admin_id``."""

    rating: int
    requested_at: datetime
    replied_at: datetime
    admin_id: int
    remark: str | None = None


@dataclass(slots=True)
class IntercomConversation:
    """An Intercom conversation: its opening message (the ``source``) and its parts.

    ``delivered_as`` ``customer_initiated`` (the contact wrote ``body``) or
    ``admin_initiated`` (``source_admin_id`` wrote it; the conversation starts closed until
    the contact answers). Everything Intercom derives (``state``, ``open``,
    ``waiting_since``, ``snoozed_until``, assignees, ``statistics``, ``updated_at``) is
    derived from the parts by :mod:`sandbox.intercom_api`.
    """

    id: int
    created_at: datetime
    contact: IntercomContact
    source_type: str = "conversation"
    delivered_as: str = "customer_initiated"
    source_admin_id: int | None = None
    subject: str = ""
    body: str = "<p>Hi</p>"
    url: str | None = None
    parts: list[IntercomPart] = field(default_factory=list)
    title: str | None = None
    priority: str = "not_priority"
    tags: list[str] = field(default_factory=list)
    rating: IntercomRating | None = None
    custom_attributes: dict[str, str | int | float | bool | None] = field(default_factory=dict)
    ai_agent_participated: bool = False
    read: bool | None = None


#: Freshdesk's ticket statuses: the four built-in ones and the two custom statuses a new
#: account ships with (served by ``/api/v2/ticket_fields`` as ``choices``).
FRESHDESK_STATUSES = {2: "Open", 3: "Pending", 4: "Resolved", 5: "Closed",
                      6: "Waiting on Customer", 7: "Waiting on Third Party"}


@dataclass(slots=True)
class FreshdeskGroup:
    """A Freshdesk agent group."""

    id: int
    name: str
    description: str = ""
    agent_ids: list[int] = field(default_factory=list)
    created_at: datetime = DEFAULT_CREATED_AT
    updated_at: datetime | None = None
    #: The business hours its tickets follow (None: the account's default).
    business_hour_id: int | None = None


@dataclass(slots=True)
class FreshdeskBusinessHours:
    """A Freshdesk business calendar: at most one opening per weekday.

    ``hours`` maps a weekday (``"monday"``...) to its ``(start_minute, end_minute)`` of the
    local day (``(480, 1020)`` is 08:00-17:00; 1440 is midnight at its end); a weekday not
    in it is closed. ``time_zone`` is a Rails zone name, as Zendesk's. Freshdesk's API
    lists no holidays.
    """

    id: int
    name: str
    time_zone: str
    hours: dict[str, tuple[int, int]]
    is_default: bool = False
    description: str = ""
    created_at: datetime = DEFAULT_CREATED_AT
    updated_at: datetime | None = None


@dataclass(slots=True)
class FreshdeskAgent:
    """A Freshdesk agent. ``occasional``: a day-pass agent; ``active=False``: deactivated
    (served with ``contact.active: false``). ``ticket_scope``: 1 global, 2 group, 3 restricted."""

    id: int
    name: str
    email: str
    occasional: bool = False
    active: bool = True
    ticket_scope: int = 1
    group_ids: list[int] = field(default_factory=list)
    job_title: str | None = None
    created_at: datetime = DEFAULT_CREATED_AT
    updated_at: datetime | None = None


@dataclass(slots=True)
class FreshdeskCompany:
    """A Freshdesk company (a customer organisation); ``domains`` map contacts' e-mail
    domains to it."""

    id: int
    name: str
    domains: list[str] = field(default_factory=list)
    created_at: datetime = DEFAULT_CREATED_AT
    updated_at: datetime | None = None


@dataclass(slots=True)
class FreshdeskContact:
    """A Freshdesk contact (a ticket's requester)."""

    id: int
    name: str
    email: str
    company_id: int | None = None
    phone: str | None = None


@dataclass(slots=True)
class FreshdeskEvent:
    """One step of a Freshdesk ticket's history, in time order; it becomes one ticket activity.

    ``actor``: ``"requester"`` (the ticket's contact), ``"agent"`` (``agent_id``) or
    ``"system"`` (an automation: ``rule`` and ``rule_type``). The changes it makes: ``status``
    (a status id), ``priority``, ``assign`` (the agent now responsible), ``group_id``;
    ``message``: ``"reply"`` (an agent's public reply), ``"note"`` (an agent's private note)
    or ``"incoming"`` (the requester's reply), with ``body`` (HTML): it becomes a
    conversation. ``deleted`` / ``spam``: the agent deleted the ticket or marked it spam.
    """

    at: datetime
    actor: str
    agent_id: int | None = None
    status: int | None = None
    priority: int | None = None
    assign: int | None = None
    group_id: int | None = None
    message: str | None = None
    body: str | None = None
    rule: str | None = None
    rule_type: int | None = None
    deleted: bool = False
    spam: bool = False


@dataclass(slots=True)
class FreshdeskTicket:
    """A Freshdesk ticket as created, plus its history (``events``).

    ``status``, ``priority``, ``group_id`` and ``responder_id`` are the values at creation;
    everything the API shows later (current values, ``updated_at``, ``stats``,
    conversations, activities, ``deleted`` / ``spam``) is derived from the events by
    :mod:`sandbox.freshdesk_api`. ``source``: 1 Email, 2 Portal, 3 Phone, 7 Chat,
    9 Feedback Widget, 10 Outbound Email (``creator_id``, an agent, wrote ``description``).
    """

    id: int
    created_at: datetime
    requester_id: int
    subject: str
    description: str = "<div>Hi</div>"
    source: int = 1
    status: int = 2
    priority: int = 1
    type: str | None = None
    tags: list[str] = field(default_factory=list)
    group_id: int | None = None
    responder_id: int | None = None
    company_id: int | None = None
    product_id: int | None = None
    creator_id: int | None = None
    events: list[FreshdeskEvent] = field(default_factory=list)


@dataclass(slots=True)
class FreshdeskRating:
    """A satisfaction rating of a ticket by its requester: ``rating`` on the survey's scale
    (103 best ... -103 worst), served as ``ratings: {"default_question": rating}``."""

    id: int
    ticket_id: int
    user_id: int
    rating: int
    created_at: datetime
    agent_id: int | None = None
    group_id: int | None = None
    feedback: str | None = None
    survey_id: int | None = None


@dataclass(slots=True)
class FreshdeskTimeEntry:
    """Time an agent logged on a ticket (Freshdesk's time tracking), ``started_at`` to
    ``stopped_at``. A timer entry (``timer=True``) is created when its timer starts and
    updated when it stops: until the sandbox's clock reaches ``stopped_at`` it is served
    ``timer_running: true`` with the time so far. A manual entry is created (and last
    updated) at ``stopped_at``. ``executed_at``: when the work counts (the timer's start, or
    the day an agent logging it afterwards typed, up to a few days back). ``edited_at``: when
    an agent last edited it (its ``updated_at`` from then on)."""

    id: int
    ticket_id: int
    agent_id: int
    started_at: datetime
    stopped_at: datetime
    executed_at: datetime
    timer: bool = True
    billable: bool = True
    note: str | None = None
    company_id: int | None = None
    edited_at: datetime | None = None


@dataclass(slots=True)
class World:
    """Everything the sandbox serves."""

    users: list[User] = field(default_factory=list)
    organizations: list[Organization] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    satisfaction_ratings: list[SatisfactionRating] = field(default_factory=list)
    account_subdomain: str = "sandbox"
    crm_companies: list[CrmCompany] = field(default_factory=list)
    deals: list[Deal] = field(default_factory=list)
    survey_responses: list[SurveyResponse] = field(default_factory=list)
    crm_contacts: list[CrmContact] = field(default_factory=list)
    intercom_admins: list[IntercomAdmin] = field(default_factory=list)
    intercom_teams: list[IntercomTeam] = field(default_factory=list)
    intercom_conversations: list[IntercomConversation] = field(default_factory=list)
    intercom_companies: list[IntercomCompany] = field(default_factory=list)
    freshdesk_groups: list[FreshdeskGroup] = field(default_factory=list)
    freshdesk_agents: list[FreshdeskAgent] = field(default_factory=list)
    freshdesk_companies: list[FreshdeskCompany] = field(default_factory=list)
    freshdesk_contacts: list[FreshdeskContact] = field(default_factory=list)
    freshdesk_tickets: list[FreshdeskTicket] = field(default_factory=list)
    freshdesk_ratings: list[FreshdeskRating] = field(default_factory=list)
    freshdesk_time_entries: list[FreshdeskTimeEntry] = field(default_factory=list)
    freshdesk_business_hours: list[FreshdeskBusinessHours] = field(default_factory=list)

    def user(self, user_id: int) -> User | None:
        """Return the user with ``user_id`` or ``None`` (linear scan; fine for tests)."""
        return next((u for u in self.users if u.id == user_id), None)

    def ticket(self, ticket_id: int) -> Ticket | None:
        """Return the ticket with ``ticket_id`` or ``None``."""
        return next((t for t in self.tickets if t.id == ticket_id), None)
