"""Crash safety: a run SIGKILLed anywhere, then run again, leaves the warehouse an
uninterrupted run leaves; BI never reads a half-written mart.

Each scenario runs the real command line (`helpdesk-etl run --start --end`) in a
subprocess that kills itself at a chosen point (tests/crash/killed_run.py), runs the same
command again in a fresh subprocess, and compares every table of every schema with the
warehouse of one uninterrupted run over the same sandbox world (see docs/reliability.md).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from sandbox import Sandbox
from tests.crash.harness import (
    OUTCOMES,
    Outcome,
    RunResult,
    Scenario,
    Snapshot,
    TableComparison,
    compare,
    frozen_copy,
    report,
    snapshot,
)
from tests.integration.pipeline_runner import table_snapshot
from warehouse import Warehouse

#: How long a test waits for a paused run to reach its pause point.
PAUSE_TIMEOUT_SECONDS = 240
#: How long a reader gets to answer on its own while the rebuild transaction is open.
READER_GRACE_SECONDS = 3.0


@dataclass(frozen=True)
class KillPoint:
    """A named kill point and the wrapper options that install it."""

    name: str
    options: tuple[str, ...]

    @property
    def kind(self) -> str:
        """The wrapper's `--kill-at` value (the marker file starts with it)."""
        return self.options[self.options.index("--kill-at") + 1]


EXTRACT = KillPoint("extract (after API page 8)", ("--kill-at", "api-page", "--nth", "8"))
NORMALIZE = KillPoint("normalize (2nd package, uncommitted)",
                      ("--kill-at", "normalize", "--nth", "2"))
LOAD = KillPoint("load (after 4th merge job)", ("--kill-at", "load", "--nth", "4"))
MART_REBUILD = KillPoint("mart rebuild (ticket_metrics, in txn)",
                         ("--kill-at", "mart-write", "--table", "ticket_metrics"))
MART_REBUILD_DAILY = KillPoint("mart rebuild (support_daily, in txn)",
                               ("--kill-at", "mart-write", "--table", "support_daily"))
BETWEEN_ASSETS = KillPoint("between assets (before the first mart)", ("--kill-at", "before-marts"))


# -- helpers ---------------------------------------------------------------------------------

def uninterrupted(engine: str, warehouse_url: str, workdir: Path, dagster_home: Path,
                  sandbox: Sandbox, baselines: dict[str, Snapshot]) -> Snapshot:
    """The warehouse of one uninterrupted run on `engine` (run once per session).

    The run goes into `warehouse_url` (working directory `workdir`), which is left as it
    was found: a DuckDB file is deleted, a PostgreSQL database emptied of every schema the
    run created.
    """
    if engine not in baselines:
        scenario = Scenario(sandbox, warehouse_url, workdir, dagster_home)
        result = scenario.run()
        assert result.returncode == 0, f"the uninterrupted run failed:\n{result.output[-3000:]}"
        baselines[engine] = snapshot(warehouse_url)
        assert baselines[engine].get("marts.ticket_metrics"), "the baseline has no tickets"
        _empty_warehouse(warehouse_url)
    return baselines[engine]


def _empty_warehouse(warehouse_url: str) -> None:
    warehouse = Warehouse(warehouse_url)
    try:
        if warehouse.is_duckdb:
            warehouse.dispose()
            for path in Path(warehouse.duckdb_path).parent.glob(
                    Path(warehouse.duckdb_path).name + "*"):
                path.unlink()
            return
        schemas = warehouse.query(
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name NOT LIKE "
            "'pg\\_%' AND schema_name NOT IN ('information_schema', 'public')")
        with warehouse.transaction() as connection:
            for row in schemas:
                connection.execute(
                    sa.text(f"DROP SCHEMA {warehouse.quote(row['schema_name'])} CASCADE"))
    finally:
        warehouse.dispose()


def inspectable(scenario: Scenario, label: str) -> str:
    """A URL to inspect the warehouse the killed run left, without disturbing it."""
    if scenario.warehouse_url.startswith("duckdb"):
        return frozen_copy(scenario.warehouse_url, scenario.workdir / f"frozen-{label}")
    return scenario.warehouse_url


def assert_killed_at(result: RunResult, point: KillPoint) -> None:
    """The run died of SIGKILL where asked (its marker names the point), not otherwise."""
    assert result.killed, (
        f"expected the run to die of SIGKILL at {point.name}, got exit code "
        f"{result.returncode}:\n{result.output[-3000:]}"
    )
    assert result.marker and result.marker.startswith(point.kind), (
        f"killed, but not at {point.name} (marker: {result.marker!r})"
    )


def assert_same_warehouse(comparisons: list[TableComparison]) -> None:
    """Every table equal to the uninterrupted run's, or a message naming what differs."""
    differing = [c for c in comparisons if not c.equal]
    hints = []
    if any(c.table.endswith("._load_windows") for c in differing):
        hints.append(
            "_load_windows: pipelines/raw.py record_loaded_window() appends a row on every "
            "successful load, so re-running a window whose load had committed before the "
            "kill records it again (see docs/reliability.md, 'Known gaps')."
        )
    assert not differing, (
        f"{len(differing)} of {len(comparisons)} tables differ from the uninterrupted run:\n"
        + report(differing) + ("\n" + "\n".join(hints) if hints else "")
    )


