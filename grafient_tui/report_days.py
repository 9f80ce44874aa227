"""`grafient report` over several integrations, by day: one table, a row per UTC day, a column per
integration and the total. Four accounts printed ~150 lines as one table each; this is one screen.
Amounts are billed; an integration whose plan or credits cover part of its usage has a second column
with its usage value, and the total one beside the billed total. `grafient report --each` keeps the
tables per integration (report.render_table). No Textual."""

from __future__ import annotations

from typing import Any

from grafient_tui.figures import BILLED, Basis
from grafient_tui.money import format_usd
from grafient_tui.report import known_money, partly_covered, render_table, summary_words
from grafient_tui.rounding import adding_up
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
    # Every TOTAL is its exact sum rounded once: an integration's is the figure its own report and the
    # summary give, the grand totals are the summary's. Down each column (the totals' too) the days are
    # rounded so that they add up to it (rounding.adding_up): a day may read a cent off its exact amount,
    # and a day's cells, or the TOTAL row's, may then miss their total across by a cent (the note says so).
    exact_billed = [
        {d: day.get("_billed_micro", day["_micro"]) for d, day in days.items() if day["synced"]} for days in by_day
    ]
    exact_usage = [
        {d: day["_micro"] for d, day in days.items() if day["synced"]} if has_usage else exact_billed[i]
        for i, (days, has_usage) in enumerate(zip(by_day, covered, strict=True))
    ]
    exact_days = [_each_day(exact_billed, dates), _each_day(exact_usage, dates)]
    billed = [_adding_up(column) for column in exact_billed]
    usage = [_adding_up(column) for column in exact_usage]
    day_billed, day_usage = (_adding_up(column) for column in exact_days)
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
        totals = [overall.money(day_billed[date]) + mark if synced else NOT_SYNCED]
        if any(covered):
            totals.append(overall.money(day_usage[date]) + mark if synced else NOT_SYNCED)
        rows.append([date, *cells, *totals])
    billed_sums = [sum(column.values()) for column in exact_billed]
    usage_sums = [sum(column.values()) for column in exact_usage]
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
    if _moved([*exact_billed, *exact_usage, *exact_days], [*billed, *usage, day_billed, day_usage]):
        notes.append(ROUNDED_NOTE)
    table = format_table(headers, rows, set(range(1, len(headers))))
    return "\n".join([title, table, *notes, summary_words(report["summary"], overall)])


ROUNDED_NOTE = (
    "Days rounded to the cent so that each column adds up to its TOTAL (a day may read a cent off its exact "
    "amount); every TOTAL is its exact sum rounded once"
)


def _each_day(columns: list[dict[str, int]], dates: list[str]) -> dict[str, int]:
    """Each date's exact sum over the columns that have it."""
    return {d: sum(c.get(d, 0) for c in columns) for d in dates if any(d in c for c in columns)}


def _moved(exact: list[dict[str, int]], shown: list[dict[str, int]]) -> bool:
    """Whether an amount shows other than its exact value rounded alone (adding up moved it a cent)."""
    return any(
        format_usd(shown_column[d]) != format_usd(micro)
        for exact_column, shown_column in zip(exact, shown, strict=True)
        for d, micro in exact_column.items()
    )


def _adding_up(column: dict[str, int]) -> dict[str, int]:
    """A column's amounts by date as shown: rounded to the cent so that they add up to the column's
    exact total rounded once (a credit's negative day too)."""
    return dict(zip(column, adding_up(list(column.values())), strict=True))
