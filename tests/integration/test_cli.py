"""The command line: exit codes and one-line reasons that never show a secret."""

from __future__ import annotations

from datetime import UTC, datetime

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
