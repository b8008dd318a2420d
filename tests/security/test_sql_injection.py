"""Hostile configuration values, partition keys and identifiers never reach SQL unquoted.

Values are either rejected as configuration errors before any SQL runs, or travel as bind
parameters; identifiers go through `Warehouse.quote`. A static audit of the code's f-string
SQL guards the rule for code written later.
"""

from __future__ import annotations

import ast
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from pipelines.cli import main, run_partitions
from pipelines.settings import ConfigurationError, Settings
from tests.integration.pipeline_runner import run_world, table_snapshot
from tests.integration.test_ticket_metrics import END, START, hand_built_world
from transforms.runner import replace_date_range, replace_table
from warehouse import Warehouse

DROP = "'; DROP TABLE staging.tickets; --"
REPO = Path(__file__).resolve().parents[2]


def staging_tickets(warehouse: Warehouse) -> list[tuple]:
    assert warehouse.table_exists("staging", "tickets")
    return table_snapshot(warehouse, "staging", "tickets")


def test_hostile_values_from_the_pipeline_side_drop_nothing(
    monkeypatch, tmp_path, warehouse_url, capsys
):
    warehouse = run_world(monkeypatch, tmp_path, hand_built_world(), warehouse_url, START, END)
    before = staging_tickets(warehouse)
    assert before

    # A time zone carrying SQL: a configuration error naming the variable, before any SQL.
    monkeypatch.setenv("REPORTING_TIMEZONE", f"UTC{DROP}")
    with pytest.raises(ConfigurationError, match="REPORTING_TIMEZONE"):
        run_partitions(START, END)
    assert main(["run", "--start", START.isoformat(), "--end", END.isoformat()]) == 1
    assert "REPORTING_TIMEZONE" in capsys.readouterr().err
    monkeypatch.setenv("REPORTING_TIMEZONE", "UTC")

    # A partition key carrying SQL (a hand-made run tag, as a UI or API caller could send):
    # Dagster refuses it as a date before the run starts; nothing reaches the warehouse.
    from pipelines.definitions import build_definitions
    from pipelines.schedules import NIGHTLY_JOB

    job = build_definitions(Settings.from_env()).resolve_job_def(NIGHTLY_JOB)
    with dg.DagsterInstance.ephemeral() as instance, pytest.raises(
        ValueError, match="does not match format"
    ):
        job.execute_in_process(
            instance=instance, raise_on_error=False,
            tags={ASSET_PARTITION_RANGE_START_TAG: f"2025-06-02{DROP}",
                  ASSET_PARTITION_RANGE_END_TAG: "2025-06-03"},
        )
    assert staging_tickets(warehouse) == before

    # Bind parameters: the same text as a parameter value of a transform lands verbatim.
    replace_table(warehouse, "marts", "hostile_value",
                  "SELECT CAST(:reporting_timezone AS VARCHAR(200)) AS tz",
                  {"reporting_timezone": f"UTC{DROP}"})
    assert warehouse.scalar("SELECT tz FROM marts.hostile_value") == f"UTC{DROP}"
    assert staging_tickets(warehouse) == before
    warehouse.dispose()


@pytest.mark.parametrize("variable, value", [
    ("HUBSPOT_MRR_PROPERTY", f"hs_mrr{DROP}"),
    ("HUBSPOT_SEGMENT_PROPERTY", "industry, (SELECT 1)"),
    ("HUBSPOT_WON_STAGES", f"closedwon,x{DROP}"),
    ("SALESFORCE_CONTRACT_TERM_FIELD", "Term__c FROM User --"),
    ("SALESFORCE_SEGMENT_FIELD", "Industry' OR '1'='1"),
    ("REPORTING_TIMEZONE", f"UTC{DROP}"),
    ("PIPELINE_START_DATE", f"2025-06-01{DROP}"),
    ("LAND_FREE_TEXT", f"true{DROP}"),
    ("GROSS_MARGIN", "0.8); DROP TABLE x; --"),
])
def test_settings_that_reach_a_query_reject_sql(variable, value):
    env = {"HUBSPOT_ACCESS_TOKEN": "x", "SALESFORCE_INSTANCE_URL": "https://example.my",
           "SALESFORCE_ACCESS_TOKEN": "x", variable: value}
    with pytest.raises(ConfigurationError, match=variable) as error:
        Settings.from_env(env)
    assert "\n" not in str(error.value)


