"""The model registry: which tables exist, in which layer, built from which SQL file.

A model's description (shown in the Dagster UI) is the leading `--` comment of its SQL file,
so the documentation lives beside the query it documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import jinja2

SQL_DIR = Path(__file__).parent
#: The pseudo-source whose staging SQL returns a canonical table's columns and no rows.
EMPTY = "_empty"
_TABLE_REFERENCE = re.compile(r"\b(staging|marts|raw_[a-z]+)\.([a-z_][a-z0-9_]*)", re.IGNORECASE)


def _leading_comment(sql: str) -> str:
    lines = []
    for line in sql.splitlines():
        stripped = line.strip()
        if not stripped.startswith("--"):
            break
        lines.append(stripped[2:].strip())
    return "\n".join(lines).strip()


def selected_table(sql: str, grain: tuple[str, ...],
                   table_grain: tuple[str, ...]) -> tuple[str, str] | None:
    """The (schema, table) whose rows a query of grain `grain` is a selection of, when it is
    plainly `SELECT <columns> FROM <schema>.<table> [WHERE <condition>]` with no join, union,
    grouping, subquery or unnest (so at most one row per row of the table) and the columns of
    `table_grain` (that table's grain) are among `grain` and selected as they are: a key
    repeated in the query's rows is then repeated in the table, and the query's grain is
    unique when the table's is. None for anything else."""
    sql = " ".join(re.sub(r"--[^\n]*", "", sql).split())
    shape = re.fullmatch(r"SELECT (?P<columns>.+?) FROM (?P<schema>\w+)\.(?P<table>\w+)"
                         r"(?: (?:AS )?\w+)?(?: WHERE (?P<where>.+))?", sql, re.IGNORECASE)
    if shape is None or not set(table_grain) <= set(grain):
        return None
    if re.search(r"\b(?:SELECT|JOIN|UNION|INTERSECT|EXCEPT|GROUP|UNNEST|LATERAL)\b",
                 f"{shape['columns']} {shape['where'] or ''}", re.IGNORECASE):
        return None
    columns = shape["columns"]
    while re.search(r"\([^()]*\)", columns):  # what is inside parentheses is no bare column
        columns = re.sub(r"\([^()]*\)", "", columns)
    if not set(table_grain) <= {item.strip().split(".")[-1] for item in columns.split(",")}:
        return None
    return shape["schema"].lower(), shape["table"].lower()


class SourceQuery(NamedTuple):
    """A query a model's build runs besides its own SQL (`Model.references`,
    `Model.changed_before`). `source`: the source whose data it reads (None: any source's),
    so it runs, and its tables are read, only when that source is configured: a query about
    an unconfigured source's data would only scan for rows that cannot exist."""

    source: str | None
    sql: str


def for_sources(queries: tuple[SourceQuery, ...], sources: list[str]) -> list[str]:
    """The texts of `queries` that concern the configured `sources`."""
    return [query.sql for query in queries if query.source is None or query.source in sources]


@dataclass(frozen=True)
class Model:
    """One table built by SQL.

    `layer` is `staging` (one query per source under `staging/<source>/`), `intermediate`
    (built into schema `staging`) or `marts`. What a model reads is read off its SQL
    (`tables_read`), so the dependency graph cannot drift from the queries.
    `date_column` marks a partitioned model (daily by default, `period="month"` for monthly
    ones): a partition replaces the rows of its own days or months only.
    `grain` is the key that must be unique (checked by an asset check).
    `materialized` is `table` (written out) or `view` (a stored query, computed where it is
    read): a view suits a cheap projection or filter of one large table that few models
    read, where writing millions of rows would cost more than reading them twice. A view
    takes no bind parameters and has no partitions, and never reads raw tables (a PostgreSQL
    view would pin the tables dlt replaces). A view that plainly selects rows of one
    per-ticket table (`row_subset_of`) takes that table's grain check instead of counting.
    `per_ticket` marks a whole-table model whose rows all belong to one ticket (columns
    `source`, `ticket_id`) and depend only on that ticket's data: it can be rebuilt for the
    tickets that changed (transforms/incremental.py). Its SQL narrows every read of ticket
    data with `{{ ticket_scope(...) }}`, which is `true` in a full build.
    `references` each return one text summarising reference data (not keyed by ticket) the
    model reads; when one changes, the model is rebuilt in full. `as_of_scope_sql`
    returns (source, ticket_id) of tickets whose rows depend on the as-of time: they are
    rebuilt with the changed ones on every incremental build.
    `changed_before` (partitioned models): queries each returning the earliest
    day before a partition's own whose rows what the partition's window landed changes (a
    call that started before midnight and was wrapped up after it lands in the next day's
    window): the partition recomputes from the earliest of them on
    (`changed_before_sql`). A query about one source's data (`SourceQuery`) runs only when
    that source is configured.
    """

    name: str
    layer: str
    grain: tuple[str, ...]
    date_column: str | None = None
    period: str = "day"
    materialized: str = "table"
    per_ticket: bool = False
    references: tuple[SourceQuery, ...] = ()
    as_of_scope_sql: str | None = None
    changed_before: tuple[SourceQuery, ...] = ()

    def __post_init__(self) -> None:
        if self.materialized not in ("table", "view"):
            raise ValueError(f"{self.name}: materialized must be 'table' or 'view'")
        if self.materialized == "view" and (self.date_column or self.layer == "staging"):
            raise ValueError(f"{self.name}: only unpartitioned intermediate or mart models "
                             "can be views")

    @property
    def schema(self) -> str:
        """The warehouse schema the table lives in."""
        return "marts" if self.layer == "marts" else "staging"

    @property
    def qualified_name(self) -> str:
        """`schema.name`, as the table is read in SQL and named in reports."""
        return f"{self.schema}.{self.name}"

    def sql_path(self, source: str | None = None) -> Path:
        """The SQL file of this model (for staging models: of one source)."""
        if self.layer == "staging":
            return SQL_DIR / "staging" / str(source) / f"{self.name}.sql"
        return SQL_DIR / self.layer / f"{self.name}.sql"

    @cached_property
    def description(self) -> str:
        """The model's documentation: the leading comment of its SQL file."""
        if self.layer == "staging":
            candidates = sorted(p for p in (SQL_DIR / "staging").glob(f"*/{self.name}.sql")
                                if p.parent.name != EMPTY)
            path = candidates[0] if candidates else self.sql_path(EMPTY)
        else:
            path = self.sql_path()
        doc = _leading_comment(path.read_text()) if path.exists() else ""
        return doc or self.qualified_name

    def sql(self, source: str | None = None, scoped: bool = False) -> str:
        """The query text; `scoped`: narrowed to the tickets of the build's scope table
        (`incremental.SCOPE_TABLE`), else every ticket."""
        template = _SQL_TEMPLATES.from_string(self.sql_path(source).read_text())
        if scoped:
            return template.render(ticket_scope=ticket_scope_condition,
                                   raw_ticket_scope=_raw_ticket_scope)
        return template.render(ticket_scope=_every_ticket, raw_ticket_scope=_every_ticket)

    def changed_before_sql(self, sources: list[str]) -> str | None:
        """The query of the earliest day a partition recomputes from, over the
        `changed_before` queries that concern the configured `sources` (None: there are
        none)."""
        queries = for_sources(self.changed_before, sources)
        if len(queries) <= 1:
            return queries[0] if queries else None
        parts = "\n    UNION ALL\n".join(f"    SELECT ({query.strip()}) AS day"
                                         for query in queries)
        return f"SELECT min(day) FROM (\n{parts}\n) AS earliest"

    def row_subset_of(self, table_grain: tuple[str, ...]) -> tuple[str, str] | None:
        """For a view, `selected_table(its SQL, its grain, table_grain)`; None for a table."""
        if self.materialized != "view":
            return None
        return selected_table(self.sql(), self.grain, table_grain)

    def tables_read(self, sources: list[str]) -> set[tuple[str, str]]:
        """(schema, table) pairs the model's SQL reads, dlt child tables folded into their parent.

        Comments are ignored; `staging.x` / `marts.x` / `raw_<source>.x` references count.
        """
        if self.layer == "staging":
            paths = [self.sql_path(source) for source in sources]
        else:
            paths = [self.sql_path()]
        texts = [path.read_text() for path in paths if path.exists()]
        # The reference data and as-of scope an incremental build reads must be built first.
        texts += [*for_sources(self.references, sources), self.as_of_scope_sql or "",
                  *for_sources(self.changed_before, sources)]
        found: set[tuple[str, str]] = set()
        for text in texts:
            for schema, table in _TABLE_REFERENCE.findall(re.sub(r"--[^\n]*", "", text)):
                found.add((schema, table.split("__")[0]))
        found.discard((self.schema, self.name))
        return found


#: The temporary table of (source, ticket_id) an incremental build recomputes.
SCOPE_TABLE = "_ticket_scope"
#: A model's SQL may import macros shared by one source's queries (`{% from
#: "staging/freshdesk/macros.jinja" import ... %}`): paths are relative to this package.
_SQL_TEMPLATES = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False,
                                    keep_trailing_newline=True,
                                    loader=jinja2.FileSystemLoader(SQL_DIR))


