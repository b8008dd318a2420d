"""The fault suite's result table: one row per fault case, printed at the end of the session
(see conftest.py) and written to `$FAULT_SUITE_TABLE` when that is set."""

from __future__ import annotations

from dataclasses import dataclass, fields

#: Filled by the cases as they run, in run order.
ROWS: list[FaultRow] = []

HEADERS = {
    "case": "case",
    "table": "table",
    "fault": "fault",
    "runs": "runs made",
    "requests": "requests",
    "expected": "rows expected",
    "landed": "rows landed",
    "duplicates": "duplicates",
    "quarantined": "quarantined",
    "outcome": "outcome",
    "expected_outcome": "expected outcome",
    "verdict": "verdict",
}


@dataclass
class FaultRow:
    """What one fault case measured."""

    case: str
    table: str
    fault: str
    runs: int
    requests: int
    expected: int
    landed: int
    duplicates: int
    quarantined: int
    outcome: str
    expected_outcome: str
    verdict: str = "?"


def format_table(rows: list[FaultRow], outcome_width: int = 100) -> str:
    """The rows as a Markdown-compatible, fixed-width table (long outcomes are cut)."""
    names = [f.name for f in fields(FaultRow)]
    cells = [[HEADERS[n] for n in names]]
    for row in rows:
        values = []
        for name in names:
            text = " ".join(str(getattr(row, name)).split()).replace("|", "/")
            if name == "outcome" and len(text) > outcome_width:
                text = text[: outcome_width - 3] + "..."
            values.append(text)
        cells.append(values)
    widths = [max(len(line[i]) for line in cells) for i in range(len(names))]
    numeric = {"runs", "requests", "expected", "landed", "duplicates", "quarantined"}

    def line(values: list[str]) -> str:
        padded = [
            v.rjust(w) if names[i] in numeric else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [line(cells[0]), rule, *(line(values) for values in cells[1:])]
    passed = sum(r.verdict == "ok" for r in rows)
    body.append(f"{passed} of {len(rows)} fault cases behaved as expected.")
    return "\n".join(body)
