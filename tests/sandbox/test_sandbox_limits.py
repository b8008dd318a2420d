"""Rate limits (429 + Retry-After + documented headers) and fault injection."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from sandbox import Sandbox, World
from sandbox.limits import SlidingWindowLimiter

EVENTS = "/api/v2/incremental/ticket_events.json?start_time=0"
TICKETS = "/api/v2/incremental/tickets/cursor.json?start_time=0"
GROUPS = "/api/v2/groups.json"


def session_for(sb: Sandbox) -> requests.Session:
    s = requests.Session()
    s.auth = (f"{sb.credentials['email']}/token", sb.credentials["api_token"])
    return s


@pytest.fixture
def limited(small_world: World) -> Iterator[Sandbox]:
    with Sandbox(small_world, rate_limit_per_minute=5,
                 incremental_rate_limit_per_minute=2) as sb:
        yield sb


def test_incremental_export_limit(limited: Sandbox) -> None:
    api = session_for(limited)
    assert api.get(limited.url + EVENTS).status_code == 200
    assert api.get(limited.url + TICKETS).status_code == 200
    r = api.get(limited.url + EVENTS)
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert r.json()["error"] == "APIRateLimitExceeded"
    assert "incremental" in r.json()["description"]
    # other endpoints still have account budget left
    assert api.get(limited.url + GROUPS).status_code == 200


def test_account_limit_and_headers(limited: Sandbox) -> None:
    api = session_for(limited)
    remaining = []
    for _ in range(5):
        r = api.get(limited.url + GROUPS)
        assert r.status_code == 200
        assert r.headers["x-rate-limit"] == "5" and r.headers["ratelimit-limit"] == "5"
        remaining.append(int(r.headers["x-rate-limit-remaining"]))
        assert r.headers["ratelimit-remaining"] == r.headers["x-rate-limit-remaining"]
        assert 1 <= int(r.headers["ratelimit-reset"]) <= 60
    assert remaining == [4, 3, 2, 1, 0]
    r = api.get(limited.url + GROUPS)
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert r.headers["x-rate-limit-remaining"] == "0"
    limited.reset_rate_limits()
    assert api.get(limited.url + GROUPS).status_code == 200


def test_limits_can_be_disabled(sb: Sandbox, api: requests.Session) -> None:
    for _ in range(15):
        assert api.get(sb.url + EVENTS).status_code == 200
    assert "x-rate-limit" not in api.get(sb.url + GROUPS).headers


def test_injected_503_with_retry_after(sb: Sandbox, api: requests.Session) -> None:
    sb.inject_fault("/api/v2/incremental/tickets", 503, times=2, retry_after=7)
    first, second, third = (api.get(sb.url + TICKETS) for _ in range(3))
    assert first.status_code == second.status_code == 503
    assert first.headers["Retry-After"] == "7"
    assert first.json()["error"] == "ServiceUnavailable"
    assert third.status_code == 200
    assert [r.path for r in sb.requests].count("/api/v2/incremental/tickets/cursor.json") == 3


def test_injected_500_only_hits_matching_paths(sb: Sandbox, api: requests.Session) -> None:
    sb.inject_fault("/api/v2/incremental/ticket_events", 500)
    assert api.get(sb.url + GROUPS).status_code == 200
    r = api.get(sb.url + EVENTS)
    assert r.status_code == 500 and "Retry-After" not in r.headers
    assert r.json()["error"] == "InternalServerError"
    assert api.get(sb.url + EVENTS).status_code == 200


def test_injected_429_and_custom_body(sb: Sandbox, api: requests.Session) -> None:
    sb.inject_fault("/api/v2/groups", 429, retry_after=1)
    sb.inject_fault("/api/v2/groups", 502, body="<html>Bad Gateway</html>")
    r = api.get(sb.url + GROUPS)
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    r = api.get(sb.url + GROUPS)
    assert r.status_code == 502 and r.text == "<html>Bad Gateway</html>"
    assert r.headers["Content-Type"].startswith("text/plain")
    assert api.get(sb.url + GROUPS).status_code == 200


def test_faults_apply_before_authentication(sb: Sandbox) -> None:
    sb.inject_fault("/api/v2/groups", 503)
    assert requests.get(sb.url + GROUPS).status_code == 503
    assert requests.get(sb.url + GROUPS).status_code == 401


def test_control_endpoint(sb: Sandbox, api: requests.Session) -> None:
    control = sb.url + "/__sandbox/faults"
    r = requests.post(control, json={"path_prefix": "/api/v2/groups", "status": 503,
                                     "times": 2, "retry_after": 3})
    assert r.status_code == 201 and r.json()["fault"]["status"] == 503
    assert requests.get(control).json()["faults"][0]["times"] == 2
    r = api.get(sb.url + GROUPS)
    assert r.status_code == 503 and r.headers["Retry-After"] == "3"
    assert requests.delete(control).json() == {"faults": []}
    assert api.get(sb.url + GROUPS).status_code == 200
    assert requests.post(control, json={"status": 500}).status_code == 400
    assert requests.post(control, json={"path_prefix": "/", "status": 99}).status_code == 400
    assert not any(r.path.startswith("/__sandbox") for r in sb.requests)


def test_retrying_client_recovers(sb: Sandbox, api: requests.Session) -> None:
    """A client that honours Retry-After gets through after injected 429/503s."""
    sb.inject_fault("/api/v2/incremental/ticket_events", 429, retry_after=0)
    sb.inject_fault("/api/v2/incremental/ticket_events", 503, retry_after=0)
    statuses = []
    for _ in range(5):
        r = api.get(sb.url + EVENTS)
        statuses.append(r.status_code)
        if r.status_code == 200:
            break
        time.sleep(int(r.headers["Retry-After"]))
    assert statuses == [429, 503, 200]


def test_reset_never_exceeds_the_window() -> None:
    # At this clock reading `(now + 60) - now` is a hair above 60 in floating point: the
    # reset of a hit made just now once came out as 61 s in a 60-second window.
    now = 4090.833771576286
    limiter = SlidingWindowLimiter(5, window=60, clock=lambda: now)
    allowed, remaining, reset = limiter.acquire()
    assert (allowed, remaining, reset) == (True, 4, 60)
    for _ in range(4):
        limiter.acquire()
    assert limiter.acquire() == (False, 0, 60)
