"""The Freshdesk dlt source against the sandbox, over real HTTP, into a temporary DuckDB."""

from __future__ import annotations

import json
import logging
import traceback
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from connectors.freshdesk import freshdesk_source, settings
from connectors.freshdesk.helpers import day_minute, export_days, export_time
from connectors.http import ApiAuthError, RetryPolicy
from connectors.typed_rows import Rejected
from sandbox import Sandbox, World, generate_world
from sandbox.world import FRESHDESK_STATUSES
from tests.connectors.landing import api_error_in, columns, counts, new_pipeline, quarantined, query

DATASET = "raw_freshdesk"
LAST_DAY = date(2024, 3, 10)
FIRST_DAY = datetime(2024, 3, 5, tzinfo=UTC)
WINDOW = (FIRST_DAY, FIRST_DAY + timedelta(days=3))
QUICK_RETRY = RetryPolicy(max_attempts=4, backoff_seconds=0.01, max_backoff_seconds=0.05)
TABLES = ("tickets", "conversations", "ticket_activities", "satisfaction_ratings",
          "time_entries", "agents", "groups", "companies", "business_hours", "ticket_statuses",
          "survey_scale")


@pytest.fixture(scope="module")
def world() -> World:
    """A small Freshdesk account over six days."""
    return generate_world(seed=7, tickets=60, days=6, end_date=LAST_DAY, freshdesk_tickets=60)


@pytest.fixture
def sandbox(world: World):
    with Sandbox(world, port=0) as sb:
        yield sb


def source_for(sb: Sandbox, **overrides: Any) -> Any:
    arguments: dict[str, Any] = {
        "api_key": sb.credentials["freshdesk_api_key"],
        "base_url": sb.credentials["freshdesk_base_url"],
        "start": WINDOW[0],
        "end": WINDOW[1],
        "retry": QUICK_RETRY,
    }
    arguments.update(overrides)
    return freshdesk_source(**arguments)


def updated_in(sb: Sandbox, start: datetime, end: datetime) -> set[int]:
    low, high = start.timestamp(), end.timestamp()
    return {tid for tid, st in sb.freshdesk.states.items() if low <= st.updated_at < high}



