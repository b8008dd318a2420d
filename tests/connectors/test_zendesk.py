"""The Zendesk dlt source against the sandbox, over real HTTP, into a temporary DuckDB."""

from __future__ import annotations

import itertools
import json
import logging
import traceback
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dlt
import pytest

from connectors.http import (
    ApiAuthError,
    ApiRetriesExhaustedError,
    RetryPolicy,
    parse_retry_after,
    validate_base_url,
)
from connectors.zendesk import zendesk_source
from connectors.zendesk.helpers import (
    event_epoch,
    event_time,
    parse_timestamp,
    passed,
    ticket_restart_time,
    updated_epoch,
)
from sandbox import Sandbox, User, World, generate_world
from sandbox.timeline import derive_ticket, epoch
from sandbox.world import Comment, Schedule, Ticket, Update
from sandbox.zendesk_api import WorldIndex
from tests.connectors.landing import api_error_in, columns, counts, new_pipeline, quarantined, query

DATASET = "raw_zendesk"
BEGINNING = datetime(2000, 1, 1, tzinfo=UTC)
#: The test world's days: FIRST_DAY up to and including LAST_DAY (fixed, so runs repeat).
FIRST_DAY = datetime(2024, 3, 5, tzinfo=UTC)
LAST_DAY = date(2024, 3, 10)
#: Short waits, so retry tests stay fast (a Retry-After header still wins).
QUICK_RETRY = RetryPolicy(max_attempts=4, backoff_seconds=0.01, max_backoff_seconds=0.05)


@pytest.fixture(scope="module")
def world() -> World:
    """A small helpdesk: every endpoint returns several pages at page size 3."""
    return generate_world(seed=7, tickets=60, days=6, end_date=LAST_DAY)


@pytest.fixture
def sandbox(world: World):
    """The sandbox serving `world`, without the incremental rate limit."""
    with Sandbox(
        world, port=0, rate_limit_per_minute=700, incremental_rate_limit_per_minute=None
    ) as sb:
        yield sb


def source_for(sb: Sandbox, **overrides: Any) -> Any:
    """A Zendesk source pointed at `sb` (API-token auth, whole history, quick retries)."""
    creds = sb.credentials
    arguments: dict[str, Any] = {
        "email": creds["email"],
        "api_token": creds["api_token"],
        "base_url": sb.url,
        "start": BEGINNING,
        "end": None,
        "retry": QUICK_RETRY,
    }
    arguments.update(overrides)
    return zendesk_source(**arguments)


def expected_counts(world: World) -> dict[str, int]:
    """What the world holds, table by table."""
    audits = [a for t in world.tickets for a in derive_ticket(t).audits]
    return {
        "tickets": len(world.tickets),
        "ticket_metric_sets": len(world.tickets),
        "ticket_events": len(audits),
        "ticket_child_events": sum(len(a.events) + (a.comment is not None) for a in audits),
        "users": len(world.users),
        "organizations": len(world.organizations),
        "groups": len(world.groups),
        "schedules": len(world.schedules),
        "schedules__intervals": sum(len(s.intervals) for s in world.schedules),
        "schedule_holidays": sum(len(s.holidays) for s in world.schedules),
        "satisfaction_ratings": len(world.satisfaction_ratings),
        "calls": len(world.calls),
    }



# --- whole loads ----------------------------------------------------------------------------


def test_every_endpoint_pages_and_lands_the_whole_world(sandbox, world, tmp_path):
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox, page_size=3))

    assert counts(pipeline) == expected_counts(world)
    requests_per_path = Counter(r.path for r in sandbox.requests)
    for path in (
        "/api/v2/incremental/tickets/cursor.json",
        "/api/v2/incremental/ticket_events.json",
        "/api/v2/incremental/users/cursor.json",
        "/api/v2/incremental/organizations.json",
        "/api/v2/groups.json",
        "/api/v2/satisfaction_ratings.json",
        "/api/v2/channels/voice/stats/incremental/calls.json",
    ):
        assert requests_per_path[path] > 1, f"{path} was not paged"
    events = [r for r in sandbox.requests if r.path.endswith("ticket_events.json")]
    assert all(r.query.get("include") == "comment_events" for r in events)
    tickets = [r for r in sandbox.requests if r.path.endswith("tickets/cursor.json")]
    assert all(r.query.get("include") == "metric_sets" for r in tickets)


