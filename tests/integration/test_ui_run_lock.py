"""A run the UI's daemon launches (a schedule's, a backfill's, a "Materialize") executes the
job's own executor, not the command line's in-process one: it must hold the warehouse's
writer lock too, so a UI run and a `helpdesk-etl run` into one warehouse wait for each other
instead of failing on the DuckDB file or rebuilding the same PostgreSQL tables at once.
`dagster asset materialize` runs assets the way a run worker does (the code location's
executor)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import date

from sandbox import Sandbox, generate_world
from tests.integration.pipeline_runner import configure
from warehouse import Warehouse

DAY = date(2025, 6, 10)


def _landed(warehouse: Warehouse) -> int | None:
    """Tickets in raw_zendesk.tickets, None before the table exists."""
    if not warehouse.table_exists("raw_zendesk", "tickets"):
        return None
    return warehouse.query("SELECT count(*) AS n FROM raw_zendesk.tickets")[0]["n"]


def test_a_run_through_the_jobs_executor_waits_for_the_writer_lock(
    monkeypatch, tmp_path, warehouse_url
):
    world = generate_world(seed=9, tickets=60, days=1, end_date=DAY)
    warehouse = Warehouse(warehouse_url)
    with Sandbox(world, port=0, incremental_rate_limit_per_minute=None) as sandbox:
        configure(monkeypatch, tmp_path, sandbox, warehouse_url, DAY)
        dagster = os.path.join(os.path.dirname(sys.executable), "dagster")
        (tmp_path / "home").mkdir()
        lines: list[str] = []
        with warehouse.writer_lock():
            run = subprocess.Popen(
                # The raw tickets' asset alone: the lock is the executor's, whatever it runs.
                [dagster, "asset", "materialize", "-m", "pipelines.definitions",
                 "--select", "raw_zendesk/tickets", "--partition", DAY.isoformat()],
                cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                env={**os.environ, "DAGSTER_HOME": str(tmp_path / "home")},
            )
            reader = threading.Thread(target=lambda: lines.extend(run.stdout), daemon=True)
            reader.start()
            deadline = time.monotonic() + 120
            while (not any("waiting for it to end" in line for line in lines)
                   and run.poll() is None and time.monotonic() < deadline):
                time.sleep(0.2)
            held_output = "".join(lines)
            still_running = run.poll() is None
            time.sleep(1)  # the run, were it not waiting, would start landing now
            landed_while_held = _landed(warehouse)
        returncode = run.wait(timeout=600)
        reader.join(timeout=10)
    output = "".join(lines)
    try:
        assert "waiting for it to end" in held_output, output[-3000:]
        assert still_running and landed_while_held is None, output[-3000:]
        assert returncode == 0, output[-3000:]
        assert _landed(warehouse) == len(world.tickets)
    finally:
        warehouse.dispose()
