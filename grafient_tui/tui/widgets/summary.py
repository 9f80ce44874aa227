"""The headline figures (billed, and the usage value beside it where a plan covers part; daily average, top
model, change) and the period selector.

Every figure says what it covers: the average names the complete days it divides by, the change
says why it is missing, and the period line says how much of it is synced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from grafient_tui.estimates import BILLED, Basis
from grafient_tui.tui.shown import literal
from grafient_tui.tui.widgets.fit import Part, fit_note, fit_parts, shorten
from grafient_tui.tui.widgets.text import UNKNOWN, change, change_class, period_words, plural
from grafient_tui.untrusted import visible

if TYPE_CHECKING:
    from grafient_tui.figures import Summary

PERIODS = (7, 30, 90)
# Short enough for 80 columns; the period they cover is on the line above them.
CAPTIONS = {
    ".figure-total": "Billed",
    ".figure-average": "Daily avg",
    ".figure-model": "Most expensive model",
    ".figure-change": "vs previous",
}


# One line each when the screen is short or narrow (SummaryBar.-compact): what gives way last.
SHORT_CAPTIONS = {
    "Total spend": "Total",
    "Daily avg": "Avg",
    "Estimated cost": "Est.",
    "Most expensive model": "Top",
    "vs previous": "vs prev",
}


class Figure(Static):
    """A caption over a value, and a dim line saying what the value covers; on one line in a short
    layout. Fitted to its width (widgets/fit.py): the amount is never cut, a model's name gives way
    to it, and a note wraps (or, on one line, loses its words that hold no amount)."""

    parts: tuple[str, str, str, str] = ("", "", "", "")

    def set_figure(self, caption: str, value: str, note: str = "", *, name: str = "") -> None:
        """`name`: what the value is of (a model), shown before it and shortened first."""
        self.parts = (visible(caption), visible(value), visible(note), visible(name))
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()

    @property
    def compact(self) -> bool:
        return self.parent is not None and self.parent.has_class("-compact")

    def redraw(self) -> None:
        caption, value, note, name = self.parts  # each through the rule in set_figure
        width = self.content_size.width or 1000  # before the first layout: refitted on resize
        if not self.compact:
            room = width - cell_len(value) - 1
            head = f"{shorten(name, room)} " if name and room >= 2 else ""
            line = visible(f"{head}{value}")
            self.update(Content.assemble((visible(caption), "dim"), "\n", (line, "bold"), "\n", (visible(note), "dim")))
            return
        # What gives way first: the long caption, then the note's words without an amount, then
        # the caption, then the name; the amount never.
        whole = f"{name} {value}" if name else value
        tail = f" · {note}" if note else ""
        for words in (caption, SHORT_CAPTIONS.get(caption, caption)):
            if cell_len(f"{words} {whole}{tail}") <= width:
                caption = words
                break
        else:
            caption = SHORT_CAPTIONS.get(caption, caption)
            if cell_len(f"{caption} {value}") + (4 if name else 0) > width:
                caption = ""
        used = cell_len(value) + (cell_len(caption) + 1 if caption else 0)
        head = shorten(name, width - used - 1) if name else ""
        used += cell_len(head) + 1 if head else 0
        tail = fit_note(note, width - used - 3) if note and width - used - 3 >= 4 else ""
        if tail.startswith("…") or cell_len(tail) > width - used - 3:
            tail = ""
        shown = [(visible(f"{caption} "), "dim")] if caption else []
        shown += [(visible(f"{head} " if head else ""), "bold"), (visible(value), "bold")]
        shown += [(visible(f" · {tail}"), "dim")] if tail else []
        self.update(Content.assemble(*shown))


def coverage_note(summary: Summary) -> str:
    """`31 of 90 days synced · OpenRouter keeps 30 days · today so far`: what the period's figures
    cover, when not everything (each integration judged against what it can have)."""
    parts = [summary.coverage_words()] if summary.coverage_words() else []
    if summary.today_partial:
        parts.append("today so far")
    return " · ".join(parts)


def total_note(summary: Summary, basis: Basis) -> str:
    """Beside the billed amount: the usage value where a plan or credits cover part of it, else what
    else there is to say (BYOK billed elsewhere, estimates, a cost that is unknown)."""
    money = basis.money
    if not summary.known:  # no day of the period synced: "Billed —", never $0.00
        return summary.unsynced_words() or ""
    billed = summary.billed
    if billed != summary.total_micro and basis.cost_known:  # both amounts, first (≈ marks an estimate)
        return f"usage value {money(summary.total_micro)}"
    if basis.total_note():  # a total over several integrations: which are estimates, which unknown
        return basis.total_note() or ""
    if not basis.cost_known:
        return "cost unknown: no list price for this plan"
    if summary.byok_micro:
        return f"+ BYOK {money(summary.byok_micro)} billed elsewhere"
    if basis.estimated:
        return "estimated from credits"
    return "= usage value"


def change_note(summary: Summary, plan_key: str = "P") -> str:
    """Why there is no change (naming the plan's key where the plan keeps too little), or what it
    leaves out (`OpenRouter left out: keeps 30 days`)."""
    note = summary.change_note or ""
    if summary.change_pct is not None and summary.left_out:  # short enough for the box: the tooltip says why
        count = len(summary.left_out)
        note = "without " + (summary.left_out[0] if count == 1 else f"{count} integrations")
    if summary.change_pct is None and summary.plan_limited:
        note += f" · {plan_key}: plan"
    if summary.change_pct is not None and not note and summary.today_partial:
        note = "finished days"
    return note


def plan_note_with_key(note: str, plan_key: str) -> str:
    """The home's plan note (overview.plan_note, worded with the default `P`) naming the key this
    keymap gives the plan instead."""
    return note.replace("P (or `grafient plan", f"{plan_key} (or `grafient plan") if plan_key != "P" else note


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
        self,
        summary: Summary | None,
        days: int,
        basis: Basis = BILLED,
        estimated_models: frozenset[str] | None = None,
        *,
        plan_key: str = "P",
    ) -> None:
        """None: still loading. `basis`: the total's (≈ when it includes an estimate, and which);
        `estimated_models`: over several integrations, the models whose dollars are estimates (None:
        the basis speaks for every model, as on one integration's detail); `plan_key`: the key that
        changes the plan, named where the plan keeps too little for the change."""
        money = basis.money
        figure = self.query_one
        change_figure = figure(".figure-change", Figure)
        change_figure.tooltip = literal(
            f"The finished days of the last {days:d} against the same days {days:d} days earlier; "
            "shown only when both are synced and final"
            + (f". {summary.change_note}" if summary is not None and summary.change_note else "")
        )
        if summary is None:
            for name, caption in CAPTIONS.items():
                figure(name, Figure).set_figure(caption, "…")
            return
        billed = summary.billed
        caption = basis.billed_words  # an estimate (ElevenLabs) is never called billed
        figure(".figure-total", Figure).tooltip = literal(
            (
                "Estimated cost: credits priced at the plan's list price; no invoice charges this amount"
                if caption != CAPTIONS[".figure-total"]
                else "Billed: what invoices charge for usage. Usage value: that plus what a plan or credits cover "
                f"({money(summary.total_micro)})"
            )
            + (f". {basis.total_note()}" if basis.total_note() else "")
        )
        figure(".figure-total", Figure).set_figure(caption, money(billed), total_note(summary, basis))
        average = figure(".figure-average", Figure)
        if summary.daily_average_micro is None:
            average.set_figure(CAPTIONS[".figure-average"], "n/a", "no complete day")
        else:
            # The average is of the usage value: said where it is not also the billed amount beside it
            basis_words = "usage value · " if summary.known and summary.billed != summary.total_micro else ""
            average.set_figure(
                CAPTIONS[".figure-average"],
                money(summary.daily_average_micro),
                basis_words + plural(summary.complete_days, "complete day"),
            )
        if summary.top_model:
            share = summary.top_model_micro * 100 / summary.total_micro if summary.total_micro else 0
            mixed = estimated_models is not None and summary.top_model not in estimated_models
            model_money = BILLED.money if mixed else money
            figure(".figure-model", Figure).set_figure(
                CAPTIONS[".figure-model"],
                model_money(summary.top_model_micro),
                f"{share:.1f}% of usage",
                name=summary.top_model,
            )
        else:
            figure(".figure-model", Figure).set_figure(CAPTIONS[".figure-model"], UNKNOWN)
        pct = summary.change_pct
        change_figure.set_figure(
            CAPTIONS[".figure-change"], "n/a" if pct is None else change(pct), change_note(summary, plan_key)
        )
        for name in ("-up", "-down", "-flat"):
            change_figure.set_class(change_class(pct) == name, name)


class PeriodSelector(Static):
    """`Period: 7 · [30] · 90 days`, then what the period covers; clicking it cycles like `p` does."""

    class Clicked(Message):
        pass

    _parts: tuple[Part, ...] = ()

    def show(self, days: int, note: str = "", plan: str = "", month: str | None = None) -> None:
        """`month` ("2026-11"): a calendar month is shown, named after the rolling choices. What does
        not fit the width goes whole, the plan first, then the note's last parts ("today so far" was
        cut to "today so" at 90 days): never a part cut mid-word."""
        parts: list[Part] = [Part("Period ", "dim")]
        for period in PERIODS:
            if period == days and not month:
                parts.append(Part(f"[{period} days]", "bold reverse"))
            else:
                parts.append(Part(f" {period} days ", "dim"))
            parts.append(Part(" "))
        if month:
            parts.append(Part(f"[{period_words(days, month)}]", "bold reverse"))
            parts.append(Part(" "))
        for i, said in enumerate(note.split(" · ") if note else []):
            parts.append(Part(f" {said}" if i == 0 else f" · {said}", "bold", rank=1 if i == 0 else 2))
        if plan:  # ours, not the provider's (P changes it)
            parts.append(Part(f"  Grafient plan {plan}", "dim", rank=3))
        self._parts = tuple(parts)
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        width = self.content_size.width or 10_000  # before the first layout: everything, refitted on resize
        shown = fit_parts(self._parts, width)
        self.update(Content.assemble(*[(visible(p.text), p.style) for p in shown]))

    def on_click(self) -> None:
        self.post_message(self.Clicked())
