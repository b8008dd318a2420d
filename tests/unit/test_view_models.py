"""Which models are views, and what a view model may be."""

from __future__ import annotations

import re

import pytest

from transforms.models import ALL_MODELS, Model

SOURCES = ["zendesk", "hubspot", "salesforce"]
VIEWS = [m for m in ALL_MODELS if m.materialized == "view"]


def test_the_cheap_filters_of_large_staging_tables_are_views():
    assert {m.name for m in VIEWS} == {"ticket_agent_replies", "ticket_status_transitions"}


@pytest.mark.parametrize("model", VIEWS, ids=lambda m: m.name)
def test_a_view_takes_no_parameters_and_reads_no_raw_table(model):
    # A view stores its query, not bound values; a PostgreSQL view on a raw table would pin
    # the table dlt replaces.
    sql = re.sub(r"--[^\n]*", "", model.sql())
    assert re.findall(r"(?<![:\w]):\w+", sql) == []
    assert all(not schema.startswith("raw_") for schema, _ in model.tables_read(SOURCES))


@pytest.mark.parametrize("kwargs", [
    {"layer": "intermediate", "materialized": "ephemeral"},
    {"layer": "marts", "materialized": "view", "date_column": "date"},
    {"layer": "staging", "materialized": "view"},
])
def test_impossible_materializations_are_refused(kwargs):
    with pytest.raises(ValueError, match="materialized|views"):
        Model("bad", grain=("id",), **kwargs)
