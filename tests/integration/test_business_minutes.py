"""Business minutes (METRICS.md, "Business hours") end to end, on DuckDB and PostgreSQL.

Hand-built worlds travel from the sandbox over HTTP, through the dlt connector, into the
warehouse, where `staging.schedule_open_intervals` and `staging.ticket_business_minutes` are
computed in SQL. Every expected value is worked out by hand in the comment beside it; the
ticket open for months is also checked against a minute-by-minute count in Python.

The sandbox has no per-ticket schedule, so each world's tickets use its default schedule
(lowest id): London's daylight-saving change gets a world of its own, and so does "no
schedule". One pipeline run per world and warehouse.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sandbox.world import Comment, Holiday, Schedule, Ticket, Update, User, World
from tests.integration.pipeline_runner import run_world
from warehouse import Warehouse

AGENT, CUSTOMER = 2, 10
EASTERN = "Eastern Time (US & Canada)"
BUSINESS_COLUMNS = (
    "first_response_business_minutes",
    "first_resolution_business_minutes",
    "full_resolution_business_minutes",
)
TIME_ZONES_SQL = Path(__file__).parents[2] / "transforms" / "staging" / "time_zones.jinja"


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A 2025 instant in UTC."""
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


def weekdays(open_hour: int, close_hour: int) -> list[tuple[int, int]]:
    """Monday-Friday open_hour-close_hour, in minutes from Sunday 00:00 local time."""
    return [(day * 1440 + open_hour * 60, day * 1440 + close_hour * 60) for day in range(1, 6)]


def people() -> list[User]:
    return [
        User(AGENT, "Ana Agent", "ana@helpdesk.example", role="agent"),
        User(CUSTOMER, "Alice", "alice@acme.example"),
    ]


def answered(ticket_id: int, created_at: datetime, replied_at: datetime,
             solved_at: datetime | None = None) -> Ticket:
    """A ticket from the customer, one agent reply, and optionally a solve."""
    updates = [
        Update(created_at, CUSTOMER, status="new", comment=Comment("Help")),
        Update(replied_at, AGENT, status="open", comment=Comment("Looking into it")),
    ]
    if solved_at is not None:
        updates.append(Update(solved_at, AGENT, status="solved"))
    return Ticket(ticket_id, created_at, CUSTOMER, assignee_id=AGENT, updates=updates)


def business_minutes(warehouse: Warehouse) -> dict[str, tuple]:
    """ticket_id -> the three business-minute columns of marts.ticket_metrics."""
    rows = warehouse.query(f"SELECT ticket_id, {', '.join(BUSINESS_COLUMNS)} "
                           "FROM marts.ticket_metrics")
    return {row["ticket_id"]: tuple(None if row[c] is None else round(float(row[c]), 6)
                                    for c in BUSINESS_COLUMNS) for row in rows}


def open_intervals(warehouse: Warehouse, schedule_id: str, since: datetime,
                   until: datetime) -> list[tuple[datetime, datetime]]:
    """The open intervals of one schedule opening in [since, until), in UTC."""
    rows = warehouse.query(
        "SELECT opens_at, closes_at FROM staging.schedule_open_intervals "
        "WHERE schedule_id = :schedule_id AND opens_at >= :since AND opens_at < :until "
        "ORDER BY opens_at",
        {"schedule_id": schedule_id, "since": since, "until": until},
    )
    return [(r["opens_at"].astimezone(UTC), r["closes_at"].astimezone(UTC)) for r in rows]


def minute_by_minute(start: datetime, end: datetime, zone: str,
                     weekly: list[tuple[int, int]], closed_days: set[date]) -> int:
    """Business minutes in [start, end), counted one UTC minute at a time with zoneinfo.

    Shares nothing with the SQL: each minute is turned into local wall-clock time and kept
    if its minute-of-week lies in a weekly interval on a day that is not a holiday.
    """
    local_zone = ZoneInfo(zone)
    total = 0
    minute = start
    while minute < end:
        local = minute.astimezone(local_zone)
        minute_of_week = (local.isoweekday() % 7) * 1440 + local.hour * 60 + local.minute
        if local.date() not in closed_days and any(s <= minute_of_week < e for s, e in weekly):
            total += 1
        minute += timedelta(minutes=1)
    return total


