"""Fixtures for the Zendesk sandbox tests: the small world and a running sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from sandbox import Sandbox, World
from tests.sandbox.sandbox_world import build_small_world


@pytest.fixture(scope="module")
def small_world() -> World:
    return build_small_world()


@pytest.fixture
def sb(small_world: World) -> Iterator[Sandbox]:
    """A running sandbox over the small world, without rate limits."""
    with Sandbox(small_world, rate_limit_per_minute=None,
                 incremental_rate_limit_per_minute=None) as server:
        yield server


@pytest.fixture
def isb(intercom_world: World) -> Iterator[Sandbox]:
    """A running sandbox over the module's `intercom_world` (each Intercom test module
    defines its own), without rate limits."""
    with Sandbox(intercom_world, rate_limit_per_minute=None,
                 incremental_rate_limit_per_minute=None,
                 intercom_rate_limit_per_10s=None) as server:
        yield server


@pytest.fixture
def intercom(isb: Sandbox) -> requests.Session:
    """A session on `isb` with its Intercom access token, asking for API version 2.11."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {isb.credentials['intercom_access_token']}"
    session.headers["Intercom-Version"] = "2.11"
    return session


@pytest.fixture
def api(sb: Sandbox) -> requests.Session:
    """A session authenticated with the sandbox's API token."""
    session = requests.Session()
    creds = sb.credentials
    session.auth = (f"{creds['email']}/token", creds["api_token"])
    return session


@pytest.fixture(scope="module")
def crm_world() -> World:
    from tests.sandbox.crm_world import build_crm_world

    return build_crm_world()


@pytest.fixture
def crm_sb(crm_world: World) -> Iterator[Sandbox]:
    """A running sandbox over the CRM world, without rate limits, Salesforce batches of 3."""
    with Sandbox(crm_world, rate_limit_per_minute=None, incremental_rate_limit_per_minute=None,
                 hubspot_rate_limit_per_10s=None, hubspot_search_rate_limit_per_second=None,
                 salesforce_daily_request_limit=None, salesforce_batch_size=3) as server:
        yield server


@pytest.fixture
def hubspot(crm_sb: Sandbox) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {crm_sb.credentials['hubspot_access_token']}"
    return session


@pytest.fixture
def salesforce(crm_sb: Sandbox) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {crm_sb.credentials['salesforce_access_token']}"
    return session
