"""`first_occurrences`: each primary key of a deduplicated table is handed to dlt once."""

import dlt
import pyarrow as pa

from connectors.typed_rows import QUARANTINE_TABLE, SeenKeys, first_occurrences


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
