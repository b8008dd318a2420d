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
def api(sb: Sandbox) -> requests.Session:
    """A session authenticated with the sandbox's API token."""
    session = requests.Session()
    creds = sb.credentials
    session.auth = (f"{creds['email']}/token", creds["api_token"])
    return session
