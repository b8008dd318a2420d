"""Worlds for the benchmarks: landed through the real connector, then scaled up inside DuckDB.

Extract + load goes the real way: the sandbox (a separate process, standing in for Zendesk)
serves a generated world over HTTP and the Zendesk connector lands it through dlt.

For the transform benchmarks, millions of tickets through HTTP would only measure HTTP. So a
*seed* world is landed once through the connector (the exact tables, columns and types it
lands, with the sandbox's realistic conversations and status histories) and then replicated
with set-based SQL: copy `k` of every windowed table gets ids offset by `k * id_base` and its
times moved back by whole quarters of a year (13 weeks: weekdays and business hours stay
put, so the business minutes copied with the metric sets mostly stay right). The ticket
history thus keeps one calendar span (a year) at every scale, as a bigger helpdesk would:
more tickets per day, not more days. Reference tables (users, organisations, groups, schedules)
are copied once. The landed tables carry no `_dlt_load_id` / `_dlt_id` columns because the
connector hands dlt Arrow tables (docs/zendesk-landed-tables.md); the copies have none either.

`nightly_increment` then writes one more day of changes (about 1% of tickets get new events),
as the next nightly load would land it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from benchmarks.measure import Measurement, measured
from sandbox.freshdesk_api import DOCUMENTED_RATE_LIMIT_PER_MINUTE as FRESHDESK_LIMIT_PER_MINUTE
from sandbox.intercom_api import DOCUMENTED_RATE_LIMIT_PER_10S as INTERCOM_LIMIT_PER_10S

if TYPE_CHECKING:
    from warehouse import Warehouse

#: The last day of every benchmark world (a fixed day: the figures do not drift with the date).
END_DATE = date(2026, 10, 31)
#: The end of the load window the worlds are landed with: the pipeline's as-of time.
AS_OF = datetime.combine(END_DATE + timedelta(days=1), datetime.min.time(), UTC)
#: Tickets of the seed world the scaled worlds are copied from, and its days.
SEED_TICKETS = 2_500
SEED_DAYS = 90
SEED = 7
#: Copies of the seed are spread over this many quarters (91 days each) back from AS_OF.
QUARTERS = 4
#: The share of tickets a benchmark night changes (the issue's "about 1%").
NIGHTLY_SHARE = 0.01
RAW = "raw_zendesk"
#: Windowed tables: copied per replica. Value: the columns that hold ids of replicated rows.
REPLICATED = {
    "tickets": ("id", "problem_id"),
    "ticket_metric_sets": ("id", "ticket_id"),
    "ticket_events": ("id", "ticket_id"),
    "ticket_child_events": ("id", "audit_id", "ticket_id"),
    "satisfaction_ratings": ("id", "ticket_id"),
    "calls": ("id", "ticket_id"),
}
#: Reference tables: copied once.
REFERENCE = ("users", "organizations", "groups", "schedules", "schedules__intervals",
             "schedule_holidays", "_load_windows")
#: Epoch-second columns moved with the timestamps.
EPOCH_COLUMNS = ("generated_timestamp",)


# -- the sandbox in its own process ------------------------------------------------------------


@dataclass
class SandboxProcess:
    """A sandbox server (`python -m sandbox`) serving a generated world, rate limits off."""

    process: subprocess.Popen
    url: str
    credentials: dict[str, str]
    ready_seconds: float

    def stop(self) -> None:
        """Stop the server (it only ever serves this benchmark).

        SIGTERM first; SIGKILL if it is still there after 10 s (a child inherits its
        parent's blocked signals, and a test runner or dlt may have SIGTERM blocked).
        """
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)


def start_sandbox(tickets: int, days: int, seed: int = SEED,
                  helpdesk_options: Sequence[str] = ()) -> SandboxProcess:
    """Generate a world of `tickets` over `days` ending on END_DATE and serve it, Zendesk's
    rate limits off; no Intercom conversations and no Freshdesk tickets unless
    `helpdesk_options` (`python -m sandbox` options: `--intercom-conversations N`, ...) ask.

    A separate process, so its memory and the world it holds are not counted as the
    pipeline's, and its request handling does not share the pipeline's interpreter lock (as
    a real API would not).
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0", "--tickets", str(tickets),
         "--days", str(days), "--seed", str(seed), "--end-date", END_DATE.isoformat(),
         "--rate-limit", "none", "--incremental-rate-limit", "none",
         "--intercom-conversations", "0", "--freshdesk-tickets", "0", *helpdesk_options],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent,
    )
    values: dict[str, str] = {}
    assert process.stdout is not None
    for line in process.stdout:
        match = re.match(r"\s+([A-Z_]+)=(\S+)", line)
        if match:
            values[match.group(1)] = match.group(2)
        if line.startswith("Press Ctrl-C"):
            break
    if "ZENDESK_BASE_URL" not in values:
        process.kill()
        raise RuntimeError("the sandbox did not start")
    return SandboxProcess(
        process=process,
        url=values["ZENDESK_BASE_URL"],
        credentials={"subdomain": values["ZENDESK_SUBDOMAIN"],
                     "email": values["ZENDESK_EMAIL"],
                     "api_token": values["ZENDESK_API_TOKEN"],
                     "intercom_access_token": values["INTERCOM_ACCESS_TOKEN"],
                     "freshdesk_api_key": values["FRESHDESK_API_KEY"],
                     "freshdesk_base_url": values["FRESHDESK_BASE_URL"]},
        ready_seconds=time.perf_counter() - started,
    )