def test_a_window_lands_every_table_with_its_columns_and_types(sandbox, tmp_path):
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox, page_size=7))

    expected = updated_in(sandbox, *WINDOW)
    assert expected
    landed = dict(query(pipeline, "SELECT id, deleted FROM tickets"))
    assert set(landed) == expected
    deleted = {tid for tid in expected if sandbox.freshdesk.states[tid].deleted}
    assert {tid for tid, flag in landed.items() if flag} == deleted
    for table, wanted in ((settings.TICKETS_TABLE, settings.TICKET_COLUMNS),
                          (settings.CONVERSATIONS_TABLE, settings.CONVERSATION_COLUMNS),
                          (settings.ACTIVITIES_TABLE, settings.ACTIVITY_COLUMNS),
                          (settings.RATINGS_TABLE, settings.RATING_COLUMNS),
                          (settings.TIME_ENTRIES_TABLE, settings.TIME_ENTRY_COLUMNS),
                          (settings.AGENTS_TABLE, settings.AGENT_COLUMNS),
                          (settings.GROUPS_TABLE, settings.GROUP_COLUMNS),
                          (settings.COMPANIES_TABLE, settings.COMPANY_COLUMNS),
                          (settings.BUSINESS_HOURS_TABLE, settings.BUSINESS_HOURS_COLUMNS),
                          (settings.STATUSES_TABLE, settings.STATUS_COLUMNS),
                          (settings.SURVEY_SCALE_TABLE, settings.SURVEY_SCALE_COLUMNS)):
        found = columns(pipeline, table)
        assert list(found) == list(wanted), table
    assert columns(pipeline, "tickets")["id"] == "BIGINT"
    assert columns(pipeline, "tickets")["updated_at"] == "TIMESTAMP WITH TIME ZONE"
    assert columns(pipeline, "ticket_activities")["id"] == "VARCHAR"
    assert columns(pipeline, "ticket_activities")["export_date"] == "DATE"
    # Conversations of every live ticket, none of the deleted ones.
    conversation_tickets = {r[0] for r in query(pipeline,
                                                "SELECT DISTINCT ticket_id FROM conversations")}
    with_conversations = {tid for tid in expected - deleted
                          if sandbox.freshdesk.states[tid].conversations}
    assert conversation_tickets == with_conversations
    assert counts(pipeline)["conversations"] == sum(
        len(sandbox.freshdesk.states[t].conversations) for t in with_conversations)
    assert counts(pipeline)["agents"] == len(sandbox.world.freshdesk_agents)
    companies = dict(query(pipeline, "SELECT id, domains FROM companies"))
    assert {c.id: json.loads(companies[c.id]) for c in sandbox.world.freshdesk_companies} \
        == {c.id: c.domains for c in sandbox.world.freshdesk_companies} and companies
    # The survey's five answers, worst first, each placed on its scale.
    assert query(pipeline, "SELECT rating, position, points FROM survey_scale "
                           "ORDER BY position") == [(-103, 1, 5), (-102, 2, 5), (100, 3, 5),
                                                    (102, 4, 5), (103, 5, 5)]
    assert query(pipeline, "SELECT count(*) FROM ticket_statuses WHERE name = 'Open'") == [(1,)]
    # Each calendar's weekdays in minutes of the local day, a closed one NULL; each group
    # with the calendar it follows.
    calendars = {row[0]: row[1:] for row in query(
        pipeline, "SELECT id, is_default, time_zone, sunday_start_minute, monday_start_minute, "
                  "monday_end_minute, saturday_start_minute, saturday_end_minute "
                  "FROM business_hours")}
    assert calendars == {
        b.id: (b.is_default, b.time_zone, None, *b.hours["monday"],
               *b.hours.get("saturday", (None, None)))
        for b in sandbox.world.freshdesk_business_hours} and len(calendars) == 2
    assert dict(query(pipeline, "SELECT id, business_hour_id FROM groups")) == {
        g.id: g.business_hour_id for g in sandbox.world.freshdesk_groups}
    assert quarantined(pipeline) == []


def test_activities_land_with_ids_stable_across_reruns(sandbox, tmp_path):
    pipeline = new_pipeline(tmp_path, DATASET)
    snapshots = []
    for _ in range(2):
        pipeline.run(source_for(sandbox).with_resources("ticket_activities"))
        snapshots.append(sorted(query(pipeline, "SELECT * FROM ticket_activities")))
    assert snapshots[0] == snapshots[1] and snapshots[0]
    low, high = WINDOW
    expected = [a for day in ("2024-03-05", "2024-03-06", "2024-03-07")
                for a in sandbox.freshdesk.activities(day)]
    assert len(snapshots[0]) == len(expected)
    rows = query(pipeline, "SELECT min(performed_at), max(performed_at), count(DISTINCT id), "
                 "count(*) FROM ticket_activities")
    assert low <= rows[0][0] and rows[0][1] < high and rows[0][2] == rows[0][3]
    statuses = {r[0] for r in query(pipeline, "SELECT DISTINCT status FROM ticket_activities "
                                    "WHERE status IS NOT NULL")}
    assert "Open" in statuses and statuses <= set(FRESHDESK_STATUSES.values())
    # The pre-signed download carries no credentials.
    downloads = [r for r in sandbox.requests if "/exports/" in r.path]
    assert len(downloads) == 6


