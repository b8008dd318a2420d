"""The demo runs on the sandbox alone, whatever the user has configured (environment and
.env): no real token reaches the sandbox, no real API is called, no real warehouse gets its
rows, and it refuses to write into the file the user's own pipeline writes to."""

from __future__ import annotations

import pytest

from pipelines.cli import CommandError, demo_environment
from pipelines.settings import Settings
from warehouse import DEFAULT_WAREHOUSE_URL

REAL = {
    "ZENDESK_SUBDOMAIN": "acme",
    "ZENDESK_OAUTH_TOKEN": "real-oauth-token",
    "INTERCOM_BASE_URL": "https://api.eu.intercom.io",
    "FRESHDESK_DOMAIN": "acme",
    "SALESFORCE_INSTANCE_URL": "https://acme.my.salesforce.com",
    "SALESFORCE_ACCESS_TOKEN": "real-sf-token",
    "HUBSPOT_MRR_PROPERTY": "custom_mrr",
    "HISTORY_START_DATE": "2020-01-01",
    "FULL_REBUILD": "true",
    "REPORTING_TIMEZONE": "Europe/Paris",
}
SANDBOX = {  # what `sandbox_environment` adds after it
    "ZENDESK_BASE_URL": "http://127.0.0.1:1",
    "ZENDESK_SUBDOMAIN": "sandbox",
    "ZENDESK_EMAIL": "demo@example.com",
    "ZENDESK_API_TOKEN": "sandbox-token",
    "INTERCOM_ACCESS_TOKEN": "sandbox-intercom",
    "INTERCOM_BASE_URL": "http://127.0.0.1:1",
    "FRESHDESK_API_KEY": "sandbox-freshdesk",
    "FRESHDESK_BASE_URL": "http://127.0.0.1:1/freshdesk",
    "HUBSPOT_ACCESS_TOKEN": "sandbox-hubspot",
    "HUBSPOT_BASE_URL": "http://127.0.0.1:1",
    "PIPELINE_START_DATE": "2026-01-01",
}


def demo_settings(env: dict[str, str], tmp_path) -> Settings:
    merged = {**env, **demo_environment(env, tmp_path), **SANDBOX}
    return Settings.from_env(merged)


def test_the_users_sources_and_warehouse_are_left_out(tmp_path):
    env = {**REAL, "WAREHOUSE_URL": "postgresql://etl:hunter2@db.example/analytics"}
    settings = demo_settings(env, tmp_path)
    assert settings.warehouse_url == DEFAULT_WAREHOUSE_URL
    assert settings.configured_sources == ["zendesk", "intercom", "freshdesk", "hubspot"]
    assert settings.intercom.base_url == "http://127.0.0.1:1"  # never the user's region
    assert settings.freshdesk.domain is None  # never the user's account
    assert settings.zendesk.oauth_token is None  # it would win over the sandbox's token
    assert settings.zendesk.api_token == "sandbox-token"
    assert settings.salesforce is None
    assert settings.hubspot.mrr_property == "hs_mrr"
    assert settings.history_start_date is None and not settings.full_rebuild
    assert settings.reporting_timezone == "Europe/Paris"  # a preference: kept


def test_a_dotenv_file_cannot_bring_them_back(tmp_path):
    (tmp_path / ".env").write_text(
        "WAREHOUSE_URL=postgresql://etl:hunter2@db.example/analytics\n"
        "SALESFORCE_INSTANCE_URL=https://acme.my.salesforce.com\n"
        "SALESFORCE_ACCESS_TOKEN=real-sf-token\n"
    )
    overrides = demo_environment({}, tmp_path)
    assert overrides["SALESFORCE_ACCESS_TOKEN"] == ""  # set: load_dotenv does not override
    assert overrides["WAREHOUSE_URL"] == DEFAULT_WAREHOUSE_URL


@pytest.mark.parametrize("url", [None, DEFAULT_WAREHOUSE_URL, "duckdb:///./data/../data/warehouse.duckdb"])
def test_refuses_the_file_the_users_own_pipeline_writes_to(tmp_path, url):
    env = {**REAL} if url is None else {**REAL, "WAREHOUSE_URL": url}
    with pytest.raises(CommandError, match="run the demo from another directory") as error:
        demo_environment(env, tmp_path)
    assert "SALESFORCE_ACCESS_TOKEN" in str(error.value)
    assert "real-sf-token" not in str(error.value)


def test_the_same_file_named_in_dotenv_is_refused_too(tmp_path):
    (tmp_path / ".env").write_text("ZENDESK_API_TOKEN=real\nZENDESK_EMAIL=a@b.c\n")
    with pytest.raises(CommandError, match="ZENDESK_API_TOKEN"):
        demo_environment({}, tmp_path)


def test_allowed_when_the_users_pipeline_writes_elsewhere(tmp_path):
    for url in ("postgresql://etl@db.example/analytics", "duckdb:///data/production.duckdb"):
        overrides = demo_environment({**REAL, "WAREHOUSE_URL": url}, tmp_path)
        assert overrides["WAREHOUSE_URL"] == DEFAULT_WAREHOUSE_URL
