"""Command line for the sandbox: build a seeded world and serve it until Ctrl-C."""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Sequence
from datetime import date

from sandbox.generate import generate_world
from sandbox.server import Sandbox


def serve(port: int = 8765, seed: int = 42, tickets: int = 5000, days: int = 90,
          end_date: date | str | None = None, rate_limit_per_minute: int | None = 700,
          incremental_rate_limit_per_minute: int | None = 10, host: str = "127.0.0.1",
          stop_event: threading.Event | None = None) -> None:
    """Generate a world and serve it, printing the URL and (fake) credentials.

    Blocks until Ctrl-C (or until ``stop_event`` is set, for embedding and tests).
    """
    started = time.monotonic()
    world = generate_world(seed=seed, tickets=tickets, days=days, end_date=end_date)
    sandbox = Sandbox(world, host=host, port=port, rate_limit_per_minute=rate_limit_per_minute,
                      incremental_rate_limit_per_minute=incremental_rate_limit_per_minute)
    with sandbox:
        creds = sandbox.credentials
        print(f"Zendesk sandbox: {len(world.tickets)} tickets, {len(world.users)} users "
              f"(seed {seed}, {days} days) ready in {time.monotonic() - started:.1f}s")
        print(f"  ZENDESK_BASE_URL={sandbox.url}")
        print(f"  ZENDESK_SUBDOMAIN={creds['subdomain']}")
        print(f"  ZENDESK_EMAIL={creds['email']}")
        print(f"  ZENDESK_API_TOKEN={creds['api_token']}")
        print(f"  ZENDESK_OAUTH_TOKEN={creds['oauth_token']}")
        print(f"CRM: {len(world.crm_companies)} companies, {len(world.deals)} deals "
              "(HubSpot CRM v3 under /crm/v3, Salesforce REST under /services/data)")
        print(f"  HUBSPOT_BASE_URL={sandbox.url}")
        print(f"  HUBSPOT_ACCESS_TOKEN={creds['hubspot_access_token']}")
        print(f"  SALESFORCE_INSTANCE_URL={creds['salesforce_instance_url']}")
        print(f"  SALESFORCE_ACCESS_TOKEN={creds['salesforce_access_token']}")
        print("Press Ctrl-C to stop.", flush=True)
        waiter = stop_event or threading.Event()
        try:
            while not waiter.wait(0.5):
                pass
        except KeyboardInterrupt:
            print("\nStopping the sandbox.")


def _limit(value: str) -> int | None:
    return None if value.lower() in ("none", "off", "0") else int(value)


def build_parser() -> argparse.ArgumentParser:
    """Argument parser for ``helpdesk-etl sandbox`` / ``python -m sandbox``."""
    parser = argparse.ArgumentParser(
        prog="sandbox", description="Serve simulated Zendesk, HubSpot and Salesforce APIs.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--end-date", type=date.fromisoformat, default=None,
                        help="last day of data (YYYY-MM-DD); default yesterday (UTC)")
    parser.add_argument("--rate-limit", type=_limit, default=700,
                        help="requests per minute, or 'none'")
    parser.add_argument("--incremental-rate-limit", type=_limit, default=10,
                        help="incremental-export requests per minute, or 'none'")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and serve; returns the exit code."""
    args = build_parser().parse_args(argv)
    serve(port=args.port, seed=args.seed, tickets=args.tickets, days=args.days,
          end_date=args.end_date, rate_limit_per_minute=args.rate_limit,
          incremental_rate_limit_per_minute=args.incremental_rate_limit, host=args.host)
    return 0
