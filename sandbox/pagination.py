"""Zendesk's pagination schemes, as pure functions over pre-sorted keys.

* Cursor-based incremental exports (tickets, users): ``after_cursor`` /
  ``after_url`` / ``end_of_stream``; the cursor is an opaque base64 token of
  the last position ``(timestamp, id)``, in the same style as Zendesk's
  (``base64("1576613539.0||467|")``).
* Time-based incremental exports (ticket events, organizations, Talk calls):
  ``start_time`` is inclusive, ``end_time`` is the timestamp of the page's last
  item and ``next_page`` asks for ``start_time=end_time``, so records sharing
  the boundary timestamp are served again on the next page (consumers dedupe
  by id, as Zendesk documents).
* List endpoints: offset (``page``/``per_page`` with ``next_page``,
  ``previous_page``, ``count``) and cursor pagination (``page[size]``,
  ``page[after]``/``page[before]`` with ``meta`` and ``links``).
"""

from __future__ import annotations

import base64
import binascii
import json
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any
from urllib.parse import quote

Key = tuple[int, int]
Query = dict[str, list[str]]

MAX_ID = 2**63


class ApiError(Exception):
    """An error response with Zendesk's ``{"error", "description"}`` body."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{status} {error}: {description}")
        self.status = status
        self.body = {"error": error, "description": description}


def param(query: Query, name: str) -> str | None:
    """Last value of a query parameter, or ``None``."""
    values = query.get(name)
    return values[-1] if values else None


def int_param(query: Query, name: str, default: int | None = None) -> int | None:
    """An integer query parameter; a non-integer is a 400 ``InvalidValue``."""
    raw = param(query, name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, "InvalidValue", f"{name} must be an integer") from None


def page_size(query: Query, name: str, default: int, maximum: int) -> int:
    """A page-size parameter clamped to ``[1, maximum]``."""
    value = int_param(query, name, default) or default
    return max(1, min(maximum, value))


def build_url(base: str, path: str, params: list[tuple[str, str]]) -> str:
    """``base + path`` with a query string; brackets in names are kept readable."""
    if not params:
        return f"{base}{path}"
    qs = "&".join(f"{quote(k, safe='[]')}={quote(v, safe='')}" for k, v in params)
    return f"{base}{path}?{qs}"


def encode_position(key: Key) -> str:
    """Opaque incremental cursor for a ``(timestamp, id)`` position."""
    raw = f"{key[0]}.0||{key[1]}|".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_position(cursor: str) -> Key:
    """Inverse of :func:`encode_position`; garbage is a 422 ``InvalidValue``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        ts, _, rest = raw.partition("||")
        return int(float(ts)), int(rest.rstrip("|"))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError(422, "InvalidValue", "Invalid cursor") from None


def encode_list_cursor(item_id: int) -> str:
    """Opaque list-endpoint cursor (base64 JSON, like Zendesk's)."""
    return base64.urlsafe_b64encode(json.dumps({"o": "id", "v": item_id}).encode()).decode()