def _every_ticket(*_args: str) -> str:
    return "true"


def ticket_scope_condition(source: str, ticket_id: str) -> str:
    """A condition: the row of a canonical table (its `source` and `ticket_id` expressions)
    belongs to a ticket of the build's scope.

    The first test, on `ticket_id` alone, only narrows (it is implied by the second): DuckDB
    pushes a single-column semi-join into the table scan as a Bloom filter, so the scan hands
    on only the scope's rows instead of every row of a 1-16M-row table (a two-column key gets
    no such filter). At 1M tickets, reading the scope's rows of the 4.7M status changes
    0.24 s -> 0.09 s, deleting them about a fifth faster (docs/performance-log.md, "Nightly,
    session 7")."""
    return (f"{ticket_id} IN (SELECT ticket_id FROM {SCOPE_TABLE}) "
            f"AND ({source}, {ticket_id}) IN (SELECT source, ticket_id FROM {SCOPE_TABLE})")


def _raw_ticket_scope(source: str, ticket_id: str, id_type: str) -> str:
    """A condition: the raw row of `source` (the source's name) whose ticket id expression is
    `ticket_id`, of type `id_type`, belongs to a ticket of the build's scope. The scope's
    text ids are cast (the small side), so the raw column is compared as it is."""
    return (f"{ticket_id} IN (SELECT CAST(ticket_id AS {id_type}) FROM {SCOPE_TABLE} "
            f"WHERE source = '{source}')")


