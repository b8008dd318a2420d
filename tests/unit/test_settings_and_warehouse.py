"""Configuration and warehouse URLs: clear errors that name the setting, never a secret."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from pipelines.settings import ConfigurationError, Settings, default_pipeline_start_date
from warehouse import Warehouse
from warehouse.core import WarehouseError


def test_defaults():
    settings = Settings.from_env({})
    assert settings.warehouse_url == "duckdb:///data/warehouse.duckdb"
    assert settings.reporting_timezone == "UTC"
    assert settings.zendesk is None and settings.configured_sources == []
    assert settings.land_free_text is False


def test_crm_property_settings_default_to_designs_names_and_are_read():
    from connectors.hubspot import settings as hubspot
    from connectors.salesforce import settings as salesforce

    sf_env = {
        "SALESFORCE_INSTANCE_URL": "https://a.my.salesforce.com",
        "SALESFORCE_ACCESS_TOKEN": "t",
    }
    settings = Settings.from_env({"HUBSPOT_ACCESS_TOKEN": "t", **sf_env})
    assert settings.hubspot is not None and settings.salesforce is not None
    assert (
        settings.hubspot.close_date_property,
        settings.hubspot.contract_term_property,
        settings.hubspot.mrr_property,
        settings.hubspot.amount_property,
        settings.hubspot.won_stages,
        settings.hubspot.segment_property,
    ) == (
        hubspot.DEFAULT_CLOSE_DATE_PROPERTY,
        hubspot.DEFAULT_CONTRACT_TERM_PROPERTY,
        hubspot.DEFAULT_MRR_PROPERTY,
        hubspot.DEFAULT_AMOUNT_PROPERTY,
        hubspot.DEFAULT_WON_STAGES,
        hubspot.DEFAULT_SEGMENT_PROPERTY,
    ) == ("closedate", "contract_term_months", "hs_mrr", "amount", ("closedwon",), "industry")
    assert (settings.salesforce.contract_term_field, settings.salesforce.segment_field) == (
        salesforce.DEFAULT_CONTRACT_TERM_FIELD,
        salesforce.DEFAULT_SEGMENT_FIELD,
    ) == ("Contract_Term_Months__c", "Industry")

    custom = Settings.from_env({
        "HUBSPOT_ACCESS_TOKEN": "t",
        "HUBSPOT_CONTRACT_TERM_PROPERTY": " term_length ",
        "HUBSPOT_WON_STAGES": "closedwon, 12345678,,",
        "SALESFORCE_SEGMENT_FIELD": "Sector__c",
        **sf_env,
    })
    assert custom.hubspot is not None and custom.salesforce is not None
    assert custom.hubspot.contract_term_property == "term_length"
    assert custom.hubspot.won_stages == ("closedwon", "12345678")
    assert custom.salesforce.segment_field == "Sector__c"


def test_default_start_is_the_first_of_the_previous_month():
    assert default_pipeline_start_date(date(2026, 11, 23)) == date(2026, 10, 1)
    assert default_pipeline_start_date(date(2026, 1, 5)) == date(2025, 12, 1)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REPORTING_TIMEZONE": "Mars/Olympus"}, "REPORTING_TIMEZONE"),
        ({"PIPELINE_START_DATE": "01/02/2025"}, "PIPELINE_START_DATE"),
        ({"LAND_FREE_TEXT": "maybe"}, "LAND_FREE_TEXT"),
        ({"ZENDESK_API_TOKEN": "tok-123", "ZENDESK_SUBDOMAIN": "acme"}, "ZENDESK_EMAIL"),
        ({"ZENDESK_API_TOKEN": "tok-123", "ZENDESK_EMAIL": "a@b.c"}, "ZENDESK_SUBDOMAIN"),
        (
            {"HUBSPOT_ACCESS_TOKEN": "tok-123", "HUBSPOT_CONTRACT_TERM_PROPERTY": "term length"},
            "HUBSPOT_CONTRACT_TERM_PROPERTY",
        ),
        (
            {"HUBSPOT_ACCESS_TOKEN": "tok-123", "HUBSPOT_SEGMENT_PROPERTY": "1industry"},
            "HUBSPOT_SEGMENT_PROPERTY",
        ),
        (
            {"HUBSPOT_ACCESS_TOKEN": "tok-123", "HUBSPOT_WON_STAGES": "closedwon,won stage"},
            "HUBSPOT_WON_STAGES",
        ),
        (
            {
                "SALESFORCE_INSTANCE_URL": "https://acme.my.salesforce.com",
                "SALESFORCE_ACCESS_TOKEN": "tok-123",
                "SALESFORCE_CONTRACT_TERM_FIELD": "Term__c; DROP",
            },
            "SALESFORCE_CONTRACT_TERM_FIELD",
        ),
    ],
)
def test_bad_settings_name_the_variable(env, message):
    with pytest.raises(ConfigurationError, match=message) as error:
        Settings.from_env(env)
    assert "tok-123" not in str(error.value)


def test_settings_repr_hides_secrets():
    settings = Settings.from_env(
        {"ZENDESK_SUBDOMAIN": "acme", "ZENDESK_EMAIL": "a@b.c", "ZENDESK_API_TOKEN": "tok-123",
         "WAREHOUSE_URL": "postgresql://etl:hunter2@db.example/analytics"}
    )
    assert settings.configured_sources == ["zendesk"]
    assert "tok-123" not in repr(settings)
    assert "hunter2" not in repr(settings)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root@localhost/db", "only"),
        ("duckdb:///:memory:", "must name a DuckDB file"),
        ("not a url", "not a valid SQLAlchemy URL"),
        ("postgresql://etl:hunter2@db.example:port/analytics", "not a valid SQLAlchemy URL"),
    ],
)
def test_unsupported_warehouse_urls(url, message):
    with pytest.raises(WarehouseError, match=message) as error:
        Warehouse(url)
    assert "hunter2" not in str(error.value)


def test_display_url_masks_the_password():
    warehouse = Warehouse("postgresql://bi:hunter2@db.example:5432/analytics")
    assert "hunter2" not in warehouse.display_url
    assert "hunter2" not in repr(warehouse)
    assert warehouse.dialect == "postgresql"


def test_duckdb_warehouse_creates_its_folder(tmp_path):
    warehouse = Warehouse(f"duckdb:///{tmp_path / 'nested' / 'w.duckdb'}")
    warehouse.ensure_schemas()
    assert (tmp_path / "nested" / "w.duckdb").exists()
    assert warehouse.table_exists("marts", "nothing") is False
    warehouse.dispose()


def test_hubspot_property_names_must_be_lower_case():
    with pytest.raises(ConfigurationError, match="HUBSPOT_MRR_PROPERTY"):
        Settings.from_env({"HUBSPOT_ACCESS_TOKEN": "t", "HUBSPOT_MRR_PROPERTY": "Term"})


def test_postgres_sessions_end_when_the_pipeline_vanishes(postgres_url):
    # A pipeline host lost mid-rebuild must not hold a mart's lock for hours.
    warehouse = Warehouse(postgres_url)
    settings = {
        name: warehouse.scalar(f"SHOW {name}")
        for name in ("tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count",
                     "idle_in_transaction_session_timeout")
    }
    warehouse.dispose()
    assert settings == {"tcp_keepalives_idle": "60", "tcp_keepalives_interval": "10",
                        "tcp_keepalives_count": "6",
                        "idle_in_transaction_session_timeout": "5min"}


def test_the_warehouse_connections_do_not_vacuum(tmp_path):
    # warehouse.core.DUCKDB_SETTINGS: the transforms' checkpoints leave thinned-out row
    # groups alone (transforms/incremental.py compacts). A setting of the instance the
    # warehouse opened, not of the file: a later instance (dlt's loads) has the default.
    import duckdb

    path = tmp_path / "w.duckdb"
    warehouse = Warehouse(f"duckdb:///{path}")
    assert warehouse.scalar("SELECT current_setting('max_vacuum_tasks')") == 0
    warehouse.dispose()
    with duckdb.connect(str(path)) as plain:
        assert plain.execute("SELECT current_setting('max_vacuum_tasks')").fetchone()[0] > 0


def test_catalog_lookups(warehouse_url):
    # The same answers from DuckDB's catalog functions and PostgreSQL's information_schema:
    # tables and views by kind, columns in order, and a transaction's own uncommitted DDL.
    warehouse = Warehouse(warehouse_url)
    warehouse.ensure_schemas()
    warehouse.execute("CREATE TABLE staging.t (b integer, a text, c date)")
    warehouse.execute("CREATE VIEW marts.v AS SELECT a, b FROM staging.t")
    assert warehouse.relation_kind("staging", "t") == "BASE TABLE"
    assert warehouse.relation_kind("marts", "v") == "VIEW"
    assert warehouse.relation_kind("marts", "t") is None
    assert warehouse.table_exists("marts", "v") and not warehouse.table_exists("staging", "v")
    assert warehouse.columns("staging", "t") == ["b", "a", "c"]
    assert warehouse.columns("marts", "v") == ["a", "b"]
    assert warehouse.columns("staging", "nothing") == []
    with warehouse.transaction() as connection:
        connection.execute(sa.text("CREATE TABLE marts.inside (x integer)"))
        assert warehouse.relation_kind("marts", "inside", connection) == "BASE TABLE"
        connection.execute(sa.text("DROP VIEW marts.v"))
        assert warehouse.relation_kind("marts", "v", connection) is None
    assert warehouse.relation_kind("marts", "inside") == "BASE TABLE"
    warehouse.dispose()


def test_a_dlt_run_holds_the_duckdb_file_for_its_block_only(tmp_path):
    # Warehouse.dlt_destination: dlt's load jobs share the one connection the block opened
    # (with the load's memory limit), and the file is free again for the warehouse's own
    # connections, which DuckDB refuses while an instance with other settings is open, when
    # the block ends: after the runs inside it, and after a failure.
    import dlt

    warehouse = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    with warehouse.dlt_destination() as destination:
        pipeline = dlt.pipeline(pipeline_name="held", pipelines_dir=str(tmp_path / "dlt"),
                                destination=destination, dataset_name="raw_test")
        pipeline.run([{"id": i} for i in range(3)], table_name="numbers")
        pipeline.run([{"id": 3}], table_name="numbers")
        with pipeline.sql_client() as client:
            limit = client.execute_sql("SELECT current_setting('memory_limit')")[0][0]
    assert limit == "61.0 MiB"  # DLT_DUCKDB_MEMORY_LIMIT, 64 MB
    assert warehouse.scalar("SELECT count(*) FROM raw_test.numbers") == 4
    warehouse.dispose()
    with pytest.raises(RuntimeError, match="the load failed"):
        with warehouse.dlt_destination():
            raise RuntimeError("the load failed")
    assert warehouse.scalar("SELECT max(id) FROM raw_test.numbers") == 3
    warehouse.dispose()
