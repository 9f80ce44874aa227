"""Every integration's models, one row per model key (model_keys.py: `claude-sonnet-4.5` whether
Cursor, Anthropic or OpenRouter billed it), each listing the raw names and the providers it covers.

The amounts are usage value (what the model's usage is worth); billed beside it, which is the same
amount where no plan or credits cover part of a provider's cost, the model's on-demand part where
one does, and `—` where a day of the period was stored before that part was kept per model (a
sync of the day fills it). Counts a provider does not give are `—`, never 0. The amounts shown add
up to the total shown (rounding.adding_up). `s` sorts by the next column, unknown below every known
figure, as the detail's tables do."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Literal

from rich.cells import cell_len
from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, Header, Static

from grafient_tui import providers
from grafient_tui.estimates import BILLED
from grafient_tui.figures import NOT_REPORTED, OVER_REPORTING, OVER_REPORTING_NOTE
from grafient_tui.rounding import adding_up
from grafient_tui.tui.commands import bindings
from grafient_tui.tui.messages import LiveState, News, PeriodChanged, PeriodRequested, Reads, SyncChanged
from grafient_tui.tui.screens.detail import TOTAL_KEY, add_row, right
from grafient_tui.tui.screens.reading import StoreReader
from grafient_tui.tui.shown import literal, literal_cell
from grafient_tui.tui.widgets.fit import shorten
from grafient_tui.tui.widgets.footer import KeysFooter
from grafient_tui.tui.widgets.summary import PeriodSelector
from grafient_tui.tui.widgets.text import UNKNOWN, count, period_words, share, tokens
from grafient_tui.untrusted import visible

if TYPE_CHECKING:
    from grafient_tui.figures import ModelAcross
    from grafient_tui.tui.reads import ModelsView

MODEL_WIDTH = 30  # the key's column at most: the amounts beside it are never pushed out of an 80-column view
COLUMNS = {
    "model": "Model",
    "usage": "Usage value",
    "billed": "Billed",
    "share": "Share",
    "requests": "Requests",
    "input": "Input tok",
    "output": "Output tok",
    "providers": "Providers",
    "names": "Names",
}
# The sort cycle: column -> the figure it sorts by (None: unknown, below every known one); biggest first
# but for the model's key.
SORTS: dict[str, Callable[[ModelAcross], int | str | None]] = {
    "usage": lambda m: m.cost_micro,
    "requests": lambda m: m.requests,
    "input": lambda m: m.input_tokens,
    "output": lambda m: m.output_tokens,
    "model": lambda m: m.key,
}


def covered(provider: str) -> bool:
    """A plan or credits may cover part of this provider's cost: its billed amount per model is unknown."""
    from grafient_tui.errors import GrafientError

    try:
        return providers.capabilities(provider).covered_by is not None
    except GrafientError:
        return True  # a provider this version does not know: no claim about what it billed


def estimated(provider: str) -> bool:
    """The provider's dollars are an estimate (ElevenLabs' credits): its models' amounts are marked ≈."""
    from grafient_tui.errors import GrafientError

    try:
        return providers.capabilities(provider).cost_basis == "estimate"
    except GrafientError:
        return False


def sorted_models(models: tuple[ModelAcross, ...], by: str) -> list[ModelAcross]:
    """The rows in the order of `by`: the biggest first (the key: a to z), an unknown figure last."""
    figure = SORTS[by]
    if by == "model":
        return sorted(models, key=lambda m: str(figure(m)))
    known = sorted((m for m in models if figure(m) is not None), key=lambda m: (-int(figure(m) or 0), m.key))
    return known + sorted((m for m in models if figure(m) is None), key=lambda m: m.key)


NAME_COLUMNS = ("model", "providers", "names")  # text that gives way (shortened with …)
MODEL_MIN = 20  # the key's column at least, before a figure column is left out ("claude-sonnet-4.5")
NAME_MIN = 10  # a providers' or names' column narrower than this is left out, not shown as "Ant…"
# Figure columns left out whole, first to last, when even the shortest key leaves them no room:
# a figure is never cut (the CSV export and the detail's tables have every one of them).
DROPPED_FIRST = ("output", "input", "requests", "share")