#: Reference data whose change rebuilds a per-ticket model in full (`Model.references`):
#: who is an agent decides a message's author role; the schedules, their weekly intervals
#: and holidays, and the groups' schedules decide business minutes; the organisation ->
#: account mapping decides `ticket_metrics.account_id`; Freshdesk's status list decides
#: its tickets' normalised statuses, its surveys' scales their ratings' scores. Each query
#: returns one text.
AGENTS_REFERENCE = SourceQuery(None, """
SELECT md5(coalesce(string_agg(source || ':' || user_id, ',' ORDER BY source, user_id), ''))
FROM staging.users
WHERE role = 'agent'
""")
SCHEDULES_REFERENCE = SourceQuery(None, """
SELECT md5(
    (SELECT coalesce(string_agg(concat_ws('|', source, schedule_id, time_zone,
                                          CAST(is_default AS text)),
                                ',' ORDER BY source, schedule_id), '')
     FROM staging.schedules)
    || (SELECT coalesce(string_agg(concat_ws('|', source, schedule_id,
                                             CAST(start_minute AS text),
                                             CAST(end_minute AS text)),
                                   ',' ORDER BY source, schedule_id, start_minute), '')
        FROM staging.schedule_intervals)
    || (SELECT coalesce(string_agg(concat_ws('|', source, holiday_id, schedule_id,
                                             CAST(start_date AS text), CAST(end_date AS text)),
                                   ',' ORDER BY source, holiday_id), '')
        FROM staging.holidays)
    || (SELECT coalesce(string_agg(concat_ws('|', source, group_id, schedule_id),
                                   ',' ORDER BY source, group_id), '')
        FROM staging.groups
        WHERE schedule_id IS NOT NULL)
)
""")
ACCOUNT_MAPPING_REFERENCE = SourceQuery(None, """
SELECT md5(coalesce(string_agg(concat_ws('|', helpdesk_source, organization_id, account_id),
                               ',' ORDER BY helpdesk_source, organization_id), ''))
FROM staging.organization_accounts
""")
#: A custom status renamed, or its customer label changed ("Awaiting your Reply" or not),
#: moves the tickets in it, and the activities naming it, to another normalised status.
FRESHDESK_STATUSES_REFERENCE = SourceQuery("freshdesk", """
SELECT md5(coalesce(string_agg(concat_ws('|', CAST(id AS text), name, customer_label),
                               ',' ORDER BY id), ''))
FROM raw_freshdesk.ticket_statuses
""")
#: A survey's accepted answers place its ratings on its scale.
FRESHDESK_SURVEY_SCALES_REFERENCE = SourceQuery("freshdesk", """
SELECT md5(coalesce(string_agg(concat_ws('|', CAST(survey_id AS text), CAST(rating AS text),
                                         CAST(position AS text), CAST(points AS text)),
                               ',' ORDER BY survey_id, rating), ''))
FROM raw_freshdesk.survey_scale
""")
#: Tickets whose `ticket_metrics` row moves with the as-of time: the unsolved ones, whose
#: current period (requester / agent wait, on hold) runs to it.
UNSOLVED_TICKETS = """
SELECT source, ticket_id
FROM staging.ticket_status_intervals
WHERE is_current AND status IN ('new', 'open', 'pending', 'hold')
"""