def test_landed_types_are_stable(sandbox, tmp_path):
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox))

    tickets = columns(pipeline, "tickets")
    assert tickets["id"] == "BIGINT"
    assert tickets["created_at"] == "TIMESTAMP WITH TIME ZONE"
    assert tickets["tags"] == "VARCHAR"  # JSON text
    assert query(pipeline, "SELECT count(*) FROM tickets WHERE json_valid(tags)") == [
        (len(sandbox.world.tickets),)
    ]
    children = columns(pipeline, "ticket_child_events")
    assert children["value"] == children["previous_value"] == "VARCHAR"
    assert children["created_at"] == "TIMESTAMP WITH TIME ZONE"
    assert columns(pipeline, "schedule_holidays")["start_date"] == "DATE"
    for table in counts(pipeline):
        assert not [c for c in columns(pipeline, table) if "__v_" in c], f"variant in {table}"


def test_child_events_give_status_history_and_messages(sandbox, world, tmp_path):
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox).with_resources("ticket_events", "users"))

    landed_status = Counter(
        (ticket_id, int(at.timestamp()), previous, value)
        for ticket_id, at, previous, value in query(
            pipeline,
            "SELECT ticket_id, created_at, previous_value, value FROM ticket_child_events "
            "WHERE field_name = 'status'",
        )
    )
    expected_status: Counter = Counter()
    for ticket in world.tickets:
        previous = None
        for at, status in derive_ticket(ticket).status_history:
            if status != "deleted":  # a deletion leaves no event
                expected_status[(ticket.id, at, previous, status)] += 1
            previous = status
    assert landed_status == expected_status

    landed_comments = Counter(
        query(
            pipeline,
            "SELECT ticket_id, is_public FROM ticket_child_events WHERE event_type = 'Comment'",
        )
    )
    expected_comments: Counter = Counter()
    for ticket in world.tickets:
        for audit in derive_ticket(ticket).audits:
            if audit.comment is not None:
                expected_comments[(ticket.id, audit.comment.public)] += 1
    assert landed_comments == expected_comments

    # Authors resolve to users (or -1, the system), and rule-made comments come from -1.
    orphans = query(
        pipeline,
        "SELECT count(*) FROM ticket_child_events c LEFT JOIN users u ON u.id = c.author_id "
        "WHERE c.event_type = 'Comment' AND u.id IS NULL AND c.author_id <> -1",
    )
    assert orphans == [(0,)]
    rule_authors = query(
        pipeline,
        "SELECT DISTINCT author_id FROM ticket_child_events "
        "WHERE event_type = 'Comment' AND via_channel = 'rule'",
    )
    assert rule_authors in ([], [(-1,)])


def flat_metric_set(metric_set: dict[str, Any]) -> dict[str, Any]:
    """A Ticket Metrics object as `ticket_metric_sets` lands it: durations flattened."""
    flat = {"id": metric_set["id"], "replies": metric_set["replies"],
            "reopens": metric_set["reopens"]}
    for duration in ("reply_time", "first_resolution_time", "full_resolution_time",
                     "agent_wait_time", "requester_wait_time", "on_hold_time"):
        minutes = metric_set[f"{duration}_in_minutes"]
        flat[f"{duration}_calendar_minutes"] = minutes["calendar"]
        flat[f"{duration}_business_minutes"] = minutes["business"]
    return flat