# -- New York: "Eastern Time (US & Canada)", Monday-Friday 09:00-17:00 -----------------------
# EST is UTC-5 until Sunday 2025-03-09 02:00 local, EDT (UTC-4) after it: 09:00-17:00 local
# is 14:00-22:00 UTC before the change and 13:00-21:00 UTC after it.

NEW_YORK_HOURS = weekdays(9, 17)
#: Presidents' Day and a bridge day: Monday 2025-02-17 to Tuesday 2025-02-18, inclusive.
BRIDGE = Holiday(11, "Presidents' Day bridge", date(2025, 2, 17), date(2025, 2, 18))
#: Friday 22:00 -> Saturday 02:00 local: crosses midnight; closed on Saturday 2025-03-15.
NIGHT_SHIFT = (5 * 1440 + 22 * 60, 6 * 1440 + 2 * 60)
IDES = Holiday(21, "Ides of March", date(2025, 3, 15), date(2025, 3, 15))
# A first run lands the whole history whatever its partitions, so two days of partitions
# load tickets from January on (a range of 100 days would cost a minute of Dagster
# bookkeeping). As of 2025-04-17 00:00 UTC.
NEW_YORK_START, NEW_YORK_END = date(2025, 4, 15), date(2025, 4, 17)

LONG_CREATED, LONG_FIRST_SOLVE, LONG_FINAL_SOLVE = utc(1, 6, 15), utc(3, 20, 15), utc(4, 15, 17)


def new_york_world() -> World:
    long_running = Ticket(4, LONG_CREATED, CUSTOMER, assignee_id=AGENT, updates=[
        Update(LONG_CREATED, CUSTOMER, status="new", comment=Comment("Migration project")),
        Update(utc(1, 6, 16, 15), AGENT, status="open", comment=Comment("On it")),
        Update(LONG_FIRST_SOLVE, AGENT, status="solved", comment=Comment("Done")),
        Update(utc(3, 25, 14), CUSTOMER, status="open", comment=Comment("Not quite")),
        Update(LONG_FINAL_SOLVE, AGENT, status="solved", comment=Comment("Now done")),
    ])
    return World(
        users=people(),
        schedules=[
            Schedule(1, "New York", EASTERN, NEW_YORK_HOURS, holidays=[BRIDGE]),
            Schedule(2, "Night shift", EASTERN, [NIGHT_SHIFT], holidays=[IDES]),
        ],
        tickets=[
            # Weekend: Fri 02-07 16:00 EST -> Mon 02-10 10:00 EST, solved Mon 11:30 EST.
            answered(1, utc(2, 7, 21), utc(2, 10, 15), utc(2, 10, 16, 30)),
            # Holiday: Fri 02-14 15:00 EST -> Wed 02-19 09:30 EST (Mon+Tue closed), solved
            # Wed 12:00 EST.
            answered(2, utc(2, 14, 20), utc(2, 19, 14, 30), utc(2, 19, 17)),
            # DST: Fri 03-07 14:00 EST -> Mon 03-10 10:00 EDT, solved Mon 16:00 EDT.
            answered(3, utc(3, 7, 19), utc(3, 10, 14), utc(3, 10, 20)),
            long_running,
            # Weekend only: Sat 03-15 10:00 -> 11:00 EDT, never solved.
            answered(5, utc(3, 15, 14), utc(3, 15, 15)),
        ],
    )


