"""`coalesce_pages`: landed pages merged into fewer, larger Arrow tables for dlt."""

import dlt
import pyarrow as pa

from connectors.typed_rows import QUARANTINE_TABLE, coalesce_pages


def _page(table_name: str, ids: list[int], **extra: list) -> object:
    return dlt.mark.with_table_name(pa.table({"id": ids, **extra}), table_name)


def _summary(items: list) -> list[tuple[str, object]]:
    out = []
    for item in items:
        data = item.data
        rows = data.column("id").to_pylist() if isinstance(data, pa.Table) else len(data)
        out.append((item.meta.table_name, rows))
    return out


def test_pages_are_merged_per_table_up_to_the_row_limit() -> None:
    items = [
        _page("a", [1, 2]),
        _page("b", [10]),
        dlt.mark.with_table_name([{"quarantine_id": "q"}], QUARANTINE_TABLE),
        _page("a", [3, 4]),
        _page("a", [5]),
        _page("b", [11]),
    ]
    got = _summary(list(coalesce_pages(items, max_rows=4)))
    # The quarantine rows pass at once; "a" is handed over when it reaches 4 rows; the
    # rest at the end (each table's rows in order).
    assert got[:2] == [(QUARANTINE_TABLE, 1), ("a", [1, 2, 3, 4])]
    assert sorted(got[2:]) == [("a", [5]), ("b", [10, 11])]


def test_a_new_column_on_a_later_page_is_null_on_the_earlier_rows() -> None:
    items = [_page("a", [1]), _page("a", [2], x_new=["v"])]
    (merged,) = coalesce_pages(items)
    assert merged.data.column("x_new").to_pylist() == [None, "v"]


def test_pages_that_cannot_be_merged_are_handed_over_separately() -> None:
    items = [_page("a", [1], x_new=[1]), _page("a", [2], x_new=["text"])]
    got = list(coalesce_pages(items))
    assert [item.data.column("x_new").to_pylist() for item in got] == [[1], ["text"]]


def test_empty_pages_pass_through() -> None:
    empty = dlt.mark.with_table_name(pa.table({"id": pa.array([], pa.int64())}), "a")
    assert list(coalesce_pages([empty])) == [empty]