def landed_metric_sets(pipeline: dlt.Pipeline) -> dict[int, dict[str, Any]]:
    """`ticket_metric_sets` by ticket id, in the columns `flat_metric_set` gives."""
    names = list(WORKED_METRIC_SET)
    rows = query(pipeline, f"SELECT ticket_id, {', '.join(names)} FROM ticket_metric_sets")  # noqa: S608
    return {row[0]: dict(zip(names, row[1:], strict=True)) for row in rows}


def test_metric_sets_land_with_their_tickets_matched_by_ticket_id(sandbox, world, tmp_path):
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox, page_size=3).with_resources("tickets"))

    index = WorldIndex(world)
    metrics = index.metrics()
    expected = {
        ticket.id: flat_metric_set(metrics.metric_set(index.states[ticket.id], sandbox.url))
        for ticket in world.tickets
    }
    assert landed_metric_sets(pipeline) == expected
    # Each metric set carries its own ticket's change time (the window cursor).
    assert query(
        pipeline,
        "SELECT count(*) FROM ticket_metric_sets m JOIN tickets t ON t.id = m.ticket_id "
        "WHERE m.generated_timestamp = t.generated_timestamp",
    ) == [(len(world.tickets),)]
    assert columns(pipeline, "ticket_metric_sets")["solved_at"] == "TIMESTAMP WITH TIME ZONE"
    assert "status" not in columns(pipeline, "ticket_metric_sets")  # no ticket column leaks in


AGENT, CUSTOMER = 2, 10
#: Ticket 1 of `metrics_world`, worked out by hand. Schedule: Mon-Fri 09:00-17:00 UTC.
#: Created Fri 16:00 (new); agent replies Mon 10:00 (pending); customer answers Mon 11:00
#: (open); agent solves with a reply Mon 12:00.
WORKED_METRIC_SET: dict[str, Any] = {
    "id": 1,
    "replies": 2,
    "reopens": 0,
    "reply_time_calendar_minutes": 3960,  # Fri 16:00 -> Mon 10:00 = 66 h
    "reply_time_business_minutes": 120,  # Fri 16-17 + Mon 9-10
    "first_resolution_time_calendar_minutes": 4080,  # -> Mon 12:00 = 68 h
    "first_resolution_time_business_minutes": 240,  # Fri 16-17 + Mon 9-12
    "full_resolution_time_calendar_minutes": 4080,
    "full_resolution_time_business_minutes": 240,
    "agent_wait_time_calendar_minutes": 60,  # pending Mon 10-11
    "agent_wait_time_business_minutes": 60,
    "requester_wait_time_calendar_minutes": 4020,  # new 3960 + open Mon 11-12
    "requester_wait_time_business_minutes": 180,  # 120 + 60
    "on_hold_time_calendar_minutes": 0,
    "on_hold_time_business_minutes": 0,
}


def metrics_world() -> World:
    """Two tickets on a Mon-Fri 09:00-17:00 UTC schedule: one solved, one never answered."""

    def at(day: int, hour: int) -> datetime:
        return datetime(2024, 3, day, hour, tzinfo=UTC)

    weekdays = [(1440 * day + 540, 1440 * day + 1020) for day in range(1, 6)]
    return World(
        users=[
            User(AGENT, "Ana Agent", "ana@helpdesk.example", role="agent"),
            User(CUSTOMER, "Carla", "carla@customer.example"),
        ],
        schedules=[Schedule(1, "Support", "UTC", weekdays)],
        tickets=[
            Ticket(1, at(8, 16), CUSTOMER, assignee_id=AGENT, updates=[
                Update(at(8, 16), CUSTOMER, status="new", comment=Comment("Broken")),
                Update(at(11, 10), AGENT, status="pending", comment=Comment("Which one?")),
                Update(at(11, 11), CUSTOMER, status="open", comment=Comment("The red one")),
                Update(at(11, 12), AGENT, status="solved", comment=Comment("Fixed")),
            ]),
            Ticket(2, at(11, 9), CUSTOMER, updates=[
                Update(at(11, 9), CUSTOMER, status="new", comment=Comment("Hello?")),
                Update(at(11, 9) + timedelta(minutes=5), AGENT,
                       comment=Comment("looking", public=False)),
            ]),
        ],
    )


