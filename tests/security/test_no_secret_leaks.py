"""No credential reaches anything the pipeline writes, prints, logs or raises.

The real pipeline runs the way the CLI runs it (`configure` + `run_partitions`, a persistent
Dagster instance in DAGSTER_HOME, dlt's working folders under the working directory) against
a sandbox that accepts distinctive, known tokens, on DuckDB and on PostgreSQL: once with the
Zendesk API token (HTTP Basic), once with the OAuth token (Bearer), once with a wrong token,
so that errors, retries and stack traces are produced too. Then every token, and the Basic
auth header value it travels in, is searched for everywhere a secret could end up.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
import os
import tempfile
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster._serdes import serialize_value

from pipelines.cli import CommandError, run_partitions
from sandbox import Sandbox
from tests.integration.pipeline_runner import configure
from tests.integration.test_freshdesk_metrics import freshdesk_world
from tests.integration.test_intercom_metrics import intercom_world
from tests.integration.test_revenue_marts import crm_world
from tests.integration.test_ticket_metrics import END, START
from warehouse import Warehouse

EMAIL = "ops-SECRET-LEAK-TEST@helpdesk.example"
API_TOKEN = "zd-SECRET-api-7f3c9e21a4b8"
OAUTH_TOKEN = "zd-SECRET-oauth-52d1e0c97a36"
WRONG_TOKEN = "zd-SECRET-wrong-c4e8a1f9b207"
HUBSPOT_TOKEN = "hs-SECRET-pat-na1-9b3f6d2e7c10"
INTERCOM_TOKEN = "ic-SECRET-dG9rOjE4Yjc5ZTI0XzE="
FRESHDESK_KEY = "fd-SECRET-key-Zx81qLm2Wp4T"
SALESFORCE_TOKEN = "sf-SECRET-00D5g000004Xyz!AQ4A8b1c2d3e4"
POSTGRES_PASSWORD = "pg-SECRET-pw-e61f0b7d93c2"


def basic_auth(token: str) -> str:
    """The value of Zendesk's API-token Basic header: base64("{email}/token:{token}")."""
    return base64.b64encode(f"{EMAIL}/token:{token}".encode()).decode()


#: Every form of every secret that must not appear anywhere.
NEEDLES = {
    "zendesk api token": API_TOKEN,
    "zendesk api token (Basic header)": basic_auth(API_TOKEN),
    "zendesk oauth token": OAUTH_TOKEN,
    "wrong zendesk token": WRONG_TOKEN,
    "wrong zendesk token (Basic header)": basic_auth(WRONG_TOKEN),
    "hubspot token": HUBSPOT_TOKEN,
    "intercom token": INTERCOM_TOKEN,
    "freshdesk api key": FRESHDESK_KEY,
    "freshdesk api key (Basic header)": base64.b64encode(f"{FRESHDESK_KEY}:X".encode()).decode(),
    "salesforce token": SALESFORCE_TOKEN,
    "postgres password": POSTGRES_PASSWORD,
}


#: Positive controls: non-secret values each place must show, so that a search that reads
#: nothing (or unreadable bytes) cannot pass for a clean one.
CONTROLS = {
    "files under DAGSTER_HOME": "nightly_refresh",  # the job's name, in run storage
    "dagster event log": "nightly_refresh",
    "dlt pipelines folder": "raw_zendesk",  # the dataset, in dlt's state and schemas
    "log records": "127.0.0.1",  # urllib3's connection lines to the sandbox
    "stdout + stderr": "zendesk",
    "warehouse rows": "Acme Inc.",  # a CRM company's name, landed by HubSpot
}


@dataclass
class Search:
    """Where the needles were looked for, how much, and what was found."""

    hits: list[str] = field(default_factory=list)
    searched: dict[str, list[int]] = field(default_factory=dict)  # place: [items, bytes]
    controls_seen: set[str] = field(default_factory=set)

    def look(self, place: str, text: str | bytes, where: str = "") -> None:
        """Search one piece of text (raw bytes or str) and count it under `place`."""
        data = text if isinstance(text, bytes) else text.encode("utf-8", "backslashreplace")
        for name, needle in NEEDLES.items():
            if needle.encode() in data:
                self.hits.append(f"{name} in {place}{f' ({where})' if where else ''}")
        if place in CONTROLS and CONTROLS[place].encode() in data:
            self.controls_seen.add(place)
        items, size = self.searched.setdefault(place, [0, 0])
        self.searched[place] = [items + 1, size + len(data)]

    def report(self) -> str:
        return "\n".join(f"  {place:<38} {items:>7,} items {size:>13,} bytes"
                         for place, (items, size) in sorted(self.searched.items()))


