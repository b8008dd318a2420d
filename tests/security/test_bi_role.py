"""The read-only BI role: after a real pipeline run, it reads marts and nothing else.

Every check connects as the role itself over a real PostgreSQL connection. Roles are
cluster-wide, so each test uses a unique role name and drops it in a `finally`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Iterator

import psycopg2
import psycopg2.errors
import pytest
import sqlalchemy as sa

from pipelines.cli import main
from tests.integration.pipeline_runner import run_world
from tests.integration.test_ticket_metrics import END, START, hand_built_world
from warehouse import Warehouse, drop_bi_role, grant_bi_role
from warehouse.core import WarehouseError

PASSWORD = "bi-pass 'with quotes'; DROP ROLE x; --"
PASSWORD_ENV = "HELPDESK_ETL_TEST_BI_PASSWORD"


@pytest.fixture
def role_name() -> str:
    # A quote and a space: the name only works if every statement quotes it.
    return f'bi test "{uuid.uuid4().hex[:8]}"'


@pytest.fixture
def loaded(monkeypatch, tmp_path, postgres_url, role_name) -> Iterator[Warehouse]:
    """The hand-built world loaded into a fresh PostgreSQL database; the role dropped after."""
    warehouse = run_world(monkeypatch, tmp_path, hand_built_world(), postgres_url, START, END)
    try:
        yield warehouse
    finally:
        drop_bi_role(warehouse, role_name)
        warehouse.dispose()


def connect_as(warehouse_url: str, role: str) -> psycopg2.extensions.connection:
    """A plain psycopg2 connection as `role` (the test server trusts local connections)."""
    url = sa.engine.make_url(warehouse_url)
    return psycopg2.connect(host=url.host, port=url.port or 5432, dbname=url.database,
                            user=role, password=PASSWORD)


def attempt(connection, statement: str) -> type[Exception] | None:
    """Run `statement` in its own transaction; the error class it raised, or None."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
            if cursor.description is not None:
                cursor.fetchall()
        connection.rollback()
        return None
    except psycopg2.Error as exc:
        connection.rollback()
        return type(exc)


def marts_tables(warehouse: Warehouse) -> list[str]:
    rows = warehouse.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' "
        "ORDER BY table_name"
    )
    return [row["table_name"] for row in rows]


def privileges_snapshot(warehouse: Warehouse, role: str) -> list[tuple]:
    """Everything PostgreSQL records about the role's rights (for an idempotency check)."""
    return [tuple(row.values()) for row in warehouse.query(
        """
        SELECT 'role' AS kind, rolname::text AS name,
               concat_ws(',', rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication,
                         rolbypassrls, array_to_string(rolconfig, ';')) AS detail
        FROM pg_roles WHERE rolname = :role
        UNION ALL
        SELECT 'schema', nspname::text, coalesce(nspacl::text, '') FROM pg_namespace
        UNION ALL
        SELECT 'table', n.nspname || '.' || c.relname, coalesce(c.relacl::text, '')
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('marts', 'staging', 'public') OR n.nspname LIKE 'raw%'
        UNION ALL
        SELECT 'default', coalesce(n.nspname, '') || ':' || d.defaclobjtype::text,
               d.defaclacl::text
        FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
        UNION ALL
        SELECT 'database', datname::text, coalesce(datacl::text, '') FROM pg_database
        WHERE datname = current_database()
        ORDER BY 1, 2
        """,
        {"role": role},
    )]


def scram_matches(verifier: str, password: str) -> bool:
    """Whether a stored SCRAM-SHA-256 verifier is the one of `password` (RFC 5802/7677)."""
    method, rest = verifier.split("$", 1)
    iterations_salt, keys = rest.split("$")
    iterations, salt = iterations_salt.split(":")
    stored_key, server_key = keys.split(":")
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt),
                                 int(iterations))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return (method == "SCRAM-SHA-256"
            and base64.b64encode(hashlib.sha256(client_key).digest()).decode() == stored_key
            and base64.b64encode(hmac.new(salted, b"Server Key", hashlib.sha256).digest())
            .decode() == server_key)


