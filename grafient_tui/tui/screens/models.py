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

from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, Header, Static

from grafient_tui import providers
from grafient_tui.estimates import BILLED
from grafient_tui.rounding import adding_up
from grafient_tui.tui.commands import bindings
from grafient_tui.tui.messages import LiveState, News, PeriodChanged, PeriodRequested, Reads, SyncChanged
from grafient_tui.tui.screens.detail import TOTAL_KEY, add_row, right, total_label
from grafient_tui.tui.screens.reading import StoreReader
from grafient_tui.tui.shown import literal, literal_cell
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


def _justify(column: str) -> Literal["left", "right"]:
    return "left" if column in ("model", "providers", "names") else "right"


def _known_sum(values: list[int | None]) -> int | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


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
        for key, name in COLUMNS.items():
            width = MODEL_WIDTH if key == "model" else None
            table.add_column(literal_cell(f"{name}  ", justify=_justify(key)), key=key, width=width)
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
        self.query_one("#models-note", Static).update(literal(note, "dim"))
        self._fill()

    def _fill(self) -> None:
        table = self.query_one("#models-across", DataTable)
        cursor = table.cursor_row
        for key, column in table.columns.items():
            name = COLUMNS[str(key.value)]
            label = f"{name} {'▲' if self.sort == 'model' else '▼'}" if key.value == self.sort else f"{name}  "
            column.label = literal_cell(label, justify=_justify(str(key.value)))
        table.clear()
        if self.data is None:
            return
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
            add_row(
                table,
                f"model-{i}",
                model=literal_cell(model.key),
                usage=right(money(amount)),
                billed=right("—" if billed_micro is None else money(billed_micro)),
                share=right(share(model.cost_micro, total)),
                requests=right(count(model.requests)),
                input=right(tokens(model.input_tokens)),
                output=right(tokens(model.output_tokens)),
                providers=literal_cell(", ".join(providers.title(p) for p in model.providers)),
                names=literal_cell(", ".join(visible(n) for n in model.names)),
            )
        money = self.data.basis.money
        add_row(
            table,
            TOTAL_KEY,
            model=total_label(),
            usage=right(money(total)),
            billed=right("—" if billed_total is None else money(billed_total)),
            share=right("100.0%" if total else UNKNOWN),
            requests=right(count(_known_sum([m.requests for m in rows]))),
            input=right(tokens(_known_sum([m.input_tokens for m in rows]))),
            output=right(tokens(_known_sum([m.output_tokens for m in rows]))),
        )
        if rows:
            table.move_cursor(row=min(cursor, len(rows)))

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