def rerun_and_compare(point: KillPoint, engine: str, scenario: Scenario, killed: RunResult,
                      baseline: Snapshot) -> None:
    """Run the command again, compare table by table, record the outcome, assert."""
    rerun = scenario.run()
    comparisons = compare(baseline, snapshot(scenario.warehouse_url)) \
        if rerun.returncode == 0 else []
    OUTCOMES.append(Outcome(point.name, engine, killed.returncode, rerun.returncode,
                            comparisons, list(scenario.runs)))
    print(f"\n{point.name} on {engine}: killed with {killed.returncode} ({killed.marker}); "
          f"re-run exit {rerun.returncode}")
    print(report(comparisons))
    assert rerun.returncode == 0, f"the re-run failed:\n{rerun.output[-3000:]}"
    assert_same_warehouse(comparisons)


# -- after-kill checks: the kill happened where it claims to --------------------------------

def _row_counts(url: str) -> dict[str, int]:
    return {table: len(rows) for table, rows in snapshot(url).items()}


def check_nothing_built(url: str, baseline: Snapshot) -> None:
    """Killed during extract or normalize: no staging or mart table exists yet."""
    counts = _row_counts(url)
    assert not [t for t in counts if t.startswith(("staging.", "marts."))], counts


def check_partially_loaded(url: str, baseline: Snapshot) -> None:
    """Killed during dlt's load (of whichever helpdesk it reached): some raw tables hold
    their rows, others not yet."""
    counts = _row_counts(url)
    raw = {t: n for t, n in baseline.items()
           if t.startswith(("raw_zendesk.", "raw_intercom.", "raw_freshdesk."))}
    loaded = [t for t in raw if counts.get(t, 0) == len(raw[t]) and raw[t]]
    missing = [t for t in raw if counts.get(t, 0) < len(raw[t])]
    assert loaded and missing, f"expected a half-done load; row counts: {counts}"


def check_mart_never_created(url: str, baseline: Snapshot) -> None:
    """Killed inside the first rebuild of marts.ticket_metrics: the table does not exist
    (its CREATE was rolled back with the rest of the transaction), staging does."""
    counts = _row_counts(url)
    assert "marts.ticket_metrics" not in counts, counts
    assert counts.get("staging.tickets") == len(baseline["staging.tickets"]), counts


def check_staging_done_marts_not(url: str, baseline: Snapshot) -> None:
    """Killed between assets: staging is complete, no mart was written."""
    counts = _row_counts(url)
    assert counts.get("staging.tickets") == len(baseline["staging.tickets"]), counts
    assert not [t for t in counts if t.startswith("marts.")], counts


DUCKDB_POINTS: list[tuple[KillPoint, Callable[[str, Snapshot], None]]] = [
    (EXTRACT, check_nothing_built),
    (NORMALIZE, check_nothing_built),
    (LOAD, check_partially_loaded),
    (MART_REBUILD, check_mart_never_created),
    (BETWEEN_ASSETS, check_staging_done_marts_not),
]


# -- DuckDB: every kill point ----------------------------------------------------------------

@pytest.mark.parametrize(("point", "check"), DUCKDB_POINTS, ids=[p.kind for p, _ in DUCKDB_POINTS])
def test_duckdb_killed_run_then_rerun_equals_uninterrupted_run(
    point: KillPoint, check: Callable[[str, Snapshot], None], tmp_path, tmp_path_factory,
    dagster_homes, crash_sandbox, baselines
):
    base = tmp_path_factory.getbasetemp() / "crash-baseline"
    baseline = uninterrupted("duckdb", f"duckdb:///{base / 'warehouse.duckdb'}", base / "work",
                             dagster_homes / "duckdb-baseline", crash_sandbox, baselines)
    scenario = Scenario(crash_sandbox, f"duckdb:///{tmp_path / 'warehouse.duckdb'}",
                        tmp_path / "work", dagster_homes / f"duckdb-{point.kind}")
    killed = scenario.run(*point.options)
    assert_killed_at(killed, point)
    check(inspectable(scenario, point.kind), baseline)
    rerun_and_compare(point, "duckdb", scenario, killed, baseline)


# -- PostgreSQL: a mart rebuild, with readers, and the load ----------------------------------

class Reader(threading.Thread):
    """Reads a whole mart over its own connection, as a BI tool would, and keeps the rows."""

    def __init__(self, warehouse_url: str, table: str) -> None:
        super().__init__(daemon=True)
        self.warehouse_url = warehouse_url
        self.table = table
        self.rows: list[tuple] | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        warehouse = Warehouse(self.warehouse_url)
        try:
            self.rows = table_snapshot(warehouse, "marts", self.table)
        except BaseException as exc:  # reported by the test, with the table's name
            self.error = exc
        finally:
            warehouse.dispose()


