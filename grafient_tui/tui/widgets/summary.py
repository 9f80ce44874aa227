"""The headline figures (total and on-demand, daily average, top model, change) and the period selector.

Every figure says what it covers: the average names the complete days it divides by, the change
says why it is missing, and the period line says how much of it is synced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from grafient_tui.estimates import BILLED, Basis
from grafient_tui.tui.widgets.text import change, change_class, plural
from grafient_tui.untrusted import visible

if TYPE_CHECKING:
    from grafient_tui.figures import Summary

PERIODS = (7, 30, 90)
# Short enough for 80 columns; the period they cover is on the line above them.
CAPTIONS = {
    ".figure-total": "Total spend",
    ".figure-average": "Daily avg",
    ".figure-model": "Most expensive model",
    ".figure-change": "vs previous",
}


class Figure(Static):
    """A caption over a value, and a dim line saying what the value covers."""

    def set_figure(self, caption: str, value: str, note: str = "") -> None:
        self.update(
            Content.assemble((visible(caption), "dim"), "\n", (visible(value), "bold"), "\n", (visible(note), "dim"))
        )


def coverage_note(summary: Summary) -> str:
    """`31 of 90 days synced · today so far`: what the period's figures cover, when not everything."""
    parts = []
    if not summary.fully_synced:
        parts.append(f"{summary.synced_days} of {summary.days} days synced")
    if summary.today_partial:
        parts.append("today so far")
    return " · ".join(parts)


class SummaryBar(Horizontal):
    """Total spend (and on-demand), daily average, most expensive model, and the change."""

    def compose(self) -> ComposeResult:
        yield Figure(classes="figure-total")
        yield Figure(classes="figure-average")
        yield Figure(classes="figure-model")
        yield Figure(classes="figure-change")

    def on_mount(self) -> None:
        self.show(None, 30)

    def show(
        self, summary: Summary | None, days: int, basis: Basis = BILLED, estimated_models: frozenset[str] | None = None
    ) -> None:
        """None: still loading. `basis`: the total's (≈ when it includes an estimate, and which);
        `estimated_models`: over several integrations, the models whose dollars are estimates (None:
        the basis speaks for every model, as on one integration's detail)."""
        money = basis.money
        figure = self.query_one
        change_figure = figure(".figure-change", Figure)
        change_figure.tooltip = (
            f"The finished days of the last {days:d} against the same days {days:d} days earlier; "
            "shown only when both are synced and final"
        )
        if summary is None:
            for name, caption in CAPTIONS.items():
                figure(name, Figure).set_figure(caption, "…")
            return
        byok = summary.byok_micro
        if summary.on_demand_micro is not None:
            note = f"on-demand {money(summary.on_demand_micro)}"
        elif byok:
            note = f"+ BYOK {money(byok)} billed elsewhere"
        else:
            note = "billed per use"
        if basis.total_note():  # a total over several integrations: which are estimates, which unknown
            note = basis.total_note() or note
        elif not basis.cost_known:
            note = "cost unknown: no list price for this plan"
        elif basis.estimated:
            note = "estimated from credits"
        figure(".figure-total", Figure).set_figure(CAPTIONS[".figure-total"], money(summary.total_micro), note)
        average = figure(".figure-average", Figure)
        if summary.daily_average_micro is None:
            average.set_figure(CAPTIONS[".figure-average"], "n/a", "no complete day")
        else:
            average.set_figure(
                CAPTIONS[".figure-average"],
                money(summary.daily_average_micro),
                plural(summary.complete_days, "complete day"),
            )
        if summary.top_model:
            share = summary.top_model_micro * 100 / summary.total_micro if summary.total_micro else 0
            mixed = estimated_models is not None and summary.top_model not in estimated_models
            model_money = BILLED.money if mixed else money
            figure(".figure-model", Figure).set_figure(
                CAPTIONS[".figure-model"],
                f"{visible(summary.top_model)} {model_money(summary.top_model_micro)}",
                f"{share:.1f}% of spend",
            )
        else:
            figure(".figure-model", Figure).set_figure(CAPTIONS[".figure-model"], "–")
        pct = summary.change_pct
        if pct is None:
            change_figure.set_figure(CAPTIONS[".figure-change"], "n/a", summary.change_note or "")
        else:
            change_figure.set_figure(
                CAPTIONS[".figure-change"], change(pct), "finished days" if summary.today_partial else ""
            )
        for name in ("-up", "-down", "-flat"):
            change_figure.set_class(change_class(pct) == name, name)


class PeriodSelector(Static):
    """`Period: 7 · [30] · 90 days`, then what the period covers; clicking it cycles like `p` does."""

    class Clicked(Message):
        pass

    def show(self, days: int, note: str = "", plan: str = "") -> None:
        parts: list[str | tuple[str, str]] = [("Period ", "dim")]
        for period in PERIODS:
            if period == days:
                parts.append((f"[{period} days]", "bold reverse"))
            else:
                parts.append((f" {period} days ", "dim"))
            parts.append(" ")
        if note:
            parts.append((f" {note}", "bold"))
        if plan:
            parts.append((f"  Grafient plan {plan}", "dim"))  # ours, not the provider's (P changes it)
        self.update(Content.assemble(*parts))

    def on_click(self) -> None:
        self.post_message(self.Clicked())
