"""Daily marts (support_daily, backlog_daily, handle_time_daily) end to end, on both warehouses.

The hand-built world of test_ticket_metrics, loaded for 2025-06-02 .. 2025-06-09 (UTC days);
expected values are worked out by hand beside them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from sandbox.world import Call
from tests.integration.pipeline_runner import run_world, world_as_of
from tests.integration.test_ticket_metrics import AGENT_BEN, END, START, hand_built_world

DAYS = 8  # 2025-06-02 .. 2025-06-09


@pytest.fixture
def loaded(monkeypatch, tmp_path, warehouse_url):
    return run_world(monkeypatch, tmp_path, hand_built_world(), warehouse_url, START, END)


def support_row(warehouse, day: str, channel: str) -> dict:
    rows = warehouse.query(
        "SELECT * FROM marts.support_daily WHERE date = :day AND channel = :channel",
        {"day": date.fromisoformat(day), "channel": channel},
    )
    assert len(rows) == 1, (day, channel, rows)
    return rows[0]


def backlog(warehouse, day: str) -> dict[tuple[str, str], tuple]:
    rows = warehouse.query(
        "SELECT channel, status, open_tickets, avg_age_hours, tickets_older_than_7d "
        "FROM marts.backlog_daily WHERE date = :day AND open_tickets > 0",
        {"day": date.fromisoformat(day)},
    )
    return {(r["channel"], r["status"]): (r["open_tickets"], round(float(r["avg_age_hours"]), 3),
                                          r["tickets_older_than_7d"]) for r in rows}


def test_one_row_per_grain_key_every_day(loaded):
    # Channels of live tickets: email, web, phone (ticket 6 is deleted).
    assert loaded.scalar("SELECT count(*) FROM marts.support_daily") == DAYS * 3
    assert loaded.scalar("SELECT count(*) FROM marts.backlog_daily") == DAYS * 3 * 4
    # One agent (Ben) handled calls on the phone channel.
    assert loaded.scalar("SELECT count(*) FROM marts.handle_time_daily") == DAYS * 1
    assert loaded.scalar("SELECT min(date) FROM marts.support_daily") == date(2025, 6, 2)
    assert loaded.scalar("SELECT max(date) FROM marts.support_daily") == date(2025, 6, 9)


def test_support_daily_hand_computed(loaded):
    web = support_row(loaded, "2025-06-02", "web")  # ticket 2: created, answered, solved
    assert (web["tickets_created"], web["tickets_solved"], web["first_responses"]) == (1, 1, 1)
    assert float(web["frt_median_minutes"]) == 120
    assert float(web["resolution_avg_minutes"]) == 120
    assert float(web["replies_to_resolution_avg"]) == 1
    assert float(web["one_touch_rate"]) == 1.0
    assert (web["csat_responses"], float(web["csat_rate"])) == (1, 1.0)  # rated good

    email = support_row(loaded, "2025-06-02", "email")  # ticket 1: created, first reply
    assert (email["tickets_created"], email["first_responses"]) == (1, 1)
    assert float(email["frt_avg_minutes"]) == 60
    assert email["tickets_solved"] == 0 and email["resolution_avg_minutes"] is None
    assert email["backlog_end_of_day"] == 1  # pending overnight

    solved_t1 = support_row(loaded, "2025-06-03", "email")  # ticket 1 solved at 10:00
    assert solved_t1["tickets_solved"] == 1
    assert float(solved_t1["resolution_median_minutes"]) == 1500
    assert float(solved_t1["replies_to_resolution_avg"]) == 2
    assert float(solved_t1["one_touch_rate"]) == 0.0
    assert (solved_t1["csat_responses"], float(solved_t1["csat_rate"])) == (1, 0.0)  # bad

    # Ticket 3: solved 08:30, reopened 12:00, solved again 14:30 -- two resolutions, one
    # reopen; the day's final resolution is 14:30 (390 minutes, three replies). The survey
    # was offered but not answered: no CSAT response.
    reopened = support_row(loaded, "2025-06-04", "email")
    assert (reopened["tickets_solved"], reopened["tickets_reopened"]) == (2, 1)
    assert float(reopened["resolution_avg_minutes"]) == 390
    assert float(reopened["replies_to_resolution_avg"]) == 3
    assert reopened["csat_responses"] == 0 and reopened["csat_rate"] is None

    # Ticket 4: a call (talk 300 + hold 60 + wrap-up 120), closed without solved at 11:00.
    phone = support_row(loaded, "2025-06-05", "phone")
    assert (phone["tickets_created"], phone["tickets_solved"], phone["first_responses"]) == (
        1, 1, 0)
    assert float(phone["resolution_avg_minutes"]) == 60
    assert float(phone["replies_to_resolution_avg"]) == 0
    assert (phone["handled_contacts"], phone["handle_seconds"]) == (1, 480)
    assert float(phone["aht_seconds"]) == 480
    assert phone["frt_median_minutes"] is None  # no first response that day


def test_backlog_is_reconstructed_from_the_status_history(loaded):
    # Ticket 1 was pending at the end of June 2 (age 15 h), though it is closed now.
    assert backlog(loaded, "2025-06-02") == {("email", "pending"): (1, 15.0, 0)}
    assert backlog(loaded, "2025-06-03") == {}
    # Ticket 5, created 15:00 on June 9, still open at midnight: 9 hours old.
    assert backlog(loaded, "2025-06-09") == {("email", "open"): (1, 9.0, 0)}
    total = loaded.scalar(
        "SELECT backlog_end_of_day FROM marts.support_daily "
        "WHERE date = '2025-06-09' AND channel = 'email'"
    )
    assert total == 1


def test_handle_time_daily(loaded):
    rows = loaded.query(
        "SELECT * FROM marts.handle_time_daily WHERE handled_contacts > 0"
    )
    assert [(r["date"], r["channel"], r["agent_id"], r["handled_contacts"], r["handle_seconds"],
             float(r["aht_seconds"])) for r in rows] == [
        (date(2025, 6, 5), "phone", "3", 1, 480, 480.0)]
    idle = loaded.scalar("SELECT count(*) FROM marts.handle_time_daily "
                         "WHERE handled_contacts = 0 AND aht_seconds IS NULL")
    assert idle == DAYS - 1  # AHT cannot be computed without a contact: NULL, not 0


def daily_rows(warehouse, table: str, before: date) -> list[tuple]:
    rows = warehouse.query(
        f"SELECT * FROM marts.{table} WHERE date < :before ORDER BY 1, 2, 3, 4",
        {"before": before},
    )
    return [tuple(r.values()) for r in rows]


def test_backfill_of_a_past_range_is_stable(monkeypatch, tmp_path, warehouse_url):
    """Night 1 loads June 2-5; night 2 loads June 6-9; then June 2-5 is backfilled twice.

    The past days' rows must be what night 1 computed, every time.
    """
    cut = date(2025, 6, 6)
    as_of_cut = world_as_of(hand_built_world(), datetime(2025, 6, 6, tzinfo=UTC))
    night1 = run_world(monkeypatch, tmp_path, as_of_cut, warehouse_url, START, cut)
    tables = ("support_daily", "backlog_daily", "handle_time_daily")
    first = {t: daily_rows(night1, t, cut) for t in tables}
    assert first["support_daily"]  # something was computed

    run_world(monkeypatch, tmp_path, hand_built_world(), warehouse_url, cut, END)
    for _ in range(2):
        again = run_world(monkeypatch, tmp_path, hand_built_world(), warehouse_url, START, cut)
        assert {t: daily_rows(again, t, cut) for t in tables} == first


def test_a_call_wrapped_up_after_midnight_counts_on_the_day_it_started(
    monkeypatch, tmp_path, warehouse_url
):
    """A call that starts at 23:40 on June 4 and is wrapped up at 00:10 on June 5 lands in
    June 5's window (the export's window is the record's last update), but counts on June 4,
    the day it started: the night of June 5 recomputes June 4 too. (It used to recompute its
    own day only, and the call counted on no day until a full rebuild.)"""
    world = hand_built_world()
    world.calls.append(Call(902, 4, AGENT_BEN, datetime(2025, 6, 4, 23, 40, tzinfo=UTC),
                            talk_time=1200, wrap_up_time=600))
    cut = date(2025, 6, 5)
    run_world(monkeypatch, tmp_path, world, warehouse_url, START, cut)
    warehouse = run_world(monkeypatch, tmp_path, world, warehouse_url, cut, END,
                          first_partition=START)
    rows = warehouse.query(
        "SELECT date, handled_contacts, handle_seconds FROM marts.handle_time_daily "
        "WHERE handled_contacts > 0 ORDER BY date")
    assert [(r["date"], r["handled_contacts"], r["handle_seconds"]) for r in rows] == [
        (date(2025, 6, 4), 1, 1800), (date(2025, 6, 5), 1, 480)]
    phone = support_row(warehouse, "2025-06-04", "phone")
    assert (phone["handled_contacts"], float(phone["aht_seconds"])) == (1, 1800.0)
