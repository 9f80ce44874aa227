"""The Grafient App: holds the service, runs every sync as a worker, and lets the screens render.

The first frame is painted before the store is opened: the service (and with it SQLModel and
friends) is built in a thread worker right after it, so the app opens at Textual's own speed
whatever the size of the history. Everything the app reads or changes goes through that one
GrafientService, as the CLI's commands do; the app holds nothing of the store itself. Every sync
is the service's, run in an App worker (leaving a screen never cancels one); progress comes back
as messages and the screens re-read their figures.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import Provider
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from grafient_tui import home_snapshot
from grafient_tui.config import DAILY_SYNC_HOUR_UTC, PERIODS, Settings
from grafient_tui.tui.messages import IntegrationsChanged, PeriodChanged, StoreFailed, StoreOpened, SyncChanged
from grafient_tui.tui.screens.home import IntegrationListScreen
from grafient_tui.tui.shown import toast
from grafient_tui.tui.widgets.text import sentence_of

if TYPE_CHECKING:
    import httpx

    from grafient_tui.figures import (
        DetailFigures,
        HomeFigures,
        IntegrationFigures,
        IntegrationInfo,
        SyncProgress,
        SyncResult,
        SyncStatus,
    )
    from grafient_tui.secret import Secret
    from grafient_tui.service import GrafientService, IntegrationToAdd

DAILY_CHECK_SECONDS = 15 * 60
TRIGGERS = ("backfill", "daily", "force")
FINISHED = (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED)

WorkerDone = Callable[[Worker[Any], WorkerState], None]


def utc_now() -> datetime:
    return datetime.now(UTC)


class DaemonThreadExecutor(ThreadPoolExecutor):
    """The event loop's default executor: each job in a daemon thread, never waited for at exit.

    Textual runs thread workers (the screens' store reads, exports, deletes) and asyncio its DNS
    look-ups on the default executor, which asyncio.run joins on the way out, and
    concurrent.futures again at interpreter exit: quitting waited for a year of figures being read
    (a second and more), a write waiting out SQLite's busy timeout, or a DNS look-up with no network.
    A read cut short reads nothing; a write cut short is a transaction SQLite rolls back."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001  (handed to whoever awaits the future)
                future.set_exception(exc)
            else:
                future.set_result(result)

        threading.Thread(target=run, name="grafient-thread-worker", daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to wait for: the threads are daemons, and the process may end under them."""


def shown(progress: SyncProgress) -> tuple[object, ...]:
    """What of a sync's progress `sync_line` shows (and a re-read of the store could change)."""
    return (progress.windows_done, progress.windows_total, progress.days_written, progress.retry_line)


def stored_since(before: SyncProgress | None, now: SyncProgress) -> bool:
    """Whether the sync has written to the store since `before` (its last progress seen; None: none
    was): a window or a day more. The first progress seen may already count some, since a newer one
    replaces an older one still waiting in a busy event loop's queue."""
    if before is None:
        return now.windows_done > 0 or now.days_written > 0
    return (before.windows_done, before.days_written) != (now.windows_done, now.days_written)


def clause(sentence: str) -> str:
    """A sentence as part of a longer one: no full stop, and a small first letter unless it starts
    an acronym ("Cannot reach …." -> "cannot reach …", "API …" stays)."""
    text = sentence.strip().rstrip(".")
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        text = text[0].lower() + text[1:]
    return text


@dataclass
class SyncBatch:
    """The syncs one action started (`R`, the due syncs at start, the daily timer): whatever their
    outcomes, they end in one toast, not one per integration; each card keeps its own error line."""

    started: set[int] = field(default_factory=set)
    elsewhere: int = 0  # not started: another grafient process is syncing them
    closed: bool = False  # the action is over: nothing more joins this batch
    # integration id -> (outcome, label, sentence, days written, API calls, trigger)
    ended: dict[int, tuple[str, str, str | None, int, int, str]] = field(default_factory=dict)


def _integration_commands() -> type[Provider]:
    from grafient_tui.tui.commands import IntegrationCommands

    return IntegrationCommands


class GrafientApp(App[None]):
    CSS_PATH = Path(__file__).with_name("grafient.tcss")  # absolute: subclasses live elsewhere
    # Textual's own commands and ours (get_system_commands), and those naming an integration, whose
    # label is data: shown through the rule, never as markup (tui/commands.py).
    COMMANDS = App.COMMANDS | {_integration_commands}
    TITLE = "Grafient"
    SUB_TITLE = "AI spend"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit", tooltip="Quit (a sync stops; finished days kept)"),
        Binding("question_mark", "keys_help", "Keys", id="keys_help", tooltip="Every key and its binding id"),
        Binding("P", "cycle_plan", "Plan", id="plan", tooltip="Plan: free, pro or ultimate (history kept)"),
    ]

    class SyncProgressed(Message):
        """A running sync fetched a page or wrote a window."""

        def __init__(self, progress: SyncProgress) -> None:
            super().__init__()
            self.progress = progress

        def can_replace(self, message: Message) -> bool:
            return (
                isinstance(message, GrafientApp.SyncProgressed)
                and message.progress.integration_id == self.progress.integration_id
            )

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        now: Callable[[], datetime] | None = None,
        demo_teams: Sequence[IntegrationToAdd] = (),
        demo_try_key: tuple[str, str] | None = None,
        demo_budgets: Sequence[tuple[str, str, str, bool]] = (),
        remember_home: bool = True,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.transport = transport
        self.now = now or utc_now
        self.keymap = settings.keymap()
        self.period = settings.period()
        self.demo_teams = list(demo_teams)
        self.demo_try_key = demo_try_key  # (provider, key) the demo's add form offers; a made-up key
        self.demo_budgets = list(demo_budgets)  # (target, amount, period, on-demand), set once the teams are in
        # False for a throwaway home (the demo's): no next start to give a head start to, and a home read
        # finishing in its thread after the home was removed would make its folder anew to write one.
        self.remember_home = remember_home
        self.store_ready = False
        # Why this user only views the store (store/team.py), once it is open; None: they may change it.
        self.viewer_reason: str | None = None
        self.syncs: dict[int, Worker[SyncResult]] = {}
        self.progress: dict[int, SyncProgress] = {}
        self.failures: dict[int, str] = {}  # a failure the store may not hold (the engine never started)
        # The home screen's figures from the last run, painted before the store opens (plain json).
        # Keyed to its database: an app opened on another one never paints these figures.
        self.database_key = home_snapshot.database_key(settings.database_url)
        self.home_snapshot = home_snapshot.load(settings.data_dir, self.period, self.database_key)
        self._snapshot_written: bytes | None = None
        self._when_done: dict[Worker[Any], WorkerDone] = {}  # what to do when each App worker ends
        self._service_lock = threading.Lock()
        self._service: GrafientService | None = None
        self._next_daily: datetime | None = None
        self._batch: SyncBatch | None = None  # the one syncs started in this turn of the event loop join
        self._batch_of: dict[int, SyncBatch] = {}
        self.set_keymap(self.keymap)

    # -- the service (and through it, the store) ----------------------------------------

    @property
    def service(self) -> GrafientService:
        """The operations the CLI offers too (figures, add, remove, sync, export), on this app's store.
        Built by the start-up thread; anything that needs it sooner builds it here (the store itself
        opens on the service's first use, which the app always makes in a thread)."""
        with self._service_lock:
            if self._service is None:
                from grafient_tui.service import GrafientService

                self._service = GrafientService(self.settings, transport=self.transport)
            return self._service

    def open_store(self) -> list[int]:
        """Open the store through the service; return the integrations whose daily sync is due. Runs in a thread."""
        service = self.service
        service.open()
        access = service.access()
        self.viewer_reason = None if access.can_change else access.reason
        return service.due_syncs(self.now())  # none for a viewer, now or on the timer

    def today(self) -> date:
        return self.now().astimezone(UTC).date()

    def home_job(self, period: int, today: date) -> Callable[[], HomeFigures]:
        """A thread job reading the home screen's figures, and keeping them for the next start's first paint."""
        from grafient_tui.errors import GrafientError

        def job() -> HomeFigures:
            figures = self.service.home(period, today)
            if not self.remember_home:
                return figures
            try:
                self._snapshot_written = home_snapshot.remember(
                    self.settings.data_dir, figures, self._snapshot_written, database=self.database_key
                )
            except (OSError, GrafientError):
                pass  # only a head start for the next run: the store still holds everything
            return figures

        return job

    def detail_job(self, integration_id: int, period: int, today: date) -> Callable[[], DetailFigures]:
        """A thread job reading one integration's cost detail (NotFound once it is gone)."""
        return lambda: self.service.detail(integration_id, period, today)

    def on_resize(self, event: events.Resize) -> None:
        self._check_size(event.size.width, event.size.height)

    def _check_size(self, width: int, height: int) -> None:
        """Below 80×24 a notice covers the screens (their figures would be cut); it goes at 80×24."""
        from grafient_tui.tui.screens.too_small import MIN_HEIGHT, MIN_WIDTH, TooSmallScreen

        small = width < MIN_WIDTH or height < MIN_HEIGHT
        notice = next((s for s in self.screen_stack if isinstance(s, TooSmallScreen)), None)
        if small and notice is None:
            self.push_screen(TooSmallScreen())
        elif small and notice is not None:
            notice.show_size(width, height)
        elif not small and notice is not None and self.screen is notice:
            self.pop_screen()

    def get_default_screen(self) -> Screen[Any]:
        return IntegrationListScreen()

    def on_load(self) -> None:
        asyncio.get_running_loop().set_default_executor(DaemonThreadExecutor())

    def on_ready(self) -> None:
        self._check_size(self.size.width, self.size.height)
        # After the first frame: the heavy imports and the database happen off the UI thread.
        self.run_app_worker(self.open_store, self._store_open_ended, name="open-store", group="startup", thread=True)

    # -- workers and the news the screens get ---------------------------------------

    def run_app_worker(
        self, work: Any, done: WorkerDone, *, name: str, group: str, thread: bool = False, description: str = ""
    ) -> Worker[Any]:
        """Run `work` in an App worker; `done(worker, state)` runs once it has ended, whatever the outcome."""
        worker = self.run_worker(
            work, name=name, group=group, description=description, thread=thread, exit_on_error=False
        )
        self._when_done[worker] = done
        return worker

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.state in FINISHED:
            done = self._when_done.pop(event.worker, None)
            if done is not None:
                done(event.worker, event.state)

    def tell_screens(self, make: Callable[[], Message]) -> None:
        """Post a fresh message to every screen in the stack (a screen under another has to catch up too)."""
        for screen in self.screen_stack:
            screen.post_message(make())

    def _store_open_ended(self, worker: Worker[Any], state: WorkerState) -> None:
        if state == WorkerState.SUCCESS:
            self._store_opened(worker.result or [])
        elif state == WorkerState.ERROR:
            self._store_failed(worker.error)

    def on_unmount(self) -> None:
        if self._service is not None:
            self._service.close()
        gc.unfreeze()  # what _store_opened froze can be collected again (tests run many apps in one process)

    def run(self, *args: Any, **kwargs: Any) -> None:
        try:
            return super().run(*args, **kwargs)
        finally:
            # Measured: with SQLModel, SQLAlchemy and pydantic loaded, the interpreter's final garbage
            # collections take 0.5-0.6 s after the app has gone. Nothing is left to collect that matters
            # (the process is ending), so freeze what exists and let the OS take it back at once.
            import gc

            gc.freeze()

    async def action_quit(self) -> None:
        """Quit now. A running sync is cancelled: the window it was fetching is dropped, finished ones are kept.

        Never waits for a frame: with syncs running the event loop is busy, and waiting for the
        toast to be painted held quitting for up to a second. The toast shows if a frame comes
        first; the terminal gets the same news once the app has gone."""
        from rich.text import Text

        from grafient_tui.untrusted import visible

        running = [(integration_id, worker) for integration_id, worker in self.syncs.items() if worker.is_running]
        if not running:
            self.exit()
            return
        toast(self, "Stopping the sync… finished days are kept.", title="Quitting")
        for _, worker in running:
            worker.cancel()
        which = visible(self._label_of(running[0][0])) if len(running) == 1 else f"{len(running):,} integrations"
        self.exit(
            message=Text(
                f"grafient: stopped the sync of {which}; the finished days are kept, and the "
                "next sync fetches the rest."
            )
        )

    def _label_of(self, integration_id: int) -> str:
        progress = self.progress.get(integration_id)
        return progress.label if progress is not None else f"integration {integration_id}"

    def _store_opened(self, due: list[int]) -> None:
        # What the app has built so far (modules, classes, widgets, the store's metadata: ~170,000
        # objects) lives as long as the app: out of the collector's reach, a full collection walks
        # only what came after, instead of stalling the event loop up to a tenth of a second.
        gc.freeze()
        self.store_ready = True
        self.tell_screens(StoreOpened)
        for integration_id in due:  # one batch: with no network, one toast says so
            self.start_sync(integration_id, "daily")
        if self.demo_teams:  # one after another, so the teams keep their order (and their ids)
            self.run_app_worker(
                self._add_demo_teams(list(self.demo_teams)), self._demo_added, name="add-demo-teams", group="demo-add"
            )
        self.demo_teams = []
        if self.viewer_reason:
            toast(self, self.viewer_reason, title="Viewing only", severity="warning", timeout=15)
            self.refresh_bindings()  # add, sync and delete greyed (the screens' check_action)
            return
        self._arm_daily_timer()
        if not self.syncs:  # else when they have ended
            self.check_budgets()

    async def _add_demo_teams(self, teams: list[IntegrationToAdd]) -> list[int]:
        import asyncio

        added = []
        for team in teams:
            integration = await self.add_checked_integration(
                team.label, team.provider, team.key, team.account, allow_unidentified=team.allow_unidentified
            )
            added.append(integration.integration_id)
        for target, amount, period, on_demand in self.demo_budgets:  # through the service, as `grafient budget set`
            await asyncio.to_thread(
                self.service.set_budget, target, amount, period=period, on_demand=on_demand, now=self.now()
            )
        return added

    def _demo_added(self, worker: Worker[Any], state: WorkerState) -> None:
        if state == WorkerState.SUCCESS and worker.result is not None:
            for integration_id in worker.result:
                self.integration_added(integration_id)
        elif state == WorkerState.ERROR:
            toast(self, sentence_of(worker.error, "the demo team could not be added"), severity="error")

    # -- syncing -------------------------------------------------------------------

    def is_syncing(self, integration_id: int) -> bool:
        return integration_id in self.syncs

    def start_sync(self, integration_id: int, trigger: str) -> bool:
        """Run the engine's sync for one integration in an App worker; False when one is already running.

        Syncs started in the same turn of the event loop (one action: `R`, the due syncs) form one
        batch, and the batch ends in one toast once all of them have ended."""
        assert trigger in TRIGGERS
        if integration_id in self.syncs:
            return False
        if self.viewer_reason:
            toast(self, self.viewer_reason, title="Viewing only", severity="warning")
            return False
        batch = self._current_batch()
        # The lock file is checked here, at once; a shared database's lock is a query, which the sync
        # itself makes off the event loop (and says "already running" if another machine holds it).
        if not self.service.shared and self.service.is_syncing(integration_id):
            batch.elsewhere += 1  # one warning for the whole action, once its turn is over
            return False
        self.failures.pop(integration_id, None)
        self.syncs[integration_id] = self.run_app_worker(
            self._sync(integration_id, trigger),
            lambda worker, state: self._sync_ended(integration_id, worker, state),
            name=f"sync:{integration_id}",
            group="sync",
            description=f"{trigger} sync of integration {integration_id}",
        )
        batch.started.add(integration_id)
        self._batch_of[integration_id] = batch
        self._sync_changed(integration_id, stored=False)  # its card says so; the store is as it was
        return True

    def _current_batch(self) -> SyncBatch:
        """The batch of this turn of the event loop, opened by its first sync and closed right after the turn."""
        if self._batch is None:
            batch = self._batch = SyncBatch()

            def close() -> None:
                batch.closed = True
                if self._batch is batch:
                    self._batch = None
                if batch.elsewhere:
                    toast(
                        self,
                        "Another grafient process is syncing this integration right now; its data appears "
                        "when it finishes."
                        if batch.elsewhere == 1
                        else f"Another grafient process is syncing {batch.elsewhere} of these integrations right "
                        "now; their data appears when it finishes.",
                        severity="warning",
                    )
                self._report_batch(batch)

            asyncio.get_running_loop().call_soon(close)
        return self._batch

    async def _sync(self, integration_id: int, trigger: str) -> SyncResult:
        def progress(update: SyncProgress) -> None:
            self.post_message(self.SyncProgressed(update))

        [result] = await self.service.sync(integration_id, trigger=trigger, progress=progress, now=self.now())
        return result

    @on(SyncProgressed)
    def _sync_progressed(self, message: SyncProgressed) -> None:
        integration_id = message.progress.integration_id
        if integration_id in self.syncs:
            before = self.progress.get(integration_id)
            self.progress[integration_id] = message.progress
            if before is None or shown(before) != shown(message.progress):
                # Only what the cards show: a page fetched changes none of it, and telling every
                # screen about each page (dozens a second in a backfill, each re-reading the store)
                # kept the event loop so busy that a key waited most of a second. A retry changes the
                # card's line, not the store: no re-read for it.
                self._sync_changed(integration_id, stored=stored_since(before, message.progress))

    def _sync_ended(self, integration_id: int, worker: Worker[Any], state: WorkerState) -> None:
        from grafient_tui.tui.widgets.text import sentence
        from grafient_tui.untrusted import visible

        if self.syncs.get(integration_id) is not worker:
            return
        del self.syncs[integration_id]
        self.progress.pop(integration_id, None)
        label = f"integration {integration_id}"
        outcome, said, days, calls, trigger = "cancelled", None, 0, 0, "force"
        if state == WorkerState.SUCCESS:
            result: SyncResult = worker.result  # type: ignore[assignment]
            label, outcome, trigger = visible(result.label), result.outcome, result.trigger
            days, calls = result.days_written, result.requests
            if result.outcome == "failed":
                said = self.failures[integration_id] = sentence(visible(result.error or "the sync failed"))
            elif result.outcome == "skipped":
                said = sentence(visible(result.error or "another sync was already running"))
        elif state == WorkerState.ERROR:
            # run_sync never raises for API or store failures; this is a bug, and it must not crash the app.
            outcome = "failed"
            said = self.failures[integration_id] = sentence_of(worker.error, "the sync stopped on an unexpected error")
        batch = self._batch_of.pop(integration_id, None)
        if batch is not None:
            batch.ended[integration_id] = (outcome, label, said, days, calls, trigger)
            self._report_batch(batch)
        self._sync_changed(integration_id)
        if not self.syncs:
            self.check_budgets()

    def _report_batch(self, batch: SyncBatch) -> None:
        """Once every sync of a closed batch has ended: one toast for all of them (none if cancelled)."""
        from grafient_tui.tui.widgets.text import plural

        if not batch.closed or len(batch.ended) < len(batch.started) or not batch.started:
            return
        ended = [entry for entry in batch.ended.values() if entry[0] != "cancelled"]
        failed = [entry for entry in ended if entry[0] == "failed"]
        skipped = [entry for entry in ended if entry[0] == "skipped"]
        synced = [entry for entry in ended if entry[0] == "success"]
        if len(ended) == 1:  # one integration: its own words, as before
            outcome, label, said, days, calls, trigger = ended[0]
            if outcome == "failed":
                toast(self, f"{label}: {said}", title="Sync failed", severity="error", timeout=10)
            elif outcome == "skipped":
                toast(self, f"{label}: {said}", severity="warning")
            elif trigger != "daily":
                toast(
                    self,
                    f"{label}: {plural(days, 'day')} synced ({plural(calls, 'API call')}).",
                    title="Sync finished",
                    timeout=4,
                )
            return
        if failed:
            reasons = Counter(clause(entry[2] or "") for entry in failed)
            reason, _ = reasons.most_common(1)[0]
            others = len(reasons) - 1
            more = f", and {plural(others, 'other reason')}" if others else ""
            which = "the card says which" if len(failed) == 1 else "the cards say which"
            toast(
                self,
                f"{len(failed)} of {len(ended)} syncs failed: {reason}{more}; {which}.",
                title="Syncs failed",
                severity="error",
                timeout=10,
            )
        elif skipped:
            toast(
                self,
                f"{len(skipped)} of {len(ended)} syncs did not run: {clause(skipped[0][2] or '')}.",
                severity="warning",
            )
        elif synced and any(entry[5] != "daily" for entry in synced):
            days, calls = sum(entry[3] for entry in synced), sum(entry[4] for entry in synced)
            toast(
                self,
                f"{len(synced)} integrations synced: {plural(days, 'day')} ({plural(calls, 'API call')}).",
                title="Sync finished",
                timeout=4,
            )

    def _sync_changed(self, integration_id: int, *, stored: bool = True) -> None:
        self.tell_screens(lambda: SyncChanged(integration_id, stored=stored))
        self.refresh_bindings()

    def sync_line(self, integration_id: int, status: SyncStatus) -> tuple[str, str, str | None]:
        """(state, status text, sentence) for a card or a detail header: the live sync if one runs
        here, else the stored status (read off the event loop by the screen). The sentence says why
        it failed, or while syncing which request is being retried and why."""
        from grafient_tui.tui.widgets.text import ago, plural, sentence
        from grafient_tui.untrusted import visible

        if integration_id in self.syncs:
            # While a request is retried, the third part says so: "retrying (2 of 6) · cannot reach …".
            progress = self.progress.get(integration_id)
            retry = visible(progress.retry_line) if progress is not None and progress.retry_line else None
            if progress is None or progress.windows_total == 0:
                return "syncing", "⟳ syncing…", retry
            return (
                "syncing",
                f"⟳ syncing {progress.windows_done}/{progress.windows_total} windows · "
                f"{plural(progress.days_written, 'day')} written",
                retry,
            )
        last_good = f" · last good sync {ago(status.last_sync, self.now())}" if status.last_sync else ""
        failure = self.failures.get(integration_id)
        if failure:
            return "error", f"✗ sync failed{last_good}", failure
        if status.status == "ok":
            return "ok", f"✓ synced {ago(status.last_sync, self.now())}", None
        if status.status == "syncing":
            return "syncing", "⟳ syncing in another grafient process", None
        if status.status == "failed":
            return (
                "error",
                f"✗ sync failed{last_good}",
                sentence(visible(status.error or "the last sync failed; press r to retry")),
            )
        if status.status == "unknown":
            return "error", f"✗ sync state unknown{last_good}", sentence(visible(status.error or "unknown"))
        if status.status == "interrupted":
            return (
                "error",
                f"✗ sync interrupted{last_good}",
                sentence(visible(status.error or "the last sync was interrupted before it finished; press r to retry")),
            )
        return "never", "· never synced", None

    # -- budgets ----------------------------------------------------------------------

    def check_budgets(self) -> None:
        """Announce, with a toast and the terminal bell, each budget threshold crossed since it was last
        announced: the store remembers them per budget and period, so a restart (or another app on a
        shared database) does not repeat one. Runs in a thread, when the store has opened and once no
        sync is running here (a total half-way through a backfill is not worth a bell)."""
        now = self.now()
        self.run_app_worker(
            lambda: self.service.budget_alerts(now),
            self._budgets_checked,
            name="budget-alerts",
            group="budgets",
            thread=True,
        )

    def _budgets_checked(self, worker: Worker[Any], state: WorkerState) -> None:
        if state == WorkerState.SUCCESS and worker.result:
            from grafient_tui.budgets.wording import alert_text

            for status, thresholds in worker.result:
                toast(
                    self,
                    alert_text(status, thresholds),
                    title="Budget",
                    severity="error" if "100" in thresholds else "warning",
                    timeout=15,
                )
            self.bell()
        elif state == WorkerState.ERROR:
            toast(
                self,
                sentence_of(worker.error, "the budgets could not be checked"),
                title="Budgets not checked",
                severity="error",
            )

    # -- the daily sync ---------------------------------------------------------------

    @property
    def next_daily_sync(self) -> datetime | None:
        """When the timer next starts the due daily syncs (06:00 UTC); None until the store has opened."""
        return self._next_daily

    def _arm_daily_timer(self) -> None:
        """Wake at the next 06:00 UTC (at least every 15 min, so a suspended laptop catches up), then re-arm.

        dolphie's loop: the next timer is set only when this tick has finished, so ticks never pile up.
        """
        now = self.now().astimezone(UTC)
        if self._next_daily is None:
            target = now.replace(hour=DAILY_SYNC_HOUR_UTC, minute=0, second=0, microsecond=0)
            self._next_daily = target if target > now else target + timedelta(days=1)
        delay = min(max((self._next_daily - now).total_seconds(), 1.0), DAILY_CHECK_SECONDS)
        self.set_timer(delay, self.daily_tick, name="daily-sync")

    def daily_tick(self) -> None:
        """What the daily timer does when it wakes: start the due syncs if it is past 06:00, then re-arm."""
        try:
            if self.now() >= (self._next_daily or self.now()):
                self._next_daily = None  # the next 06:00 is worked out when re-arming
                self.run_due_syncs()
        finally:
            self._arm_daily_timer()

    def run_due_syncs(self) -> None:
        """Start the daily sync of every integration that is due (worked out in a thread)."""
        if self.viewer_reason:
            return  # a viewer syncs nothing
        now = self.now()
        self.run_app_worker(lambda: self.service.due_syncs(now), self._due_found, name="due", group="due", thread=True)

    def _due_found(self, worker: Worker[Any], state: WorkerState) -> None:
        if state == WorkerState.SUCCESS:
            for integration_id in worker.result or []:
                if not self.is_syncing(integration_id):
                    self.start_sync(integration_id, "daily")
        elif state == WorkerState.ERROR:
            toast(
                self,
                sentence_of(worker.error, "the local store could not be read"),
                title="Daily sync not started",
                severity="error",
            )

    # -- integrations ------------------------------------------------------------------

    def open_add_integration(self) -> None:
        from grafient_tui.tui.screens.add import AddIntegrationScreen

        def added(integration_id: int | None) -> None:
            if integration_id is not None:
                self.integration_added(integration_id, focus=True)

        self.push_screen(AddIntegrationScreen(demo_key=self.demo_try_key), added)

    async def add_checked_integration(
        self,
        label: str,
        provider: str,
        key: Secret,
        account: dict[str, str] | None = None,
        *,
        allow_unidentified: bool = False,
    ) -> IntegrationInfo:
        """Validate the key (with the provider's account settings) with the provider, then store it
        sealed; an account the provider does not identify only with `allow_unidentified`. Raises errors
        that carry a sentence."""
        return await self.service.add(provider, label, key, account=account, allow_unidentified=allow_unidentified)

    def integration_added(self, integration_id: int, *, focus: bool = False) -> None:
        self.tell_screens(lambda: IntegrationsChanged(integration_id if focus else None))
        self.start_sync(integration_id, "backfill")

    def delete_integration(self, integration_id: int, label: str) -> None:
        if self.is_syncing(integration_id):
            toast(self, "Wait for its sync to finish before deleting it.", severity="warning")
            return
        self.run_app_worker(
            lambda: self.service.remove(integration_id),
            lambda worker, state: self._deleted(integration_id, label, worker, state),
            name=f"delete:{integration_id}",
            group="delete",
            description=label,
            thread=True,
        )

    def _deleted(self, integration_id: int, label: str, worker: Worker[Any], state: WorkerState) -> None:
        from grafient_tui.untrusted import visible

        label = visible(label)
        if state == WorkerState.CANCELLED:
            return
        if state == WorkerState.ERROR:
            toast(
                self,
                sentence_of(worker.error, "the integration could not be deleted"),
                title="Not deleted",
                severity="error",
            )
            return
        self.failures.pop(integration_id, None)
        self.tell_screens(IntegrationsChanged)
        toast(self, f"Deleted {label} and its stored costs.")

    def cycle_period(self) -> None:
        self.set_period(PERIODS[(PERIODS.index(self.period) + 1) % len(PERIODS)] if self.period in PERIODS else 30)

    def set_period(self, days: int) -> None:
        """Show the last `days` UTC days everywhere, and remember it."""
        from grafient_tui.errors import GrafientError

        self.period = days
        try:
            self.settings.ensure_dirs()
            self.settings.set_period(self.period)
        except (GrafientError, OSError) as exc:
            toast(
                self,
                f"The period was not saved: {sentence_of(exc, 'the config file cannot be written')}",
                severity="warning",
            )
        period = self.period
        self.tell_screens(lambda: PeriodChanged(period))

    def export_job(self, integration_id: int) -> Callable[[], Path]:
        """A thread job writing the period's days to a 0600 CSV (the service's export, the same
        writer as `grafient report --by day --format csv`); returns its path."""
        from grafient_tui.report import ReportRange

        until = self.today()
        span = ReportRange(until - timedelta(days=self.period - 1), until)
        return lambda: self.service.export_csv(integration_id, span, today=until)

    # -- the plan -----------------------------------------------------------------------------

    def action_cycle_plan(self) -> None:
        self.set_plan(None)

    def set_plan(self, plan: str | None) -> None:
        """Save the plan (the team's, on a shared database), or the next one when None, in a thread
        (the store may be shared and busy), and say what it means."""
        from grafient_tui.config import PLANS

        def job() -> str:
            chosen = plan
            if chosen is None:
                plans = list(PLANS)
                current = self.service.plan()
                chosen = plans[(plans.index(current) + 1) % len(plans)] if current in plans else plans[0]
            self.service.set_plan(chosen)
            return chosen

        self.run_app_worker(job, self._plan_set, name="set-plan", group="plan", thread=True)

    def _plan_set(self, worker: Worker[Any], state: WorkerState) -> None:
        if state == WorkerState.ERROR:
            toast(
                self,
                f"The plan was not changed: {sentence_of(worker.error, 'it could not be saved')}",
                severity="error",
            )
            return
        if state != WorkerState.SUCCESS:
            return
        plan = worker.result
        depth = (
            "30 days of history for every provider"
            if plan == "free"
            else "each provider's most history: Cursor and Anthropic 365 days, OpenAI 180, OpenRouter 30"
        )
        toast(
            self,
            f"Plan {plan}: {depth}. The next sync fetches what is missing (R syncs all now).",
            title="Plan changed",
        )
        period = self.period
        self.tell_screens(lambda: PeriodChanged(period))  # the screens re-read, and show the plan

    # -- the command palette ----------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Every action of this app, with what it does, beside Textual's Theme and Quit. Textual's own
        Keys and Screenshot are replaced: ours list this app's keys, and save where the data lives."""
        from grafient_tui.config import PLANS

        for command in super().get_system_commands(screen):
            if command.title not in ("Keys", "Screenshot"):
                yield command
        integrations = self._home_integrations()
        yield SystemCommand(
            "Add an integration",
            "Connect a Cursor, Anthropic, OpenAI or OpenRouter admin key (a)",
            self.open_add_integration,
        )
        if integrations:
            yield SystemCommand("Sync all integrations", "Force a sync of every integration now (R)", self._sync_all)
        for days in PERIODS:
            yield SystemCommand(
                f"Period: {days:d} days",
                f"Show the last {days:d} UTC days (p cycles)",
                lambda days=days: self.set_period(days),
            )
        for plan, history in PLANS.items():  # the plans are this code's own words
            yield SystemCommand(
                f"Plan: {plan}",
                f"Keep up to {history:d} days of history (P cycles)",
                lambda plan=plan: self.set_plan(plan),
            )
        if hasattr(screen, "action_export"):
            yield SystemCommand(
                "Export CSV", "Write this integration's days of the period to a CSV file (e)", screen.action_export
            )
        yield SystemCommand(
            "Keys", "Every key of this screen and its binding id, for remapping (?)", self.action_keys_help
        )
        yield SystemCommand(
            "Screenshot",
            "Save an SVG of the screen in the data directory's exports folder",
            lambda: self.set_timer(0.1, self.save_screen_svg),
        )

    def integration_commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        """(title, help, callback) of the palette's Sync, Open and Delete of each integration, the
        label as stored: tui/commands.py shows them through the rule, never as markup."""
        from functools import partial

        for figures in self._home_integrations():
            label, iid = figures.label, figures.integration_id
            yield (f"Sync {label}", f"Force a sync of {label} now (r on its card)", partial(self._force_sync, iid))
            yield (
                f"Open {label}",
                f"The cost detail of {label}: models, days, members (enter)",
                partial(self._open_detail, iid),
            )
            yield (
                f"Delete {label}",
                f"Remove {label} and its stored costs, after asking (d)",
                partial(self._confirm_delete, iid, label),
            )

    def _force_sync(self, integration_id: int) -> None:
        if not self.is_syncing(integration_id):
            self.start_sync(integration_id, "force")

    def _home_integrations(self) -> tuple[IntegrationFigures, ...]:
        """The integrations the home screen shows (none before its first figures)."""
        home = self.screen_stack[0] if self.screen_stack else None
        if isinstance(home, IntegrationListScreen) and home.data is not None:
            return home.data.integrations
        return ()

    def _sync_all(self) -> None:
        for figures in self._home_integrations():
            if not self.is_syncing(figures.integration_id):
                self.start_sync(figures.integration_id, "force")

    def _open_detail(self, integration_id: int) -> None:
        from grafient_tui.tui.screens.detail import CostDetailScreen

        self.push_screen(CostDetailScreen(integration_id))

    def _confirm_delete(self, integration_id: int, label: str) -> None:
        from grafient_tui.tui.screens.confirm import ConfirmDeleteScreen

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.delete_integration(integration_id, label)

        self.push_screen(ConfirmDeleteScreen(label), confirmed)

    def save_screen_svg(self) -> Path | None:
        """The screen as SVG in `<data dir>/exports/` (0600; it exists wherever the app runs, unlike
        ~/Downloads over SSH), and a toast naming the file."""
        from grafient_tui.config import ensure_private_dir, write_private_file
        from grafient_tui.service import EXPORTS_DIR

        name = f"grafient-screenshot-{self.now().astimezone(UTC):%Y%m%d-%H%M%S}.svg"
        try:
            folder = ensure_private_dir(self.settings.data_dir / EXPORTS_DIR)
            path = folder / name
            write_private_file(path, self.export_screenshot(title="Grafient").encode("utf-8"))
        except Exception as exc:  # noqa: BLE001  (a full disk, a read-only home: one sentence)
            toast(self, f"No screenshot saved: {sentence_of(exc, 'the file could not be written')}", severity="error")
            return None
        self.notify_path("Screenshot saved to", path)
        return path

    def notify_path(self, what: str, path: Path) -> None:
        """A toast naming a file: the path on a line of its own (~ for the home directory), so it is
        never broken in the middle of a word."""
        shown = str(path)
        home = str(Path.home())
        if shown.startswith(home + "/"):
            shown = "~" + shown[len(home) :]
        toast(self, what, shown, timeout=8, title="File written")

    # -- keys help --------------------------------------------------------------------------

    def action_keys_help(self) -> None:
        """Every key of the current screen, as the keymap has them (greyed ones included).

        `active_bindings` (public) walks from the focused widget to the App, one binding per key (the
        nearest wins); a binding whose check_action says there is nothing for it to act on is left out."""
        from grafient_tui.tui.screens.keys_help import KeysHelpScreen

        rows: dict[tuple[str, str], list[str]] = {}
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not binding.id:
                continue  # Textual's own (scrolling, table cursor, copy): not this app's keys
            does = binding.tooltip or binding.description or binding.action
            entry = rows.setdefault((does, binding.id or ""), [])
            display = self.get_key_display(binding)
            if display not in entry:
                entry.append(display)
        listed = [(" / ".join(keys), what, binding_id) for (what, binding_id), keys in rows.items()]
        if self.use_command_palette:
            listed.append((self.COMMAND_PALETTE_BINDING, "Every command, searchable", "command_palette"))
        self.push_screen(KeysHelpScreen(listed, example=self._free_key_example()))

    def _free_key_example(self) -> str:
        """`force_sync = "f5"`: a remap example with a key nothing here uses."""
        taken = {key.strip() for keys in self.keymap.values() for key in keys.split(",")}
        for screen in self.screen_stack:
            taken |= set(screen.active_bindings)
        free = next((k for k in ("f5", "f6", "f7", "f8", "ctrl+r", "ctrl+s") if k not in taken), "f9")
        return f'force_sync = "{free}"'

    # -- failures ------------------------------------------------------------------------------

    def _store_failed(self, error: BaseException | None) -> None:
        sentence = sentence_of(error, "the local store could not be opened")
        toast(self, sentence, title="Cannot open the local store", severity="error", timeout=30)
        # No figures stay on screen that this store did not give (the last run's snapshot is gone too).
        self.home_snapshot = None
        self.tell_screens(lambda: StoreFailed(sentence))

    def _fatal_error(self) -> None:
        """Textual's crash report, minus local variables (a key could be in one), with known keys scrubbed.

        The one private hook we override, because nothing public can do it: Textual's
        `_handle_exception` calls `_fatal_error` for any exception without `__rich__`, and that
        prints a rich Traceback with `show_locals=True`. It runs inside the `except` that caught
        the error (Textual's own Traceback reads `sys.exc_info()` too), but a failed worker reaches
        it wrapped in the WorkerFailed that Textual has just recorded as the app's error (and that
        run_test re-raises), so that one is reported as such. The report goes out through the
        public `panic`. tests/tui/test_tui.py checks that Textual still calls this hook this way.
        """
        import traceback

        from rich.text import Text

        from grafient_tui.secret import scrub_known

        error = sys.exc_info()[1]
        recorded = self._exception  # the app's first unhandled error, set just before this call
        if recorded is not None and (error is None or error is recorded or error is getattr(recorded, "error", None)):
            error = recorded
        self.bell()
        if error is None:
            report = "grafient: unexpected error\n"
        else:
            report = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        # Unwrapped: panic renders at the screen's width, and a wrapped line would split what it quotes.
        self.panic(Text(scrub_known(report), style="red", no_wrap=True, overflow="ignore"))
