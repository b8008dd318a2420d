"""The benchmark's printed nightly tables (benchmarks/run.py `report`), from given figures."""

from __future__ import annotations

import subprocess
import sys

from benchmarks.measure import cpu_jiffies, measured, process_cpu_seconds
from benchmarks.run import Results, report


def _night(share: float, changed: int, seconds: float, night: int | None = None) -> dict:
    entry = {"tickets": 1_000_000, "tickets_changed": changed, "seconds": seconds,
             "cpu_seconds": seconds * 1.5, "full_rebuild_seconds": 20.0,
             "fraction_of_full": seconds / 20.0,
             "models": {"marts.ticket_metrics": {"seconds": seconds / 2, "rows": 1}}}
    if night is None:
        return {**entry, "share_changed": share}
    return {**entry, "night": night, "dagster_seconds": seconds * 2,
            "dagster_full_rebuild_seconds": 40.0, "dagster_fraction_of_full": seconds / 20.0}


def _rows_after(text: str, heading: str) -> list[list[str]]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    table = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            if table:
                break
            continue
        table.append([cell.strip() for cell in line.strip("|").split("|")])
    return table[2:]  # below the header and its rule


def test_the_nights_by_share_changed_are_listed_from_fewest_changes_with_their_share():
    results = Results(
        nightly=[_night(0.01, 9_946, 3.0, night=1), _night(0.01, 9_962, 3.2, night=2)],
        nightly_by_change=[_night(0.03, 30_141, 3.6), _night(0.0001, 90, 2.6)],
    )
    rows = _rows_after(report(results), "Nightly runs by the share of tickets changed")
    assert [row[1:5] for row in rows] == [
        ["0.01%", "90", "spread", "2.6"], ["1%", "9,946", "spread", "3.0"],
        ["1%", "9,962", "spread", "3.2"], ["3%", "30,141", "spread", "3.6"]]
    assert [row[6] for row in rows] == ["13%", "15%", "16%", "18%"]


def test_the_night_with_adjacent_tickets_follows_the_spread_nights_of_its_share():
    results = Results(
        nightly=[_night(0.01, 9_946, 3.0, night=1)],
        nightly_by_change=[{**_night(0.01, 10_000, 2.2), "adjacent": True},
                           _night(0.03, 30_141, 3.6)],
    )
    rows = _rows_after(report(results), "Nightly runs by the share of tickets changed")
    assert [row[1:5] for row in rows] == [
        ["1%", "9,946", "spread", "3.0"], ["1%", "10,000", "adjacent", "2.2"],
        ["3%", "30,141", "spread", "3.6"]]
    assert rows[1][6] == "11%"


def test_without_those_nights_the_table_is_left_out():
    results = Results(nightly=[_night(0.01, 9_946, 3.0, night=1)])
    text = report(results)
    assert "Nightly runs (" in text
    assert "by the share of tickets changed" not in text


def test_the_write_floor_is_printed_with_its_share_of_the_full_rebuild():
    floor = {"tickets": 9_962, "rows": 200_000, "tables": 10, "open_seconds": 0.03,
             "delete_seconds": 0.35, "insert_seconds": 0.15, "commit_seconds": 0.27,
             "close_seconds": 0.1, "seconds": 0.9, "full_rebuild_seconds": 20.0,
             "fraction_of_full": 0.05}
    text = report(Results(nightly=[_night(0.01, 9_962, 3.0, night=2)], write_floor=floor))
    rows = _rows_after(text, "What night 2 had to write")
    assert rows == [["9,962", "200,000", "10", "0.03", "0.35", "0.15", "0.27", "0.10", "0.90",
                     "5%"]]
    assert "What night" not in report(Results(nightly=[_night(0.01, 9_962, 3.0, night=2)]))


def test_the_backfill_is_printed_with_the_night_after_it_and_the_nights_share():
    night = {"tickets_changed": 2_740, "seconds": 9.5, "cpu_seconds": 8.0,
             "sandbox_cpu_seconds": 0.4, "peak_mib": 900.0, "steal": 0.0}
    results = Results(backfill=[{
        "tickets": 1_000_000, "days": 1_095, "seconds": 3_595.0, "cpu_seconds": 3_000.0,
        "sandbox_cpu_seconds": 250.0, "tickets_per_second": 278.6, "peak_mib": 2_000.0,
        "dagster_events": 13_541, "steal": 0.0, "night": night}])
    text = report(results)
    backfill = _rows_after(text, "Backfill through Dagster")
    # 1,094 days, then the night: together over the hour, so the target is missed.
    assert backfill[0][:5] == ["1M", "1,094", "3595.0", "3000.0", "250.0"]
    assert backfill[0][8] == "MISSED"
    nights = _rows_after(text, "Then the world's last day as a night")
    assert nights == [["1M", "2,740", "9.5", "8.0", "0.4", "900", "0.3%", "0%"]]


def test_the_extract_is_printed_with_the_cpu_seconds_the_sandbox_spent_serving_it():
    entry = {"tickets": 10_000, "rows": 245_766, "seconds": 5.0, "cpu_seconds": 4.5,
             "tickets_per_second": 2_000.0, "rows_per_second": 49_153.2, "peak_mib": 330.0,
             "sandbox_generate_and_start_seconds": 1.9, "sandbox_cpu_seconds": 1.4,
             "load_average": 1.0, "steal": 0.0}
    text = report(Results(extract=[entry]))
    header = next(line for line in text.splitlines() if line.startswith("| tickets | seconds"))
    columns = [cell.strip() for cell in header.strip("|").split("|")]
    row = _rows_after(text, "Extract + load over HTTP")[0]
    assert row[columns.index("sandbox CPU s")] == "1.4"
    assert row[columns.index("tickets/s")] == "2,000"


