"""`grafient report` over several integrations: one table per day (a column per integration and the
total); `--each` keeps a table per integration; one integration keeps its own table."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from grafient_tui.money import format_usd
from tests.helpers import run_cli
from tests.tui.test_tui import MEMBERS, MODELS, NOW, make_team, seeded

# ten days, the first ones older than the free plan keeps: never fetched for either
SPAN = (
    "--since",
    (NOW.date() - timedelta(days=32)).isoformat(),
    "--until",
    (NOW.date() - timedelta(days=23)).isoformat(),
)


async def test_one_table_per_day_with_a_column_per_integration_and_the_total(grafient_home, capsys, monkeypatch):
    await seeded(make_team(), label="Acme")
    await seeded(make_team("key_" + "e5f6a7b8" * 8, seed=5), label="Beta")
    data = json.loads(run_cli(capsys, monkeypatch, "report", *SPAN, "--format", "json").out)
    acme, beta = ({d["date"]: d for d in i["days"]} for i in data["integrations"])
    result = run_cli(capsys, monkeypatch, "report", *SPAN)
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].startswith(f"All 2 integrations  {SPAN[1]} .. {SPAN[3]} UTC")

    def cells(line: str) -> list[str]:
        return re.split(r"\s{2,}", line.strip())

    # Cursor's plan covers part of its usage: billed and usage value, each and in total
    headers = cells(lines[1])
    assert headers == [
        "DATE",
        "Acme",
        "Acme usage value",
        "Beta",
        "Beta usage value",
        "TOTAL BILLED",
        "TOTAL USAGE VALUE",
    ]
    rows = {cells(line)[0]: cells(line)[1:] for line in lines[2:12]}
    assert len(rows) == 10 and sorted(rows) == sorted(acme)

    def micro(cell: str) -> int | None:  # a shown amount, in micro-cents; None for a day not synced
        return None if cell.startswith("-") else round(float(cell.rstrip(" *").lstrip("$").replace(",", "")) * 10**8)

    partial = 0
    columns = ((acme, "billed_usd"), (acme, "cost_usd"), (beta, "billed_usd"), (beta, "cost_usd"))
    for date, row in rows.items():
        a, b = acme[date], beta[date]
        synced = [d for d in (a, b) if d["synced"]]
        mark = "" if len(synced) == 2 else " *"  # a day not fetched: no $0, and the total says so
        partial += bool(mark)
        if not synced:  # a day no integration has synced has no total: unknown, never $0
            assert row == ["-"] * 6, date
            continue
        assert row[4].endswith(mark) and row[5].endswith(mark)
        shown = [micro(cell) for cell in row]
        for (days, key), cell in zip(columns, shown[:4], strict=True):  # each less than a cent from exact
            assert cell is None if not days[date]["synced"] else abs(cell - days[date][key] * 10**8) < 10**6, date
        # a day's totals are its exact sums, each within a cent (the column of totals adds up to the TOTAL)
        for cell, key in ((shown[4], "billed_usd"), (shown[5], "cost_usd")):
            exact = sum(d[key] for d in synced) * 10**8
            assert abs(cell - exact) <= 10**6, date
    assert partial  # the days older than the plan keeps
    total = cells(lines[12])
    assert total[0] == "TOTAL" and total[-2] == format_usd(round(float(data["summary"]["billed"]) * 100_000_000))
    totals = [micro(cell) for cell in total[1:]]
    for column, cell in enumerate(totals):  # each column, the totals' too, adds up to the TOTAL row
        assert cell == sum(micro(row[column]) or 0 for row in rows.values()), headers[column + 1]
    # and each TOTAL is its exact sum rounded once: the integration's own summary, the report's
    for column, (integ, key) in enumerate([(0, "billed"), (0, "usage_value"), (1, "billed"), (1, "usage_value")], 1):
        exact = float(data["integrations"][integ]["summary"][key])
        assert total[column] == format_usd(round(exact * 10**8)), (integ, key)
    assert total[-1] == format_usd(round(float(data["summary"]["usage_value"]) * 100_000_000))
    assert any(  # the data has a day whose amounts, each rounded alone, do not add up: the test can fail
        round(a["billed_usd"] * 100) + round(b["billed_usd"] * 100) != round((a["billed_usd"] + b["billed_usd"]) * 100)
        for a, b in ((acme[d], beta[d]) for d in rows)
        if a["synced"] and b["synced"]
    ) or any(
        sum(round(d[key] * 100) for d in days.values() if d["synced"])
        != round(sum(d[key] for d in days.values() if d["synced"]) * 100)
        for days, key in columns
    )
    assert "- not synced or not reported yet; * a total without the integrations missing that day" in result.out
    assert result.out.count("DATE") == 1  # one table, not one per integration

    each = run_cli(capsys, monkeypatch, "report", *SPAN, "--each").out
    assert each.count("DATE") == 2 and "Acme (cursor, id 1)" in each and "Beta (cursor, id 2)" in each
    single = run_cli(capsys, monkeypatch, "report", "Acme", *SPAN).out
    assert single.count("DATE") == 1 and single.startswith("Acme (cursor, id 1)")


def shown_micro(cell: str) -> int:
    """A table's amount (`$1,234.56`, `$3.10 *`), in micro-cents; a day not synced (`-`) shows none."""
    cell = cell.rstrip(" *")
    return 0 if cell == "-" else round(float(cell.lstrip("$").replace(",", "")) * 10**8)


