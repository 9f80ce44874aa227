"""A new user's trial at 80x24 and 120x40: unknown reads `—` everywhere, the same fact in the same
words, and figures are never cut (names give way)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from textual.app import App, ComposeResult

from grafient_tui.figures import DayFigures
from grafient_tui.tui.widgets.chart import StackLegend
from tests.tui.test_tui_providers import provider_figures

SIZES = [(80, 24), (120, 40)]


def nothing_synced(provider: str):
    figures = provider_figures(provider, 0)
    days = tuple(DayFigures(day=d.day, synced=False, complete=False) for d in figures.days)
    summary = replace(figures.summary, synced_days=0, complete_days=0, total_micro=None, daily_average_micro=None)
    return replace(figures, days=days, summary=summary, label=f"{provider} none")


@pytest.mark.parametrize("size", SIZES)
async def test_the_legend_says_unknown_for_a_provider_with_no_day_synced(size) -> None:
    class Legend(App[None]):
        def compose(self) -> ComposeResult:
            yield StackLegend(id="legend")

    app = Legend()
    async with app.run_test(size=size) as pilot:
        app.query_one(StackLegend).show_stack([nothing_synced("cursor"), provider_figures("anthropic", 250_000_000)])
        await pilot.pause()
        shown = str(app.query_one(StackLegend).render())
        assert "Cursor —" in shown and "$0.00" not in shown, shown
        assert "Anthropic $2.50" in shown, shown


NATURAL = {
    "model": 28,
    "usage": 13,
    "billed": 9,
    "share": 7,
    "requests": 10,
    "input": 11,
    "output": 12,
    "providers": 30,
    "names": 60,
}


@pytest.mark.parametrize("width", [78, 80, 100, 118, 160, 240])
def test_the_models_columns_fit_and_a_figure_is_never_cut(width) -> None:
    """Every figure column shown at its full width or left out whole; the names give way first."""
    from grafient_tui.tui.screens.models import COLUMNS, MODEL_MIN, NAME_COLUMNS, fit_columns

    widths = fit_columns(NATURAL, width)
    assert sum(w + 2 for w in widths.values()) <= width
    assert list(widths) == [key for key in COLUMNS if key in widths]  # the table's order
    for key, w in widths.items():
        if key not in NAME_COLUMNS:
            assert w == NATURAL[key], key
    assert {"model", "usage", "billed", "requests"} <= set(widths)
    assert widths["model"] >= MODEL_MIN
    if "output" not in widths:  # a figure goes only when the key is down to its least
        assert sum(w + 2 for k, w in widths.items() if k != "model") + MODEL_MIN + 2 + NATURAL["output"] + 2 > width
    if width >= 118:
        assert set(widths) >= set(COLUMNS) - {"names"}
    if width >= 240:
        assert widths == NATURAL


@pytest.mark.parametrize("size", SIZES)
async def test_the_period_line_leaves_out_whole_parts_never_cuts_one(size) -> None:
    from rich.cells import cell_len

    from grafient_tui.tui.widgets.summary import PeriodSelector

    class Line(App[None]):
        def compose(self) -> ComposeResult:
            yield PeriodSelector(id="period")

    note = "31 of 90 days synced · Acme Prototypes: today not reported yet · today so far"
    app = Line()
    async with app.run_test(size=size) as pilot:
        line = app.query_one(PeriodSelector)
        line.show(90, note, "pro")
        await pilot.pause()
        shown = str(line.render())
        assert cell_len(shown) <= line.content_size.width, shown
        assert "[90 days]" in shown and "31 of 90 days synced" in shown
        for part in ("Acme Prototypes: today not reported yet", "today so far", "Grafient plan pro"):
            words = part.split()
            assert part in shown or words[0] not in shown.split("synced", 1)[1], shown  # whole or not at all
        assert "today so" not in shown or "today so far" in shown
