"""Command line for the sandbox: build a seeded world and serve it until Ctrl-C.

Every vendor's rate limits are switchable per run (``--rate-limit``,
``--incremental-rate-limit``, ``--intercom-rate-limit``, ``--freshdesk-rate-limit``,
``--hubspot-rate-limit``, ``--hubspot-daily-limit``, ``--hubspot-search-rate-limit``,
``--salesforce-daily-limit``;
``none`` disables one)
and faults can be queued from the start (``--fault KIND:PATH_PREFIX[:key=value,...]``,
repeatable); ``--salesforce-without-custom-fields`` serves an org that lacks the custom
field ``Contract_Term_Months__c``. ``helpdesk-etl sandbox`` takes the same options
(:func:`add_service_arguments`, :func:`service_options`).
"""

from __future__ import annotations

import argparse
import gc
import threading
import time
from collections.abc import Sequence
from datetime import date
from typing import Any

from sandbox.freshdesk_api import DOCUMENTED_RATE_LIMIT_PER_MINUTE as FRESHDESK_RATE_LIMIT
from sandbox.generate import generate_world
from sandbox.intercom_api import DOCUMENTED_RATE_LIMIT_PER_10S
from sandbox.limits import FAULT_KINDS, Fault, parse_fault_option
from sandbox.server import Sandbox


