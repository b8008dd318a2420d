"""The generator, the derived timeline, business time, determinism and the command line."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from sandbox import Sandbox, generate_world
from sandbox.business_time import BusinessCalendar, iana_zone
from sandbox.cli import build_parser, serve
from sandbox.timeline import derive_ticket, epoch
from sandbox.zendesk_api import WorldIndex
from tests.sandbox.sandbox_world import AGENT, build_small_world

END = date(2024, 6, 30)
ENDPOINTS = [
    "/api/v2/incremental/tickets/cursor.json?start_time=0&include=metric_sets",
    "/api/v2/incremental/ticket_events.json?start_time=0&include=comment_events",
    "/api/v2/incremental/users/cursor.json?start_time=0",
    "/api/v2/incremental/organizations.json?start_time=0",
    "/api/v2/groups.json",
    "/api/v2/business_hours/schedules.json",
    "/api/v2/satisfaction_ratings.json?page[size]=100",
    "/api/v2/channels/voice/stats/incremental/calls.json?start_time=0",
]


@pytest.fixture(scope="module")
def world():  # type: ignore[no-untyped-def]
    return generate_world(seed=42, tickets=1500, days=60, end_date=END)


def snapshot(world) -> list[str]:  # type: ignore[no-untyped-def]
    with Sandbox(world, rate_limit_per_minute=None,
                 incremental_rate_limit_per_minute=None) as sb:
        s = requests.Session()
        s.auth = (f"{sb.credentials['email']}/token", sb.credentials["api_token"])
        return [s.get(sb.url + path, headers={"Host": "sandbox.test"}).text for path in ENDPOINTS]


def test_same_seed_same_json(world) -> None:  # type: ignore[no-untyped-def]
    again = generate_world(seed=42, tickets=1500, days=60, end_date=END)
    assert snapshot(world) == snapshot(again)
    other = generate_world(seed=43, tickets=1500, days=60, end_date=END)
    assert snapshot(other)[0] != snapshot(world)[0]


def test_generation_is_fast() -> None:
    started = time.perf_counter()
    w = generate_world(seed=1, tickets=5000, days=90, end_date=END)
    elapsed = time.perf_counter() - started
    assert len(w.tickets) == 5000
    assert elapsed < 5.0  # about 0.3 s on a laptop; generous for loaded CI


def test_world_shape(world) -> None:  # type: ignore[no-untyped-def]
    roles = Counter(u.role for u in world.users)
    assert roles["agent"] == 30 and roles["admin"] == 2 and roles["end-user"] >= 400
    assert 4 <= len(world.groups) <= 5
    assert all(o.domain_names for o in world.organizations)
    assert len(world.tickets) == 1500
    assert len({t.id for t in world.tickets}) == 1500
    us = min(world.schedules, key=lambda s: s.id)
    assert us.time_zone == "Eastern Time (US & Canada)"
    assert us.intervals == [(d * 1440 + 540, d * 1440 + 1020) for d in range(1, 6)]
    assert any(h.name == "Independence Day" for h in us.holidays)
    end_ts = epoch(datetime(2024, 7, 1, tzinfo=UTC))
    start_ts = epoch(datetime(2024, 5, 2, tzinfo=UTC))
    before = [t for t in world.tickets if epoch(t.created_at) < start_ts]
    assert 1 <= len(before) <= 40  # a few long-running tickets from before the window
    for t in world.tickets:
        assert epoch(t.created_at) < end_ts
        assert t.updates[0].at == t.created_at
        assert all(epoch(u.at) < end_ts for u in t.updates)
        assert [u.at for u in t.updates] == sorted(u.at for u in t.updates)


def test_world_has_the_interesting_histories(world) -> None:  # type: ignore[no-untyped-def]
    index = WorldIndex(world)
    staff = index.staff_ids
    states = list(index.states.values())
    transitions = Counter((a, b) for s in states for (_, a), (_, b)
                          in zip(s.status_history, s.status_history[1:], strict=False))
    assert transitions[("solved", "open")] > 0  # reopens
    assert transitions[("solved", "closed")] > 0
    assert transitions[("pending", "closed")] > 0  # closed without passing solved
    assert transitions[("open", "hold")] + transitions[("new", "hold")] > 0
    assert Counter(s.status for s in states)["deleted"] >= 1
    assert any(s.status in ("new", "open", "pending", "hold") for s in states)
    rule_comments = [a for s in states for a in s.audits if a.via == "rule" and a.comment]
    assert rule_comments and all(a.author_id == -1 for a in rule_comments)
    private = [a for s in states for a in s.audits if a.comment and not a.comment.public]
    assert private
    outbound = [t for t in world.tickets if t.channel != "voice"
                and t.updates[0].author_id in staff]
    assert outbound
    channels = Counter(t.channel for t in world.tickets)
    assert {"email", "web", "chat", "voice", "native_messaging", "api"} <= set(channels)
    voice_ids = {t.id for t in world.tickets if t.channel == "voice"}
    linked = {c.ticket_id for c in world.calls if c.ticket_id is not None}
    assert linked and linked <= voice_ids
    assert all(c.talk_time > 0 and c.wrap_up_time > 0 for c in world.calls if c.ticket_id)
    scores = Counter(r.score for r in world.satisfaction_ratings)
    assert scores["good"] > scores["bad"] > 0 and scores["offered"] > 0
    events = sum(len(a.events) + (a.comment is not None) for s in states for a in s.audits)
    assert 8 <= events / len(states) <= 20


def test_agents_work_mostly_in_business_hours(world) -> None:  # type: ignore[no-untyped-def]
    staff = {u.id for u in world.users if u.role != "end-user"}
    eastern = ZoneInfo("America/New_York")
    local = [u.at.astimezone(eastern) for t in world.tickets for u in t.updates[1:]
             if u.author_id in staff]
    inside = [d for d in local if d.isoweekday() <= 5 and 9 <= d.hour < 17]
    assert len(inside) / len(local) > 0.8


def test_solved_tickets_close_four_days_later(world) -> None:  # type: ignore[no-untyped-def]
    for t in world.tickets:
        for before, after in zip(t.updates, t.updates[1:], strict=False):
            if after.status == "closed" and before.status == "solved":
                assert after.via == "rule" and after.author_id == -1
                gap = after.at - before.at
                assert timedelta(days=4) <= gap <= timedelta(days=4, hours=2)


def test_default_end_date_is_yesterday() -> None:
    w = generate_world(seed=5, tickets=40, days=3)
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    assert max(t.created_at for t in w.tickets).date() <= yesterday
    assert max(u.at for t in w.tickets for u in t.updates).date() <= yesterday


def test_derived_timeline_of_a_hand_built_ticket() -> None:
    world = build_small_world()
    state = derive_ticket(world.tickets[0])
    assert [s for _, s in state.status_history] == ["new", "pending", "open", "solved", "closed"]
    assert state.status == "closed" and state.assignee_id == AGENT and state.group_id == 1
    assert [a.id for a in state.audits] == [100100, 100200, 100300, 100400, 100500, 100600]
    assert state.audits[1].author_id == -1 and state.audits[1].rule is not None
    assert derive_ticket(world.tickets[0]).audits[2].events == state.audits[2].events
    deleted = derive_ticket(world.tickets[3])
    assert deleted.status == "deleted" and len(deleted.audits) == 1


def test_business_calendar_counts_open_minutes_across_dst_and_holidays() -> None:
    world = build_small_world()
    cal = BusinessCalendar(world.schedules[0], date(2024, 3, 1), date(2024, 3, 31))
    monday_9am = epoch(datetime(2024, 3, 4, 14, tzinfo=UTC))  # 09:00 EST
    assert cal.business_seconds(monday_9am, monday_9am + 86_400) == 8 * 3600
    assert cal.add(monday_9am, 8 * 3600 + 60) == monday_9am + 86_400 + 60
    # Friday the 8th is a holiday; after the DST switch (10th), 9:00 EDT is 13:00 UTC
    thursday_5pm = epoch(datetime(2024, 3, 7, 22, tzinfo=UTC))
    assert cal.next_open(thursday_5pm) == epoch(datetime(2024, 3, 11, 13, tzinfo=UTC))
    assert iana_zone("Eastern Time (US & Canada)") == "America/New_York"
    assert iana_zone("Europe/Paris") == "Europe/Paris"


def test_cli_serves_until_stopped(capsys: pytest.CaptureFixture[str]) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=serve, kwargs={
        "port": 0, "seed": 3, "tickets": 30, "days": 5, "end_date": "2024-06-30",
        "stop_event": stop})
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while "ZENDESK_API_TOKEN" not in capsys.readouterr().out and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    args = build_parser().parse_args(["--port", "0", "--tickets", "10", "--rate-limit", "none",
                                      "--end-date", "2024-01-31"])
    assert args.rate_limit is None and args.end_date == date(2024, 1, 31)
