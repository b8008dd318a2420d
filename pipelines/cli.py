"""The `helpdesk-etl` command line: demo, sandbox, run, ui, bi-role.

Every command exits 0 on success, or non-zero with a one-line reason on failure.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from pipelines.settings import Settings

DEFAULT_DAGSTER_HOME = Path("data") / "dagster_home"
REPO_ROOT = Path(__file__).resolve().parent.parent
#: Dagster settings of the runs this command line starts, unless the environment sets them.
#: A run over a range of days (a backfill, `run --start --end`) records one "materialization
#: planned" event per asset for the whole range instead of one per asset and day: the
#: nightly job's 37 assets over three years were 40,500 such events, written one at a time
#: to the instance's SQLite files, most of a small helpdesk's backfill (docs/performance-log.md,
#: "Backfills"). Dagster's caveat: when such a run fails, its days show as missing in the
#: UI's partition status, not as failed (the run itself shows failed).
DAGSTER_ENVIRONMENT = {"DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true"}
UNSOLVED = ("new", "open", "pending", "hold")


class CommandError(RuntimeError):
    """A failure to report on one line."""


def _dagster_home() -> Path:
    """DAGSTER_HOME, defaulting to data/dagster_home so `helpdesk-etl ui` shows past runs.

    Its `dagster.yaml` is a copy of the project's, kept current: replaced when it differs
    and still starts with the project's first line (an earlier copy); a file of the user's
    own is left alone."""
    home = Path(os.environ.get("DAGSTER_HOME") or DEFAULT_DAGSTER_HOME).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config, ours = home / "dagster.yaml", REPO_ROOT / "dagster.yaml"
    if ours.exists():
        wanted = ours.read_text()
        current = config.read_text() if config.exists() else None
        if current is None or (current != wanted
                               and current.partition("\n")[0] == wanted.partition("\n")[0]):
            config.write_text(wanted)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


@contextmanager
def dagster_environment() -> Iterator[None]:
    """`DAGSTER_ENVIRONMENT` in this process's environment for the duration, where the
    environment does not set the variable itself."""
    added = {name: value for name, value in DAGSTER_ENVIRONMENT.items() if name not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def run_partitions(
    start: date, end: date, log_level: str = "INFO", instance: object | None = None,
    settings: Settings | None = None,
) -> None:
    """Materialise every configured asset for the days in [start, end), in process.

    The same jobs the schedules and a UI backfill run: one run of the nightly job over the
    day range (raw assets extract it in one window, daily marts recompute each day), then
    one run of the monthly revenue job over every month up to the last day's. Runs are recorded
    in the Dagster instance of DAGSTER_HOME (default data/dagster_home), or in `instance`.
    `settings`: `Settings`, read from the environment unless given.
    """
    import dagster as dg

    from pipelines.definitions import build_definitions
    from pipelines.schedules import MONTHLY_JOB, NIGHTLY_JOB
    from pipelines.settings import Settings
    from warehouse import Warehouse

    settings = settings or Settings.from_env()
    if not settings.configured_sources:
        raise CommandError(
            "no source is configured: set ZENDESK_SUBDOMAIN, ZENDESK_EMAIL and ZENDESK_API_TOKEN "
            "(see README), or try `helpdesk-etl demo`"
        )
    if end <= start:
        raise CommandError(f"--end {end} must be after --start {start}")
    tomorrow = datetime.now(ZoneInfo(settings.reporting_timezone)).date() + timedelta(days=1)
    if end > tomorrow:
        raise CommandError(
            f"--end {end} is after tomorrow ({tomorrow} in {settings.reporting_timezone}): "
            "those days have not happened yet"
        )
    if start < settings.pipeline_start_date:
        raise CommandError(
            f"--start {start} is before PIPELINE_START_DATE {settings.pipeline_start_date}"
        )
    definitions = build_definitions(settings)
    last_day = end - timedelta(days=1)
    runs = [
        # The days, then every month up to the last day's (revenue marts and CLV), as the
        # monthly schedule runs them: a deal landed today may have started months ago.
        (NIGHTLY_JOB, start.isoformat(), last_day.isoformat()),
        (MONTHLY_JOB, settings.pipeline_start_date.replace(day=1).isoformat(),
         last_day.replace(day=1).isoformat()),
    ]
    with ExitStack() as stack:
        warehouse = Warehouse(settings.warehouse_url)
        stack.callback(warehouse.dispose)
        # In-process runs take no executor from the job, so not pipelines.executor's lock:
        # the same lock is held here, around both runs.
        stack.enter_context(warehouse.writer_lock(
            lambda waiting: print(f"helpdesk-etl: {waiting}", file=sys.stderr, flush=True)))
        if instance is None:
            _dagster_home()
            instance = stack.enter_context(dg.DagsterInstance.get())
        for job_name, first_key, last_key in runs:
            run_partition_range(definitions, job_name, first_key, last_key, instance, log_level)


def run_partition_range(definitions, job_name: str, first_key: str, last_key: str,
                        instance, log_level: str = "INFO",
                        asset_selection: list | None = None) -> None:
    """One in-process run of `job_name` over the partitions [first_key, last_key] (of its
    assets, or of `asset_selection`), as a backfill of the range runs it, with
    `DAGSTER_ENVIRONMENT`; a failed run raises `CommandError`."""
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    with dagster_environment():
        result = definitions.resolve_job_def(job_name).execute_in_process(
            instance=instance, raise_on_error=False, asset_selection=asset_selection,
            tags={ASSET_PARTITION_RANGE_START_TAG: first_key,
                  ASSET_PARTITION_RANGE_END_TAG: last_key},
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        )
    _raise_on_failure(result)


def _raise_on_failure(result) -> None:
    """Turn a failed run into a one-line CommandError naming the failed step."""
    if not result.success:
        failures = [e for e in result.all_events if e.is_step_failure]
        error = failures[0].step_failure_data.error if failures else None
        # Dagster and dlt wrap the real cause (e.g. the API's 401): report the innermost one.
        while error is not None and error.cause is not None:
            error = error.cause
        reason = (
            error.message.strip().splitlines()[0]
            if error is not None and error.message.strip()
            else "the run failed (see the Dagster logs above)"
        )
        step = failures[0].step_key if failures else "run"
        raise CommandError(f"{step}: {reason}")


#: The demo's survey scores cover this many days to the last reporting day.
SURVEY_DAYS = 30


def kpi_summary(warehouse_url: str) -> dict[str, object]:
    """The headline KPIs, read back from marts.ticket_metrics, marts.handle_time_daily,
    marts.churn_monthly, marts.account_health and marts.survey_scores_daily."""
    from warehouse import Warehouse

    warehouse = Warehouse(warehouse_url)
    unsolved = {f"unsolved_{i}": status for i, status in enumerate(UNSOLVED)}
    in_unsolved = ", ".join(f":{name}" for name in unsolved)
    rows = warehouse.query(
        f"""
        SELECT source, count(*) AS tickets,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY first_response_minutes)
                   AS median_first_response_minutes,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY first_response_business_minutes)
                   AS median_first_response_business_minutes,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY full_resolution_minutes)
                   AS median_full_resolution_minutes,
               avg(replies_to_resolution) AS avg_replies_to_resolution,
               count(*) FILTER (WHERE status IN ({in_unsolved})) AS open_backlog
        FROM marts.ticket_metrics
        WHERE status <> 'deleted'
        GROUP BY source
        ORDER BY source DESC
        """,
        unsolved,
    )
    # Average handle time per handled contact (Zendesk's calls, Freshdesk's time entries).
    aht = {row["source"]: row["aht_minutes"] for row in warehouse.query(
        """
        SELECT source, sum(handle_seconds) / 60.0 / nullif(sum(handled_contacts), 0)
                   AS aht_minutes
        FROM marts.handle_time_daily
        GROUP BY source
        """
    )}
    for row in rows:
        row["aht_minutes"] = aht.get(row["source"])
    revenue = warehouse.query(
        """
        SELECT month, accounts_end, mrr_end, logo_churn_rate, nrr
        FROM marts.churn_monthly
        WHERE segment = 'all' AND month < (SELECT max(month) FROM marts.churn_monthly)
        ORDER BY month DESC
        LIMIT 1
        """
    )
    bands = warehouse.query(
        "SELECT risk_band, count(*) AS accounts, max(window_end) AS window_end "
        "FROM marts.account_health GROUP BY risk_band"
    )
    # Per survey over the last SURVEY_DAYS reporting days, named as on the last day.
    surveys = warehouse.query(
        """
        SELECT s.source, s.survey_id, s.survey_name, s.survey_type, s.scale_max,
               t.responses, s.date AS last_day,
               CAST(100 * (t.promoters - t.detractors) AS double precision)
                   / nullif(t.answered, 0) AS nps,
               CAST(t.satisfied AS double precision) / nullif(t.answered, 0) AS csat_rate,
               t.ces_sum / nullif(t.answered, 0) AS ces_avg
        FROM (
            SELECT source, survey_id, max(date) AS last_day, sum(responses) AS responses,
                   sum(answered_responses) AS answered, sum(promoters) AS promoters,
                   sum(detractors) AS detractors, sum(satisfied_responses) AS satisfied,
                   sum(ces_avg * answered_responses) AS ces_sum
            FROM marts.survey_scores_daily
            WHERE date > (SELECT max(date) FROM marts.survey_scores_daily)
                - CAST(:days AS integer)
            GROUP BY source, survey_id
        ) AS t
        INNER JOIN marts.survey_scores_daily AS s
            ON s.source = t.source AND s.survey_id = t.survey_id AND s.date = t.last_day
        ORDER BY s.source, s.survey_id
        """,
        {"days": SURVEY_DAYS},
    )
    warehouse.dispose()
    return {"helpdesks": rows, "last_full_month": revenue[0] if revenue else None,
            "health_bands": {row["risk_band"]: row for row in bands}, "surveys": surveys}


def print_summary(summary: dict[str, object]) -> None:
    """Print the KPI summary as aligned lines."""

    def fmt(value: object) -> str:
        return "n/a" if value is None else f"{float(value):,.1f}"

    def fmt_rate(value: object) -> str:
        return "n/a" if value is None else f"{float(value):.1%}"

    helpdesks = summary["helpdesks"]
    print("\nCustomer-experience KPIs (marts.ticket_metrics, marts.handle_time_daily):")
    print(f"  {'':<32} " + " ".join(f"{row['source']:>10}" for row in helpdesks))
    for label, key, shown in (
        ("tickets", "tickets", lambda v: f"{v:,}"),
        ("median first response (minutes)", "median_first_response_minutes", fmt),
        ("  in business minutes", "median_first_response_business_minutes", fmt),
        ("median full resolution (minutes)", "median_full_resolution_minutes", fmt),
        ("replies to resolution (average)", "avg_replies_to_resolution", fmt),
        ("average handle time (minutes)", "aht_minutes", fmt),
        ("open backlog (unsolved tickets)", "open_backlog", lambda v: f"{v:,}"),
    ):
        print(f"  {label:<32} " + " ".join(f"{shown(row[key]):>10}" for row in helpdesks))
    month = summary.get("last_full_month")
    if month:
        print(f"\nRevenue (marts.churn_monthly, {month['month']:%B %Y}, all segments):")
        print(f"  paying accounts                  {month['accounts_end']:>10,}")
        print(f"  MRR                              {fmt(month['mrr_end']):>10}")
        print(f"  logo churn rate                  {fmt_rate(month['logo_churn_rate']):>10}")
        print(f"  net revenue retention            {fmt_rate(month['nrr']):>10}")
    bands = summary.get("health_bands") or {}
    if bands:
        last_day = max(band["window_end"] for band in bands.values())
        print(f"\nAccount health (marts.account_health, the 90 days to {last_day.day} "
              f"{last_day:%B %Y}):")
        for band in ("healthy", "watch", "at_risk", "churned", "unknown"):
            count = bands[band]["accounts"] if band in bands else 0
            print(f"  {band.replace('_', ' ') + ' (accounts)':<32} {count:>10,}")
    surveys = summary.get("surveys") or []
    if surveys:
        last_day = max(survey["last_day"] for survey in surveys)
        print(f"\nSurveys (marts.survey_scores_daily, the {SURVEY_DAYS} days to {last_day.day} "
              f"{last_day:%B %Y}):")
        for survey in surveys:
            kind = survey["survey_type"]
            score = {"nps": f"NPS {fmt(survey['nps'])}",
                     "csat": f"CSAT {fmt_rate(survey['csat_rate'])}",
                     "ces": f"CES {fmt(survey['ces_avg'])} of {survey['scale_max']}"}.get(kind, "")
            name = f"{survey['survey_name'] or survey['survey_id']} ({survey['source']})"
            print(f"  {name:<32} {score:>16}  {survey['responses']:>6,} responses")


def sandbox_environment(sandbox, first_day: date) -> dict[str, str]:
    """Environment variables that point the pipeline at a running sandbox."""
    creds = sandbox.credentials
    return {
        "ZENDESK_BASE_URL": sandbox.url,
        "ZENDESK_SUBDOMAIN": creds["subdomain"],
        "ZENDESK_EMAIL": creds["email"],
        "ZENDESK_API_TOKEN": creds["api_token"],
        "INTERCOM_ACCESS_TOKEN": creds["intercom_access_token"],
        "INTERCOM_BASE_URL": sandbox.url,
        "FRESHDESK_API_KEY": creds["freshdesk_api_key"],
        "FRESHDESK_BASE_URL": creds["freshdesk_base_url"],
        "HUBSPOT_ACCESS_TOKEN": creds["hubspot_access_token"],
        "HUBSPOT_BASE_URL": sandbox.url,
        "PIPELINE_START_DATE": first_day.isoformat(),
    }


def user_configuration(env: dict[str, str], config_dir: Path) -> dict[str, str]:
    """The configuration the pipeline would read in `config_dir`: its `.env` file under the
    environment `env` (which wins, as `Settings.from_env` loads it)."""
    from dotenv import dotenv_values

    dotenv = dotenv_values(config_dir / ".env")
    return {**{k: v for k, v in dotenv.items() if v is not None}, **env}


def demo_environment(env: dict[str, str], config_dir: Path) -> dict[str, str]:
    """What the demo sets over `env` (the user's environment, with the `.env` of
    `config_dir`) before `sandbox_environment`: the default DuckDB file, and every source,
    the warehouse, the days and `FULL_REBUILD` of the user's own configuration set empty
    (which `Settings` reads as unset, and which a `.env` does not override). So the demo
    never sends a real token to the sandbox, never calls a real API, and never writes its
    rows into a real warehouse. Preferences (`REPORTING_TIMEZONE`, `LAND_FREE_TEXT`, the CLV
    settings, `HTTP_TIMEOUT_SECONDS`) are the user's.

    Raises `CommandError` when the user's own pipeline writes to that same DuckDB file: the
    demo's rows would merge into theirs.
    """
    from pipelines.settings import (
        CREDENTIAL_VARIABLES,
        DEMO_RESET_VARIABLES,
        SOURCE_VARIABLE_PREFIXES,
    )
    from warehouse import DEFAULT_WAREHOUSE_URL

    configured = user_configuration(env, config_dir)
    credentials = sorted(name for name in CREDENTIAL_VARIABLES if configured.get(name))
    if credentials and _same_duckdb_file(
        configured.get("WAREHOUSE_URL") or DEFAULT_WAREHOUSE_URL, DEFAULT_WAREHOUSE_URL,
        config_dir,
    ):
        raise CommandError(
            f"the demo writes to {DEFAULT_WAREHOUSE_URL}, which is the "
            f"warehouse of the pipeline configured here ({', '.join(credentials)} set): run "
            "the demo from another directory, so that its rows do not mix with yours"
        )
    reset = {
        name: "" for name in configured
        if name.startswith(SOURCE_VARIABLE_PREFIXES) or name in DEMO_RESET_VARIABLES
    }
    return {**reset, "WAREHOUSE_URL": DEFAULT_WAREHOUSE_URL}


def _same_duckdb_file(url: str, other: str, directory: Path) -> bool:
    """Do two warehouse URLs name the same DuckDB file, relative paths taken in `directory`?"""
    from warehouse import Warehouse
    from warehouse.core import WarehouseError

    try:
        paths = [Warehouse(u).duckdb_path for u in (url, other)]
    except WarehouseError:
        return False
    if None in paths:
        return False
    first, second = ((directory / Path(p).expanduser()).resolve() for p in paths)
    return first == second


def _start_demo_sandbox(args: argparse.Namespace) -> tuple[object, date, date]:
    """Serve a generated world of `args.days` days ending yesterday; return it and its days."""
    from sandbox import Sandbox, generate_world

    last_day = datetime.now(UTC).date() - timedelta(days=1)
    first_day = last_day - timedelta(days=args.days - 1)
    world = generate_world(seed=args.seed, tickets=args.tickets, days=args.days, end_date=last_day)
    # The demo lifts Zendesk's incremental-export limit (10 requests/minute) and Freshdesk's
    # per-minute credits (one request per changed ticket) so the first run takes seconds;
    # `helpdesk-etl sandbox` serves the documented limits.
    sandbox = Sandbox(world, port=0, incremental_rate_limit_per_minute=None,
                      freshdesk_rate_limit_per_minute=None)
    sandbox.start()
    return sandbox, first_day, last_day


def cmd_demo(args: argparse.Namespace) -> None:
    """Serve the sandbox, run the whole pipeline over it, print the KPIs."""
    from pipelines.settings import Settings

    demo = demo_environment(dict(os.environ), Path.cwd())
    print(f"Generating a sandbox helpdesk: {args.tickets:,} tickets over {args.days} days "
          f"(seed {args.seed})...")
    sandbox, first_day, last_day = _start_demo_sandbox(args)
    try:
        os.environ.update({**demo, **sandbox_environment(sandbox, first_day)})
        settings = Settings.from_env()
        print(f"Sandbox serving the Zendesk, Intercom, Freshdesk and HubSpot APIs at {sandbox.url}")
        print(f"Loading {first_day} .. {last_day} into {settings.warehouse_url} ...")
        run_partitions(first_day, last_day + timedelta(days=1), log_level="WARNING")
    finally:
        sandbox.stop()
    print_summary(kpi_summary(settings.warehouse_url))
    print(
        "\nExplore it in the Dagster UI (assets, runs, backfills):\n"
        "  .venv/bin/helpdesk-etl ui --demo     then open http://127.0.0.1:3000\n"
        f"Query it from a BI tool or duckdb: {settings.warehouse_url} (schemas marts, staging)"
    )


def cmd_sandbox(args: argparse.Namespace) -> None:
    """Serve the simulated vendor APIs until interrupted."""
    from sandbox.cli import serve, service_options

    try:
        serve(port=args.port, seed=args.seed, tickets=args.tickets, days=args.days,
              **service_options(args))
    except OSError as exc:  # the port taken, or not ours to bind
        raise CommandError(f"cannot serve on 127.0.0.1:{args.port}: "
                           f"{exc.strerror or exc}") from None


def cmd_run(args: argparse.Namespace) -> None:
    """Materialise every configured asset for [start, end)."""
    if args.full_rebuild:
        os.environ["FULL_REBUILD"] = "true"
    run_partitions(args.start, args.end)
    print(f"helpdesk-etl: loaded and refreshed {args.start} .. {args.end} (end exclusive)")


def cmd_ui(args: argparse.Namespace) -> None:
    """Run `dagster dev` on this project (with --demo: against a freshly served sandbox).

    The code location works in the current directory, as `run` and `demo` do: the same
    `.env`, and relative paths (the DuckDB file, dlt's folders) from the same place.
    """
    env = {**DAGSTER_ENVIRONMENT, **os.environ}
    env["DAGSTER_HOME"] = str(_dagster_home())
    sandbox = None
    if args.demo:
        env.update(demo_environment(env, Path.cwd()))
        sandbox, first_day, _ = _start_demo_sandbox(args)
        env.update(sandbox_environment(sandbox, first_day))
        print(f"Sandbox serving the Zendesk, Intercom, Freshdesk and HubSpot APIs at {sandbox.url}")
    try:
        subprocess.run(
            [sys.executable, "-m", "dagster", "dev", "-m", "pipelines.definitions",
             "-d", str(Path.cwd()), "-p", str(args.port)],
            env=env,
            check=False,
        )
    except KeyboardInterrupt:
        pass
    finally:
        if sandbox is not None:
            sandbox.stop()


def cmd_bi_role(args: argparse.Namespace) -> None:
    """Create or update a read-only PostgreSQL login that reads schema marts only.

    The password is read from the environment variable named by --password-env, never from
    the command line (argv shows in `ps` and in shell history).
    """
    import re

    from pipelines.settings import Settings
    from warehouse import Warehouse, grant_bi_role

    password = None
    if args.password_env is not None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", args.password_env):
            # Not echoed: someone may have typed the password itself here.
            raise CommandError("--password-env takes the NAME of an environment variable "
                               "holding the password, not the password")
        password = os.environ.get(args.password_env)
        if not password:
            raise CommandError(f"--password-env {args.password_env}: that variable is not set")
    warehouse = Warehouse(Settings.from_env().warehouse_url)
    try:
        result = grant_bi_role(warehouse, args.role, password, args.pipeline_role)
    finally:
        warehouse.dispose()
    print(f"helpdesk-etl: BI role {result.role!r} {'created' if result.created else 'updated'}: "
          f"SELECT on the {result.marts_tables} tables of schema marts, and on marts tables "
          f"{result.pipeline_role!r} creates later; read-only, nothing else")
    if not result.password_set:
        print("helpdesk-etl: password left unchanged (use --password-env VAR to set one)")
    if result.revoked_public_create:
        print("helpdesk-etl: also revoked CREATE on schema public from PUBLIC")
    if result.temporary_allowed:
        print("helpdesk-etl: warning: the role can still create temporary tables (PUBLIC "
              "holds TEMPORARY on the database, and only its owner can revoke that)",
              file=sys.stderr)


def _at_least(minimum: int):
    """An argparse type: an integer of at least `minimum`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is less than {minimum}")
        return value

    return parse


def _add_world_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=42, help="world seed (default 42)")
    parser.add_argument("--tickets", type=_at_least(0), default=5000,
                        help="tickets (default 5000)")
    parser.add_argument("--days", type=_at_least(1), default=90,
                        help="days ending yesterday (default 90)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser."""
    parser = argparse.ArgumentParser(
        prog="helpdesk-etl", description="Customer-experience metrics from helpdesk and CRM APIs."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run the whole pipeline over the sandbox")
    _add_world_options(demo)
    demo.set_defaults(func=cmd_demo)

    sandbox = commands.add_parser("sandbox", help="serve the simulated vendor APIs")
    sandbox.add_argument("--port", type=_at_least(0), default=8765)
    _add_world_options(sandbox)
    # The rate-limit and --fault options are the sandbox's own (python -m sandbox has them too).
    from sandbox.cli import add_service_arguments

    add_service_arguments(sandbox)
    sandbox.set_defaults(func=cmd_sandbox)

    run = commands.add_parser("run", help="materialise every asset for [--start, --end)")
    run.add_argument("--start", type=date.fromisoformat, required=True, help="first day (ISO)")
    run.add_argument("--end", type=date.fromisoformat, required=True, help="day after the last")
    run.add_argument("--full-rebuild", action="store_true",
                     help="rebuild every per-ticket model in full, not only the changed tickets")
    run.set_defaults(func=cmd_run)

    ui = commands.add_parser("ui", help="open the Dagster UI on this project")
    ui.add_argument("--demo", action="store_true", help="serve the sandbox and point at it")
    ui.add_argument("--port", type=_at_least(1), default=3000)
    _add_world_options(ui)
    ui.set_defaults(func=cmd_ui)

    bi_role = commands.add_parser(
        "bi-role", help="create or update a read-only PostgreSQL role for a BI tool (marts only)",
        allow_abbrev=False,  # `--password x` must not pass for `--password-env x`
    )
    bi_role.add_argument("--role", required=True, help="the role's name")
    bi_role.add_argument("--password-env", metavar="VAR",
                         help="environment variable holding the role's password (default: "
                              "leave the password unchanged)")
    bi_role.add_argument("--pipeline-role", metavar="ROLE",
                         help="the role the pipeline connects as, whose future marts tables the "
                              "BI role may read (default: WAREHOUSE_URL's role)")
    bi_role.set_defaults(func=cmd_bi_role)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    from pipelines.settings import ConfigurationError
    from warehouse.core import WarehouseError

    try:
        args.func(args)
    except (CommandError, ConfigurationError, WarehouseError) as exc:
        print(f"helpdesk-etl: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