def landed_counts(warehouse: Warehouse) -> dict[str, int]:
    """Rows of each windowed raw table and of users."""
    return {
        table: int(warehouse.scalar(f"SELECT count(*) FROM {RAW}.{warehouse.quote(table)}"))
        for table in (*REPLICATED, "users")
    }


def extract_load(warehouse_url: str, tickets: int, days: int = SEED_DAYS,
                 seed: int = SEED) -> tuple[Measurement, dict[str, int], float]:
    """Serve a world of `tickets`, land all of it through the Zendesk connector into
    `warehouse_url` the way a raw asset does; return the measurement of the extract + load
    alone (world generation excluded), the landed row counts and the sandbox's start time.
    """
    from connectors.zendesk import zendesk_source
    from pipelines.partitions import BEGINNING_OF_HISTORY
    from pipelines.raw import dlt_pipeline_for, record_loaded_window
    from warehouse import Warehouse

    server = start_sandbox(tickets, days, seed)
    warehouse = Warehouse(warehouse_url)
    try:
        source = zendesk_source(
            server.credentials["subdomain"], server.credentials["email"],
            server.credentials["api_token"], base_url=server.url,
            start=BEGINNING_OF_HISTORY, end=AS_OF,
        )
        with measured(exclude={server.process.pid}) as cost:
            with dlt_pipeline_for("zendesk", warehouse) as pipeline:
                pipeline.run(source)
            record_loaded_window(warehouse, "zendesk", BEGINNING_OF_HISTORY, AS_OF, "benchmark")
    finally:
        server.stop()
    counts = landed_counts(warehouse)
    warehouse.dispose()
    return cost, counts, server.ready_seconds


@dataclass(frozen=True)
class DetailExtract:
    """A helpdesk whose extract lists what changed, then reads each changed item with a
    request of its own (Intercom's conversations for their parts, Freshdesk's tickets for
    their conversations): bound by the vendor's rate limit, not by the code."""

    source: str
    #: What one detail request reads, and what it brings (plural nouns).
    items: str
    children: str
    #: The landed tables of the items and of their children.
    tables: tuple[str, str]
    #: `python -m sandbox` options: how many items to generate; the rate-limit option.
    count_option: str
    limit_option: str
    #: The vendor's documented limit: requests per `limit_window_seconds`.
    documented_limit: int
    limit_window_seconds: int


DETAIL_EXTRACTS = {
    "intercom": DetailExtract("intercom", "conversations", "parts",
                              ("conversations", "conversation_parts"),
                              "--intercom-conversations", "--intercom-rate-limit",
                              INTERCOM_LIMIT_PER_10S, 10),
    "freshdesk": DetailExtract("freshdesk", "tickets", "conversations",
                               ("tickets", "conversations"), "--freshdesk-tickets",
                               "--freshdesk-rate-limit", FRESHDESK_LIMIT_PER_MINUTE, 60),
}


