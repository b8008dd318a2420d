"""marts.metric_reconciliation over a small hand-built world, end to end, on DuckDB and
PostgreSQL: Zendesk's own Ticket Metrics (served by the sandbox as `metric_sets`) against
marts.ticket_metrics, and the `calendar_metrics_match_helpdesk` check reading it.

Every residue is worked out by hand: the waits differ exactly by the period a ticket is still
in at the as-of time, which ours count (METRICS.md) and Zendesk's do not.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from pipelines.checks import calendar_metrics_match_helpdesk
from pipelines.resources import WarehouseResource
from sandbox.world import Comment, Ticket, Update, User, World
from tests.integration.pipeline_runner import run_world
from transforms import ALL_MODELS, MART_MODELS, replace_table

AGENT_ANA, AGENT_BEN = 2, 3
ALICE, BOB = 10, 11
START, END = date(2025, 6, 2), date(2025, 6, 10)  # as-of time: 2025-06-10 00:00 UTC


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A June 2025 instant in UTC."""
    return datetime(2025, 6, day, hour, minute, second, tzinfo=UTC)


def reconciliation_world() -> World:
    """Seven tickets: three finished ones that must agree, three still waiting at the as-of
    time (the waits' residue), one deleted (never compared)."""
    users = [
        User(AGENT_ANA, "Ana Agent", "ana@helpdesk.example", role="agent"),
        User(AGENT_BEN, "Ben Agent", "ben@helpdesk.example", role="agent"),
        User(ALICE, "Alice", "alice@acme.example"),
        User(BOB, "Bob", "bob@globex.example"),
    ]
    tickets = [
        # 1: pending and back, solved: every metric agrees.
        Ticket(1, at(2, 9), ALICE, assignee_id=AGENT_ANA, updates=[
            Update(at(2, 9), ALICE, status="new", comment=Comment("My invoice is wrong")),
            Update(at(2, 9, 30), AGENT_ANA, status="open", comment=Comment("Looking")),
            Update(at(2, 10), AGENT_ANA, status="pending", comment=Comment("Which invoice?")),
            Update(at(3, 9), ALICE, status="open", comment=Comment("No. 42"), via="email"),
            Update(at(3, 10), AGENT_ANA, status="solved", comment=Comment("Fixed")),
        ]),
        # 2: pending since Jun 5 12:20: ours wait 6460 min to the as-of time, Zendesk's 0.
        Ticket(2, at(5, 12), BOB, assignee_id=AGENT_BEN, updates=[
            Update(at(5, 12), BOB, status="new", comment=Comment("Export fails")),
            Update(at(5, 12, 20), AGENT_BEN, status="pending", comment=Comment("Logs?")),
        ]),
        # 3: open since Jun 9 15:10, no reply (a private note only): requester wait
        # ours 10 + 530, Zendesk's 10 (new only). No first response on either side.
        Ticket(3, at(9, 15), ALICE, updates=[
            Update(at(9, 15), ALICE, status="new", comment=Comment("Feature request")),
            Update(at(9, 15, 10), AGENT_ANA, status="open", comment=Comment("hm", public=False)),
        ]),
        # 4: on hold since Jun 8 10:30: on-hold ours 2250, Zendesk's 0; requester wait
        # ours 30 + 2250, Zendesk's 30.
        Ticket(4, at(8, 10), BOB, assignee_id=AGENT_BEN, updates=[
            Update(at(8, 10), BOB, status="new", comment=Comment("Card declined")),
            Update(at(8, 10, 30), AGENT_BEN, status="hold", comment=Comment("Asking the bank")),
        ]),
        # 5: solved at 08:30:45, reopened, on hold, solved again. Zendesk counts whole
        # minutes (30), ours 30.75: within a minute, so they agree.
        Ticket(5, at(4, 8), ALICE, assignee_id=AGENT_ANA, updates=[
            Update(at(4, 8), ALICE, status="new", comment=Comment("Login fails")),
            Update(at(4, 8, 30, 45), AGENT_ANA, status="solved", comment=Comment("Reset it")),
            Update(at(4, 12), ALICE, status="open", comment=Comment("Still fails"), via="email"),
            Update(at(4, 12, 30), AGENT_ANA, status="hold", comment=Comment("Asking vendor")),
            Update(at(4, 14, 30), AGENT_ANA, status="solved", comment=Comment("Vendor fixed")),
        ]),
        # 6: deleted: left out of the comparison.
        Ticket(6, at(6, 9), BOB, updates=[
            Update(at(6, 9), BOB, status="new", comment=Comment("spam")),
            Update(at(6, 12), AGENT_BEN, status="deleted"),
        ]),
        # 7: opened by an agent: the description is no reply, on either side.
        Ticket(7, at(2, 11), BOB, submitter_id=AGENT_BEN, assignee_id=AGENT_BEN,
               channel="web", updates=[
            Update(at(2, 11), AGENT_BEN, status="open", comment=Comment("Your renewal")),
            Update(at(2, 12), BOB, comment=Comment("Thanks, question"), via="email"),
            Update(at(2, 13), AGENT_BEN, status="solved", comment=Comment("Answer")),
        ]),
    ]
    return World(users=users, tickets=tickets)


