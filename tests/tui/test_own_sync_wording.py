"""A card says "syncing in another grafient process" only when another process holds the sync lock,
never for this app's own sync (seen in the demo's first backfill: for seconds after a sync ended, the
cards redrawn from figures read while it ran said another process was syncing them).

HTTP is faked at the transport; the real engine, store and screens run. The store's reads are held
at the Reads seam the App hands its screens (as a slow store would delay them), so the moment between
a sync's end and the re-read of the store is there to look at, whatever the machine's speed.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx

from grafient_tui.config import Settings
from grafient_tui.store.db import Database
from grafient_tui.store.models import SyncRun
from grafient_tui.sync.lock import SyncLock
from grafient_tui.tui.messages import Reads, SyncRequested
from grafient_tui.tui.screens.detail import CostDetailScreen
from grafient_tui.tui.screens.home import IntegrationListScreen
from grafient_tui.tui.widgets.card import IntegrationCard
from tests.helpers import PATIENCE, settle, wait_for
from tests.tui.test_tui import NOW, SIZE, RecordingApp, make_team, seeded, sync_runs

ELSEWHERE = "⟳ syncing in another grafient process"


class HeldReads:
    """The App's reads, slow when told: the home's held before it reads while `open` is clear; with
    `landings` given, the first detail read that found the sync running (`detail_read` set) and every
    one after it are held after reading, each until given leave."""

    def __init__(self, reads: Reads) -> None:
        self._reads = reads
        self.open = threading.Event()
        self.open.set()
        self.landings: threading.Semaphore | None = None
        self.detail_read = threading.Event()
        self.first_held: Any = None  # what the first held detail read found

    def home(self, *args: Any, **kwargs: Any) -> Any:
        assert self.open.wait(PATIENCE), "the home's read was held for good"
        return self._reads.home(*args, **kwargs)

    def detail(self, *args: Any, **kwargs: Any) -> Any:
        figures = self._reads.detail(*args, **kwargs)
        landings = self.landings
        # The first read that saw the sync running is held, and every read after it (whatever it saw).
        if landings is not None and (self.detail_read.is_set() or figures.figures.status.status == "syncing"):
            if not self.detail_read.is_set():
                self.first_held = figures
            self.detail_read.set()
            assert landings.acquire(timeout=PATIENCE), "the detail's read was held for good"
        return figures

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reads, name)


class HeldReadsApp(RecordingApp):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.held = HeldReads(self.reads)
        self.reads = self.held  # type: ignore[assignment]


async def test_a_card_redrawn_after_its_own_sync_ended_never_says_another_process(grafient_home) -> None:
    team = make_team()
    integration_id = await seeded(team)
    gate = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        await gate.wait()
        return team.handler(request)

    app = HeldReadsApp(Settings.from_env(), transport=httpx.MockTransport(slow), now=lambda: NOW)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            home = app.screen
            assert isinstance(home, IntegrationListScreen)
            card = home.query_one(IntegrationCard)
            await pilot.press("r")
            await wait_for(
                pilot, lambda: sync_runs(app, integration_id)[-1].outcome == "running", "the sync to be stored running"
            )
            # The figures are read while this app's sync runs: the store says "syncing".
            home.reload()
            await wait_for(
                pilot,
                lambda: home.data is not None and home.data.integrations[0].status.status == "syncing",
                "a read of the store while the sync runs",
            )
            assert card.view.status.startswith("⟳ syncing") and card.view.status != ELSEWHERE
            # The sync ends; the re-read of the store is slow to land. Meanwhile the card is redrawn from
            # the figures read while it ran, and the live state says no sync runs here any more.
            app.held.open.clear()
            gate.set()
            await wait_for(pilot, lambda: not home.live.is_syncing(integration_id), "the home to hear the sync end")
            assert home.data is not None and home.data.integrations[0].status.status == "syncing"  # the older read
            assert card.view.status != ELSEWHERE, "this app's own sync was called another process's"
            # It ended well here: the card says so at once, as the "Sync finished" toast does, not
            # "syncing…" for the seconds the re-read takes on a loaded machine.
            assert (card.view.state, card.view.status) == ("ok", "✓ synced just now")
            app.held.open.set()
            await settle(app, pilot)
            assert card.view.state == "ok" and card.view.status.startswith("✓ synced")
    finally:
        app.held.open.set()  # a read still held ends (its thread is the executor's)


async def test_the_detail_header_of_a_read_that_saw_its_own_sync_running_never_says_another_process(
    grafient_home,
) -> None:
    """The detail re-reads on every sync news; a read that saw this app's sync running but lands after
    its end is shown before the re-read: its "Last sync" line is this app's sync, not another's."""
    team = make_team()
    integration_id = await seeded(team)
    gate = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        await gate.wait()
        return team.handler(request)

    app = HeldReadsApp(Settings.from_env(), transport=httpx.MockTransport(slow), now=lambda: NOW)
    landings = threading.Semaphore(0)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("enter")
            await settle(app, pilot)
            detail = app.screen
            assert isinstance(detail, CostDetailScreen)
            header = detail.query_one("#detail-header")

            def said() -> str:
                return str(header.render())

            assert "✓ synced" in said()
            app.post_message(SyncRequested((integration_id,)))  # what `r` asks for
            await wait_for(
                pilot, lambda: sync_runs(app, integration_id)[-1].outcome == "running", "the sync to be stored running"
            )
            app.held.landings = landings
            detail.reload()  # it reads "syncing", and is held before it lands
            await wait_for(pilot, app.held.detail_read.is_set, "the detail's read of the running sync")
            gate.set()
            await wait_for(pilot, lambda: not detail.live.is_syncing(integration_id), "the detail to hear the end")
            landings.release()  # the older read lands; the re-read the end asked for stays held
            await wait_for(pilot, lambda: detail.data is app.held.first_held, "the older read to land")
            assert detail.data is not None and detail.data.figures.status.status == "syncing"
            assert "✓ synced just now" in said() and "another grafient process" not in said(), said()
            app.held.landings = None
            landings.release()
            await settle(app, pilot)
            assert "✓ synced" in said() and "another grafient process" not in said()
    finally:
        app.held.landings = None
        for _ in range(3):
            landings.release()


async def test_a_sync_another_process_runs_says_so_on_the_card(grafient_home) -> None:
    """The other side: the sync log says running and another process holds the lock (a lock held on
    another open file of the lock, as `grafient sync` would): the card says so, and R leaves it be."""
    team = make_team()
    integration_id = await seeded(team)
    settings = Settings.from_env()
    other = SyncLock(settings, integration_id)
    assert other.try_acquire()
    db = Database(settings)
    try:
        with db.session() as session:
            session.add(SyncRun(integration_id=integration_id, trigger="force", started_at=NOW))
            session.commit()
        app = RecordingApp(settings, transport=httpx.MockTransport(team.handler), now=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            card = app.screen.query_one(IntegrationCard)
            assert card.view.status == ELSEWHERE
            await pilot.press("r")
            await settle(app, pilot)
            assert not app.syncs and card.view.status == ELSEWHERE
            assert any("Another grafient process is syncing" in note for note in app.notes)
    finally:
        other.release()
        db.dispose()


async def test_an_app_quit_mid_sync_starts_again_without_a_card_saying_syncing(grafient_home) -> None:
    """The home read while this app's sync ran is kept for the next start's first paint with the sync
    log's "running"; the app is quit before the sync ends. At the next start no process syncs: the
    first paint (before the store opens) and the store's read both say no sync runs."""
    from grafient_tui.home_snapshot import snapshot_path
    from tests.tui.test_tui import GatedStoreApp

    team = make_team()
    integration_id = await seeded(team)
    gate = asyncio.Event()

    async def held(request: httpx.Request) -> httpx.Response:
        await gate.wait()
        return team.handler(request)

    settings = Settings.from_env()
    app = RecordingApp(settings, transport=httpx.MockTransport(held), now=lambda: NOW)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            home = app.screen
            assert isinstance(home, IntegrationListScreen)
            await pilot.press("r")
            await wait_for(
                pilot, lambda: sync_runs(app, integration_id)[-1].outcome == "running", "the sync to be stored running"
            )
            home.reload()  # read (and kept for the next start) while the sync runs
            await wait_for(
                pilot,
                lambda: home.data is not None and home.data.integrations[0].status.status == "syncing",
                "a read of the store while the sync runs",
            )
            assert '"syncing"' in snapshot_path(settings.data_dir).read_text()
            assert app.live.is_syncing(integration_id)
        # quit mid-sync: its request is still held

        again = GatedStoreApp(settings, transport=httpx.MockTransport(team.handler), now=lambda: NOW)
        async with again.run_test(size=SIZE) as pilot:
            await pilot.pause()
            card = again.screen.query_one(IntegrationCard)
            assert not again.live.store_ready
            assert card.view.label == "Acme"
            assert card.view.state != "syncing" and "syncing" not in card.view.status, card.view.status
            again.gate.set()
            await settle(again, pilot)
            card = again.screen.query_one(IntegrationCard)
            assert again.screen.loaded
            assert card.view.state != "syncing" and "syncing" not in card.view.status, card.view.status
    finally:
        gate.set()
