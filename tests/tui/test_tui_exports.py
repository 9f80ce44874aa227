"""Exports from where people are: the home writes every integration's days (the columns of `grafient
report --format csv`), a detail the tab in view; the toast names the file, and in the demo says it
goes away on quit."""

from __future__ import annotations

import csv
import io
import stat
from datetime import timedelta

import httpx
from textual.widgets import TabbedContent

from grafient_tui.tui.routes import DEMO_NOTE
from grafient_tui.tui.screens.detail import CostDetailScreen
from tests.helpers import run_cli, settle, wait_for
from tests.tui.test_tui import NOW, SIZE, make_app, make_team, seeded

# the CLI reads the real clock: the same 30 days as the app, named
SPAN = ("--since", (NOW.date() - timedelta(days=29)).isoformat(), "--until", NOW.date().isoformat())


async def exported(app, pilot, grafient_home, before: set) -> tuple:
    await wait_for(pilot, lambda: set((grafient_home / "exports").glob("*.csv")) - before, "the CSV")
    await settle(app, pilot)
    [path] = set((grafient_home / "exports").glob("*.csv")) - before
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    [note] = [n for n in app.notes if path.name in n]
    return path, note


async def test_home_exports_every_integration_as_report_csv(grafient_home, capsys, monkeypatch) -> None:
    team, other = make_team(), make_team("key_" + "e5f6a7b8" * 8, seed=5)
    await seeded(team)
    await seeded(other, label="Beta")
    (grafient_home / "exports").mkdir(exist_ok=True)
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        await pilot.press("e")
        path, note = await exported(app, pilot, grafient_home, set())
        assert note.startswith("Exported every integration's 30 days as CSV to") and DEMO_NOTE not in note
    report = run_cli(capsys, monkeypatch, "report", *SPAN, "--format", "csv")
    assert path.read_text() == report.out  # the same rows and columns as the CLI's
    labels = {row["label"] for row in csv.DictReader(io.StringIO(path.read_text()))}
    assert labels == {"Acme", "Beta"}


async def test_a_detail_exports_the_tab_in_view_and_the_demo_says_it_goes(grafient_home, capsys, monkeypatch) -> None:
    team = make_team()
    await seeded(team)
    (grafient_home / "exports").mkdir(exist_ok=True)
    app = make_app(httpx.MockTransport(team.handler), remember_home=False)  # a throwaway home, as the demo's
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, CostDetailScreen)
        seen: dict = {}
        for key, by, words in (("3", "member", "members"), ("1", "model", "models"), ("2", "day", "days")):
            await pilot.press(key)
            await settle(app, pilot)
            assert app.screen.query_one(TabbedContent).active == f"{ {'day': 'daily'}.get(by, words) }-tab"
            await pilot.press("e")
            path, note = await exported(app, pilot, grafient_home, set(seen))
            seen[path] = by
            assert note.startswith(f"Exported 30 days of Acme's {words} as CSV to\n")
            assert note.endswith(f"{path.name}\n{DEMO_NOTE}")
    for path, by in seen.items():  # the CLI's, once the app has closed the store
        report = run_cli(capsys, monkeypatch, "report", "Acme", *SPAN, "--by", by, "--format", "csv")
        assert report.code == 0 and report.out.count("\n") > 1 and path.read_text() == report.out, by
