"""Budget gauges: one line per budget, a compact bar and what it stands for.

    ✓ Monthly budget ██████░░░░ 62% of $500 · forecast $540 · day 12 of 30 · resets 2026-12-01

The mark carries the status (✓ ok, ▲ forecast over, ✗ over) and the colour repeats it, so nothing
rests on colour alone. Labels from the store are shown through `visible` as literal Content.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from grafient_tui.budgets.wording import bar, budget_title, gauge_text, target_words
from grafient_tui.tui.shown import literal
from grafient_tui.tui.widgets.fit import FitLine, Part
from grafient_tui.untrusted import visible

if TYPE_CHECKING:
    from grafient_tui.figures import BudgetStatus

MARKS = {"ok": "✓", "forecast_over": "▲", "over": "✗"}
GAUGE_WIDTH = 10
FORECAST_METHOD = (
    "Forecast: spend through yesterday + the average of the complete days among the 14 before today "
    "x the days left, today included; not ready with fewer than 7 complete days."
)


def gauge_title(status: BudgetStatus, *, with_target: bool = False) -> str:
    title = budget_title(status)
    if with_target:
        target = "All" if status.target_id is None else target_words(status)
        title = f"{target} · {title[0].lower()}{title[1:]}"
    return title


# The gauge's words by how long they stay on a narrow line (widgets/fit.py): the spend against the
# budget and the forecast are kept whole; the day of the period and the reset date go first.
TEXT_RANKS = (0, 1, 4, 5)


def gauge_parts(status: BudgetStatus, *, with_target: bool = False) -> list[Part]:
    """One budget's gauge as ranked parts: its title (a label from the store) and words through the rule."""
    words = gauge_text(status).split(" · ")
    parts = [
        Part(visible(f"{MARKS.get(status.status, '?')} "), "bold"),
        Part(visible(gauge_title(status, with_target=with_target)), "bold"),
        Part(" " + visible(bar(status.spent_micro / status.budget_micro, GAUGE_WIDTH)), rank=3),
    ]
    for i, word in enumerate(words):
        rank = TEXT_RANKS[i] if i < len(TEXT_RANKS) else 5
        parts.append(Part(("  " if i == 0 else " · ") + visible(word), rank=rank))
    return parts


class BudgetGauges(Vertical):
    """The gauges of some budgets (a card's, the summary's); hidden when there are none."""

    DEFAULT_CSS = """
    BudgetGauges {
        height: auto;
    }
    BudgetGauges.-inset {
        padding: 0 2;
    }
    BudgetGauges.-empty {
        display: none;
    }
    BudgetGauges .gauge {
        height: 1;
        text-wrap: nowrap;
    }
    BudgetGauges .gauge.-ok {
        color: $text-success;
    }
    BudgetGauges .gauge.-forecast_over {
        color: $text-warning;
    }
    BudgetGauges .gauge.-over {
        color: $text-error;
    }
    BudgetGauges .gauge-method {
        height: auto;
        color: $text-muted;
    }
    """

    def __init__(
        self,
        *,
        with_target: bool = False,
        explain: bool = False,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.with_target = with_target
        self.explain = explain  # a dim line under the gauges stating the forecast method
        self.statuses: tuple[BudgetStatus, ...] = ()
        self._rendered = False

    def compose(self) -> ComposeResult:
        if self.explain:
            yield Static(FORECAST_METHOD, classes="gauge-method")

    def on_mount(self) -> None:
        self.set_class(True, "-empty")
        if self.statuses:
            self._render_lines()

    def show(self, statuses: tuple[BudgetStatus, ...] | list[BudgetStatus]) -> None:
        statuses = tuple(statuses)
        if statuses == self.statuses and self._rendered:
            return  # the same figures: no work, no repaint (show runs for every card at every refresh)
        self.statuses = statuses
        if self.is_mounted and self.is_attached:  # detached while the app ends: nothing to draw
            self._render_lines()

    def _render_lines(self) -> None:
        lines = list(self.query(".gauge").results(FitLine))
        for extra in lines[len(self.statuses) :]:
            extra.remove()
        lines = lines[: len(self.statuses)]  # a budget removed: its line goes (the rest are kept)
        new = [FitLine(classes="gauge") for _ in range(len(self.statuses) - len(lines))]
        if new:
            method = list(self.query(".gauge-method"))
            self.mount(*new, before=method[0] if method else None)
        for line, status in zip([*lines, *new], self.statuses, strict=True):
            line.show(gauge_parts(status, with_target=self.with_target))
            for name in MARKS:
                line.set_class(status.status == name, f"-{name}")
            line.tooltip = literal(
                (
                    FORECAST_METHOD
                    if status.forecast.micro is not None
                    else f"Forecast not ready: {status.forecast.note}. {FORECAST_METHOD}"
                )
                + (f" The spend {status.note}." if status.note else "")
            )
        self.set_class(not self.statuses, "-empty")
        self._rendered = True
