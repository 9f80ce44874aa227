"""`grafient report` over several integrations, by day: one table, a row per UTC day, a column per
integration and the total. Four accounts printed ~150 lines as one table each; this is one screen.
Amounts are billed; an integration whose plan or credits cover part of its usage has a second column
with its usage value, and the total one beside the billed total. `grafient report --each` keeps the
tables per integration (report.render_table). No Textual."""

from __future__ import annotations

from typing import Any

from grafient_tui.figures import BILLED, Basis
from grafient_tui.report import known_money, partly_covered, render_table, summary_words
from grafient_tui.rounding import adding_up, can_share
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
    covered = [partly_covered(integ["provider"]) for integ in integrations]
    by_day = [{day["date"]: day for day in integ["days"]} for integ in integrations]
    dates = sorted({day for days in by_day for day in days})
    headers = ["DATE"]
    for integ, has_usage in zip(integrations, covered, strict=True):
        label = cap(visible(integ["label"]), COLUMN)
        headers += [label, f"{label} usage value"] if has_usage else [label]
    headers += ["TOTAL BILLED", "TOTAL USAGE VALUE"] if any(covered) else ["TOTAL"]
    # Issue 21: what the table shows adds up, across (a day's cells to its total) and down (a column to
    # the TOTAL row, the TOTAL row to the grand totals, which are the summary's, each rounded once).
    billed = _adding_up(
        [{d: day.get("_billed_micro", day["_micro"]) for d, day in days.items() if day["synced"]} for days in by_day]
    )
    # A provider no plan covers has one column, in both totals: its usage value is what it billed.
    # The plans' usage value columns share what is left of the usage value total, rounded once.
    fixed = sum(sum(column.values()) for column, has_usage in zip(billed, covered, strict=True) if not has_usage)
    usage_of = _adding_up(
        [
            {d: day["_micro"] for d, day in days.items() if day["synced"]}
            for days, c in zip(by_day, covered, strict=True)
            if c
        ],
        less=fixed,
    )
    usage = [usage_of.pop(0) if has_usage else billed[i] for i, has_usage in enumerate(covered)]
    rows: list[list[str]] = []
    partial_days = 0
    for date in dates:
        cells: list[str] = []
        partial = False
        for i, integ in enumerate(integrations):
            if date not in billed[i]:  # not synced, or not reported yet
                cells += [NOT_SYNCED] * (2 if covered[i] else 1)
                partial = True
                continue
            money = integ["_basis"].money
            cells += [money(billed[i][date]), money(usage[i][date])] if covered[i] else [money(billed[i][date])]
        partial_days += partial
        mark = PARTIAL if partial else ""
        synced = any(date in column for column in billed)
        # a day no integration has synced has no total (unknown, never $0)
        totals = [overall.money(sum(column.get(date, 0) for column in billed)) + mark if synced else NOT_SYNCED]
        if any(covered):
            totals.append(overall.money(sum(column.get(date, 0) for column in usage)) + mark if synced else NOT_SYNCED)
        rows.append([date, *cells, *totals])
    billed_sums = [sum(column.values()) for column in billed]
    usage_sums = [sum(column.values()) for column in usage]
    had = [bool(column) for column in billed]  # a synced day: its total is a figure, not unknown
    total_row = ["TOTAL"]
    for i, integ in enumerate(integrations):
        money = known_money(integ["_basis"], had[i])
        total_row += [money(billed_sums[i]), money(usage_sums[i])] if covered[i] else [money(billed_sums[i])]
    money = known_money(overall, any(had))  # each integration only over the days it has synced
    total_row += [money(sum(billed_sums))] + ([money(sum(usage_sums))] if any(covered) else [])
    rows.append(total_row)
    title = (
        f"All {len(integrations)} integrations  {report['since']} .. {report['until']} UTC  "
        "(a column each; --each prints a table per integration)"
    )
    notes = []
    if partial_days:
        notes.append(
            f"{NOT_SYNCED} not synced or not reported yet;{PARTIAL} a total without the integrations missing that day"
        )
    table = format_table(headers, rows, set(range(1, len(headers))))
    return "\n".join([title, table, *notes, summary_words(report["summary"], overall)])


def _adding_up(columns: list[dict[str, int]], *, less: int = 0) -> list[dict[str, int]]:
    """Each column's amounts by date as shown: the columns' totals rounded as parts of their sum
    rounded once (of that and `less`, what the other columns of the total already show, when the
    columns can make up the difference), then each column's cells handed its total. A negative amount
    (a refund) has no share of a remainder: then every amount stays exact, each cell rounded alone."""
    if any(micro < 0 for column in columns for micro in column.values()):
        return columns
    sums = [sum(column.values()) for column in columns]
    grand = adding_up([sum(sums) + less])[0] - less
    totals = adding_up(sums, total=grand) if can_share(sums, grand) else adding_up(sums)
    return [
        dict(zip(column, adding_up(list(column.values()), total=total), strict=True))
        for column, total in zip(columns, totals, strict=True)
    ]
