"""One integration on the home screen: its figures for the period, its sync status, a cost chart."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from grafient_tui import providers
from grafient_tui.errors import GrafientError
from grafient_tui.estimates import BILLED, Basis
from grafient_tui.tui.shown import literal
from grafient_tui.tui.widgets.chart import ANOMALY_MARK, AnomalyMarks, ChartDay, CostChart
from grafient_tui.tui.widgets.chart_layout import kept
from grafient_tui.tui.widgets.fit import FitLine, Part
from grafient_tui.tui.widgets.gauge import BudgetGauges
from grafient_tui.tui.widgets.text import plural
from grafient_tui.untrusted import visible

if TYPE_CHECKING:
    from grafient_tui.figures import BudgetStatus, DayFigures, Summary


def chart_days(
    rows: tuple[DayFigures, ...] | list[DayFigures],
    history_from: date | None = None,
    anomaly_days: tuple[date, ...] | frozenset[date] = (),
) -> tuple[ChartDay, ...]:
    """The chart's days from the store's: a day never synced (or older than the provider's history)
    stays None, never $0; an anomaly day is marked."""
    marked = frozenset(anomaly_days)
    return tuple(
        ChartDay(r.cost_micro if kept(r, history_from) else None, r.synced and not r.complete, r.day in marked)
        for r in rows
    )


def anomaly_legend(anomaly_days: tuple[date, ...]) -> str:
    """` · ▲ 1 anomaly` beside the scale, when the chart marks any."""
    count = len(anomaly_days)
    return "" if not count else f" · {ANOMALY_MARK} {count} anomal{'y' if count == 1 else 'ies'}"


def history_note(history_from: date | None, since: date) -> str | None:
    """`history from 2026-06-02` when the provider's history starts inside the period."""
    return f"history from {history_from.isoformat()}" if history_from and history_from > since else None


def scale_line(rows: tuple[DayFigures, ...] | list[DayFigures], basis: Basis = BILLED) -> str:
    """The chart's scale and legend: `$0 – $52.31 (max, 2026-11-20) · dots: not synced` (`≈$52.31` for
    an estimate; no scale where the cost is unknown)."""
    synced = [r for r in rows if r.synced]
    if not synced:
        return "· not synced"
    if not basis.cost_known:
        return "cost unknown: the chart has nothing to draw"
    top = max(synced, key=lambda r: (r.cost_micro, r.day))
    # A day its provider has not reported yet (OpenRouter's today) is no gap: the dot says why.
    gaps = {r.gap or "never synced" for r in rows if not r.synced}
    # The chart's gap glyph is a dot: named in words, as "· ·" read as a doubled separator.
    legend = "" if not gaps else " · dots: not synced" if gaps - {"not reported yet"} else " · dots: not reported yet"
    return f"$0 – {basis.money(top.cost_micro)} (max, {top.day.isoformat()}){legend}"


def unsplit_note(provider: str, team_members: int | None) -> str | None:
    """`all as (all users): no seat list to split by` for a provider that splits by member but counted
    none (GitHub Copilot when the token cannot read the seat list, or nobody holds a seat): said once,
    on the card, rather than on every day of the detail."""
    if team_members != 0:  # first: most cards end here, without loading their provider
        return None
    try:
        whole = providers.get(provider).capabilities.whole_actor
    except GrafientError:
        return None
    return None if whole is None else f"all as {whole}: no seat list to split by"


@dataclass(frozen=True)
class CardView:
    """Everything a card shows, read from the store (and the App's live sync state)."""

    integration_id: int
    label: str
    provider: str
    key_hint: str
    period_days: int
    summary: Summary | None = None
    days: tuple[DayFigures, ...] = field(default=())
    status: str = "never synced"
    state: str = "never"  # never | syncing | ok | error
    error: str | None = None  # why it failed; while syncing, the retry under way ("retrying (2 of 6) · …")
    history_from: date | None = None
    budgets: tuple[BudgetStatus, ...] = ()  # the budgets on this integration, evaluated for today
    team_members: int | None = None  # as the provider last counted them (Copilot: the seat holders)
    basis: Basis = BILLED  # how its dollars were made: ≈ for an estimate, — when unknown
    anomaly_days: tuple[date, ...] = ()  # marked under the chart (grafient_tui.anomalies)

    @property
    def syncing(self) -> bool:
        return self.state == "syncing"


class RefreshIcon(Static):
    """The clickable ↻ on a card: does what `r` does for that card."""

    class Pressed(Message):
        def __init__(self, integration_id: int) -> None:
            super().__init__()
            self.integration_id = integration_id

    def __init__(self, integration_id: int) -> None:
        super().__init__("↻ sync", classes="refresh-icon")
        self.integration_id = integration_id
        self.tooltip = "Force a sync of this integration (r)"

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Pressed(self.integration_id))