def _detail_source(extract: DetailExtract, server: SandboxProcess) -> Any:
    """The connector's source over the whole history, as a first run's raw asset builds it."""
    from pipelines.partitions import BEGINNING_OF_HISTORY

    if extract.source == "intercom":
        from connectors.intercom import intercom_source

        return intercom_source(server.credentials["intercom_access_token"], server.url,
                               start=BEGINNING_OF_HISTORY)
    from connectors.freshdesk import freshdesk_source

    return freshdesk_source(server.credentials["freshdesk_api_key"],
                            server.credentials["freshdesk_base_url"],
                            start=BEGINNING_OF_HISTORY, tickets_to_now=True)


def detail_extract_load(warehouse_url: str, extract: DetailExtract, count: int,
                        rate_limit: int | None, days: int = SEED_DAYS, seed: int = SEED
                        ) -> tuple[Measurement, dict[str, int], float]:
    """Serve `count` of `extract`'s items over `days` (its rate limit at `rate_limit`
    requests per window, None for none) and land all of them through its connector into
    `warehouse_url` the way its raw asset does. The measurement of the extract + load
    alone, the landed row counts of its two tables and the sandbox's start time."""
    from pipelines.raw import dlt_pipeline_for
    from warehouse import Warehouse

    server = start_sandbox(0, days, seed, (extract.count_option, str(count),
                                           extract.limit_option, str(rate_limit or "none")))
    warehouse = Warehouse(warehouse_url)
    try:
        source = _detail_source(extract, server)
        with measured(exclude={server.process.pid}) as cost:
            with dlt_pipeline_for(extract.source, warehouse) as pipeline:
                pipeline.run(source)
    finally:
        server.stop()
    counts = {table: int(warehouse.scalar(f"SELECT count(*) FROM raw_{extract.source}.{table}"))
              for table in extract.tables}
    warehouse.dispose()
    return cost, counts, server.ready_seconds


@dataclass
class Backfill:
    """What `backfill` measured: the history, then the night after it."""

    #: Every day but the last, as `helpdesk-etl run --start --end` runs them.
    history: Measurement
    #: The last day, as the nightly and monthly schedules run it on the warehouse the history
    #: built: extract over HTTP, raw, staging, marts, asset checks.
    night: Measurement
    #: Landed row counts, `ticket_metrics` and `support_daily` rows, `dagster_events` (of every
    #: run), `night_tickets_changed` (tickets with a row landed by the night's window).
    counts: dict[str, int]
    first_day: date


def backfill(warehouse_url: str, tickets: int, days: int, dagster_home: Path,
             seed: int = SEED) -> Backfill:
    """Serve a world of `tickets` over the `days` ending END_DATE and run what a backfill of
    all those days but the last runs (`pipelines.cli.run_partitions`, as `helpdesk-etl run
    --start --end` does: the nightly job over every day, raw assets included, then the
    monthly job over the months), then the last day alone, as the schedules run a night;
    recorded in a Dagster instance with the default SQLite storage in `dagster_home`, as a
    user's DAGSTER_HOME records it. Measurements exclude the sandbox process (its CPU
    seconds are recorded beside them)."""
    import dagster as dg

    from benchmarks.transform import benchmark_settings
    from pipelines.cli import run_partitions
    from transforms.incremental import WINDOWS, changes_sql_path
    from warehouse import Warehouse

    if days < 2:
        raise ValueError(f"a backfill of {days} day(s): it needs 2 or more, the history and "
                         "the night after it")
    first_day = END_DATE - timedelta(days=days - 1)
    server = start_sandbox(tickets, days, seed)
    settings = benchmark_settings(warehouse_url, start=first_day, zendesk={
        "ZENDESK_BASE_URL": server.url,
        "ZENDESK_SUBDOMAIN": server.credentials["subdomain"],
        "ZENDESK_EMAIL": server.credentials["email"],
        "ZENDESK_API_TOKEN": server.credentials["api_token"],
    })
    dagster_home.mkdir(parents=True, exist_ok=True)
    # Opened once: it holds no connection between its queries, so the runs write freely.
    warehouse = Warehouse(warehouse_url)
    try:
        with dg.DagsterInstance.local_temp(str(dagster_home)) as instance:
            with measured(exclude={server.process.pid}) as history:
                run_partitions(first_day, END_DATE, "WARNING", instance, settings)
            since = warehouse.scalar(f"SELECT max(loaded_at) FROM {RAW}.{WINDOWS}")
            with measured(exclude={server.process.pid}) as night:
                run_partitions(END_DATE, END_DATE + timedelta(days=1), "WARNING", instance,
                               settings)
            events = sum(len(instance.get_records_for_run(run.run_id, limit=1_000_000).records)
                         for run in instance.get_runs())
        counts = landed_counts(warehouse)
        counts["ticket_metrics"] = int(
            warehouse.scalar("SELECT count(*) FROM marts.ticket_metrics"))
        counts["support_daily"] = int(warehouse.scalar("SELECT count(*) FROM marts.support_daily"))
        counts["dagster_events"] = events
        # The pipeline's own change log query, for the windows the night loaded.
        counts["night_tickets_changed"] = int(warehouse.scalar(
            f"SELECT count(*) FROM ({changes_sql_path('zendesk').read_text()}) AS changed",
            {"since": since}))
    finally:
        server.stop()
        warehouse.dispose()
    return Backfill(history, night, counts, first_day)