def test_identifiers_with_quotes_go_through_quote(warehouse_url):
    """Schema, table and column names with quotes and SQL in them are just names."""
    warehouse = Warehouse(warehouse_url)
    replace_table(warehouse, "staging", "tickets", "SELECT 1 AS id")
    schema, table, column = 'we"ird; schema', f'tab"le{DROP}', 'da"y'
    warehouse.ensure_schemas(schema)
    assert replace_table(warehouse, schema, table, "SELECT 1 AS x") == 1
    replace_date_range(warehouse, schema, "daily", "SELECT CAST(:range_start AS DATE) AS "
                       f"{warehouse.quote(column)}", column, "2025-06-01", "2025-06-02")
    assert warehouse.table_exists(schema, table)
    assert warehouse.columns(schema, "daily") == [column]
    assert table_snapshot(warehouse, schema, table) == [(1,)]
    assert warehouse.scalar("SELECT count(*) FROM staging.tickets") == 1
    warehouse.dispose()


# --- static audit -----------------------------------------------------------------------------

#: Functions whose first argument is SQL text.
SQL_CALLS = {"text", "exec_driver_sql", "query", "scalar", "execute"}
#: Calls that quote an identifier (Warehouse.quote, its local alias, the dialect's preparer).
QUOTING_CALLS = {"quote", "q", "_qualified"}
#: Local names that only ever hold quote()d identifiers or the repository's own SQL files,
#: by file. Each was checked by reading its assignment; a new name has to be checked too.
TRUSTED_NAMES = {
    "pipelines/checks.py": {"columns", "table"},  # ", ".join(quote(c)...), quote(s).quote(t)
    # table: quote(schema).quote(constant); placeholders: ":load_0, :load_1" bind names
    "pipelines/raw.py": {"table", "placeholders"},
    "pipelines/cli.py": {"in_unsolved"},  # generated bind-parameter names (:unsolved_0, ...)
    "transforms/runner.py": {"target", "column", "select_sql", "in_scope"},  # quoted; SQL
    # files; the scope condition: constant column names and the scope table's constant name
    # quoted table names; SQL files of the repository (changes_sql, changed: the change log
    # query and Model.as_of_scope_sql); the scope table's constant name
    # and the state table's added columns and their types (a literal tuple of constants)
    "transforms/incremental.py": {"table", "state_table", "changes", "target", "changes_sql",
                                  "changed", "SCOPE_TABLE", "column", "column_type"},
    "warehouse/bi_role.py": {"db", "marts", "default", "attributes"},  # quoted; constants
}


def _interpolations(tree: ast.AST):
    """(call name, line, interpolated expression) of every f-string passed as SQL text."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name not in SQL_CALLS:
            continue
        for part in ast.walk(node.args[0]):
            if isinstance(part, ast.JoinedStr):
                for value in part.values:
                    if isinstance(value, ast.FormattedValue):
                        yield name, node.lineno, value.value


def _is_safe(expression: ast.expr, trusted: set[str]) -> bool:
    if isinstance(expression, ast.Call):
        func = expression.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        return name in QUOTING_CALLS
    if isinstance(expression, ast.Name):
        return expression.id in trusted
    if isinstance(expression, ast.IfExp):  # 'ALTER' if exists else 'CREATE'
        return all(isinstance(side, ast.Constant) for side in (expression.body, expression.orelse))
    return False


def test_every_f_string_sql_piece_is_quoted_or_constant():
    unsafe, seen = [], 0
    for package in ("connectors", "pipelines", "transforms", "warehouse"):
        for path in sorted((REPO / package).rglob("*.py")):
            relative = path.relative_to(REPO).as_posix()
            trusted = TRUSTED_NAMES.get(relative, set())
            for name, line, expression in _interpolations(ast.parse(path.read_text())):
                seen += 1
                if not _is_safe(expression, trusted):
                    unsafe.append(f"{relative}:{line} {name}(f'...{{{ast.unparse(expression)}}}')")
    assert seen > 20  # the audit does see the code's SQL
    assert not unsafe, "interpolated SQL that is neither quote()d nor trusted:\n" + "\n".join(
        unsafe)


def test_the_audit_flags_an_unquoted_value():
    code = (
        "connection.exec_driver_sql(f'DROP TABLE {warehouse.quote(name)}')\n"
        "warehouse.query(f'SELECT * FROM t WHERE tz = {settings.reporting_timezone}')\n"
        "sa.text(f'SELECT {column}')\n"
    )
    found = [(name, _is_safe(expression, set()))
             for name, _, expression in _interpolations(ast.parse(code))]
    assert found == [("exec_driver_sql", True), ("query", False), ("text", False)]
