"""Business-hours arithmetic over Zendesk schedules (used by the generator and metric sets).

Zendesk schedules give weekly intervals in minutes from Sunday 00:00 local time
and a Rails time-zone name; holidays are whole local days. A
:class:`BusinessCalendar` turns one schedule into sorted UTC intervals over a
date range, with prefix sums so both "business seconds between" and "add
business seconds" are a binary search.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sandbox.world import Schedule

_UTC = ZoneInfo("UTC")

#: Rails (ActiveSupport) time-zone names the sandbox knows, mapped to IANA names.
RAILS_TO_IANA: dict[str, str] = {
    "Eastern Time (US & Canada)": "America/New_York",
    "Central Time (US & Canada)": "America/Chicago",
    "Mountain Time (US & Canada)": "America/Denver",
    "Pacific Time (US & Canada)": "America/Los_Angeles",
    "Arizona": "America/Phoenix",
    "Alaska": "America/Juneau",
    "Hawaii": "Pacific/Honolulu",
    "Brasilia": "America/Sao_Paulo",
    "UTC": "Etc/UTC",
    "London": "Europe/London",
    "Dublin": "Europe/Dublin",
    "Lisbon": "Europe/Lisbon",
    "Amsterdam": "Europe/Amsterdam",
    "Berlin": "Europe/Berlin",
    "Copenhagen": "Europe/Copenhagen",
    "Madrid": "Europe/Madrid",
    "Paris": "Europe/Paris",
    "Rome": "Europe/Rome",
    "Stockholm": "Europe/Stockholm",
    "Warsaw": "Europe/Warsaw",
    "Athens": "Europe/Athens",
    "Helsinki": "Europe/Helsinki",
    "Moscow": "Europe/Moscow",
    "Mumbai": "Asia/Kolkata",
    "New Delhi": "Asia/Kolkata",
    "Singapore": "Asia/Singapore",
    "Tokyo": "Asia/Tokyo",
    "Sydney": "Australia/Sydney",
    "Auckland": "Pacific/Auckland",
}

SECONDS_PER_DAY = 86_400


def iana_zone(rails_name: str) -> str:
    """Map a Rails time-zone name (or an IANA name, passed through) to an IANA name."""
    if rails_name in RAILS_TO_IANA:
        return RAILS_TO_IANA[rails_name]
    if "/" in rails_name or rails_name == "UTC":
        return rails_name
    raise KeyError(f"unknown Rails time zone {rails_name!r}")


class BusinessCalendar:
    """A schedule's open intervals in UTC epoch seconds between two local dates."""

    def __init__(self, schedule: Schedule, first_day: date, last_day: date) -> None:
        zone = ZoneInfo(iana_zone(schedule.time_zone))
        closed: set[date] = set()
        for holiday in schedule.holidays:
            day = holiday.start_date
            while day <= holiday.end_date:
                closed.add(day)
                day += timedelta(days=1)
        by_weekday: dict[int, list[tuple[int, int]]] = {}
        for start, end in schedule.intervals:
            by_weekday.setdefault(start // 1440, []).append((start % 1440, end - start))
        spans: list[tuple[int, int]] = []
        day = first_day
        while day <= last_day:
            if day not in closed:
                midnight = datetime.combine(day, time(), tzinfo=zone)
                for offset, length in sorted(by_weekday.get(day.isoweekday() % 7, [])):
                    start_local = midnight + timedelta(minutes=offset)
                    end_local = midnight + timedelta(minutes=offset + length)
                    spans.append((int(start_local.timestamp()), int(end_local.timestamp())))
            day += timedelta(days=1)
        spans.sort()
        self.starts = [s for s, _ in spans]
        self.ends = [e for _, e in spans]
        self.cum_before: list[int] = []
        self.cum_after: list[int] = []
        total = 0
        for start, end in spans:
            self.cum_before.append(total)
            total += end - start
            self.cum_after.append(total)

    def seconds_before(self, ts: int) -> int:
        """Business seconds in the calendar before instant ``ts``."""
        i = bisect_right(self.starts, ts) - 1
        if i < 0:
            return 0
        return self.cum_before[i] + min(ts, self.ends[i]) - self.starts[i]

    def business_seconds(self, start: int, end: int) -> int:
        """Business seconds between two instants (0 if ``end <= start``)."""
        if end <= start:
            return 0
        return self.seconds_before(end) - self.seconds_before(start)

    def is_open(self, ts: int) -> bool:
        """Whether the schedule is open at ``ts``."""
        i = bisect_right(self.starts, ts) - 1
        return i >= 0 and ts < self.ends[i]

    def add(self, ts: int, seconds: int) -> int:
        """The instant ``seconds`` business seconds after ``ts`` (calendar time past the range)."""
        target = self.seconds_before(ts) + max(0, seconds)
        i = bisect_left(self.cum_after, target)
        if i >= len(self.starts):
            last = self.ends[-1] if self.ends else ts
            return max(ts, last) + (target - (self.cum_after[-1] if self.cum_after else 0))
        return max(ts, self.starts[i] + (target - self.cum_before[i]))

    def next_open(self, ts: int) -> int:
        """``ts`` if open, else the start of the next open interval."""
        if self.is_open(ts):
            return ts
        i = bisect_right(self.starts, ts)
        return self.starts[i] if i < len(self.starts) else ts


def staffed(ts: int) -> bool:
    """Whether Unix time `ts` falls in the generated Intercom and Freshdesk teams' staffed
    hours: Monday to Friday, 13:00-22:00 UTC (their APIs give no schedule of their own)."""
    moment = datetime.fromtimestamp(ts, _UTC)
    return moment.isoweekday() <= 5 and 13 <= moment.hour < 22


def next_staffed(ts: int) -> int:
    """`ts` if within the staffed hours (`staffed`), else their next opening (13:00 UTC of
    the next weekday)."""
    for _ in range(8):
        if staffed(ts):
            return ts
        moment = datetime.fromtimestamp(ts, _UTC)
        opening = int(moment.replace(hour=13, minute=0, second=0, microsecond=0).timestamp())
        ts = opening if moment.hour < 13 else opening + 86_400
    return ts
