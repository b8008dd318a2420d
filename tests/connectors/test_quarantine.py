"""Faults in the data and the paging, over real HTTP against the sandbox's fault injection:
bad records go to `_quarantine` while the rest lands, new fields become columns, expired
cursors are recovered (or refused clearly), read timeouts are retried; and the raw asset's
materialization says how many records were quarantined."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import pytest
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from connectors.http import ApiError
from sandbox import Sandbox, World, generate_world
from tests.connectors import test_hubspot as hubspot
from tests.connectors import test_salesforce as salesforce
from tests.connectors import test_zendesk as zendesk
from tests.connectors.landing import columns, new_pipeline, quarantined, query
from tests.integration.pipeline_runner import configure
from warehouse import Warehouse

#: A fixed window covering every test world, so re-runs extract exactly the same pages.
WINDOW = {"start": datetime(2000, 1, 1, tzinfo=UTC), "end": datetime(2025, 1, 1, tzinfo=UTC)}
TICKETS = "/api/v2/incremental/tickets"
EVENTS = "/api/v2/incremental/ticket_events"
DEALS = "/crm/v3/objects/deals"
QUERY_ALL = salesforce.QUERY_ALL
#: Prefix of the first query (`queryAll?q=`) and its next batches (`query/<locator>`).
QUERIES = "/services/data/v60.0/query"


@pytest.fixture(scope="module")
def helpdesk() -> World:
    """A small helpdesk (several pages at page size 7) and a small CRM."""
    world = generate_world(seed=7, tickets=60, days=6, end_date=zendesk.LAST_DAY, crm_months=0)
    crm = hubspot.crm_world()
    world.crm_companies, world.deals = crm.crm_companies, crm.deals
    return world


@pytest.fixture
def sandbox(helpdesk: World):
    """The sandbox serving the world, Salesforce in batches of 5, no incremental limit."""
    with Sandbox(
        helpdesk,
        port=0,
        rate_limit_per_minute=None,
        incremental_rate_limit_per_minute=None,
        salesforce_batch_size=5,
    ) as sb:
        yield sb


def source(kind: str, sb: Sandbox, **overrides: Any) -> Any:
    """The `kind` source pointed at `sb` for the fixed window, small pages, quick retries."""
    if kind == "zendesk":
        return zendesk.source_for(sb, page_size=7, **WINDOW, **overrides)
    if kind == "hubspot":
        return hubspot.source_for(sb, page_size=5, **WINDOW, **overrides)
    return salesforce.source_for(sb, **WINDOW, **overrides)


# (source, resource, table, fault path, mode, quarantined column, words in the reason)
BAD_RECORDS = [
    ("zendesk", "tickets", "tickets", TICKETS, "missing_id", "id", "id is missing"),
    ("zendesk", "tickets", "tickets", TICKETS, "bad_timestamp", "created_at", "not-a-timestamp"),
    ("zendesk", "tickets", "tickets", TICKETS, "wrong_type", "requester_id", "not a valid bigint"),
    ("zendesk", "ticket_events", "ticket_events", "/api/v2/incremental/ticket_events",
     "bad_timestamp", "created_at", "not-a-timestamp"),
    ("zendesk", "ticket_events", "ticket_events", "/api/v2/incremental/ticket_events",
     "wrong_type", "ticket_id", "not a valid bigint"),
    ("zendesk", "users", "users", "/api/v2/incremental/users", "wrong_type", "organization_id",
     "not a valid bigint"),
    ("zendesk", "groups", "groups", "/api/v2/groups", "missing_id", "id", "id is missing"),
    ("hubspot", "deals", "deals", DEALS, "missing_id", "id", "id is missing"),
    ("hubspot", "deals", "deals", DEALS, "bad_timestamp", None, "properties.createdate"),
    ("hubspot", "deals", "deals", DEALS, "wrong_type", "amount", "'twelve' is not a valid decimal"),
    ("hubspot", "companies", "companies", "/crm/v3/objects/companies", "wrong_type", "archived",
     "not a valid bool"),
    ("salesforce", "opportunities", "opportunities", QUERY_ALL, "missing_id", "id",
     "id is missing"),
    ("salesforce", "opportunities", "opportunities", QUERY_ALL, "bad_timestamp", "created_date",
     "not-a-timestamp"),
    ("salesforce", "opportunities", "opportunities", QUERY_ALL, "wrong_type", "amount",
     "'twelve' is not a valid decimal"),
]


def world_count(world: World, table: str) -> int:
    """How many rows `table` holds when the whole world lands."""
    expected = zendesk.expected_counts(world)
    expected.update(companies=len(world.crm_companies), deals=len(world.deals),
                    accounts=len(world.crm_companies), opportunities=len(world.deals))
    return expected[table]


@pytest.mark.parametrize(
    ("kind", "resource", "table", "path", "mode", "column", "reason"),
    BAD_RECORDS,
    ids=[f"{b[0]}-{b[1]}-{b[4]}" for b in BAD_RECORDS],
)
def test_a_bad_record_is_quarantined_and_the_rest_lands_once(
    sandbox, helpdesk, tmp_path, kind, resource, table, path, mode, column, reason
):
    check_one_record_quarantined(
        sandbox, helpdesk, tmp_path, kind, resource, table, path, column, reason, mode=mode
    )


# Values that once escaped the quarantine and stopped the whole run (an unhashable stage,
# associations of the wrong JSON type, a Unix time beyond the platform's range): (source,
# resource, table, fault path, mode, field, value, quarantined column, words in the reason).
MALFORMED_VALUES = [
    ("zendesk", "tickets", "tickets", TICKETS, "bad_timestamp", "due_at", 2**62, "due_at",
     "due_at = 4611686018427387904 is not a valid timestamp"),
    ("zendesk", "ticket_events", "ticket_events", EVENTS, "bad_timestamp", "created_at", 1e20,
     "created_at", "created_at = 1e+20 is not a valid timestamp"),
    ("hubspot", "deals", "deals", DEALS, "bad_timestamp", "properties.createdate",
     "100000000000000000000", None,
     "properties.createdate = '100000000000000000000' is not a valid timestamp"),
    ("hubspot", "deals", "deals", DEALS, "wrong_type", "properties.dealstage",
     {"unexpected": "object"}, "is_won",
     "properties.dealstage = {'unexpected': 'object'} is not text"),
    ("hubspot", "deals", "deals", DEALS, "wrong_type", "properties.dealstage", ["closedwon"],
     "is_won", "properties.dealstage = ['closedwon'] is not text"),
    ("hubspot", "deals", "deals", DEALS, "wrong_type", "associations", ["companies"],
     "company_id", "associations = ['companies'] is not a JSON object"),
    ("hubspot", "deals", "deals", DEALS, "wrong_type", "associations.companies", "deal_to",
     "company_id", "associations.companies = 'deal_to' is not a JSON object"),
    ("salesforce", "opportunities", "opportunities", QUERY_ALL, "bad_timestamp", "CreatedDate",
     "100000000000000000000", "created_date",
     "CreatedDate = '100000000000000000000' is not a valid timestamp"),
]


@pytest.mark.parametrize(
    ("kind", "resource", "table", "path", "mode", "field", "value", "column", "reason"),
    MALFORMED_VALUES,
    ids=[f"{m[0]}-{m[1]}-{m[5]}={type(m[6]).__name__}" for m in MALFORMED_VALUES],
)
def test_a_value_that_breaks_shaping_is_quarantined_and_the_rest_lands_once(
    sandbox, helpdesk, tmp_path, kind, resource, table, path, mode, field, value, column, reason
):
    check_one_record_quarantined(
        sandbox, helpdesk, tmp_path, kind, resource, table, path, column, reason,
        mode=mode, field=field, value=value,
    )


def check_one_record_quarantined(
    sandbox, helpdesk, tmp_path, kind, resource, table, path, column, reason, **fault
):
    """Run the window twice with one record spoilt by a `bad_record` fault each time: that
    record is quarantined once (naming `column` and `reason`), every other record lands."""
    mode = fault["mode"]
    pipeline = new_pipeline(tmp_path, f"raw_{kind}")
    for _ in range(2):  # the same window twice: no duplicate in the quarantine
        sandbox.inject_fault(path, kind="bad_record", **fault)
        pipeline.run(source(kind, sandbox).with_resources(resource))
        rows = [r for r in quarantined(pipeline) if r["table_name"] == table]
        assert len(rows) == 1, rows
        [row] = rows
        landed = query(pipeline, f"SELECT count(*), count(DISTINCT id) FROM {table}")[0]
        assert landed == (world_count(helpdesk, table) - 1,) * 2
    assert not sandbox.faults.pending()
    assert row["source"] == kind and row["endpoint"].startswith(path)
    assert "?" not in row["endpoint"] and "://" not in row["endpoint"]
    assert row["column_name"] == column
    assert reason in row["reason"]
    assert (row["record_id"] is None) == (mode == "missing_id")
    if row["record_id"] is not None:
        record_id = row["record_id"] if kind == "salesforce" else int(row["record_id"])
        assert query(pipeline, f"SELECT count(*) FROM {table} WHERE id = %s", record_id) == [(0,)]
    assert isinstance(row["loaded_at"], datetime) and row["loaded_at"].tzinfo is not None


def test_quarantined_records_keep_no_free_text_unless_asked(sandbox, tmp_path):
    for land_free_text in (False, True):
        pipeline = new_pipeline(tmp_path / str(land_free_text), "raw_zendesk")
        sandbox.inject_fault(TICKETS, kind="bad_record", mode="bad_timestamp")
        pipeline.run(
            source("zendesk", sandbox, land_free_text=land_free_text).with_resources("tickets")
        )
        [row] = quarantined(pipeline)
        private = ('"subject"', '"description"', '"raw_subject"', '"custom_fields"')
        assert any(key in row["record"] for key in private) == land_free_text
        assert '"status"' in row["record"]


def test_an_audit_with_a_child_event_that_is_not_an_object_is_quarantined_whole(
    sandbox, tmp_path
):
    sandbox.inject_fault(
        "/api/v2/incremental/ticket_events",
        status=200,
        body='{"ticket_events": [{"id": 1, "ticket_id": 9, "created_at": "2024-03-05T10:00:00Z",'
        ' "child_events": [{"id": 11, "event_type": "Create"}, "oops"]}, {"id": 2, '
        '"ticket_id": 9, "created_at": "2024-03-05T11:00:00Z", "child_events": [{"id": 21, '
        '"event_type": "Change", "field_name": "status", "value": "open"}]}], '
        '"end_of_stream": true}',
    )
    pipeline = new_pipeline(tmp_path, "raw_zendesk")
    pipeline.run(source("zendesk", sandbox).with_resources("ticket_events"))
    assert query(pipeline, "SELECT id FROM ticket_events") == [(2,)]
    assert query(pipeline, "SELECT id, audit_id FROM ticket_child_events") == [(21, 2)]
    [row] = quarantined(pipeline)
    assert (row["record_id"], row["column_name"]) == ("1", "child_events")
    assert "not a JSON object" in row["reason"]


@pytest.mark.parametrize(
    ("child", "reason"),
    [
        ({"event_type": "Change", "field_name": ["subject"]},
         "a child event's field_name = ['subject'] is not text"),
        ({"event_type": {"name": "Change"}, "field_name": "subject"},
         "a child event's event_type = {'name': 'Change'} is not text"),
        ({"type": ["Change"], "field_name": "subject"},
         "a child event's type = ['Change'] is not text"),
    ],
    ids=["field_name=list", "event_type=object", "type=list"],
)
def test_an_audit_with_a_child_event_type_or_field_that_is_not_text_is_quarantined_whole(
    sandbox, tmp_path, child, reason
):
    bad = {"id": 1, "ticket_id": 9, "created_at": "2024-03-05T10:00:00Z",
           "child_events": [{"id": 11, "event_type": "Create"},
                            {"id": 12, "value": "a private subject", **child}]}
    good = {"id": 2, "ticket_id": 9, "created_at": "2024-03-05T11:00:00Z",
            "child_events": [{"id": 21, "event_type": "Change", "field_name": "status",
                              "value": "open"}]}
    sandbox.inject_fault(
        EVENTS, status=200,
        body=json.dumps({"ticket_events": [bad, good], "end_of_stream": True}),
    )
    pipeline = new_pipeline(tmp_path, "raw_zendesk")
    pipeline.run(source("zendesk", sandbox).with_resources("ticket_events"))
    assert query(pipeline, "SELECT id FROM ticket_events") == [(2,)]
    assert query(pipeline, "SELECT id, audit_id, field_name, value FROM ticket_child_events") == [
        (21, 2, "status", "open")
    ]
    [row] = quarantined(pipeline)
    assert (row["table_name"], row["record_id"], row["column_name"]) == (
        "ticket_events", "1", "child_events"
    )
    assert reason in row["reason"]
    assert "a private subject" not in row["record"]  # redacted as any field change


@pytest.mark.parametrize("ticket_id", [{"id": 5}, [5]], ids=["object", "list"])
def test_a_metric_set_whose_ticket_id_is_not_a_number_is_quarantined(
    sandbox, tmp_path, ticket_id
):
    sandbox.inject_fault(
        TICKETS, status=200,
        body=json.dumps({
            "tickets": [{"id": 5, "generated_timestamp": 1709900000},
                        {"id": 6, "generated_timestamp": 1709900001}],
            "metric_sets": [{"id": 77, "ticket_id": ticket_id}, {"id": 78, "ticket_id": 5},
                            {"id": 79, "ticket_id": 6}],
            "end_of_stream": True,
        }),
    )
    pipeline = new_pipeline(tmp_path, "raw_zendesk")
    pipeline.run(source("zendesk", sandbox).with_resources("tickets"))
    assert query(pipeline, "SELECT id FROM tickets ORDER BY id") == [(5,), (6,)]
    assert query(pipeline, "SELECT id, ticket_id FROM ticket_metric_sets ORDER BY id") == [
        (78, 5), (79, 6)
    ]
    [row] = quarantined(pipeline)
    assert (row["table_name"], row["record_id"], row["column_name"]) == (
        "ticket_metric_sets", "77", "ticket_id"
    )
    assert f"ticket_id = {ticket_id!r} is not a valid bigint" in row["reason"]


def test_an_audit_whose_id_is_an_object_is_quarantined_with_its_children(sandbox, tmp_path):
    # The page then fails to convert; its audits were once looked up by (unhashable) id.
    sandbox.inject_fault(
        EVENTS, status=200,
        body='{"ticket_events": [{"id": {"x": 1}, "ticket_id": 9, "created_at": '
        '"2024-03-05T10:00:00Z", "child_events": [{"id": 11, "event_type": "Create"}]}, '
        '{"id": 2, "ticket_id": 9, "created_at": "2024-03-05T11:00:00Z", "child_events": '
        '[{"id": 21, "event_type": "Comment"}]}], "end_of_stream": true}',
    )
    pipeline = new_pipeline(tmp_path, "raw_zendesk")
    pipeline.run(source("zendesk", sandbox).with_resources("ticket_events"))
    assert query(pipeline, "SELECT id FROM ticket_events") == [(2,)]
    assert query(pipeline, "SELECT id, audit_id FROM ticket_child_events") == [(21, 2)]
    [row] = quarantined(pipeline)
    assert row["column_name"] == "id" and "not a valid bigint" in row["reason"]


def test_a_record_that_is_not_an_object_is_quarantined(sandbox, tmp_path):
    sandbox.inject_fault(
        "/api/v2/groups",
        status=200,
        body='{"groups": [42, {"id": 43, "name": "y"}], "meta": {"has_more": false}, '
        '"links": {}}',
    )
    pipeline = new_pipeline(tmp_path, "raw_zendesk")
    pipeline.run(source("zendesk", sandbox).with_resources("groups"))
    assert query(pipeline, "SELECT id FROM groups") == [(43,)]
    [row] = quarantined(pipeline)
    assert row["record_id"] is None and row["record"] == "42"
    assert "not a JSON object" in row["reason"]


# --- new fields -----------------------------------------------------------------------------

NEW_FIELDS = [
    ("zendesk", "tickets", "tickets", TICKETS),
    ("zendesk", "users", "users", "/api/v2/incremental/users"),
    ("hubspot", "deals", "deals", DEALS),
    ("salesforce", "accounts", "accounts", QUERIES),
]


@pytest.mark.parametrize(("kind", "resource", "table", "path"), NEW_FIELDS,
                         ids=[f"{n[0]}-{n[1]}" for n in NEW_FIELDS])
def test_a_new_top_level_field_lands_as_a_new_column(
    sandbox, helpdesk, tmp_path, kind, resource, table, path
):
    sandbox.inject_fault(path, kind="bad_record", mode="new_field")
    sandbox.inject_fault(path, kind="bad_record", mode="new_field", field="x_new_object",
                         value={"a": [1, 2]})
    pipeline = new_pipeline(tmp_path, f"raw_{kind}")
    pipeline.run(source(kind, sandbox).with_resources(resource))
    assert query(pipeline, f"SELECT count(*) FROM {table}") == [(world_count(helpdesk, table),)]
    assert query(pipeline, f"SELECT x_new_field FROM {table} WHERE x_new_field IS NOT NULL") == [
        (42,)
    ]
    assert query(pipeline, f"SELECT x_new_object FROM {table} WHERE x_new_object IS NOT NULL") == [
        ('{"a":[1,2]}',)
    ]
    assert quarantined(pipeline) == []


def test_known_fields_and_free_text_never_become_columns(sandbox, tmp_path):
    pipeline = new_pipeline(tmp_path, "raw_zendesk")
    sandbox.inject_fault(TICKETS, kind="bad_record", mode="new_field", field="raw_subject",
                         value="a private subject")
    pipeline.run(source("zendesk", sandbox).with_resources("tickets", "users"))
    ticket_columns, user_columns = columns(pipeline, "tickets"), columns(pipeline, "users")
    for left_out in ("url", "raw_subject", "subject", "collaborator_ids", "via", "fields"):
        assert left_out not in ticket_columns
    for left_out in ("email", "phone", "signature", "photo", "user_fields"):
        assert left_out not in user_columns


# --- expired cursors ------------------------------------------------------------------------


def test_an_expired_zendesk_export_cursor_restarts_from_the_last_change_time(
    sandbox, helpdesk, tmp_path, caplog
):
    sandbox.inject_fault(TICKETS, kind="expired_cursor", times=2)
    sandbox.inject_fault("/api/v2/incremental/users", kind="expired_cursor")
    sandbox.inject_fault("/api/v2/satisfaction_ratings", kind="expired_cursor")
    pipeline = new_pipeline(tmp_path, "raw_zendesk")
    with caplog.at_level("WARNING"):
        pipeline.run(
            source("zendesk", sandbox).with_resources("tickets", "users", "satisfaction_ratings")
        )
    assert not sandbox.faults.pending()
    ids = [row[0] for row in query(pipeline, "SELECT id FROM tickets ORDER BY id")]
    assert ids == sorted(t.id for t in helpdesk.tickets)  # none lost, none twice
    metric_sets = query(pipeline, "SELECT count(*), count(DISTINCT ticket_id) FROM "
                        "ticket_metric_sets")
    assert metric_sets == [(len(helpdesk.tickets), len(helpdesk.tickets))]
    users = query(pipeline, "SELECT count(*), count(DISTINCT id) FROM users")
    assert users == [(len(helpdesk.users), len(helpdesk.users))]
    ratings = zendesk.expected_counts(helpdesk)["satisfaction_ratings"]
    landed = query(pipeline, "SELECT count(*), count(DISTINCT id) FROM satisfaction_ratings")
    assert landed == [(ratings, ratings)] and ratings > 7  # several pages: a cursor expired
    assert "restarting the export from start_time" in caplog.text


def test_zendesk_gives_up_clearly_after_bounded_restarts(sandbox, tmp_path):
    sandbox.inject_fault(TICKETS, kind="expired_cursor", times=10)
    with pytest.raises(Exception) as failure:
        new_pipeline(tmp_path, "raw_zendesk").run(
            source("zendesk", sandbox).with_resources("tickets")
        )
    error = hubspot.api_error_in(failure.value)
    assert error.source == "zendesk" and error.endpoint == f"{TICKETS}/cursor.json"
    assert "InvalidPaginationParameter" in str(error) and "3 restarts" in str(error)


def test_an_expired_salesforce_query_locator_re_issues_the_query(
    sandbox, helpdesk, tmp_path, caplog
):
    sandbox.inject_fault(QUERIES, kind="expired_cursor", times=2)
    pipeline = new_pipeline(tmp_path, "raw_salesforce")
    with caplog.at_level("WARNING"):
        pipeline.run(source("salesforce", sandbox).with_resources("opportunities"))
    assert not sandbox.faults.pending()
    landed = query(pipeline, "SELECT count(*), count(DISTINCT id) FROM opportunities")
    assert landed == [(len(helpdesk.deals), len(helpdesk.deals))]
    assert "query locator expired (INVALID_QUERY_LOCATOR)" in caplog.text


def test_an_expired_hubspot_cursor_is_a_clear_error(sandbox, tmp_path):
    sandbox.inject_fault(DEALS, kind="expired_cursor")
    with pytest.raises(Exception) as failure:
        new_pipeline(tmp_path, "raw_hubspot").run(
            source("hubspot", sandbox).with_resources("deals")
        )
    error = hubspot.api_error_in(failure.value)
    assert isinstance(error, ApiError) and error.status == 400
    message = str(error)
    assert message.startswith(f"hubspot: GET {DEALS} ") and "paging cursor" in message
    assert "Invalid paging cursor" in message
    assert sandbox.credentials["hubspot_access_token"] not in message


# --- timeouts -------------------------------------------------------------------------------


def test_a_read_timeout_is_retried_with_the_sources_timeout(sandbox, helpdesk, tmp_path, caplog):
    # The sandbox stays silent for 30 s: only the source's 0.5 s read timeout can end the
    # first attempt (as a ReadTimeout, which the retry warning names), not the server.
    sandbox.inject_fault("/api/v2/groups", kind="timeout", delay=30.0)
    pipeline = new_pipeline(tmp_path, "raw_zendesk")
    with caplog.at_level(logging.WARNING, logger="connectors.http"):
        pipeline.run(source("zendesk", sandbox, timeout_seconds=0.5).with_resources("groups"))
    retries = [r.getMessage() for r in caplog.records if "/api/v2/groups" in r.getMessage()]
    assert len(retries) == 1 and "ReadTimeout" in retries[0], retries
    assert query(pipeline, "SELECT count(*) FROM groups") == [(len(helpdesk.groups),)]
    assert not sandbox.faults.pending()


# --- the pipeline ---------------------------------------------------------------------------


def test_the_raw_assets_report_quarantined_records(
    sandbox, helpdesk, tmp_path, warehouse_url, monkeypatch
):
    from pipelines.partitions import daily_partitions
    from pipelines.raw import build_zendesk_assets
    from pipelines.resources import build_resources
    from pipelines.settings import Settings

    first_day = zendesk.FIRST_DAY.date()
    configure(monkeypatch, tmp_path / "run", sandbox, warehouse_url, first_day)
    monkeypatch.setenv("HTTP_TIMEOUT_SECONDS", "30")
    settings = Settings.from_env()
    assert settings.http_timeout_seconds == 30.0
    assert build_resources(settings)["zendesk"].timeout_seconds == 30.0
    kind = "duckdb" if Warehouse(warehouse_url).is_duckdb else "postgres"
    assets = build_zendesk_assets(settings, daily_partitions(settings), kind)
    tags = {ASSET_PARTITION_RANGE_START_TAG: first_day.isoformat(),
            ASSET_PARTITION_RANGE_END_TAG: zendesk.LAST_DAY.isoformat()}
    counts_by_run, messages_by_run = [], []
    with dg.DagsterInstance.ephemeral() as instance:
        for faults in (1, 0):
            for _ in range(faults):
                sandbox.inject_fault(TICKETS, kind="bad_record", mode="wrong_type")
            result = dg.materialize(
                [assets], resources=build_resources(settings), instance=instance, tags=tags
            )
            assert result.success
            counts_by_run.append({
                m.asset_key.to_user_string(): m.metadata["quarantined_records"].value
                for m in result.asset_materializations_for_node("zendesk_raw")
            })
            messages_by_run.append(
                [e.user_message for e in instance.all_logs(result.run_id) if e.user_message]
            )
    assert not sandbox.faults.pending()
    first, second = counts_by_run
    assert first["raw_zendesk/tickets"] == 1 and sum(first.values()) == 1
    assert len(first) == len(second) >= 9 and set(second.values()) == {0}
    warning = "zendesk: 1 records quarantined (tickets 1); see raw_zendesk._quarantine"
    assert [m for m in messages_by_run[0] if "quarantined" in m] == [warning]
    assert not [m for m in messages_by_run[1] if "quarantined" in m]
