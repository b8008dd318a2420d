"""Run `helpdesk-etl` with a kill point installed: the process SIGKILLs itself there.

    python tests/crash/killed_run.py [--kill-at POINT [--nth N] [--table T]
        [--pause-dir D [--pause-only]] [--marker FILE]] -- run --start 2025-06-17 --end 2025-07-01

The command after `--` goes to `pipelines.cli.main`, exactly as the console script would
pass it. Without `--kill-at` the run is a plain, uninterrupted one (the baseline). With it,
the process kills itself with SIGKILL at the chosen point: no `finally`, no atexit, no
flush, no rollback issued by Python: what a power cut or the OOM killer leaves behind.

Kill points (each counts its own events; the Nth one kills):

* `api-page`      after the Nth API page came back (extract is under way).
* `normalize`     after dlt's normalizer wrote the Nth batch of normalized files, before it
                  commits the load package (extract finished, normalize half done).
* `load`          after the Nth completed merge job of dlt's load step (`.sql` jobs that
                  copy the staged rows into the final `raw_*` tables): some tables of the
                  package are in the warehouse, the package is not marked loaded.
* `mart-write`    inside the transaction that rebuilds `--table` (a `marts.*` table), right
                  after the statement that wrote its new rows, before the commit.
* `before-marts`  between assets: when the first mart asset starts, after the staging and
                  intermediate assets it reads have committed.

With `--pause-dir D`, the process first creates `D/paused` at the point and waits for
`D/go` (so a test can, say, read a mart from another connection while its rebuild
transaction is open); `--pause-only` then lets the run go on instead of killing it.

Before killing, the hook writes one line describing the point reached to `--marker`, so a
test can tell "killed where asked" from "died for another reason".
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]

KILL_POINTS = ("api-page", "normalize", "load", "mart-write", "before-marts")


class KillSwitch:
    """Counts the events of one kill point; at the Nth, pauses (if asked) and kills."""

    def __init__(self, point: str, nth: int, marker: Path | None,
                 pause_dir: Path | None = None, kill: bool = True) -> None:
        self.point = point
        self.nth = nth
        self.marker = marker
        self.pause_dir = pause_dir
        self.kill_enabled = kill
        self.seen = 0

    def event(self, detail: str) -> None:
        """One more event of the kill point; the Nth pauses and/or kills the process."""
        self.seen += 1
        if self.seen != self.nth:
            return
        if self.pause_dir is not None:
            (self.pause_dir / "paused").write_text(detail)
            while not (self.pause_dir / "go").exists():
                time.sleep(0.05)
        if self.kill_enabled:
            self.kill(detail)

    def kill(self, detail: str) -> None:
        """Record where, then die without any clean-up."""
        if self.marker is not None:
            self.marker.write_text(f"{self.point} #{self.seen}: {detail}\n")
        os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(60)  # never reached: SIGKILL cannot be caught


def _wrap(owner: Any, name: str, make: Callable[[Callable], Callable]) -> None:
    setattr(owner, name, make(getattr(owner, name)))


def install_api_page(switch: KillSwitch) -> None:
    """Kill after the Nth API page (`ApiClient.get_json` returned)."""
    from connectors.http import ApiClient

    def make(original: Callable) -> Callable:
        def get_json(self, path_or_url, *args, **kwargs):
            page = original(self, path_or_url, *args, **kwargs)
            switch.event(f"{self.source} page {str(path_or_url).split('?')[0]}")
            return page

        return get_json

    _wrap(ApiClient, "get_json", make)


def install_normalize(switch: KillSwitch) -> None:
    """Kill after dlt wrote normalized files, before it commits the load package.

    `Normalize.map_single` calls the module-level `w_normalize_files` (the same function the
    parallel workers run); once it returns, the normalized files sit in the package's
    temporary folder, and `spool_files` has not yet renamed it into a loadable package.
    """
    from dlt.normalize import normalize as dlt_normalize

    def make(original: Callable) -> Callable:
        def w_normalize_files(*args, **kwargs):
            result = original(*args, **kwargs)
            switch.event(f"normalized files of load package {args[4]}")
            return result

        return w_normalize_files

    _wrap(dlt_normalize, "w_normalize_files", make)


def install_load(switch: KillSwitch) -> None:
    """Kill after the Nth completed merge (`.sql` follow-up) job of dlt's load step."""
    from dlt.load.load import Load

    def make(original: Callable) -> Callable:
        def complete_jobs(self, load_id, jobs, schema):
            remaining, finalized, pending = original(self, load_id, jobs, schema)
            for job in finalized:
                info = job.job_file_info()
                if job.state() == "completed" and info.file_format == "sql":
                    switch.event(f"merge job {info.job_id()} of load {load_id} completed")
            return remaining, finalized, pending

        return complete_jobs

    _wrap(Load, "complete_jobs", make)


