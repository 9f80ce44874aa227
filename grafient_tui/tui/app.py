"""The Grafient App: composes the screens, holds the one service, and routes the messages.

The first frame is painted before the store is opened: the service (and with it SQLModel and
friends) is built in a thread worker right after it, so the app opens at Textual's own speed. All
the app reads or changes goes through that GrafientService, as the CLI does. Screens ask with intent
messages, workers (tui/jobs.py) end with result messages, and the App tells the screens what changed
with news carrying its LiveState (tui/messages.py): every step is an `@on` handler below.
"""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on
from textual.actions import SkipAction
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from grafient_tui.config import Settings
from grafient_tui.tui import jobs, syncing
from grafient_tui.tui import messages as m
from grafient_tui.tui.alerts import budget_toasts, desktop_notify
from grafient_tui.tui.app_commands import PaletteKeysScreenshots
from grafient_tui.tui.commands import IntegrationCommands, SystemCommandsInOrder, bindings
from grafient_tui.tui.live import LiveState
from grafient_tui.tui.reads import StoreReads
from grafient_tui.tui.routes import BudgetAndExportRoutes
from grafient_tui.tui.screens.home import IntegrationListScreen
from grafient_tui.tui.screens.plan import ConfirmPlanScreen
from grafient_tui.tui.screens.too_small import cover_if_small
from grafient_tui.tui.shown import toast
from grafient_tui.tui.stack import show_once
from grafient_tui.tui.threads import DaemonThreadExecutor
from grafient_tui.tui.widgets.text import sentence_of
from grafient_tui.untrusted import visible

if TYPE_CHECKING:
    import httpx

    from grafient_tui.figures import IntegrationFigures
    from grafient_tui.service import GrafientService, IntegrationToAdd
    from grafient_tui.tui.screens.add import DemoKey


