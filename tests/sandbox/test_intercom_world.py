"""The generated Intercom side: determinism, the rest of the world unchanged, timelines and
statistics consistent with the parts, and paging the whole of it over HTTP."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
import requests

from sandbox import Sandbox, World, generate_world
from sandbox.intercom_api import derive_conversation, epoch, is_admin_reply, is_contact_text

END = date(2025, 6, 30)
END_TS = int(datetime.combine(END + timedelta(days=1), time(), tzinfo=UTC).timestamp())


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(seed=7, tickets=1500, days=30, end_date=END)


def test_deterministic_and_sized_by_default(world: World) -> None:
    again = generate_world(seed=7, tickets=1500, days=30, end_date=END)
    assert again.intercom_conversations == world.intercom_conversations
    assert again.intercom_admins == world.intercom_admins
    assert len(world.intercom_conversations) == 1500 // 3
    assert len(world.intercom_admins) == 9 and sum(a.is_bot for a in world.intercom_admins) == 1
    assert [t.name for t in world.intercom_teams] == ["Customer Support", "Billing",
                                                      "Technical"]
    other = generate_world(seed=8, tickets=1500, days=30, end_date=END)
    assert other.intercom_conversations != world.intercom_conversations
    sized = generate_world(seed=7, tickets=300, days=30, end_date=END,
                           intercom_conversations=40)
    assert len(sized.intercom_conversations) == 40


def test_the_rest_of_the_world_is_unchanged(world: World) -> None:
    without = generate_world(seed=7, tickets=1500, days=30, end_date=END,
                             intercom_conversations=0)
    assert without.intercom_conversations == []
    for name in ("users", "organizations", "groups", "tickets", "calls",
                 "satisfaction_ratings", "crm_companies", "deals", "survey_responses",
                 "crm_contacts"):
        assert getattr(without, name) == getattr(world, name), name
    # figures recorded before the Intercom side existed
    before = generate_world(seed=42, tickets=2000, days=60, end_date="2025-06-30")
    tickets = hashlib.sha256(repr([
        (t.id, t.created_at, [(u.at, u.author_id, u.status, u.comment) for u in t.updates])
        for t in before.tickets]).encode()).hexdigest()
    rest = hashlib.sha256(repr((before.users, before.deals, before.crm_companies,
                                before.survey_responses, before.crm_contacts,
                                before.satisfaction_ratings, before.calls)).encode()).hexdigest()
    assert len(before.tickets) == 2000
    assert tickets == "42a10cde4011ad137bff7df5030e546940842bee176b607b9cfc533e55a6215b"
    assert rest == "b8818420ebffff69a64eb3bb8fdc26cd3ba85f03b4987889f086e7dd70f2367b"


def test_timelines_and_statistics_follow_the_parts(world: World) -> None:
    start = END_TS - 30 * 86_400
    for c in world.intercom_conversations:
        created = epoch(c.created_at)
        times = [epoch(p.at) for p in c.parts]
        assert start <= created < END_TS
        assert times == sorted(times) and all(created < t < END_TS for t in times), c.id
        st = derive_conversation(c)
        stats = st.statistics
        # updated_at: the last activity (the last part, or the rating answered after it)
        last = max([created, *times])
        if c.rating is not None:
            replied = epoch(c.rating.replied_at)
            assert st.state == "closed" and replied > epoch(c.rating.requested_at) == last
            assert epoch(c.rating.requested_at) == stats["last_close_at"]
            assert replied < END_TS and st.updated_at == replied
            assert 1 <= c.rating.rating <= 5
        else:
            assert st.updated_at == last
        fcra = stats["first_contact_reply_at"]
        if c.delivered_as == "customer_initiated":
            assert fcra == created
        else:
            texts = [epoch(p.at) for p in c.parts if is_contact_text(p)]
            assert fcra == (texts[0] if texts else None)
        if fcra is None:
            assert stats["first_admin_reply_at"] is None and stats["count_reopens"] == 0
            continue
        replies = [epoch(p.at) for p in c.parts if is_admin_reply(p) and epoch(p.at) >= fcra]
        assert stats["first_admin_reply_at"] == (replies[0] if replies else None)
        assert stats["last_admin_reply_at"] == (replies[-1] if replies else None)
        if replies:
            assert stats["time_to_admin_reply"] == replies[0] - fcra
            assert stats["median_time_to_reply"] is not None
        closes = [epoch(p.at) for p in c.parts if p.part_type == "close"]
        assert stats["first_close_at"] == (closes[0] if closes else None)
        assert stats["time_to_last_close"] == (closes[-1] - fcra if closes else None)
        assert stats["count_reopens"] == sum(
            1 for p in c.parts if p.part_type == "open" and epoch(p.at) > fcra)
        assert stats["count_conversation_parts"] == len(c.parts)
        if st.state == "snoozed":
            assert st.snoozed_until is not None and st.snoozed_until >= END_TS - 1
        if st.waiting_since is not None:
            assert not replies or st.waiting_since > replies[-1]


def test_the_mix_looks_like_a_support_inbox(world: World) -> None:
    conversations = world.intercom_conversations
    states = Counter(derive_conversation(c).state for c in conversations)
    kinds = Counter((c.source_type, c.delivered_as) for c in conversations)
    n = len(conversations)
    assert 0.70 < kinds[("conversation", "customer_initiated")] / n < 0.86
    assert 0.08 < kinds[("email", "customer_initiated")] / n < 0.22
    assert 0.03 < sum(v for (_, d), v in kinds.items() if d == "admin_initiated") / n < 0.12
    assert states["closed"] > 0.8 * n and states["open"] > 0
    part_types = Counter(p.part_type for c in conversations for p in c.parts)
    for kind in ("comment", "note", "assignment", "default_assignment", "close", "open",
                 "snoozed", "timer_unsnooze"):
        assert part_types[kind] > 0, kind
    ratings = [c.rating.rating for c in conversations if c.rating is not None]
    assert ratings and sum(r >= 4 for r in ratings) / len(ratings) > 0.6
    assert any(c.ai_agent_participated for c in conversations)
    bot_closed = [c for c in conversations if any(
        p.part_type == "close" and p.author == "bot" for p in c.parts)]
    assert bot_closed
    assert {c.contact.role for c in conversations} == {"user", "lead"}


def test_the_whole_world_pages_over_http(world: World) -> None:
    with Sandbox(world, intercom_rate_limit_per_10s=None) as sb:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {sb.credentials['intercom_access_token']}"
        query = {"operator": "AND", "value": [
            {"field": "updated_at", "operator": ">", "value": 0},
            {"field": "updated_at", "operator": "<", "value": END_TS}]}
        seen: list[str] = []
        cursor = None
        while True:
            pagination = {"per_page": 150, **({"starting_after": cursor} if cursor else {})}
            body = session.post(sb.url + "/conversations/search",
                                json={"query": query, "pagination": pagination}).json()
            seen += [c["id"] for c in body["conversations"]]
            cursor = body["pages"].get("next", {}).get("starting_after")
            if not cursor:
                break
        assert len(seen) == len(set(seen)) == len(world.intercom_conversations)
        one = session.get(f"{sb.url}/conversations/{seen[-1]}").json()
        assert one["conversation_parts"]["total_count"] == \
            one["statistics"]["count_conversation_parts"]
