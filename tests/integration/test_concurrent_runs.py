"""Two `helpdesk-etl run`s into one warehouse at once, from one working directory (a manual
backfill beside a cron's nightly run): the second waits for the first (the warehouse's
writer lock), so both succeed and nothing lands twice. Without it, on PostgreSQL they failed
on each other's schemas, tables and dlt working folders; on DuckDB the second failed on the
file's lock."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta

from sandbox import Sandbox, generate_world
from tests.integration.pipeline_runner import configure
from warehouse import Warehouse

LAST_DAY = date(2025, 6, 10)
DAYS = 5


def test_two_runs_at_once_both_succeed_and_land_each_ticket_once(
    monkeypatch, tmp_path, warehouse_url
):
    world = generate_world(seed=5, tickets=200, days=DAYS, end_date=LAST_DAY)
    first_day = LAST_DAY - timedelta(days=DAYS - 1)
    with Sandbox(world, port=0, incremental_rate_limit_per_minute=None) as sandbox:
        configure(monkeypatch, tmp_path, sandbox, warehouse_url, first_day)
        command = [sys.executable, "-m", "pipelines.cli", "run", "--start",
                   first_day.isoformat(), "--end", (LAST_DAY + timedelta(days=1)).isoformat()]
        runs = [
            # The same working directory and DAGSTER_HOME (a fresh one: the second run
            # waits for the lock before it opens the Dagster instance, so the two do not
            # create its SQLite storage at once), so the same dlt folders.
            subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, env=dict(os.environ))
            for _ in range(2)
        ]
        outputs = [run.communicate(timeout=600)[0] for run in runs]
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output[-2000:]
    assert sum("waiting for it to end" in output for output in outputs) == 1
    warehouse = Warehouse(warehouse_url)
    try:
        with warehouse.engine.connect() as connection:
            landed, distinct = connection.exec_driver_sql(
                "SELECT count(*), count(DISTINCT id) FROM raw_zendesk.tickets"
            ).one()
            metrics = connection.exec_driver_sql(
                "SELECT count(*) FROM marts.ticket_metrics"
            ).scalar_one()
    finally:
        warehouse.dispose()
    assert landed == distinct == len(world.tickets)
    assert metrics == len(world.tickets)
