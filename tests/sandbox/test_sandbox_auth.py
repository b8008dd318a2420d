"""Authentication: API token (Basic), OAuth (Bearer), and Zendesk's 401 body otherwise."""

from __future__ import annotations

import requests

from sandbox import Sandbox

GROUPS = "/api/v2/groups.json"


def test_api_token_basic_auth_is_accepted(sb: Sandbox) -> None:
    creds = sb.credentials
    r = requests.get(sb.url + GROUPS, auth=(f"{creds['email']}/token", creds["api_token"]))
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")


def test_email_is_case_insensitive(sb: Sandbox) -> None:
    creds = sb.credentials
    r = requests.get(sb.url + GROUPS,
                     auth=(f"{creds['email'].upper()}/token", creds["api_token"]))
    assert r.status_code == 200


def test_bearer_oauth_token_is_accepted(sb: Sandbox) -> None:
    r = requests.get(sb.url + GROUPS,
                     headers={"Authorization": f"Bearer {sb.credentials['oauth_token']}"})
    assert r.status_code == 200


def test_missing_credentials_get_zendesk_401(sb: Sandbox) -> None:
    r = requests.get(sb.url + GROUPS)
    assert r.status_code == 401
    assert r.json() == {"error": "Couldn't authenticate you"}


def test_wrong_credentials_get_401(sb: Sandbox) -> None:
    creds = sb.credentials
    attempts = [
        {"auth": (f"{creds['email']}/token", "wrong-token")},
        {"auth": (creds["email"], creds["api_token"])},  # password-style, no /token suffix
        {"auth": ("someone@else.example/token", creds["api_token"])},
        {"headers": {"Authorization": "Bearer not-the-token"}},
        {"headers": {"Authorization": "Basic !!!not-base64"}},
        {"headers": {"Authorization": f"Token {creds['api_token']}"}},
    ]
    for kwargs in attempts:
        r = requests.get(sb.url + GROUPS, **kwargs)  # type: ignore[arg-type]
        assert r.status_code == 401, kwargs
        assert r.json() == {"error": "Couldn't authenticate you"}


def test_credentials_and_url(sb: Sandbox) -> None:
    assert sb.url.startswith("http://127.0.0.1:")
    assert int(sb.url.rsplit(":", 1)[1]) > 0
    assert set(sb.credentials) == {"subdomain", "email", "api_token", "oauth_token",
                                   "hubspot_access_token", "salesforce_access_token",
                                   "salesforce_instance_url", "intercom_access_token",
                                   "freshdesk_api_key", "freshdesk_base_url"}
    assert sb.credentials["salesforce_instance_url"] == sb.url
    assert sb.credentials["subdomain"] == "sandbox"


def test_unauthenticated_requests_are_recorded(sb: Sandbox) -> None:
    requests.get(sb.url + GROUPS, params={"per_page": "2"})
    assert sb.requests[-1] == ("GET", GROUPS, {"per_page": "2"})
    assert sb.requests[-1].path == GROUPS
