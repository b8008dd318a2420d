"""Shared fixtures: fresh warehouses on DuckDB and (when reachable) PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests import session_tables

#: Where the PostgreSQL tests connect to create (and drop) a throw-away database each.
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _admin_engine(**kwargs) -> sa.Engine:
    # psycopg2 is the driver dlt uses too (SQLAlchemy 2.1 would default to psycopg 3).
    url = sa.engine.make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql+psycopg2")
    return sa.create_engine(url, **kwargs)


def _postgres_unreachable_reason() -> str | None:
    try:
        engine = _admin_engine(connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # any failure to connect means: skip, and say why
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL} ({first_line})"
    return None


_POSTGRES_SKIP_REASON = _postgres_unreachable_reason()


@pytest.fixture
def duckdb_url(tmp_path) -> str:
    """A fresh DuckDB warehouse file."""
    return f"duckdb:///{tmp_path / 'warehouse.duckdb'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards; skipped when no server is reachable."""
    if _POSTGRES_SKIP_REASON:
        pytest.skip(_POSTGRES_SKIP_REASON)
    name = f"helpdesk_etl_test_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse_url(request) -> str:
    """Each test using this runs once on DuckDB and once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """pytest-xdist: keep the result tables a finished worker handed over."""
    session_tables.receive(node)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the result tables of the fault and kill-and-rerun suites run by xdist workers."""
    session_tables.print_tables(terminalreporter)