#: The partition's window as instants (`w.starts`, `w.ends`: its first day's start, its last
#: day's end), for the `changed_before` queries to join.
PARTITION_WINDOW = """(
    SELECT min(day_start) AS starts, max(day_end) AS ends
    FROM staging.reporting_days
    WHERE date >= :range_start AND date < :range_end
) AS w"""


def updated_in_window(source: str, table: str, day_column: str) -> SourceQuery:
    """The `changed_before` query of a daily mart whose rows of `table` (`source`'s data)
    count on the local day of `day_column` but land when last updated (`updated_at`): the
    earliest such day of the rows the partition's window landed."""
    return SourceQuery(source, f"""
SELECT min(CAST(r.{day_column} AT TIME ZONE :reporting_timezone AS date))
FROM {table} AS r
INNER JOIN {PARTITION_WINDOW}
    ON r.updated_at >= w.starts AND r.updated_at < w.ends
""")


#: A contact counts on the day it started, but lands when it was last updated, after its
#: wrap-up.
CONTACTS_UPDATED_IN_WINDOW = updated_in_window("zendesk", "staging.handle_time_records",
                                               "started_at")
#: A survey response counts on the day it was submitted, but an answer edited or archived
#: later lands in a later window.
SURVEYS_UPDATED_IN_WINDOW = updated_in_window("hubspot", "staging.survey_responses",
                                              "submitted_at")
#: An Intercom rating counts on the day it was requested (the API gives no time of the
#: answer: docs/staging.md), but lands when its conversation is next read, after the
#: customer answered: the request days of the ratings of the conversations the window read
#: (every conversation updated since the window's start: pipelines.resources).
INTERCOM_RATINGS_IN_WINDOW = SourceQuery("intercom", f"""
SELECT min(CAST(r.updated_at AT TIME ZONE :reporting_timezone AS date))
FROM staging.satisfaction_ratings AS r
INNER JOIN staging.tickets AS t
    ON t.source = r.source AND t.ticket_id = r.ticket_id
WHERE r.source = 'intercom' AND t.updated_at >= (SELECT starts FROM {PARTITION_WINDOW})
""")