def fit_columns(natural: dict[str, int], width: int, padding: int = 2) -> dict[str, int]:
    """The columns shown (in COLUMNS' order) and each one's width, in `width` cells (each column also
    takes `padding`): every figure column at its natural width or left out whole (DROPPED_FIRST), the
    model's key at least MODEL_MIN, then the providers and the raw names in what is left (each left
    out below NAME_MIN). The names shorten; a figure never does."""
    figures = [key for key in COLUMNS if key not in NAME_COLUMNS]
    dropped = list(DROPPED_FIRST)

    def used(keys: list[str]) -> int:
        return sum(natural[key] + padding for key in keys)

    while dropped and used(figures) + MODEL_MIN + padding > width:
        figures.remove(dropped.pop(0))
    room = width - used(figures) - padding
    widths = {"model": max(min(natural["model"], MODEL_WIDTH, room), MODEL_MIN)}
    room -= widths["model"]
    for key in ("providers", "names"):
        if room - padding >= min(NAME_MIN, natural[key]):
            widths[key] = min(natural[key], room - padding)
            room -= widths[key] + padding
    widths |= {key: natural[key] for key in figures}
    return {key: widths[key] for key in COLUMNS if key in widths}


def _justify(column: str) -> Literal["left", "right"]:
    return "left" if column in ("model", "providers", "names") else "right"


def _known_sum(values: list[int | None]) -> int | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def _reported_sum(
    rows: list[ModelAcross],
    words: Callable[[int | None], str],
    figure: Callable[[ModelAcross], tuple[int | None, bool]],
) -> str:
    """A count over the models that report it, marked when some do not (n/a when none does)."""
    said = [value for value, reports in map(figure, rows) if reports]
    if rows and not said:
        return NOT_REPORTED
    return words(_known_sum(said)) + (OVER_REPORTING if len(said) < len(rows) else "")