def decode_list_cursor(cursor: str) -> int:
    """Inverse of :func:`encode_list_cursor`; garbage is a 400 ``InvalidPaginationParameter``."""
    try:
        return int(json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["v"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise ApiError(400, "InvalidPaginationParameter", "Invalid page cursor") from None


@dataclass(slots=True)
class Window:
    """The slice of sorted keys a page covers."""

    start: int
    stop: int
    more: bool


def check_start_time(start_time: int | None, now: float) -> int:
    """Validate an incremental ``start_time`` (required; not within the last minute)."""
    if start_time is None:
        raise ApiError(400, "InvalidValue", "start_time is required")
    if start_time < 0:
        raise ApiError(400, "InvalidValue", "start_time must be a Unix epoch time")
    if start_time > now - 60:
        raise ApiError(422, "InvalidValue",
                       "Too recent start_time. Use a start_time older than 1 minute")
    return start_time


def cutoff_index(keys: list[Key], now: float) -> int:
    """Items changed within the last minute are not exported yet."""
    return bisect_right(keys, (int(now) - 60, MAX_ID))


def cursor_window(keys: list[Key], query: Query, per_page: int, now: float) -> tuple[Window, Key]:
    """Page of a cursor-based incremental export and the position it starts after."""
    cursor = param(query, "cursor")
    if cursor:
        position = decode_position(cursor)
    else:
        position = (check_start_time(int_param(query, "start_time"), now), 0)
    start = bisect_right(keys, position)
    hi = max(start, cutoff_index(keys, now))
    stop = min(start + per_page, hi)
    return Window(start, stop, stop < hi), position


def cursor_export_body(name: str, items: list[dict[str, Any]], keys: list[Key], window: Window,
                       position: Key, base: str, path: str,
                       keep: list[tuple[str, str]]) -> dict[str, Any]:
    """Response body of a cursor-based incremental export page."""
    after = keys[window.stop - 1] if window.stop > window.start else position
    after_cursor = encode_position(after)
    return {
        name: items,
        "after_url": build_url(base, path, [("cursor", after_cursor), *keep]),
        "after_cursor": after_cursor,
        "before_url": None,
        "before_cursor": None,
        "end_of_stream": not window.more,
    }


def time_window(keys: list[Key], start_time: int, per_page: int, now: float) -> Window:
    """Page of a time-based incremental export (``start_time`` inclusive)."""
    start = bisect_left(keys, (start_time, -1))
    hi = max(start, cutoff_index(keys, now))
    stop = min(start + per_page, hi)
    return Window(start, stop, stop < hi)


def time_export_body(name: str, items: list[dict[str, Any]], keys: list[Key], window: Window,
                     start_time: int, base: str, path: str, keep: list[tuple[str, str]],
                     end_of_stream: bool = True) -> dict[str, Any]:
    """Response body of a time-based incremental export page."""
    end_time = keys[window.stop - 1][0] if window.stop > window.start else start_time
    body: dict[str, Any] = {
        name: items,
        "next_page": build_url(base, path, [("start_time", str(end_time)), *keep]),
        "count": len(items),
        "end_time": end_time,
    }
    if end_of_stream:
        body["end_of_stream"] = not window.more
    return body


def list_page(items: Sequence[Any], query: Query, base: str, path: str, name: str,
              render: Any, filters: list[tuple[str, str]]) -> dict[str, Any]:
    """Offset or cursor pagination over items sorted by their ``id`` (``render(item) ->
    dict``); a cursor is found by bisecting the items themselves, no id list built."""
    size_raw = param(query, "page[size]")
    after_raw, before_raw = param(query, "page[after]"), param(query, "page[before]")
    if size_raw is not None or after_raw or before_raw:
        size = page_size(query, "page[size]", 100, 100)
        if before_raw:
            stop = bisect_left(items, decode_list_cursor(before_raw), key=attrgetter("id"))
            start = max(0, stop - size)
            has_more = start > 0
        else:
            start = (bisect_right(items, decode_list_cursor(after_raw), key=attrgetter("id"))
                     if after_raw else 0)
            stop = min(len(items), start + size)
            has_more = stop < len(items)
        after = encode_list_cursor(items[stop - 1].id) if stop > start else None
        before = encode_list_cursor(items[start].id) if stop > start else None
        keep = [*filters, ("page[size]", str(size))]
        return {
            name: [render(item) for item in items[start:stop]],
            "meta": {"has_more": has_more, "after_cursor": after, "before_cursor": before},
            "links": {
                "next": build_url(base, path, [*keep, ("page[after]", after)])
                if has_more and after else None,
                "prev": build_url(base, path, [*keep, ("page[before]", before)])
                if before and start > 0 else None,
            },
        }
    per_page = page_size(query, "per_page", 100, 100)
    page = max(1, int_param(query, "page", 1) or 1)
    start = (page - 1) * per_page
    stop = min(len(items), start + per_page)
    keep = [*filters, ("per_page", str(per_page))] if param(query, "per_page") else filters
    return {
        name: [render(item) for item in items[start:stop]],
        "next_page": build_url(base, path, [*keep, ("page", str(page + 1))])
        if stop < len(items) else None,
        "previous_page": build_url(base, path, [*keep, ("page", str(page - 1))])
        if page > 1 else None,
        "count": len(items),
    }
