"""The fault suite: every agreed fault, injected into the sandbox while the real connector
lands one table through dlt into a fresh DuckDB, with what was lost, duplicated or
quarantined measured against the world the sandbox serves.

Each case makes exactly one pipeline run (no re-run hides a failure: "runs made" says so),
asserts the behaviour the fault interface promises (docs/sandbox.md, "Faults"), and adds a
row to the table printed at the end of the session (tests/faults/conftest.py).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dlt
import pytest

from connectors.http import RetryPolicy
from connectors.hubspot import hubspot_source
from connectors.salesforce import salesforce_source
from connectors.zendesk import zendesk_source
from sandbox import Sandbox, World, generate_world
from sandbox.timeline import derive_ticket
from tests.connectors.landing import new_pipeline, quarantined, root_error
from tests.connectors.test_hubspot import crm_world
from tests.faults.report import ROWS, FaultRow

BEGINNING = datetime(2000, 1, 1, tzinfo=UTC)
#: Short waits: a case is about what is landed, not about waiting (Retry-After still wins).
QUICK_RETRY = RetryPolicy(max_attempts=4, backoff_seconds=0.01, max_backoff_seconds=0.05)
#: Small pages, so every table spans several pages (and a fault can hit a middle one).
ZENDESK_PAGE_SIZE = {"tickets": 4, "ticket_events": 10}
HUBSPOT_PAGE_SIZE = 5
SALESFORCE_BATCH = 5
#: The `timeout` fault: the sandbox is silent this long; the client's read timeout, where
#: the source lets the caller set one, is shorter.
TIMEOUT_DELAY = 3.0
READ_TIMEOUT = 1.0
#: Where a source has no read-timeout setting, the sandbox hangs up after this long instead
#: (the default 120-second read timeout would make the case slow, not different).
HANG_UP_DELAY = 1.0

TICKETS = "/api/v2/incremental/tickets/cursor.json"
EVENTS = "/api/v2/incremental/ticket_events.json"
DEALS = "/crm/v3/objects/deals"
COMPANIES = "/crm/v3/objects/companies"
SF = "/services/data/v60.0"
SF_FIRST = f"{SF}/queryAll"
SF_MORE = f"{SF}/query/"

RECOVERED, QUARANTINED, FAILED, NEW_COLUMN = "recovered", "quarantined", "failed", "new column"


@dataclass(frozen=True)
class Case:
    """One fault case: where, what, and the outcome the fault interface promises."""

    id: str
    source: str  # zendesk | hubspot | salesforce
    table: str  # the resource / landed table
    faults: tuple[dict[str, Any], ...]
    expect: str  # RECOVERED | QUARANTINED | FAILED | NEW_COLUMN
    endpoint: str = ""  # FAILED: the endpoint the error must name
    cause: tuple[str, ...] = ()  # FAILED: words the error must carry (any one of them)
    new_column: str = "x_new_field"
    options: dict[str, Any] = field(default_factory=dict)


def fault(path_prefix: str, kind: str = "status", **fields: Any) -> dict[str, Any]:
    return {"path_prefix": path_prefix, "kind": kind, **fields}


def status(path_prefix: str, code: int, **fields: Any) -> dict[str, Any]:
    return fault(path_prefix, "status", status=code, **fields)


def bad(path_prefix: str, mode: str, **fields: Any) -> dict[str, Any]:
    return fault(path_prefix, "bad_record", mode=mode, **fields)


CASES = [
    # --- Zendesk tickets (cursor-based incremental export) ------------------------------------
    Case("zd-tickets-429-retry-after", "zendesk", "tickets",
         (status(TICKETS, 429, retry_after=1),), RECOVERED),
    Case("zd-tickets-429-no-header", "zendesk", "tickets", (status(TICKETS, 429, times=2),),
         RECOVERED),
    Case("zd-tickets-503", "zendesk", "tickets", (status(TICKETS, 503, times=2),), RECOVERED),
    Case("zd-tickets-504", "zendesk", "tickets", (status(TICKETS, 504),), RECOVERED),
    Case("zd-tickets-reset", "zendesk", "tickets", (fault(TICKETS, "reset", times=2),),
         RECOVERED),
    Case("zd-tickets-timeout", "zendesk", "tickets", (fault(TICKETS, "timeout"),), RECOVERED),
    Case("zd-tickets-truncated", "zendesk", "tickets", (fault(TICKETS, "truncated", times=2),),
         RECOVERED),
    Case("zd-tickets-repeat-page", "zendesk", "tickets",
         (fault(TICKETS, "repeat_page", times=3),), RECOVERED),
    Case("zd-tickets-expired-cursor", "zendesk", "tickets",
         (fault(TICKETS, "expired_cursor"),), RECOVERED),
    Case("zd-tickets-missing-id", "zendesk", "tickets", (bad(TICKETS, "missing_id"),),
         QUARANTINED),
    Case("zd-tickets-bad-timestamp", "zendesk", "tickets",
         (bad(TICKETS, "bad_timestamp", record_index=1),), QUARANTINED),
    Case("zd-tickets-wrong-type", "zendesk", "tickets", (bad(TICKETS, "wrong_type"),),
         QUARANTINED),
    Case("zd-tickets-new-field", "zendesk", "tickets", (bad(TICKETS, "new_field"),),
         NEW_COLUMN),
    Case("zd-tickets-401", "zendesk", "tickets", (status(TICKETS, 401),), FAILED,
         endpoint=TICKETS, cause=("401",)),
    Case("zd-tickets-404", "zendesk", "tickets", (status(TICKETS, 404),), FAILED,
         endpoint=TICKETS, cause=("404",)),
    Case("zd-tickets-503-exhausted", "zendesk", "tickets", (status(TICKETS, 503, times=50),),
         FAILED, endpoint=TICKETS, cause=("attempts",)),
    # --- Zendesk ticket events (time-based incremental export) --------------------------------
    Case("zd-events-429-no-header", "zendesk", "ticket_events", (status(EVENTS, 429),),
         RECOVERED),
    Case("zd-events-reset", "zendesk", "ticket_events", (fault(EVENTS, "reset"),), RECOVERED),
    Case("zd-events-truncated", "zendesk", "ticket_events", (fault(EVENTS, "truncated"),),
         RECOVERED),
    Case("zd-events-repeat-page", "zendesk", "ticket_events",
         (fault(EVENTS, "repeat_page", times=3),), RECOVERED),
    Case("zd-events-missing-id", "zendesk", "ticket_events", (bad(EVENTS, "missing_id"),),
         QUARANTINED),
    Case("zd-events-wrong-type", "zendesk", "ticket_events", (bad(EVENTS, "wrong_type"),),
         QUARANTINED),
    Case("zd-events-bad-timestamp", "zendesk", "ticket_events",
         (bad(EVENTS, "bad_timestamp", record_index=2),), QUARANTINED),
    Case("zd-events-new-field", "zendesk", "ticket_events", (bad(EVENTS, "new_field"),),
         NEW_COLUMN),
    Case("zd-events-404", "zendesk", "ticket_events", (status(EVENTS, 404),), FAILED,
         endpoint=EVENTS, cause=("404",)),
    # --- HubSpot deals and companies ----------------------------------------------------------
    Case("hs-deals-429-no-header", "hubspot", "deals", (status(DEALS, 429),), RECOVERED),
    Case("hs-deals-429-retry-after", "hubspot", "deals", (status(DEALS, 429, retry_after=1),),
         RECOVERED),
    Case("hs-deals-502", "hubspot", "deals", (status(DEALS, 502, times=2),), RECOVERED),
    Case("hs-deals-reset", "hubspot", "deals", (fault(DEALS, "reset"),), RECOVERED),
    Case("hs-deals-timeout", "hubspot", "deals", (fault(DEALS, "timeout"),), RECOVERED),
    Case("hs-deals-truncated", "hubspot", "deals", (fault(DEALS, "truncated"),), RECOVERED),
    Case("hs-deals-repeat-page", "hubspot", "deals", (fault(DEALS, "repeat_page", times=3),),
         RECOVERED),
    Case("hs-deals-expired-cursor", "hubspot", "deals", (fault(DEALS, "expired_cursor"),),
         FAILED, endpoint=DEALS, cause=("cursor",)),
    Case("hs-deals-missing-id", "hubspot", "deals", (bad(DEALS, "missing_id"),), QUARANTINED),
    Case("hs-deals-wrong-type", "hubspot", "deals", (bad(DEALS, "wrong_type"),), QUARANTINED),
    # (the default field, properties.createdate, is not a property the connector lands)
    Case("hs-deals-bad-timestamp", "hubspot", "deals",
         (bad(DEALS, "bad_timestamp", record_index=3, field="properties.closedate"),),
         QUARANTINED),
    Case("hs-deals-new-field", "hubspot", "deals", (bad(DEALS, "new_field"),), NEW_COLUMN),
    Case("hs-deals-401", "hubspot", "deals", (status(DEALS, 401),), FAILED, endpoint=DEALS,
         cause=("401",)),
    Case("hs-deals-429-exhausted", "hubspot", "deals", (status(DEALS, 429, times=50),), FAILED,
         endpoint=DEALS, cause=("attempts",)),
    Case("hs-companies-503", "hubspot", "companies", (status(COMPANIES, 503),), RECOVERED),
    Case("hs-companies-403", "hubspot", "companies", (status(COMPANIES, 403),), FAILED,
         endpoint=COMPANIES, cause=("403",)),
    # --- Salesforce opportunities and accounts ------------------------------------------------
    Case("sf-opps-503", "salesforce", "opportunities", (status(SF_MORE, 503, times=2),),
         RECOVERED),
    Case("sf-opps-500", "salesforce", "opportunities", (status(SF_FIRST, 500),), RECOVERED),
    Case("sf-opps-reset", "salesforce", "opportunities", (fault(SF_MORE, "reset"),), RECOVERED),
    Case("sf-opps-timeout", "salesforce", "opportunities", (fault(SF_MORE, "timeout"),),
         RECOVERED),
    Case("sf-opps-truncated", "salesforce", "opportunities", (fault(SF_MORE, "truncated"),),
         RECOVERED),
    Case("sf-opps-repeat-page", "salesforce", "opportunities",
         (fault(SF_MORE, "repeat_page", times=2),), RECOVERED),
    Case("sf-opps-expired-cursor", "salesforce", "opportunities",
         (fault(SF, "expired_cursor"),), RECOVERED),
    Case("sf-opps-missing-id", "salesforce", "opportunities", (bad(SF_MORE, "missing_id"),),
         QUARANTINED),
    Case("sf-opps-wrong-type", "salesforce", "opportunities", (bad(SF_FIRST, "wrong_type"),),
         QUARANTINED),
    Case("sf-opps-bad-timestamp", "salesforce", "opportunities",
         (bad(SF_MORE, "bad_timestamp"),), QUARANTINED),
    Case("sf-opps-new-field", "salesforce", "opportunities", (bad(SF_FIRST, "new_field"),),
         NEW_COLUMN),
    Case("sf-opps-401", "salesforce", "opportunities", (status(SF_FIRST, 401),), FAILED,
         endpoint=SF_FIRST, cause=("401",)),
    Case("sf-opps-404", "salesforce", "opportunities", (status(SF_MORE, 404),), FAILED,
         endpoint=SF_MORE, cause=("404",)),
    Case("sf-accounts-expired-cursor", "salesforce", "accounts",
         (fault(SF, "expired_cursor"),), RECOVERED),
]


# --- worlds and sources -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def zendesk_world() -> World:
    """A small helpdesk: a few pages of tickets and many pages of events at page size 4."""
    return generate_world(seed=11, tickets=12, days=4, end_date=date(2024, 3, 10))


@pytest.fixture(scope="module")
def hubspot_world() -> World:
    """A small CRM (archived companies and deals included) for HubSpot and Salesforce."""
    return crm_world(companies=12, deals=20)


def expected_rows(world: World, table: str) -> int:
    """How many rows of `table` the world holds (the whole history is extracted)."""
    if table == "tickets":
        return len(world.tickets)
    if table == "ticket_events":
        return sum(len(derive_ticket(t).audits) for t in world.tickets)
    if table in ("deals", "opportunities"):
        return len(world.deals)
    return len(world.crm_companies)


def accepts(function: Callable[..., Any], name: str) -> bool:
    return name in inspect.signature(function).parameters


def source_for(case: Case, sb: Sandbox) -> Any:
    """The real connector source for the case's table, pointed at the sandbox."""
    creds = sb.credentials
    common: dict[str, Any] = {"start": BEGINNING, "retry": QUICK_RETRY}
    if case.source == "zendesk":
        function: Callable[..., Any] = zendesk_source
        arguments = {"email": creds["email"], "api_token": creds["api_token"],
                     "base_url": sb.url, "page_size": ZENDESK_PAGE_SIZE[case.table], **common}
    elif case.source == "hubspot":
        function = hubspot_source
        arguments = {"access_token": creds["hubspot_access_token"], "base_url": sb.url,
                     "page_size": HUBSPOT_PAGE_SIZE, **common}
    else:
        function = salesforce_source
        arguments = {"instance_url": sb.url, "access_token": creds["salesforce_access_token"],
                     **common}
    if accepts(function, "timeout_seconds") and any(f["kind"] == "timeout" for f in case.faults):
        arguments["timeout_seconds"] = READ_TIMEOUT
    return function(**arguments).with_resources(case.table)


