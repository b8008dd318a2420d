"""Kill-and-rerun harness: the real CLI in a subprocess, and table-by-table comparisons.

A scenario is one warehouse, one working directory (for PostgreSQL, dlt's pipeline folder
lives there; for DuckDB, beside the warehouse file) and one `DAGSTER_HOME`, used by the
killed run and by the re-run alike, the way a machine that lost power comes back with the
same disks. The sandbox runs in the test process; the subprocesses reach it over HTTP.

`DAGSTER_HOME` goes to a RAM disk when there is one: Dagster's SQLite event log fsyncs
every event (about a thousand per run), which made up over half of a run's time here.
SIGKILL leaves the page cache intact, so what a killed run leaves behind is the same on a
RAM disk as on a real one; only a power cut would differ, and Dagster's run history is not
what the suite compares.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from pipelines.cli import sandbox_environment
from pipelines.settings import SOURCE_VARIABLE_PREFIXES
from sandbox import Sandbox
from tests.integration.pipeline_runner import table_snapshot
from transforms.incremental import CHANGES_TABLE, STATE_TABLE
from warehouse import Warehouse

REPO_ROOT = Path(__file__).resolve().parents[2]
KILLED_RUN = Path(__file__).with_name("killed_run.py")

#: dlt's own bookkeeping: load ids, row ids and schema versions differ from run to run.
DLT_TABLES = {"_dlt_loads", "_dlt_pipeline_state", "_dlt_version"}
#: The incremental builds' bookkeeping (transforms/incremental.py): load times and watermarks
#: differ between runs by nature; what they decide is compared in every table they build.
BOOKKEEPING_TABLES = {STATE_TABLE, CHANGES_TABLE}
#: Per table, columns that legitimately differ between runs (besides dlt's `_dlt_*`).
VOLATILE_COLUMNS = {"_load_windows": ("loaded_at", "run_id"), "_quarantine": ("loaded_at",)}
SYSTEM_SCHEMAS = ("information_schema", "pg_catalog", "pg_toast")

#: The world of the suite: about 300 tickets over two weeks (with HubSpot companies and
#: deals); every run loads all of it: `run --start FIRST_DAY --end END_DAY`.
LAST_DAY = date(2025, 6, 30)
DAYS = 14
FIRST_DAY = LAST_DAY - timedelta(days=DAYS - 1)
END_DAY = LAST_DAY + timedelta(days=1)

#: A run of the CLI is Dagster's start-up plus the load; anything near this is a hang.
RUN_TIMEOUT_SECONDS = 300

Snapshot = dict[str, list[tuple]]


def scratch_root() -> Path:
    """A fresh directory for Dagster instances: on /dev/shm if writable, else the temp dir."""
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
    return Path(tempfile.mkdtemp(prefix="helpdesk-etl-crash-", dir=base))


def pipeline_environment(sandbox: Sandbox, warehouse_url: str, first_day: date,
                         dagster_home: Path) -> dict[str, str]:
    """The environment of a CLI run over `sandbox` into `warehouse_url` (the demo's sources)."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith((*SOURCE_VARIABLE_PREFIXES, "DAGSTER_"))
           and name not in ("WAREHOUSE_URL", "HISTORY_START_DATE", "LAND_FREE_TEXT",
                            "GROSS_MARGIN", "CLV_MIN_CHURN_RATE", "REPORTING_TIMEZONE")}
    env.update({
        **sandbox_environment(sandbox, first_day),  # the demo's sources
        "PYTHONPATH": str(REPO_ROOT),
        "WAREHOUSE_URL": warehouse_url,
        "REPORTING_TIMEZONE": "UTC",
        "DAGSTER_HOME": str(dagster_home),
    })
    return env


@dataclass
class RunResult:
    """What one CLI subprocess did."""

    returncode: int
    seconds: float
    cpu_seconds: float
    output: str
    marker: str | None = None

    @property
    def killed(self) -> bool:
        """True when the process died of SIGKILL (-9 from Popen, 137 from a shell)."""
        return self.returncode in (-9, 137)