def test_each_helpdesk_read_item_by_item_is_printed_with_its_rate_limit_and_ceiling():
    common = {"seconds": 10.0, "cpu_seconds": 7.0, "peak_mib": 300.0, "load_average": 1.0,
              "steal": 0.0, "sandbox_cpu_seconds": 1.0, "sandbox_generate_and_start_seconds": 2}
    free = {**common, "source": "intercom", "items": 2_000, "children": 15_000,
            "rate_limit": None, "items_per_second": 200.0, "children_per_second": 1_500.0}
    paced = {**free, "rate_limit": 1666, "items_per_second": 144.0}
    freshdesk = {**common, "source": "freshdesk", "items": 500, "children": 2_000,
                 "rate_limit": 700, "items_per_second": 11.0, "children_per_second": 44.0}
    text = report(Results(helpdesks=[free, paced, freshdesk]))
    rows = _rows_after(text, "Intercom extract + load over HTTP")
    assert [(r[0], r[1], r[4]) for r in rows] == [("2k", "none", "200"), ("2k", "1,666", "144")]
    assert "at most 167 conversations/s" in text
    rows = _rows_after(text, "Freshdesk extract + load over HTTP")
    assert [(r[0], r[1], r[4], r[5]) for r in rows] == [("500", "700", "11", "2,000")]
    assert "(700 requests per minute) a run can read at most 12 tickets/s" in text


def _busy_child() -> subprocess.Popen:
    """A child that, on a line of input, does a fixed amount of work, says "done", then waits
    for its input to close: its CPU time is at least what that work takes, however busy the
    machine."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys\nsys.stdin.readline()\nsum(range(20_000_000))\n"
         "print('done', flush=True)\nsys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    return child


def _work(child: subprocess.Popen) -> None:
    """Have a `_busy_child` do its work; return once it has."""
    child.stdin.write("go\n")
    child.stdin.flush()
    assert child.stdout.readline().strip() == "done"


def test_a_measured_stage_records_the_cpu_seconds_of_the_process_it_leaves_out():
    # The sandbox's part: a child doing a fixed amount of work inside the measured block.
    with measured(exclude=set()) as nothing_left_out:
        pass
    assert nothing_left_out.excluded_cpu_seconds is None
    child = _busy_child()
    try:
        with measured(exclude={child.pid}) as cost:
            _work(child)
        assert cost.excluded_cpu_seconds is not None and cost.excluded_cpu_seconds >= 0.05
        # ... and none of it counted as the stage's own.
        assert cost.cpu_seconds < cost.excluded_cpu_seconds
    finally:
        child.stdin.close()
        child.wait(timeout=30)


def test_another_processs_cpu_seconds_are_read_while_it_runs_and_zero_once_it_is_gone():
    child = _busy_child()
    try:
        _work(child)
        assert process_cpu_seconds(child.pid) >= 0.05
    finally:
        child.stdin.close()
        child.wait(timeout=30)
    assert process_cpu_seconds(child.pid) == 0.0


def test_each_night_shows_the_cpu_steal_it_ran_under():
    stolen = {**_night(0.01, 9_946, 3.0, night=1), "steal": 0.25, "dagster_steal": 0.5,
              "dagster_full_rebuild_steal": 0.0}
    text = report(Results(nightly=[stolen, _night(0.01, 9_962, 3.2, night=2)]))
    rows = _rows_after(text, "Nightly runs (")
    assert [row[-1] for row in rows] == ["25%", "n/a"]  # the second was measured without
    dagster = _rows_after(text, "The same through Dagster")
    assert [row[-2:] for row in dagster] == [["50%", "0%"], ["n/a", "n/a"]]


def test_a_measured_stage_records_the_machines_cpu_steal():
    with measured() as cost:
        sum(range(2_000_000))
    assert cost.steal_share is not None and 0.0 <= cost.steal_share <= 1.0
    stolen, total = cpu_jiffies()
    assert total > stolen >= 0


def test_a_night_under_other_steal_than_the_full_rebuild_says_so_beside_its_verdict():
    quiet = {**_night(0.01, 9_946, 1.8, night=1), "steal": 0.02, "full_rebuild_steal": 0.45}
    alike = {**_night(0.01, 9_962, 1.8, night=2), "steal": 0.20, "full_rebuild_steal": 0.25}
    rows = _rows_after(report(Results(nightly=[quiet, alike])), "Nightly runs (")
    assert [row[6] for row in rows] == ["met (steal 2% vs 45%)", "met"]


def test_the_last_night_is_broken_down_by_kind_of_model_with_the_rest_outside_them():
    night = {**_night(0.01, 9_962, 4.0, night=2), "models": {
        "staging.messages": {"seconds": 0.25, "rows": 1},
        "staging.tickets": {"seconds": 0.15, "rows": 1},
        "marts.ticket_metrics": {"seconds": 0.6, "rows": 1},
        "staging.users": {"seconds": 0.1, "rows": 1},
        "marts.metric_reconciliation": {"seconds": 0.4, "rows": 1},
        "marts.support_daily": {"seconds": 0.5, "rows": 1},
    }}
    rows = _rows_after(report(Results(nightly=[night])), "Where night 2's 4.0 s went")
    assert [row[:3] for row in rows] == [
        ["per-ticket, from raw (staging)", "2", "0.40"],
        ["per-ticket, from staging (intermediates, ticket_metrics)", "1", "0.60"],
        ["whole-table (reference data, views, reconciliation)", "2", "0.50"],
        ["the day of the daily marts", "1", "0.50"],
        ["outside the models (opening and closing the warehouse)", "-", "2.00"],
    ]
    assert [row[3] for row in rows] == ["10%", "15%", "12%", "12%", "50%"]
    assert rows[-1][4] == "10.0%"  # of the 20 s full rebuild