def test_metric_sets_land_flat_with_hand_computed_values(tmp_path):
    pipeline = new_pipeline(tmp_path, DATASET)
    with Sandbox(metrics_world(), port=0, incremental_rate_limit_per_minute=None) as sb:
        pipeline.run(source_for(sb).with_resources("tickets"))

    landed = landed_metric_sets(pipeline)
    assert sorted(landed) == [1, 2]
    assert landed[1] == WORKED_METRIC_SET
    # Ticket 2: no public agent reply, never resolved, no completed status period yet.
    assert landed[2] == {
        **{name: None for name in WORKED_METRIC_SET if name.startswith(("reply", "first", "full"))},
        **{name: 0 for name in WORKED_METRIC_SET if "wait" in name or "hold" in name},
        "id": 2, "replies": 0, "reopens": 0,
    }
    solved_at = query(pipeline, "SELECT solved_at FROM ticket_metric_sets WHERE ticket_id = 1")
    assert solved_at == [(datetime(2024, 3, 11, 12, tzinfo=UTC),)]


def test_a_metric_set_of_a_ticket_not_on_its_page_is_quarantined(sandbox, tmp_path):
    sandbox.inject_fault(
        path_prefix="/api/v2/incremental/tickets",
        status=200,
        body='{"tickets": [{"id": 5, "generated_timestamp": 1709900000}], '
        '"metric_sets": [{"id": 77, "ticket_id": 6}, {"id": 78, "ticket_id": 5}], '
        '"end_of_stream": true}',
    )
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox).with_resources("tickets"))
    assert query(pipeline, "SELECT id FROM tickets") == [(5,)]
    assert query(pipeline, "SELECT id, ticket_id FROM ticket_metric_sets") == [(78, 5)]
    [row] = quarantined(pipeline)
    assert (row["table_name"], row["record_id"], row["column_name"]) == (
        "ticket_metric_sets", "77", "ticket_id"
    )
    assert "ticket 6" in row["reason"] and "not on its page" in row["reason"]


def test_free_text_lands_only_when_asked(sandbox, tmp_path):
    private = new_pipeline(tmp_path / "private", DATASET)
    private.run(source_for(sandbox).with_resources("tickets", "ticket_events", "users"))
    assert "subject" not in columns(private, "tickets")
    assert "description" not in columns(private, "tickets")
    assert "body" not in columns(private, "ticket_child_events")
    assert "email" not in columns(private, "users")
    assert query(
        private,
        "SELECT count(*) FROM ticket_child_events WHERE field_name = 'subject' "
        "AND value IS NOT NULL",
    ) == [(0,)]
    assert query(
        private,
        "SELECT count(*) FROM ticket_child_events WHERE field_name = 'status' AND value IS NULL",
    ) == [(0,)]

    full = new_pipeline(tmp_path / "full", DATASET)
    full.run(source_for(sandbox, land_free_text=True).with_resources("tickets", "ticket_events"))
    assert query(full, "SELECT count(*) FROM tickets WHERE subject IS NULL") == [(0,)]
    assert query(
        full,
        "SELECT count(*) FROM ticket_child_events WHERE event_type = 'Comment' AND body IS NULL",
    ) == [(0,)]


def test_every_table_exists_even_when_the_account_has_no_such_data(tmp_path):
    """No calls (no Talk), no ratings, no schedules, no tickets: the tables still exist."""
    empty = World(users=[User(id=1, name="Admin", email="admin@sandbox.example", role="admin")])
    pipeline = new_pipeline(tmp_path, DATASET)
    with Sandbox(empty, port=0, incremental_rate_limit_per_minute=None) as sb:
        pipeline.run(source_for(sb))
    landed = counts(pipeline)
    assert set(landed) == set(expected_counts(empty))
    assert landed["users"] == 1 and sum(landed.values()) == 1