#: metric -> (tickets_agree, tickets_differ, worst_ticket_ids, max_abs_difference), over the
#: six tickets that are not deleted.
EXPECTED_CALENDAR = {
    "first_response_minutes": (6, 0, None, 0.75),  # ticket 5: 30.75 vs 30
    "first_resolution_minutes": (6, 0, None, 0.75),
    "full_resolution_minutes": (6, 0, None, 0.0),
    "agent_wait_minutes": (5, 1, "2", 6460.0),  # pending Jun 5 12:20 -> Jun 10 00:00
    "requester_wait_minutes": (4, 2, "4, 3", 2250.0),  # hold since Jun 8 10:30; open 530
    "on_hold_minutes": (5, 1, "4", 2250.0),
}
EXPECTED_COUNTS = {"agent_replies": (6, 0, None, 0.0), "reopens": (6, 0, None, 0.0)}


@pytest.fixture
def loaded(monkeypatch, tmp_path, warehouse_url):
    """The hand-built world, loaded for [START, END)."""
    return run_world(monkeypatch, tmp_path, reconciliation_world(), warehouse_url, START, END)


def reconciliation(warehouse) -> dict[str, dict]:
    """marts.metric_reconciliation by metric."""
    rows = warehouse.query("SELECT * FROM marts.metric_reconciliation")
    assert {row["source"] for row in rows} == {"zendesk"}
    return {row["metric"]: row for row in rows}


def test_calendar_metrics_and_counts_agree_except_the_running_waits(loaded):
    rows = reconciliation(loaded)
    for metric, (agree, differ, worst, max_difference) in {
        **EXPECTED_CALENDAR,
        **EXPECTED_COUNTS,
    }.items():
        row = rows[metric]
        actual = (row["tickets_agree"], row["tickets_differ"], row["worst_ticket_ids"])
        assert actual == (agree, differ, worst), metric
        assert row["tickets_compared"] == 6, metric
        assert row["agreement_rate"] == pytest.approx(agree / 6), metric
        assert row["max_abs_difference"] == pytest.approx(max_difference), metric
    assert {m for m, r in rows.items() if r["unit"] == "calendar_minutes"} == set(
        EXPECTED_CALENDAR
    )
    assert {m for m, r in rows.items() if not r["definitions_coincide"]} == {
        "agent_wait_minutes",
        "requester_wait_minutes",
        "on_hold_minutes",
    }
    business = {m for m, r in rows.items() if r["unit"] == "business_minutes"}
    assert business == {
        "first_response_business_minutes",
        "first_resolution_business_minutes",
        "full_resolution_business_minutes",
    }


def test_helpdesk_metrics_are_staged_with_our_names(loaded):
    row = loaded.query(
        "SELECT * FROM staging.helpdesk_ticket_metrics WHERE ticket_id = '5'"
    )[0]
    assert row["source"] == "zendesk"
    assert (row["first_response_minutes"], row["full_resolution_minutes"]) == (30, 390)
    assert (row["requester_wait_minutes"], row["on_hold_minutes"]) == (180, 120)
    assert (row["agent_replies"], row["reopens"]) == (3, 1)
    assert row["solved_at"] == at(4, 14, 30)


def test_check_passes_and_lists_rates_then_warns_on_a_real_mismatch(loaded, warehouse_url):
    resource = WarehouseResource(url=warehouse_url)
    result = calendar_metrics_match_helpdesk(warehouse=resource)
    assert result.passed
    rates = {key: value.value for key, value in result.metadata.items()
             if key.startswith("agreement_rate/")}
    assert rates["agreement_rate/zendesk.first_response_minutes"] == 1.0
    assert rates["agreement_rate/zendesk.requester_wait_minutes"] == pytest.approx(4 / 6)
    assert result.metadata["deliberately_different"].value == (
        "zendesk.agent_wait_minutes, zendesk.on_hold_minutes, zendesk.requester_wait_minutes"
    )

    # Zendesk says ticket 1 was answered 5 minutes later than we do.
    loaded.execute(
        "UPDATE staging.helpdesk_ticket_metrics SET first_response_minutes = 35 "
        "WHERE ticket_id = '1'"
    )
    # The pairs, then the mart, rebuilt from the changed staging table.
    for model in (next(m for m in ALL_MODELS if m.name == "ticket_metric_pairs"),
                  next(m for m in MART_MODELS if m.name == "metric_reconciliation")):
        replace_table(loaded, model.schema, model.name, model.sql())
    result = calendar_metrics_match_helpdesk(warehouse=resource)
    assert not result.passed
    assert result.severity.value == "WARN"
    assert result.metadata["mismatched_metrics"].value == "zendesk.first_response_minutes"
    assert result.metadata["worst_ticket_ids"].value == {"zendesk.first_response_minutes": "1"}