def test_free_text_lands_only_when_asked(sandbox, tmp_path):
    private = new_pipeline(tmp_path / "private", DATASET)
    private.run(source_for(sandbox))
    for table, column in (("tickets", "subject"), ("conversations", "body_text"),
                          ("ticket_activities", "activity"),
                          ("satisfaction_ratings", "feedback"), ("time_entries", "note")):
        assert query(private, f"SELECT count(*) FROM {table} WHERE {column} IS NOT NULL") \
            == [(0,)], table
    free = new_pipeline(tmp_path / "free", DATASET)
    free.run(source_for(sandbox, land_free_text=True))
    assert query(free, "SELECT count(*) FROM tickets WHERE subject IS NULL") == [(0,)]
    assert query(free, "SELECT count(*) FROM ticket_activities WHERE activity IS NULL") \
        == [(0,)]
    assert query(free, "SELECT count(*) FROM time_entries WHERE note IS NOT NULL")[0][0] > 0


@pytest.fixture(scope="module")
def recent_world() -> World:
    """A small Freshdesk account whose last day was yesterday (the connector's `now` is the
    real time: which days have ended, which missing export is recent)."""
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    return generate_world(seed=7, tickets=40, days=3, end_date=yesterday, freshdesk_tickets=40)


def test_days_not_ended_are_skipped_with_an_info_line(recent_world, tmp_path, caplog):
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    ended, pending = export_days(today - timedelta(days=1), None, datetime.now(UTC))
    assert ended == [(today - timedelta(days=1)).date()] and pending == [today.date()]
    pipeline = new_pipeline(tmp_path, DATASET)
    with Sandbox(recent_world, port=0) as sb, \
            caplog.at_level(logging.INFO, logger="connectors.freshdesk"):
        pipeline.run(source_for(sb, start=today - timedelta(days=1), end=None)
                     .with_resources("ticket_activities"))
        exports = [r.path for r in sb.requests if "export/ticket_activities" in r.path]
    assert any("has not ended" in r.getMessage() for r in caplog.records)
    assert len(exports) == 1  # yesterday's only
    assert counts(pipeline)["ticket_activities"] > 0


def test_a_recent_export_not_ready_is_skipped_with_a_warning_naming_the_day(
        recent_world, tmp_path, caplog):
    """Freshdesk builds a day's export some time after the day ends: a run that finds it
    missing goes on (the pipeline's next night reads the day again) and says so."""
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    start = datetime(yesterday.year, yesterday.month, yesterday.day, tzinfo=UTC)
    pipeline = new_pipeline(tmp_path, DATASET)
    with Sandbox(recent_world, port=0) as sb, \
            caplog.at_level(logging.WARNING, logger="connectors.freshdesk"):
        sb.inject_fault(path_prefix="/freshdesk/api/v2/export/ticket_activities", status=404)
        pipeline.run(source_for(sb, start=start, end=start + timedelta(days=1)))
    warnings = [r.getMessage() for r in caplog.records
                if "no ticket activities export" in r.getMessage()]
    assert warnings and f"from {yesterday.isoformat()} to {yesterday.isoformat()}" in warnings[0]
    assert counts(pipeline)["ticket_activities"] == 0 and counts(pipeline)["tickets"] > 0


def test_activities_can_reach_back_before_the_window(sandbox, tmp_path):
    """`activities_from`: the activities of the day before the window land too (the
    pipeline's windows reach back a day: a day's export exists once the UTC day ended)."""
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox, start=WINDOW[0] + timedelta(days=1),
                            activities_from=WINDOW[0]).with_resources("ticket_activities"))
    days = {d for (d,) in query(pipeline, "SELECT DISTINCT export_date FROM ticket_activities")}
    assert days == {date(2024, 3, 5), date(2024, 3, 6), date(2024, 3, 7)}