def describe(faults: tuple[dict[str, Any], ...], source_function: Callable[..., Any]) -> str:
    """A short text for the table's fault column."""
    parts = []
    for spec in faults:
        extra = {k: v for k, v in spec.items() if k not in ("path_prefix", "kind", "times")}
        text = spec["kind"] if spec["kind"] != "status" else f"HTTP {extra.pop('status')}"
        if extra:
            text += " " + ",".join(f"{k}={v}" for k, v in extra.items())
        if spec.get("times", 1) > 1:
            text += f" x{spec['times']}"
        if spec["kind"] == "timeout" and not accepts(source_function, "timeout_seconds"):
            text += f" (no read-timeout setting: hang-up after {HANG_UP_DELAY:g} s)"
        parts.append(text)
    return "; ".join(parts)


# --- measuring ------------------------------------------------------------------------------


@dataclass
class Landed:
    """What a run left in the case's dataset."""

    rows: int = 0
    duplicates: int = 0
    columns: set[str] = field(default_factory=set)
    #: (table_name, reason) of every row of `raw_<source>._quarantine`
    rejected: list[tuple[str | None, str]] = field(default_factory=list)


def measure(pipeline: dlt.Pipeline, table: str) -> Landed:
    """Rows, duplicates (rows minus distinct ids) and columns of `table`, and the source's
    quarantined records (nothing if the run never created the dataset)."""
    found = Landed()
    try:
        connection = pipeline.sql_client()
    except Exception:  # no destination dataset at all
        return found
    with connection as client:
        found.columns = {c for (c,) in client.execute_sql(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s", pipeline.dataset_name, table)}
        if found.columns:
            count, distinct = client.execute_sql(
                f"SELECT count(*), count(DISTINCT id) FROM "
                f"{client.make_qualified_table_name(table)}")[0]
            found.rows, found.duplicates = count, count - distinct
    found.rejected = [(row["table_name"], row["reason"] or "") for row in quarantined(pipeline)]
    return found


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


@pytest.fixture
def sandbox_for(zendesk_world: World, hubspot_world: World) -> Iterator[Callable[[Case], Sandbox]]:
    """A running sandbox for a case (no rate limits: the faults are what is tested)."""
    started: list[Sandbox] = []

    def start(case: Case) -> Sandbox:
        world = zendesk_world if case.source == "zendesk" else hubspot_world
        sb = Sandbox(world, port=0, rate_limit_per_minute=None,
                     incremental_rate_limit_per_minute=None, hubspot_rate_limit_per_10s=None,
                     hubspot_search_rate_limit_per_second=None,
                     salesforce_daily_request_limit=None, salesforce_batch_size=SALESFORCE_BATCH)
        started.append(sb.start())
        return sb

    yield start
    for sb in started:
        sb.stop()


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_fault_case(case: Case, sandbox_for: Callable[[Case], Sandbox], tmp_path: Path,
                    zendesk_world: World, hubspot_world: World) -> None:
    world = zendesk_world if case.source == "zendesk" else hubspot_world
    sb = sandbox_for(case)
    source = source_for(case, sb)
    function = {"zendesk": zendesk_source, "hubspot": hubspot_source,
                "salesforce": salesforce_source}[case.source]
    short_timeout = accepts(function, "timeout_seconds")
    for spec in case.faults:
        spec = dict(spec)
        if spec["kind"] == "timeout":
            spec["delay"] = TIMEOUT_DELAY if short_timeout else HANG_UP_DELAY
        sb.inject_fault(**spec)
    pipeline = new_pipeline(tmp_path, f"raw_{case.source}")

    error: BaseException | None = None
    runs = 1  # exactly one run: a retry inside the connector is the only recovery allowed
    try:
        pipeline.run(source)
    except Exception as exc:  # the outcome is measured, then asserted below
        error = root_error(exc)

    expected = expected_rows(world, case.table)
    found = measure(pipeline, case.table)
    if error is not None:
        outcome = f"failed: {first_line(error)}"
    elif found.rejected:
        outcome = QUARANTINED
    else:
        outcome = RECOVERED
    new_column = case.expect == NEW_COLUMN and case.new_column in found.columns
    if new_column:
        outcome += f" (new column {case.new_column})"
    row = FaultRow(case=case.id, table=f"{case.source}.{case.table}",
                   fault=describe(case.faults, function), runs=runs, requests=len(sb.requests),
                   expected=expected, landed=found.rows, duplicates=found.duplicates,
                   quarantined=len(found.rejected), outcome=outcome,
                   expected_outcome=expected_outcome(case))
    ROWS.append(row)
    try:
        check(case, row, error, found.rejected, new_column)
    except AssertionError:
        row.verdict = "FAIL"
        raise
    row.verdict = "ok"


def expected_outcome(case: Case) -> str:
    """The promise, short (a failure must name source, endpoint and cause)."""
    if case.expect == FAILED:
        return f"clear error ({'/'.join(case.cause)})"
    if case.expect == QUARANTINED:
        return "1 quarantined, rest landed"
    if case.expect == NEW_COLUMN:
        return f"new column {case.new_column}"
    return "0 lost, 0 duplicated"


def check(case: Case, row: FaultRow, error: BaseException | None,
          rejected: list[tuple[str | None, str]], new_column: bool) -> None:
    """The behaviour the fault interface promises for the case."""
    if case.expect == FAILED:
        assert error is not None, f"{case.id}: the run succeeded despite a permanent fault"
        message = str(error)
        assert case.source in message.lower(), f"the error does not name the source: {message}"
        assert case.endpoint in message, f"the error does not name {case.endpoint}: {message}"
        assert any(word in message for word in case.cause), \
            f"the error does not give the cause ({case.cause}): {message}"
        return
    assert error is None, f"{case.id}: {row.outcome}"
    assert row.duplicates == 0, f"{case.id}: {row.duplicates} duplicated rows"
    if case.expect == QUARANTINED:
        # one record of the table; rows it carried into other tables (a ticket's metric
        # set) may be quarantined with it, under their own table_name
        mine = [reason for table, reason in rejected if table in (case.table, None)]
        assert len(mine) == 1, f"{case.id}: {len(mine)} {case.table} rows quarantined: {mine}"
        assert all(reason.strip() for _, reason in rejected), "quarantined without a reason"
        assert row.landed == row.expected - 1, \
            f"{case.id}: {row.landed} of the other {row.expected - 1} rows landed"
        return
    assert row.quarantined == 0, f"{case.id}: {row.quarantined} rows quarantined: {rejected}"
    assert row.landed == row.expected, f"{case.id}: {row.landed} of {row.expected} rows landed"
    if case.expect == NEW_COLUMN:
        assert new_column, f"{case.id}: no column {case.new_column} in {case.table}"
