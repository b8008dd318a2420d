"""Dagster resources: the warehouse and each vendor's credentials.

Values that come from the environment are passed as `EnvVar`, so the Dagster UI shows the
variable's name in run config, never its value.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from datetime import datetime, timedelta

import dagster as dg
from dlt.extract.source import DltSource
from pydantic import PrivateAttr

from connectors.http import DEFAULT_READ_TIMEOUT_SECONDS
from pipelines.partitions import BEGINNING_OF_HISTORY
from pipelines.settings import Settings
from transforms.runner import session
from warehouse import Warehouse


def _from_env(name: str, value: str | None) -> str | dg.EnvVar | None:
    """`EnvVar(name)` when the value came from the environment, else the literal (or None)."""
    if value is not None and os.environ.get(name) == value:
        return dg.EnvVar(name)
    return value


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse the pipeline loads into and computes in (a DuckDB file or PostgreSQL).

    The transform steps `hold` it: a DuckDB file stays open (one database instance, see
    `transforms.runner.session`) from the first of them until the run ends, instead of being
    opened, and checkpointed on closing, once per step (1.6 s of a nightly run's 7.9 s at 1M
    tickets, 31 steps). A raw asset `release`s it before dlt opens the file with its own
    settings, which DuckDB refuses while an instance with other settings is open. Runs use
    the in-process executor (`pipelines.definitions`): every step of a run shares this
    resource.
    """

    url: str
    _held: tuple[Warehouse, ExitStack] | None = PrivateAttr(default=None)

    def get(self) -> Warehouse:
        """A `Warehouse` for this URL: the held one while the run holds it."""
        return self._held[0] if self._held is not None else Warehouse(self.url)

    def hold(self) -> Warehouse:
        """The warehouse, kept open until `release` or the end of the run."""
        if self._held is None:
            warehouse = Warehouse(self.url)
            stack = ExitStack()
            stack.enter_context(session(warehouse))
            stack.callback(warehouse.dispose)
            self._held = (warehouse, stack)
        return self._held[0]

    def release(self) -> None:
        """Close what `hold` kept open (DuckDB checkpoints the file)."""
        if self._held is not None:
            _, stack = self._held
            self._held = None
            stack.close()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """The run's end."""
        self.release()


class ZendeskResource(dg.ConfigurableResource):
    """Credentials and options of one Zendesk account."""

    subdomain: str | None = None
    email: str | None = None
    api_token: str | None = None
    oauth_token: str | None = None
    base_url: str | None = None
    land_free_text: bool = False
    timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS

    def source(self, start: datetime, end: datetime | None) -> DltSource:
        """The Zendesk dlt source for the extraction window [start, end)."""
        from connectors.zendesk import zendesk_source

        return zendesk_source(
            subdomain=self.subdomain,
            email=self.email,
            api_token=self.api_token,
            oauth_token=self.oauth_token,
            base_url=self.base_url,
            start=start,
            end=end,
            land_free_text=self.land_free_text,
            timeout_seconds=self.timeout_seconds,
        )


class IntercomResource(dg.ConfigurableResource):
    """An Intercom access token (and the base URL of an EU / Australian workspace)."""

    access_token: str
    base_url: str | None = None
    land_free_text: bool = False
    timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS

    def source(self, start: datetime, end: datetime | None) -> DltSource:
        """The Intercom dlt source (conversations and their parts, admins, teams) for the
        window [start, end), reading every conversation updated since `start`, `end` or
        later: Intercom gives a conversation's parts only with the conversation, as it is
        now, so one updated again after the window's end (before the run) still brings the
        window's parts. Once a day's window has run, all of the day's parts are landed, and
        the day's partition of the daily marts counts them (docs/staging.md)."""
        from connectors.intercom import intercom_source

        return intercom_source(
            self.access_token,
            self.base_url,
            start=start,
            end=None,
            land_free_text=self.land_free_text,
            timeout_seconds=self.timeout_seconds,
        )


#: How far before its window a Freshdesk window reads activities (`FreshdeskResource`): each
#: UTC day's export is then read by three nights, so an export one or two nights late still
#: lands. `transforms.models.FRESHDESK_ACTIVITIES_LOOKED_BACK` and the change log
#: (`transforms/changes/freshdesk.sql`) look back over the same days (72 hours: the
#: lookback, and the first day's hours before it, since days land whole).
FRESHDESK_ACTIVITIES_LOOKBACK = timedelta(days=2)
#: How far before its window a Freshdesk window reads time entries (`FreshdeskResource`):
#: the API filters them by `executed_at` alone, so a timer stopped, or an entry logged and
#: dated back, up to seven days after the work lands. The daily marts recompute the days it
#: reaches back over (`transforms.models.FRESHDESK_TIME_ENTRIES_LOOKED_BACK`).
FRESHDESK_TIME_ENTRIES_LOOKBACK = timedelta(days=7)


