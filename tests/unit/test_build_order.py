"""The dependency order models are built in outside Dagster (benchmarks, incremental runs)."""

from __future__ import annotations

import pytest

from benchmarks.transform import nightly_models
from transforms.models import ALL_MODELS, Model, build_order

SOURCES = ["zendesk", "hubspot", "salesforce"]


def test_every_model_comes_after_the_models_it_reads():
    ordered = build_order(SOURCES)
    assert sorted(m.name for m in ordered) == sorted(m.name for m in ALL_MODELS)
    position = {(m.schema, m.name): i for i, m in enumerate(ordered)}
    for model in ordered:
        for upstream in model.tables_read(SOURCES):
            if upstream in position:
                assert position[upstream] < position[(model.schema, model.name)], (
                    model.name, upstream)
    # A model registered before one it reads still comes after it.
    names = [m.name for m in ordered]
    assert names.index("ticket_status_transitions") < names.index("ticket_milestones")


def test_a_cycle_is_an_error(tmp_path, monkeypatch):
    a, b = Model("cycle_a", "marts", ("x",)), Model("cycle_b", "marts", ("x",))
    monkeypatch.setattr(Model, "tables_read", lambda self, sources: {
        "cycle_a": {("marts", "cycle_b")}, "cycle_b": {("marts", "cycle_a")}}[self.name])
    with pytest.raises(ValueError, match="cycle"):
        build_order(SOURCES, (a, b))


def test_the_nightly_models_leave_out_the_monthly_revenue_marts_and_what_reads_them():
    names = [m.name for m in nightly_models(SOURCES)]
    assert "account_mrr_monthly" not in names and "churn_monthly" not in names
    assert "customer_lifetime_value" not in names  # reads account_mrr_monthly
    assert {"ticket_metrics", "support_daily", "backlog_daily"} <= set(names)


def test_a_daily_marts_late_day_queries_run_for_the_sources_whose_data_they_read():
    by_name = {m.name: m for m in ALL_MODELS}
    handled = by_name["handle_time_daily"]
    assert handled.changed_before_sql(["hubspot", "salesforce"]) is None
    for helpdesk in ("zendesk", "freshdesk"):  # Talk calls, time entries
        assert "staging.handle_time_records" in handled.changed_before_sql([helpdesk])
    support = by_name["support_daily"]
    assert "staging.handle_time_records" not in support.changed_before_sql(["intercom"])
    # Freshdesk: the activities' and the time entries' look-backs
    assert support.changed_before_sql(["freshdesk"]).count(" AS day") == 2
    assert support.changed_before_sql(["zendesk", "intercom", "freshdesk"]).count(" AS day") == 4
