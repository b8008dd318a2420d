"""Run the real pipeline (sandbox over HTTP -> dlt -> warehouse -> SQL) the way the CLI does."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from pipelines.cli import run_partitions
from sandbox import Sandbox, World
from warehouse import Warehouse


def configure(monkeypatch: pytest.MonkeyPatch, tmp_path, sandbox: Sandbox, warehouse_url: str,
              start: date, timezone: str = "UTC", crm: bool = False,
              intercom: bool = False, freshdesk: bool = False, zendesk: bool = True) -> None:
    """Point the pipeline's environment at `sandbox` and `warehouse_url` (Zendesk unless not
    `zendesk`, HubSpot too if `crm`, Intercom too if `intercom`, Freshdesk too if
    `freshdesk`); the partitions start at `start`."""
    creds = sandbox.credentials
    tmp_path.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "WAREHOUSE_URL": warehouse_url,
        "PIPELINE_START_DATE": start.isoformat(),
        "REPORTING_TIMEZONE": timezone,
        "ZENDESK_BASE_URL": sandbox.url,
        "ZENDESK_SUBDOMAIN": creds["subdomain"],
        "ZENDESK_EMAIL": creds["email"],
        "ZENDESK_API_TOKEN": creds["api_token"],
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("ZENDESK_OAUTH_TOKEN", "HISTORY_START_DATE", "LAND_FREE_TEXT",
                 "INTERCOM_ACCESS_TOKEN", "INTERCOM_BASE_URL", "FRESHDESK_API_KEY",
                 "FRESHDESK_DOMAIN", "FRESHDESK_BASE_URL",
                 "HUBSPOT_ACCESS_TOKEN", "HUBSPOT_BASE_URL", "SALESFORCE_INSTANCE_URL",
                 "SALESFORCE_ACCESS_TOKEN", "GROSS_MARGIN", "CLV_MIN_CHURN_RATE"):
        monkeypatch.delenv(name, raising=False)
    if not zendesk:
        for name in ("ZENDESK_BASE_URL", "ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL",
                     "ZENDESK_API_TOKEN"):
            monkeypatch.delenv(name)
    if crm:
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", creds["hubspot_access_token"])
        monkeypatch.setenv("HUBSPOT_BASE_URL", sandbox.url)
    if intercom:
        monkeypatch.setenv("INTERCOM_ACCESS_TOKEN", creds["intercom_access_token"])
        monkeypatch.setenv("INTERCOM_BASE_URL", sandbox.url)
    if freshdesk:
        monkeypatch.setenv("FRESHDESK_API_KEY", creds["freshdesk_api_key"])
        monkeypatch.setenv("FRESHDESK_BASE_URL", creds["freshdesk_base_url"])


def run_world(monkeypatch: pytest.MonkeyPatch, tmp_path, world: World, warehouse_url: str,
              start: date, end: date, timezone: str = "UTC", crm: bool = False,
              first_partition: date | None = None, intercom: bool = False,
              freshdesk: bool = False, zendesk: bool = True,
              environment: Mapping[str, str] | None = None,
              sandbox_options: Mapping[str, object] | None = None) -> Warehouse:
    """Serve `world`, run the pipeline for [start, end), return the warehouse. The
    partitions start at `first_partition` (default `start`): a later night passes the
    first night's start, as the schedule's nights run (a run that includes the first
    partition recomputes everything before it). `environment`: more settings (set after
    `configure`, which clears the optional ones); `sandbox_options`: more `Sandbox`
    arguments."""
    with Sandbox(world, port=0, incremental_rate_limit_per_minute=None,
                 **(sandbox_options or {})) as sandbox:
        configure(monkeypatch, tmp_path, sandbox, warehouse_url, first_partition or start,
                  timezone, crm, intercom, freshdesk, zendesk)
        for name, value in (environment or {}).items():
            monkeypatch.setenv(name, value)
        # An in-memory Dagster instance: the run is the CLI's, without SQLite's fsyncs.
        with dg.DagsterInstance.ephemeral() as instance:
            run_partitions(start, end, instance=instance)
    return Warehouse(warehouse_url)


@dataclass
class TwoNights:
    """What queries read after each of two nights, and after one run over both days."""

    first: list
    second: list
    once: list


def two_nights(monkeypatch: pytest.MonkeyPatch, tmp_path, warehouse_url: str,
               world_at: Callable[[datetime], World], queries: Sequence[str], start: date,
               cutoffs: tuple[datetime, datetime], timezone: str = "UTC",
               sandbox_clock: bool = False, night_options: Mapping[str, object] | None = None,
               **sources: bool) -> TwoNights:
    """Two nights as the schedule runs them, each over `world_at(cutoff)` (the world as the
    APIs show it at that night's run), on one warehouse: the first runs the partitions from
    `start` to its local day, the second its own day (passing `start` as the first
    partition); then a single run over both nights' days on the final world, into its own
    DuckDB file. `sandbox_clock`: the sandbox's clock stands at each night's cutoff (which
    exports exist); `night_options`: more `Sandbox` arguments for the nights. `sources`: the
    `run_world` flags (`intercom=True`, ...)."""
    zone = ZoneInfo(timezone)
    first_day, second_day = (cutoff.astimezone(zone).date() for cutoff in cutoffs)

    def options(cutoff: datetime) -> dict[str, object]:
        return {**({"clock": cutoff.timestamp} if sandbox_clock else {}), **(night_options or {})}

    nights = tmp_path / "nights"
    first = run_world(monkeypatch, nights, world_at(cutoffs[0]), warehouse_url, start,
                      first_day, timezone, sandbox_options=options(cutoffs[0]), **sources)
    after_first = [first.query(query) for query in queries]
    second = run_world(monkeypatch, nights, world_at(cutoffs[1]), warehouse_url, first_day,
                       second_day, timezone, first_partition=start,
                       sandbox_options=options(cutoffs[1]), **sources)
    after_second = [second.query(query) for query in queries]
    once = run_world(monkeypatch, tmp_path / "once", world_at(cutoffs[1]),
                     f"duckdb:///{tmp_path / 'once.duckdb'}", start, second_day, timezone,
                     **sources)
    return TwoNights(after_first, after_second, [once.query(query) for query in queries])


def world_as_of(world: World, cutoff: datetime) -> World:
    """`world` as it was at `cutoff`: later tickets, updates, calls and ratings had not
    happened yet."""
    world = copy.deepcopy(world)
    world.tickets = [t for t in world.tickets if t.created_at < cutoff]
    for ticket in world.tickets:
        ticket.updates = [u for u in ticket.updates if u.at < cutoff]
    world.calls = [c for c in world.calls if c.created_at < cutoff]
    world.satisfaction_ratings = [r for r in world.satisfaction_ratings if r.updated_at < cutoff]
    return world


def _plain(value):
    """One value in a form both engines agree on (PostgreSQL sums are numeric, times local)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    return value


def table_snapshot(warehouse: Warehouse, schema: str, table: str) -> list[tuple]:
    """Every row of a table, sorted, as plain tuples (for before/after comparisons)."""
    columns = [c for c in warehouse.columns(schema, table) if not c.startswith("_dlt")]
    column_list = ", ".join(warehouse.quote(c) for c in columns)
    qualified = f"{warehouse.quote(schema)}.{warehouse.quote(table)}"
    rows = warehouse.query(f"SELECT {column_list} FROM {qualified}")
    return sorted((tuple(_plain(v) for v in row.values()) for row in rows), key=repr)


def status_history(warehouse: Warehouse, source: str) -> dict[str, list[tuple]]:
    """Per ticket of `source`: its staged status changes in time order, as (changed_at in
    UTC, from_status, to_status)."""
    history: dict[str, list[tuple]] = {}
    for row in warehouse.query(
            "SELECT ticket_id, changed_at, from_status, to_status FROM staging.status_changes "
            f"WHERE source = '{source}' ORDER BY ticket_id, changed_at"):
        history.setdefault(row["ticket_id"], []).append(
            (row["changed_at"].astimezone(UTC), row["from_status"], row["to_status"]))
    return history
