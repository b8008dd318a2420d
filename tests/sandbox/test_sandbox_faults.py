"""Every fault kind, observed over a real socket (requests, or a bare socket where requests
would hide the detail), on Zendesk, HubSpot and Salesforce paths; the control endpoint and
the command-line spelling of faults."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from typing import Any

import pytest
import requests

from pipelines.cli import build_parser as helpdesk_etl_parser
from sandbox import Sandbox
from sandbox.cli import build_parser, serve, service_options
from sandbox.limits import BAD_TIMESTAMP, Fault, parse_fault_option

TICKETS = "/api/v2/incremental/tickets/cursor.json"
EVENTS = "/api/v2/incremental/ticket_events.json"
GROUPS = "/api/v2/groups.json"
COMPANIES = "/crm/v3/objects/companies"
DEALS = "/crm/v3/objects/deals"
V = "/services/data/v60.0"
OPPORTUNITIES = "SELECT Id, Name, Amount, CreatedDate FROM Opportunity ORDER BY Id"


def raw_get(sb: Sandbox, path: str, headers: dict[str, str]) -> tuple[dict[str, str], bytes]:
    """GET over a bare socket, reading until the server closes: (headers, body bytes)."""
    with socket.create_connection((sb.host, sb.port), timeout=5) as conn:
        lines = [f"GET {path} HTTP/1.1", f"Host: {sb.host}:{sb.port}", "Connection: close",
                 *(f"{k}: {v}" for k, v in headers.items()), "", ""]
        conn.sendall("\r\n".join(lines).encode())
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    fields = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:])
    return {k.lower(): v for k, v in fields.items()}, body


def zendesk_auth(sb: Sandbox) -> dict[str, str]:
    return {"Authorization": f"Bearer {sb.credentials['oauth_token']}"}


def sf_query(session: requests.Session, sb: Sandbox, soql: str = OPPORTUNITIES) -> Any:
    return session.get(f"{sb.url}{V}/queryAll", params={"q": soql})


# --- status ---------------------------------------------------------------------------------


def test_status_faults_carry_each_vendors_own_error_body(
        crm_sb: Sandbox, hubspot: requests.Session, salesforce: requests.Session) -> None:
    zendesk = requests.Session()
    zendesk.headers.update(zendesk_auth(crm_sb))
    crm_sb.inject_fault(GROUPS, 404)
    crm_sb.inject_fault(DEALS, 403)
    crm_sb.inject_fault(f"{V}/queryAll", 401)
    crm_sb.inject_fault(COMPANIES, 429, retry_after=1)
    r = zendesk.get(crm_sb.url + GROUPS)
    assert r.status_code == 404 and r.json()["error"] == "InvalidEndpoint"
    r = hubspot.get(crm_sb.url + DEALS)
    assert r.status_code == 403 and r.json()["category"] == "MISSING_SCOPES"
    r = sf_query(salesforce, crm_sb)
    assert r.status_code == 401 and r.json()[0]["errorCode"] == "INVALID_SESSION_ID"
    r = hubspot.get(crm_sb.url + COMPANIES)
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    assert r.json()["errorType"] == "RATE_LIMIT"
    assert sf_query(salesforce, crm_sb).status_code == 200


# --- reset, timeout, truncated --------------------------------------------------------------


def test_reset_drops_the_connection_with_a_rst(sb: Sandbox, api: requests.Session) -> None:
    sb.inject_fault(TICKETS, kind="reset")
    with pytest.raises(requests.ConnectionError) as caught:
        api.get(sb.url + TICKETS, params={"start_time": 0})
    assert "ConnectionResetError" in repr(caught.value) or "reset" in str(caught.value).lower()
    # the server lives on, and the fault was used up
    assert api.get(sb.url + TICKETS, params={"start_time": 0}).status_code == 200


def test_reset_sends_not_a_single_byte(crm_sb: Sandbox) -> None:
    crm_sb.inject_fault(COMPANIES, kind="reset")
    with socket.create_connection((crm_sb.host, crm_sb.port), timeout=5) as conn:
        conn.sendall(f"GET {COMPANIES} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        with pytest.raises(ConnectionResetError):
            assert conn.recv(1024) == b"", "a FIN, not a RST"


def test_timeout_answers_nothing_for_delay_seconds(sb: Sandbox, api: requests.Session) -> None:
    sb.inject_fault(EVENTS, kind="timeout", delay=3.0)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.get(sb.url + EVENTS, params={"start_time": 0}, timeout=(2, 0.3))
    assert time.monotonic() - started < 2
    # a client that waits longer sees the connection close without an answer
    sb.inject_fault(EVENTS, kind="timeout", delay=0.3)
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError):
        api.get(sb.url + EVENTS, params={"start_time": 0}, timeout=(2, 5))
    assert 0.25 <= time.monotonic() - started < 3
    assert api.get(sb.url + EVENTS, params={"start_time": 0}, timeout=5).status_code == 200


def test_truncated_sends_half_of_the_real_body(crm_sb: Sandbox,
                                               salesforce: requests.Session) -> None:
    auth = {"Authorization": f"Bearer {crm_sb.credentials['salesforce_access_token']}"}
    path = f"{V}/queryAll?q={requests.utils.quote(OPPORTUNITIES)}"
    headers, whole = raw_get(crm_sb, path, auth)
    assert int(headers["content-length"]) == len(whole)
    crm_sb.inject_fault(f"{V}/queryAll", kind="truncated")
    headers, body = raw_get(crm_sb, path, auth)
    assert int(headers["content-length"]) == len(whole)  # the real, full length
    assert len(body) == len(whole) // 2  # (the query locator differs: compare the start)
    assert body[:80] == whole[:80]
    with pytest.raises(ValueError):
        json.loads(body)
    # requests notices the short body
    crm_sb.inject_fault(f"{V}/queryAll", kind="truncated")
    with pytest.raises(requests.exceptions.RequestException):
        sf_query(salesforce, crm_sb)
    assert sf_query(salesforce, crm_sb).json()["totalSize"] == 8


# --- repeat_page ----------------------------------------------------------------------------


def test_repeat_page_prepends_the_previous_pages_records(sb: Sandbox,
                                                         api: requests.Session) -> None:
    params = {"start_time": 0, "per_page": 2}
    first = api.get(sb.url + EVENTS, params=params).json()
    real_second = api.get(first["next_page"]).json()
    api.get(sb.url + EVENTS, params=params)  # page 1 again: the previous page
    sb.inject_fault(EVENTS, kind="repeat_page")
    second = api.get(first["next_page"]).json()
    ids = [e["id"] for e in second["ticket_events"]]
    assert ids == [e["id"] for e in first["ticket_events"] + real_second["ticket_events"]]
    assert second["next_page"] == real_second["next_page"]  # links are the real page's
    assert second["count"] == real_second["count"]


def test_repeat_page_on_a_first_page_duplicates_it(crm_sb: Sandbox,
                                                   hubspot: requests.Session) -> None:
    crm_sb.inject_fault(COMPANIES, kind="repeat_page")
    body = hubspot.get(crm_sb.url + COMPANIES, params={"limit": 2}).json()
    ids = [c["id"] for c in body["results"]]
    assert len(ids) == 4 and ids[:2] == ids[2:]
    after = hubspot.get(body["paging"]["next"]["link"]).json()
    assert [c["id"] for c in after["results"]][0] not in ids


def test_repeat_page_follows_a_salesforce_query_across_paths(
        crm_sb: Sandbox, salesforce: requests.Session) -> None:
    first = sf_query(salesforce, crm_sb).json()
    crm_sb.inject_fault(f"{V}/query/", kind="repeat_page")
    second = salesforce.get(crm_sb.url + first["nextRecordsUrl"]).json()
    ids = [r["Id"] for r in second["records"]]
    assert ids[:3] == [r["Id"] for r in first["records"]] and len(ids) == 6
    again = salesforce.get(crm_sb.url + first["nextRecordsUrl"]).json()
    assert [r["Id"] for r in again["records"]] == ids[3:]


# --- expired_cursor -------------------------------------------------------------------------


def test_expired_cursor_only_hits_a_request_with_a_cursor(sb: Sandbox,
                                                          api: requests.Session) -> None:
    sb.inject_fault("/api/v2/incremental/tickets", kind="expired_cursor")
    first = api.get(sb.url + TICKETS, params={"start_time": 0, "per_page": 2})
    assert first.status_code == 200
    assert len(sb.faults.pending()) == 1  # not used up by a request without a cursor
    r = api.get(first.json()["after_url"])
    assert r.status_code == 422
    assert r.json() == {"error": "InvalidPaginationParameter",
                        "description": "The cursor has expired or is invalid. Restart the "
                                       "export from a start_time."}
    assert api.get(first.json()["after_url"]).status_code == 200
    # cursor-paginated lists: 400, same error
    sb.inject_fault(GROUPS, kind="expired_cursor")
    page = api.get(sb.url + GROUPS, params={"page[size]": 1}).json()
    r = api.get(page["links"]["next"])
    assert r.status_code == 400 and r.json()["error"] == "InvalidPaginationParameter"


def test_expired_cursor_on_the_crms(crm_sb: Sandbox, hubspot: requests.Session,
                                    salesforce: requests.Session) -> None:
    crm_sb.inject_fault("/crm/", kind="expired_cursor")
    crm_sb.inject_fault(V, kind="expired_cursor")
    page = hubspot.get(crm_sb.url + COMPANIES, params={"limit": 1})
    assert page.status_code == 200
    r = hubspot.get(page.json()["paging"]["next"]["link"])
    assert r.status_code == 400
    assert r.json()["message"] == "Invalid paging cursor"
    assert r.json()["category"] == "VALIDATION_ERROR" and r.json()["status"] == "error"
    first = sf_query(salesforce, crm_sb)
    assert first.status_code == 200
    r = salesforce.get(crm_sb.url + first.json()["nextRecordsUrl"])
    assert r.status_code == 400
    assert r.json() == [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}]
    assert not crm_sb.faults.pending()


def test_expired_cursor_counts_a_search_after_as_a_cursor(crm_sb: Sandbox,
                                                          hubspot: requests.Session) -> None:
    crm_sb.inject_fault(f"{DEALS}/search", kind="expired_cursor")
    url = f"{crm_sb.url}{DEALS}/search"
    assert hubspot.post(url, json={"limit": 2}).status_code == 200
    assert hubspot.post(url, json={"limit": 2, "after": "2"}).status_code == 400


# --- bad_record -----------------------------------------------------------------------------


def test_bad_record_modes_on_zendesk(sb: Sandbox, api: requests.Session) -> None:
    params = {"start_time": 0, "per_page": 3}
    real = api.get(sb.url + EVENTS, params=params).json()["ticket_events"]
    sb.inject_fault(EVENTS, kind="bad_record", mode="missing_id", record_index=1)
    sb.inject_fault(EVENTS, kind="bad_record", mode="wrong_type")
    sb.inject_fault(EVENTS, kind="bad_record", mode="bad_timestamp")
    sb.inject_fault(EVENTS, kind="bad_record", mode="new_field")
    missing, wrong, stamp, new = (api.get(sb.url + EVENTS, params=params).json()["ticket_events"]
                                  for _ in range(4))
    assert "id" not in missing[1] and missing[0] == real[0] and missing[2] == real[2]
    assert wrong[0]["ticket_id"] == {"unexpected": "object"}  # the first integer id field
    assert stamp[0]["created_at"] == BAD_TIMESTAMP
    assert new[0]["x_new_field"] == 42 and {**new[0]} != real[0]
    # the API's own data is untouched
    assert api.get(sb.url + EVENTS, params=params).json()["ticket_events"] == real
    sb.inject_fault(TICKETS, kind="bad_record", mode="wrong_type")
    ticket = api.get(sb.url + TICKETS, params={"start_time": 0}).json()["tickets"][0]
    assert ticket["requester_id"] == {"unexpected": "object"}


def test_bad_record_modes_on_the_crms(crm_sb: Sandbox, hubspot: requests.Session,
                                      salesforce: requests.Session) -> None:
    crm_sb.inject_fault(DEALS, kind="bad_record", mode="wrong_type")
    crm_sb.inject_fault(DEALS, kind="bad_record", mode="bad_timestamp",
                        field="properties.hs_lastmodifieddate")
    crm_sb.inject_fault(DEALS, kind="bad_record", mode="new_field", field="color",
                        value="blue")
    crm_sb.inject_fault(DEALS, kind="bad_record", mode="missing_id")
    wrong, stamp, new, missing = (hubspot.get(crm_sb.url + DEALS).json()["results"][0]
                                  for _ in range(4))
    assert wrong["properties"]["amount"] == "twelve"
    assert stamp["properties"]["hs_lastmodifieddate"] == BAD_TIMESTAMP
    assert new["color"] == "blue" and "color" not in new["properties"]
    assert "id" not in missing and missing["properties"]["hs_object_id"]
    crm_sb.inject_fault(f"{V}/queryAll", kind="bad_record", mode="wrong_type")
    crm_sb.inject_fault(f"{V}/queryAll", kind="bad_record", mode="bad_timestamp")
    crm_sb.inject_fault(f"{V}/queryAll", kind="bad_record", mode="missing_id",
                        record_index=99)  # past the end: the last record
    wrong, stamp, missing = (sf_query(salesforce, crm_sb).json()["records"] for _ in range(3))
    assert wrong[0]["Amount"] == "twelve"
    assert stamp[0]["CreatedDate"] == BAD_TIMESTAMP
    assert "Id" not in missing[-1] and all("Id" in r for r in missing[:-1])
    # the query snapshot behind nextRecordsUrl is untouched
    first = sf_query(salesforce, crm_sb).json()
    assert all("Id" in r and r["Amount"] != "twelve" for r in first["records"])


# --- control endpoint and command line ------------------------------------------------------


def test_control_endpoint_accepts_every_kind(sb: Sandbox, api: requests.Session) -> None:
    control = sb.url + "/__sandbox/faults"
    specs: list[dict[str, Any]] = [
        {"kind": "status", "path_prefix": GROUPS, "status": 503, "retry_after": 2},
        {"kind": "reset", "path_prefix": "/api/v2/users"},
        {"kind": "timeout", "path_prefix": "/api/v2/users", "delay": 0.5},
        {"kind": "truncated", "path_prefix": TICKETS, "times": 2},
        {"kind": "repeat_page", "path_prefix": EVENTS},
        {"kind": "expired_cursor", "path_prefix": TICKETS},
        {"kind": "bad_record", "path_prefix": EVENTS, "mode": "new_field", "field": "x",
         "value": {"nested": [1, 2]}, "record_index": 2},
    ]
    for spec in specs:
        r = requests.post(control, json=spec)
        assert r.status_code == 201, r.text
        assert {k: r.json()["fault"][k] for k in spec} == spec
    assert [f["kind"] for f in requests.get(control).json()["faults"]] == \
        [s["kind"] for s in specs]
    r = api.get(sb.url + EVENTS, params={"start_time": 0})  # repeat_page: a first page twice
    events = r.json()["ticket_events"]
    assert len(events) == 2 * len(sb.api.index.audits)
    events = api.get(sb.url + EVENTS, params={"start_time": 0}).json()["ticket_events"]
    assert events[2]["x"] == {"nested": [1, 2]}
    assert requests.delete(control).json() == {"faults": []}


@pytest.mark.parametrize(("spec", "message"), [
    ({"kind": "bogus", "path_prefix": "/"}, "unknown fault kind 'bogus'"),
    ({"kind": "status", "path_prefix": "/"}, "needs status"),
    ({"kind": "reset", "path_prefix": "/", "status": 500}, "status applies only to 'status'"),
    ({"kind": "bad_record", "path_prefix": "/"}, "needs mode"),
    ({"kind": "bad_record", "path_prefix": "/", "mode": "explode"}, "needs mode"),
    ({"kind": "timeout", "path_prefix": "/", "delay": 0}, "delay must be > 0"),
    ({"kind": "reset", "path_prefix": "/", "colour": 1}, "unknown fault field(s) colour"),
    ({"kind": "reset", "path_prefix": "api/v2"}, "starting with '/'"),
    ({"kind": "reset", "path_prefix": "/", "times": 0}, "times must be >= 1"),
    ({"kind": "reset", "path_prefix": "/", "times": "many"}, "times must be a number"),
    ({"kind": "truncated", "path_prefix": "/", "mode": "missing_id"}, "only to 'bad_record'"),
    ({"kind": "reset"}, "path_prefix is required"),
    ([1, 2], "a fault is a JSON object"),
])
def test_control_endpoint_refuses_a_bad_spec_clearly(sb: Sandbox, spec: Any,
                                                     message: str) -> None:
    r = requests.post(sb.url + "/__sandbox/faults", json=spec)
    assert r.status_code == 400
    assert r.json()["error"] == "InvalidValue" and message in r.json()["description"]
    assert not sb.faults.pending()


def test_control_endpoint_refuses_a_body_that_is_not_json(sb: Sandbox) -> None:
    r = requests.post(sb.url + "/__sandbox/faults", data=b"status:/x")
    assert r.status_code == 400 and "not JSON" in r.json()["description"]


def test_inject_fault_refuses_a_bad_combination(sb: Sandbox) -> None:
    with pytest.raises(ValueError, match="needs mode"):
        sb.inject_fault("/api/v2/", kind="bad_record")
    with pytest.raises(ValueError, match="invalid HTTP status"):
        sb.inject_fault("/api/v2/", 99)


def test_fault_option_spelling() -> None:
    fault = parse_fault_option(
        "status:/api/v2/incremental/tickets:status=429,retry_after=1,times=2")
    assert fault == Fault("/api/v2/incremental/tickets", status=429, times=2, retry_after=1)
    fault = parse_fault_option('bad_record:/crm/v3/objects/deals:mode=new_field,field=x,'
                               'value={"a": 1, "b": [1,2]},record_index=3')
    assert (fault.kind, fault.mode, fault.field, fault.record_index) == \
        ("bad_record", "new_field", "x", 3)
    assert fault.value == {"a": 1, "b": [1, 2]}
    assert parse_fault_option("bad_record:/x:mode=wrong_type,value=abc").value == "abc"
    assert parse_fault_option("timeout:/x:delay=0.5").delay == 0.5
    assert parse_fault_option("reset:/services/data/").kind == "reset"
    for bad, message in (("reset", "expected KIND:PATH_PREFIX"),
                         ("status:/x:status", "not key=value"),
                         ("status:/x:status=5xx", "status must be a number"),
                         ("status:/x:status=503,status=500", "given twice"),
                         ("explode:/x", "unknown fault kind")):
        with pytest.raises(ValueError, match=message):
            parse_fault_option(bad)


def test_command_lines_take_limits_and_faults() -> None:
    argv = ["--rate-limit", "none", "--incremental-rate-limit", "20", "--hubspot-rate-limit",
            "190", "--hubspot-daily-limit", "250000", "--hubspot-search-rate-limit", "off",
            "--salesforce-daily-limit", "15000", "--salesforce-batch-size", "200",
            "--fault", "status:/api/v2/incremental/tickets:status=429,retry_after=1,times=2",
            "--fault", "reset:/crm/"]
    options = service_options(build_parser().parse_args(argv))
    args = helpdesk_etl_parser().parse_args(["sandbox", "--port", "0", *argv])
    assert service_options(args) == options
    assert options["rate_limit_per_minute"] is None
    assert options["incremental_rate_limit_per_minute"] == 20
    assert options["hubspot_rate_limit_per_10s"] == 190
    assert options["hubspot_daily_limit"] == 250000
    assert options["hubspot_search_rate_limit_per_second"] is None
    assert options["salesforce_daily_request_limit"] == 15000
    assert options["salesforce_batch_size"] == 200
    assert [(f.kind, f.path_prefix, f.status, f.times) for f in options["faults"]] == [
        ("status", "/api/v2/incremental/tickets", 429, 2), ("reset", "/crm/", None, 1)]
    defaults = service_options(build_parser().parse_args([]))
    assert defaults["rate_limit_per_minute"] == 700 and defaults["faults"] == []
    assert defaults["hubspot_rate_limit_per_10s"] == 100
    assert defaults["intercom_rate_limit_per_10s"] == 1666  # 10,000 a minute per app
    assert service_options(build_parser().parse_args(
        ["--intercom-rate-limit", "none"]))["intercom_rate_limit_per_10s"] is None
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--fault", "status:/x"])


def test_serve_applies_the_command_line_limits_and_faults(
        capsys: pytest.CaptureFixture[str]) -> None:
    """`--hubspot-rate-limit 2 --fault ...` end to end: the served sandbox has both."""
    args = build_parser().parse_args([
        "--hubspot-rate-limit", "2", "--salesforce-daily-limit", "1",
        "--fault", "status:/api/v2/groups:status=503,retry_after=4"])
    stop = threading.Event()
    thread = threading.Thread(target=serve, kwargs={
        "port": 0, "seed": 3, "tickets": 10, "days": 3, "end_date": "2024-06-30",
        "stop_event": stop, **service_options(args)})
    thread.start()
    try:
        out, deadline = "", time.monotonic() + 10
        while "Press Ctrl-C" not in out and time.monotonic() < deadline:
            out += capsys.readouterr().out
            time.sleep(0.05)
        url = re.search(r"ZENDESK_BASE_URL=(\S+)", out)
        assert url is not None, out
        base = url.group(1)
        assert "Fault queued: status on /api/v2/groups x1" in out
        assert "HubSpot 2/10 s" in out
        r = requests.get(base + GROUPS)
        assert r.status_code == 503 and r.headers["Retry-After"] == "4"
        hub = {"Authorization": "Bearer " + re.search(r"HUBSPOT_ACCESS_TOKEN=(\S+)", out)[1]}
        statuses = [requests.get(base + COMPANIES, headers=hub).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        sf = {"Authorization": "Bearer " + re.search(r"SALESFORCE_ACCESS_TOKEN=(\S+)", out)[1]}
        statuses = [requests.get(f"{base}{V}/query", params={"q": OPPORTUNITIES},
                                 headers=sf).status_code for _ in range(2)]
        assert statuses == [200, 403]  # REQUEST_LIMIT_EXCEEDED
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
