"""`Landing.split`: a record whose shaping fails with an error a malformed record raises
goes to the quarantine with a short reason; the rest of its page lands; any other error
still stops the run."""

from typing import Any

import pytest

from connectors.typed_rows import Landing, Quarantine, TypedTable, parse_timestamp


def _landing(shape) -> Landing:
    table = TypedTable({"id": "bigint", "stage": "text"})
    return Landing(Quarantine("test"), "/things", "things", table, shape=shape)


def _shape(record: dict[str, Any]) -> dict[str, Any]:
    """A shaping that, like the connectors', trusts the record's JSON types."""
    return {
        "id": record["id"],
        "stage": record["stage"] if record["stage"] in {"won", "lost"} else None,
        "closed": parse_timestamp(record["closed"]) if record.get("closed") else None,
        "owner": (record.get("owner") or {}).get("name"),
        "first_tag": record["tags"][0] if "tags" in record else None,
    }


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"id": 2, "stage": {"name": "won"}}, "(TypeError: unhashable type: 'dict')"),
        ({"id": 2, "stage": "won", "owner": ["x"]},
         "(AttributeError: 'list' object has no attribute 'get')"),
        ({"id": 2}, "(KeyError: 'stage')"),
        ({"id": 2, "stage": "won", "tags": []}, "(IndexError: list index out of range)"),
        ({"id": 2, "stage": "won", "closed": "100000000000000000000"},
         "(OSError: [Errno 75] Value too large for defined data type)"),
    ],
    ids=["TypeError", "AttributeError", "KeyError", "IndexError", "OSError"],
)
def test_a_record_that_cannot_be_shaped_is_quarantined_and_the_rest_lands(bad, reason):
    records = [{"id": 1, "stage": "won"}, bad, {"id": 3, "stage": "lost"}]
    [page, rejected] = list(_landing(_shape).items(records))
    assert page.data.column("id").to_pylist() == [1, 3]
    [row] = rejected.data
    assert row["record_id"] == "2" and row["column_name"] is None
    assert row["reason"] == f"the record could not be shaped {reason}."


def test_the_reason_stays_short():
    def shape(record: Any) -> Any:
        raise ValueError("x" * 500)

    [rejected] = list(_landing(shape).items([{"id": 1}]))
    reason = rejected.data[0]["reason"]
    assert reason.startswith("the record could not be shaped (ValueError: xxx")
    assert reason.endswith("...).") and len(reason) < 130


def test_any_other_error_still_stops_the_run():
    def shape(record: Any) -> Any:
        raise RuntimeError("a bug, not a malformed record")

    with pytest.raises(RuntimeError, match="a bug"):
        list(_landing(shape).items([{"id": 1}]))
