"""The fault suite's table at the end of the pytest session (shown even without `-s`)."""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

import pytest

from tests.faults.report import ROWS, FaultRow, format_table


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Under pytest-xdist, a worker hands its rows to the controller, which prints them."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["fault_rows"] = [asdict(row) for row in ROWS]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """The controller collects a finished worker's rows (pytest-xdist)."""
    ROWS.extend(FaultRow(**row) for row in getattr(node, "workeroutput", {}).get("fault_rows", []))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the fault table, and write it to `$FAULT_SUITE_TABLE` if set."""
    if not ROWS:
        return
    table = format_table(ROWS)
    terminalreporter.write_sep("=", "fault suite")
    for line in table.splitlines():
        terminalreporter.write_line(line)
    target = os.environ.get("FAULT_SUITE_TABLE")
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(table + "\n", encoding="utf-8")
        terminalreporter.write_line(f"(written to {target})")
