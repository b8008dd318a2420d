"""Fixtures of the kill-and-rerun suite, and its summary table at the end of the session."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox import Sandbox, World, generate_world
from tests import session_tables
from tests.crash.harness import DAYS, LAST_DAY, OUTCOMES, Snapshot, scratch_root, summary_table


@pytest.fixture(scope="session")
def crash_world() -> World:
    """The seeded world every run of the suite loads (the same for killed runs and baselines)."""
    return generate_world(seed=7, tickets=300, days=DAYS, end_date=LAST_DAY)


@pytest.fixture(scope="session")
def crash_sandbox(crash_world: World) -> Iterator[Sandbox]:
    """The sandbox the CLI subprocesses call over HTTP (no rate limits: the runs are the
    subject here, not the vendors' throttling)."""
    with Sandbox(crash_world, port=0, rate_limit_per_minute=None,
                 incremental_rate_limit_per_minute=None, hubspot_rate_limit_per_10s=None,
                 hubspot_search_rate_limit_per_second=None,
                 freshdesk_rate_limit_per_minute=None) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def dagster_homes() -> Iterator[Path]:
    """Where the runs keep their Dagster instances (a RAM disk if any; removed at the end)."""
    root = scratch_root()
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def baselines() -> dict[str, Snapshot]:
    """Per engine, the warehouse of one uninterrupted run (filled by the first test needing it)."""
    return {}


TITLE = "kill-and-rerun: re-run warehouse vs uninterrupted run"


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Under pytest-xdist, hand the summary table to the controller, which prints it."""
    if OUTCOMES:
        session_tables.hand_over(session, TITLE, summary_table(OUTCOMES).splitlines())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Kill point x engine: tables and rows compared, differences (shown even without -s;
    under xdist the root conftest prints it)."""
    if OUTCOMES:
        session_tables.print_table(terminalreporter, TITLE, summary_table(OUTCOMES).splitlines())
