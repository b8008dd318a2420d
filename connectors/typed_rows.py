"""Typed rows for the CRM connectors: API values parsed into fixed landed types, and Arrow
pages of them (HubSpot sends every property as a string; Salesforce sends JSON scalars)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import orjson
import pyarrow as pa

Record = dict[str, Any]


def parse_timestamp(value: str) -> datetime:
    """A HubSpot time: ISO 8601 (`2024-03-31T00:00:00Z`) or Unix milliseconds as digits."""
    if value.isdigit():
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_date(value: str) -> date:
    """A HubSpot date: `YYYY-MM-DD`, or a time (ISO 8601 / Unix ms) whose UTC date is meant."""
    if "T" in value or value.isdigit():
        return parse_timestamp(value).date()
    return date.fromisoformat(value)


def parse_decimal(value: str) -> Decimal:
    """A number as HubSpot sends it (`"1200.50"`), rounded to 9 decimal places."""
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError("not a finite number")
    return number.quantize(Decimal("1e-9")) if number.as_tuple().exponent < -9 else number


def parse_integer(value: str) -> int:
    """A whole number (`"12"`, `"12.0"`); fractions are refused, not truncated."""
    number = Decimal(value)
    if not number.is_finite() or number != number.to_integral_value():
        raise ValueError("not a whole number")
    return int(number)


def parse_bool(value: str) -> bool:
    """`true` / `false` (any case)."""
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise ValueError("not true or false")
    return lowered == "true"


def as_text(value: Any) -> str:
    """Text as it is; any other JSON value (a number, an object) as compact JSON text."""
    return value if isinstance(value, str) else orjson.dumps(value).decode()


_PARSERS: dict[str, Callable[[str], Any]] = {
    "text": as_text,
    "decimal": parse_decimal,
    "double": float,
    "bigint": parse_integer,
    "bool": parse_bool,
    "timestamp": parse_timestamp,
    "date": parse_date,
}
#: The Arrow type each landed type is built as.
ARROW_TYPES = {
    "text": pa.string(),
    "decimal": pa.decimal128(38, 9),
    "double": pa.float64(),
    "bigint": pa.int64(),
    "bool": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
}


def parse_value(value: Any, data_type: str) -> Any:
    """An API value as its landed type (`text`, `decimal`, `double`, `bigint`, `bool`,
    `timestamp`, `date`); empty is None. Works on HubSpot's strings and on JSON scalars
    alike (`12.0` as a bigint, `true` as a bool). Raises ValueError / ArithmeticError."""
    if value is None or value == "":
        return None
    if data_type == "text":
        return as_text(value)
    return _PARSERS[data_type](value if isinstance(value, str) else as_text(value))


class TypedTable:
    """Landed columns with fixed types (name -> type of `ARROW_TYPES`), and Arrow pages of
    rows in them: dlt writes Arrow straight to Parquet, without row-by-row normalisation."""

    def __init__(self, columns: Mapping[str, str]) -> None:
        self.schema = pa.schema(
            pa.field(name, ARROW_TYPES[data_type], nullable=name != "id")
            for name, data_type in columns.items()
        )

    def page(self, rows: list[Record]) -> pa.Table:
        """Rows (dicts with every column) as one Arrow table with the landed types."""
        arrays = [pa.array([row[f.name] for row in rows], type=f.type) for f in self.schema]
        return pa.Table.from_arrays(arrays, schema=self.schema)

    def empty(self) -> pa.Table:
        """No rows, but the landed columns (dlt still creates the table)."""
        return self.schema.empty_table()