def test_an_old_missing_export_is_skipped_with_a_warning(sandbox, tmp_path, caplog):
    """A day that ended long ago without an export (the account had none then, or it is no
    longer kept) cannot become ready: its day is skipped, the others land."""
    sandbox.inject_fault(path_prefix="/freshdesk/api/v2/export/ticket_activities", status=404)
    pipeline = new_pipeline(tmp_path, DATASET)
    with caplog.at_level(logging.WARNING, logger="connectors.freshdesk"):
        pipeline.run(source_for(sandbox).with_resources("ticket_activities"))
    warnings = [r.getMessage() for r in caplog.records if "no ticket activities export" in
                r.getMessage()]
    assert warnings and "1 day(s) from 2024-03-05 to 2024-03-05" in warnings[0]
    days = {d for (d,) in query(pipeline, "SELECT DISTINCT export_date FROM ticket_activities")}
    assert days == {date(2024, 3, 6), date(2024, 3, 7)}


def test_activities_are_read_from_the_first_ticket_of_the_window_on(sandbox, tmp_path):
    """A first run's window opens in 1970: the exports are asked for from the day the
    oldest ticket updated since then was created, not for every day since 1970."""
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox, start=datetime(1970, 1, 1, tzinfo=UTC))
                 .with_resources("ticket_activities"))
    asked = [r for r in sandbox.requests if "export/ticket_activities" in r.path]
    first_created = min(t.created_at for t in sandbox.world.freshdesk_tickets)
    assert len(asked) == (WINDOW[1].date() - first_created.date()).days
    assert counts(pipeline)["ticket_activities"] > 0


def test_an_export_not_enabled_says_an_admin_must_enable_it(world, tmp_path):
    with Sandbox(world, port=0, freshdesk_activity_export=False) as sb:
        with pytest.raises(Exception) as failure:
            new_pipeline(tmp_path, DATASET).run(
                source_for(sb).with_resources("ticket_activities"))
    error = api_error_in(failure.value)
    assert isinstance(error, ApiAuthError) and error.status == 403
    assert "admin" in str(error) and "Ticket activity export" in str(error)


def entries_executed_in(sb: Sandbox, start: datetime, end: datetime) -> dict[int, int]:
    """The world's time entries executed in [start, end) (every one exists by the real
    clock), with their seconds in whole minutes (as the API gives them)."""
    return {e.id: (e.stopped_at - e.started_at) // timedelta(minutes=1) * 60
            for e in sb.world.freshdesk_time_entries if start <= e.executed_at < end}


def test_time_entries_land_by_executed_at_with_their_seconds(sandbox, tmp_path):
    pipeline = new_pipeline(tmp_path, DATASET)
    reach = WINDOW[0] - timedelta(days=2)
    pipeline.run(source_for(sandbox, page_size=9, time_entries_from=reach)
                 .with_resources("time_entries"))
    expected = entries_executed_in(sandbox, reach, WINDOW[1])
    assert len(expected) > 20
    landed = dict(query(pipeline, "SELECT id, time_spent_seconds FROM time_entries"))
    assert landed == expected
    assert query(pipeline, "SELECT count(*) FROM time_entries WHERE timer_running") == [(0,)]
    # Entries logged by hand a day or more after the work, dated back to it.
    late = [e for e in sandbox.world.freshdesk_time_entries if e.id in expected
            and not e.timer and (e.stopped_at - e.executed_at) > timedelta(days=1)]
    assert late
    asked = [r.query for r in sandbox.requests if r.path.endswith("/time_entries")]
    assert asked[0]["executed_after"] == "2024-03-03T00:00:00Z"
    assert asked[0]["executed_before"] == "2024-03-08T00:00:00Z"
    assert len(asked) == -(-len(expected) // 9)  # every page, once


def test_a_running_timer_lands_running_and_again_once_stopped(world, tmp_path):
    timer = next(e for e in world.freshdesk_time_entries
                 if e.timer and (e.stopped_at - e.started_at) > timedelta(minutes=5))
    pipeline = new_pipeline(tmp_path, DATASET)
    running_at = timer.started_at + timedelta(minutes=3, seconds=20)
    for now in (running_at, datetime(2024, 4, 1, tzinfo=UTC)):
        with Sandbox(world, port=0, clock=now.timestamp) as sb:
            pipeline.run(source_for(sb, start=timer.executed_at - timedelta(hours=1),
                                    end=timer.executed_at + timedelta(hours=1))
                         .with_resources("time_entries"))
        rows = query(pipeline, "SELECT timer_running, time_spent, time_spent_seconds, "
                               f"updated_at FROM time_entries WHERE id = {timer.id}")
        if now == running_at:
            assert rows == [(True, "00:03", 180, timer.started_at)]
    minutes = (timer.stopped_at - timer.started_at) // timedelta(minutes=1)
    assert rows == [(False, f"{minutes // 60:02d}:{minutes % 60:02d}", minutes * 60,
                     timer.stopped_at)]


def test_a_time_entry_with_a_bad_duration_is_quarantined_naming_it(sandbox, tmp_path):
    sandbox.inject_fault(path_prefix="/freshdesk/api/v2/time_entries", kind="bad_record",
                         mode="wrong_type", field="time_spent", value="1h30", record_index=2)
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox).with_resources("time_entries"))
    rows = quarantined(pipeline)
    assert len(rows) == 1 and rows[0]["table_name"] == "time_entries"
    assert "time_spent" in rows[0]["reason"] and "hh:mm" in rows[0]["reason"]
    assert counts(pipeline)["time_entries"] == len(entries_executed_in(sandbox, *WINDOW)) - 1


