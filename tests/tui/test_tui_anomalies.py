"""Anomalies in the app: the card's chart and the detail's mark the anomaly day (a ▲ row under the
bars, readable without colour), and the detail's Anomalies tab lists it with its drivers. The store is
written through the sync engine's writer (tests/cli/test_anomalies.py's five weeks: Lab's Monday
spike, all from the ws-research workspace on claude-opus)."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Static, TabbedContent
from textual.widgets._footer import FooterKey

from grafient_tui.config import Settings
from grafient_tui.store.db import Database
from grafient_tui.store.vault import Vault
from grafient_tui.tui.app import GrafientApp
from grafient_tui.tui.widgets.card import IntegrationCard
from grafient_tui.tui.widgets.chart import AnomalyMarks
from tests.cli.test_anomalies import NOW, SPIKE, five_weeks
from tests.helpers import settle


class NoSync(GrafientApp):
    def start_sync(self, integration_id: int, trigger: str) -> bool:  # the stored figures only
        return False


def seed() -> None:
    settings = Settings.from_env()
    settings.ensure_dirs()
    db, vault = Database(settings), Vault(settings)
    five_weeks((db, vault))
    db.dispose()


def marked_columns(marks: AnomalyMarks) -> list[int]:
    return [i for i, char in enumerate(marks.text()) if char == "▲"]


def the_spike_column(width: int, column: int) -> bool:
    """The 30-day period ends today (index 29); the spike is the day before (index 28)."""
    first, last = 28 * width // 30, (29 * width) // 30
    return first - 1 <= column <= last


async def test_the_detail_lists_the_anomaly_with_its_drivers_and_the_charts_mark_it(grafient_home) -> None:
    seed()
    app = NoSync(Settings.from_env(), now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        cards = {card.view.label: card for card in app.screen.query(IntegrationCard)}
        lab, eng = cards["Lab"], cards["Eng"]
        assert lab.view.anomaly_days == (SPIKE,) and eng.view.anomaly_days == ()
        lab_marks, eng_marks = lab.query_one(AnomalyMarks), eng.query_one(AnomalyMarks)
        assert not lab_marks.has_class("-none") and eng_marks.has_class("-none")
        assert lab_marks.region.height == 1 and lab_marks.size.width > 30
        columns = marked_columns(lab_marks)
        assert columns and all(the_spike_column(lab_marks.size.width, c) for c in columns), columns
        assert "▲ 1 anomaly" in str(lab.query_one(".card-scale").render())

        lab.focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen.id == "detail"
        marks = app.screen.query_one("#detail-marks", AnomalyMarks)
        assert marks.display and marks.region.height == 1
        columns = marked_columns(marks)
        assert columns and all(the_spike_column(marks.size.width, c) for c in columns), columns

        await pilot.press("4")
        await settle(app, pilot)
        assert app.screen.query_one(TabbedContent).active == "anomalies-tab"
        table = app.screen.query_one("#anomalies", DataTable)
        assert app.focused is table
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        tab = app.screen.query_one(TabbedContent).get_tab("anomalies-tab")
        assert str(tab.label) == "Anomalies ▲ 1"
    assert rows == [
        ["▲ 2026-11-23", "$400.00", "$100.00", "x4.00", "member: ws-research", "+$300.00", "100%"],
        ["", "", "", "", "model: claude-opus", "+$300.00", "100%"],
    ]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_a_period_without_anomalies_says_so_in_full(grafient_home, size) -> None:
    """The sentence wraps above the (empty) table: in a cell it was cut at the width ("(t", "bille")."""
    seed()
    app = NoSync(Settings.from_env(), now=lambda: NOW)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        eng = next(card for card in app.screen.query(IntegrationCard) if card.view.label == "Eng")
        eng.focus()
        await pilot.press("enter", "4")
        await settle(app, pilot)
        table = app.screen.query_one("#anomalies", DataTable)
        note = app.screen.query_one("#anomalies-note", Static)
        said = str(note.render())
        assert app.screen.query_one("#detail-marks", AnomalyMarks).has_class("-none")
        drawn = [strip.text.strip() for strip in note.render_lines(note.content_region.reset_offset)]
        painted = " ".join(line for line in drawn if line)
        footer = [f"{key.key_display} {key.description}" for key in app.screen.query(FooterKey)]
        # the footer names the tab key beside 1-3, or all four as one when narrow
        assert "4 Anomalies" in footer or "1-4 Tabs" in footer, footer
    assert table.row_count == 0
    assert said.startswith("No anomalies this period") and said.endswith("by the ratio and the amount.")
    assert "the ratio and the amount." in painted, painted
