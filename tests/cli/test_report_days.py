"""`grafient report` over several integrations: one table per day (a column per integration and the
total); `--each` keeps a table per integration; one integration keeps its own table."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from grafient_tui.money import format_usd
from tests.helpers import run_cli
from tests.tui.test_tui import NOW, make_team, seeded

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
    assert cells(lines[1]) == [
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

    def usd(day: dict, key: str) -> str:
        return format_usd(round(day[key] * 100_000_000)) if day["synced"] else "-"

    partial = 0
    for date, row in rows.items():
        a, b = acme[date], beta[date]
        synced = [d for d in (a, b) if d["synced"]]
        mark = "" if len(synced) == 2 else " *"  # a day not fetched: no $0, and the total says so
        partial += bool(mark)
        billed = format_usd(round(sum(d["billed_usd"] for d in synced) * 100_000_000)) + mark
        usage = format_usd(round(sum(d["cost_usd"] for d in synced) * 100_000_000)) + mark
        if not synced:  # a day no integration has synced has no total: unknown, never $0
            billed = usage = "-"
        expected = [usd(a, "billed_usd"), usd(a, "cost_usd"), usd(b, "billed_usd"), usd(b, "cost_usd"), billed, usage]
        assert row == expected, date
    assert partial  # the days older than the plan keeps
    total = cells(lines[12])
    assert total[0] == "TOTAL" and total[-2] == format_usd(round(float(data["summary"]["billed"]) * 100_000_000))
    assert "- not synced or not reported yet; * a total without the integrations missing that day" in result.out
    assert result.out.count("DATE") == 1  # one table, not one per integration

    each = run_cli(capsys, monkeypatch, "report", *SPAN, "--each").out
    assert each.count("DATE") == 2 and "Acme (cursor, id 1)" in each and "Beta (cursor, id 2)" in each
    single = run_cli(capsys, monkeypatch, "report", "Acme", *SPAN).out
    assert single.count("DATE") == 1 and single.startswith("Acme (cursor, id 1)")