class IntegrationCard(Widget, can_focus=True):
    """A focusable card; the focused card is the one `r`, `d` and `enter` act on."""

    def __init__(self, view: CardView) -> None:
        super().__init__(id=f"card-{view.integration_id}", classes="integration-card")
        self.view = view
        self._ready = False  # composed: show() can update the parts
        self._shown = False  # show() has drawn `view` at least once

    @property
    def integration_id(self) -> int:
        return self.view.integration_id

    def compose(self) -> ComposeResult:
        # Kept as attributes: show() runs for every card on every refresh, and a query per part
        # per card was a good part of what the first frame cost.
        self._cost, self._status = FitLine(classes="card-cost", drop=False), Static(classes="card-status")
        self._refresh = RefreshIcon(self.view.integration_id)
        self._chart = CostChart(classes="card-chart")
        self._marks = AnomalyMarks(classes="card-marks")
        self._scale, self._empty, self._error = (
            Static(classes="card-scale"),
            Static(classes="card-empty"),
            Static(classes="card-error"),
        )
        self._gauges = BudgetGauges(classes="card-budgets")
        with Horizontal(classes="card-figures"):
            yield self._cost
            yield self._status
            yield self._refresh
        yield self._gauges
        yield self._chart
        yield self._marks
        yield self._scale
        yield self._empty
        yield self._error

    def on_mount(self) -> None:
        self._ready = True
        self.show(self.view)

    def show(self, view: CardView) -> None:
        if view == self.view and self._shown:
            return  # the same figures: no work, no repaint (the first frame shows many cards)
        self.view = view
        if not self._ready:
            return  # not composed yet: on_mount shows the newest view
        self._shown = True
        # Labels and hints are literal text: Content(...) is never parsed as markup.
        self.border_title = Content(visible(view.label))
        self.border_subtitle = Content(f"{visible(providers.title(view.provider))} · {visible(view.key_hint)}")
        s = view.summary
        total = s.total_micro if s else 0  # None: no day of the period synced (shown `—`, never $0)
        requests = s.requests if s else 0
        notes = []  # what the period covers: the first to give way on a narrow card
        caveats = []  # what the figures mean: kept longer than the requests
        if s is not None and not s.fully_synced:
            caveats.append(f"{s.synced_days} of {s.days} days synced")
        elif s is not None:
            notes.append(f"{s.days} days")
        if s is not None:
            notes.extend(s.limits)  # "today not reported yet", "OpenRouter keeps 30 days"
        if s is not None and s.today_partial:
            caveats.append("today so far")
        if s is not None and (history := history_note(view.history_from, s.since)):
            caveats.append(history)
        if (unsplit := unsplit_note(view.provider, view.team_members)) is not None:
            caveats.append(unsplit)
        if view.basis.short_note:
            caveats.append(view.basis.short_note)
        money = view.basis.money
        # Parts of a line that wraps between them on a narrow card (widgets/fit.py): an amount is
        # never cut, and the status beside it keeps its width. Built from pieces, never from markup:
        # what comes from the store goes through the rule.
        parts = [Part(money(total), "bold")]
        if s is None or s.on_demand_micro is not None or (not s.known and s.split_labels):  # a plan covers part
            on_demand = s.on_demand_micro if s else 0  # the usage value, then the bill
            parts.append(Part(f" usage value · billed (on-demand) {money(on_demand)}", rank=2))
        else:  # a provider that bills everything per use: its cost is what it bills
            parts.append(Part(" billed", "dim", rank=2))
        if s is not None and s.byok_micro:
            parts.append(Part(f" · BYOK {money(s.byok_micro or 0)} (not incl.)", rank=3))
        parts.append(Part(" · requests —" if requests is None else f" · {plural(requests, 'request')}", rank=4))
        parts += [Part(f" · {visible(caveat)}", "dim", rank=3) for caveat in caveats]
        parts += [Part(f" · {visible(note)}", "dim", rank=5) for note in notes]
        self._cost.show(parts)
        self._status.update(literal(view.status))
        self._gauges.show(view.budgets)
        for state in ("never", "syncing", "ok", "error"):
            self.set_class(view.state == state, f"-{state}")
        self._chart.provider = view.provider
        self._chart.days = self._marks.days = chart_days(view.days, view.history_from, view.anomaly_days)
        self._scale.update(literal(scale_line(view.days, view.basis) + anomaly_legend(view.anomaly_days)))
        empty = self._empty
        synced_days = s.synced_days if s else 0
        has_usage = (total or 0) > 0 or bool(requests)
        self.set_class(not has_usage, "-no-usage")
        if view.syncing and not has_usage:
            empty.update("Fetching history… the chart fills in as days arrive.")
        elif synced_days == 0:
            empty.update(Content.from_markup("Nothing synced for this period yet: press [b]r[/b] to fetch it."))
        elif not has_usage:
            empty.update(
                Content.from_markup(
                    "No usage in the last $days days. Press [b]r[/b] to sync again.", days=f"{view.period_days:,}"
                )
            )
        error = self._error
        retrying = bool(view.error) and view.syncing
        error.update(
            Content(f"✗ {visible(view.error)}")
            if view.error and view.state == "error"
            else Content(visible(view.error or ""))
            if retrying
            else ""
        )
        self.set_class(retrying, "-retrying")
        self._refresh.set_class(view.syncing, "-disabled")