NEW_YORK_EXPECTED = {
    # Fri 16:00-17:00 = 60, weekend 0, Mon 09:00-10:00 = 60 -> 120;
    # solved Mon 11:30: 60 + 150 = 210.
    "1": (120, 210, 210),
    # Fri 15:00-17:00 = 120, Mon 02-17 and Tue 02-18 are holidays (end date inclusive),
    # Wed 09:00-09:30 = 30 -> 150; solved Wed 12:00: 120 + 180 = 300.
    "2": (150, 300, 300),
    # Fri 14:00-17:00 EST = 180; Monday opens at 09:00 EDT = 13:00 UTC, the reply at 14:00 UTC
    # is 10:00 EDT: + 60 -> 240 (a clock stuck on EST would open at 14:00 UTC and say 180).
    # Solved 20:00 UTC = 16:00 EDT: 180 + 420 = 600 (stuck on EST: 540).
    "3": (240, 600, 600),
    # Reply 75 min after creation (Mon 01-06 10:00 -> 11:15 EST).
    # First solve Thu 03-20 11:00 EDT: Mon 01-06 10:00 -> Mon 03-17 10:00 is 10 weeks = 50
    # weekdays x 480 = 24000, minus the two holidays (960) = 23040; then Mon 10:00-17:00 420 +
    # Tue 480 + Wed 480 + Thu 09:00-11:00 120 = 1500 -> 24540.
    # Final solve Tue 04-15 13:00 EDT: to Mon 04-14 10:00 is 14 weeks = 70 x 480 = 33600 -
    # 960 = 32640; then Mon 420 + Tue 09:00-13:00 240 = 660 -> 33300 (the reopen does not
    # stop the clock: full resolution runs from creation).
    "4": (75, 24540, 33300),
    # Created and answered on a Saturday: 0 business minutes, not NULL; not resolved: NULL.
    "5": (0, None, None),
}


def test_new_york_weekend_holiday_dst_and_months(monkeypatch, tmp_path, warehouse_url):
    warehouse = run_world(monkeypatch, tmp_path, new_york_world(), warehouse_url,
                          NEW_YORK_START, NEW_YORK_END)

    assert business_minutes(warehouse) == NEW_YORK_EXPECTED

    # The ticket open for months, against an independent minute-by-minute count.
    closed = {BRIDGE.start_date + timedelta(days=k) for k in range(2)}
    assert minute_by_minute(LONG_CREATED, LONG_FIRST_SOLVE, "America/New_York",
                            NEW_YORK_HOURS, closed) == NEW_YORK_EXPECTED["4"][1]
    assert minute_by_minute(LONG_CREATED, LONG_FINAL_SOLVE, "America/New_York",
                            NEW_YORK_HOURS, closed) == NEW_YORK_EXPECTED["4"][2]

    schedules = warehouse.query(
        "SELECT schedule_id, rails_time_zone, time_zone, is_default FROM staging.schedules "
        "ORDER BY schedule_id")
    assert [tuple(r.values()) for r in schedules] == [
        ("1", EASTERN, "America/New_York", True),
        ("2", EASTERN, "America/New_York", False),
    ]

    # Night shift, Fri 22:00 -> Sat 02:00 local, cut at midnight. 03-07/08 is EST (UTC-5):
    # 22:00-24:00 -> 03:00-05:00 UTC and 00:00-02:00 -> 05:00-07:00 UTC. 03-14 is EDT:
    # 22:00-24:00 -> 02:00-04:00 UTC on 03-15; Saturday 03-15's part is a holiday.
    assert open_intervals(warehouse, "2", utc(3, 7, 0), utc(3, 17, 0)) == [
        (utc(3, 8, 3), utc(3, 8, 5)),
        (utc(3, 8, 5), utc(3, 8, 7)),
        (utc(3, 15, 2), utc(3, 15, 4)),
    ]
    # The default schedule around the holiday: Fri 02-14 and Wed 02-19, nothing between.
    assert open_intervals(warehouse, "1", utc(2, 14, 0), utc(2, 20, 0)) == [
        (utc(2, 14, 14), utc(2, 14, 22)),
        (utc(2, 19, 14), utc(2, 19, 22)),
    ]


# -- London: Monday-Friday 09:00-17:00, clocks go forward Sunday 2025-03-30 01:00 UTC --------
# GMT (UTC+0) before, BST (UTC+1) after: Monday 03-31 opens at 08:00 UTC.

