"""`grafient report` over several integrations, by day: one table, a row per UTC day, a column per
integration and the total. Four accounts printed ~150 lines as one table each; this is one screen.
Amounts are billed; an integration whose plan or credits cover part of its usage has a second column
with its usage value, and the total one beside the billed total. `grafient report --each` keeps the
tables per integration (report.render_table). No Textual."""

from __future__ import annotations

from typing import Any

from grafient_tui.figures import BILLED, Basis
from grafient_tui.report import _covered, _known_money, render_table, summary_words
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
    covered = [_covered(integ["provider"]) for integ in integrations]
    by_day = [{day["date"]: day for day in integ["days"]} for integ in integrations]
    dates = sorted({day for days in by_day for day in days})
    headers = ["DATE"]
    for integ, usage in zip(integrations, covered, strict=True):
        label = cap(visible(integ["label"]), COLUMN)
        headers += [label, f"{label} usage value"] if usage else [label]
    headers += ["TOTAL BILLED", "TOTAL USAGE VALUE"] if any(covered) else ["TOTAL"]
    rows: list[list[str]] = []
    billed_sums, usage_sums = [0] * len(integrations), [0] * len(integrations)
    had = [False] * len(integrations)  # the integration has a synced day: its total is a figure, not unknown
    partial_days = 0
    for date in dates:
        cells: list[str] = []
        partial = False
        for i, (integ, days) in enumerate(zip(integrations, by_day, strict=True)):
            day = days.get(date)
            if day is None or not day["synced"]:
                cells += [NOT_SYNCED] * (2 if covered[i] else 1)
                partial = True
                continue
            billed = day.get("_billed_micro", day["_micro"])
            money = integ["_basis"].money
            cells += [money(billed), money(day["_micro"])] if covered[i] else [money(billed)]
            billed_sums[i] += billed
            had[i] = True
            usage_sums[i] += day["_micro"]
        partial_days += partial
        mark = PARTIAL if partial else ""
        synced = _synced(by_day, date)
        billed_day = sum(d.get("_billed_micro", d["_micro"]) for d in synced)
        usage_day = sum(d["_micro"] for d in synced)
        # a day no integration has synced has no total (unknown, never $0)
        totals = [overall.money(billed_day) + mark if synced else NOT_SYNCED]
        if any(covered):
            totals.append(overall.money(usage_day) + mark if synced else NOT_SYNCED)
        rows.append([date, *cells, *totals])
    total_row = ["TOTAL"]
    for i, integ in enumerate(integrations):
        money = _known_money(integ["_basis"], had[i])
        total_row += [money(billed_sums[i]), money(usage_sums[i])] if covered[i] else [money(billed_sums[i])]
    money = _known_money(overall, any(had))  # each integration only over the days it has synced
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


def _synced(by_day: list[dict[str, dict[str, Any]]], date: str) -> list[dict[str, Any]]:
    """The integrations' rows of `date` that are synced."""
    return [days[date] for days in by_day if date in days and days[date]["synced"]]