def seed_path(cache_dir: Path) -> Path:
    """The seed landing (cached: it only depends on the constants above and the connector)."""
    return cache_dir / f"seed-{SEED_TICKETS}-{SEED_DAYS}d-{END_DATE}.duckdb"


def ensure_seed(cache_dir: Path) -> Path:
    """Land the seed world through the connector unless it is already cached."""
    path = seed_path(cache_dir)
    if not path.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.duckdb")
        remove_warehouse_file(partial)
        extract_load(f"duckdb:///{partial}", SEED_TICKETS)
        partial.rename(path)
    return path


# -- scaling up with SQL -----------------------------------------------------------------------


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = ? AND table_schema = ? AND table_name = ? "
        "ORDER BY ordinal_position",
        [catalog, RAW, table],
    ).fetchall()


def _id_base(con: duckdb.DuckDBPyConnection) -> int:
    """A power of ten above every id of the seed: copy k's ids are id + k * base."""
    highest = 0
    for table, id_columns in REPLICATED.items():
        for column in id_columns:
            value = con.execute(f'SELECT max("{column}") FROM seed.{RAW}."{table}"').fetchone()[0]
            highest = max(highest, int(value or 0))
    return 10 ** len(str(highest + 1))


def replicate(target: Path, seed: Path, copies: int) -> dict[str, int]:
    """Write `copies` shifted copies of the seed's raw tables into a fresh DuckDB `target`.

    Copy k moves back (k mod QUARTERS) quarters: whole weeks, which keep weekdays and
    business hours where they were, so the copied metric sets' business minutes agree with
    ours except where a daylight-saving change or a holiday falls differently (a fifth of the
    1M world's tickets: docs/performance-log.md, "Session 11"). Returns row counts.
    """
    remove_warehouse_file(target)
    con = duckdb.connect(str(target))
    try:
        con.execute(f"ATTACH '{seed}' AS seed (READ_ONLY)")
        con.execute(f"CREATE SCHEMA {RAW}")
        base = _id_base(con)
        shift_seconds = f"((k % {QUARTERS}) * 91 * 86400)"
        for table in REFERENCE:
            con.execute(f'CREATE TABLE {RAW}."{table}" AS SELECT * FROM seed.{RAW}."{table}"')
        for table, id_columns in REPLICATED.items():
            expressions = []
            for name, data_type in _columns(con, "seed", table):
                quoted = f'"{name}"'
                if name in id_columns:
                    expr = f"{quoted} + k * {base}"
                elif data_type.startswith("TIMESTAMP"):
                    expr = f"{quoted} - to_seconds({shift_seconds})"
                elif name in EPOCH_COLUMNS:
                    expr = f"{quoted} - {shift_seconds}"
                else:
                    expr = quoted
                expressions.append(f"CAST({expr} AS {data_type}) AS {quoted}")
            con.execute(
                f'CREATE TABLE {RAW}."{table}" AS SELECT {", ".join(expressions)} '
                f'FROM range({copies}) AS copies (k) CROSS JOIN seed.{RAW}."{table}" '
                # Rows in time order, as incremental exports land them.
                "ORDER BY k, 1"
            )
        con.execute("DETACH seed")
        return {
            table: con.execute(f'SELECT count(*) FROM {RAW}."{table}"').fetchone()[0]
            for table in (*REPLICATED, "users")
        }
    finally:
        con.close()


