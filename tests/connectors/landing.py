"""Shared by the connector tests: a dlt pipeline into a throw-away DuckDB, and queries on it."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import dlt

from connectors.http import ApiError

_pipeline_names = itertools.count()


def new_pipeline(tmp_path: Path, dataset: str) -> dlt.Pipeline:
    """A dlt pipeline into a DuckDB file under `tmp_path`, landing in schema `dataset`."""
    return dlt.pipeline(
        pipeline_name=f"{dataset}_test_{next(_pipeline_names)}",
        pipelines_dir=str(tmp_path / "dlt"),
        destination=dlt.destinations.duckdb(str(tmp_path / "warehouse.duckdb")),
        dataset_name=dataset,
    )


def query(pipeline: dlt.Pipeline, sql: str, *params: Any) -> list[tuple]:
    """Rows of `sql` (`%s` placeholders for `params`), run in the pipeline's dataset."""
    with pipeline.sql_client() as client:
        return [tuple(row) for row in client.execute_sql(sql, *params)]


def counts(pipeline: dlt.Pipeline) -> dict[str, int]:
    """Row count of every landed table."""
    tables = query(
        pipeline,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
        "AND NOT starts_with(table_name, '_dlt')",
        pipeline.dataset_name,
    )
    return {t: query(pipeline, f'SELECT count(*) FROM "{t}"')[0][0] for (t,) in tables}


def columns(pipeline: dlt.Pipeline, table: str) -> dict[str, str]:
    """Column name -> DuckDB type of a landed table."""
    return dict(
        query(
            pipeline,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s",
            pipeline.dataset_name,
            table,
        )
    )


def quarantined(pipeline: dlt.Pipeline) -> list[dict[str, Any]]:
    """Every row of the dataset's `_quarantine` table (none if it does not exist)."""
    names = ("quarantine_id", "source", "endpoint", "table_name", "record_id", "column_name",
             "reason", "record", "loaded_at")
    exists = query(
        pipeline,
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s "
        "AND table_name = '_quarantine'",
        pipeline.dataset_name,
    )[0][0]
    if not exists:
        return []
    rows = query(pipeline, f"SELECT {', '.join(names)} FROM _quarantine ORDER BY quarantine_id")
    return [dict(zip(names, row, strict=True)) for row in rows]


def root_error(exc: BaseException) -> BaseException:
    """The connector error behind a failed pipeline step (else the exception itself)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ApiError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return exc


def api_error_in(exc: BaseException) -> ApiError:
    """The connector error at the root of a failed pipeline step."""
    error = root_error(exc)
    if not isinstance(error, ApiError):
        raise AssertionError(f"no ApiError behind {exc!r}")
    return error
