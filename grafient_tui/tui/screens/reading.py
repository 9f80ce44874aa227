"""Reading the store from a screen: in a thread worker, one read at a time.

A change while a read runs asks for one more when it lands, so the newest figures always win and
reads never pile up (dolphie's loop). The event loop never waits on the database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

from textual.screen import Screen
from textual.worker import Worker, WorkerState

from grafient_tui.tui.shown import toast
from grafient_tui.tui.widgets.text import sentence_of

if TYPE_CHECKING:
    from grafient_tui.tui.live import LiveState

ENDED = (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED)

FiguresT = TypeVar("FiguresT")


class StoreReader(Screen[None], Generic[FiguresT]):
    """A screen that shows figures read from the store: it defines `reload()` (which calls
    `read_store` with a job returning them), `show_data(figures)` and `READ_GROUP`."""

    READ_GROUP = "store-read"
    live: LiveState  # the App's state as its news last said it (each screen's constructor sets it)
    _reading = False
    _stale = False
    _syncing_seen: frozenset[int] = frozenset()
    # The integrations this app was syncing at some moment while the figures shown were read. A stored
    # "running" sync of one of them is this app's own, though the live state may say it has ended: the
    # news of its end lands before the re-read does, and a card redrawn from the older figures meanwhile
    # said "syncing in another grafient process" for seconds (the demo's first backfill).
    read_while_syncing: frozenset[int] = frozenset()

    def hear(self, live: LiveState) -> None:
        """The App's news: its live state, and (while a read runs) the syncs that read may have seen running."""
        self.live = live
        if self._reading:
            self._syncing_seen |= live.syncing

    def reload(self) -> None:
        raise NotImplementedError

    def show_data(self, data: FiguresT) -> None:
        raise NotImplementedError

    def read_store(self, job: Callable[[], FiguresT]) -> None:
        if self._reading:
            self._stale = True
            return
        self._reading, self._stale = True, False
        self._syncing_seen = self.live.syncing
        self.run_worker(job, name=self.READ_GROUP, group=self.READ_GROUP, thread=True, exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != self.READ_GROUP or event.state not in ENDED:
            return
        event.stop()
        self._reading = False
        if not self.is_attached:
            # The app has been told to exit (q mid-sync: the cancelled syncs' news asked for this read):
            # Textual refuses to mount anything from now on, and a card mounted here was a MountError
            # that turned a clean quit into exit 1. Nothing read now will ever be seen.
            return
        if self._stale:
            self.call_later(self.reload)
        if event.state == WorkerState.SUCCESS and event.worker.result is not None:
            self.read_while_syncing = self._syncing_seen
            self.show_data(event.worker.result)
        elif event.state == WorkerState.ERROR:
            self.read_failed(event.worker.error)

    def read_failed(self, error: BaseException | None) -> None:
        """The store is busy or broken: say so, and keep what is on screen."""
        toast(
            self,
            sentence_of(error, "the local store could not be read"),
            title="Cannot read the local store",
            severity="error",
        )