def test_a_plan_and_a_provider_without_one_add_up_across_down_and_to_the_summary(capsys, monkeypatch) -> None:
    """Cursor (billed and usage value) beside Anthropic (one column, in both totals): every column adds
    up to the TOTAL row, whose totals are the summary's billed and usage value, each rounded once (issue
    21); a day's cells are within a cent each of its totals (a total is never moved to fit them)."""
    import respx

    from grafient_tui.config import DEFAULT_API_URLS
    from grafient_tui.providers.cursor.fake import make_events
    from tests.cli.test_cli_providers import KEYS, TODAY, account, route
    from tests.cli.test_cli_providers import NOW as PROVIDERS_NOW
    from tests.conftest import GOOD_KEY
    from tests.fakes import CountingCursorTeam

    monkeypatch.setenv("GRAFIENT_NOW", PROVIDERS_NOW)
    good, _ = KEYS["anthropic"]
    events = make_events(seed=7, start=TODAY - timedelta(days=12), days=12, per_day=5, members=MEMBERS, models=MODELS)
    with respx.mock(base_url=DEFAULT_API_URLS["anthropic"], assert_all_called=False) as router:
        route(router, account("anthropic", good))
        assert run_cli(capsys, monkeypatch, "add", "anthropic", "--label", "Labs", stdin=good + "\n").code == 0
    with respx.mock(base_url=DEFAULT_API_URLS["cursor"], assert_all_called=False) as router:
        router.route().mock(side_effect=CountingCursorTeam(api_key=GOOD_KEY, events=events).handler)
        assert run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=GOOD_KEY + "\n").code == 0
    summary = json.loads(run_cli(capsys, monkeypatch, "report", "--days", "10", "--format", "json").out)["summary"]
    lines = run_cli(capsys, monkeypatch, "report", "--days", "10").out.splitlines()
    headers = re.split(r"\s{2,}", lines[1].strip())
    assert headers[-2:] == ["TOTAL BILLED", "TOTAL USAGE VALUE"] and "Labs usage value" not in headers
    usage_columns = [i for i, h in enumerate(headers[1:-2], 1) if f"{h} usage value" not in headers]
    billed_columns = [i for i, h in enumerate(headers[1:-2], 1) if not h.endswith(" usage value")]
    assert len(usage_columns) == len(billed_columns) == 2  # Eng's usage value, and Labs' one column
    table = [
        re.split(r"\s{2,}", line.strip())
        for line in lines[2 : lines.index(next(x for x in lines if x.startswith("TOTAL"))) + 1]
    ]
    assert len(table) == 11 and table[-1][0] == "TOTAL"
    for row in table:  # across: a day's (and the TOTAL row's) totals within a cent a cell of its cells
        amounts = [shown_micro(cell) for cell in row[1:]]
        assert abs(amounts[-2] - sum(amounts[i - 1] for i in billed_columns)) <= 2 * 10**6, row
        assert abs(amounts[-1] - sum(amounts[i - 1] for i in usage_columns)) <= 2 * 10**6, row
    for column in range(1, len(headers)):
        assert shown_micro(table[-1][column]) == sum(shown_micro(row[column]) for row in table[:-1]), headers[column]
    assert table[-1][-2] == format_usd(round(float(summary["billed"]) * 10**8))
    assert table[-1][-1] == format_usd(round(float(summary["usage_value"]) * 10**8))