#: A Freshdesk window reads the activities of the two days before it too, by whole UTC days
#: (Freshdesk exports them by UTC day some time after it has ended:
#: pipelines.resources.FreshdeskResource), so status changes of up to 72 hours before the
#: window may have landed with it: the backlog and resolutions of their days are recomputed
#: whenever Freshdesk changed a status in them. (Hours, not days: an interval of days on a
#: timestamptz counts calendar days in the session's time zone.)
FRESHDESK_ACTIVITIES_LOOKED_BACK = SourceQuery("freshdesk", f"""
SELECT min(CAST(c.changed_at AT TIME ZONE :reporting_timezone AS date))
FROM staging.status_changes AS c
INNER JOIN {PARTITION_WINDOW}
    ON c.changed_at >= w.starts - INTERVAL '72 hours' AND c.changed_at < w.starts
WHERE c.source = 'freshdesk'
""")

#: A Freshdesk window reads the time entries executed in the 168 hours before it too (the
#: API filters them by `executed_at` alone: pipelines.resources.FRESHDESK_TIME_ENTRIES_LOOKBACK),
#: and an edited entry may have moved from any of those days, where nothing is left to show
#: it: a window that landed any Freshdesk contact (updated since the window's start: an edit
#: after its end, before the run, lands with it) recomputes from the local day the look-back
#: starts on (hours, as the connector counts them: a week across a DST change starts an hour
#: into the day before), not before 1970. (Zendesk's CONTACTS_UPDATED_IN_WINDOW reads every
#: source's records: Freshdesk's start within those days.)
FRESHDESK_TIME_ENTRIES_LOOKED_BACK = SourceQuery("freshdesk", f"""
SELECT greatest(CAST((w.starts - INTERVAL '168 hours') AT TIME ZONE :reporting_timezone
                     AS date), DATE '1970-01-01')
FROM {PARTITION_WINDOW}
WHERE EXISTS (
    SELECT 1
    FROM staging.handle_time_records AS r
    WHERE r.source = 'freshdesk' AND r.updated_at >= w.starts
)
""")


STAGING_MODELS: tuple[Model, ...] = (
    Model("users", "staging", ("source", "user_id")),
    Model("organizations", "staging", ("source", "organization_id")),
    Model("groups", "staging", ("source", "group_id")),
    Model("tickets", "staging", ("source", "ticket_id"), per_ticket=True,
          references=(FRESHDESK_STATUSES_REFERENCE,)),
    Model("messages", "staging", ("source", "message_id"), per_ticket=True,
          references=(AGENTS_REFERENCE,)),
    Model("status_changes", "staging", ("source", "status_change_id"), per_ticket=True,
          references=(FRESHDESK_STATUSES_REFERENCE,)),
    Model("handle_time_records", "staging", ("source", "record_id")),
    Model("satisfaction_ratings", "staging", ("source", "rating_id"), per_ticket=True,
          references=(FRESHDESK_SURVEY_SCALES_REFERENCE,)),
    Model("schedules", "staging", ("source", "schedule_id")),
    Model("schedule_intervals", "staging", ("source", "schedule_id", "start_minute")),
    Model("holidays", "staging", ("source", "holiday_id")),
    Model("helpdesk_ticket_metrics", "staging", ("source", "ticket_id"), per_ticket=True),
    Model("accounts", "staging", ("source", "account_id")),
    Model("contracts", "staging", ("source", "contract_id")),
    Model("survey_responses", "staging", ("source", "response_id")),
)

INTERMEDIATE_MODELS: tuple[Model, ...] = (
    Model("ticket_status_intervals", "intermediate", ("source", "status_change_id"),
          per_ticket=True),
    # Filters of staging.messages and staging.status_changes (4-5M rows each at 1M tickets):
    # their readers scan only the few columns and rows they need.
    Model("ticket_agent_replies", "intermediate", ("source", "message_id"), materialized="view"),
    Model("ticket_milestones", "intermediate", ("source", "ticket_id"), per_ticket=True),
    Model("schedule_open_intervals", "intermediate", ("source", "schedule_id", "opens_at")),
    Model("ticket_business_minutes", "intermediate", ("source", "ticket_id"), per_ticket=True,
          references=(SCHEDULES_REFERENCE,)),
    Model("ticket_status_transitions", "intermediate", ("source", "status_change_id"),
          materialized="view"),
    Model("reporting_days", "intermediate", ("date",)),
    Model("organization_accounts", "intermediate", ("helpdesk_source", "organization_id")),
    # Reads marts.ticket_metrics: ours beside the helpdesk's, for marts.metric_reconciliation.
    Model("ticket_metric_pairs", "intermediate", ("source", "ticket_id"), per_ticket=True,
          as_of_scope_sql=UNSOLVED_TICKETS),
)

