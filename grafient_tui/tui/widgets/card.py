"""One integration on the home screen: its figures for the period, its sync status, a Sparkline."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from grafient_tui.tui.widgets.text import money, plural


@dataclass(frozen=True)
class CardView:
    """Everything a card shows, read from the store (and the App's live sync state)."""

    integration_id: int
    label: str
    provider: str
    key_hint: str
    period_days: int
    costs: tuple[float, ...] = ()  # one per UTC day of the period, dollars (shape only)
    total_micro: int = 0
    requests: int = 0
    synced_days: int = 0
    status: str = "never synced"
    state: str = "never"  # never | syncing | ok | error
    error: str | None = None

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

    def on_click(self, event) -> None:  # noqa: ANN001
        event.stop()
        self.post_message(self.Pressed(self.integration_id))


class IntegrationCard(Widget, can_focus=True):
    """A focusable card; the focused card is the one `r`, `d` and `enter` act on."""

    def __init__(self, view: CardView) -> None:
        super().__init__(id=f"card-{view.integration_id}", classes="integration-card")
        self.view = view

    @property
    def integration_id(self) -> int:
        return self.view.integration_id

    def compose(self) -> ComposeResult:
        with Horizontal(classes="card-figures"):
            yield Static(classes="card-cost")
            yield Static(classes="card-status")
            yield RefreshIcon(self.view.integration_id)
        yield Sparkline([], classes="card-sparkline")
        yield Static(classes="card-empty")
        yield Static(classes="card-error")

    def on_mount(self) -> None:
        self._ready = True
        self.show(self.view)

    def show(self, view: CardView) -> None:
        self.view = view
        if not getattr(self, "_ready", False):
            return  # not composed yet: on_mount shows the newest view
        self.border_title = Content(view.label)
        self.border_subtitle = Content(f"{view.provider} · {view.key_hint}")
        self.query_one(".card-cost", Static).update(
            Content.from_markup(
                "[b]$cost[/b] [dim]·[/dim] $requests [dim]· $days days[/dim]",
                cost=money(view.total_micro), requests=plural(view.requests, "request"), days=view.period_days,
            )
        )
        self.query_one(".card-status", Static).update(Content(view.status))
        for state in ("never", "syncing", "ok", "error"):
            self.set_class(view.state == state, f"-{state}")
        # A new list each time: the Sparkline redraws when its data is replaced.
        self.query_one(Sparkline).data = list(view.costs)
        empty = self.query_one(".card-empty", Static)
        has_usage = view.total_micro > 0 or view.requests > 0
        self.set_class(not has_usage, "-no-usage")
        if view.syncing and not has_usage:
            empty.update("Fetching history… the sparkline fills in as days arrive.")
        elif view.synced_days == 0:
            empty.update(Content.from_markup("Nothing synced for this period yet: press [b]r[/b] to fetch it."))
        elif not has_usage:
            empty.update(Content.from_markup(
                "No usage in the last $days days. Press [b]r[/b] to sync again.", days=view.period_days
            ))
        error = self.query_one(".card-error", Static)
        error.update(Content(f"✗ {view.error}") if view.error and view.state == "error" else "")
        self.query_one(RefreshIcon).set_class(view.syncing, "-disabled")