def test_every_table_exists_after_a_window_in_which_nothing_changed(sandbox, world, tmp_path):
    """A first run over a window before any record: every export's first page runs past the
    window's end, dlt drops those rows, and the tables must exist anyway (a page filtered to
    nothing created no table: staging then failed on a missing `calls`)."""
    before = min(t.created_at for t in world.tickets) - timedelta(days=30)
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox, start=before, end=before + timedelta(days=1)))
    landed = counts(pipeline)
    assert set(landed) == set(expected_counts(world))
    windowed = ("tickets", "ticket_metric_sets", "ticket_events", "ticket_child_events",
                "satisfaction_ratings", "calls")
    assert all(landed[table] == 0 for table in windowed), landed


def test_oauth_token_authenticates(sandbox, world, tmp_path):
    pipeline = new_pipeline(tmp_path, DATASET)
    source = source_for(
        sandbox, email=None, api_token=None, oauth_token=sandbox.credentials["oauth_token"]
    )
    pipeline.run(source.with_resources("groups"))
    assert counts(pipeline) == {"groups": len(world.groups)}


def test_deleted_holidays_disappear(world, tmp_path):
    pipeline = new_pipeline(tmp_path, DATASET)
    with Sandbox(world, port=0) as sb:
        pipeline.run(source_for(sb).with_resources("schedules", "schedule_holidays"))
    before = counts(pipeline)["schedule_holidays"]

    schedule = world.schedules[0]
    removed, schedule.holidays = schedule.holidays[0], schedule.holidays[1:]
    try:
        with Sandbox(world, port=0) as sb:
            pipeline.run(source_for(sb).with_resources("schedules", "schedule_holidays"))
    finally:
        schedule.holidays.insert(0, removed)
    assert counts(pipeline)["schedule_holidays"] == before - 1
    assert query(pipeline, "SELECT count(*) FROM schedule_holidays WHERE id = %s", removed.id) == [
        (0,)
    ]


# --- windows ----------------------------------------------------------------------------------


def test_a_window_lands_only_what_changed_inside_it(sandbox, tmp_path):
    window = (FIRST_DAY + timedelta(days=1), FIRST_DAY + timedelta(days=3))
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox, start=window[0], end=window[1], page_size=5))

    low, high = epoch(window[0]), epoch(window[1])
    for table, cursor in (
        ("tickets", "generated_timestamp"),
        ("ticket_metric_sets", "generated_timestamp"),
        ("ticket_events", "epoch(created_at)"),
        ("ticket_child_events", "epoch(created_at)"),
        ("satisfaction_ratings", "epoch(updated_at)"),
        ("calls", "epoch(updated_at)"),
    ):
        inside, outside = query(
            pipeline,
            f"SELECT count(*) FILTER ({cursor} >= %s AND {cursor} < %s), "  # noqa: S608
            f"count(*) FILTER (NOT ({cursor} >= %s AND {cursor} < %s)) FROM {table}",
            low,
            high,
            low,
            high,
        )[0]
        assert inside > 0 and outside == 0, table
    # Reference data comes whole, whatever the window.
    assert counts(pipeline)["users"] == len(sandbox.world.users)
    # Paging stopped once a time-ordered export passed the window's end.
    for request in sandbox.requests:
        if "start_time" in request.query and request.path.startswith("/api/v2/incremental/"):
            assert int(request.query["start_time"]) < high, request