@dataclass
class Scenario:
    """One warehouse and its working directory, run by successive CLI processes."""

    sandbox: Sandbox
    warehouse_url: str
    workdir: Path
    dagster_home: Path
    first_day: date = FIRST_DAY
    end_day: date = END_DAY
    runs: list[RunResult] = field(default_factory=list)
    _cpu_at_start: float = field(default=0.0, repr=False)

    def run(self, *kill: str) -> RunResult:
        """Run `helpdesk-etl run --start --end` to its end (with `kill`: the wrapper's kill
        options, e.g. `--kill-at load --nth 4`)."""
        started = time.monotonic()
        return self.finish(self.start(*kill), started)

    def start(self, *kill: str, pause_dir: Path | None = None) -> subprocess.Popen:
        """Start a run without waiting for it (a test acts while it is paused at `kill`)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, str(KILLED_RUN)]
        if kill:
            command += [*kill, "--marker", str(self._marker_path())]
        if pause_dir is not None:
            command += ["--pause-dir", str(pause_dir)]
        command += ["--", "run", "--start", self.first_day.isoformat(),
                    "--end", self.end_day.isoformat()]
        self._cpu_at_start = _children_cpu()
        # Output goes to a file: a pipe nobody reads while the run waits would fill and stall.
        with self._log_path().open("w") as log:
            return subprocess.Popen(command, cwd=self.workdir, env=self._env(), stdout=log,
                                    stderr=subprocess.STDOUT, text=True)

    def finish(self, process: subprocess.Popen, started: float) -> RunResult:
        """Wait for a process from `start` and record its result (killing it on time-out)."""
        try:
            process.wait(timeout=RUN_TIMEOUT_SECONDS)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        marker = self._marker_path()
        result = RunResult(process.returncode, time.monotonic() - started,
                           _children_cpu() - self._cpu_at_start, self._log_path().read_text(),
                           marker.read_text().strip() if marker.exists() else None)
        self.runs.append(result)
        return result

    def _marker_path(self) -> Path:
        return self.workdir / f"killed-{len(self.runs)}.txt"

    def _log_path(self) -> Path:
        return self.workdir / f"run-{len(self.runs)}.log"

    def _env(self) -> dict[str, str]:
        return pipeline_environment(self.sandbox, self.warehouse_url, self.first_day,
                                    self.dagster_home)


def _children_cpu() -> float:
    """CPU seconds used by finished child processes (the machine's load does not count)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def tables(warehouse: Warehouse) -> list[tuple[str, str]]:
    """Every table and view of every non-system schema, dlt's and the incremental builds'
    bookkeeping tables left out."""
    placeholders = ", ".join(f":s{i}" for i in range(len(SYSTEM_SCHEMAS)))
    rows = warehouse.query(
        "SELECT table_schema, table_name FROM information_schema.tables "
        f"WHERE table_schema NOT IN ({placeholders}) ORDER BY table_schema, table_name",
        {f"s{i}": schema for i, schema in enumerate(SYSTEM_SCHEMAS)},
    )
    return [(r["table_schema"], r["table_name"]) for r in rows
            if r["table_name"] not in DLT_TABLES | BOOKKEEPING_TABLES]


def snapshot(warehouse_url: str) -> Snapshot:
    """Every row of every table, sorted, keyed `schema.table`.

    dlt's `_dlt_*` columns are left out (`table_snapshot` does that), and so are the
    columns of `VOLATILE_COLUMNS`; everything else must match exactly.
    """
    warehouse = Warehouse(warehouse_url)
    try:
        result: Snapshot = {}
        for schema, table in tables(warehouse):
            volatile = VOLATILE_COLUMNS.get(table)
            if volatile:
                columns = [c for c in warehouse.columns(schema, table)
                           if c not in volatile and not c.startswith("_dlt")]
                column_list = ", ".join(warehouse.quote(c) for c in columns)
                qualified = f"{warehouse.quote(schema)}.{warehouse.quote(table)}"
                rows = warehouse.query(f"SELECT {column_list} FROM {qualified}")
                result[f"{schema}.{table}"] = sorted(
                    (tuple(row.values()) for row in rows), key=repr)
            else:
                result[f"{schema}.{table}"] = table_snapshot(warehouse, schema, table)
        return result
    finally:
        warehouse.dispose()


@dataclass
class TableComparison:
    """One table of the re-run warehouse against the uninterrupted run's."""

    table: str
    expected_rows: int
    actual_rows: int
    missing: list[tuple]
    extra: list[tuple]

    @property
    def equal(self) -> bool:
        """Same rows, same multiplicities."""
        return not self.missing and not self.extra and self.expected_rows == self.actual_rows


def compare(expected: Snapshot, actual: Snapshot) -> list[TableComparison]:
    """Table by table: rows the uninterrupted run has that the re-run lacks, and the reverse.

    A table only one side has counts as all-missing or all-extra.
    """
    comparisons = []
    for table in sorted(set(expected) | set(actual)):
        want, got = Counter(expected.get(table, [])), Counter(actual.get(table, []))
        comparisons.append(TableComparison(
            table=table if table in expected and table in actual else
            f"{table} (only in {'uninterrupted' if table in expected else 're-run'})",
            expected_rows=sum(want.values()),
            actual_rows=sum(got.values()),
            missing=list((want - got).elements()),
            extra=list((got - want).elements()),
        ))
    return comparisons


def report(comparisons: list[TableComparison]) -> str:
    """One line per table: rows on each side and whether they are equal."""
    lines = [f"{'table':<52} {'rows':>7} {'re-run':>7}  equal"]
    for c in comparisons:
        lines.append(f"{c.table:<52} {c.expected_rows:>7} {c.actual_rows:>7}  "
                     f"{'yes' if c.equal else 'NO'}")
        for label, rows in (("missing", c.missing), ("extra", c.extra)):
            for row in rows[:3]:
                lines.append(f"    {label}: {row!r}"[:160])
    return "\n".join(lines)


def frozen_copy(warehouse_url: str, into: Path) -> str:
    """A copy of a DuckDB warehouse as a killed run left it (file and write-ahead log).

    Inspecting the copy leaves the original exactly as the crash left it for the re-run
    (opening a DuckDB file replays and checkpoints its WAL).
    """
    source = Path(Warehouse(warehouse_url).duckdb_path)
    into.mkdir(parents=True, exist_ok=True)
    for path in (source, source.with_name(source.name + ".wal")):
        if path.exists():
            shutil.copy2(path, into / path.name)
    return f"duckdb:///{into / source.name}"


@dataclass
class Outcome:
    """One kill point on one engine, for the session's summary table."""

    point: str
    engine: str
    killed_returncode: int
    rerun_returncode: int
    comparisons: list[TableComparison]
    runs: list[RunResult]

    @property
    def differences(self) -> list[TableComparison]:
        """The tables that differ from the uninterrupted run."""
        return [c for c in self.comparisons if not c.equal]


#: Every scenario of the session, in the order run (printed by conftest's terminal summary).
OUTCOMES: list[Outcome] = []


def summary_table(outcomes: list[Outcome]) -> str:
    """Kill point x engine: exit codes, tables and rows compared, differences."""
    lines = [f"{'kill point':<46} {'engine':<8} {'killed':>6} {'re-run':>6} {'tables':>6} "
             f"{'rows':>7} {'differences':>11} {'runs':>4} {'wall s':>6} {'cpu s':>5}"]
    for o in outcomes:
        rows = sum(c.expected_rows for c in o.comparisons)
        wall = sum(r.seconds for r in o.runs)
        cpu = sum(r.cpu_seconds for r in o.runs)
        lines.append(f"{o.point:<46} {o.engine:<8} {o.killed_returncode:>6} "
                     f"{o.rerun_returncode:>6} {len(o.comparisons):>6} {rows:>7} "
                     f"{len(o.differences):>11} {len(o.runs):>4} {wall:>6.0f} {cpu:>5.0f}")
        for c in o.differences:
            lines.append(f"    differs: {c.table} ({c.expected_rows} rows uninterrupted, "
                         f"{c.actual_rows} after the re-run)")
    return "\n".join(lines)
