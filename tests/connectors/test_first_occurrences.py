"""`first_occurrences`: each primary key of a deduplicated table is handed to dlt once."""

import dlt
import numpy as np
import pyarrow as pa

from connectors.typed_rows import (
    QUARANTINE_TABLE,
    SeenKeys,
    epoch_seconds_of,
    first_occurrences,
)


def _page(table_name: str, ids: list, **extra: list) -> object:
    return dlt.mark.with_table_name(pa.table({"id": ids, **extra}), table_name)


def _rows(items: list) -> list[tuple[str, object]]:
    out = []
    for item in items:
        data = item.data
        rows = data.to_pylist() if isinstance(data, pa.Table) else len(data)
        out.append((item.meta.table_name, rows))
    return out


def test_repeats_within_and_across_pages_are_left_out_first_one_kept() -> None:
    items = [
        _page("a", [5, 3, 5], v=["first", "x", "second"]),
        _page("other", [5, 5]),
        dlt.mark.with_table_name([{"quarantine_id": "q"}], QUARANTINE_TABLE),
        _page("a", [3, 7, 1], v=["again", "y", "z"]),
        _page("a", [7, 1]),  # nothing new: no item at all
        _page("a", [], v=[]),  # an empty page still passes (the table must exist)
    ]
    got = _rows(list(first_occurrences(items, ["a"])))
    assert got == [
        ("a", [{"id": 5, "v": "first"}, {"id": 3, "v": "x"}]),
        ("other", [{"id": 5}, {"id": 5}]),  # not a deduplicated table
        (QUARANTINE_TABLE, 1),
        ("a", [{"id": 7, "v": "y"}, {"id": 1, "v": "z"}]),
        ("a", []),
    ]


def test_seen_keys_many_pages_and_non_integer_keys() -> None:
    seen = SeenKeys()
    landed: list[int] = []
    offered: set[int] = set()
    for start in range(0, 10_000, 700):  # overlapping, unordered windows of ids
        ids = pa.array(list(range(start + 699, start - 301, -1)), type=pa.int64())
        keep = seen.first_rows(ids)
        landed += [i for i, k in zip(ids.to_pylist(), keep, strict=True) if k]
        offered |= set(ids.to_pylist())
    assert sorted(landed) == sorted(offered)
    text = SeenKeys()
    assert text.first_rows(pa.array(["b", "a", "b"])).tolist() == [True, True, False]
    assert text.first_rows(pa.array(["a", "c"])).tolist() == [False, True]


def test_horizon_keeps_only_the_keys_of_recent_rows() -> None:
    seen = SeenKeys(horizon=60)
    for minute in range(100):  # an export ordered by time: 10 records a minute, each twice
        ids = pa.array([minute * 10 + i for i in range(10)] * 2, type=pa.int64())
        times = np.full(20, minute * 60, dtype=np.int64)
        keep = seen.first_rows(ids, times)
        assert keep.tolist() == [True] * 10 + [False] * 10
        # the last minute's records come again at the start of the next page
        if minute:
            again = pa.array([(minute - 1) * 10 + i for i in range(10)], type=pa.int64())
            assert not seen.first_rows(again, np.full(10, (minute - 1) * 60, np.int64)).any()
    assert len(seen) == 20  # the last two minutes, not all 1,000 keys
    unbounded = SeenKeys()
    for minute in range(100):
        unbounded.first_rows(pa.array(range(minute * 10, minute * 10 + 10), type=pa.int64()),
                             np.full(10, minute * 60, dtype=np.int64))
    assert len(unbounded) == 1_000


def test_times_from_a_timestamp_column() -> None:
    column = pa.array([0, 1_500_000, None], type=pa.timestamp("us", tz="UTC"))
    assert epoch_seconds_of(column).tolist() == [0, 1, np.iinfo(np.int64).max]
    items = [
        _page("a", [1, 2], created_at=pa.array([0, 10], pa.timestamp("s", tz="UTC"))),
        _page("a", [2, 3], created_at=pa.array([10, 100_000], pa.timestamp("s", tz="UTC"))),
        _page("a", [1], created_at=pa.array([0], pa.timestamp("s", tz="UTC"))),
    ]
    got = _rows(list(first_occurrences(items, ["a"], time_column="created_at", horizon=50)))
    # id 1 is older than the horizon by the time it comes again: by then it is forgotten
    assert [[r["id"] for r in rows] for _, rows in got] == [[1, 2], [3], [1]]
