"""Which layout a screen takes at its size: the full one, or the compact one of short or narrow
terminals (80x24 is README's minimum and macOS Terminal's default), where the tables and every
figure keep their room and the charts fold behind `g`. The styles are in grafient.tcss (`.-compact`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.geometry import Size
    from textual.screen import Screen

FULL_WIDTH = 100  # tiles side by side hold their amounts and notes from here
FULL_HEIGHT = 32  # the detail's charts and gauges leave a table of 8 rows from here


def compact(size: Size) -> bool:
    return size.width < FULL_WIDTH or size.height < FULL_HEIGHT


def fit_layout(screen: Screen[Any]) -> None:
    """Set the screen's layout for the app's size; its tiles follow (widgets/summary.py)."""
    small = compact(screen.app.size)
    if small == screen.has_class("-compact"):
        return
    screen.set_class(small, "-compact")
    from grafient_tui.tui.widgets.summary import Figure, SummaryBar

    for bar in screen.query(SummaryBar):
        bar.set_class(small, "-compact")
        for figure in bar.query(Figure):
            figure.redraw()


def toggle_chart(screen: Screen[Any]) -> None:
    """`g`: show the charts a compact layout folds, or hide them in a full one."""
    screen.toggle_class("-chart-toggled")
