"""The same helpdesk loaded into DuckDB and into PostgreSQL gives the same marts, row for row."""

from __future__ import annotations

from datetime import date, timedelta

from sandbox import generate_world
from tests.integration.pipeline_runner import run_world, table_snapshot

LAST_DAY = date(2025, 6, 30)
DAYS = 10


def _rounded(rows: list[tuple]) -> list[tuple]:
    """Floats rounded to 6 places: the engines may differ in the last bits of a division."""
    return [tuple(round(v, 6) if isinstance(v, float) else v for v in row) for row in rows]


def test_duckdb_and_postgres_agree(monkeypatch, tmp_path, duckdb_url, postgres_url):
    world = generate_world(seed=7, tickets=300, days=DAYS, end_date=LAST_DAY)
    start, end = LAST_DAY - timedelta(days=DAYS - 1), LAST_DAY + timedelta(days=1)
    duck = run_world(monkeypatch, tmp_path / "duck", world, duckdb_url, start, end)
    pg = run_world(monkeypatch, tmp_path / "pg", world, postgres_url, start, end)
    for table in ("ticket_metrics", "support_daily", "backlog_daily", "handle_time_daily"):
        duck_rows = _rounded(table_snapshot(duck, "marts", table))
        pg_rows = _rounded(table_snapshot(pg, "marts", table))
        assert len(duck_rows) > 0, table
        assert duck_rows == pg_rows, table
