"""The CLI's DAGSTER_HOME gets the project's dagster.yaml, kept current (an earlier copy is
replaced: the run queue changed), while a file of the user's own is left alone."""

from __future__ import annotations

from pipelines.cli import REPO_ROOT, _dagster_home

PROJECT = (REPO_ROOT / "dagster.yaml").read_text()


def test_a_new_home_gets_the_projects_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    assert (_dagster_home() / "dagster.yaml").read_text() == PROJECT


def test_an_earlier_copy_is_replaced_and_a_users_file_is_kept(monkeypatch, tmp_path):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    config = tmp_path / "dagster.yaml"
    first_line = PROJECT.partition("\n")[0]
    config.write_text(f"{first_line}\nrun_queue:\n  max_concurrent_runs: 4\n")
    _dagster_home()
    assert config.read_text() == PROJECT
    config.write_text("run_queue:\n  max_concurrent_runs: 2\n")
    _dagster_home()
    assert config.read_text() == "run_queue:\n  max_concurrent_runs: 2\n"
