"""The code location's executor: Dagster's own, run under the warehouse's writer lock.

A run the UI's daemon launches (a schedule's, a backfill's, a "Materialize") executes the
job's executor in its run worker; `helpdesk-etl run` executes in-process, which takes no
executor from the job, and holds the same lock itself (`pipelines.cli.run_partitions`).
So a run from the UI and one from the command line into the same warehouse wait for each
other instead of failing on the DuckDB file's lock or rebuilding the same PostgreSQL tables
at once. The daemon's queue (`dagster.yaml`, `max_concurrent_runs: 1`) already keeps its
own runs apart; the lock covers the runs it does not see.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg

from warehouse import Warehouse


class WriterLockedExecutor(dg.Executor):
    """`inner`, holding `Warehouse.writer_lock` while it executes a plan: the whole run, as
    the run worker executes one plan per run."""

    def __init__(self, inner: dg.Executor, warehouse_url: str):
        self._inner = inner
        self._warehouse_url = warehouse_url

    @property
    def retries(self):
        return self._inner.retries

    @property
    def step_dependency_config(self):
        return self._inner.step_dependency_config

    def execute(self, plan_context, execution_plan) -> Iterator[dg.DagsterEvent]:
        warehouse = Warehouse(self._warehouse_url)
        try:
            with warehouse.writer_lock(on_wait=plan_context.log.info):
                yield from self._inner.execute(plan_context, execution_plan)
        finally:
            warehouse.dispose()


def writer_locked(base: dg.ExecutorDefinition, warehouse_url: str) -> dg.ExecutorDefinition:
    """`base` (same name, configuration and requirements) whose executors hold the writer
    lock of the warehouse at `warehouse_url`. The URL stays out of the executor's
    configuration, which the UI shows with every run."""

    def create(init_context: dg.InitExecutorContext) -> dg.Executor:
        return WriterLockedExecutor(base.executor_creation_fn(init_context), warehouse_url)

    return dg.ExecutorDefinition(
        name=base.name,
        config_schema=base.config_schema,
        requirements=base.get_requirements,
        executor_creation_fn=create,
        description=base.description,
    )
