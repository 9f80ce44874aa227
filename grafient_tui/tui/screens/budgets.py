"""Budgets in the app: list, set, edit and remove them, as `grafient budget` does.

The rules and the sentences are the CLI's (the service checks every change; budgets/wording.py
words it). The screen reads the budgets as `grafient check` evaluates them and asks for changes
with intents (messages.py) that the App does through the service (tui/routes.py); a viewer's keys
are greyed and the screen says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from rich.cells import cell_len
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Header, Input, Label, Select, Static

from grafient_tui.budgets.wording import (
    STATUS_MARKS,
    amount,
    check_line,
    percent,
    period_words,
    rough,
    spent,
    target_words,
)
from grafient_tui.tui.commands import bindings
from grafient_tui.tui.messages import (
    BudgetRemoveRequested,
    BudgetsChanged,
    BudgetSetRequested,
    LiveState,
    News,
)
from grafient_tui.tui.screens.reading import StoreReader
from grafient_tui.tui.shown import literal, literal_cell
from grafient_tui.tui.widgets.fit import shorten
from grafient_tui.tui.widgets.footer import KeysFooter

if TYPE_CHECKING:
    from grafient_tui.figures import BudgetStatus
    from grafient_tui.tui.reads import BudgetList, TargetChoice

NONE_YET = "No budgets yet. Press n to set one (the CLI: grafient budget set all 500)."
ABOUT = (
    "A budget is on one integration or on all together, per UTC calendar month or per billing cycle, on the "
    "usage value, the billed amount or on-demand cost; the app rings at 50%, 80%, 100% and when the forecast "
    "passes it. The same budgets as `grafient budget` and `grafient check`."
)
# What a budget measures, as `grafient budget set --on billed|usage` and `--on-demand` choose it.
MEASURES = (
    ("Usage value: billed plus what a plan or credit covers", "usage"),
    ("Billed: what invoices charge for usage", "billed"),
    ("On-demand only: Cursor's usage beyond the plan and the like", "on_demand"),
)
STORED_MEASURES = {"cost": "usage", "billed": "billed", "on_demand": "on_demand"}
PERIODS = (("Calendar month (UTC)", "month"), ("Billing cycle (the calendar month where there is none)", "cycle"))


class BudgetReads(Protocol):
    """What the screen reads, through the App's one service, in a thread."""

    def budgets(self) -> BudgetList: ...


COLUMNS = (
    ("", "status"),
    ("Budget", "budget"),
    ("Spent", "spent"),
    ("Used", "used"),
    ("Forecast", "forecast"),
    ("Period", "period"),
    ("On", "target"),
)
# The status's sign in the table; the line under it says the status in words (`grafient check`'s).
STATUS_SIGNS = {status: mark.split(" ", 1)[0] for status, mark in STATUS_MARKS.items()}


def spent_cell(status: BudgetStatus) -> str:
    """`$412.00` (≈ where the spend includes an estimate)."""
    return spent(status)


def used_cell(status: BudgetStatus) -> str:
    return percent(status)


def forecast_cell(status: BudgetStatus) -> str:
    return (
        "not ready"
        if status.forecast.micro is None
        else ("≈" if status.estimated else "") + rough(status.forecast.micro)
    )


