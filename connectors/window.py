"""The extract window every connector declares on its cursor field."""

from typing import Any

import dlt


def extract_window(cursor: str, start: Any, end: Any | None) -> dlt.sources.incremental[Any]:
    """`dlt.sources.incremental` on `cursor` for the window [start, end).

    With an `end` the window is stateless (a backfill re-extracts exactly it and never moves
    dlt's saved cursor); with `end=None` dlt keeps the cursor between runs. Items without
    the cursor pass through: those are the quarantine rows a resource yields beside its
    pages (a landed row without its cursor is quarantined by the connector, never landed).
    """
    return dlt.sources.incremental(
        cursor,
        initial_value=start,
        end_value=end,
        range_start="closed",
        range_end="open",
        on_cursor_value_missing="include",
    )
