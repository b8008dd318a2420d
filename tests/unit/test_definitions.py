"""The Dagster definitions load, and every asset, check, job and schedule resolves."""

from __future__ import annotations

import dagster as dg
import pytest

from pipelines.definitions import build_definitions
from pipelines.schedules import NIGHTLY_JOB
from pipelines.settings import Settings
from transforms import INTERMEDIATE_MODELS, MART_MODELS, STAGING_MODELS

ZENDESK_ENV = {
    "ZENDESK_SUBDOMAIN": "acme",
    "ZENDESK_EMAIL": "ops@acme.example",
    "ZENDESK_API_TOKEN": "secret-token-value",
    "PIPELINE_START_DATE": "2025-01-01",
    "REPORTING_TIMEZONE": "America/New_York",
}


@pytest.fixture
def defs(tmp_path) -> dg.Definitions:
    env = {**ZENDESK_ENV, "WAREHOUSE_URL": f"duckdb:///{tmp_path / 'w.duckdb'}"}
    return build_definitions(Settings.from_env(env))


def test_every_asset_job_and_schedule_resolves(defs):
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    expected_raw = {f"raw_zendesk/{t}" for t in (
        "tickets", "ticket_events", "users", "organizations", "groups", "schedules",
        "schedule_holidays", "satisfaction_ratings", "calls")}
    expected_models = {f"{m.schema}/{m.name}"
                       for m in (*STAGING_MODELS, *INTERMEDIATE_MODELS, *MART_MODELS)}
    assert keys == expected_raw | expected_models
    job = defs.resolve_job_def(NIGHTLY_JOB)
    assert job.partitions_def is not None
    schedule = defs.resolve_schedule_def(f"{NIGHTLY_JOB}_schedule")
    assert schedule.cron_schedule == "30 1 * * *"
    assert schedule.execution_timezone == "America/New_York"
    for key in graph.get_all_asset_keys():
        graph.get(key)  # resolves


def test_raw_assets_are_daily_partitioned_in_the_reporting_timezone(defs):
    graph = defs.resolve_asset_graph()
    tickets = graph.get(dg.AssetKey(["raw_zendesk", "tickets"]))
    partitions = tickets.partitions_def
    assert isinstance(partitions, dg.DailyPartitionsDefinition)
    assert partitions.timezone == "America/New_York"
    assert partitions.get_first_partition_key() == "2025-01-01"
    assert graph.get(dg.AssetKey(["marts", "ticket_metrics"])).partitions_def is None


def test_mart_dependencies_are_read_off_the_sql(defs):
    graph = defs.resolve_asset_graph()
    parents = {k.to_user_string()
               for k in graph.get(dg.AssetKey(["staging", "messages"])).parent_keys}
    # The author role comes from the canonical users (a change of agents rebuilds messages).
    assert parents == {"raw_zendesk/ticket_events", "staging/users"}


def test_grain_checks_exist_for_every_model(defs):
    checks = {(c.asset_key.to_user_string(), c.name)
              for c in defs.resolve_asset_graph().asset_check_keys}
    for model in (*STAGING_MODELS, *INTERMEDIATE_MODELS, *MART_MODELS):
        assert (f"{model.schema}/{model.name}", "grain_is_unique") in checks


def test_unconfigured_source_is_left_out(tmp_path, caplog):
    env = {"WAREHOUSE_URL": f"duckdb:///{tmp_path / 'w.duckdb'}"}
    with caplog.at_level("INFO", logger="helpdesk_etl"):
        defs = build_definitions(Settings.from_env(env))
    assert not list(defs.resolve_asset_graph().get_all_asset_keys())
    assert "zendesk is not configured" in caplog.text


def test_secrets_are_env_vars_in_the_resource_config(monkeypatch, tmp_path):
    for name, value in ZENDESK_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WAREHOUSE_URL", f"duckdb:///{tmp_path / 'w.duckdb'}")
    defs = build_definitions(Settings.from_env())
    zendesk = defs.resources["zendesk"]
    assert isinstance(zendesk.api_token, dg.EnvVar)
    assert "secret-token-value" not in repr(zendesk)


def test_workspace_loads_the_code_location():
    """`dagster dev` reads workspace.yaml: it must name the module that holds `defs`."""
    import pathlib

    import yaml

    workspace = yaml.safe_load(
        (pathlib.Path(__file__).parents[2] / "workspace.yaml").read_text()
    )
    module = workspace["load_from"][0]["python_module"]["module_name"]
    assert module == "pipelines.definitions"


def test_monthly_revenue_job_and_schedule(defs):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    from pipelines.schedules import MONTHLY_JOB

    monthly = defs.resolve_job_def(MONTHLY_JOB)
    assert isinstance(monthly.partitions_def, dg.MonthlyPartitionsDefinition)
    nightly_keys = {k.to_user_string()
                    for k in defs.resolve_job_def(NIGHTLY_JOB).asset_layer.selected_asset_keys}
    assert "marts/churn_monthly" not in nightly_keys
    assert "marts/customer_lifetime_value" not in nightly_keys
    assert "marts/support_daily" in nightly_keys

    # Every month, in one run over the range of month partitions (a deal won today may have
    # started months ago).
    schedule = defs.resolve_schedule_def(f"{MONTHLY_JOB}_schedule")
    zone = ZoneInfo("America/New_York")
    repository = defs.get_repository_def()
    first = monthly.partitions_def.get_first_partition_key()
    for day, last in ((datetime(2025, 3, 15, 2, 30, tzinfo=zone), "2025-03-01"),
                      (datetime(2025, 4, 1, 2, 30, tzinfo=zone), "2025-04-01")):
        context = dg.build_schedule_context(scheduled_execution_time=day,
                                            repository_def=repository)
        [request] = schedule.evaluate_tick(context).run_requests
        assert request.partition_key is None
        assert (request.tags[ASSET_PARTITION_RANGE_START_TAG],
                request.tags[ASSET_PARTITION_RANGE_END_TAG]) == (first, last)


@pytest.mark.parametrize("url", ["duckdb:///{tmp}/w.duckdb",
                                 "postgresql+psycopg://postgres@127.0.0.1:5432/test"])
def test_runs_execute_their_steps_in_one_process_on_either_engine(tmp_path, url):
    # A process per step (Dagster's multiprocess executor) cost PostgreSQL's nightly job
    # 100 s on a 200-ticket world, 11 s in-process (pipelines.definitions).
    env = {**ZENDESK_ENV, "WAREHOUSE_URL": url.format(tmp=tmp_path)}
    job = build_definitions(Settings.from_env(env)).resolve_job_def(NIGHTLY_JOB)
    assert job.executor_def.name == "in_process"
