"""The home screen: Grafient's summary, the period, and one card per integration."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

from textual import events, on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Header, Static

from grafient_tui.tui.commands import bindings
from grafient_tui.tui.layout import fit_layout, toggle_chart
from grafient_tui.tui.messages import (
    AddRequested,
    AlertsChanged,
    BudgetsChanged,
    BudgetsRequested,
    DeleteRequested,
    DetailRequested,
    ExportRequested,
    HomeLoaded,
    IntegrationsChanged,
    LiveState,
    ModelsRequested,
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
from grafient_tui.tui.shown import literal, toast
from grafient_tui.tui.syncing import sync_line
from grafient_tui.tui.widgets.card import CardView, IntegrationCard, RefreshIcon
from grafient_tui.tui.widgets.chart import (
    StackedCostChart,
    StackLegend,
)
from grafient_tui.tui.widgets.footer import KeysFooter
from grafient_tui.tui.widgets.gauge import BudgetGauges
from grafient_tui.tui.widgets.summary import PeriodSelector, SummaryBar, coverage_note, plan_note_with_key
from grafient_tui.tui.widgets.text import period_words
from grafient_tui.tui.widgets.welcome import WelcomePanel

if TYPE_CHECKING:
    from grafient_tui.figures import BudgetStatus, HomeFigures, IntegrationFigures


FIRST_FRAME_CARDS = 2  # what 24 rows show; the rest follow 20 ms after the first frame


class CardList(VerticalScroll, can_focus=False):
    """The cards. Up/down (and j/k) move between cards instead of scrolling by a line."""

    BINDINGS = bindings("cards")

    def action_move(self, step: int) -> None:
        cards = list(self.query(IntegrationCard))
        if not cards:
            return
        focused = self.screen.focused
        index = cards.index(focused) if focused in cards else (-1 if step > 0 else len(cards))
        # Focused now, not at the next idle (Widget.focus waits for it): the next key of a burst
        # (tmux send-keys, key repeat) is already queued and must move on from this card.
        self.screen.set_focus(cards[max(0, min(len(cards) - 1, index + step))])


class IntegrationListScreen(StoreReader["HomeFigures"]):
    READ_GROUP = "home-load"
    BINDINGS = bindings("home")

    def __init__(self, live: LiveState, reads: Reads, snapshot: HomeFigures | None = None) -> None:
        """`snapshot`: the last run's figures, painted until the store's replace them."""
        super().__init__(id="home")
        self.live = live
        self.reads = reads
        self.snapshot = snapshot
        self.loaded = False  # the store's figures are on screen (not only the last run's snapshot)
        self.data: HomeFigures | None = None
        self._highlight: int | None = None
        self._pending_focus: int | None = None
        self._pending_open: int | None = None  # Enter pressed on the snapshot: opened once the store has
        self._latest_views: dict[int, CardView] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield PeriodSelector(id="period")
        yield SummaryBar(id="summary")
        yield Static(id="plan-note")  # what the plan keeps, where it leaves a trend n/a (issue 21)
        yield Static(id="alert-note")  # an alert channel whose last delivery failed: one line
        yield BudgetGauges(with_target=True, id="home-budgets", classes="-inset")
        yield StackedCostChart(id="home-chart")
        yield StackLegend(id="home-legend")
        with CardList(id="cards"):
            snapshot = None if self.live.store_ready else self.snapshot
            if snapshot is not None and snapshot.integrations:
                # In the first frame itself: mounting them later would cost the first paint a frame.
                # (only those a screen shows: show_data mounts the rest right after the first frame)
                for figures in snapshot.integrations[:FIRST_FRAME_CARDS]:
                    yield IntegrationCard(self.card_view(figures))
            else:
                yield Static("Opening the local store…", id="loading")
        yield KeysFooter()

    def on_mount(self) -> None:
        fit_layout(self)
        self._show_alert_problem()
        self.query_one(PeriodSelector).show(self.live.period)
        if self.live.store_ready:
            self.reload()
        elif self.snapshot is not None:
            # Numbers at first paint: the last run's figures, until the store's replace them.
            self.show_data(self.snapshot, from_snapshot=True)
        # "synced 5 min ago" must age while the app stays open.
        self.set_interval(60, self._refresh_statuses)

    def on_screen_resume(self) -> None:
        fit_layout(self)  # the terminal may have been resized while another screen was in front
        if self.loaded:
            self.reload()

    def on_resize(self) -> None:
        fit_layout(self)

    def action_toggle_chart(self) -> None:
        toggle_chart(self)

    # -- reading the store (in a thread; the event loop never waits on it) -----

    @on(News)
    def _news(self, message: News) -> None:
        self.hear(message.live)  # before the handler of each kind of news below

    def on_store_opened(self, _message: StoreOpened) -> None:
        # The store opens after the first paint; this is the first read of it.
        self.reload()

    def on_store_failed(self, message: StoreFailed) -> None:
        """The store did not open: whatever was painted before it (the last run's snapshot, which may
        be another database's or hold removed teams) goes, and the sentence says why."""
        self.data = self.snapshot = None
        self.loaded = False
        self._latest_views = {}
        said = literal(f"The local store could not be opened: {message.sentence}")
        cards = self.query_one("#cards", CardList)
        for card in cards.query(IntegrationCard):
            card.remove()
        loading = list(cards.query("#loading").results(Static))
        if loading:
            loading[0].update(said)
        else:
            cards.mount(Static(said, id="loading"))
        self.query_one(SummaryBar).show(None, self.live.period)
        self.query_one("#plan-note", Static).display = False
        self.query_one("#home-budgets", BudgetGauges).show(())
        self._show_stack(())
        self.sub_title = ""
        self.refresh_bindings()

    def on_integrations_changed(self, message: IntegrationsChanged) -> None:
        self.reload(focus_id=message.focus_id)

    def reload(self, focus_id: int | None = None) -> None:
        """Read the store in a thread worker; the newest read wins and is shown when it lands."""
        if focus_id is not None:
            self._pending_focus = focus_id
        self.read_store(partial(self.reads.home, self.live.period, self.live.month))

    def show_data(self, data: HomeFigures, *, from_snapshot: bool = False) -> None:
        """Render the store's figures, or (`from_snapshot`, before the store has opened) the last run's."""
        self.data = data
        days = data.period
        self.query_one(PeriodSelector).show(
            days, coverage_note(data.summary) if data.summary else "", data.plan, month=data.month
        )
        plan_key = self._key_for("plan", "P")
        self.query_one(SummaryBar).show(data.summary, days, data.basis, data.estimated_models, plan_key=plan_key)
        note = self.query_one("#plan-note", Static)
        note.display = bool(data.plan_note and data.integrations)
        note.update(literal(plan_note_with_key(data.plan_note or "", plan_key)))
        self.query_one(SummaryBar).display = bool(data.integrations)  # the welcome panel needs the room
        self.query_one("#home-budgets", BudgetGauges).show(self._budgets_of(None))
        self._show_stack(data.integrations)
        count = len(data.integrations)
        self.sub_title = f"{count:,} integration{'s' if count != 1 else ''} · {period_words(days, data.month)}"
        focus_id, self._pending_focus = self._pending_focus, None
        self._show_cards([self.card_view(f) for f in data.integrations], focus_id)
        self.loaded = not from_snapshot
        if self.loaded and self._pending_open is not None:
            wanted, self._pending_open = self._pending_open, None
            if any(f.integration_id == wanted for f in data.integrations):  # not removed meanwhile
                self.post_message(DetailRequested(wanted))
        self.refresh_bindings()
        if self.loaded:
            self.post_message(HomeLoaded(data))  # the App names these integrations in the palette

    def _show_stack(self, integrations: Sequence[IntegrationFigures]) -> None:
        chart, legend = self.query_one("#home-chart", StackedCostChart), self.query_one("#home-legend", StackLegend)
        chart.set_class(not integrations, "-no-stack")
        legend.set_class(not integrations, "-no-stack")
        chart.show(integrations)
        legend.show_stack(integrations)

    def _budgets_of(self, integration_id: int | None) -> tuple[BudgetStatus, ...]:
        """The budgets on one integration (None: on all), as last read."""
        return self.data.budgets_of(integration_id) if self.data is not None else ()

    def card_view(self, figures: IntegrationFigures) -> CardView:
        iid = figures.integration_id
        line = sync_line(
            self.live, iid, figures.status, self.reads.now(), read_while_syncing=iid in self.read_while_syncing
        )
        return CardView(
            integration_id=figures.integration_id,
            label=figures.label,
            provider=figures.provider,
            key_hint=figures.key_hint,
            period_days=figures.summary.days,
            summary=figures.summary,
            days=figures.days,
            status=line.text,
            state=line.state,
            error=line.sentence,
            history_from=figures.history_from,
            budgets=self._budgets_of(figures.integration_id),
            team_members=figures.team_members,
            basis=figures.basis,
            anomaly_days=figures.anomaly_days,
        )

    def _show_cards(self, views: list[CardView], focus_id: int | None) -> None:
        container = self.query_one(CardList)
        for node in container.query("#loading"):
            node.remove()
        existing = {card.integration_id: card for card in container.query(IntegrationCard)}
        wanted = {view.integration_id for view in views}
        for integration_id, card in existing.items():
            if integration_id not in wanted:
                card.remove()
        new_cards = []
        for view in views:
            if view.integration_id in existing:
                existing[view.integration_id].show(view)
            else:
                new_cards.append(IntegrationCard(view))
        welcome = container.query(WelcomePanel)
        if views and welcome:
            welcome.remove()
        elif not views and not welcome:
            container.mount(WelcomePanel(self._key_for("add")))
        self._latest_views = {view.integration_id: view for view in views}
        if new_cards:
            # The first frame carries only the cards a screen can show; the rest follow right after
            # it, so the numbers are on screen sooner however many teams there are.
            container.mount(*new_cards[:FIRST_FRAME_CARDS])
            if new_cards[FIRST_FRAME_CARDS:]:
                rest = new_cards[FIRST_FRAME_CARDS:]
                self.set_timer(0.02, lambda: self._mount_later(rest))
        target = focus_id if focus_id is not None else self._highlight
        focused = self.focused
        if target is not None and target in wanted:
            self.call_after_refresh(self._focus_card, target)
        elif views and (not isinstance(focused, IntegrationCard) or focused.integration_id not in wanted):
            self._highlight = views[0].integration_id
            self.call_after_refresh(self._focus_card, views[0].integration_id)

    def _mount_later(self, cards: list[IntegrationCard]) -> None:
        container = self.query_one(CardList)
        if not container.is_attached:  # the app is ending (its terminal went away): nothing to show
            return
        present = {card.integration_id for card in container.query(IntegrationCard)}
        later = []
        for card in cards:
            view = self._latest_views.get(card.integration_id)
            if view is None or card.integration_id in present:
                continue  # removed meanwhile, or a newer read has mounted it already
            card.view = view
            later.append(card)
        if later:
            container.mount(*later)

    def _focus_card(self, integration_id: int) -> None:
        for card in self.query(IntegrationCard):
            if card.integration_id == integration_id:
                card.focus()
                return

    def _key_for(self, binding_id: str, default: str = "a") -> str:
        """The key the keymap gives a binding of this screen."""
        keys = [key for key, active in self.active_bindings.items() if active.binding.id == binding_id]
        return keys[0] if keys else default

    def on_sync_changed(self, message: SyncChanged) -> None:
        """A sync started, progressed or ended: show its live state now, and re-read the figures."""
        integration_id = message.integration_id
        if not self.loaded or self.data is None:
            return
        for figures in self.data.integrations:
            if figures.integration_id != integration_id:
                continue
            for card in self.query(IntegrationCard):
                if card.integration_id == integration_id:
                    card.show(self.card_view(figures))
        if message.stored:  # a re-read of every card for a retry line kept the event loop busy
            self.reload()
        self.refresh_bindings()

    def _refresh_statuses(self) -> None:
        if self.loaded and self.is_current:
            self.reload()

    # -- the highlighted card --------------------------------------------------

    def highlighted(self) -> IntegrationCard | None:
        cards = list(self.query(IntegrationCard))
        if isinstance(self.focused, IntegrationCard):
            return self.focused
        for card in cards:
            if card.integration_id == self._highlight:
                return card
        return cards[0] if cards else None

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if isinstance(event.widget, IntegrationCard):
            self._highlight = event.widget.integration_id
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("add", "force_sync", "delete", "force_sync_all") and self.live.viewer_reason:
            return None  # a viewer: greyed (the reason was shown when the store opened)
        if action == "delete" and not self.loaded and self.query(IntegrationCard):
            return None  # the cards are the last run's: greyed until the store has opened
        if action in ("open", "force_sync", "delete"):
            card = self.highlighted()
            if card is None:
                return False
            if action != "open" and self.live.is_syncing(card.integration_id):
                return None  # greyed in the Footer: a sync for it is already running
        if action == "export_all" and not self.query(IntegrationCard):
            return None  # nothing stored to export (on the last run's cards: done once the store has opened)
        if action == "force_sync_all":
            ids = [card.integration_id for card in self.query(IntegrationCard)]
            if not ids:
                return False
            if all(self.live.is_syncing(i) for i in ids):
                return None
        return True

    # -- actions --------------------------------------------------------------

    def action_add(self) -> None:
        self.post_message(AddRequested())

    def action_open(self) -> None:
        """Enter on a card, also while its figures are the last run's: the detail opens at once on what
        the snapshot says of it, and reads the rest once the store has opened (a key pressed at first
        paint is acted on, never dropped). Without a snapshot of this period it opens once the store has."""
        card = self.highlighted()
        if card is None:
            return
        if self.loaded:
            self.post_message(DetailRequested(card.integration_id))
        elif self._snapshot_shows(card.integration_id):
            self.post_message(DetailRequested(card.integration_id, preview=self.data))
        else:
            self._pending_open = card.integration_id

    def _snapshot_shows(self, integration_id: int) -> bool:
        """The figures on screen are the last run's, of the period now chosen, and hold this integration."""
        data = self.data
        return (
            data is not None
            and data.period == self.live.period
            and data.month == self.live.month
            and any(f.integration_id == integration_id for f in data.integrations)
        )

    def action_force_sync(self) -> None:
        card = self.highlighted()
        if card is not None:
            self.post_message(SyncRequested((card.integration_id,)))

    def action_force_sync_all(self) -> None:
        self.post_message(SyncRequested(tuple(card.integration_id for card in self.query(IntegrationCard))))

    @on(RefreshIcon.Pressed)
    def _refresh_icon(self, event: RefreshIcon.Pressed) -> None:
        event.stop()
        self._focus_card(event.integration_id)
        self._highlight = event.integration_id
        if self.live.is_syncing(event.integration_id):
            toast(self, "A sync for this integration is already running.", severity="warning")
            return
        self.post_message(SyncRequested((event.integration_id,)))

    def action_delete(self) -> None:
        card = self.highlighted()
        if card is not None and not self.live.is_syncing(card.integration_id):
            self.post_message(DeleteRequested(card.integration_id, card.view.label))

    def action_models(self) -> None:
        self.post_message(ModelsRequested())

    def action_cycle_period(self) -> None:
        self.post_message(PeriodRequested())

    @on(PeriodSelector.Clicked)
    def _period_clicked(self) -> None:
        self.post_message(PeriodRequested())

    def on_period_changed(self, _message: PeriodChanged) -> None:
        # The period chosen is shown at once, before its figures land: a read of many teams takes a
        # while, and a `p` whose period never showed looked lost (the next press seemed to skip one).
        if self.live.month is None:  # a month is named once read ("this-month" is a key, not a name)
            self.query_one(PeriodSelector).show(self.live.period)
        if self.loaded:
            self.reload()

    def action_budgets(self) -> None:
        self.post_message(BudgetsRequested())

    def action_export_all(self) -> None:
        self.post_message(ExportRequested(None))

    def on_alerts_changed(self, _message: AlertsChanged) -> None:
        self._show_alert_problem()

    def _show_alert_problem(self) -> None:
        note = self.query_one("#alert-note", Static)
        note.display = self.live.alert_problem is not None
        note.update(literal(f"⚠ {self.live.alert_problem or ''} (grafient alert list)"))

    def on_budgets_changed(self, _message: BudgetsChanged) -> None:
        if self.loaded:
            self.reload()  # the gauges