@pytest.mark.postgres
def test_bi_role_reads_marts_only_and_survives_a_rebuild(
    loaded, monkeypatch, tmp_path, postgres_url, role_name, capsys
):
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    assert main(["bi-role", "--role", role_name, "--password-env", PASSWORD_ENV]) == 0
    out = capsys.readouterr()
    assert "created" in out.out and PASSWORD not in out.out + out.err
    tables = marts_tables(loaded)
    assert len(tables) >= 8, tables

    # The password is stored hashed (SCRAM), and it is the one from the environment.
    stored = loaded.scalar("SELECT rolpassword FROM pg_authid WHERE rolname = :r",
                           {"r": role_name})
    assert stored.startswith("SCRAM-SHA-256$") and PASSWORD not in stored
    assert scram_matches(stored, PASSWORD)

    connection = connect_as(postgres_url, role_name)
    try:
        for table in tables:
            assert attempt(connection, f'SELECT * FROM marts."{table}"') is None, table
        assert attempt(connection, "SELECT count(*) FROM marts.ticket_metrics") is None

        denied = psycopg2.errors.InsufficientPrivilege
        # Personal data: raw landed tables, staging and intermediate tables (in staging).
        for table in ("raw_zendesk.tickets", "raw_zendesk.users", "staging.tickets",
                      "staging.users", "staging.ticket_milestones",
                      "staging.ticket_status_intervals"):
            assert loaded.table_exists(*table.split(".")), table
            assert attempt(connection, f"SELECT * FROM {table}") is denied, table

        # Writes: refused by the read-only default...
        read_only = psycopg2.errors.ReadOnlySqlTransaction
        writes = [
            "INSERT INTO marts.ticket_metrics (source, ticket_id) VALUES ('x', 'y')",
            "UPDATE marts.ticket_metrics SET status = 'x'",
            "DELETE FROM marts.ticket_metrics",
            "CREATE TABLE marts.bi_scratch (x int)",
            "CREATE TABLE public.bi_scratch (x int)",
            "CREATE TEMP TABLE bi_scratch (x int)",
        ]
        for statement in writes:
            assert attempt(connection, statement) is read_only, statement
        # ... and by privileges too, once the session switches the default off.
        with connection.cursor() as cursor:
            cursor.execute("SET default_transaction_read_only = off")
        connection.commit()
        for statement in [*writes, "TRUNCATE marts.ticket_metrics",
                          "DROP TABLE marts.ticket_metrics",
                          "GRANT SELECT ON staging.tickets TO PUBLIC"]:
            assert attempt(connection, statement) is denied, statement
    finally:
        connection.close()

    # Another pipeline run drops and re-creates the marts tables: still readable.
    oid_before = loaded.scalar("SELECT 'marts.ticket_metrics'::regclass::oid")
    rerun = run_world(monkeypatch, tmp_path, hand_built_world(), postgres_url, START, END)
    rerun.dispose()
    assert loaded.scalar("SELECT 'marts.ticket_metrics'::regclass::oid") != oid_before
    connection = connect_as(postgres_url, role_name)
    try:
        for table in marts_tables(loaded):
            assert attempt(connection, f'SELECT * FROM marts."{table}"') is None, table
        assert attempt(connection, "SELECT * FROM staging.tickets") is (
            psycopg2.errors.InsufficientPrivilege
        )
    finally:
        connection.close()


@pytest.mark.postgres
def test_bi_role_twice_is_the_same_as_once(loaded, monkeypatch, role_name, capsys):
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    assert main(["bi-role", "--role", role_name, "--password-env", PASSWORD_ENV]) == 0
    once = privileges_snapshot(loaded, role_name)
    assert main(["bi-role", "--role", role_name, "--password-env", PASSWORD_ENV]) == 0
    assert "updated" in capsys.readouterr().out
    assert privileges_snapshot(loaded, role_name) == once
    # Without --password-env the password is left as it was.
    stored = loaded.scalar("SELECT rolpassword FROM pg_authid WHERE rolname = :r",
                           {"r": role_name})
    assert main(["bi-role", "--role", role_name]) == 0
    assert loaded.scalar("SELECT rolpassword FROM pg_authid WHERE rolname = :r",
                         {"r": role_name}) == stored
    assert privileges_snapshot(loaded, role_name) == once