LONDON_START, LONDON_END = date(2025, 3, 31), date(2025, 4, 1)


def london_world() -> World:
    return World(
        users=people(),
        schedules=[
            Schedule(1, "London", "London", weekdays(9, 17)),
            # Not the default: only their time-zone mapping is checked.
            Schedule(2, "Tokyo office", "Asia/Tokyo", weekdays(9, 17)),
            Schedule(3, "Kyiv office", "Kyiv", weekdays(9, 17)),
            Schedule(4, "Atlantis office", "Atlantis Standard Time", weekdays(9, 17)),
        ],
        tickets=[
            # Fri 03-28 16:00 GMT -> Mon 03-31 09:30 BST (08:30 UTC), solved 10:00 BST.
            answered(1, utc(3, 28, 16), utc(3, 31, 8, 30), utc(3, 31, 9)),
        ],
    )


def test_london_dst_and_time_zone_mapping(monkeypatch, tmp_path, warehouse_url):
    warehouse = run_world(monkeypatch, tmp_path, london_world(), warehouse_url,
                          LONDON_START, LONDON_END)

    # Fri 16:00-17:00 = 60, Mon 09:00-09:30 BST = 30 -> 90 (a clock stuck on GMT would open
    # Monday at 09:00 UTC, after the reply, and say 60). Solved 10:00 BST: 60 + 60 = 120
    # (stuck on GMT: 60).
    assert business_minutes(warehouse) == {"1": (90, 120, 120)}

    schedules = warehouse.query(
        "SELECT schedule_id, rails_time_zone, time_zone FROM staging.schedules "
        "ORDER BY schedule_id")
    assert [tuple(r.values()) for r in schedules] == [
        ("1", "London", "Europe/London"),
        ("2", "Asia/Tokyo", "Asia/Tokyo"),          # already IANA: passes through
        ("3", "Kyiv", "Europe/Kyiv"),
        ("4", "Atlantis Standard Time", None),      # unknown: NULL, never a guess
    ]
    # An unknown zone gives no open intervals (so business minutes would be NULL).
    assert open_intervals(warehouse, "4", utc(3, 1, 0), utc(5, 1, 0)) == []
    # Friday in GMT, Monday in BST.
    assert open_intervals(warehouse, "1", utc(3, 28, 0), utc(4, 1, 0)) == [
        (utc(3, 28, 9), utc(3, 28, 17)),
        (utc(3, 31, 8), utc(3, 31, 16)),
    ]


# -- No schedule at all ------------------------------------------------------------------------

def test_without_a_schedule_business_minutes_are_null(monkeypatch, tmp_path, warehouse_url):
    world = World(users=people(), tickets=[answered(1, utc(6, 2, 9), utc(6, 2, 10),
                                                    utc(6, 2, 11))])
    warehouse = run_world(monkeypatch, tmp_path, world, warehouse_url,
                          date(2025, 6, 2), date(2025, 6, 3))

    assert business_minutes(warehouse) == {"1": (None, None, None)}
    # The calendar minutes are there: only the business ones cannot be computed.
    assert warehouse.scalar("SELECT first_response_minutes FROM marts.ticket_metrics") == 60


# -- The Rails -> IANA mapping ---------------------------------------------------------------

def test_every_mapped_zone_is_known_to_the_warehouse(warehouse_url):
    """Each IANA name of the mapping must work with AT TIME ZONE on this engine."""
    mapping = re.findall(r"^\s+\('((?:[^']|'')+)',\s+'([^']+)'\),?$",
                         TIME_ZONES_SQL.read_text(), flags=re.MULTILINE)
    assert len(mapping) == 151  # ActiveSupport::TimeZone::MAPPING has 151 names
    assert ("Eastern Time (US & Canada)", "America/New_York") in mapping
    known = {row["name"] for row in Warehouse(warehouse_url).query(
        "SELECT name FROM pg_timezone_names()")}
    assert sorted({iana for _, iana in mapping} - known) == []
