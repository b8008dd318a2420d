"""Pieces the CRM APIs share: the vendor interface the server dispatches to, and helpers.

A vendor API (:class:`sandbox.hubspot_api.HubSpotApi`,
:class:`sandbox.salesforce_api.SalesforceApi`) owns everything vendor-specific
about a request under its path prefix: its auth scheme and 401 body, its rate
limits and their answer, the default bodies of injected faults, and the routes.
:mod:`sandbox.server` only picks the vendor by path and calls these in order.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sandbox.world import CrmCompany, Deal


@dataclass(slots=True)
class CrmRequest:
    """One request as a vendor API sees it."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes
    headers: dict[str, str]
    base_url: str


@dataclass(slots=True)
class VendorResponse:
    """Status, JSON-able body and extra headers."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class VendorApi(Protocol):
    """What :class:`sandbox.server.Sandbox` needs from a vendor API."""

    prefixes: tuple[str, ...]
    fault_bodies: dict[int, Any]

    def authenticate(self, header: str | None) -> bool: ...

    def unauthorized(self) -> VendorResponse: ...

    def rate_limit(self, request: CrmRequest) -> tuple[VendorResponse | None, dict[str, str]]: ...

    def handle(self, request: CrmRequest) -> VendorResponse: ...

    def reset_rate_limits(self) -> None: ...


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else ``None``."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def add_months(day: date, months: int) -> date:
    """``day`` shifted by whole calendar months (the day clamped to the month's length)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def utc(moment: datetime) -> datetime:
    """A datetime in UTC (naive ones are taken as UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch."""
    return int(round(utc(moment).timestamp() * 1000))


def company_updated(company: CrmCompany) -> datetime:
    """Last modification of a company (``updated_at``, else ``created_at``)."""
    return company.updated_at or company.created_at


def deal_updated(deal: Deal) -> datetime:
    """Last modification of a deal (``updated_at``, else ``created_at``)."""
    return deal.updated_at or deal.created_at


def plain_number(value: float | int) -> str:
    """A number as HubSpot writes property values: ``1200``, ``99.5`` (no trailing zeros)."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")
