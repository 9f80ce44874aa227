"""Cost detail of one integration: summary, a wide Sparkline, daily, model and member tables."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import ActiveBinding
from textual.content import Content
from textual.widgets import DataTable, Header, Static, TabbedContent, TabPane, Tabs
from textual.widgets.data_table import ColumnKey

from grafient_tui.anomalies.output import ratio_words, signed_usd
from grafient_tui.estimates import BILLED, Basis
from grafient_tui.figures import NEAR_LIMIT_PCT, NOT_REPORTED, OVER_REPORTING, OVER_REPORTING_NOTE
from grafient_tui.money import format_usd as money
from grafient_tui.providers import title as provider_title
from grafient_tui.tui.commands import bindings
from grafient_tui.tui.layout import fit_layout, toggle_chart
from grafient_tui.tui.messages import (
    BudgetsChanged,
    ExportRequested,
    LiveState,
    News,
    PeriodChanged,
    PeriodRequested,
    Reads,
    StoreFailed,
    StoreOpened,
    SyncChanged,
    SyncRequested,
)
from grafient_tui.tui.screens.reading import StoreReader
from grafient_tui.tui.shown import literal, literal_cell, toast
from grafient_tui.tui.syncing import sync_line
from grafient_tui.tui.widgets.card import anomaly_legend, chart_days, scale_line
from grafient_tui.tui.widgets.chart import AnomalyMarks, CostChart
from grafient_tui.tui.widgets.fit import shorten
from grafient_tui.tui.widgets.footer import KeysFooter
from grafient_tui.tui.widgets.gauge import BudgetGauges
from grafient_tui.tui.widgets.summary import PeriodSelector, SummaryBar, coverage_note
from grafient_tui.tui.widgets.text import UNKNOWN, count, period_words, share, tokens
from grafient_tui.untrusted import visible

if TYPE_CHECKING:
    from grafient_tui.figures import (
        Anomaly,
        BudgetStatus,
        DayFigures,
        DetailFigures,
        HomeFigures,
        IntegrationFigures,
        MemberLimit,
        ModelFigures,
    )
    from grafient_tui.providers.base import Capabilities


def _cache(row: ModelFigures) -> int | None:
    if row.cache_read_tokens is None or row.cache_write_tokens is None:
        return None
    return row.cache_read_tokens + row.cache_write_tokens


# Sort keys for the model table: column key -> (the order's key in DetailFigures.model_views, as
# grafient_tui.tops.MODEL_SORT_KEYS names it; biggest first?). Unknown sorts below every known figure.
MODEL_SORTS: dict[str, tuple[str, bool]] = {
    "cost": ("cost_micro", True),
    "billed": ("on_demand_micro", True),
    "share": ("cost_micro", True),
    "requests": ("requests", True),
    "input": ("input_tokens", True),
    "output": ("output_tokens", True),
    "cache": ("cache", True),
    "credits": ("credits_micro", True),
    "characters": ("characters", True),
    "model": ("model", False),
}
# The token kinds apart, as the CLI shows them: one unlabelled sum of four kinds says little.
MODEL_COLUMNS = {
    "model": "Model",
    "cost": "Cost",
    # Where a plan or credits cover part of the cost (Cursor's included usage): what invoices charge,
    # beside the cost, then titled usage value (the Models view's two amounts). Elsewhere the two are
    # one amount and the column is removed.
    "billed": "Billed",
    "share": "Share",
    "requests": "Requests",
    "input": "Input tok",
    "output": "Output tok",
    "cache": "Cache r+w tok",
    # Where the dollars are an estimate from credits (ElevenLabs), what they were made from.
    "credits": "Credits",
    "characters": "Characters",
}
# Where the layout is compact (80 columns), the counts' shorter headings: the table fits with billed and
# usage value beside them (the full layout names them whole).
COMPACT_COLUMNS = {"input": "In", "output": "Out", "cache": "Cache", "requests": "Req."}
USAGE_VALUE = "Usage value"  # the cost column's title beside billed
COMPACT_USAGE_VALUE = "Usage"
SORT_CYCLE = ("cost", "billed", "requests", "input", "output", "cache", "credits", "characters", "model")
ANOMALY_COLUMNS = (
    ("Day", "day"),
    ("Billed", "billed"),
    ("Baseline", "baseline"),
    ("Ratio", "ratio"),
    ("Driver", "driver"),
    ("Change", "change"),
    ("Share", "share"),
)
ANOMALY_RIGHT = {"billed", "baseline", "ratio", "change", "share"}
TOTAL_KEY = "__total__"
OTHERS_KEY = "__others__"
READING_KEY = "__reading__"
READING = "Reading the local store…"  # a table's one row until the store's figures come: never an empty table


def limit_cell(spend: MemberLimit | None) -> Text:
    """`$82.00 of $100.00 · 82%` (marked ⚠ and bold from 80%), `$12.00 · no limit sent`, or – ."""
    if spend is None:
        return right(UNKNOWN)
    used = spend.on_demand_micro if spend.on_demand_micro is not None else spend.spend_micro
    if used is None:
        return right(UNKNOWN)
    if not spend.limit_micro or spend.limit_micro <= 0:
        return right(f"{money(used)} · no limit sent")
    pct = used * 100 / spend.limit_micro
    text = f"{money(used)} of {money(spend.limit_micro)} · {pct:.0f}%"
    if pct >= NEAR_LIMIT_PCT:
        return literal_cell(f"⚠ {text}", style="bold", justify="right")
    return right(text)


def mark_sorted(table: DataTable[object], key: str, *, ascending: bool) -> None:
    """The sorted column's label carries ▼ (biggest or newest first) or ▲; every other keeps a cell
    for one, so widths never jump (as the models' columns do)."""
    for column_key, column in table.columns.items():
        label = column.label
        base = label.plain.removesuffix(" ▼").removesuffix(" ▲").rstrip()
        if not base:
            continue
        marked = f"{base} {'▲' if ascending else '▼'}" if column_key.value == key else f"{base}  "
        column.label = literal_cell(marked, style=str(label.style), justify=label.justify or "left")


def fit_model_names(table: DataTable[object], rows: list[tuple[str, dict[str, Text]]], width: int) -> None:
    """Shorten the model names (with …) so the table's columns fit `width`: a long model name gives
    way, the figures beside it never do (at least 12 cells of name stay; a terminal narrower than the
    figures scrolls sideways)."""
    pad = 2 * table.cell_padding
    others = 0
    for key, column in table.columns.items():
        name = str(key.value)
        if name != "model":
            others += pad + max([column.label.cell_len, *(cells[name].cell_len for _, cells in rows if name in cells)])
    room = max(12, width - others - pad - 1)  # 1: the vertical scrollbar's room
    for _, cells in rows:
        model = cells["model"]
        if model.cell_len > room:
            cells["model"] = literal_cell(shorten(model.plain, room), style=str(model.style))


def right(text: str) -> Text:
    """A right-aligned cell (figures line up on their last digit), through the rule like every cell."""
    return literal_cell(text, justify="right")


def total_label() -> Text:
    return literal_cell("Total", style="bold")


def _next(cycle: list[str], current: str) -> str:
    return cycle[(cycle.index(current) + 1) % len(cycle)] if current in cycle else cycle[0]


def add_row(table: DataTable[object], key: str, **cells: object) -> None:
    """A row by column key: a column the provider has no figure for may have been removed."""
    table.add_row(*[cells.get(str(column.value), "") for column in table.columns], key=key)


def credits(micro: int | None) -> str:
    """Credits to the half (ElevenLabs' Flash and Turbo cost half a credit a character); — unknown."""
    if micro is None:
        return "—"
    value = micro / 1_000_000
    return f"{value:,.1f}" if micro % 1_000_000 else f"{value:,.0f}"


def basis_lines(basis: Basis) -> list[str | tuple[str, str]]:
    """What the header says about how the dollars were made: the estimate's plan and what it leaves
    out (the contract's caveats), or the currency they were converted from. The note is read from the
    store: through the rule like any text from it."""
    if not basis.estimated:
        return [(visible(basis.note or ""), "dim")]
    return [
        ("≈ ", "bold"),
        (visible(basis.note or "estimated from credits"), "bold"),
        "\n",
        (
            "An estimate: today's plan prices every day (a plan change re-prices history); annual billing, "
            "discounts, taxes, rollover credits and overage charges are not in it.",
            "dim",
        ),
    ]


def _over_reporting(
    cells: dict[str, Text], row: ModelFigures, silent_requests: int, silent_tokens: int
) -> dict[str, Text]:
    """A sum's cells marked where it is over the models that report a count, some of its models not."""
    marked = dict(cells)
    for key, silent, said in (
        ("requests", silent_requests, row.reports_requests),
        ("input", silent_tokens, row.reports_tokens),
        ("output", silent_tokens, row.reports_tokens),
        ("cache", silent_tokens, row.reports_tokens),
    ):
        if silent and said and cells[key].plain != "—":
            marked[key] = right(cells[key].plain + OVER_REPORTING)
    return marked


def _sum_known(values: list[int | None]) -> int | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


class CostDetailScreen(StoreReader["DetailFigures"]):
    READ_GROUP = "detail-load"
    BINDINGS = bindings("detail")

    def __init__(
        self, integration_id: int, live: LiveState, reads: Reads, *, preview: HomeFigures | None = None
    ) -> None:
        """`preview`: the last run's home figures (the snapshot), when it is opened before the store has:
        its header, tiles and chart show what they say of this integration, its tables say they are being
        read, and the store's figures replace them all once it has opened (StoreOpened)."""
        super().__init__(id="detail")
        self.preview = preview
        self.integration_id = integration_id
        self.live = live
        self.reads = reads
        self.model_sort = "cost"
        self.model_sort_reverse = False
        self.daily_sort = "date"  # date (newest first) | cost | requests
        self.member_sort = "cost"  # cost | name | requests
        self._resumed = False
        self._gone = False  # its integration was deleted while something covered this screen
        self.data: DetailFigures | None = None
        self.days: list[DayFigures] = []  # the period's days as the store gave them (none until it has)
        self._adapted = False  # columns and tab titles fitted to the provider (on the first data)
        self._money = BILLED.money  # every amount of this integration, marked as its basis says (≈, —)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="detail-header")
        yield PeriodSelector(id="period")
        yield SummaryBar(id="summary")
        yield BudgetGauges(explain=True, id="detail-budgets", classes="-inset")
        yield CostChart(id="detail-sparkline")
        yield AnomalyMarks(id="detail-marks")
        yield Static(id="sparkline-axis")
        with TabbedContent(initial="models-tab", id="detail-tabs"):
            with TabPane("Models", id="models-tab"):
                yield DataTable(id="models", cursor_type="row", zebra_stripes=True)
                yield Static(id="detail-models-note")
            with TabPane("Daily", id="daily-tab"):
                yield DataTable(id="daily", cursor_type="row", zebra_stripes=True)
            with TabPane("Members", id="members-tab"):
                yield DataTable(id="members", cursor_type="row", zebra_stripes=True)
            with TabPane("Anomalies", id="anomalies-tab"):
                yield Static(id="anomalies-note")  # why there are none: a sentence that wraps
                yield DataTable(id="anomalies", cursor_type="row", zebra_stripes=True)
        yield KeysFooter()

    def on_mount(self) -> None:
        fit_layout(self)
        models = self.query_one("#models", DataTable)
        for key, name in MODEL_COLUMNS.items():
            models.add_column(literal_cell(f"{name}  ", justify="left" if key == "model" else "right"), key=key)
        daily = self.query_one("#daily", DataTable)
        for label, key in (
            ("Date", "date"),
            ("Usage value", "cost"),
            ("On-demand", "on_demand"),
            ("BYOK", "byok"),
            ("Requests", "requests"),
            ("Top model", "model"),
            ("", "note"),
        ):
            daily.add_column(
                literal_cell(label, justify="right" if key in ("cost", "on_demand", "byok", "requests") else "left"),
                key=key,
            )
        members = self.query_one("#members", DataTable)
        for label, key in (("Member", "email"), ("Usage value", "cost"), ("Share", "share"), ("Requests", "requests")):
            members.add_column(literal_cell(label, justify="left" if key == "email" else "right"), key=key)
        anomalies = self.query_one("#anomalies", DataTable)
        for label, key in ANOMALY_COLUMNS:
            anomalies.add_column(literal_cell(label, justify="right" if key in ANOMALY_RIGHT else "left"), key=key)
        # Tab never sends the focus to the tab strip, where it was invisible and ↓ did nothing: the
        # tabs change with 1, 2, 3 and the mouse, and the focus stays on the table in view.
        self.query_one(TabbedContent).query_one(Tabs).can_focus = False
        self.reload()
        models.focus()

    @property
    def reading(self) -> bool:
        """Shown from the last run's snapshot: the store has not opened yet."""
        return self.preview is not None and not self.live.store_ready

    def on_resize(self) -> None:
        fit_layout(self)
        if self.data is not None:
            self._fill_models()  # the headings and the model names as long as the width allows

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """Textual's, with the third tab's key named as the tab is (Members, Workspaces, Projects...)."""
        active = super().active_bindings
        word = self._actor_tab_word()
        for key, bound in active.items():
            if bound.binding.id == "tab_members" and word:
                active[key] = bound._replace(binding=replace(bound.binding, description=word))
        return active

    def _actor_tab_word(self) -> str:
        tabs = self.query(TabbedContent)
        return tabs.first().get_tab("members-tab").label.plain.split(" ⚠")[0] if tabs else ""

    @on(TabbedContent.TabActivated)
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        """A tab clicked or stepped to: its table takes the focus, so the arrows move in what is in view."""
        pane = event.pane.id or ""
        self.query_one(f"#{pane.removesuffix('-tab')}", DataTable).focus()

    def action_toggle_chart(self) -> None:
        toggle_chart(self)

    def on_screen_resume(self) -> None:
        fit_layout(self)
        if self._gone:  # its integration was deleted while something covered it
            self.app.pop_screen()
            return
        if self._resumed:  # the first resume is the first show: on_mount has just read the store
            self.reload()
        self._resumed = True

    # -- reading the store (in a thread; the event loop never waits on it) -------

    def reload(self) -> None:
        if self.reading:  # the store's figures are read once it has opened (on_store_opened)
            self._show_preview()
            return
        self.read_store(partial(self.reads.detail, self.integration_id, self.live.period, self.live.month))

    def on_store_opened(self, _message: StoreOpened) -> None:
        if self.preview is not None and self.data is None:
            self.reload()

    def on_store_failed(self, _message: StoreFailed) -> None:
        """No figure stays that the store did not give: back to the home, which says why (and the toast)."""
        self.preview = None
        self._leave()

    def _leave(self, said: str = "") -> None:
        if said:
            toast(self, said, title="Not in the local store", severity="warning")
        if self.is_current:
            self.app.pop_screen()
        else:
            self._gone = True  # something is on top (help, a dialog): leave when it closes

    def read_failed(self, error: BaseException | None) -> None:
        from grafient_tui.errors import NotFound

        if isinstance(error, NotFound):  # deleted meanwhile, or (opened on the snapshot) since the last run
            figures = self._previewed()
            self.preview = None
            self._leave(f"{visible(figures.label)} is no longer in the local store." if figures else "")
            return
        super().read_failed(error)

    def _previewed(self) -> IntegrationFigures | None:
        """What the snapshot said of this integration (None: not opened on one, or it holds none)."""
        if self.preview is None:
            return None
        return next((f for f in self.preview.integrations if f.integration_id == self.integration_id), None)

    def _show_preview(self) -> None:
        """What the last run's home said of this integration: who it is, its status and (for the period
        shown) its tiles and chart; every table says it is being read. Nothing here is made up: a
        period the snapshot was not of shows its tiles as loading (…)."""
        home, figures = self.preview, self._previewed()
        if home is None or figures is None:
            return
        same_period = home.period == self.live.period and home.month == self.live.month
        self._show_figures(
            figures,
            self.live.period,
            self.live.month,
            plan=home.plan,
            budgets=home.budgets_of(self.integration_id) if same_period else (),
            known=same_period,
        )
        for table in self.query(DataTable):
            self._reading_row(table)

    def _reading_row(self, table: DataTable[object]) -> None:
        """One row saying the table is being read, in its first column (the others empty)."""
        table.clear()
        if table.columns:
            table.add_row(literal_cell(READING, style="dim italic"), key=READING_KEY)

    def show_data(self, data: DetailFigures) -> None:
        before = self._previewed()
        self.preview = None  # the store's figures from now on
        if before is not None and before.provider != data.figures.provider:
            # The id is another integration's in this store: its columns were fitted to the other provider.
            self._leave(f"{visible(before.label)} is no longer in the local store.")
            return
        self.data = data
        self.days = list(data.figures.days)
        self._show_figures(
            data.figures,
            data.period,
            data.month,
            plan=f"{data.plan} ({data.plan_days:,} days of history)",
            budgets=data.budgets,
            known=True,
        )
        self._fill_models()
        # The other tabs in turns of their own: each turn of the event loop stays short.
        self.call_after_refresh(self._fill_daily, self.days)
        self.call_after_refresh(self._fill_members)
        self.call_after_refresh(self._fill_anomalies)
        self.refresh_bindings()

    def _show_figures(
        self,
        figures: IntegrationFigures,
        days: int,
        month: str | None,
        *,
        plan: str,
        budgets: tuple[BudgetStatus, ...],
        known: bool,
    ) -> None:
        """The header, tiles, gauges and chart of one integration's figures (`known`: of this period;
        else the tiles wait (…) and the chart is empty), the store's or (while reading) the snapshot's."""
        summary = figures.summary
        since, until = summary.since, summary.until
        mine = self.integration_id in self.read_while_syncing  # a stored "running" is this app's sync
        status = sync_line(self.live, self.integration_id, figures.status, self.reads.now(), read_while_syncing=mine)
        state, line, error = status.state, status.text, status.sentence
        self.sub_title = f"{visible(figures.label)} · {period_words(days, month)}"
        caps = self._adapt(figures.provider)
        basis = figures.basis
        self._money = basis.money
        history = (
            f"history from {figures.history_from.isoformat()}" if figures.history_from else "no usage returned yet"
        )
        header = Content.assemble(
            (visible(figures.label), "bold"),
            "  ",
            ("provider ", "dim"),
            visible(provider_title(figures.provider)),
            "  ",
            ("Grafient plan ", "dim"),
            visible(plan),
            "  ",
            # "key id …4a98" (a service-account key's hint) names itself: no second "key" before it
            (visible("" if "key" in figures.key_hint else "key "), "dim"),
            visible(figures.key_hint),
            "  ",
            (f"{visible(_lower(caps.actor_title))} " if caps else "members ", "dim"),
            f"{figures.team_members:,}" if figures.team_members else visible(UNKNOWN),
            "\n",
            ("Last sync: ", "dim"),
            visible(line),
            ("  ·  ", "dim"),
            (visible(history), "dim"),
        )
        if basis.note or basis.estimated:
            header = Content.assemble(header, "\n", *basis_lines(basis))
        if error and state == "error":
            header = Content.assemble(header, "\n", ("✗ ", "bold"), visible(error))
        elif error and state == "syncing":  # a request being retried: "retrying (2 of 6) · cannot reach …"
            header = Content.assemble(header, "\n", ("⟳ ", "bold"), visible(error))
        if self.reading:
            header = Content.assemble(
                header, "\n", ("⏳ ", "bold"), ("As the last run left it; reading the local store…", "dim")
            )
        widget = self.query_one("#detail-header", Static)
        widget.update(header)
        for name in ("never", "syncing", "ok", "error"):
            widget.set_class(state == name, f"-{name}")
        self.query_one(PeriodSelector).show(days, coverage_note(summary) if known else "", month=month)
        self.query_one(SummaryBar).show(summary if known else None, days, basis)
        self.query_one("#detail-budgets", BudgetGauges).show(budgets)
        rows = list(figures.days) if known else []
        chart = self.query_one("#detail-sparkline", CostChart)
        chart.provider = figures.provider  # its provider's colour, as on its card and in the home's stack
        chart.days = self.query_one("#detail-marks", AnomalyMarks).days = chart_days(
            rows, figures.history_from, figures.anomaly_days
        )
        self.query_one("#sparkline-axis", Static).update(
            Content.assemble(
                (visible(f"{since.isoformat()} … {until.isoformat()} (daily cost, UTC days)  "), "dim"),
                (visible(scale_line(rows, basis) + anomaly_legend(figures.anomaly_days)), "dim"),
            )
            if known
            else ""
        )

    def _adapt(self, provider: str) -> Capabilities | None:
        """Fit the tables to what the provider gives, once: no requests column where it counts none,
        no on-demand split where it bills everything per use, BYOK only for OpenRouter, and the
        actor tab named for what it splits by (Members, Workspaces, Projects). None: unknown provider."""
        from grafient_tui import providers
        from grafient_tui.errors import GrafientError

        try:
            caps = providers.capabilities(provider)
        except GrafientError:
            return None
        if self._adapted:
            return caps
        self._adapted = True
        daily, models, members = (self.query_one(f"#{name}", DataTable) for name in ("daily", "models", "members"))
        if not caps.has_requests:
            for table in (daily, models, members):
                table.remove_column("requests")
        elif caps.requests_label != "requests":  # OpenAI counts completion requests only
            for table in (daily, models, members):
                column = table.columns[ColumnKey("requests")]
                column.label = literal_cell("Compl. req.", justify="right")
                # Textual measured the column from its first heading: "Compl. req." was cut to "Compl. r"
                column.content_width = max(column.content_width, column.label.cell_len)
        if not caps.has_on_demand:
            daily.remove_column("on_demand")
        if not caps.has_byok:
            daily.remove_column("byok")
        if caps.cost_basis == "estimate" or not caps.has_tokens:  # credits and characters, or no tokens at all
            for key in ("input", "output", "cache"):
                models.remove_column(key)  # three columns of — (GitHub's and xAI's reports count none)
        if caps.cost_basis != "estimate":
            for key in ("credits", "characters"):
                models.remove_column(key)
        if caps.covered_by is None:  # billed is the cost: one column
            models.remove_column("billed")
        singular = caps.actor_title[:-1] if caps.actor_title.endswith("s") else caps.actor_title
        email = members.columns[ColumnKey("email")]
        email.label = literal_cell(singular)
        email.content_width = max(email.content_width, email.label.cell_len)
        self.query_one(TabbedContent).get_tab("members-tab").label = literal(caps.actor_title)
        self.refresh_bindings()  # the Footer names the tab's key as the tab is titled
        return caps

    def _fill_daily(self, rows: list[DayFigures]) -> None:
        table = self.query_one("#daily", DataTable)
        if self.data is None:  # nothing read yet (a sort pressed while the store opens is kept)
            self._reading_row(table)
            return
        cursor = table.cursor_row
        table.clear()
        history_from = self.data.figures.history_from if self.data else None
        ordered = list(reversed(rows))  # newest first
        if self.daily_sort != "date":  # the biggest first; days never synced last
            ordered.sort(
                key=lambda r: (r.synced, (r.cost_micro if self.daily_sort == "cost" else r.requests) or 0),
                reverse=True,
            )
        for row in ordered:
            key = row.day.isoformat()
            if not row.synced:
                add_row(
                    table,
                    key,
                    date=literal_cell(key),
                    cost=right(UNKNOWN),
                    on_demand=right(UNKNOWN),
                    byok=right(UNKNOWN),
                    requests=right(UNKNOWN),
                    model=literal_cell(UNKNOWN),
                    note=literal_cell(row.gap or "never synced"),  # the header's words: "not reported yet" for today
                )
                continue
            note = (
                ""
                if row.complete
                else (
                    "today so far"
                    if self.data and row.day == self.data.today
                    else "not final (synced before the day ended)"
                )
            )
            if not note and history_from and row.day < history_from:
                note = "before the provider's history"
            add_row(
                table,
                key,
                date=literal_cell(key),
                cost=right(self._money(row.cost_micro)),
                on_demand=right(self._money(row.on_demand_micro or 0)),
                byok=right(self._money(row.byok_micro or 0)),
                requests=right(count(row.requests)),
                model=literal_cell(row.top_model or UNKNOWN),
                note=literal_cell(note),
            )
        synced = [r for r in rows if r.synced]
        add_row(
            table,
            TOTAL_KEY,
            date=total_label(),
            cost=right(self._money(sum(r.cost_micro for r in synced))),
            on_demand=right(self._money(sum(r.on_demand_micro or 0 for r in synced))),
            byok=right(self._money(sum(r.byok_micro or 0 for r in synced))),
            requests=right(count(_sum_known([r.requests for r in synced]))),
            note=literal_cell(f"{len(synced):,} of {len(rows):,} days synced"),
        )
        mark_sorted(table, self.daily_sort, ascending=False)
        if rows:
            table.move_cursor(row=min(cursor, len(rows)))

    def _fill_models(self) -> None:
        table = self.query_one("#models", DataTable)
        cursor = table.cursor_row
        order_key, biggest_first = MODEL_SORTS[self.model_sort]
        descending = biggest_first != self.model_sort_reverse
        # The sorted column carries an arrow; every label keeps a cell for one so widths never jump.
        compact = self.has_class("-compact")
        billed = ColumnKey("billed") in table.columns
        for key, column in table.columns.items():
            name = MODEL_COLUMNS[str(key.value)]
            if compact:
                name = COMPACT_COLUMNS.get(str(key.value), name)
            if key.value == "cost" and billed:
                name = COMPACT_USAGE_VALUE if compact else USAGE_VALUE
            if key.value == "requests" and self.data and "Compl" in str(column.label):
                name = "Compl." if compact else "Compl. req."
            label = f"{name} {'▼' if descending else '▲'}" if key.value == self.model_sort else f"{name}  "
            column.label = literal_cell(label, justify="left" if key.value == "model" else "right")
            # Measured again from the heading (Textual keeps a column's widest so far): the rows
            # below widen it as they need, a shorter heading or narrower figures give the room back.
            column.content_width = column.label.cell_len
        note = self.query_one("#detail-models-note", Static)
        if self.data is None:
            self._reading_row(table)
            return
        table.clear()
        # At most MAX_TABLE_ROWS drawn; the rest summed in one "N others" row (tops.py), both built
        # in the thread that read them, for every order: a sort here is a look-up.
        view = self.data.model_views.get((order_key, descending))
        if view is None:
            return
        ordered = [*view.rows, *([view.others] if view.others else [])]
        total = view.total.cost_micro
        rows = [(f"model-{i}", self._model_cells(row, total)) for i, row in enumerate(view.rows)]
        # A sum over models some of which do not report a count covers the others: marked, and said below
        silent_requests = view.unreported_requests - sum(not r.reports_requests for r in view.rows)
        silent_tokens = view.unreported_tokens - sum(not r.reports_tokens for r in view.rows)
        if view.others is not None:
            others = self._model_cells(view.others, total, others=True)
            rows.append((OTHERS_KEY, _over_reporting(others, view.others, silent_requests, silent_tokens)))
        totals = self._model_cells(view.total, total)
        totals.update(model=total_label(), share=right("100.0%" if total else UNKNOWN))
        rows.append((TOTAL_KEY, _over_reporting(totals, view.total, view.unreported_requests, view.unreported_tokens)))
        present = {str(key.value) for key in table.columns}
        said: list[str] = []
        if ("requests" in present and view.unreported_requests) or (
            present & {"input", "output", "cache"} and view.unreported_tokens
        ):
            said.append(OVER_REPORTING_NOTE)
        if billed and view.total.on_demand_micro is None:
            said.append("billed — where a day was stored before it was kept per model (a sync of that day fills it)")
        note.update(literal("; ".join(said), "dim"))
        note.set_class(bool(said), "-shown")
        fit_model_names(table, rows, table.size.width or self.app.size.width)
        for row_key, cells in rows:
            add_row(table, row_key, **cells)
        if ordered:
            table.move_cursor(row=min(cursor, len(ordered)))

    def _model_cells(self, row: ModelFigures, total: int, *, others: bool = False) -> dict[str, Text]:
        said = row.reports_tokens
        return {
            "model": literal_cell(row.model, style="italic" if others else ""),
            "cost": right(self._money(row.cost_micro)),
            "billed": right("—" if row.on_demand_micro is None else self._money(row.on_demand_micro)),
            "share": right(share(row.cost_micro, total)),
            "requests": right(count(row.requests) if row.reports_requests else NOT_REPORTED),
            "input": right(tokens(row.input_tokens) if said else NOT_REPORTED),
            "output": right(tokens(row.output_tokens) if said else NOT_REPORTED),
            "cache": right(tokens(_cache(row)) if said else NOT_REPORTED),
            "credits": right(credits(row.credits_micro)),
            "characters": right(tokens(row.characters)),
        }

    def _fill_members(self) -> None:
        """The period's members, at most MAX_TABLE_ROWS of them in the order asked for, and the rest
        summed in one "N others" row (built in the thread that read them: tops.py); with the
        provider's billing cycle (Cursor), each one's cycle spend against their limit, marked from
        80%. Someone that near their limit is listed even without spend in this period."""
        table = self.query_one("#members", DataTable)
        data = self.data
        if data is None:
            self._reading_row(table)
            return
        table.clear()
        by_member = data.limits_by_member
        has_limits = ColumnKey("limit") in table.columns
        if by_member and not has_limits:
            table.add_column(literal_cell("Cycle on-demand / limit", justify="right"), key="limit")
        elif not by_member and has_limits:
            table.remove_column("limit")
        mark_sorted(
            table, "email" if self.member_sort == "name" else self.member_sort, ascending=self.member_sort == "name"
        )
        view = data.member_views.get(self.member_sort)
        if view is None:
            return
        total = view.total_micro
        for i, row in enumerate(view.rows):
            add_row(
                table,
                f"member-{i}",
                email=literal_cell(row.actor),
                cost=right(self._money(row.cost_micro)),
                share=right(share(row.cost_micro, total)),
                requests=right(count(row.requests)),
                limit=limit_cell(by_member.get(row.actor.casefold())),
            )
        if view.others is not None:
            add_row(
                table,
                OTHERS_KEY,
                email=literal_cell(view.others.actor, style="italic"),
                cost=right(self._money(view.others.cost_micro)),
                share=right(share(view.others.cost_micro, total)),
                requests=right(count(view.others.requests)),
                limit=right(""),
            )
        for spend in data.near_unlisted:
            add_row(
                table,
                f"limit-{spend.member.casefold()}",
                email=literal_cell(spend.member),
                cost=right(UNKNOWN),
                share=right(UNKNOWN),
                requests=right(UNKNOWN),
                limit=limit_cell(spend),
            )
        tab = self.query_one(TabbedContent).get_tab("members-tab")
        title = str(tab.label).split(" ⚠")[0]
        tab.label = literal(f"{title} ⚠ {data.near_count:,}" if data.near_count else title)
        add_row(
            table,
            TOTAL_KEY,
            email=total_label(),
            cost=right(self._money(total)),
            share=right("100.0%" if total else UNKNOWN),
            requests=right(count(view.total_requests)),
        )

    def _fill_anomalies(self) -> None:
        """The period's anomalies, newest first: the day's billed cost, its baseline and ratio on its
        first row, then a row per driver (what moved, by how much, its share of the day's move)."""
        table = self.query_one("#anomalies", DataTable)
        data = self.data
        if data is None:
            self._reading_row(table)
            return
        table.clear()
        found: tuple[Anomaly, ...] = data.anomalies
        for anomaly in sorted(found, key=lambda a: a.day, reverse=True):
            day = anomaly.day.isoformat() + ("" if anomaly.direction == "rise" else " (drop)")
            mark = "▲" if anomaly.direction == "rise" else "▼"
            lines = [
                (f"{d.kind}: {d.name}", signed_usd(d.delta_micro), f"{float(d.share) * 100:.0f}%")
                for d in anomaly.drivers
            ]
            for i, (driver, change, part) in enumerate(lines or [("no single member or model", "", "")]):
                first = i == 0
                add_row(
                    table,
                    f"anomaly-{day}-{i}",
                    day=literal_cell(f"{mark} {day}" if first else "", style="bold"),
                    billed=right(self._money(anomaly.billed_micro) if first else ""),
                    baseline=right(self._money(anomaly.baseline_micro) if first else ""),
                    ratio=right(ratio_words(anomaly) if first else ""),
                    driver=literal_cell(driver),
                    change=right(change),
                    share=right(part),
                )
        # Why there are none, above the table where it wraps: in a table's cell it was cut at the width.
        why = data.anomaly_note or (
            "No anomalies this period: no complete day's billed cost left the median of its weekday "
            "(the 4-8 weeks before) by the ratio and the amount."
        )
        note = self.query_one("#anomalies-note", Static)
        note.update(literal("" if found else why, "dim"))
        note.display = not found
        tab = self.query_one(TabbedContent).get_tab("anomalies-tab")
        tab.label = literal(f"Anomalies ▲ {len(found):,}" if found else "Anomalies")

    @on(News)
    def _news(self, message: News) -> None:
        self.hear(message.live)  # before the handler of each kind of news below

    def on_sync_changed(self, message: SyncChanged) -> None:
        if message.integration_id == self.integration_id and self.is_mounted:
            self.reload()

    def on_period_changed(self, _message: PeriodChanged) -> None:
        self.reload()

    # -- actions ------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("force_sync",) and self.live.viewer_reason:
            return None  # a viewer: greyed (the reason was shown when the store opened)
        if action == "force_sync" and self.live.is_syncing(self.integration_id):
            return None
        return True

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_force_sync(self) -> None:
        self.post_message(SyncRequested((self.integration_id,)))

    def action_cycle_period(self) -> None:
        self.post_message(PeriodRequested())

    @on(PeriodSelector.Clicked)
    def _period_clicked(self) -> None:
        self.post_message(PeriodRequested())

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self.query_one(f"#{tab.removesuffix('-tab')}", DataTable).focus()

    def action_sort(self) -> None:
        """Sort the table in view by its next column (the models by cost, requests, tokens, name; the
        days by date, cost, requests; the members by cost, name, requests), and say by what."""
        active = self.query_one(TabbedContent).active
        if active == "anomalies-tab":
            toast(self, "Anomalies are listed by day, newest first.", timeout=2)
            return
        table = {"models-tab": "models", "daily-tab": "daily"}.get(active, "members")
        present = {str(key.value) for key in self.query_one(f"#{table}", DataTable).columns}
        if table == "models":
            cycle = [key for key in SORT_CYCLE if key in present]  # no requests column: not a sort key
            self.model_sort = _next(cycle, self.model_sort)
            self.model_sort_reverse = False
            self._fill_models()
            by = MODEL_COLUMNS[self.model_sort].lower()
            if self.model_sort == "cost" and "billed" in present:
                by = USAGE_VALUE.lower()
        elif table == "daily":
            self.daily_sort = _next(
                [k for k in ("date", "cost", "requests") if k in present or k == "date"], self.daily_sort
            )
            self._fill_daily(self.days)
            by = self.daily_sort
        else:
            self.member_sort = _next(
                [k for k in ("cost", "name", "requests") if k in present or k == "name"], self.member_sort
            )
            self._fill_members()
            by = self.member_sort
        toast(self, f"Sorted by {by}.", timeout=2)

    @on(DataTable.HeaderSelected, "#models")
    def _model_header(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        if key == self.model_sort:
            self.model_sort_reverse = not self.model_sort_reverse
        else:
            self.model_sort, self.model_sort_reverse = key, False
        self._fill_models()

    def action_export(self) -> None:
        """The tab in view: its rows, as `grafient report REF --by model|day|member --format csv`."""
        active = str(self.query_one(TabbedContent).active)
        if active == "anomalies-tab":
            toast(self, "`grafient anomalies LABEL --format csv` writes the anomalies as CSV.", timeout=4)
            return
        by = {"models-tab": "model", "daily-tab": "day"}.get(active, "member")
        self.post_message(ExportRequested(self.integration_id, by))

    def on_budgets_changed(self, _message: BudgetsChanged) -> None:
        if self.is_mounted:
            self.reload()  # the gauges


def _lower(title: str) -> str:
    """`members`, `workspaces`, but `API keys` (an acronym keeps its case)."""
    first = title.split(" ", 1)[0]
    return title if len(first) > 1 and first.isupper() else title.lower()
