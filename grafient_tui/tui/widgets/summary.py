"""The headline figures (total, daily average, top model, change) and the period selector."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from grafient_tui.tui.widgets.text import change, change_class, money

if TYPE_CHECKING:
    from grafient_tui.store.queries import Summary

PERIODS = (7, 30, 90)
# Short enough for 80 columns; the period they cover is on the line above them.
CAPTIONS = {
    ".figure-total": "Total spend",
    ".figure-average": "Daily avg",
    ".figure-model": "Most expensive model",
    ".figure-change": "vs previous",
}


class Figure(Static):
    """A caption over a value."""

    def set_figure(self, caption: str, value: str) -> None:
        self.update(Content.from_markup("[dim]$caption[/dim]\n[b]$value[/b]", caption=caption, value=value))


class SummaryBar(Horizontal):
    """Total spend, daily average, most expensive model, and the change against the previous period."""

    def compose(self) -> ComposeResult:
        yield Figure(classes="figure-total")
        yield Figure(classes="figure-average")
        yield Figure(classes="figure-model")
        yield Figure(classes="figure-change")

    def on_mount(self) -> None:
        self.show(None, 30)

    def show(self, summary: Summary | None, days: int) -> None:
        """None: still loading. The change figure's tooltip names the period it compares."""
        figure = self.query_one
        figure(".figure-change", Figure).tooltip = f"Spend in the last {days} days against the {days} days before"
        if summary is None:
            for name, caption in CAPTIONS.items():
                figure(name, Figure).set_figure(caption, "…")
            return
        figure(".figure-total", Figure).set_figure(CAPTIONS[".figure-total"], money(summary.total_micro))
        figure(".figure-average", Figure).set_figure(CAPTIONS[".figure-average"], money(summary.daily_average_micro))
        top = summary.top_model or "–"
        if summary.top_model:
            top = f"{summary.top_model} {money(summary.top_model_micro)}"
        figure(".figure-model", Figure).set_figure(CAPTIONS[".figure-model"], top)
        pct = summary.change_pct
        change_figure = figure(".figure-change", Figure)
        change_figure.set_figure(CAPTIONS[".figure-change"], change(pct))
        for name in ("-up", "-down", "-flat"):
            change_figure.set_class(change_class(pct) == name, name)


class PeriodSelector(Static):
    """`Period: 7 · [30] · 90 days`; clicking it cycles like `p` does."""

    class Clicked(Message):
        pass

    def show(self, days: int) -> None:
        parts: list[str | tuple[str, str]] = [("Period ", "dim")]
        for period in PERIODS:
            if period == days:
                parts.append((f"[{period} days]", "bold reverse"))
            else:
                parts.append((f" {period} days ", "dim"))
            parts.append(" ")
        self.update(Content.assemble(*parts))

    def on_click(self) -> None:
        self.post_message(self.Clicked())
