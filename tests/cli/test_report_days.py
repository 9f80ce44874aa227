"""`grafient report` over several integrations: one table per day (a column per integration and the
total); `--each` keeps a table per integration; one integration keeps its own table."""

from __future__ import annotations

import json
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
    assert lines[1].split() == ["DATE", "Acme", "Beta", "TOTAL"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:12]}
    assert len(rows) == 10 and sorted(rows) == sorted(acme)

    def usd(day: dict) -> str:
        return format_usd(round(day["cost_usd"] * 100_000_000)) if day["synced"] else "-"

    partial = 0
    for date, cells in rows.items():
        a, b = acme[date], beta[date]
        known = round(sum(d["cost_usd"] for d in (a, b) if d["synced"]) * 100_000_000)
        mark = [] if a["synced"] and b["synced"] else ["*"]  # a day not fetched: no $0, and the total says so
        partial += bool(mark)
        assert cells == [usd(a), usd(b), format_usd(known), *mark], date
    assert partial  # the days older than the plan keeps
    total_line = lines[12].split()
    assert total_line[0] == "TOTAL" and total_line[-1] == format_usd(round(data["summary"]["total_usd"] * 100_000_000))
    assert "- not synced; * a total without the integrations not synced that day" in result.out
    assert result.out.count("DATE") == 1  # one table, not one per integration

    each = run_cli(capsys, monkeypatch, "report", *SPAN, "--each").out
    assert each.count("DATE") == 2 and "Acme (cursor, id 1)" in each and "Beta (cursor, id 2)" in each
    single = run_cli(capsys, monkeypatch, "report", "Acme", *SPAN).out
    assert single.count("DATE") == 1 and single.startswith("Acme (cursor, id 1)")