def fit_names(rows: Sequence[tuple[str, ...]], room: int) -> list[tuple[str, ...]]:
    """The rows with their names (the period's words and the target, the last two cells) shortened
    with … so every column fits in `room` cells; the figures before them are never cut. The names
    share what the figures leave: the target takes what the period's words do not need, and at least
    half (a terminal too narrow even for the figures cuts the names to nothing)."""
    if not rows:
        return []
    widths = [max(cell_len(label), *(cell_len(row[i]) for row in rows)) for i, (label, _) in enumerate(COLUMNS)]
    *figures, period_width, target_width = widths
    names = max(0, room - sum(figures))
    if period_width + target_width <= names:
        return list(rows)
    target_room = min(target_width, max(names - period_width, names // 2))
    period_room = names - target_room
    return [(*row[:-2], shorten(row[-2], period_room), shorten(row[-1], target_room)) for row in rows]


class BudgetsScreen(StoreReader["BudgetList"]):
    READ_GROUP = "budgets-load"
    BINDINGS = bindings("budgets")

    def __init__(self, live: LiveState, reads: BudgetReads) -> None:
        super().__init__(id="budgets")
        self.live = live
        self.reads = reads
        self.data: BudgetList | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(ABOUT, id="budgets-about", markup=False)
        yield Static(id="budgets-viewer")
        yield DataTable(id="budgets-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="budget-line")
        yield Static(id="budgets-unusable")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.sub_title = "Budgets"
        table = self.query_one(DataTable)
        # The money first, whole at 80 columns; the names after it, shortened with … to fit (the line
        # under the table says the highlighted one whole).
        for label, key in COLUMNS:
            right = key in ("budget", "spent", "used", "forecast")
            table.add_column(literal_cell(label, justify="right" if right else "left"), key=key)
        self._show_viewer()
        self.reload()
        table.focus()

    def on_screen_resume(self) -> None:
        if self.data is not None:
            self.reload()

    def reload(self) -> None:
        self.read_store(self.reads.budgets)

    def show_data(self, data: BudgetList) -> None:
        self.data = data
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        for column in table.columns.values():
            # Measured again from the heading (Textual keeps a column's widest so far): a wider cell of
            # an earlier read (a figure before the sync's days came) must not push the names off the edge.
            column.content_width = column.label.cell_len
        rows = [
            (
                STATUS_SIGNS[status.status],
                amount(status.budget_micro),
                spent_cell(status),
                used_cell(status),
                forecast_cell(status),
                period_words(status.period, status.measure, follows_cycle=status.bounds.follows_cycle),
                target_words(status),
            )
            for status in data.statuses
        ]
        for status, cells in zip(data.statuses, fit_names(rows, self._table_room()), strict=True):
            *figures, period, target = cells
            table.add_row(
                literal_cell(figures[0]),
                *(literal_cell(figure, justify="right") for figure in figures[1:]),
                literal_cell(period),
                literal_cell(target),
                key=f"budget-{status.budget_id}",
            )
        table.display = bool(data.statuses)
        if data.statuses:
            table.move_cursor(row=min(cursor, len(data.statuses) - 1))
        self._show_line()
        unusable = "\n".join(f"⚠ {sentence}" for sentence in data.unusable)
        self.query_one("#budgets-unusable", Static).update(literal(unusable))
        self.refresh_bindings()

    def _table_room(self) -> int:
        """The cells the table's columns may take: its width less the padding of each and a scrollbar."""
        table = self.query_one(DataTable)
        width = table.size.width or self.app.size.width
        return width - 2 * table.cell_padding * len(COLUMNS) - table.styles.scrollbar_size_vertical

    def on_resize(self) -> None:
        if self.data is not None:
            self.show_data(self.data)  # the names fitted again to the new width

    def _show_viewer(self) -> None:
        reason = self.live.viewer_reason
        widget = self.query_one("#budgets-viewer", Static)
        widget.update(Content.assemble(("Viewing only: ", "bold"), literal(reason)) if reason else "")
        widget.display = bool(reason)

    def selected(self) -> BudgetStatus | None:
        if self.data is None or not self.data.statuses:
            return None
        row = self.query_one(DataTable).cursor_row
        return self.data.statuses[row] if 0 <= row < len(self.data.statuses) else None

    def _show_line(self) -> None:
        """The highlighted budget as `grafient check` words it, whole; or how to set a first one."""
        status = self.selected()
        said = check_line(status) if status is not None else NONE_YET
        self.query_one("#budget-line", Static).update(literal(said))

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        if self.check_action("edit_budget", ()):
            self.action_edit_budget()

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._show_line()
        self.refresh_bindings()

    @on(News)
    def _news(self, message: News) -> None:
        self.live = message.live
        self._show_viewer()
        self.refresh_bindings()

    def on_budgets_changed(self, message: BudgetsChanged) -> None:
        if message.said:
            self.reload()

    # -- actions ------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("new_budget", "edit_budget", "remove_budget"):
            if self.live.viewer_reason or not self.live.store_ready:
                return None  # greyed: the line above the table says why
            if action != "new_budget" and self.selected() is None:
                return False
        return True

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_new_budget(self) -> None:
        self.app.push_screen(BudgetFormScreen(self._targets()))

    def action_edit_budget(self) -> None:
        status = self.selected()
        if status is not None:
            self.app.push_screen(BudgetFormScreen(self._targets(), editing=status))

    def action_remove_budget(self) -> None:
        status = self.selected()
        if status is not None:
            target = "all" if status.target_id is None else str(status.target_id)
            label = f"{target_words(status)} ({period_words(status.period, status.measure)})"
            self.post_message(BudgetRemoveRequested(target, status.period, label))

    def _targets(self) -> tuple[TargetChoice, ...]:
        return self.data.targets if self.data is not None else ()


class BudgetFormScreen(ModalScreen[None]):
    """Set a budget, or (`editing`) change one: its target and period stay, as a second
    `grafient budget set` on them replaces it. Stays open until the App says it was saved, showing
    the service's sentence when it was refused."""

    BINDINGS = bindings("budget_form")
    AUTO_FOCUS = "#budget-amount"

    def __init__(self, targets: tuple[TargetChoice, ...], *, editing: BudgetStatus | None = None) -> None:
        super().__init__(id="budget-form")
        self.targets = targets
        self.editing = editing
        self.saving = False

    def compose(self) -> ComposeResult:
        editing = self.editing
        choices: list[tuple[Content, str]] = [(Content("All integrations"), "all")]
        choices += [(literal(t.label), str(t.integration_id)) for t in self.targets]
        target = "all" if editing is None or editing.target_id is None else str(editing.target_id)
        if editing is not None and target != "all" and target not in {value for _, value in choices}:
            choices.append((literal(editing.target), target))
        with VerticalScroll(classes="dialog", id="budget-dialog") as dialog:
            dialog.border_title = "Change a budget" if editing else "Set a budget"
            yield Label("On", classes="field-label")
            yield Select(choices, value=target, allow_blank=False, id="budget-target", disabled=editing is not None)
            yield Label("Amount in US dollars", classes="field-label")
            yield Input(
                value=amount(editing.budget_micro).lstrip("$").replace(",", "") if editing else "",
                placeholder="500 or 1250.50",
                max_length=20,
                id="budget-amount",
            )
            yield Label("Period", classes="field-label")
            yield Select(
                PERIODS,
                value=editing.period if editing else "month",
                allow_blank=False,
                id="budget-period",
                disabled=editing is not None,
            )
            yield Label("Measures", classes="field-label")
            measure = STORED_MEASURES.get(editing.measure, "usage") if editing else "usage"
            yield Select(MEASURES, value=measure, allow_blank=False, id="budget-measure")
            yield Static(classes="field-error", id="budget-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")
        yield KeysFooter()

    def action_save(self) -> None:
        if self.saving:
            return
        self.saving = True
        self._show_error("")
        target = self.query_one("#budget-target", Select).value
        period = self.query_one("#budget-period", Select).value
        self.post_message(
            BudgetSetRequested(
                str(target),
                self.query_one("#budget-amount", Input).value,
                str(period),
                measure=str(self.query_one("#budget-measure", Select).value),
            )
        )

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.dismiss(None)

    def on_budgets_changed(self, message: BudgetsChanged) -> None:
        if not self.saving:
            return
        self.saving = False
        if message.refused:
            self._show_error(message.refused)
        else:
            self.dismiss(None)

    def _show_error(self, sentence: str) -> None:
        error = self.query_one("#budget-error", Static)
        error.update(literal(sentence))
        error.set_class(bool(sentence), "-shown")
