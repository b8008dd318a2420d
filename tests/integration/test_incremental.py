"""Incremental builds of the per-ticket models give the tables a full rebuild gives.

A generated helpdesk is loaded night by night, as the nightly schedule loads it (each night
the sandbox serves the helpdesk as it was at the end of that day): the first night builds
every model in full, the later nights rebuild the per-ticket models for the changed and the
unsolved tickets only (transforms/incremental.py). One night an end user becomes an agent,
which changes the author role of messages on tickets that did not change: the models that
depend on it are rebuilt in full that night, the others stay incremental. Then the same
warehouse is rebuilt in full (`FULL_REBUILD`) and every staging and mart table must be
identical, row for row.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from pipelines.cli import run_partitions
from sandbox import Sandbox, generate_world
from tests.integration.pipeline_runner import configure, table_snapshot, world_as_of
from transforms import ALL_MODELS
from transforms import incremental as incremental_builds
from transforms.incremental import CHANGES_TABLE, STATE_TABLE
from warehouse import Warehouse

LAST_DAY = date(2025, 6, 30)
DAYS = 45
START = LAST_DAY - timedelta(days=DAYS - 1)
FIRST_NIGHT = LAST_DAY - timedelta(days=3)  # the first load covers everything before it


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _tables(warehouse: Warehouse) -> dict[str, list[tuple]]:
    """Every model's table, as sorted rows (views too: they read the rebuilt tables)."""
    return {m.qualified_name: table_snapshot(warehouse, m.schema, m.name)
            for m in ALL_MODELS}


def _load(monkeypatch, tmp_path, world, warehouse_url: str, first: date, end: date) -> Warehouse:
    """Serve `world` and run the pipeline for the days [first, end), partitions starting at
    the helpdesk's first day (so only the very first partition reaches back in history)."""
    with Sandbox(world, port=0, incremental_rate_limit_per_minute=None) as sandbox:
        configure(monkeypatch, tmp_path, sandbox, warehouse_url, START)
        with dg.DagsterInstance.ephemeral() as instance:
            run_partitions(first, end, instance=instance)
    return Warehouse(warehouse_url)


def _generations(warehouse: Warehouse) -> dict[str, int]:
    rows = warehouse.query(f"SELECT model, generation FROM staging.{STATE_TABLE}")
    return {r["model"]: r["generation"] for r in rows if not r["model"].startswith("_")}


def test_nightly_incremental_builds_equal_a_full_rebuild(monkeypatch, tmp_path, warehouse_url):
    # A 500-ticket helpdesk recomputes a large share of its tickets over four nights, which
    # would call for DuckDB's compaction (test_grain_check.py tests it): here every night
    # after the first stays incremental.
    monkeypatch.setattr(incremental_builds, "COMPACTION_SHARE", 100.0)
    world = generate_world(seed=11, tickets=500, days=DAYS, end_date=LAST_DAY)
    per_ticket = {m.name for m in ALL_MODELS if m.per_ticket}

    warehouse = _load(monkeypatch, tmp_path, world_as_of(world, _midnight(FIRST_NIGHT)),
                      warehouse_url, START, FIRST_NIGHT)
    assert _generations(warehouse) == {name: 1 for name in per_ticket}  # built in full once

    # The requester of an early ticket (who wrote its first message) is made an agent from
    # the last night on.
    promoted = world.tickets[0].requester_id
    later_world = copy.deepcopy(world)
    next(u for u in later_world.users if u.id == promoted).role = "agent"

    recomputed = []
    night = FIRST_NIGHT
    while night <= LAST_DAY:
        following = night + timedelta(days=1)
        served = later_world if night == LAST_DAY else world
        warehouse = _load(monkeypatch, tmp_path, world_as_of(served, _midnight(following)),
                          warehouse_url, night, following)
        recomputed.append(warehouse.scalar(
            f"SELECT count(DISTINCT ticket_id) FROM staging.{CHANGES_TABLE}"))
        night = following
    # Each night had changed tickets to recompute, but not all of them ...
    tickets = warehouse.scalar("SELECT count(*) FROM staging.tickets")
    assert all(0 < n < tickets for n in recomputed), (recomputed, tickets)
    # ... and the nights were incremental, except for what the new agent changes: messages
    # and every per-ticket model reading them were rebuilt in full once more.
    after_promotion = {"messages", "ticket_milestones", "ticket_business_minutes",
                       "ticket_metrics", "ticket_metric_pairs"}
    assert _generations(warehouse) == {
        name: 2 if name in after_promotion else 1 for name in per_ticket}
    # Every build's grain check (over the recomputed tickets' keys after the first night)
    # found the table unique.
    assert {r["model"]: r["grain_unique"] for r in warehouse.query(
        f"SELECT model, grain_unique FROM staging.{STATE_TABLE}")
        if not r["model"].startswith("_")} == {name: True for name in per_ticket}
    incremental = _tables(warehouse)
    assert incremental["marts.ticket_metrics"]

    # The same raw data, every model rebuilt in full.
    monkeypatch.setenv("FULL_REBUILD", "true")
    _load(monkeypatch, tmp_path, later_world, warehouse_url, LAST_DAY,
          LAST_DAY + timedelta(days=1))
    assert set(_generations(warehouse).values()) == {2, 3}  # every model rebuilt once more
    full = _tables(warehouse)
    for table, rows in full.items():
        assert incremental[table] == rows, table