MART_MODELS: tuple[Model, ...] = (
    Model("ticket_metrics", "marts", ("source", "ticket_id"), per_ticket=True,
          references=(ACCOUNT_MAPPING_REFERENCE,), as_of_scope_sql=UNSOLVED_TICKETS),
    Model("backlog_daily", "marts", ("date", "source", "channel", "status"), date_column="date",
          changed_before=(FRESHDESK_ACTIVITIES_LOOKED_BACK,)),
    Model("handle_time_daily", "marts", ("date", "source", "channel", "agent_id"),
          date_column="date", changed_before=(CONTACTS_UPDATED_IN_WINDOW,
                                              FRESHDESK_TIME_ENTRIES_LOOKED_BACK)),
    Model("support_daily", "marts", ("date", "source", "channel"), date_column="date",
          changed_before=(CONTACTS_UPDATED_IN_WINDOW, INTERCOM_RATINGS_IN_WINDOW,
                          FRESHDESK_ACTIVITIES_LOOKED_BACK, FRESHDESK_TIME_ENTRIES_LOOKED_BACK)),
    Model("survey_scores_daily", "marts", ("date", "source", "survey_id"), date_column="date",
          changed_before=(SURVEYS_UPDATED_IN_WINDOW, INTERCOM_RATINGS_IN_WINDOW)),
    Model("account_mrr_monthly", "marts", ("month", "source", "account_id"),
          date_column="month", period="month"),
    Model("churn_monthly", "marts", ("month", "segment"), date_column="month", period="month"),
    Model("customer_lifetime_value", "marts", ("source", "account_id")),
    Model("account_health", "marts", ("source", "account_id")),
    Model("metric_reconciliation", "marts", ("source", "metric")),
)


def staging_sql(model: Model, sources: list[str], scoped: bool = False) -> str:
    """The canonical table's query: every configured source's rows, UNION ALL.

    Each source's query returns the canonical columns in the same order (checked by tests).
    `scoped`: only the rows of the tickets in the build's scope (`Model.sql`).
    """
    parts = [model.sql(source, scoped) for source in sources if model.sql_path(source).exists()]
    if not parts and model.sql_path(EMPTY).exists():
        # No configured source feeds this table (e.g. no CRM): an empty table with its columns.
        parts = [model.sql(EMPTY)]
    if not parts:
        raise ValueError(f"no source among {sources} has SQL for staging.{model.name}")
    return "\nUNION ALL\n".join(f"SELECT * FROM (\n{part}\n) AS {model.name}_{i}"
                                for i, part in enumerate(parts))


ALL_MODELS: tuple[Model, ...] = (*STAGING_MODELS, *INTERMEDIATE_MODELS, *MART_MODELS)


def build_order(sources: list[str], models: tuple[Model, ...] = ALL_MODELS) -> list[Model]:
    """`models` in an order where every model comes after the models it reads.

    What Dagster does from the asset graph, for code that builds models outside Dagster (the
    benchmarks, incremental builds). Ties keep the registry's order, so the order is stable.
    """
    by_table = {(m.schema, m.name): m for m in models}
    pending = list(models)
    ordered: list[Model] = []
    built: set[tuple[str, str]] = set()
    while pending:
        for model in pending:
            upstream = {t for t in model.tables_read(sources) if t in by_table}
            if upstream <= built:
                break
        else:
            raise ValueError(f"models read each other in a cycle: {[m.name for m in pending]}")
        pending.remove(model)
        ordered.append(model)
        built.add((model.schema, model.name))
    return ordered
