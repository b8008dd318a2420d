"""Configuration from the environment (and a `.env` file in the working directory, if present).

Every name here is documented in the README's configuration table. Nothing is read at import
time: `Settings.from_env()` is called when the Dagster definitions or the CLI are built.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.http import DEFAULT_READ_TIMEOUT_SECONDS
from warehouse import DEFAULT_WAREHOUSE_URL


class ConfigurationError(ValueError):
    """A setting is missing or malformed; the message names the variable, never a secret value."""


@dataclass(frozen=True)
class ZendeskSettings:
    """Where and how to reach one Zendesk account. `repr` never shows the secrets."""

    subdomain: str | None
    email: str | None
    api_token: str | None = field(default=None, repr=False)
    oauth_token: str | None = field(default=None, repr=False)
    base_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ZendeskSettings | None:
        """The Zendesk settings, or None when no credentials are configured."""
        token = env.get("ZENDESK_API_TOKEN") or None
        oauth = env.get("ZENDESK_OAUTH_TOKEN") or None
        subdomain = env.get("ZENDESK_SUBDOMAIN") or None
        base_url = env.get("ZENDESK_BASE_URL") or None
        email = env.get("ZENDESK_EMAIL") or None
        if not (token or oauth):
            return None
        if token and not email:
            raise ConfigurationError("ZENDESK_API_TOKEN is set but ZENDESK_EMAIL is not")
        if not (subdomain or base_url):
            raise ConfigurationError("set ZENDESK_SUBDOMAIN (or ZENDESK_BASE_URL)")
        return cls(subdomain, email, token, oauth, base_url)


#: A CRM property / field name as a setting (checked again by the connector).
_PROPERTY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: A HubSpot deal stage id (`closedwon`; custom pipelines' ids are numbers).
_STAGE_ID = re.compile(r"[A-Za-z0-9_.-]+")


def _parse_name(
    env: Mapping[str, str], name: str, default: str, lower_case: bool = False
) -> str:
    """A property / field name from `name` (default when unset or empty).

    HubSpot's internal property names are lower case (`lower_case=True`); Salesforce API
    names are not.
    """
    value = (env.get(name) or "").strip()
    if not value:
        return default
    if not _PROPERTY_NAME.fullmatch(value) or (lower_case and value != value.lower()):
        case = "lower-case " if lower_case else ""
        raise ConfigurationError(
            f"{name}={value!r} is not a {case}property name (letters, digits and _, not "
            "starting with a digit)"
        )
    return value


def _parse_stages(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """Comma-separated stage ids from `name` (default when unset or empty)."""
    value = env.get(name) or ""
    stages = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    if not stages:
        return default
    bad = [stage for stage in stages if not _STAGE_ID.fullmatch(stage)]
    if bad:
        raise ConfigurationError(
            f"{name}: {bad[0]!r} is not a deal stage id (comma-separated ids such as closedwon)"
        )
    return stages


@dataclass(frozen=True)
class HubSpotSettings:
    """A HubSpot private-app token (and an optional base URL override), and the properties
    staging reads (DESIGN.md "Contracts from the CRM"; each lands under the default's column)."""

    access_token: str = field(repr=False)
    base_url: str | None = None
    close_date_property: str = "closedate"
    contract_term_property: str = "contract_term_months"
    mrr_property: str = "hs_mrr"
    amount_property: str = "amount"
    won_stages: tuple[str, ...] = ("closedwon",)
    segment_property: str = "industry"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> HubSpotSettings | None:
        """The HubSpot settings, or None when no token is configured."""
        token = env.get("HUBSPOT_ACCESS_TOKEN") or None
        if not token:
            return None

        def hubspot_name(variable: str, default: str) -> str:
            return _parse_name(env, variable, default, lower_case=True)

        return cls(
            token,
            env.get("HUBSPOT_BASE_URL") or None,
            close_date_property=hubspot_name("HUBSPOT_CLOSE_DATE_PROPERTY", "closedate"),
            contract_term_property=hubspot_name(
                "HUBSPOT_CONTRACT_TERM_PROPERTY", "contract_term_months"
            ),
            mrr_property=hubspot_name("HUBSPOT_MRR_PROPERTY", "hs_mrr"),
            amount_property=hubspot_name("HUBSPOT_AMOUNT_PROPERTY", "amount"),
            won_stages=_parse_stages(env, "HUBSPOT_WON_STAGES", ("closedwon",)),
            segment_property=hubspot_name("HUBSPOT_SEGMENT_PROPERTY", "industry"),
        )


@dataclass(frozen=True)
class SalesforceSettings:
    """A Salesforce org's instance URL and OAuth access token, and the fields staging reads
    that are settings (each lands under the default's column)."""

    instance_url: str
    access_token: str = field(repr=False)
    contract_term_field: str = "Contract_Term_Months__c"
    segment_field: str = "Industry"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SalesforceSettings | None:
        """The Salesforce settings, or None when neither variable is set."""
        url = env.get("SALESFORCE_INSTANCE_URL") or None
        token = env.get("SALESFORCE_ACCESS_TOKEN") or None
        if not (url or token):
            return None
        if not (url and token):
            missing = "SALESFORCE_ACCESS_TOKEN" if url else "SALESFORCE_INSTANCE_URL"
            raise ConfigurationError(f"Salesforce is half configured: set {missing} too")
        return cls(
            url,
            token,
            contract_term_field=_parse_name(
                env, "SALESFORCE_CONTRACT_TERM_FIELD", "Contract_Term_Months__c"
            ),
            segment_field=_parse_name(env, "SALESFORCE_SEGMENT_FIELD", "Industry"),
        )


@dataclass(frozen=True)
class IntercomSettings:
    """An Intercom access token (Bearer) and an optional base URL: EU and Australian
    workspaces are served from `https://api.eu.intercom.io` / `https://api.au.intercom.io`."""

    access_token: str = field(repr=False)
    base_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> IntercomSettings | None:
        """The Intercom settings, or None when no token is configured."""
        token = env.get("INTERCOM_ACCESS_TOKEN") or None
        if not token:
            return None
        return cls(token, env.get("INTERCOM_BASE_URL") or None)


@dataclass(frozen=True)
class FreshdeskSettings:
    """A Freshdesk API key and where the account is: its domain (`acme` for
    `https://acme.freshdesk.com`) or a base URL (the sandbox's, or a full address)."""

    api_key: str = field(repr=False)
    domain: str | None = None
    base_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> FreshdeskSettings | None:
        """The Freshdesk settings, or None when no API key is configured."""
        api_key = env.get("FRESHDESK_API_KEY") or None
        if not api_key:
            return None
        domain = env.get("FRESHDESK_DOMAIN") or None
        base_url = env.get("FRESHDESK_BASE_URL") or None
        if domain is None and base_url is None:
            raise ConfigurationError(
                "FRESHDESK_API_KEY is set but neither FRESHDESK_DOMAIN (acme for "
                "acme.freshdesk.com) nor FRESHDESK_BASE_URL is"
            )
        return cls(api_key, domain, base_url)


def _parse_number(
    env: Mapping[str, str], name: str, default: float, high: float, what: str
) -> float:
    """A number in (0, `high`] from `env[name]` (`default` if unset); `what` names it in
    the error (`a fraction`, `a number of seconds`)."""
    value = env.get(name)
    if not value:
        return default
    try:
        number = float(value)
    except ValueError as exc:
        raise ConfigurationError(f"{name}={value!r} is not a number") from exc
    if not 0 < number <= high:
        raise ConfigurationError(f"{name}={value!r} must be {what} in (0, {high:g}]")
    return number


def _parse_fraction(env: Mapping[str, str], name: str, default: float) -> float:
    return _parse_number(env, name, default, 1, "a fraction")


def _parse_seconds(env: Mapping[str, str], name: str, default: float) -> float:
    return _parse_number(env, name, default, 3600, "a number of seconds")


def _parse_date(env: Mapping[str, str], name: str) -> date | None:
    value = env.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ConfigurationError(f"{name}={value!r} is not an ISO date (YYYY-MM-DD)") from exc


def _parse_bool(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    value = env.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"{name}={value!r} is not a boolean (true/false)")


def default_pipeline_start_date(today: date) -> date:
    """First day of the previous month: a stable default (it moves once a month, not daily)."""
    first_of_this_month = today.replace(day=1)
    return (first_of_this_month - timedelta(days=1)).replace(day=1)


@dataclass(frozen=True)
class Settings:
    """Everything the pipeline is configured with."""

    #: Not in `repr`: a PostgreSQL URL may hold a password.
    warehouse_url: str = field(default=DEFAULT_WAREHOUSE_URL, repr=False)
    pipeline_start_date: date = field(
        default_factory=lambda: default_pipeline_start_date(datetime.now().date())
    )
    history_start_date: date | None = None
    reporting_timezone: str = "UTC"
    land_free_text: bool = False
    gross_margin: float = 0.8
    clv_min_churn_rate: float = 0.0167
    #: Seconds each API read may take (`HTTP_TIMEOUT_SECONDS`); a timed-out read is retried.
    http_timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS
    #: Rebuild every per-ticket model in full instead of only the changed tickets
    #: (`FULL_REBUILD`; `helpdesk-etl run --full-rebuild`).
    full_rebuild: bool = False
    zendesk: ZendeskSettings | None = None
    intercom: IntercomSettings | None = None
    freshdesk: FreshdeskSettings | None = None
    hubspot: HubSpotSettings | None = None
    salesforce: SalesforceSettings | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from `env` (default: the process environment plus `.env`)."""
        if env is None:
            from dotenv import load_dotenv

            load_dotenv(os.path.join(os.getcwd(), ".env"), override=False)
            env = os.environ
        timezone = env.get("REPORTING_TIMEZONE") or "UTC"
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigurationError(
                f"REPORTING_TIMEZONE={timezone!r} is not an IANA time zone"
            ) from exc
        start = _parse_date(env, "PIPELINE_START_DATE")
        return cls(
            warehouse_url=env.get("WAREHOUSE_URL") or DEFAULT_WAREHOUSE_URL,
            pipeline_start_date=start or default_pipeline_start_date(datetime.now().date()),
            history_start_date=_parse_date(env, "HISTORY_START_DATE"),
            reporting_timezone=timezone,
            land_free_text=_parse_bool(env, "LAND_FREE_TEXT"),
            gross_margin=_parse_fraction(env, "GROSS_MARGIN", 0.8),
            clv_min_churn_rate=_parse_fraction(env, "CLV_MIN_CHURN_RATE", 0.0167),
            http_timeout_seconds=_parse_seconds(
                env, "HTTP_TIMEOUT_SECONDS", DEFAULT_READ_TIMEOUT_SECONDS
            ),
            full_rebuild=_parse_bool(env, "FULL_REBUILD"),
            zendesk=ZendeskSettings.from_env(env),
            intercom=IntercomSettings.from_env(env),
            freshdesk=FreshdeskSettings.from_env(env),
            hubspot=HubSpotSettings.from_env(env),
            salesforce=SalesforceSettings.from_env(env),
        )

    @property
    def configured_sources(self) -> list[str]:
        """Names of the sources whose credentials are present (helpdesks, then CRMs)."""
        return [name for name in ALL_SOURCES if getattr(self, name) is not None]


#: Every source the pipeline knows, helpdesks first.
ALL_SOURCES = ("zendesk", "intercom", "freshdesk", "hubspot", "salesforce")
#: The prefix of every variable of a source (credentials, base URLs, CRM property names).
SOURCE_VARIABLE_PREFIXES = tuple(f"{name.upper()}_" for name in ALL_SOURCES)
#: The secrets whose presence means a source is meant to be configured (the `from_env`
#: methods above read them).
CREDENTIAL_VARIABLES = (
    "ZENDESK_API_TOKEN",
    "ZENDESK_OAUTH_TOKEN",
    "INTERCOM_ACCESS_TOKEN",
    "FRESHDESK_API_KEY",
    "HUBSPOT_ACCESS_TOKEN",
    "SALESFORCE_ACCESS_TOKEN",
)
#: Besides the sources' variables, what the demo does not take from the user's configuration:
#: where the pipeline writes, which days, and how (`helpdesk-etl demo`, `ui --demo`).
DEMO_RESET_VARIABLES = ("WAREHOUSE_URL", "PIPELINE_START_DATE", "HISTORY_START_DATE",
                        "FULL_REBUILD")
