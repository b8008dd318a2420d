"""The generated Freshdesk side: determinism, the rest of the world unchanged, histories whose
stats, conversations and activities agree, and the whole of it over HTTP."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
import requests

from sandbox import Sandbox, World, generate_world
from sandbox.freshdesk_api import FreshdeskApi, derive_ticket, epoch, status_name

END = date(2025, 6, 30)
END_TS = int(datetime.combine(END + timedelta(days=1), time(), tzinfo=UTC).timestamp())
OTHERS = ("users", "organizations", "groups", "schedules", "tickets", "calls",
          "satisfaction_ratings", "crm_companies", "deals", "survey_responses", "crm_contacts",
          "intercom_admins", "intercom_teams", "intercom_conversations")


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(seed=7, tickets=2400, days=30, end_date=END)


def test_deterministic_and_sized_by_default(world: World) -> None:
    again = generate_world(seed=7, tickets=2400, days=30, end_date=END)
    assert again.freshdesk_tickets == world.freshdesk_tickets
    assert again.freshdesk_ratings == world.freshdesk_ratings
    assert again.freshdesk_agents == world.freshdesk_agents
    assert len(world.freshdesk_tickets) == 2400 // 4
    assert [t.id for t in world.freshdesk_tickets] == list(range(1, 601))
    other = generate_world(seed=8, tickets=2400, days=30, end_date=END)
    assert other.freshdesk_tickets != world.freshdesk_tickets
    sized = generate_world(seed=7, tickets=300, days=30, end_date=END, freshdesk_tickets=40)
    assert len(sized.freshdesk_tickets) == 40


def test_the_rest_of_the_world_is_unchanged(world: World) -> None:
    without = generate_world(seed=7, tickets=2400, days=30, end_date=END, freshdesk_tickets=0)
    assert without.freshdesk_tickets == [] and without.freshdesk_ratings == []
    for name in OTHERS:
        assert getattr(without, name) == getattr(world, name), name


def test_histories_stats_and_activities_agree(world: World) -> None:
    api = FreshdeskApi(world)
    start = END_TS - 30 * 86_400
    contacts = {c.id for c in world.freshdesk_contacts}
    agents = {a.id: a for a in world.freshdesk_agents}
    gone = next(a for a in world.freshdesk_agents if not a.active)
    for ticket in world.freshdesk_tickets:
        created = epoch(ticket.created_at)
        times = [epoch(e.at) for e in ticket.events]
        assert start <= created < END_TS and ticket.requester_id in contacts
        assert times == sorted(times) and all(created < t < END_TS for t in times), ticket.id
        st = derive_ticket(ticket, api.group_names)
        assert st.updated_at == max([created, *times])
        acts = st.activities
        assert acts[0].activity["new_ticket"] is True and acts[0].at == created
        assert all("new_ticket" not in a.activity for a in acts[1:])
        statuses = [a.activity["status"] for a in acts if "status" in a.activity]
        assert statuses[-1] == status_name(st.status), ticket.id
        # stats from the conversations and the status changes
        replies = [c.at for c in st.conversations if c.kind == "reply"]
        incoming = [c.at for c in st.conversations if c.kind == "incoming"]
        stats = st.stats
        assert stats["first_responded_at"] == (replies[0] if replies else None)
        assert stats["agent_responded_at"] == (replies[-1] if replies else None)
        assert stats["requester_responded_at"] == (incoming[-1] if incoming else None)
        changes = [(a.at, a.activity["status"]) for a in acts[1:] if "status" in a.activity]
        closes = [t for t, s in changes if s == "Closed"]
        assert stats["closed_at"] == (closes[-1] if closes else None)
        resolves = [t for t, s in changes if s == "Resolved"]
        if resolves:
            assert stats["resolved_at"] in (resolves[-1], closes[-1] if closes else None)
        if st.status == 3:
            assert stats["pending_since"] == next(t for t, s in reversed(changes)
                                                  if s == "Pending") if changes else created
        else:
            assert stats["pending_since"] is None
        reopens = [t for (t, s), (_, before) in zip(changes, [(0, status_name(ticket.status)),
                                                             *changes], strict=False)
                   if before in ("Resolved", "Closed") and s not in ("Resolved", "Closed")]
        assert stats["reopened_at"] == (reopens[-1] if reopens else None), ticket.id
        # notes in activities are the conversations
        assert [a.activity["note"]["id"] for a in acts if "note" in a.activity] == \
            [c.id for c in st.conversations]
        for event in ticket.events:
            if event.actor == "agent":
                assert event.agent_id in agents
                if event.agent_id == gone.id:
                    assert event.at < gone.updated_at
    for rating in world.freshdesk_ratings:
        ticket = world.freshdesk_tickets[rating.ticket_id - 1]
        assert rating.rating in (103, 102, 100, -102, -103)
        assert rating.user_id == ticket.requester_id and epoch(rating.created_at) < END_TS
        assert api.states[ticket.id].stats["resolved_at"] is not None


def test_the_mix_looks_like_a_helpdesk(world: World) -> None:
    api = FreshdeskApi(world)
    n = len(world.freshdesk_tickets)
    statuses = Counter(st.status for st in api.states.values())
    assert statuses[5] > 0.6 * n and statuses[2] + statuses[3] + statuses[6] + statuses[7] > 0
    sources = Counter(t.source for t in world.freshdesk_tickets)
    assert set(sources) == {1, 2, 3, 7, 9, 10} and 0.3 < sources[1] / n < 0.6
    outbound = [t for t in world.freshdesk_tickets if t.source == 10]
    assert all(t.creator_id is not None and t.responder_id == t.creator_id for t in outbound)
    kinds = Counter(k for st in api.states.values() for a in st.activities for k in a.activity)
    for key in ("new_ticket", "status", "priority", "agent_id", "group", "note", "automation"):
        assert kinds[key] > 0, key
    names = Counter(a.activity.get("status") for st in api.states.values()
                    for a in st.activities)
    for name in ("Open", "Pending", "Resolved", "Closed", "Waiting on Customer",
                 "Waiting on Third Party"):
        assert names[name] > 0, name
    assert any(st.stats["reopened_at"] for st in api.states.values())
    assert any(st.spam for st in api.states.values())
    assert len(world.freshdesk_ratings) > 0.15 * n
    agents = world.freshdesk_agents
    assert sum(a.occasional for a in agents) == 2 and sum(not a.active for a in agents) == 1
    system = [a for st in api.states.values() for a in st.activities
              if a.performer_type == "system"]
    assert system and all(a.performer_id is None and "automation" in a.activity
                          for a in system)


def test_the_whole_world_over_http(world: World) -> None:
    with Sandbox(world, clock=lambda: END_TS + 3600,
                 freshdesk_rate_limit_per_minute=None) as sb:
        session = requests.Session()
        session.auth = (sb.credentials["freshdesk_api_key"], "X")
        base = sb.credentials["freshdesk_base_url"]
        seen: list[int] = []
        next_url: str | None = f"{base}/api/v2/tickets?updated_since=2000-01-01T00:00:00Z" \
            "&order_by=updated_at&order_type=asc&per_page=100&include=stats"
        while next_url:
            page = session.get(next_url)
            seen += [t["id"] for t in page.json()]
            next_url = page.links.get("next", {}).get("url")
        api = FreshdeskApi(world)
        hidden = {tid for tid, st in api.states.items() if st.deleted or st.spam}
        assert sorted(seen) == sorted(set(api.tickets) - hidden)
        # the activities of every day add up to every ticket's activities
        total = 0
        day = END - timedelta(days=29)
        while day <= END:
            export = session.get(f"{base}/api/v2/export/ticket_activities",
                                 params={"created_at": day.isoformat()}).json()
            total += len(requests.get(export["export"][0]["url"]).json()["activities_data"])
            day += timedelta(days=1)
        assert total == sum(len(st.activities) for st in api.states.values())
