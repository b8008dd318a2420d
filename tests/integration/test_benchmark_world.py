"""The benchmark's scaled-up raw data (benchmarks/world.py) is what the connector lands, and the
models give sensible metrics on it: a small seed through the real connector, copied 3 times."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pytest

from benchmarks.transform import (
    PIPELINE_START,
    run_all_models,
    run_dagster,
    run_nightly,
    write_floor,
)
from benchmarks.world import AS_OF, RAW, extract_load, nightly_increment, replicate
from transforms import ALL_MODELS
from transforms.incremental import STATE_TABLE


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    path = tmp_path_factory.mktemp("seed") / "seed.duckdb"
    cost, counts, _ = extract_load(f"duckdb:///{path}", tickets=300, days=30)
    assert counts["tickets"] == 300 and cost.seconds > 0 and cost.peak_rss > 0
    return path


def _columns(path, table):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [RAW, table]).fetchall()


def test_copies_keep_the_landed_shape_with_unique_ids_and_shifted_times(seed, tmp_path):
    world = tmp_path / "world.duckdb"
    counts = replicate(world, seed, copies=3)
    assert counts["tickets"] == 900 and counts["users"] < 900  # people are not copied
    for table in ("tickets", "ticket_child_events", "ticket_metric_sets", "calls"):
        assert _columns(world, table) == _columns(seed, table)
    with duckdb.connect(str(world), read_only=True) as con:
        assert con.execute(f"SELECT count(DISTINCT id) FROM {RAW}.ticket_child_events"
                           ).fetchone()[0] == counts["ticket_child_events"]
        # Every child event still belongs to a ticket of its own copy.
        orphans = con.execute(
            f"SELECT count(*) FROM {RAW}.ticket_child_events AS e "
            f"LEFT JOIN {RAW}.tickets AS t ON t.id = e.ticket_id WHERE t.id IS NULL"
        ).fetchone()[0]
        assert orphans == 0
        first, last = con.execute(f"SELECT min(created_at), max(created_at) FROM {RAW}.tickets"
                                  ).fetchone()
        assert last - first > timedelta(days=2 * 91)  # the copies lie a quarter apart
        assert last <= AS_OF


def _tickets_touched(world, day):
    """The tickets with an audit landed on `day`: the ones a night changed."""
    with duckdb.connect(str(world), read_only=True) as con:
        return {row[0] for row in con.execute(
            f"SELECT DISTINCT ticket_id FROM {RAW}.ticket_events WHERE created_at >= ? "
            "AND created_at < ?", [day, day + timedelta(days=1)]).fetchall()}


def test_an_adjacent_night_changes_the_block_of_highest_ids_and_the_next_night_the_block_below(
        seed, tmp_path):
    world = tmp_path / "world.duckdb"
    replicate(world, seed, copies=3)
    with duckdb.connect(str(world), read_only=True) as con:
        ids = [row[0] for row in con.execute(
            f"SELECT id FROM {RAW}.tickets WHERE status <> 'deleted' ORDER BY id DESC"
        ).fetchall()]
    block = len(ids) // 50
    for night in (0, 1):
        changed = nightly_increment(world, fraction=0.02, night=night, adjacent=True)
        assert changed["tickets_changed"] == block > 10
        wanted = set(ids[night * block:(night + 1) * block])
        assert _tickets_touched(world, changed["day"]) == wanted


def test_the_models_give_sensible_metrics_on_it_and_a_nightly_day_lands(seed, tmp_path):
    world = tmp_path / "world.duckdb"
    replicate(world, seed, copies=3)
    run = run_all_models(f"duckdb:///{world}")
    assert run.models["marts.ticket_metrics"][1] == 900
    with duckdb.connect(str(world), read_only=True) as con:
        answered, solved, business = con.execute(
            "SELECT count(first_response_minutes), count(full_resolution_minutes), "
            "count(first_response_business_minutes) FROM marts.ticket_metrics"
        ).fetchone()
    assert answered > 600 and solved > 600 and business > 600

    # Two nights one after the other, as the benchmark runs them: each lands the next day,
    # with other tickets, and the daily marts get that day.
    touched, solved = [], []
    for night, day in enumerate((AS_OF.date(), AS_OF.date() + timedelta(days=1))):
        changed = nightly_increment(world, night=night)
        assert changed["day"] == day and 0 < changed["tickets_changed"] < 40
        nightly = run_nightly(f"duckdb:///{world}", day, day + timedelta(days=1))
        assert "marts.account_mrr_monthly" not in nightly.models
        assert nightly.modes["marts.ticket_metrics"] == "incremental"
        with duckdb.connect(str(world), read_only=True) as con:
            rows, solved_that_day = con.execute(
                "SELECT count(*), sum(tickets_solved) FROM marts.support_daily WHERE date = ?",
                [day]).fetchone()
        touched.append(_tickets_touched(world, day))
        assert rows > 0
        solved.append(solved_that_day)
    # The first night's tickets include unsolved ones, which the night solves (the second
    # night's few may all be closed already: a closed ticket only gets a tag).
    assert solved[0] > 0
    assert touched[0] and touched[1] and not touched[0] & touched[1]

    # The write floor rewrites the last night's tickets' rows on a copy: every per-ticket
    # table (it checks their row counts itself), the warehouse itself untouched.
    tables = [m.qualified_name for m in ALL_MODELS if m.per_ticket]

    def counts(path):
        with duckdb.connect(str(path), read_only=True) as con:
            return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}

    before = counts(world)
    copy = tmp_path / "floor.duckdb"
    floor = write_floor(world, copy)
    assert floor.tickets == changed["tickets_changed"] and floor.tables == len(tables) == 10
    assert floor.rows > floor.tickets and floor.seconds > 0
    assert not copy.exists() and counts(world) == before


def test_the_nightly_through_dagster_checks_and_records_the_grain(seed, tmp_path):
    world = tmp_path / "world.duckdb"
    replicate(world, seed, copies=2)
    url = f"duckdb:///{world}"
    day = AS_OF.date()
    full = run_dagster(url, PIPELINE_START, day - timedelta(days=1), full_rebuild=True)
    nightly_increment(world)
    nightly = run_dagster(url, day, day)
    assert full.seconds > 0 and nightly.seconds > 0
    with duckdb.connect(str(world), read_only=True) as con:
        grain = dict(con.execute(
            f"SELECT model, grain_unique FROM staging.{STATE_TABLE} WHERE model NOT LIKE '\\_%' "
            "ESCAPE '\\'").fetchall())
        solved_that_day = con.execute(
            "SELECT sum(tickets_solved) FROM marts.support_daily WHERE date = ?", [day]
        ).fetchone()[0]
    assert grain == {m.name: True for m in ALL_MODELS if m.per_ticket}
    assert solved_that_day > 0


def test_the_backfill_lands_every_day_through_dagster_then_the_last_as_a_night(tmp_path):
    """The backfill part: a world over 20 days, every day but the last run through Dagster
    into a SQLite instance, then the last day as a night; the tickets landed and the daily
    marts filled for each day."""
    from benchmarks.world import END_DATE, backfill

    path = tmp_path / "backfill.duckdb"
    done = backfill(f"duckdb:///{path}", tickets=200, days=20,
                    dagster_home=tmp_path / "dagster_home")
    counts = done.counts
    assert done.first_day == END_DATE - timedelta(days=19)
    assert counts["tickets"] == 200 and counts["ticket_metrics"] == 200
    # One row per day and channel; every day has one, the night's included.
    with duckdb.connect(str(path), read_only=True) as con:
        days = con.execute("SELECT count(DISTINCT date) FROM marts.support_daily "
                           "WHERE date >= ?", [done.first_day]).fetchone()[0]
        last = con.execute("SELECT count(*) FROM marts.support_daily WHERE date = ?",
                           [END_DATE]).fetchone()[0]
    assert days == 20 and last > 0
    # The night changed some of the tickets, not all: a day of a 20-day world.
    assert 0 < counts["night_tickets_changed"] < 200
    # The events the runs stored: a materialization per partitioned asset (12) and day at
    # least (test_cli checks that each asset is planned once per range run).
    assert counts["dagster_events"] >= 20 * 12
    for cost in (done.history, done.night):
        assert cost.seconds > 0 and cost.peak_rss > 0


def test_a_backfill_of_one_day_is_refused_before_anything_starts(tmp_path):
    from benchmarks.world import backfill

    with pytest.raises(ValueError, match="needs 2 or more"):
        backfill(f"duckdb:///{tmp_path / 'w.duckdb'}", tickets=10, days=1,
                 dagster_home=tmp_path / "home")
    assert not (tmp_path / "w.duckdb").exists()
