"""The fault suite's table at the end of the pytest session (shown even without `-s`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import session_tables
from tests.faults.report import ROWS, format_table

TITLE = "fault suite"


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the table to `$FAULT_SUITE_TABLE` if set, and hand it to the xdist controller."""
    if not ROWS:
        return
    table = format_table(ROWS)
    target = os.environ.get("FAULT_SUITE_TABLE")
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(table + "\n", encoding="utf-8")
    session_tables.hand_over(session, TITLE, table.splitlines())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the fault table (without xdist; with it, the root conftest prints it)."""
    if ROWS:
        session_tables.print_table(terminalreporter, TITLE, format_table(ROWS).splitlines())
