"""Typed pages and the quarantine, for every connector.

Each connector turns an API page into one Arrow table per landed table (dlt writes Arrow
straight to Parquet, without row-by-row normalisation). This module is the single home of
that step:

- `TypedTable`: fixed landed columns and types; a page is converted column by column (the
  fast path), and only when that fails are the culprit rows found one by one.
- `Rejected`: what a connector's row shaping raises for a record that cannot land.
- `Quarantine`: records that cannot land (not an object, no primary key, an unparsable
  time, a value of the wrong type, ...) go to the source's `_quarantine` table with the
  reason, instead of stopping the run; the rest of the page lands.
- `NewFields`: top-level API fields the connector does not know land as new columns (dlt
  schema evolution), except the fields it knows and leaves out (free text above all).
- `Landing`: the three together, for one endpoint and one table.

Value parsers for the CRMs (HubSpot sends every property as a string; Salesforce sends JSON
scalars) live here too; Zendesk passes its own converters.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import dlt
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
from dlt.sources import DltResource

Record = dict[str, Any]
Converter = Callable[[Any], Any]


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


def json_text(value: Any) -> str | None:
    """A JSON value (list, object, ...) as compact JSON text with sorted keys; None stays NULL."""
    if value is None:
        return None
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


_PARSERS: dict[str, Callable[[str], Any]] = {
    "text": as_text,
    "decimal": parse_decimal,
    "double": float,
    "bigint": parse_integer,
    "bool": parse_bool,
    "timestamp": parse_timestamp,
    "date": parse_date,
}
#: The Arrow type each landed type is built as (`json` is JSON text: it reads as text on
#: DuckDB and PostgreSQL alike; cast with ::json where needed).
ARROW_TYPES = {
    "text": pa.string(),
    "json": pa.string(),
    "decimal": pa.decimal128(38, 9),
    "double": pa.float64(),
    "bigint": pa.int64(),
    "bool": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
}
#: The dlt data type of each landed type (where they differ).
_DLT_TYPES = {"json": "text"}
#: Arrow conversion failures that mean "a value of the wrong type".
ARROW_VALUE_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError)
#: Parse failures that mean "a value that is not of its column's type" (one name for "a
#: value that does not parse" across the connectors). OSError: `datetime.fromtimestamp`
#: raises it (errno 75, EOVERFLOW) for a Unix time out of the platform's range, e.g. 2**62.
PARSE_ERRORS = (TypeError, ValueError, ArithmeticError, OverflowError, OSError)
#: What shaping a malformed record can raise besides `Rejected` (a value that does not parse,
#: an object where text was expected, a list where an object was): the record is quarantined
#: rather than stop the run. Never bare Exception: a bug elsewhere must still surface.
SHAPE_ERRORS = (*PARSE_ERRORS, AttributeError, LookupError)


def parse_value(value: Any, data_type: str) -> Any:
    """An API value as its landed type (`text`, `decimal`, `double`, `bigint`, `bool`,
    `timestamp`, `date`); empty is None. Works on HubSpot's strings and on JSON scalars
    alike (`12.0` as a bigint, `true` as a bool). Raises one of `PARSE_ERRORS`."""
    if value is None or value == "":
        return None
    if data_type == "text":
        return as_text(value)
    return _PARSERS[data_type](value if isinstance(value, str) else as_text(value))


def column_hints(*column_sets: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """dlt column hints fixing the type (and order) of every landed column."""
    hints: dict[str, dict[str, Any]] = {}
    for columns in column_sets:
        for name, data_type in columns.items():
            hints[name] = {
                "data_type": _DLT_TYPES.get(data_type, data_type),
                "nullable": name != "id",
            }
    return hints


def describe(value: Any, limit: int = 60) -> str:
    """A short repr of an offending value for a quarantine reason (never a free-text
    column's: those are text and always land)."""
    return _shortened(repr(value), limit)


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Rejected(ValueError):
    """A record cannot land: `reason` says why (a sentence fragment), `column` names the
    landed column at fault (None when it is the record as a whole)."""

    def __init__(self, reason: str, column: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.column = column


def bad_value(
    column: str, value: Any, data_type: str, exc: BaseException | None = None
) -> Rejected:
    """The rejection of a value that is not of its column's type."""
    detail = str(exc) if exc is not None else ""
    cause = f" ({detail})" if detail and not detail.startswith("[<class") else ""
    return Rejected(f"{column} = {describe(value)} is not a valid {data_type}{cause}", column)


def unshapeable(exc: BaseException) -> Rejected:
    """The rejection of a record whose shaping failed with one of `SHAPE_ERRORS`."""
    return Rejected(
        f"the record could not be shaped ({_shortened(f'{type(exc).__name__}: {exc}', 80)})"
    )


class TypedTable:
    """Landed columns with fixed types (name -> a type of `ARROW_TYPES`), and Arrow pages of
    rows in them.

    `converters` (type -> function) say how an API value becomes its column's value; types
    without one go to Arrow as they are (Arrow checks them). `required` columns must not be
    NULL (the primary key, a window cursor): a row without one is rejected.
    """

    def __init__(
        self,
        columns: Mapping[str, str],
        *,
        converters: Mapping[str, Converter] | None = None,
        required: Sequence[str] = ("id",),
    ) -> None:
        self.columns = dict(columns)
        self.schema = pa.schema(
            pa.field(name, ARROW_TYPES[data_type], nullable=name != "id")
            for name, data_type in self.columns.items()
        )
        converters = converters or {}
        self._plain = tuple(name for name, t in self.columns.items() if t not in converters)
        self._converted = tuple(
            (name, converters[t], t) for name, t in self.columns.items() if t in converters
        )
        self.required = tuple(required)

    def convert(self, record: Any) -> Record:
        """The landed columns of one API record (same-named fields), converted; raises
        `Rejected` for a record that is not an object or a value that does not convert."""
        try:
            get = record.get
        except AttributeError:
            raise Rejected("the record is not a JSON object") from None
        row = {name: get(name) for name in self._plain}
        for name, convert, data_type in self._converted:
            value = get(name)
            try:
                row[name] = convert(value)
            except PARSE_ERRORS as exc:
                raise bad_value(name, value, data_type, exc) from None
        return row

    def check_required(self, row: Mapping[str, Any]) -> None:
        """Raise `Rejected` if a required column (primary key, cursor) is NULL."""
        for name in self.required:
            if row.get(name) is None:
                what = "its primary key" if name == "id" else "a key or the window cursor"
                raise Rejected(f"{name} is missing ({what})", name)

    def page(self, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
        """Rows (dicts with the columns) as one Arrow table; raises an Arrow error if a
        value does not fit its column (`unfit_rows` then names the culprits)."""
        # Column by column: several times faster than Table.from_pylist.
        arrays = [pa.array([row.get(f.name) for row in rows], type=f.type) for f in self.schema]
        return pa.Table.from_arrays(arrays, schema=self.schema)

    def columns_page(self, columns: Mapping[str, Sequence[Any]]) -> pa.Table:
        """A page given column by column (name -> values) as one Arrow table."""
        arrays = [pa.array(columns[f.name], type=f.type) for f in self.schema]
        return pa.Table.from_arrays(arrays, schema=self.schema)

    def unfit_rows(self, columns: Mapping[str, Sequence[Any]]) -> dict[int, Rejected]:
        """Row index -> why, for the values (given column by column) that do not fit their
        column's Arrow type. Only a column that fails as a whole is checked value by value."""
        unfit: dict[int, Rejected] = {}
        for field in self.schema:
            values = columns[field.name]
            try:
                pa.array(values, type=field.type)
            except ARROW_VALUE_ERRORS:
                for index, value in enumerate(values):
                    if index not in unfit and not _fits(value, field.type):
                        data_type = self.columns[field.name]
                        unfit[index] = Rejected(
                            f"{field.name} = {describe(value)} is not a valid {data_type}",
                            field.name,
                        )
        return unfit

    def empty(self) -> pa.Table:
        """No rows, but the landed columns (dlt still creates the table)."""
        return self.schema.empty_table()


def _fits(value: Any, arrow_type: pa.DataType) -> bool:
    try:
        pa.array([value], type=arrow_type)
    except ARROW_VALUE_ERRORS:
        return False
    return True


def rows_as_columns(rows: Sequence[Mapping[str, Any]], names: Iterable[str]) -> dict[str, list]:
    """Rows as name -> values (for `TypedTable.unfit_rows`)."""
    return {name: [row.get(name) for row in rows] for name in names}


# --- quarantine -----------------------------------------------------------------------------

#: The table (in each source's raw schema) where records that cannot land go.
QUARANTINE_TABLE = "_quarantine"
QUARANTINE_COLUMNS = {
    "quarantine_id": {"data_type": "text", "nullable": False},
    "source": {"data_type": "text", "nullable": False},
    "endpoint": {"data_type": "text", "nullable": False},
    "table_name": {"data_type": "text", "nullable": False},
    "record_id": {"data_type": "text", "nullable": True},
    "column_name": {"data_type": "text", "nullable": True},
    "reason": {"data_type": "text", "nullable": False},
    "record": {"data_type": "text", "nullable": True},
    "loaded_at": {"data_type": "timestamp", "nullable": False},
}


def with_quarantine(resources: Iterable[DltResource]) -> None:
    """Give each resource its `_quarantine` table (merged on `quarantine_id`).

    A table variant starts as a copy of the resource's hints: its columns and merge key are
    dropped first, so the quarantine never inherits a landed table's.
    """
    for resource in resources:
        for columns in ({}, QUARANTINE_COLUMNS):
            resource.apply_hints(
                table_name=QUARANTINE_TABLE,
                primary_key="quarantine_id",
                merge_key="",
                write_disposition="merge",
                columns=columns,
                create_table_variant=True,
            )


@dataclass(frozen=True)
class Rejection:
    """One record that cannot land, where it would have landed and why."""

    endpoint: str
    table_name: str
    record: Any
    reason: str
    column: str | None = None


class Quarantine:
    """The quarantine of one source: rows of `_quarantine` for records that cannot land.

    `quarantine_id` is a hash of source, endpoint and the record's canonical JSON, and the
    table is merged on it, so re-running a window never duplicates a row. The stored record
    has its free-text fields (`private_fields`, removed at any depth) taken out unless
    `land_free_text`: privacy by default, like the landed tables. `redact`, if given, further
    cleans a record (e.g. Zendesk's field-change values) when free text is off.
    """

    def __init__(
        self,
        source: str,
        *,
        id_field: str = "id",
        private_fields: Iterable[str] = (),
        land_free_text: bool = False,
        redact: Callable[[Any], Any] | None = None,
    ) -> None:
        self.source = source
        self.id_field = id_field
        self.private_fields = frozenset(private_fields)
        self.land_free_text = land_free_text
        self._redact = redact

    def row(self, rejection: Rejection, loaded_at: datetime) -> Record:
        """The `_quarantine` row of one rejected record."""
        record = rejection.record
        canonical = orjson.dumps(record, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
        digest = hashlib.sha256(
            b"\0".join([self.source.encode(), rejection.endpoint.encode(), canonical])
        ).hexdigest()
        record_id = record.get(self.id_field) if isinstance(record, dict) else None
        reason = rejection.reason.rstrip(".")
        return {
            "quarantine_id": digest,
            "source": self.source,
            "endpoint": rejection.endpoint,
            "table_name": rejection.table_name,
            "record_id": None if record_id is None else as_text(record_id),
            "column_name": rejection.column,
            "reason": f"{reason}.",
            "record": json_text(self.stored(record)),
            "loaded_at": loaded_at,
        }

    def stored(self, record: Any) -> Any:
        """The record as stored: without free text unless `land_free_text`."""
        if self.land_free_text:
            return record
        if self._redact is not None:
            record = self._redact(record)
        return _without(record, self.private_fields)

    def item(self, rejections: Sequence[Rejection]) -> Any:
        """The rejections as one dlt item for the `_quarantine` table (merged on its id; the
        resource needs `with_quarantine`)."""
        now = datetime.now(UTC)
        rows = {row["quarantine_id"]: row for row in (self.row(r, now) for r in rejections)}
        return dlt.mark.with_table_name(list(rows.values()), QUARANTINE_TABLE)


def _without(value: Any, keys: frozenset[str]) -> Any:
    if not keys:
        return value
    if isinstance(value, dict):
        return {k: _without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_without(v, keys) for v in value]
    return value


# --- new fields -----------------------------------------------------------------------------


class NewFields:
    """Top-level API fields the connector does not know, landed as new columns.

    `known` are the fields the connector lands or reads (and the vendor's documented fields
    it deliberately leaves out); `private` are free-text fields, skipped unless
    `land_free_text`. Any other field lands under its own name (dlt adds the column):
    scalars as they are, objects and lists as JSON text.
    """

    def __init__(
        self, known: Iterable[str], private: Iterable[str] = (), land_free_text: bool = False
    ) -> None:
        self.skip = frozenset(known) | (frozenset() if land_free_text else frozenset(private))

    def add(self, page: pa.Table, records: Sequence[Any]) -> pa.Table:
        """`page` (one row per record, same order) with a column for each new field."""
        skip = self.skip
        found: dict[str, None] = {}
        for record in records:
            extra = record.keys() - skip
            if extra:
                found.update(dict.fromkeys(sorted(extra)))
        for name in found:
            if name in page.column_names:
                continue
            page = page.append_column(name, _new_column([r.get(name) for r in records]))
        return page


def _new_column(values: list[Any]) -> pa.Array:
    if all(v is None or isinstance(v, bool | int | float | str) for v in values):
        try:
            array = pa.array(values)
            if not pa.types.is_null(array.type):
                return array
        except ARROW_VALUE_ERRORS:
            pass
    return pa.array([json_text(v) for v in values], type=pa.string())


# --- landing --------------------------------------------------------------------------------


class Landing:
    """Lands one endpoint's records in one table: a typed Arrow page per API page, the
    records that cannot land sent to the quarantine, new top-level fields as new columns.

    `shape` makes a record's row (default: `table.convert`) and raises `Rejected` for a
    record that cannot land (any of `SHAPE_ERRORS` it raises quarantines the record too);
    required columns are checked after it. Pages are converted in
    one go; only when that fails are the culprits looked for, row by row.
    """

    def __init__(
        self,
        quarantine: Quarantine,
        endpoint: str,
        table_name: str,
        table: TypedTable,
        *,
        shape: Callable[[Any], Record] | None = None,
        new_fields: NewFields | None = None,
    ) -> None:
        self.quarantine = quarantine
        self.endpoint = endpoint
        self.table_name = table_name
        self.table = table
        self.shape = shape or table.convert
        self.new_fields = new_fields

    def reject(self, record: Any, rejected: Rejected) -> Rejection:
        """The `Rejection` of one record of this landing."""
        return Rejection(self.endpoint, self.table_name, record, rejected.reason, rejected.column)

    def split(
        self, records: Iterable[Any], shape: Callable[[Any], Record] | None = None
    ) -> tuple[list[Any], list[Record], list[Rejection]]:
        """Records shaped into rows (by `shape`, default the landing's): (kept records, their
        rows, rejections)."""
        kept: list[Any] = []
        rows: list[Record] = []
        rejections: list[Rejection] = []
        shape, check = shape or self.shape, self.table.check_required
        for record in records:
            try:
                row = shape(record)
                check(row)
            except Rejected as rejected:
                rejections.append(self.reject(record, rejected))
                continue
            except SHAPE_ERRORS as exc:  # a malformed record the shaping did not foresee
                rejections.append(self.reject(record, unshapeable(exc)))
                continue
            kept.append(record)
            rows.append(row)
        return kept, rows, rejections

    def build(
        self, kept: list[Any], rows: list[Record], rejections: list[Rejection]
    ) -> tuple[pa.Table, list[Any]]:
        """The Arrow page of shaped rows (moving unfit rows to `rejections`), with new
        fields added; also the records that landed, in page order."""
        try:
            page = self.table.page(rows)
        except ARROW_VALUE_ERRORS:
            unfit = self.table.unfit_rows(rows_as_columns(rows, self.table.columns))
            rejections += [self.reject(kept[i], unfit[i]) for i in sorted(unfit)]
            kept = [r for i, r in enumerate(kept) if i not in unfit]
            page = self.table.page([r for i, r in enumerate(rows) if i not in unfit])
        if self.new_fields is not None and kept:
            page = self.new_fields.add(page, kept)
        return page, kept

    def items(
        self, records: Iterable[Any], shape: Callable[[Any], Record] | None = None
    ) -> Iterator[Any]:
        """dlt items for one API page: its Arrow page (to `table_name`) and, if any records
        cannot land, their quarantine rows. `shape` overrides the landing's for this page."""
        kept, rows, rejections = self.split(records, shape)
        page, _ = self.build(kept, rows, rejections)
        if page.num_rows:
            yield dlt.mark.with_table_name(page, self.table_name)
        if rejections:
            yield self.quarantine.item(rejections)

    def pages(self, pages: Iterable[Iterable[Any]]) -> Iterator[Any]:
        """`items` of every page, merged into larger tables (`coalesce_pages`), then an
        empty page (`empty_page`), so the table exists even for an unused feature."""
        yield from coalesce_pages(item for records in pages for item in self.items(records))
        yield empty_page(self.table, self.table_name)


def empty_page(table: TypedTable, table_name: str) -> Any:
    """An empty page of `table`, to yield after a resource's pages: it creates the table
    on a first run that lands no row. Always, not only when no page was yielded: dlt's
    incremental drops the rows of a page past the window's end, and a page it filters to
    nothing creates no table (an export's last pages run past the end: a backfill of a
    window before the first Talk call landed no `calls` table, and staging failed on it);
    an empty page passes through whole."""
    return dlt.mark.with_table_name(table.empty(), table_name)


def is_page(item: Any) -> bool:
    """Whether a dlt item of a `Landing` is a landed page (not quarantine rows)."""
    return isinstance(getattr(item, "data", None), pa.Table)


#: Rows per Arrow table handed to dlt (see `coalesce_pages`).
BATCH_ROWS = 20_000


def coalesce_pages(items: Iterable[Any], max_rows: int = BATCH_ROWS) -> Iterator[Any]:
    """The dlt items of a resource with its landed pages merged into fewer, larger Arrow
    tables (per table, up to about `max_rows` rows each).

    dlt recomputes and validates a table's schema, and runs the incremental window's
    filter, once per Arrow item: on 1,000-row API pages that per-item work cost as much as
    shaping the rows. Memory stays bounded by `max_rows` per table. Quarantine rows and
    empty pages pass through at once. Pages whose columns cannot be merged (a new field
    with different types on two pages) are handed over separately.
    """
    pending: dict[str, list[pa.Table]] = {}
    counts: dict[str, int] = {}

    def flush(table_name: str) -> Iterator[Any]:
        tables = pending.pop(table_name, [])
        counts.pop(table_name, None)
        if len(tables) == 1:
            yield dlt.mark.with_table_name(tables[0], table_name)
            return
        try:
            merged = pa.concat_tables(tables, promote_options="default")
        except ARROW_VALUE_ERRORS + (pa.ArrowNotImplementedError,):
            for table in tables:
                yield dlt.mark.with_table_name(table, table_name)
            return
        yield dlt.mark.with_table_name(merged, table_name)

    for item in items:
        meta = getattr(item, "meta", None)
        table_name = getattr(meta, "table_name", None)
        if not is_page(item) or not isinstance(table_name, str) or not item.data.num_rows:
            yield item
            continue
        pending.setdefault(table_name, []).append(item.data)
        counts[table_name] = counts.get(table_name, 0) + item.data.num_rows
        if counts[table_name] >= max_rows:
            yield from flush(table_name)
    for table_name in list(pending):
        yield from flush(table_name)


#: The merge write disposition of a table whose rows `first_occurrences` made unique: dlt
#: then copies the staged rows as they are instead of numbering every primary key's rows
#: with a window to keep one (`ROW_NUMBER() OVER (PARTITION BY id)` over all the staged
#: rows: at 100k tickets 4 s and 250 MiB for the 1.6M child events, a plain copy 0.8 s).
DEDUPLICATED_MERGE = {"disposition": "merge", "strategy": "delete-insert", "deduplicated": True}


class SeenKeys:
    """The primary keys of one table already handed to dlt in this extraction.

    Integer keys are kept in one sorted int64 array (8 bytes a row), keys of any other type
    in a set. Given each row's time and a `horizon` (seconds), only the keys of rows at most
    `horizon` older than the newest row seen are kept: an export ordered by time, which
    restarts from the latest time it handed over, can repeat a key only from its last
    moments, so memory stays bounded by the records of one horizon instead of growing with
    the whole extraction (12 MiB for the 1.6M child events of 100k tickets, 130 MiB at 1M
    tickets, without a horizon).
    """

    def __init__(self, horizon: int | None = None) -> None:
        self.horizon = horizon
        self._sorted = np.empty(0, dtype=np.int64)
        self._times = np.empty(0, dtype=np.int64)
        #: Keys of rows older than this (seconds) are forgotten.
        self._cut: int | None = None
        self._other: set[Any] = set()

    def __len__(self) -> int:
        return int(self._sorted.size) + len(self._other)

    def first_rows(self, keys: pa.ChunkedArray | pa.Array,
                   times: np.ndarray | None = None) -> np.ndarray:
        """A mask of the rows whose key is seen for the first time (the first of repeats
        within `keys` too); remembers those keys. `times`: each row's time in seconds
        (int64), needed for the horizon."""
        if pa.types.is_integer(keys.type) and not keys.null_count:
            values = np.asarray(keys.to_numpy(), dtype=np.int64)
            unique, first = np.unique(values, return_index=True)
            keep = np.zeros(len(values), dtype=bool)
            keep[first] = True
            # A key's time: that of its first row (a repeated record has the same time).
            stamps = times[first] if times is not None else np.zeros(unique.size, np.int64)
            seen = self._sorted
            if seen.size:
                at = np.searchsorted(seen, unique)
                known = seen[np.minimum(at, seen.size - 1)] == unique
                keep[first[known]] = False
                new = ~known
                self._sorted = np.insert(seen, at[new], unique[new])
                self._times = np.insert(self._times, at[new], stamps[new])
            else:
                self._sorted, self._times = unique, stamps
            if self.horizon is not None and times is not None and times.size:
                self._forget_before(int(times.max()) - self.horizon)
            return keep
        keep = np.zeros(len(keys), dtype=bool)
        for index, key in enumerate(keys.to_pylist()):
            if key not in self._other:
                self._other.add(key)
                keep[index] = True
        return keep

    def _forget_before(self, cut: int) -> None:
        if self._cut is not None and cut <= self._cut:
            return
        self._cut = cut
        recent = self._times >= cut
        if not recent.all():
            self._sorted, self._times = self._sorted[recent], self._times[recent]


def epoch_seconds_of(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A timestamp column as int64 Unix seconds; a missing time counts as the newest
    possible (its key is never forgotten)."""
    per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[column.type.unit]
    raw = pc.fill_null(pc.cast(column, pa.int64()), np.iinfo(np.int64).max)
    values = np.asarray(raw.to_numpy(), dtype=np.int64)
    return np.where(values == np.iinfo(np.int64).max, values, values // per_second)


def first_occurrences(
    items: Iterable[Any], tables: Iterable[str], key: str = "id",
    time_column: str | None = None, horizon: int | None = None,
) -> Iterator[Any]:
    """The dlt items of a resource with the rows of `tables` whose `key` was already handed
    over in this extraction left out (the first occurrence lands).

    For tables whose records never change once made (Zendesk's audits and their child
    events): the time-based exports serve the records of a page's last second again at the
    start of the next page, and a restarted export or a repeated page repeats more. dlt
    would number them away at load time with a window over every staged row; with this
    filter the table can be loaded with `DEDUPLICATED_MERGE`. Memory: `SeenKeys`; with
    `time_column` (the record's time, by which the export is ordered) and `horizon`
    (seconds), the keys of one horizon.
    """
    seen = {name: SeenKeys(horizon if time_column else None) for name in tables}
    for item in items:
        table_name = getattr(getattr(item, "meta", None), "table_name", None)
        if table_name not in seen or not is_page(item) or not item.data.num_rows:
            yield item
            continue
        times = (epoch_seconds_of(item.data.column(time_column))
                 if time_column and time_column in item.data.column_names else None)
        keep = seen[table_name].first_rows(item.data.column(key), times)
        if keep.all():
            yield item
        elif keep.any():
            yield dlt.mark.with_table_name(item.data.filter(pa.array(keep)), table_name)