def test_an_older_window_never_overwrites_newer_rows(sandbox, tmp_path):
    older = (FIRST_DAY + timedelta(days=1), FIRST_DAY + timedelta(days=3))
    newer = (FIRST_DAY + timedelta(days=3), FIRST_DAY + timedelta(days=5))
    windowed = ("tickets", "ticket_events", "satisfaction_ratings", "calls")
    pipeline = new_pipeline(tmp_path, DATASET)

    pipeline.run(source_for(sandbox, start=newer[0], end=newer[1]).with_resources(*windowed))
    before = {table: query(pipeline, f"SELECT * FROM {table}") for table in counts(pipeline)}  # noqa: S608
    pipeline.run(source_for(sandbox, start=older[0], end=older[1]).with_resources(*windowed))

    for table, rows in before.items():
        after = {row[0]: row for row in query(pipeline, f"SELECT * FROM {table}")}  # noqa: S608
        assert [after[row[0]] for row in rows] == rows, table
    assert counts(pipeline)["tickets"] > len(before["tickets"])  # the older window added rows


def test_expected_counts_over_consecutive_windows(sandbox, world, tmp_path):
    """Daily windows from the beginning of history, the last one open, add up to the world."""
    edges = [BEGINNING, *(FIRST_DAY + timedelta(days=k) for k in range(7)), None]
    pipeline = new_pipeline(tmp_path, DATASET)
    for start, end in itertools.pairwise(edges):
        pipeline.run(
            source_for(sandbox, start=start, end=end).with_resources("tickets", "ticket_events")
        )
    landed = counts(pipeline)
    expected = expected_counts(world)
    for table in ("tickets", "ticket_metric_sets", "ticket_events", "ticket_child_events"):
        assert landed[table] == expected[table], table


@pytest.mark.parametrize("rating_time_field", ["updated_at", "created_at"])
def test_ratings_answered_days_after_they_were_offered_land_over_daily_windows(
    world, tmp_path, rating_time_field
):
    """Zendesk's ratings list filters on "the time of the rating", which may be its update
    or its creation (the survey's offer): either way, nightly windows land every rating with
    its answer, including those answered on a later day than offered."""
    answered_later = [r for r in world.satisfaction_ratings
                      if r.created_at.date() != r.updated_at.date()]
    assert answered_later  # the world has some: the test could fail
    edges = [BEGINNING, *(FIRST_DAY + timedelta(days=k) for k in range(7)), None]
    pipeline = new_pipeline(tmp_path, DATASET)
    with Sandbox(world, port=0, incremental_rate_limit_per_minute=None,
                 zendesk_rating_time_field=rating_time_field) as sb:
        for start, end in itertools.pairwise(edges):
            pipeline.run(source_for(sb, start=start, end=end, page_size=5)
                         .with_resources("satisfaction_ratings"))
    landed = {row[0]: row[1:] for row in query(
        pipeline, "SELECT id, score, epoch(updated_at) FROM satisfaction_ratings")}
    assert landed == {r.id: (r.score, epoch(r.updated_at)) for r in world.satisfaction_ratings}


# --- failures ---------------------------------------------------------------------------------


def test_429_and_5xx_are_retried_honouring_retry_after(sandbox, world, tmp_path, caplog):
    sandbox.inject_fault(
        path_prefix="/api/v2/incremental/tickets", status=429, times=1, retry_after=1
    )
    sandbox.inject_fault(path_prefix="/api/v2/incremental/ticket_events", status=500, times=2)
    sandbox.inject_fault(path_prefix="/api/v2/incremental/users", status=503, times=1)
    sandbox.inject_fault(path_prefix="/api/v2/groups", status=502, times=1)
    sandbox.inject_fault(
        path_prefix="/api/v2/satisfaction_ratings",
        status=200,
        times=1,
        body='{"satisfaction_ratings": [{"id": 1',
    )  # a truncated body
    pipeline = new_pipeline(tmp_path, DATASET)
    with caplog.at_level(logging.WARNING, logger="connectors.http"):
        pipeline.run(source_for(sandbox, page_size=25))

    assert counts(pipeline) == expected_counts(world)
    messages = [r.getMessage() for r in caplog.records]
    assert any("HTTP 429" in m and "retrying in 1.0 s" in m for m in messages), messages
    assert sum("HTTP 500" in m for m in messages) == 2
    assert any("HTTP 503" in m for m in messages)
    assert any("not valid JSON" in m for m in messages)