def install_mart_write(switch: KillSwitch, table: str) -> None:
    """Kill inside the rebuild transaction of `marts.<table>`, after its rows were written.

    The hook listens to every statement SQLAlchemy runs: the rebuild of a whole-table mart
    writes its rows with `CREATE TABLE marts.<table> AS SELECT ...`, a daily mart with
    `INSERT INTO marts.<table> ...` (after the `DELETE` of the days); both run inside the
    transaction of `transforms.runner`, which commits only after them.
    """
    import sqlalchemy as sa

    name = r'"?marts"?\s*\.\s*"?' + re.escape(table) + r'"?'
    writes = re.compile(rf"^\s*(CREATE TABLE\s+{name}\s+AS|INSERT INTO\s+{name}\s)", re.I)

    def after_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        if not writes.match(statement):
            return
        if not conn.in_transaction():
            raise AssertionError(f"marts.{table} written outside a transaction")
        switch.event(f"rows of marts.{table} written, transaction open: "
                     f"{statement.strip().split(chr(10))[0][:60]}")

    sa.event.listen(sa.engine.Engine, "after_cursor_execute", after_cursor_execute)


def install_before_marts(switch: KillSwitch) -> None:
    """Kill when the first mart asset starts (its upstream assets have all committed)."""
    import pipelines.transform_assets as assets

    def make(original: Callable) -> Callable:
        def build(model, *args, **kwargs):
            if model.layer == "marts":
                switch.event(f"about to build marts.{model.name}")
            return original(model, *args, **kwargs)

        return build

    _wrap(assets, "build_model", make)
    _wrap(assets, "build_model_days", make)


def parse(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    """Split our options from the CLI's arguments (after `--`)."""
    argv = list(argv)
    split = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kill-at", choices=KILL_POINTS)
    parser.add_argument("--nth", type=int, default=1)
    parser.add_argument("--table", help="the marts table of `mart-write`")
    parser.add_argument("--pause-dir", type=Path)
    parser.add_argument("--pause-only", action="store_true",
                        help="pause at the point (needs --pause-dir) but do not kill")
    parser.add_argument("--marker", type=Path)
    return parser.parse_args(argv[:split]), argv[split + 1:]


def main(argv: Sequence[str]) -> int:
    """Install the kill point, then run the real command line."""
    options, cli_args = parse(argv)
    sys.path.insert(0, str(REPO_ROOT))
    if options.kill_at:
        switch = KillSwitch(options.kill_at, options.nth, options.marker, options.pause_dir,
                            kill=not options.pause_only)
        if options.kill_at == "api-page":
            install_api_page(switch)
        elif options.kill_at == "normalize":
            install_normalize(switch)
        elif options.kill_at == "load":
            install_load(switch)
        elif options.kill_at == "mart-write":
            if not options.table:
                raise SystemExit("--kill-at mart-write needs --table")
            install_mart_write(switch, options.table)
        else:
            install_before_marts(switch)
    from pipelines.cli import main as cli_main

    return cli_main(cli_args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