def nightly_increment(warehouse_path: Path, fraction: float = NIGHTLY_SHARE,
                      night: int = 0, adjacent: bool = False) -> dict[str, Any]:
    """Land one more day, as the next nightly load would: about `fraction` of the tickets get
    new events (their requester writes again and an agent answers and solves; a closed
    ticket, which cannot reopen, gets a tag change by an automation), merged on the primary
    keys like dlt does, and a new load window [as_of, as_of + 1 day) is recorded, as_of being
    the end of the last one.

    Deterministic: the tickets are chosen by a hash of their id, another set for each
    `night` (0, 1, ...), so they are spread over every row group of every table. With
    `adjacent`, the same number are the tickets with the highest ids instead (the next lower
    block for each `night`): their rows sit together in every table, as a real helpdesk's
    night's changes mostly do (ids grow with creation, and a day's changes fall on recent
    tickets: Zendesk closes a solved ticket within 28 days and a closed one takes no updates
    but tags, subject and priority). In this world the highest ids are not the newest
    tickets (copies are shifted by quarters), so only the tickets' place in the tables, the
    best case for DuckDB's zone maps, is what `adjacent` changes. Returns the changed counts
    and the day landed (`day`).
    """
    modulus = round(1 / fraction)
    con = duckdb.connect(str(warehouse_path))
    try:
        as_of = con.execute(f"SELECT max(window_end) FROM {RAW}._load_windows").fetchone()[0]
        chosen = f"hash(t.id, 0) % {modulus} = {night % modulus}"
        if adjacent:
            block = con.execute(f"SELECT count(*) FROM {RAW}.tickets WHERE status <> 'deleted'"
                                ).fetchone()[0] // modulus
            chosen = (f"t.id IN (SELECT id FROM {RAW}.tickets WHERE status <> 'deleted' "
                      f"ORDER BY id DESC LIMIT {block} OFFSET {night * block})")
        con.execute("BEGIN")
        con.execute(
            f"""
            CREATE TEMP TABLE changed AS
            SELECT
                t.id AS ticket_id,
                t.status,
                t.requester_id,
                coalesce(t.assignee_id, -1) AS agent_id,
                -- the requester writes during the day, the agent answers within two hours
                CAST(? AS timestamptz) + to_seconds(hash(t.id, 1) % 72000) AS asked_at,
                CAST(? AS timestamptz) + to_seconds(hash(t.id, 1) % 72000 + 600
                    + hash(t.id, 2) % 7200) AS answered_at,
                (SELECT max(id) FROM {RAW}.ticket_events) AS audit_base,
                row_number() OVER (ORDER BY t.id) AS n
            FROM {RAW}.tickets AS t
            WHERE t.status <> 'deleted' AND {chosen}
            """,
            [as_of, as_of],
        )
        con.execute(
            f"""
            INSERT INTO {RAW}.ticket_events
            SELECT audit_base + 2 * n - 1, ticket_id, asked_at,
                   CASE WHEN status = 'closed' THEN -1 ELSE requester_id END,
                   CASE WHEN status = 'closed' THEN 'Rule' ELSE 'Mail' END, 'Audit'
            FROM changed
            UNION ALL
            SELECT audit_base + 2 * n, ticket_id, answered_at, agent_id, 'Web form', 'Audit'
            FROM changed WHERE status <> 'closed'
            """
        )
        child_base = con.execute(f"SELECT max(id) FROM {RAW}.ticket_child_events").fetchone()[0]
        con.execute(
            f"""
            INSERT INTO {RAW}.ticket_child_events
                (id, audit_id, ticket_id, created_at, event_type, author_id, via_channel,
                 field_name, value, previous_value, is_public)
            SELECT {child_base} + 4 * n - 3, audit_base + 2 * n - 1, ticket_id, asked_at,
                   'Change', -1, 'Rule', 'tags', '["followed_up"]', '[]', NULL
            FROM changed WHERE status = 'closed'
            UNION ALL
            SELECT {child_base} + 4 * n - 3, audit_base + 2 * n - 1, ticket_id, asked_at,
                   'Comment', requester_id, 'email', NULL, NULL, NULL, true
            FROM changed WHERE status <> 'closed'
            UNION ALL
            SELECT {child_base} + 4 * n - 2, audit_base + 2 * n - 1, ticket_id, asked_at,
                   'Change', requester_id, 'Mail', 'status', 'open', status, NULL
            FROM changed WHERE status NOT IN ('closed', 'open', 'new')
            UNION ALL
            SELECT {child_base} + 4 * n - 1, audit_base + 2 * n, ticket_id, answered_at,
                   'Comment', agent_id, 'web', NULL, NULL, NULL, true
            FROM changed WHERE status <> 'closed'
            UNION ALL
            SELECT {child_base} + 4 * n, audit_base + 2 * n, ticket_id, answered_at,
                   'Change', agent_id, 'Web form', 'status', 'solved',
                   CASE WHEN status = 'new' THEN 'new' ELSE 'open' END, NULL
            FROM changed WHERE status <> 'closed'
            """
        )
        con.execute(
            f"""
            UPDATE {RAW}.tickets AS t
            SET status = CASE WHEN c.status = 'closed' THEN 'closed' ELSE 'solved' END,
                updated_at = c.answered_at,
                generated_timestamp = CAST(epoch(c.answered_at) AS bigint)
            FROM changed AS c
            WHERE t.id = c.ticket_id
            """
        )
        con.execute(
            f"""
            UPDATE {RAW}.ticket_metric_sets AS m
            SET updated_at = c.answered_at,
                generated_timestamp = CAST(epoch(c.answered_at) AS bigint)
            FROM changed AS c
            WHERE m.ticket_id = c.ticket_id
            """
        )
        con.execute(
            f"INSERT INTO {RAW}._load_windows VALUES (?, ?, ?, 'benchmark-nightly')",
            # loaded now: later than every window the full build has seen, as a real load is
            [as_of, as_of + timedelta(days=1), datetime.now(UTC)],
        )
        changed = con.execute("SELECT count(*) FROM changed").fetchone()[0]
        con.execute("COMMIT")
        return {"tickets_changed": changed, "day": as_of.date()}
    finally:
        con.close()


