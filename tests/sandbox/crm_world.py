"""A small hand-built CRM world for the CRM sandbox tests (on top of the helpdesk one)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sandbox import CrmCompany, Deal, World
from tests.sandbox.sandbox_world import build_small_world

ACME, GLOBEX, INITECH, GONE = 501, 502, 503, 504


def at(month: int, day: int, hour: int = 12) -> datetime:
    """A UTC instant in 2024."""
    return datetime(2024, month, day, hour, tzinfo=UTC)


def build_crm_world() -> World:
    """The small helpdesk world plus four companies and eight deals."""
    world = build_small_world()
    world.crm_companies = [
        CrmCompany(ACME, "Acme Inc.", "acme.example", "Technology", at(1, 2), at(3, 1)),
        CrmCompany(GLOBEX, "Globex", "globex.example", None, at(1, 3), at(2, 1)),
        CrmCompany(INITECH, "Initech", "initech.example", "Retail", at(1, 4), at(3, 5)),
        CrmCompany(GONE, "Gone Ltd", "gone.example", "Finance", at(1, 5), at(1, 6),
                   archived=True, archived_at=at(1, 6)),
    ]
    world.deals = [
        Deal(9001, ACME, "Acme annual", 12000.0, date(2024, 1, 15), "closedwon", 12, 1000.0,
             at(1, 10), at(1, 16)),
        Deal(9002, ACME, "Acme add-on", 2400.5, date(2024, 2, 1), "closedwon", None, None,
             at(1, 20), at(2, 2)),
        Deal(9003, GLOBEX, "Globex monthly Jan", 300.0, date(2024, 1, 5), "closedwon", 1, 300.0,
             at(1, 4), at(1, 6)),
        Deal(9004, GLOBEX, "Globex monthly Feb", 300.0, date(2024, 2, 5), "closedwon", 1, None,
             at(2, 4), at(2, 6)),
        Deal(9005, INITECH, "Initech lost", 5000.0, date(2024, 2, 20), "closedlost", 12, None,
             at(2, 1), at(2, 21)),
        Deal(9006, INITECH, "Initech pipeline", None, date(2024, 5, 1), "contractsent", 12,
             None, at(3, 1), at(3, 2)),
        Deal(9007, None, "Orphan", 100.0, date(2024, 3, 1), "closedwon", 1, None, at(2, 25),
             at(3, 3)),
        Deal(9008, ACME, "Acme annual (duplicate)", 12000.0, date(2024, 1, 15), "closedwon",
             12, 1000.0, at(1, 10), at(1, 11), archived=True),
    ]
    return world
