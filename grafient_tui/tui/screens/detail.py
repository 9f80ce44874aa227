"""Cost detail of one integration: summary, a wide Sparkline, daily, model and member tables."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Sparkline, Static, TabbedContent, TabPane

from grafient_tui.tui.widgets.summary import PeriodSelector, SummaryBar
from grafient_tui.tui.widgets.text import count, money, share, tokens

if TYPE_CHECKING:
    from grafient_tui.store.queries import DayRow, MemberRow, ModelRow
    from grafient_tui.tui.app import GrafientApp

# Sort keys for the model table: column key -> (row key, biggest first?)
MODEL_SORTS: dict[str, tuple[str, bool]] = {
    "cost": ("cost_micro", True),
    "share": ("cost_micro", True),
    "requests": ("requests", True),
    "tokens": ("tokens", True),
    "model": ("model", False),
}
MODEL_COLUMNS = {"model": "Model", "cost": "Cost", "share": "Share", "requests": "Requests", "tokens": "Tokens"}
SORT_CYCLE = ("cost", "requests", "tokens", "model")


def right(text: str) -> Text:
    """A right-aligned cell: figures line up on their last digit."""
    return Text(text, justify="right")


def _tokens(row: ModelRow) -> int:
    return row.input_tokens + row.output_tokens + row.cache_read_tokens + row.cache_write_tokens


class CostDetailScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("r", "force_sync", "Sync", id="force_sync", tooltip="Force a sync of this integration"),
        Binding("p", "cycle_period", "Period", id="period", tooltip="Switch the period: 7, 30 or 90 days"),
        Binding("e", "export", "Export CSV", id="export", tooltip="Write the period's daily costs to a CSV file"),
        Binding("s", "sort_models", "Sort models", id="sort_models", tooltip="Sort the model table by another column"),
    ]

    def __init__(self, integration_id: int) -> None:
        super().__init__(id="detail")
        self.integration_id = integration_id
        self.models: list[ModelRow] = []
        self.model_sort = "cost"
        self.model_sort_reverse = False
        self._resumed = False

    @property
    def grafient(self) -> GrafientApp:
        return cast("GrafientApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="detail-header")
        yield PeriodSelector(id="period")
        yield SummaryBar(id="summary")
        yield Sparkline([], id="detail-sparkline")
        yield Static(id="sparkline-axis")
        with TabbedContent(initial="models-tab", id="detail-tabs"):
            with TabPane("Models", id="models-tab"):
                yield DataTable(id="models", cursor_type="row", zebra_stripes=True)
            with TabPane("Daily", id="daily-tab"):
                yield DataTable(id="daily", cursor_type="row", zebra_stripes=True)
            with TabPane("Members", id="members-tab"):
                yield DataTable(id="members", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        models = self.query_one("#models", DataTable)
        for key, name in MODEL_COLUMNS.items():
            models.add_column(Text(f"{name}  ", justify="left" if key == "model" else "right"), key=key)
        daily = self.query_one("#daily", DataTable)
        for label, key in (("Date", "date"), ("Cost", "cost"), ("Requests", "requests"), ("Top model", "model"),
                           ("", "note")):
            daily.add_column(Text(label, justify="right" if key in ("cost", "requests") else "left"), key=key)
        members = self.query_one("#members", DataTable)
        for label, key in (("Member", "email"), ("Cost", "cost"), ("Share", "share"), ("Requests", "requests")):
            members.add_column(Text(label, justify="left" if key == "email" else "right"), key=key)
        self.reload()
        models.focus()

    def on_screen_resume(self) -> None:
        if self._resumed:  # the first resume is the first show: on_mount has just read the store
            self.reload()
        self._resumed = True

    # -- reading the store -----------------------------------------------------

    def reload(self) -> None:
        from grafient_tui.errors import GrafientError

        try:
            self._reload()
        except GrafientError as exc:  # the store is busy or broken: say so, keep what is on screen
            self.notify(exc.sentence, title="Cannot read the local store", severity="error", markup=False)

    def _reload(self) -> None:
        from grafient_tui.errors import NotFound
        from grafient_tui.store.integrations import find_integration
        from grafient_tui.store.queries import daily_costs, member_breakdown, model_breakdown, period_summary

        app = self.grafient
        try:
            integration = find_integration(app.db, self.integration_id)
        except NotFound:
            self.app.pop_screen()
            return
        days, today = app.period, app.today()
        since = today - timedelta(days=days - 1)
        state, line, error = app.sync_line(self.integration_id)
        self.sub_title = f"{integration.label} · last {days} days"
        header = Content.assemble(
            (integration.label, "bold"), "  ",
            ("provider ", "dim"), integration.provider, "  ",
            ("plan ", "dim"), app.settings.plan(), "  ",
            ("key ", "dim"), integration.key_hint, "  ",
            ("members ", "dim"), str(integration.team_members) if integration.team_members else "–",
            "\n", ("Last sync: ", "dim"), line,
        )
        if error and state == "error":
            header = Content.assemble(header, "\n", ("✗ ", "bold"), error)
        widget = self.query_one("#detail-header", Static)
        widget.update(header)
        for name in ("never", "syncing", "ok", "error"):
            widget.set_class(state == name, f"-{name}")
        self.query_one(PeriodSelector).show(days)
        self.query_one(SummaryBar).show(period_summary(app.db, self.integration_id, days=days, until=today), days)
        rows = daily_costs(app.db, self.integration_id, since, today)
        self.query_one("#detail-sparkline", Sparkline).data = [r.cost_micro / 100_000_000 for r in rows]
        self.query_one("#sparkline-axis", Static).update(
            Content.from_markup("[dim]$since[/dim]", since=since.isoformat())
            if days <= 7
            else Content.from_markup("[dim]$since … $until (daily cost, UTC days)[/dim]",
                                     since=since.isoformat(), until=today.isoformat())
        )
        self.days = rows
        self._fill_daily(rows)
        self.models = model_breakdown(app.db, self.integration_id, since, today)
        self._fill_models()
        self._fill_members(member_breakdown(app.db, self.integration_id, since, today))
        self.refresh_bindings()

    def _fill_daily(self, rows: list[DayRow]) -> None:
        table = self.query_one("#daily", DataTable)
        cursor = table.cursor_row
        table.clear()
        for row in reversed(rows):  # newest first
            if not row.synced:
                table.add_row(row.day.isoformat(), right("–"), right("–"), "–", "never synced",
                              key=row.day.isoformat())
                continue
            note = "" if row.complete else "day not over"
            table.add_row(row.day.isoformat(), right(money(row.cost_micro)), right(count(row.requests)),
                          row.top_model or "–", note, key=row.day.isoformat())
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1))

    def _fill_models(self) -> None:
        table = self.query_one("#models", DataTable)
        cursor = table.cursor_row
        attribute, biggest_first = MODEL_SORTS[self.model_sort]
        descending = biggest_first != self.model_sort_reverse
        # The sorted column carries an arrow; every label keeps a cell for one so widths never jump.
        for key, column in table.columns.items():
            name = MODEL_COLUMNS[str(key.value)]
            label = f"{name} {'▼' if descending else '▲'}" if key.value == self.model_sort else f"{name}  "
            column.label = Text(label, justify="left" if key.value == "model" else "right")
        table.clear()
        total = sum(r.cost_micro for r in self.models)

        def sort_key(row: ModelRow) -> object:
            return _tokens(row) if attribute == "tokens" else getattr(row, attribute)

        ordered = sorted(self.models, key=sort_key, reverse=descending)
        for row in ordered:
            table.add_row(row.model, right(money(row.cost_micro)), right(share(row.cost_micro, total)),
                          right(count(row.requests)), right(tokens(_tokens(row))), key=row.model)
        if ordered:
            table.move_cursor(row=min(cursor, len(ordered) - 1))

    def _fill_members(self, rows: list[MemberRow]) -> None:
        table = self.query_one("#members", DataTable)
        table.clear()
        total = sum(r.cost_micro for r in rows)
        for row in rows:
            table.add_row(row.email, right(money(row.cost_micro)), right(share(row.cost_micro, total)),
                          right(count(row.requests)), key=row.email)

    def sync_changed(self, integration_id: int) -> None:
        if integration_id == self.integration_id and self.is_mounted:
            self.reload()

    def period_changed(self) -> None:
        self.reload()

    # -- actions ------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "force_sync" and self.grafient.is_syncing(self.integration_id):
            return None
        return True

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_force_sync(self) -> None:
        self.grafient.start_sync(self.integration_id, "force")

    def action_cycle_period(self) -> None:
        self.grafient.cycle_period()

    @on(PeriodSelector.Clicked)
    def _period_clicked(self) -> None:
        self.grafient.cycle_period()

    def action_sort_models(self) -> None:
        index = SORT_CYCLE.index(self.model_sort) if self.model_sort in SORT_CYCLE else -1
        self.model_sort = SORT_CYCLE[(index + 1) % len(SORT_CYCLE)]
        self.model_sort_reverse = False
        self.query_one(TabbedContent).active = "models-tab"
        self._fill_models()

    @on(DataTable.HeaderSelected, "#models")
    def _model_header(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        if key == self.model_sort:
            self.model_sort_reverse = not self.model_sort_reverse
        else:
            self.model_sort, self.model_sort_reverse = key, False
        self._fill_models()

    def action_export(self) -> None:
        path = self.grafient.export_csv(self.integration_id)
        if path is not None:
            self.notify(f"Exported {self.grafient.period} days to {path}", title="CSV written", markup=False)