def search_files(search: Search, place: str, root: Path, skip: tuple[Path, ...] = ()) -> None:
    """Every file under `root`, as raw bytes (SQLite databases, WAL files, pickles, logs);
    gzip files (dlt compresses its load package files) also decompressed."""
    for path in sorted(root.rglob("*")):
        if path.is_file() and not any(path.is_relative_to(s) for s in skip):
            data = path.read_bytes()
            search.look(place, data, str(path.relative_to(root)))
            if data[:2] == b"\x1f\x8b":
                search.look(f"{place} (gunzipped)", gzip.decompress(data),
                            str(path.relative_to(root)))


def search_warehouse(search: Search, warehouse: Warehouse) -> None:
    """Every value of every column of every table of every schema, as text."""
    tables = warehouse.query(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema NOT IN ('information_schema', 'pg_catalog') "
        "ORDER BY table_schema, table_name"
    )
    assert len(tables) > 30, tables
    for table in tables:
        name = f"{warehouse.quote(table['table_schema'])}.{warehouse.quote(table['table_name'])}"
        for row in warehouse.query(f"SELECT * FROM {name}"):
            search.look("warehouse rows", json.dumps(list(row.values()), default=str),
                        name)


def search_dagster_records(search: Search) -> None:
    """Run records (config, tags), every event of every run, asset materialization metadata."""
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
        assert len(runs) >= 5, [run.job_name for run in runs]  # 2 x (daily + monthly) + failed
        assert any(run.status == dg.DagsterRunStatus.FAILURE for run in runs)
        for run in runs:
            search.look("dagster run config + tags",
                        json.dumps({"config": run.run_config, "tags": run.tags}, default=str),
                        run.run_id)
            for entry in instance.all_logs(run.run_id):
                search.look("dagster event log", serialize_value(entry), run.run_id)
        keys = instance.get_asset_keys()
        assert keys
        for key in keys:
            records = instance.fetch_materializations(key, limit=1000).records
            for record in records:
                materialization = record.asset_materialization
                search.look("dagster materialization metadata",
                            serialize_value(materialization.metadata), key.to_user_string())


@pytest.fixture
def workdir(tmp_path) -> Iterator[Path]:
    """The run's working directory (and DAGSTER_HOME's parent), on tmpfs where there is one.

    A persistent Dagster instance commits every event to SQLite; on tmpfs those fsyncs cost
    nothing, and the files are as greppable as on disk.
    """
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path / "work"
        return
    with tempfile.TemporaryDirectory(dir=shm, prefix="helpdesk-etl-leaks-") as name:
        yield Path(name)


@pytest.fixture
def secret_warehouse_url(warehouse_url: str) -> str:
    """The warehouse URL, with a password on PostgreSQL (the test server trusts it anyway)."""
    if warehouse_url.startswith("postgresql"):
        url = sa.engine.make_url(warehouse_url).set(password=POSTGRES_PASSWORD)
        return url.render_as_string(hide_password=False)
    return warehouse_url


