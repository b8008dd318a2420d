"""Result tables a test suite prints at the end of the session, also under pytest-xdist.

The fault suite and the kill-and-rerun suite each print a table after the last test. Under
pytest-xdist their tests run in worker processes, whose end-of-session output nobody sees,
and the controller never loads those suites' conftest files. So a worker hands its table
over (`hand_over`, from the suite's `pytest_sessionfinish`), and the root conftest collects
it when the worker finishes (`receive`) and prints it (`print_tables`).
"""

from __future__ import annotations

import pytest

#: Tables received from workers, in the controller: title -> lines.
TABLES: dict[str, list[str]] = {}

_KEY = "session_tables"


def hand_over(session: pytest.Session, title: str, lines: list[str]) -> None:
    """In an xdist worker, give the controller `lines` to print under `title`."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None and lines:
        workeroutput.setdefault(_KEY, {})[title] = list(lines)


def receive(node: object) -> None:
    """In the controller, keep the tables a finished worker handed over."""
    for title, lines in getattr(node, "workeroutput", {}).get(_KEY, {}).items():
        TABLES.setdefault(title, []).extend(lines)


def print_table(terminalreporter: pytest.TerminalReporter, title: str, lines: list[str]) -> None:
    """One table under a `===== title =====` line."""
    terminalreporter.write_sep("=", title)
    for line in lines:
        terminalreporter.write_line(line)


def print_tables(terminalreporter: pytest.TerminalReporter) -> None:
    """Every table received from workers."""
    for title, lines in TABLES.items():
        print_table(terminalreporter, title, lines)