def serve(port: int = 8765, seed: int = 42, tickets: int = 5000, days: int = 90,
          end_date: date | str | None = None, intercom_conversations: int | None = None,
          freshdesk_tickets: int | None = None,
          rate_limit_per_minute: int | None = 700,
          incremental_rate_limit_per_minute: int | None = 10, host: str = "127.0.0.1",
          stop_event: threading.Event | None = None, *,
          hubspot_rate_limit_per_10s: int | None = 100, hubspot_daily_limit: int | None = None,
          hubspot_search_rate_limit_per_second: int | None = 5,
          salesforce_daily_request_limit: int | None = 100_000,
          salesforce_batch_size: int = 2000, salesforce_custom_fields: bool = True,
          intercom_rate_limit_per_10s: int | None = DOCUMENTED_RATE_LIMIT_PER_10S,
          freshdesk_rate_limit_per_minute: int | None = FRESHDESK_RATE_LIMIT,
          faults: Sequence[Fault] = ()) -> None:
    """Generate a world and serve it, printing the URL and (fake) credentials.

    ``faults`` are queued before the first request. Blocks until Ctrl-C (or until
    ``stop_event`` is set, for embedding and tests).
    """
    started = time.monotonic()
    world = generate_world(seed=seed, tickets=tickets, days=days, end_date=end_date,
                           intercom_conversations=intercom_conversations,
                           freshdesk_tickets=freshdesk_tickets)
    sandbox = Sandbox(world, host=host, port=port, rate_limit_per_minute=rate_limit_per_minute,
                      incremental_rate_limit_per_minute=incremental_rate_limit_per_minute,
                      hubspot_rate_limit_per_10s=hubspot_rate_limit_per_10s,
                      hubspot_daily_limit=hubspot_daily_limit,
                      hubspot_search_rate_limit_per_second=hubspot_search_rate_limit_per_second,
                      salesforce_daily_request_limit=salesforce_daily_request_limit,
                      salesforce_batch_size=salesforce_batch_size,
                      salesforce_custom_fields=salesforce_custom_fields,
                      intercom_rate_limit_per_10s=intercom_rate_limit_per_10s,
                      freshdesk_rate_limit_per_minute=freshdesk_rate_limit_per_minute)
    for fault in faults:
        sandbox.faults.add(fault)
    if stop_event is None:
        # Serving until Ctrl-C: this process is the server, and the world (millions of
        # objects at 100k tickets) lives as long as it does. Moved out of the garbage
        # collector's sight, so the collections that serving pages triggers no longer walk
        # all of it again and again (serving cost grew faster than the tickets). An
        # embedded server (`stop_event`) leaves its host process's collector alone.
        gc.collect()
        gc.freeze()
    with sandbox:
        creds = sandbox.credentials
        print(f"Zendesk sandbox: {len(world.tickets)} tickets, {len(world.users)} users "
              f"(seed {seed}, {days} days) ready in {time.monotonic() - started:.1f}s")
        print(f"  ZENDESK_BASE_URL={sandbox.url}")
        print(f"  ZENDESK_SUBDOMAIN={creds['subdomain']}")
        print(f"  ZENDESK_EMAIL={creds['email']}")
        print(f"  ZENDESK_API_TOKEN={creds['api_token']}")
        print(f"  ZENDESK_OAUTH_TOKEN={creds['oauth_token']}")
        print(f"Intercom sandbox: {len(world.intercom_conversations)} conversations, "
              f"{len(world.intercom_admins)} admins (API 2.11 under /conversations, /admins, "
              "/teams)")
        print(f"  INTERCOM_BASE_URL={sandbox.url}")
        print(f"  INTERCOM_ACCESS_TOKEN={creds['intercom_access_token']}")
        print(f"Freshdesk sandbox: {len(world.freshdesk_tickets)} tickets, "
              f"{len(world.freshdesk_agents)} agents (API v2 under /freshdesk/api/v2)")
        print(f"  FRESHDESK_BASE_URL={creds['freshdesk_base_url']}")
        print(f"  FRESHDESK_API_KEY={creds['freshdesk_api_key']}")
        print(f"CRM: {len(world.crm_companies)} companies, {len(world.deals)} deals, "
              f"{len(world.survey_responses)} survey responses (HubSpot CRM v3 under /crm/v3, "
              "Salesforce REST under /services/data)")
        print(f"  HUBSPOT_BASE_URL={sandbox.url}")
        print(f"  HUBSPOT_ACCESS_TOKEN={creds['hubspot_access_token']}")
        print(f"  SALESFORCE_INSTANCE_URL={creds['salesforce_instance_url']}")
        print(f"  SALESFORCE_ACCESS_TOKEN={creds['salesforce_access_token']}")
        if not salesforce_custom_fields:
            print("  (Salesforce org without custom fields: no Contract_Term_Months__c)")
        print(f"Rate limits: Zendesk {_show(rate_limit_per_minute)}/min "
              f"(incremental {_show(incremental_rate_limit_per_minute)}/min), Intercom "
              f"{_show(intercom_rate_limit_per_10s)}/10 s, Freshdesk "
              f"{_show(freshdesk_rate_limit_per_minute)} credits/min, HubSpot "
              f"{_show(hubspot_rate_limit_per_10s)}/10 s (daily {_show(hubspot_daily_limit)}, "
              f"search {_show(hubspot_search_rate_limit_per_second)}/s), Salesforce "
              f"{_show(salesforce_daily_request_limit)}/24 h")
        for fault in sandbox.faults.pending():
            print(f"Fault queued: {fault.kind} on {fault.path_prefix} x{fault.times}")
        print("Press Ctrl-C to stop.", flush=True)
        waiter = stop_event or threading.Event()
        try:
            while not waiter.wait(0.5):
                pass
        except KeyboardInterrupt:
            print("\nStopping the sandbox.")


def _show(limit: int | None) -> str:
    return "unlimited" if limit is None else f"{limit:,}"


def _limit(value: str) -> int | None:
    """A limit from the command line: a positive count, or ``none``/``off``/``0`` for none."""
    if value.lower() in ("none", "off", "0"):
        return None
    try:
        limit = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'none', got {value!r}") from None
    if limit < 0:
        raise argparse.ArgumentTypeError(f"a limit cannot be negative, got {value!r}")
    return limit