def test_no_secret_reaches_logs_errors_metadata_files_or_warehouse(
    monkeypatch, tmp_path, workdir, secret_warehouse_url, caplog, capfd
):
    caplog.set_level(logging.DEBUG)
    for name in ("dlt", "dagster", "dagster_dlt", "connectors", "urllib3"):
        caplog.set_level(logging.DEBUG, logger=name)
    # Loggers that do not propagate to the root logger report to caplog's handler directly.
    silent = [logger for logger in logging.root.manager.loggerDict.values()
              if isinstance(logger, logging.Logger) and not logger.propagate]
    for logger in silent:
        logger.addHandler(caplog.handler)
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt_data_dir"))
    errors: list[BaseException] = []
    try:
        world = crm_world()
        conversations = intercom_world()  # a few Intercom conversations, parts, a rating
        world.intercom_admins = conversations.intercom_admins
        world.intercom_teams = conversations.intercom_teams
        world.intercom_conversations = conversations.intercom_conversations
        tickets = freshdesk_world()  # a few Freshdesk tickets, activities, a rating
        world.freshdesk_groups, world.freshdesk_agents = tickets.freshdesk_groups, \
            tickets.freshdesk_agents
        world.freshdesk_contacts, world.freshdesk_tickets = tickets.freshdesk_contacts, \
            tickets.freshdesk_tickets
        world.freshdesk_ratings = tickets.freshdesk_ratings
        with Sandbox(world, port=0, incremental_rate_limit_per_minute=None, email=EMAIL,
                     api_token=API_TOKEN, oauth_token=OAUTH_TOKEN,
                     hubspot_access_token=HUBSPOT_TOKEN, intercom_access_token=INTERCOM_TOKEN,
                     freshdesk_api_key=FRESHDESK_KEY,
                     salesforce_access_token=SALESFORCE_TOKEN) as sandbox:
            configure(monkeypatch, workdir, sandbox, secret_warehouse_url, START, crm=True,
                      intercom=True, freshdesk=True)
            assert os.environ["INTERCOM_ACCESS_TOKEN"] == INTERCOM_TOKEN
            assert os.environ["FRESHDESK_API_KEY"] == FRESHDESK_KEY
            monkeypatch.setenv("SALESFORCE_INSTANCE_URL", sandbox.url)
            monkeypatch.setenv("SALESFORCE_ACCESS_TOKEN", SALESFORCE_TOKEN)
            assert os.environ["ZENDESK_API_TOKEN"] == API_TOKEN

            # 1. API token (Basic auth), the persistent instance of DAGSTER_HOME: as the CLI.
            run_partitions(START, END, log_level="DEBUG")
            # 2. OAuth token (Bearer), which takes precedence over the API token: beside a
            # wrong API token, the run succeeds only if Bearer auth is what went out.
            monkeypatch.setenv("ZENDESK_OAUTH_TOKEN", OAUTH_TOKEN)
            monkeypatch.setenv("ZENDESK_API_TOKEN", WRONG_TOKEN)
            run_partitions(START, END, log_level="DEBUG")
            # 3. The wrong token alone: 401s, a failed step, a stack trace.
            monkeypatch.delenv("ZENDESK_OAUTH_TOKEN")
            with pytest.raises(CommandError) as failure:
                run_partitions(START, END, log_level="DEBUG")
            errors.append(failure.value)
            assert "401" in str(failure.value)
    finally:
        for logger in silent:
            logger.removeHandler(caplog.handler)

    search = Search()
    captured = capfd.readouterr()
    search.look("stdout + stderr", captured.out + captured.err)
    assert "zendesk" in (captured.out + captured.err).lower()
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    assert len(caplog.records) > 100
    for record in caplog.records:
        search.look("log records", formatter.format(record) + repr(record.__dict__), record.name)
    for error in errors:
        search.look("exceptions", "".join(traceback.format_exception(error)))

    dagster_home = Path(os.environ["DAGSTER_HOME"])
    assert dagster_home.is_relative_to(workdir)
    assert list(dagster_home.rglob("*.db")), "the runs were not stored in DAGSTER_HOME"
    search_files(search, "files under DAGSTER_HOME", dagster_home)
    # dlt's folders: next to a DuckDB file (tmp_path), else under the working directory.
    roots = (workdir, tmp_path)
    dlt_folders = [path for root in roots for path in root.rglob(".dlt_pipelines")
                   if path.is_dir()]
    assert dlt_folders, "no dlt pipelines folder"
    for folder in dlt_folders:
        search_files(search, "dlt pipelines folder", folder)
    search_files(search, "dlt data dir", tmp_path / "dlt_data_dir")
    for root in roots:
        search_files(search, "other files (warehouse file, ...)", root,
                     skip=(dagster_home, tmp_path / "dlt_data_dir", *dlt_folders))
    search_dagster_records(search)
    warehouse = Warehouse(secret_warehouse_url)
    try:
        search_warehouse(search, warehouse)
    finally:
        warehouse.dispose()

    with capfd.disabled():
        print(f"\nSearched for {len(NEEDLES)} secret forms in:\n{search.report()}")
    assert not search.hits, "secrets leaked:\n" + "\n".join(dict.fromkeys(search.hits))
    assert search.controls_seen == set(CONTROLS), set(CONTROLS) - search.controls_seen
    assert search.searched["dagster materialization metadata"][0] > 100