def read_during_rebuild(scenario: Scenario, table: str, kill: bool,
                        pause_dir: Path) -> tuple[RunResult, Reader, bool]:
    """Start a run that pauses inside the rebuild transaction of `marts.<table>` (right after
    the new rows were written), read the table from another connection, then let the run
    go on: killed (`kill`) or committing. Returns the run, the reader, and whether the
    reader was still waiting when the run was let go (blocked by the rebuild's lock)."""
    pause_dir.mkdir(parents=True)
    options = ("--kill-at", "mart-write", "--table", table)
    if not kill:
        options += ("--pause-only",)
    started = time.monotonic()
    process = scenario.start(*options, pause_dir=pause_dir)
    reader = Reader(scenario.warehouse_url, table)
    blocked = False
    try:
        deadline = started + PAUSE_TIMEOUT_SECONDS
        while not (pause_dir / "paused").exists():
            if process.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        else:
            reader.start()
            reader.join(READER_GRACE_SECONDS)
            blocked = reader.is_alive()
    finally:
        # Whatever happened, a paused run must not wait forever.
        (pause_dir / "go").write_text("go")
        result = scenario.finish(process, started)
    assert reader.ident is not None, (
        f"the run never reached the rebuild of marts.{table} (exit {result.returncode}):\n"
        f"{result.output[-3000:]}"
    )
    reader.join(120)
    assert not reader.is_alive(), f"the reader of marts.{table} never returned"
    assert reader.error is None, f"the reader of marts.{table} failed: {reader.error!r}"
    return result, reader, blocked


def test_postgres_mart_rebuilds_are_atomic_for_readers_and_rerun_recovers(
    tmp_path, postgres_url, dagster_homes, crash_sandbox, baselines
):
    """Over a warehouse already holding the marts (an uninterrupted run):

    * a second run pauses inside the transaction that recomputes marts.support_daily's days
      (delete + insert), right after the insert: a BI reader gets the old complete table at
      once (not blocked); then the run is SIGKILLed, and every mart keeps its old rows;
    * a third run pauses inside the rebuild of marts.ticket_metrics (drop + create as
      select): a reader waits or answers, and gets a complete table; the run commits, and the
      warehouse equals the uninterrupted run's, table by table.
    """
    scenario = Scenario(crash_sandbox, postgres_url, tmp_path / "work",
                        dagster_homes / "postgres-mart")
    first = scenario.run()
    assert first.returncode == 0, f"the first run failed:\n{first.output[-3000:]}"
    old = snapshot(postgres_url)
    baselines.setdefault("postgres", old)
    assert old["marts.ticket_metrics"] and old["marts.support_daily"]

    killed, reader, blocked = read_during_rebuild(scenario, "support_daily", kill=True,
                                                  pause_dir=tmp_path / "pause-1")
    assert_killed_at(killed, MART_REBUILD_DAILY)
    print(f"\nreader of marts.support_daily inside the killed rebuild: {len(reader.rows)} rows,"
          f" {'blocked until the transaction ended' if blocked else 'answered at once'}")
    assert reader.rows == old["marts.support_daily"], "a reader saw a half-written mart"
    assert not blocked, "a delete + insert rebuild blocked a reader of marts.support_daily"
    after_kill = snapshot(postgres_url)
    for table in (t for t in old if t.startswith("marts.")):
        assert after_kill.get(table) == old[table], f"{table} changed by the killed rebuild"

    rerun, reader, blocked = read_during_rebuild(scenario, "ticket_metrics", kill=False,
                                                 pause_dir=tmp_path / "pause-2")
    print(f"reader of marts.ticket_metrics inside the re-run's rebuild: {len(reader.rows)} "
          f"rows, {'blocked until the commit' if blocked else 'answered at once'}")
    assert reader.rows == baselines["postgres"]["marts.ticket_metrics"], (
        "a reader saw a half-written mart")
    comparisons = compare(baselines["postgres"], snapshot(postgres_url)) \
        if rerun.returncode == 0 else []
    OUTCOMES.append(Outcome(MART_REBUILD_DAILY.name + " +readers", "postgres",
                            killed.returncode, rerun.returncode, comparisons,
                            list(scenario.runs)))
    print(report(comparisons))
    assert rerun.returncode == 0, f"the re-run failed:\n{rerun.output[-3000:]}"
    assert_same_warehouse(comparisons)


def test_postgres_killed_during_load_then_rerun_equals_uninterrupted_run(
    tmp_path, postgres_url, dagster_homes, crash_sandbox, baselines
):
    baseline = uninterrupted("postgres", postgres_url, tmp_path / "baseline",
                             dagster_homes / "postgres-baseline", crash_sandbox, baselines)
    scenario = Scenario(crash_sandbox, postgres_url, tmp_path / "work",
                        dagster_homes / "postgres-load")
    killed = scenario.run(*LOAD.options)
    assert_killed_at(killed, LOAD)
    check_partially_loaded(inspectable(scenario, LOAD.kind), baseline)
    rerun_and_compare(LOAD, "postgres", scenario, killed, baseline)