class FreshdeskResource(dg.ConfigurableResource):
    """A Freshdesk API key and the account's domain (or a base URL)."""

    api_key: str
    domain: str | None = None
    base_url: str | None = None
    land_free_text: bool = False
    timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS

    def source(self, start: datetime, end: datetime | None) -> DltSource:
        """The Freshdesk dlt source (tickets, their conversations and activities, ratings, time
        entries, agents, groups, statuses) for the window [start, end), reading every ticket
        updated since `start`, `end` or later: Freshdesk gives a ticket's conversations only
        with the ticket as it is now, so one updated again after the window's end (before
        the run) still brings the window's replies (as Intercom's, `IntercomResource`). The
        ratings keep to the window; the activities reach back two days before it
        (`FRESHDESK_ACTIVITIES_LOOKBACK`), by whole UTC days: Freshdesk exports them by UTC
        day some time after the day has ended, so the end of a local day east or west of
        UTC, or a day whose export was late, comes with a later night, which recomputes the
        days before its own in the daily marts
        (`transforms.models.FRESHDESK_ACTIVITIES_LOOKED_BACK`). The time entries reach back
        seven days (`FRESHDESK_TIME_ENTRIES_LOOKBACK`)."""
        from connectors.freshdesk import freshdesk_source

        return freshdesk_source(
            self.api_key,
            self.base_url,
            domain=self.domain,
            start=start,
            end=end,
            tickets_to_now=True,
            activities_from=max(start - FRESHDESK_ACTIVITIES_LOOKBACK, BEGINNING_OF_HISTORY),
            time_entries_from=max(start - FRESHDESK_TIME_ENTRIES_LOOKBACK,
                                  BEGINNING_OF_HISTORY),
            land_free_text=self.land_free_text,
            timeout_seconds=self.timeout_seconds,
        )


class HubSpotResource(dg.ConfigurableResource):
    """A HubSpot private-app token, and the properties staging reads (each lands under the
    default property's column; `won_stages` set the deals' `is_won`)."""

    access_token: str
    base_url: str | None = None
    close_date_property: str = "closedate"
    contract_term_property: str = "contract_term_months"
    mrr_property: str = "hs_mrr"
    amount_property: str = "amount"
    won_stages: list[str] = ["closedwon"]
    segment_property: str = "industry"
    timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS

    def source(self, start: datetime, end: datetime | None) -> DltSource:
        """The HubSpot dlt source (companies, deals) for the window [start, end)."""
        from connectors.hubspot import hubspot_source

        return hubspot_source(
            self.access_token,
            self.base_url,
            start=start,
            end=end,
            close_date_property=self.close_date_property,
            contract_term_property=self.contract_term_property,
            mrr_property=self.mrr_property,
            amount_property=self.amount_property,
            won_stages=self.won_stages,
            segment_property=self.segment_property,
            timeout_seconds=self.timeout_seconds,
        )


class SalesforceResource(dg.ConfigurableResource):
    """A Salesforce org: instance URL and OAuth access token, and the fields staging reads
    that are settings (each lands under the default field's column)."""

    instance_url: str
    access_token: str
    contract_term_field: str = "Contract_Term_Months__c"
    segment_field: str = "Industry"
    timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS

    def source(self, start: datetime, end: datetime | None) -> DltSource:
        """The Salesforce dlt source (accounts, opportunities) for the window [start, end)."""
        from connectors.salesforce import salesforce_source

        return salesforce_source(
            self.instance_url,
            self.access_token,
            start=start,
            end=end,
            contract_term_field=self.contract_term_field,
            segment_field=self.segment_field,
            timeout_seconds=self.timeout_seconds,
        )


def build_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    """The resources for the configured sources."""
    from dagster_dlt import DagsterDltResource

    resources: dict[str, object] = {
        "warehouse": WarehouseResource(url=_from_env("WAREHOUSE_URL", settings.warehouse_url)),
        "dlt": DagsterDltResource(),
    }
    zendesk = settings.zendesk
    if zendesk is not None:
        resources["zendesk"] = ZendeskResource(
            subdomain=_from_env("ZENDESK_SUBDOMAIN", zendesk.subdomain),
            email=_from_env("ZENDESK_EMAIL", zendesk.email),
            api_token=_from_env("ZENDESK_API_TOKEN", zendesk.api_token),
            oauth_token=_from_env("ZENDESK_OAUTH_TOKEN", zendesk.oauth_token),
            base_url=_from_env("ZENDESK_BASE_URL", zendesk.base_url),
            land_free_text=settings.land_free_text,
            timeout_seconds=settings.http_timeout_seconds,
        )
    intercom = settings.intercom
    if intercom is not None:
        resources["intercom"] = IntercomResource(
            access_token=_from_env("INTERCOM_ACCESS_TOKEN", intercom.access_token),
            base_url=_from_env("INTERCOM_BASE_URL", intercom.base_url),
            land_free_text=settings.land_free_text,
            timeout_seconds=settings.http_timeout_seconds,
        )
    freshdesk = settings.freshdesk
    if freshdesk is not None:
        resources["freshdesk"] = FreshdeskResource(
            api_key=_from_env("FRESHDESK_API_KEY", freshdesk.api_key),
            domain=_from_env("FRESHDESK_DOMAIN", freshdesk.domain),
            base_url=_from_env("FRESHDESK_BASE_URL", freshdesk.base_url),
            land_free_text=settings.land_free_text,
            timeout_seconds=settings.http_timeout_seconds,
        )
    hubspot = settings.hubspot
    if hubspot is not None:
        resources["hubspot"] = HubSpotResource(
            access_token=_from_env("HUBSPOT_ACCESS_TOKEN", hubspot.access_token),
            base_url=_from_env("HUBSPOT_BASE_URL", hubspot.base_url),
            close_date_property=hubspot.close_date_property,
            contract_term_property=hubspot.contract_term_property,
            mrr_property=hubspot.mrr_property,
            amount_property=hubspot.amount_property,
            won_stages=list(hubspot.won_stages),
            segment_property=hubspot.segment_property,
            timeout_seconds=settings.http_timeout_seconds,
        )
    salesforce = settings.salesforce
    if salesforce is not None:
        resources["salesforce"] = SalesforceResource(
            instance_url=_from_env("SALESFORCE_INSTANCE_URL", salesforce.instance_url),
            access_token=_from_env("SALESFORCE_ACCESS_TOKEN", salesforce.access_token),
            contract_term_field=salesforce.contract_term_field,
            segment_field=salesforce.segment_field,
            timeout_seconds=settings.http_timeout_seconds,
        )
    return resources
