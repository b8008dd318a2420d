"""Local, deterministic Zendesk Support / Talk, Intercom, Freshdesk, HubSpot CRM and Salesforce APIs
for demos and tests.

>>> from sandbox import Sandbox, generate_world
>>> world = generate_world(seed=42, tickets=500, days=30)
>>> with Sandbox(world) as sb:  # doctest: +SKIP
...     print(sb.url, sb.credentials)
"""

from sandbox.generate import generate_world
from sandbox.server import RecordedRequest, Sandbox
from sandbox.world import (
    Call,
    Comment,
    CrmCompany,
    CrmContact,
    Deal,
    FreshdeskAgent,
    FreshdeskCompany,
    FreshdeskContact,
    FreshdeskEvent,
    FreshdeskGroup,
    FreshdeskRating,
    FreshdeskTicket,
    Group,
    Holiday,
    Organization,
    SatisfactionRating,
    Schedule,
    SurveyResponse,
    Ticket,
    Update,
    User,
    World,
)

__all__ = [
    "Call",
    "Comment",
    "CrmCompany",
    "CrmContact",
    "Deal",
    "FreshdeskAgent",
    "FreshdeskCompany",
    "FreshdeskContact",
    "FreshdeskEvent",
    "FreshdeskGroup",
    "FreshdeskRating",
    "FreshdeskTicket",
    "Group",
    "Holiday",
    "Organization",
    "RecordedRequest",
    "Sandbox",
    "SatisfactionRating",
    "Schedule",
    "SurveyResponse",
    "Ticket",
    "Update",
    "User",
    "World",
    "generate_world",
]