# -- PostgreSQL copy ---------------------------------------------------------------------------

_PG_TYPES = {
    "BIGINT": "bigint", "INTEGER": "integer", "VARCHAR": "text", "BOOLEAN": "boolean",
    "DATE": "date", "DOUBLE": "double precision", "TIMESTAMP WITH TIME ZONE": "timestamptz",
}


def copy_to_postgres(duckdb_path: Path, postgres_url: str, work_dir: Path) -> None:
    """Copy every raw table of a DuckDB warehouse into PostgreSQL (CSV files + COPY)."""
    import sqlalchemy as sa

    engine = sa.create_engine(
        sa.engine.make_url(postgres_url).set(drivername="postgresql+psycopg2")
    )
    con = duckdb.connect(str(duckdb_path), read_only=True)
    work_dir.mkdir(parents=True, exist_ok=True)
    try:
        tables = [t for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
            "AND NOT starts_with(table_name, '_dlt')", [RAW]).fetchall()]
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW}")
            for table in tables:
                columns = con.execute(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                    [RAW, table]).fetchall()
                definition = ", ".join(f'"{name}" {_PG_TYPES[data_type]}'
                                       for name, data_type in columns)
                cursor.execute(f'DROP TABLE IF EXISTS {RAW}."{table}"')
                cursor.execute(f'CREATE TABLE {RAW}."{table}" ({definition})')
                csv = work_dir / f"{table}.csv"
                con.execute(f'COPY {RAW}."{table}" TO \'{csv}\' (HEADER false)')
                with csv.open() as handle:
                    cursor.copy_expert(f'COPY {RAW}."{table}" FROM STDIN WITH (FORMAT csv)',
                                       handle)
                csv.unlink()
                cursor.execute(f'ANALYZE {RAW}."{table}"')
            raw.commit()
        finally:
            raw.close()
    finally:
        con.close()
        engine.dispose()


def copy_warehouse(source: Path, target: Path) -> None:
    """Copy a closed DuckDB warehouse file, on disk before returning: a copy left in the page
    cache is written out by the first `fsync` on it, which is the first checkpoint of the
    next measured run on the copy (0.54-0.75 s for 1 GB, docs/performance-log.md, "Session 10")."""
    shutil.copyfile(source, target)
    with target.open("rb+") as copied:
        os.fsync(copied.fileno())


def remove_warehouse_file(path: Path) -> None:
    """Remove a DuckDB warehouse file and its write-ahead log, if there."""
    for candidate in (path, path.with_name(path.name + ".wal")):
        candidate.unlink(missing_ok=True)


def file_size(path: Path) -> int:
    """Size of a file in bytes (0 when missing)."""
    return os.path.getsize(path) if path.exists() else 0
