"""`grafient report` over several integrations, by day: one table, a row per UTC day, a column per
integration and the total. Four accounts printed ~150 lines as one table each; this is one screen.
`grafient report --each` keeps the tables per integration (report.render_table). No Textual."""

from __future__ import annotations

from typing import Any

from grafient_tui.figures import BILLED, Basis
from grafient_tui.report import render_table, summary_words
from grafient_tui.tables import format_table
from grafient_tui.untrusted import cap, visible

COLUMN = 24  # characters of a label in a column's header
NOT_SYNCED = "-"
PARTIAL = " *"


def render_days_table(report: dict[str, Any]) -> str:
    """The report (by day) as one table; a report of one integration (or none) as render_table has it."""
    integrations = report["integrations"]
    if report["by"] != "day" or len(integrations) < 2:
        return render_table(report)
    overall: Basis = report.get("_basis", BILLED)
    by_day = [{day["date"]: day for day in integ["days"]} for integ in integrations]
    dates = sorted({day for days in by_day for day in days}, reverse=False)
    headers = ["DATE", *(cap(visible(integ["label"]), COLUMN) for integ in integrations), "TOTAL"]
    rows: list[list[str]] = []
    sums = [0] * len(integrations)
    partial_days = 0
    for date in dates:
        cells, total, partial = [], 0, False
        for i, (integ, days) in enumerate(zip(integrations, by_day, strict=True)):
            day = days.get(date)
            if day is None or not day["synced"]:
                cells.append(NOT_SYNCED)
                partial = True
                continue
            cells.append(integ["_basis"].money(day["_micro"]))
            total += day["_micro"]
            sums[i] += day["_micro"]
        partial_days += partial
        rows.append([date, *cells, overall.money(total) + (PARTIAL if partial else "")])
    rows.append(
        [
            "TOTAL",
            *(integ["_basis"].money(s) for integ, s in zip(integrations, sums, strict=True)),
            overall.money(sum(sums)),
        ]
    )
    title = (
        f"All {len(integrations)} integrations  {report['since']} .. {report['until']} UTC  "
        "(a column each; --each prints a table per integration)"
    )
    notes = []
    if partial_days:
        notes.append(f"{NOT_SYNCED} not synced;{PARTIAL} a total without the integrations not synced that day")
    table = format_table(headers, rows, set(range(1, len(headers))))
    return "\n".join([title, table, *notes, summary_words(report["summary"], overall)])