def test_exhausted_retries_raise_a_specific_error(sandbox, tmp_path):
    sandbox.inject_fault(path_prefix="/api/v2/channels/voice", status=503, times=10)
    pipeline = new_pipeline(tmp_path, DATASET)
    retry = RetryPolicy(max_attempts=3, backoff_seconds=0.01)
    with pytest.raises(Exception) as failure:
        pipeline.run(source_for(sandbox, retry=retry).with_resources("calls"))

    error = api_error_in(failure.value)
    assert isinstance(error, ApiRetriesExhaustedError)
    message = str(error)
    assert "zendesk" in message
    assert "/api/v2/channels/voice/stats/incremental/calls.json" in message
    assert "3 attempts" in message and "HTTP 503" in message
    assert len([r for r in sandbox.requests if "voice" in r.path]) == 3


def test_unreachable_api_is_a_connection_error_after_retries(tmp_path):
    source = zendesk_source(
        email="a@b.c",
        api_token="tok-123456",
        base_url="http://127.0.0.1:9",
        start=BEGINNING,
        retry=RetryPolicy(max_attempts=2, backoff_seconds=0.01),
    )
    with pytest.raises(Exception) as failure:
        new_pipeline(tmp_path, DATASET).run(source.with_resources("groups"))
    error = api_error_in(failure.value)
    assert isinstance(error, ApiRetriesExhaustedError)
    assert "ConnectionError" in str(error)


def test_401_is_clear_and_never_shows_the_token(sandbox, tmp_path):
    token = "wrong-token-5b1d9e77c2"  # noqa: S105 - a fake credential
    pipeline = new_pipeline(tmp_path, DATASET)
    with pytest.raises(Exception) as failure:
        pipeline.run(source_for(sandbox, api_token=token).with_resources("groups"))

    error = api_error_in(failure.value)
    assert isinstance(error, ApiAuthError) and error.status == 401
    assert "ZENDESK_API_TOKEN" in str(error) and "/api/v2/groups.json" in str(error)
    everything = "".join(traceback.format_exception(failure.value))
    assert token not in everything
    assert "Authorization" not in everything


def test_secrets_echoed_by_the_api_are_redacted(sandbox, tmp_path):
    token = sandbox.credentials["api_token"]
    sandbox.inject_fault(
        path_prefix="/api/v2/groups",
        status=403,
        body=f'{{"error": "Forbidden", "description": "token {token} lacks scope"}}',
    )
    with pytest.raises(Exception) as failure:
        new_pipeline(tmp_path, DATASET).run(source_for(sandbox).with_resources("groups"))
    error = api_error_in(failure.value)
    assert isinstance(error, ApiAuthError)
    assert "***" in str(error)
    assert token not in "".join(traceback.format_exception(failure.value))


def test_a_record_that_cannot_land_is_quarantined_naming_endpoint_and_record(
    sandbox, tmp_path
):
    sandbox.inject_fault(
        path_prefix="/api/v2/groups",
        status=200,
        body='{"groups": [{"id": 42, "name": "x", "created_at": "yesterday-ish", '
        '"description": "secret words"}, {"id": 43, "name": "y"}], '
        '"meta": {"has_more": false}, "links": {}}',
    )
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox).with_resources("groups"))
    assert query(pipeline, "SELECT id FROM groups") == [(43,)]
    [row] = quarantined(pipeline)
    assert row["endpoint"] == "/api/v2/groups.json" and row["record_id"] == "42"
    assert row["column_name"] == "created_at" and "yesterday-ish" in row["reason"]
    assert "secret words" not in row["record"] and '"name":"x"' in row["record"]