def test_business_hours_clock_times():
    assert [day_minute("t", v, False) for v in ("08:00:00 am", "8:30 am", "12:00:00 am",
                                                "12:15:00 pm", "17:45", "11:59:59 pm")] == [
        480, 510, 0, 735, 1065, 1439]
    assert day_minute("t", "11:59:59 pm", True) == 1440  # Freshdesk's end of the day
    assert day_minute("t", "05:00:00 pm", True) == 1020
    for bad in ("13:00 pm", "25:00", "8 am", "", None, 480):
        with pytest.raises(Rejected, match="t = .* is not a time of day"):
            day_minute("t", bad, False)


def test_a_calendar_that_is_not_a_week_is_quarantined_naming_it(sandbox, tmp_path):
    sandbox.inject_fault(path_prefix="/freshdesk/api/v2/business_hours", kind="bad_record",
                         mode="wrong_type", field="business_hours", value="weekdays 9-5",
                         record_index=0)
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox).with_resources("business_hours"))
    rows = quarantined(pipeline)
    assert len(rows) == 1 and rows[0]["table_name"] == "business_hours"
    assert "business_hours = 'weekdays 9-5' is not an object of weekdays" in rows[0]["reason"]
    assert counts(pipeline)["business_hours"] == 1


def test_a_bad_record_is_quarantined_and_the_rest_lands(sandbox, tmp_path):
    sandbox.inject_fault(path_prefix="/freshdesk/api/v2/tickets", kind="bad_record",
                         mode="bad_timestamp", record_index=1)
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox).with_resources("tickets"))
    rows = quarantined(pipeline)
    assert len(rows) == 1 and rows[0]["table_name"] == "tickets"
    assert counts(pipeline)["tickets"] == len(updated_in(sandbox, *WINDOW)) - 1


def test_429_is_waited_out(sandbox, tmp_path, caplog):
    sandbox.inject_fault(path_prefix="/freshdesk/api/v2/groups", status=429, retry_after=1)
    pipeline = new_pipeline(tmp_path, DATASET)
    with caplog.at_level(logging.WARNING, logger="connectors.http"):
        pipeline.run(source_for(sandbox).with_resources("groups"))
    assert counts(pipeline)["groups"] > 0
    waits = [r.getMessage() for r in caplog.records if "HTTP 429" in r.getMessage()]
    assert len(waits) == 1 and "retrying in 1.0 s" in waits[0]