class GrafientApp(
    BudgetAndExportRoutes, PaletteKeysScreenshots
):  # budgets and exports: tui/routes.py; palette, `?`, screenshots: tui/app_commands.py
    CSS_PATH = Path(__file__).with_name("grafient.tcss")  # absolute: subclasses live elsewhere
    # Textual's own commands and ours (get_system_commands), and those naming an integration, whose
    # label is data: shown through the rule, never as markup (tui/commands.py).
    COMMANDS = {SystemCommandsInOrder, IntegrationCommands}
    TITLE = "Grafient"
    SUB_TITLE = "AI spend"
    BINDINGS = bindings("app")

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        now: Callable[[], datetime] | None = None,
        demo_teams: Sequence[IntegrationToAdd] = (),
        demo_try_keys: Callable[[str], DemoKey | None] | None = None,
        demo_budgets: Sequence[tuple[str, str, str, bool]] = (),
        remember_home: bool = True,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.transport = transport
        self.now = now or (lambda: datetime.now(UTC))
        self.keymap = settings.keymap()
        self.demo_teams = list(demo_teams)
        self.demo_try_keys = demo_try_keys  # the key the demo's add form offers for a provider; made up
        self.demo_budgets = list(demo_budgets)  # (target, amount, period, on-demand), set once the teams are in
        self.live = LiveState(period=settings.period())
        self.syncs: dict[int, Worker[None]] = {}  # the running syncs' workers (a quit cancels them)
        self.integrations: tuple[IntegrationFigures, ...] = ()  # as the home screen last showed them
        self.reads = StoreReads(settings, lambda: self.service, self.now, remember_home=remember_home)
        self.home_snapshot = self.reads.last_home(self.live.period)
        self._service_lock = threading.Lock()
        self._service: GrafientService | None = None
        self.next_daily_sync: datetime | None = None  # when the timer next starts the due syncs (06:00 UTC)
        self.batches = syncing.Batches()
        # What was asked before the store had opened (a sync, an export): done once the home has read it.
        self._after_store: list[Callable[[], None]] = []
        self.integrations_known = False  # the home has read the store once (self.integrations are its)
        self.set_keymap(self.keymap)

    @property
    def service(self) -> GrafientService:
        """What the CLI offers too, on this app's store: built by the start-up thread (or whatever needs
        it sooner); the store opens on its first use, which the app always makes in a thread."""
        with self._service_lock:
            if self._service is None:
                from grafient_tui.service import GrafientService

                self._service = GrafientService(self.settings, transport=self.transport)
            return self._service

    def get_default_screen(self) -> Screen[Any]:
        return IntegrationListScreen(self.live, self.reads, self.home_snapshot)

    def on_load(self) -> None:
        asyncio.get_running_loop().set_default_executor(DaemonThreadExecutor())

    def on_ready(self) -> None:
        cover_if_small(self, self.size.width, self.size.height)
        self._work(self.open_store, "startup", thread=True)

    def open_store(self) -> None:
        """After the first frame, in a thread: the heavy imports and the store (tests hold it shut here)."""
        # The detail's module first (~40 ms, no database library): Enter pressed at first paint opens it
        # on the snapshot without importing it on the event loop.
        import grafient_tui.tui.screens.detail  # noqa: F401

        jobs.open_store(lambda: self.service, self.now(), self.post_message)

    def on_resize(self, event: events.Resize) -> None:
        cover_if_small(self, event.size.width, event.size.height)

    def _work(self, work: Any, group: str, *, thread: bool = False, name: str = "") -> Worker[Any]:
        return self.run_worker(work, name=name or group, group=group, thread=thread, exit_on_error=False)

    def _job(self, job: Callable[..., None], group: str, *args: Any, name: str = "") -> None:
        """One of tui/jobs.py in a thread worker: it posts its result; if it raises, `_worker_failed` says so."""
        self._work(partial(job, self.service, *args, self.post_message), group, thread=True, name=name)

    def _tell(self, news: Callable[[LiveState], m.News]) -> None:  # to every screen: those under one catch up
        for screen in self.screen_stack:
            screen.post_message(news(self.live))

    @on(m.StoreReady)
    def _store_ready(self, message: m.StoreReady) -> None:
        # What the app has built so far (~170,000 objects) lives as long as it: out of the collector's
        # reach, a full collection walks only what came after, not stalling the event loop 0.1 s.
        gc.freeze()
        self.live = replace(self.live, store_ready=True, viewer_reason=message.viewer_reason)
        self._tell(m.StoreOpened)
        self._start_syncs(message.due, "daily")  # one batch: with no network, one toast says so
        if self.demo_teams:
            teams = jobs.add_demo_teams(self.service, self.demo_teams, self.demo_budgets, self.now(), self.post_message)
            self._work(teams, "demo-add")
        self.demo_teams = []
        if message.viewer_reason:
            toast(self, message.viewer_reason, title="Viewing only", severity="warning", timeout=15)
            self.refresh_bindings()  # add, sync and delete greyed (the screens' check_action)
            return
        self._arm_daily_timer()
        if not self.syncs:  # else when they have ended
            self.check_budgets()
            self._job(jobs.deliver_alerts, "alerts", self.now(), False)  # a channel failing since: one line

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """The one place a worker that raised (or was cancelled) ends: each its sentence."""
        worker, group = event.worker, event.worker.group
        if event.state not in (WorkerState.ERROR, WorkerState.CANCELLED):
            return
        if group == "sync":  # its SyncFinished, said for it (a quit cancels it; a bug raises)
            for iid in [i for i, w in self.syncs.items() if w is worker]:
                failed = event.state == WorkerState.ERROR
                self.post_message(m.SyncFinished(syncing.broke(iid, worker.error) if failed else syncing.stopped(iid)))
        elif event.state != WorkerState.ERROR:
            return
        elif group == "startup":
            sentence = sentence_of(worker.error, "the local store could not be opened")
            toast(self, sentence, title="Cannot open the local store", severity="error", timeout=30)
            self.home_snapshot, self.integrations = None, ()  # no figure stays that this store did not give
            self._after_store = []  # the toast says why none of it can be done
            self._tell(lambda live: m.StoreFailed(live, sentence))
        elif group in jobs.FAILED:
            title, lead, fallback = jobs.FAILED[group]
            toast(self, f"{lead}{sentence_of(worker.error, fallback)}", title=title, severity="error")

    def on_unmount(self) -> None:
        if self._service is not None:
            self._service.close()
        gc.unfreeze()  # what _store_ready froze can be collected again (tests run many apps in one process)

    def run(self, *args: Any, **kwargs: Any) -> None:
        try:
            return super().run(*args, **kwargs)
        finally:
            # Measured: with SQLModel, SQLAlchemy and pydantic loaded, the interpreter's final collections
            # took 0.5-0.6 s after the app had gone; the process is ending, the OS takes it all back.
            gc.freeze()

    async def action_quit(self) -> None:
        """Quit now: a running sync is cancelled (the window it was fetching is dropped, finished ones
        are kept). Never waits for a frame: with syncs running the event loop is busy, and waiting for
        the toast held quitting for up to a second; the terminal gets the same news once the app has gone.

        Its key is a priority binding, seen before the focused widget's queue: in a dialog (`?`'s q
        closes it) or a text field it is theirs, and goes on to them."""
        from textual.widgets import Input, TextArea

        if self.screen.is_modal or isinstance(self.focused, (Input, TextArea)):
            raise SkipAction()
        running = [integration_id for integration_id, worker in self.syncs.items() if worker.is_running]
        if not running:
            self.exit()
            return
        throwaway = self.reads.throwaway  # the demo's home, removed as it ends
        toast(self, syncing.stopping_words(throwaway=throwaway), title="Quitting")
        for integration_id in running:
            self.syncs[integration_id].cancel()
        said = syncing.stopped_words([self.live.progress.get(i) for i in running], running[0], throwaway=throwaway)
        self.exit(message=Text(f"grafient: {visible(said)}"))

    # -- syncing, budgets, the daily timer ---------------------------------------------------

    @on(m.SyncRequested)
    def _sync_requested(self, message: m.SyncRequested) -> None:
        if self.wait_for_store(lambda: self._sync_requested(self._still_stored(message)), "the sync starts"):
            return
        ids = message.integration_ids
        self._start_syncs([f.integration_id for f in self.integrations] if ids is None else ids, message.trigger)

    def _still_stored(self, message: m.SyncRequested) -> m.SyncRequested:
        """A sync asked for on the last run's cards, of those the store still holds."""
        if message.integration_ids is None:
            return message
        stored = {f.integration_id for f in self.integrations}
        ids = tuple(i for i in message.integration_ids if i in stored)
        return m.SyncRequested(ids, trigger=message.trigger)

    def _start_syncs(self, integration_ids: Iterable[int], trigger: str) -> None:
        """One batch: whatever their outcomes, one toast once they have all ended."""
        for integration_id in integration_ids:
            if integration_id not in self.syncs:
                self.start_sync(integration_id, trigger)

    def start_sync(self, integration_id: int, trigger: str) -> bool:
        """Run the service's sync of one integration in an App worker; False when it does not start.

        Syncs started in the same turn of the event loop (one action: `R`, the due syncs) form one
        batch, and the batch ends in one toast once all of them have ended."""
        assert trigger in syncing.TRIGGERS
        if integration_id in self.syncs:
            return False
        if self.live.viewer_reason:
            toast(self, self.live.viewer_reason, title="Viewing only", severity="warning")
            return False
        batch, opened = self.batches.current()
        if opened:
            asyncio.get_running_loop().call_soon(lambda: self._show(self.batches.close(batch)))
        # The lock file is checked here, at once; a shared database's lock is a query, which the sync
        # itself makes off the event loop (and says "already running" if another machine holds it).
        if not self.service.shared and self.service.is_syncing(integration_id):
            batch.elsewhere += 1  # one warning for the whole action, once its turn is over
            return False
        job = jobs.sync(self.service, integration_id, trigger, self.now(), self.post_message)
        self.syncs[integration_id] = self._work(job, "sync", name=f"sync:{integration_id}")
        self.batches.join(batch, integration_id)
        self.live = self.live.sync_started(integration_id)
        self._sync_changed(integration_id, stored=False)  # its card says so; the store is as it was
        return True

    def _show(self, toasts: list[syncing.Toast]) -> None:  # a sync's or a batch's words (tui/syncing.py)
        for said in toasts:
            toast(self, said.text, title=said.title, severity=said.severity, timeout=said.timeout)

    @on(m.SyncProgressed)
    def _sync_progressed(self, message: m.SyncProgressed) -> None:
        progress = message.progress
        if progress.integration_id in self.syncs:
            before = self.live.progress.get(progress.integration_id)
            self.live = self.live.sync_progressed(progress)
            if before is None or syncing.shown(before) != syncing.shown(progress):
                # Only what the cards show: a page fetched changes none of it, and telling every screen about
                # each page (dozens a second in a backfill, each re-reading the store) kept the event loop so
                # busy that a key waited most of a second. A retry changes the card's line, not the store.
                self._sync_changed(progress.integration_id, stored=syncing.stored_since(before, progress))

    @on(m.SyncFinished)
    def _sync_finished(self, message: m.SyncFinished) -> None:
        end = message.end
        if self.syncs.pop(end.integration_id, None) is None:
            return
        self.live = self.live.sync_ended(end)
        self._show(self.batches.end(end))
        self._sync_changed(end.integration_id)
        if not self.syncs:
            self.check_budgets()
            # This app synced: it tells the alert channels (once per channel and event, whichever
            # process gets there first; a failing channel changes no sync's outcome).
            self._job(jobs.deliver_alerts, "alerts", self.now(), True)

    def _sync_changed(self, integration_id: int, *, stored: bool = True) -> None:
        self._tell(lambda live: m.SyncChanged(live, integration_id, stored=stored))
        if self.screen_stack:  # a sync's news may come before the first screen (seen on a loaded machine)
            self.refresh_bindings()

    def check_budgets(self) -> None:
        """Once the store has opened and no sync runs here (a half-way total is not worth a bell)."""
        self._job(jobs.check_budgets, "budgets", self.now())

    @on(m.BudgetsChecked)
    def _budgets_checked(self, message: m.BudgetsChecked) -> None:
        self._show(budget_toasts(message.alerts))  # one, short (tui/alerts.py)
        if message.alerts:
            self.bell()
            desktop_notify(self, self.settings, budget_toasts(message.alerts)[0])  # opt-in (config.toml)

    @on(m.AlertsDelivered)
    def _alerts_delivered(self, message: m.AlertsDelivered) -> None:
        if message.problem != self.live.alert_problem:
            self.live = replace(self.live, alert_problem=message.problem)
            self._tell(m.AlertsChanged)

    def _arm_daily_timer(self) -> None:
        """Wake at the next 06:00 UTC (at least every 15 min, so a suspended laptop catches up), then
        re-arm: dolphie's loop, the next timer is set only when this tick has finished."""
        if self.next_daily_sync is None:
            self.next_daily_sync = syncing.next_daily_at(self.now())
        self.set_timer(syncing.timer_delay(self.now(), self.next_daily_sync), self.daily_tick, name="daily-sync")

    def daily_tick(self) -> None:
        """What the daily timer does when it wakes: look for the due syncs if it is past 06:00, then re-arm."""
        try:
            if self.now() >= (self.next_daily_sync or self.now()):
                self.next_daily_sync = None  # the next 06:00 is worked out when re-arming
                if not self.live.viewer_reason:  # a viewer syncs nothing
                    self._job(jobs.find_due, "due", self.now())
        finally:
            self._arm_daily_timer()

    # -- integrations, the period, the plan -----------------------------------------

    @on(m.HomeLoaded)
    def _home_loaded(self, message: m.HomeLoaded) -> None:
        self.integrations = message.figures.integrations
        self.integrations_known = True
        waiting, self._after_store = self._after_store, []
        for then in waiting:  # the store is open and the integrations known ("sync all" needs them)
            then()

    def wait_for_store(self, then: Callable[[], None], what: str) -> bool:
        """True when the store has not opened yet: `then` is done once it has (and the home has read it),
        and a toast says so; a key pressed while it opens is acted on, never dropped."""
        if self.live.store_ready and self.integrations_known:
            return False
        self._after_store.append(then)
        toast(self, f"Still opening the local store: {what} once it is open.", title="One moment", timeout=4)
        return True

    @on(m.AddRequested)
    def _add_requested(self) -> None:
        from grafient_tui.tui.screens.add import AddIntegrationScreen

        def added(integration_id: int | None) -> None:
            if integration_id is not None:
                self.post_message(m.IntegrationsAdded((integration_id,), focus=True))

        self.push_screen(AddIntegrationScreen(self.service, demo_keys=self.demo_try_keys), added)

    @on(m.IntegrationsAdded)
    def _integrations_added(self, message: m.IntegrationsAdded) -> None:
        focus_id = message.integration_ids[0] if message.focus and message.integration_ids else None
        self._tell(lambda live: m.IntegrationsChanged(live, focus_id))
        for integration_id in message.integration_ids:  # one batch: one toast when they have ended
            self.start_sync(integration_id, "backfill")

    @on(m.DetailRequested)
    async def _detail_requested(self, message: m.DetailRequested) -> None:
        from grafient_tui.tui.screens.detail import CostDetailScreen

        iid = message.integration_id  # from the palette, a detail may be in front already: one at a time
        # Before the store has opened, what the last run's home said of it, until the store's figures come
        # (StoreOpened reaches the detail: it is in the stack before this handler lets the App go on).
        preview = None if self.live.store_ready else message.preview
        await show_once(
            self,
            CostDetailScreen,
            lambda: CostDetailScreen(iid, self.live, self.reads, preview=preview),
            lambda s: s.integration_id == iid,
        )

    @on(m.ModelsRequested)
    async def _models_requested(self) -> None:
        from grafient_tui.tui.screens.models import ModelsScreen

        await show_once(self, ModelsScreen, lambda: ModelsScreen(self.live, self.reads), lambda _: True)

    @on(m.DeleteRequested)
    def _delete_requested(self, message: m.DeleteRequested) -> None:
        from grafient_tui.tui.screens.confirm import ConfirmDeleteScreen

        integration_id, label = message.integration_id, message.label

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            if integration_id in self.syncs:
                toast(self, "Wait for its sync to finish before deleting it.", severity="warning")
                return
            self._job(jobs.remove, "delete", integration_id, label, name=f"delete:{integration_id}")

        self.push_screen(ConfirmDeleteScreen(label), confirmed)

    @on(m.Deleted)
    def _deleted(self, message: m.Deleted) -> None:
        self.live = self.live.forget_failure(message.integration_id)
        self._tell(m.IntegrationsChanged)
        toast(self, f"Deleted {visible(message.label)} and its stored costs.")

    @on(m.PeriodRequested)
    def _period_requested(self, message: m.PeriodRequested) -> None:
        """Show the last `days` UTC days everywhere and remember them, or a calendar month (this run only)."""
        self.live = self.live.choose(message.days, message.month)
        unsaved = None if message.month else jobs.save_period(self.settings, self.live.period)  # config.toml
        if unsaved:
            toast(self, unsaved, severity="warning")
        self._tell(m.PeriodChanged)

    def action_cycle_plan(self) -> None:
        self.post_message(m.PlanRequested())

    @on(m.PlanRequested)
    def _plan_requested(self, message: m.PlanRequested) -> None:  # asked first: Escape saves nothing
        self.push_screen(ConfirmPlanScreen(self.service, message.plan), partial(self._job, jobs.save_plan, "plan"))

    @on(m.PlanSaved)
    def _plan_saved(self, message: m.PlanSaved) -> None:
        toast(self, jobs.plan_words(message.plan), title="Plan changed")
        self._tell(m.PeriodChanged)  # the screens re-read, and show the plan
