"""Which models are views, and what a view model may be."""

from __future__ import annotations

import re

import pytest

from transforms.models import ALL_MODELS, Model, selected_table

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


MESSAGES_GRAIN = ("source", "message_id")


def test_each_view_is_recognised_as_a_selection_of_its_table():
    by_name = {m.name: m for m in VIEWS}
    assert by_name["ticket_agent_replies"].row_subset_of(MESSAGES_GRAIN) == (
        "staging", "messages")
    assert by_name["ticket_status_transitions"].row_subset_of(
        ("source", "status_change_id")) == ("staging", "status_changes")
    # Not a selection of a table whose grain it does not pass through.
    assert by_name["ticket_status_transitions"].row_subset_of(MESSAGES_GRAIN) is None


@pytest.mark.parametrize("sql", [
    "SELECT m.source, m.message_id, lower(body) AS body FROM staging.messages AS m "
    "WHERE is_public -- a comment",
    "SELECT source, message_id, coalesce(a, b) AS c FROM staging.messages",
])
def test_a_plain_selection_is_recognised(sql):
    assert selected_table(sql, MESSAGES_GRAIN, MESSAGES_GRAIN) == ("staging", "messages")


@pytest.mark.parametrize("sql", [
    # a join, written either way
    "SELECT m.source, m.message_id FROM staging.messages AS m JOIN staging.users AS u "
    "ON u.user_id = m.author_id",
    "SELECT m.source, m.message_id FROM staging.messages AS m, staging.users AS u",
    # a union repeats rows
    "SELECT source, message_id FROM staging.messages WHERE is_public UNION ALL "
    "SELECT source, message_id FROM staging.messages",
    # unnest makes several rows of one
    "SELECT source, message_id, unnest(tags) AS tag FROM staging.messages",
    # a subquery, a grouping
    "SELECT source, message_id FROM staging.messages WHERE ticket_id IN "
    "(SELECT ticket_id FROM staging.tickets)",
    "SELECT source, message_id FROM staging.messages GROUP BY source, message_id",
    # the key is computed, not passed through
    "SELECT source, ticket_id AS message_id FROM staging.messages",
    "SELECT source, CAST(message_id AS text) AS message_id FROM staging.messages",
    # a CTE
    "WITH m AS (SELECT * FROM staging.messages) SELECT source, message_id FROM m",
])
def test_anything_else_is_not(sql):
    assert selected_table(sql, MESSAGES_GRAIN, MESSAGES_GRAIN) is None


def test_the_table_grain_must_be_part_of_the_view_grain():
    sql = "SELECT source, message_id, ticket_id FROM staging.messages"
    assert selected_table(sql, ("source", "ticket_id"), MESSAGES_GRAIN) is None


def test_every_model_is_described_by_its_sql():
    """The Dagster UI shows a model's leading SQL comment as its description: a template
    import before it (`{% from ... %}`) would leave only the table's name."""
    assert [m.qualified_name for m in ALL_MODELS if m.description == m.qualified_name] == []