class ModelsScreen(StoreReader["ModelsView"]):
    READ_GROUP = "models-load"
    BINDINGS = bindings("models")

    def __init__(self, live: LiveState, reads: Reads) -> None:
        super().__init__(id="models-view")
        self.live = live
        self.reads = reads
        self.sort = "usage"
        self.data: ModelsView | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield PeriodSelector(id="period")
        yield Static(id="models-note")
        yield DataTable(id="models-across", cursor_type="row", zebra_stripes=True)
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one("#models-across", DataTable)
        self.sub_title = "Models of every integration"
        self.reload()
        table.focus()

    def reload(self) -> None:
        self.read_store(partial(self.reads.models, self.live.period, self.live.month))

    def show_data(self, data: ModelsView) -> None:
        self.data = data
        span = data.span
        self.query_one(PeriodSelector).show(span.days, month=span.month)
        self.sub_title = f"Models of every integration · {period_words(span.days, span.month)}"
        plans = sorted({providers.title(p) for m in data.models for p in m.providers if covered(p)}, key=str.casefold)
        note = "Usage value per model, under one key per model over every provider's names."
        if plans:
            note += f" Billed is the on-demand part where a plan or credits cover the rest ({', '.join(plans)})"
            if any(m.billed_micro is None for m in data.models):
                note += "; — where a day was stored before it was kept per model (a sync of that day fills it)"
            note += "."
        if any(not m.reports_requests or not m.reports_tokens for m in data.models):
            note += f" {OVER_REPORTING_NOTE}."
        self.query_one("#models-note", Static).update(literal(note, "dim"))
        self._fill()

    def on_resize(self) -> None:
        self._fill()

    def _fill(self) -> None:
        """The rows as text first, then the columns fitted to the width (fit_columns), then the table."""
        table = self.query_one("#models-across", DataTable)
        cursor = table.cursor_row
        labels = {
            key: f"{name} {'▲' if self.sort == 'model' else '▼'}" if key == self.sort else f"{name}  "
            for key, name in COLUMNS.items()
        }
        rows = self._rows()
        natural = {
            key: max(cell_len(text) for text in [labels[key], *(row.get(key, "") for _, row in rows)])
            for key in COLUMNS
        }
        room = (table.scrollable_content_region.width or self.app.size.width) - 1  # a scrollbar when long
        widths = fit_columns(natural, room, 2 * table.cell_padding)
        table.clear(columns=True)
        for key, width in widths.items():
            table.add_column(literal_cell(labels[key], justify=_justify(key)), key=key, width=width)
        for row_key, row in rows:
            cells = {
                key: literal_cell(shorten(text, widths[key]), style="bold" if row_key == TOTAL_KEY else "")
                if key in NAME_COLUMNS
                else right(text)
                for key, text in row.items()
                if key in widths
            }
            add_row(table, row_key, **cells)
        if len(rows) > 1:
            table.move_cursor(row=min(cursor, len(rows) - 1))

    def _rows(self) -> list[tuple[str, dict[str, str]]]:
        """Each row's cells as text by column (the total last), before any is fitted to a width."""
        if self.data is None:
            return []
        out: list[tuple[str, dict[str, str]]] = []
        money = self.data.basis.money
        rows = sorted_models(self.data.models, self.sort)
        amounts = [m.cost_micro for m in rows]
        shown = adding_up(amounts) if all(a >= 0 for a in amounts) else amounts
        total = sum(amounts)
        billed = [m.billed_micro for m in rows]
        billed_total = _known_sum(billed)
        known_billed = [b for b in billed if b is not None]
        # billed shown adds up to its shown total when every row's is known
        billed_shown: list[int | None] = (
            list(adding_up(known_billed)) if billed_total is not None and all(b >= 0 for b in known_billed) else billed
        )
        for i, (model, amount, billed_micro) in enumerate(zip(rows, shown, billed_shown, strict=True)):
            # ≈ on the rows an estimate is part of, not on every row because one integration estimates
            marked = self.data.basis.unknown_labels or any(estimated(p) for p in model.providers)
            money = self.data.basis.money if marked else BILLED.money
            out.append(
                (
                    f"model-{i}",
                    {
                        "model": visible(model.key),
                        "usage": money(amount),
                        "billed": UNKNOWN if billed_micro is None else money(billed_micro),
                        "share": share(model.cost_micro, total),
                        "requests": count(model.requests) if model.reports_requests else NOT_REPORTED,
                        "input": tokens(model.input_tokens) if model.reports_tokens else NOT_REPORTED,
                        "output": tokens(model.output_tokens) if model.reports_tokens else NOT_REPORTED,
                        "providers": ", ".join(providers.title(p) for p in model.providers),
                        "names": ", ".join(visible(n) for n in model.names),
                    },
                )
            )
        money = self.data.basis.money
        totals = {
            "model": "Total",
            "usage": money(total),
            "billed": UNKNOWN if billed_total is None else money(billed_total),
            "share": "100.0%" if total else UNKNOWN,
            "requests": _reported_sum(rows, count, lambda m: (m.requests, m.reports_requests)),
            "input": _reported_sum(rows, tokens, lambda m: (m.input_tokens, m.reports_tokens)),
            "output": _reported_sum(rows, tokens, lambda m: (m.output_tokens, m.reports_tokens)),
        }
        out.append((TOTAL_KEY, totals))
        return out

    @on(News)
    def _news(self, message: News) -> None:
        self.live = message.live

    def on_sync_changed(self, message: SyncChanged) -> None:
        if message.stored and self.is_mounted:
            self.reload()

    def on_period_changed(self, _message: PeriodChanged) -> None:
        self.reload()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_sort(self) -> None:
        cycle = list(SORTS)
        self.sort = cycle[(cycle.index(self.sort) + 1) % len(cycle)]
        self._fill()

    def action_cycle_period(self) -> None:
        self.post_message(PeriodRequested())

    @on(PeriodSelector.Clicked)
    def _period_clicked(self) -> None:
        self.post_message(PeriodRequested())