def test_a_wrong_key_names_freshdesk_api_key_and_never_the_key(sandbox, tmp_path, caplog):
    key = "wrong-freshdesk-key-77c2a9"
    with caplog.at_level(logging.DEBUG), pytest.raises(Exception) as failure:
        new_pipeline(tmp_path, DATASET).run(
            source_for(sandbox, api_key=key).with_resources("agents"))
    error = api_error_in(failure.value)
    assert isinstance(error, ApiAuthError) and error.status == 401
    assert "FRESHDESK_API_KEY" in str(error)
    everything = "".join(traceback.format_exception(failure.value)) + caplog.text
    assert key not in everything


def test_the_secret_and_the_signature_never_reach_the_logs(sandbox, tmp_path, caplog):
    key = sandbox.credentials["freshdesk_api_key"]
    with caplog.at_level(logging.DEBUG):
        new_pipeline(tmp_path, DATASET).run(source_for(sandbox))
    # urllib3 (DEBUG) and the sandbox log request lines; the connector's records and
    # everything at INFO or above never hold the key or the export's signature.
    ours = "\n".join(r.getMessage() for r in caplog.records
                     if r.name.startswith("connectors") or r.levelno >= logging.INFO)
    assert key not in caplog.text
    assert "X-Amz-Signature" not in ours


def test_configuration_is_checked():
    with pytest.raises(ValueError, match="FRESHDESK_API_KEY"):
        freshdesk_source("", domain="acme", start=WINDOW[0])
    with pytest.raises(ValueError, match="FRESHDESK_BASE_URL"):
        freshdesk_source("k-123456", "http://acme.freshdesk.com", start=WINDOW[0])
    with pytest.raises(ValueError, match="FRESHDESK_DOMAIN"):
        freshdesk_source("k-123456", start=WINDOW[0])
    with pytest.raises(ValueError, match="timezone-aware"):
        freshdesk_source("k-123456", domain="acme", start=datetime(2024, 1, 1))
    source = freshdesk_source("k-123456", domain="acme", start=WINDOW[0])
    assert set(source.resources) == set(TABLES) - {"conversations"}


def test_export_times_parse():
    assert export_time("05-03-2024 09:33:38 +0000") == datetime(2024, 3, 5, 9, 33, 38,
                                                               tzinfo=UTC)
    assert export_time("2024-03-05T09:33:38Z") == datetime(2024, 3, 5, 9, 33, 38, tzinfo=UTC)
    with pytest.raises(ValueError):
        export_time("yesterday")


def test_a_ticket_updated_while_the_list_is_read_moves_no_other_ticket_out_of_it(sandbox):
    """Freshdesk pages the ticket list by offset over live data: a ticket of the first page
    updated after it was read moves to the end of the list, and every later ticket moves
    back a place. Each page is a new query from the last update seen, so none is skipped."""
    from connectors.freshdesk.helpers import build_client, ticket_pages

    client = build_client(sandbox.credentials["freshdesk_api_key"],
                          sandbox.credentials["freshdesk_base_url"], None, QUICK_RETRY, 10)
    expected = updated_in(sandbox, WINDOW[0], datetime.now(UTC))
    seen: list[int] = []
    for number, page in enumerate(ticket_pages(client, WINDOW[0], None, 5, None)):
        seen += [record["id"] for record in page]
        if number == 0:  # the first ticket read is updated now
            sandbox.freshdesk.touch_ticket(page[0]["id"], int(datetime.now(UTC).timestamp()))
    live = {tid for tid in expected if not sandbox.freshdesk.states[tid].deleted
            and not sandbox.freshdesk.states[tid].spam}
    assert set(seen) == live
    assert seen.count(seen[0]) == 2  # listed again at its new place, at the end
    pages = [r.query for r in sandbox.requests if r.path == "/freshdesk/api/v2/tickets"]
    assert all(q["page"] == "1" for q in pages)  # every page a new query
    assert len({q["updated_since"] for q in pages}) == len(pages)