def test_a_malformed_rating_from_before_the_window_is_not_quarantined_again(sandbox, tmp_path):
    """The ratings' second request (received ones of the 28 days before the window) lists
    ratings an earlier window landed, or quarantined: those updated before the window are
    left out before shaping, so an old malformed one is not quarantined again each night.
    The fault spoils the first rating of both requests' pages."""
    window = (FIRST_DAY + timedelta(days=4), FIRST_DAY + timedelta(days=5))
    sandbox.inject_fault(path_prefix="/api/v2/satisfaction_ratings", kind="bad_record",
                         mode="wrong_type", field="ticket_id", times=2)
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox, start=window[0], end=window[1])
                 .with_resources("satisfaction_ratings"))
    served = [r for r in sandbox.requests if r.path == "/api/v2/satisfaction_ratings.json"]
    assert [r.query.get("score") for r in served] == [None, "received"]
    [row] = quarantined(pipeline)  # the window's own spoilt rating only
    updated = json.loads(row["record"])["updated_at"]
    assert epoch(window[0]) <= epoch(parse_timestamp(updated)) < epoch(window[1])


# --- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://acme.zendesk.com",
        "http://127.0.0.1:8080",
        "http://127.5.6.7",
        "http://localhost:9000/",
        "http://[::1]:8080",
    ],
)
def test_https_or_loopback_base_urls_are_accepted(url):
    assert validate_base_url(url, "ZENDESK_BASE_URL") == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://acme.zendesk.com",
        "http://10.0.0.5:8080",
        "ftp://acme.zendesk.com",
        "acme.zendesk.com",
        "https://user:pw@acme.zendesk.com",
    ],
)
def test_other_base_urls_are_refused_naming_the_setting(url):
    with pytest.raises(ValueError, match="ZENDESK_BASE_URL"):
        zendesk_source(email="a@b.c", api_token="t0ken-x", base_url=url, start=BEGINNING)


def test_missing_credentials_and_bad_windows_are_refused():
    with pytest.raises(ValueError, match="ZENDESK_EMAIL"):
        zendesk_source(subdomain="acme", api_token="t0ken-x", start=BEGINNING)
    with pytest.raises(ValueError, match="ZENDESK_SUBDOMAIN"):
        zendesk_source(email="a@b.c", api_token="t0ken-x", start=BEGINNING)
    with pytest.raises(ValueError, match="timezone-aware"):
        zendesk_source(subdomain="acme", oauth_token="t0ken-x", start=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="after start"):
        zendesk_source(subdomain="acme", oauth_token="t0ken-x", start=BEGINNING, end=BEGINNING)


def test_constructing_the_source_makes_no_request():
    source = zendesk_source(subdomain="example", email="x", api_token="x", start=BEGINNING)
    assert set(source.resources) == {
        "tickets",
        "ticket_events",
        "users",
        "organizations",
        "groups",
        "schedules",
        "schedule_holidays",
        "satisfaction_ratings",
        "calls",
    }


def test_retry_after_accepts_seconds_and_http_dates():
    now = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Mon, 01 Jan 2024 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    # A zone offset beyond any C int raises OverflowError, not ValueError: still "no value".
    assert parse_retry_after("Mon, 01 Jan 2024 12:00:30 +99999999999999999999") is None


@pytest.mark.parametrize("moment", [1e20, 2**62], ids=["1e20", "2**62"])
def test_a_time_out_of_range_never_stops_the_export_it_is_read_by(moment):
    # Restart positions and the window's end are read from the raw records before they are
    # shaped: a bad time there means "not this record" (its shaping quarantines it).
    end = datetime(2024, 1, 1, tzinfo=UTC)
    audit = {"id": 1, "created_at": moment}
    assert passed(end, event_time)([audit]) is False
    assert event_epoch(audit) is None and updated_epoch({"updated_at": moment}) is None
    assert ticket_restart_time({"id": 1, "updated_at": moment}) is None