@pytest.mark.postgres
def test_bi_role_takes_back_earlier_grants_and_creates_marts(postgres_url, role_name):
    """A role that was given too much is brought back to marts-only; a missing marts is made."""
    warehouse = Warehouse(postgres_url)
    try:
        warehouse.execute("CREATE SCHEMA staging; CREATE TABLE staging.tickets (email text)")
        q = warehouse.quote
        warehouse.execute(f"CREATE ROLE {q(role_name)} LOGIN CREATEDB")
        warehouse.execute(f"GRANT USAGE ON SCHEMA staging TO {q(role_name)}; "
                          f"GRANT ALL ON staging.tickets TO {q(role_name)}; "
                          f"GRANT CREATE ON SCHEMA public TO {q(role_name)}")
        result = grant_bi_role(warehouse, role_name)
        assert not result.created and not result.temporary_allowed
        assert warehouse.scalar(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'marts'"
        ) == 1
        checks = warehouse.query(
            "SELECT has_schema_privilege(:r, 'staging', 'USAGE') AS staging_usage, "
            "has_table_privilege(:r, 'staging.tickets', 'SELECT') AS staging_select, "
            "has_schema_privilege(:r, 'public', 'CREATE') AS public_create, "
            "has_schema_privilege(:r, 'marts', 'USAGE') AS marts_usage, "
            "has_schema_privilege(:r, 'marts', 'CREATE') AS marts_create, "
            "(SELECT rolcreatedb FROM pg_roles WHERE rolname = :r) AS createdb",
            {"r": role_name},
        )[0]
        assert checks == {"staging_usage": False, "staging_select": False,
                          "public_create": False, "marts_usage": True, "marts_create": False,
                          "createdb": False}
    finally:
        drop_bi_role(warehouse, role_name)
        warehouse.dispose()


def test_bi_role_on_duckdb_says_there_are_no_roles(monkeypatch, tmp_path, duckdb_url, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WAREHOUSE_URL", duckdb_url)
    assert main(["bi-role", "--role", "metabase"]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("helpdesk-etl: error: DuckDB has no roles")
    assert "\n" not in error


def test_bi_role_password_variable_must_be_set(monkeypatch, tmp_path, duckdb_url, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WAREHOUSE_URL", duckdb_url)
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    assert main(["bi-role", "--role", "metabase", "--password-env", PASSWORD_ENV]) == 1
    assert f"{PASSWORD_ENV}: that variable is not set" in capsys.readouterr().err


def test_bi_role_password_is_not_an_argument():
    with pytest.raises(SystemExit):
        main(["bi-role", "--role", "metabase", "--password", "secret"])


def test_a_password_typed_into_password_env_is_not_echoed(monkeypatch, tmp_path, duckdb_url,
                                                         capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WAREHOUSE_URL", duckdb_url)
    assert main(["bi-role", "--role", "metabase", "--password-env", "s3cret pass!"]) == 1
    error = capsys.readouterr().err
    assert "NAME of an environment variable" in error and "s3cret" not in error


@pytest.mark.postgres
def test_bi_role_refuses_a_role_that_inherits_other_rights(postgres_url, role_name):
    """A member of pg_read_all_data could read staging: the command says so and changes nothing."""
    warehouse = Warehouse(postgres_url)
    q = warehouse.quote
    try:
        warehouse.execute(f"CREATE ROLE {q(role_name)} LOGIN")
        warehouse.execute(f"GRANT pg_read_all_data TO {q(role_name)}")
        with pytest.raises(WarehouseError, match="pg_read_all_data"):
            grant_bi_role(warehouse, role_name)
        # Refused before anything changed: marts was not even created.
        assert not warehouse.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'marts'")
    finally:
        drop_bi_role(warehouse, role_name)
        warehouse.dispose()
