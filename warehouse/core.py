"""`Warehouse`: a SQLAlchemy URL turned into an engine, a dlt destination and a few helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import NullPool

DEFAULT_WAREHOUSE_URL = "duckdb:///data/warehouse.duckdb"

#: Schemas of METRICS.md: raw landed data per source, the canonical model, BI's tables.
SCHEMAS = ("staging", "marts")

SUPPORTED_DIALECTS = ("duckdb", "postgresql")

#: Server-side settings of the pipeline's PostgreSQL sessions. If the pipeline's machine
#: vanishes (power cut, network partition) in the middle of a rebuild, the server notices
#: the dead connection within about two minutes (TCP keepalives) and rolls back, instead of
#: holding the mart's lock for the operating system's default of over two hours; and a
#: transaction left open but idle is ended after five minutes (the pipeline never idles
#: inside one: each rebuild is one statement or two back to back).
#: The PostgreSQL advisory lock of `Warehouse.writer_lock` (any 64-bit number: the ASCII of
#: "hdsetl").
WRITER_LOCK_KEY = 0x68647365746C
POSTGRES_SESSION_OPTIONS = (
    "-c tcp_keepalives_idle=60 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=6 "
    "-c idle_in_transaction_session_timeout=300000"
)


#: DuckDB's memory limit on dlt's load connections (a global setting of the DuckDB instance
#: dlt opens; the transforms open their own), and how many load jobs dlt runs at once into
#: DuckDB (`load.workers`, 20 by default). With DuckDB's default limit (80% of the machine's
#: RAM) the load kept every block it copied and merged: its memory grew with the rows of
#: the load (500 MiB above the process for 100k tickets, 2.4M rows). Above the limit DuckDB
#: evicts written blocks and spills to `<file>.tmp`. The jobs share the limit: with 20 at
#: once, 64 MB ran out of memory (retried, then landed) from 100k tickets on, so the limit
#: had to be 256 MB and the load's memory grew with the load up to it. With two jobs at a
#: time, a three-year backfill of 1M tickets ran out three times (retried, then landed):
#: the merges of tickets and ratings, each deduplicating its staged rows, shared the 64 MB.
#: One job at a time (each statement already runs on every core) loads as fast (100k:
#: 39.2 / 35.7 s against 39.3 / 36.1 s with two), and the whole extract + load peaks at
#: about the same RSS from 100k tickets up (docs/performance-log.md, "Extract + load, fourth
#: round", "Backfills").
DLT_DUCKDB_MEMORY_LIMIT = "64MB"
DLT_DUCKDB_LOAD_WORKERS = 1

#: Settings of the DuckDB instance the pipeline's own connections (transforms, checks, the
#: command line) open, as the statements that set them. `max_vacuum_tasks = 0`: no vacuum
#: at checkpoints. An incremental build deletes and re-inserts the rows of about 1% of the
#: tickets of every per-ticket table; the next checkpoint then merged the thinned-out row
#: groups with the night's small appended ones, rewriting them (0.7-2.8 s for each of
#: `ticket_metric_pairs` and `marts.ticket_metrics` at 1M tickets, 5 s of a 14 s nightly on
#: the second night after a full build; 0.06 s without). The deleted rows stay until the
#: table is built in full: `transforms.incremental` does that when they mount up (its
#: "Compaction"). Row groups deleted whole are still dropped. dlt's load connections keep
#: DuckDB's defaults.
DUCKDB_SETTINGS = ("SET max_vacuum_tasks = 0",)


def _apply_duckdb_settings(dbapi_connection: Any, _record: Any) -> None:
    """`DUCKDB_SETTINGS` on a new connection (global settings: SET, not the connection's
    config, which DuckDB would refuse for a file another connection of this process holds
    open with a different config)."""
    for statement in DUCKDB_SETTINGS:
        dbapi_connection.execute(statement)


#: Catalog lookups per dialect. DuckDB's own catalog functions answer in about a millisecond,
#: its information_schema views (built over them for every query) in 2-10 ms: a nightly run
#: asks some 70 times. SQLAlchemy's inspector is no help here: it asks PostgreSQL's catalogs,
#: which DuckDB emulates only in part.
_CATALOG = {
    "duckdb": {
        "kind": "SELECT 'BASE TABLE' FROM duckdb_tables() WHERE database_name = "
                "current_database() AND schema_name = :schema AND table_name = :name "
                "UNION ALL SELECT 'VIEW' FROM duckdb_views() WHERE database_name = "
                "current_database() AND schema_name = :schema AND view_name = :name",
        "columns": "SELECT column_name FROM duckdb_columns() WHERE database_name = "
                   "current_database() AND schema_name = :schema AND table_name = :name "
                   "ORDER BY column_index",
    },
    "postgresql": {
        "kind": "SELECT table_type FROM information_schema.tables WHERE table_catalog = "
                "current_database() AND table_schema = :schema AND table_name = :name",
        "columns": "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                   ":schema AND table_name = :name ORDER BY ordinal_position",
    },
}


class WarehouseError(RuntimeError):
    """A warehouse URL or operation that cannot work; the message never holds a password."""


class Warehouse:
    """The database the pipeline loads into and computes in.

    `url` is a SQLAlchemy URL: `duckdb:///path/to/file.duckdb` (relative to the working
    directory) or `postgresql://user:password@host:port/database`.
    """

    def __init__(self, url: str = DEFAULT_WAREHOUSE_URL) -> None:
        try:
            self._url = make_url(url)
        except (sa.exc.ArgumentError, ValueError) as exc:  # ValueError: a port not a number
            raise WarehouseError(
                "WAREHOUSE_URL is not a valid SQLAlchemy URL "
                "(expected duckdb:///path/file.duckdb or postgresql://user@host:port/db)"
            ) from exc
        self.dialect = self._url.get_backend_name()
        if self.dialect not in SUPPORTED_DIALECTS:
            raise WarehouseError(
                f"WAREHOUSE_URL uses '{self.dialect}', but only {SUPPORTED_DIALECTS} are supported"
            )
        if self.dialect == "duckdb" and self.duckdb_path in (None, ":memory:"):
            raise WarehouseError(
                "WAREHOUSE_URL must name a DuckDB file (duckdb:///data/warehouse.duckdb): "
                "dlt and the transforms need to share it"
            )

    def __repr__(self) -> str:
        return f"Warehouse({self.display_url!r})"

    @property
    def display_url(self) -> str:
        """The URL with any password masked: safe for logs and metadata."""
        return self._url.render_as_string(hide_password=True)

    @property
    def is_duckdb(self) -> bool:
        """True for the embedded DuckDB file (one writer at a time)."""
        return self.dialect == "duckdb"

    @property
    def duckdb_path(self) -> str | None:
        """The DuckDB file path as given in the URL (None for PostgreSQL)."""
        return self._url.database if self.dialect == "duckdb" else None

    def _duckdb_file(self) -> Path:
        """The DuckDB file, its folder created (a fresh checkout has no `data/`), for the
        two ways this process opens it: the engine and a dlt run's held connection."""
        path = Path(self.duckdb_path).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    @cached_property
    def engine(self) -> Engine:
        """The SQLAlchemy engine.

        DuckDB connections are not pooled: a held connection would keep the file's
        single-writer lock while dlt loads into the same file.
        """
        if self.is_duckdb:
            self._duckdb_file()
            engine = sa.create_engine(self._url, poolclass=NullPool)
            sa.event.listen(engine, "connect", _apply_duckdb_settings)
            return engine
        url = self._url.set(drivername="postgresql+psycopg2")
        return sa.create_engine(
            url, pool_pre_ping=True, connect_args={"options": POSTGRES_SESSION_OPTIONS}
        )

    @contextmanager
    def dlt_destination(self) -> Iterator[Any]:
        """The dlt destination that loads into this same database, for one dlt run.

        DuckDB: one connection to the file, held until the block ends, which dlt's load jobs
        share (dlt's own pool opened the file for each job and closed it after, a checkpoint
        each time: about 0.7 s of fixed cost per run; docs/performance-log.md, "Session 16").
        Nothing else of this process may open the file meanwhile: DuckDB refuses a second
        instance with other settings.
        """
        import dlt

        if not self.is_duckdb:
            from dlt.destinations.impl.postgres.configuration import PostgresCredentials

            credentials = PostgresCredentials()
            credentials.parse_native_representation(
                self._url.set(drivername="postgresql").render_as_string(hide_password=False)
            )
            # dlt insists on a password; servers with trust or peer auth need none.
            credentials.password = credentials.password or ""
            yield dlt.destinations.postgres(credentials=credentials)
            return

        import duckdb
        from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

        connection = duckdb.connect(str(self._duckdb_file()))
        try:
            credentials = DuckDbCredentials(
                connection,
                global_config={"memory_limit": DLT_DUCKDB_MEMORY_LIMIT,
                               "preserve_insertion_order": False},
            )
            yield dlt.destinations.duckdb(credentials=credentials)
        finally:
            connection.close()

    @contextmanager
    def writer_lock(self, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
        """Hold this warehouse's writer lock for the block: one `helpdesk-etl run` (or demo)
        at a time writes to it, whichever process or machine it runs on. Two runs at once
        would rebuild the same tables and share dlt's working folders (on PostgreSQL they
        failed on each other's schemas and tables; on DuckDB the second failed on the file).

        DuckDB: a lock file beside the database (`<file>.lock`). PostgreSQL: a session-level
        advisory lock on a connection of its own, in autocommit (no transaction stays open;
        a vanished holder's lock ends with its connection). A held lock is waited for, after
        `on_wait` is told so in a sentence that names the warehouse (never its password).
        """
        waiting = (f"another run is writing to {self.display_url}; waiting for it to end")
        if self.is_duckdb:
            from filelock import FileLock, Timeout

            lock = FileLock(f"{self._duckdb_file()}.lock")
            try:
                lock.acquire(timeout=0)
            except Timeout:
                if on_wait is not None:
                    on_wait(waiting)
                lock.acquire()
            try:
                yield
            finally:
                lock.release()
            return
        with self.engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            lock = {"key": WRITER_LOCK_KEY}
            if not connection.execute(sa.text("SELECT pg_try_advisory_lock(:key)"),
                                      lock).scalar():
                if on_wait is not None:
                    on_wait(waiting)
                connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), lock)
            try:
                yield
            finally:
                connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), lock)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction: everything inside commits together or not at all."""
        with self.engine.begin() as connection:
            yield connection

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run one statement in its own transaction."""
        with self.transaction() as connection:
            connection.execute(sa.text(sql), dict(params or {}))

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a query and return its rows as dicts."""
        with self.engine.connect() as connection:
            result = connection.execute(sa.text(sql), dict(params or {}))
            return [dict(row._mapping) for row in result]

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        """Run a query that returns one value."""
        with self.engine.connect() as connection:
            return connection.execute(sa.text(sql), dict(params or {})).scalar()

    def ensure_schemas(self, *schemas: str) -> None:
        """Create the given schemas (default: staging and marts) if they are missing."""
        preparer = self.engine.dialect.identifier_preparer
        with self.transaction() as connection:
            for schema in schemas or SCHEMAS:
                connection.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {preparer.quote(schema)}"))

    def _catalog(self, lookup: str, schema: str, name: str,
                 connection: Connection | None) -> list[Any]:
        """The first column of `_CATALOG[dialect][lookup]`'s rows for `schema.name`, asked on
        `connection` (inside a transaction: it sees the transaction's own changes, and no
        other connection is opened) or on a new one."""
        if connection is None:
            with self.engine.connect() as own:
                return self._catalog(lookup, schema, name, own)
        return list(connection.execute(sa.text(_CATALOG[self.dialect][lookup]),
                                       {"schema": schema, "name": name}).scalars())

    def relation_kind(self, schema: str, name: str,
                      connection: Connection | None = None) -> str | None:
        """`BASE TABLE` or `VIEW` for the relation `schema.name`, None when there is none."""
        kinds = self._catalog("kind", schema, name, connection)
        return kinds[0] if kinds else None

    def table_exists(self, schema: str, table: str,
                     connection: Connection | None = None) -> bool:
        """Whether `schema.table` exists (a table or a view)."""
        return self.relation_kind(schema, table, connection) is not None

    def columns(self, schema: str, table: str,
                connection: Connection | None = None) -> list[str]:
        """The column names of `schema.table`, in order."""
        return self._catalog("columns", schema, table, connection)

    def quote(self, identifier: str) -> str:
        """Quote an identifier for this dialect (names never reach SQL unquoted)."""
        return self.engine.dialect.identifier_preparer.quote(identifier)

    def dispose(self) -> None:
        """Close pooled connections (and release the DuckDB file)."""
        if "engine" in self.__dict__:
            self.engine.dispose()
