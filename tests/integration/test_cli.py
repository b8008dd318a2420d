"""The command line: exit codes and one-line reasons that never show a secret."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest

from pipelines.cli import main
from sandbox import Sandbox
from sandbox.world import Comment, Ticket, Update, User, World
from tests.integration.pipeline_runner import configure


def tiny_world() -> World:
    at = datetime(2025, 6, 2, 9, tzinfo=UTC)
    return World(
        users=[User(1, "Ana", "ana@example.com", role="agent"), User(2, "Bo", "bo@example.com")],
        tickets=[Ticket(1, at, 2, updates=[Update(at, 2, status="new", comment=Comment("hi"))])],
    )


def test_run_without_a_source_says_what_to_set(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    for name in ("ZENDESK_API_TOKEN", "ZENDESK_OAUTH_TOKEN", "HUBSPOT_ACCESS_TOKEN",
                 "SALESFORCE_ACCESS_TOKEN", "SALESFORCE_INSTANCE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert main(["run", "--start", "2025-06-02", "--end", "2025-06-03"]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("helpdesk-etl: error: no source is configured")
    assert "\n" not in error


def test_bad_settings_and_ranges_fail_on_one_line(monkeypatch, tmp_path, duckdb_url, capsys):
    with Sandbox(tiny_world(), port=0) as sandbox:
        configure(monkeypatch, tmp_path, sandbox, duckdb_url, datetime(2025, 6, 2).date())
        assert main(["run", "--start", "2025-06-05", "--end", "2025-06-03"]) == 1
        assert "must be after" in capsys.readouterr().err
        assert main(["run", "--start", "2025-05-01", "--end", "2025-06-03"]) == 1
        assert "before PIPELINE_START_DATE" in capsys.readouterr().err
        future = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
        assert main(["run", "--start", "2025-06-02", "--end", future]) == 1
        assert "have not happened yet" in capsys.readouterr().err
        monkeypatch.setenv("WAREHOUSE_URL", "mysql://root@localhost/db")
        assert main(["run", "--start", "2025-06-02", "--end", "2025-06-03"]) == 1
        assert "WAREHOUSE_URL" in capsys.readouterr().err


def test_rejected_credentials_fail_clearly_without_the_token(
    monkeypatch, tmp_path, duckdb_url, capsys
):
    with Sandbox(tiny_world(), port=0) as sandbox:
        configure(monkeypatch, tmp_path, sandbox, duckdb_url, datetime(2025, 6, 2).date())
        monkeypatch.setenv("ZENDESK_API_TOKEN", "wrong-token-0123456789")
        assert main(["run", "--start", "2025-06-02", "--end", "2025-06-03"]) == 1
    captured = capsys.readouterr()
    error_lines = [line for line in captured.err.splitlines()
                   if line.startswith("helpdesk-etl: error:")]
    assert len(error_lines) == 1
    assert "zendesk" in error_lines[0].lower() and "401" in error_lines[0]
    assert "wrong-token-0123456789" not in captured.out + captured.err


def test_run_succeeds_with_exit_code_zero(monkeypatch, tmp_path, duckdb_url, capsys):
    with Sandbox(tiny_world(), port=0) as sandbox:
        configure(monkeypatch, tmp_path, sandbox, duckdb_url, datetime(2025, 6, 2).date())
        assert main(["run", "--start", "2025-06-02", "--end", "2025-06-03"]) == 0
    assert "loaded and refreshed 2025-06-02 .. 2025-06-03" in capsys.readouterr().out


def test_a_range_run_records_every_day_with_one_planned_event_per_asset(
    monkeypatch, tmp_path, duckdb_url
):
    """A run over several days (a backfill) plans each asset once for the whole range
    (`DAGSTER_ENVIRONMENT`), yet Dagster still records every day of every partitioned asset
    as materialized; the variable is not left in the environment afterwards."""
    import os

    import dagster as dg

    from pipelines.cli import DAGSTER_ENVIRONMENT, run_partitions
    from pipelines.schedules import NIGHTLY_JOB

    monkeypatch.delenv("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", raising=False)
    days = ["2025-06-02", "2025-06-03", "2025-06-04"]
    with Sandbox(tiny_world(), port=0) as sandbox:
        configure(monkeypatch, tmp_path, sandbox, duckdb_url, datetime(2025, 6, 2).date())
        with dg.DagsterInstance.ephemeral() as instance:
            run_partitions(datetime(2025, 6, 2).date(), datetime(2025, 6, 5).date(),
                           "WARNING", instance)
            nightly = next(r for r in instance.get_runs() if r.job_name == NIGHTLY_JOB)
            planned = [
                record.event_log_entry.dagster_event.event_specific_data.asset_key
                for record in instance.get_records_for_run(
                    nightly.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
                    limit=10_000).records
            ]
            partitioned = [key for key in set(planned)
                           if key.path[0].startswith("raw_") or key.path[-1].endswith("_daily")]
            materialized = {key: instance.get_materialized_partitions(key)
                            for key in partitioned}
    assert len(planned) == len(set(planned))
    assert dg.AssetKey(["raw_zendesk", "tickets"]) in partitioned
    assert dg.AssetKey(["marts", "support_daily"]) in partitioned
    assert all(set(days) <= partitions for partitions in materialized.values()), materialized
    assert not set(DAGSTER_ENVIRONMENT) & set(os.environ)


def test_a_taken_port_fails_on_one_line(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["sandbox", "--port", str(port), "--tickets", "5", "--days", "1"]) == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith(f"helpdesk-etl: error: cannot serve on 127.0.0.1:{port}")


@pytest.mark.parametrize(("option", "value"), [("--days", "0"), ("--tickets", "-5")])
def test_world_sizes_are_checked_by_the_parser(capsys, option, value):
    with pytest.raises(SystemExit) as exited:
        main(["demo", option, value])
    assert exited.value.code == 2
    assert f"argument {option}: {int(value)} is less than" in capsys.readouterr().err