def _fault(value: str) -> Fault:
    try:
        return parse_fault_option(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_service_arguments(parser: argparse.ArgumentParser) -> None:
    """The rate-limit and fault options, shared with ``helpdesk-etl sandbox``."""
    limits = parser.add_argument_group("rate limits ('none' disables one)")
    limits.add_argument("--rate-limit", type=_limit, default=700,
                        help="Zendesk requests per minute, account-wide (default 700)")
    limits.add_argument("--incremental-rate-limit", type=_limit, default=10,
                        help="Zendesk incremental-export requests per minute (default 10)")
    limits.add_argument("--intercom-rate-limit", type=_limit,
                        default=DOCUMENTED_RATE_LIMIT_PER_10S,
                        help=f"Intercom requests per 10 seconds (default "
                             f"{DOCUMENTED_RATE_LIMIT_PER_10S}: its 10,000 a "
                             "minute per app, spread over 10-second windows)")
    limits.add_argument("--freshdesk-rate-limit", type=_limit, default=FRESHDESK_RATE_LIMIT,
                        help=f"Freshdesk API credits per minute, account-wide (default "
                             f"{FRESHDESK_RATE_LIMIT}: the Enterprise plan's figure; each "
                             "include on tickets costs 2 more)")
    limits.add_argument("--hubspot-rate-limit", type=_limit, default=100,
                        help="HubSpot requests per rolling 10 seconds (default 100; 190 on "
                             "Professional/Enterprise)")
    limits.add_argument("--hubspot-daily-limit", type=_limit, default=None,
                        help="HubSpot requests per day (default none)")
    limits.add_argument("--hubspot-search-rate-limit", type=_limit, default=5,
                        help="HubSpot search requests per second (default 5)")
    limits.add_argument("--salesforce-daily-limit", type=_limit, default=100_000,
                        help="Salesforce API requests per rolling 24 hours (default 100000)")
    limits.add_argument("--salesforce-batch-size", type=int, default=2000,
                        help="records per Salesforce query batch (default 2000)")
    parser.add_argument(
        "--salesforce-without-custom-fields", dest="salesforce_custom_fields",
        action="store_false",
        help="serve a Salesforce org without the custom field Contract_Term_Months__c, as "
             "most orgs: describe leaves it out and SOQL naming it is 400 INVALID_FIELD")
    parser.add_argument(
        "--fault", dest="faults", type=_fault, action="append", default=[],
        metavar="KIND:PATH_PREFIX[:key=value,...]",
        help=f"queue a fault (repeatable); KIND is one of {', '.join(FAULT_KINDS)}; e.g. "
             "status:/api/v2/incremental/tickets:status=429,retry_after=1,times=2 or "
             "bad_record:/crm/v3/objects/deals:mode=missing_id (see docs/sandbox.md)")


def service_options(args: argparse.Namespace) -> dict[str, Any]:
    """The :func:`serve` keyword arguments of the options :func:`add_service_arguments` adds."""
    return {
        "rate_limit_per_minute": args.rate_limit,
        "incremental_rate_limit_per_minute": args.incremental_rate_limit,
        "intercom_rate_limit_per_10s": args.intercom_rate_limit,
        "freshdesk_rate_limit_per_minute": args.freshdesk_rate_limit,
        "hubspot_rate_limit_per_10s": args.hubspot_rate_limit,
        "hubspot_daily_limit": args.hubspot_daily_limit,
        "hubspot_search_rate_limit_per_second": args.hubspot_search_rate_limit,
        "salesforce_daily_request_limit": args.salesforce_daily_limit,
        "salesforce_batch_size": args.salesforce_batch_size,
        "salesforce_custom_fields": args.salesforce_custom_fields,
        "faults": list(args.faults),
    }


def build_parser() -> argparse.ArgumentParser:
    """Argument parser for ``python -m sandbox``."""
    parser = argparse.ArgumentParser(
        prog="sandbox",
        description="Serve simulated Zendesk, Intercom, Freshdesk, HubSpot and Salesforce APIs.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--intercom-conversations", type=int, default=None,
                        help="Intercom conversations over the same days (default a third of "
                             "--tickets; 0 for none)")
    parser.add_argument("--freshdesk-tickets", type=int, default=None,
                        help="Freshdesk tickets over the same days (default a quarter of "
                             "--tickets; 0 for none)")
    parser.add_argument("--end-date", type=date.fromisoformat, default=None,
                        help="last day of data (YYYY-MM-DD); default yesterday (UTC)")
    add_service_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and serve; returns the exit code."""
    args = build_parser().parse_args(argv)
    serve(port=args.port, seed=args.seed, tickets=args.tickets, days=args.days,
          end_date=args.end_date, host=args.host,
          intercom_conversations=args.intercom_conversations,
          freshdesk_tickets=args.freshdesk_tickets, **service_options(args))
    return 0
