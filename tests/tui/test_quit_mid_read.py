"""Quitting while a sync runs and a screen's read of the store is still out: the read that lands after
the app has begun to end shows nothing (no MountError: exit 0 and the sentence that the sync stopped).

HTTP is faked at the transport (the sync is held at the network for good); the real engine, store and
screens run. The home's read is held until the app has been told to exit, then let through, and the
app waits for it to have read: its result lands while the app ends, as it did in the demo at 12-14 s.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from grafient_tui.config import Settings
from grafient_tui.tui.widgets.card import IntegrationCard
from tests.helpers import PATIENCE, settle, wait_for
from tests.tui.test_own_sync_wording import HeldReads
from tests.tui.test_tui import NOW, SIZE, RecordingApp, _exited, fill_add_form, make_team, seeded

OTHER_KEY = "key_" + "b" * 64


class ReadLandsWhileEndingApp(RecordingApp):
    """The app whose held home read is let through only once q has told it to exit; the quit returns
    when the home screen has handled that read's result, so it lands while the app ends (before the
    app's own queue reaches its exit and prunes the screens)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.held = HeldReads(self.reads)
        self.reads = self.held  # type: ignore[assignment]
        self.release_on_exit = False

    async def action_quit(self) -> None:
        await super().action_quit()
        if self.release_on_exit:
            self.release_on_exit = False
            home = self.screen_stack[0]
            self.held.open.set()
            loop = asyncio.get_running_loop()
            give_up = loop.time() + PATIENCE
            while home._reading:  # type: ignore[attr-defined]
                assert loop.time() < give_up, "the held read never landed"
                await asyncio.sleep(0.01)


@pytest.mark.parametrize(("held_at", "throwaway"), [("first-read", False), ("new-card", False), ("new-card", True)])
async def test_q_while_a_read_is_out_and_a_sync_runs_exits_cleanly(
    grafient_home, held_at: str, throwaway: bool
) -> None:
    """`first-read`: the store's first read (its cards not yet shown) is out when q comes; `new-card`:
    an integration has just been added, its backfill is held at the network and the read that would
    mount its card is out when q comes. A throwaway home (the demo's) promises nothing kept."""
    team, other = make_team(), make_team(OTHER_KEY, seed=5)
    await seeded(team)
    at_network = asyncio.Event()

    async def stalls(request: httpx.Request) -> httpx.Response:
        if other.api_key in _user(request):
            if request.url.path.endswith("filtered-usage-events"):
                at_network.set()
                await asyncio.Event().wait()  # the network hangs for good: q must not wait for it
            return other.handler(request)
        return team.handler(request)

    app = ReadLandsWhileEndingApp(
        Settings.from_env(), transport=httpx.MockTransport(stalls), now=lambda: NOW, remember_home=not throwaway
    )
    if held_at == "first-read":
        app.held.open.clear()
    async with app.run_test(size=SIZE) as pilot:
        if held_at == "first-read":
            await wait_for(pilot, lambda: app.live.store_ready, "the store to open")
        else:
            await settle(app, pilot)
            app.held.open.clear()  # the reads after the add (which would mount its card) are held
            await fill_add_form(pilot, "Other", OTHER_KEY)
            await wait_for(pilot, at_network.is_set, "the new integration's backfill to reach the network")
            await wait_for(pilot, lambda: app.screen_stack[0]._reading, "the home's read to go out")
            assert app.syncs
            assert len(app.screen_stack[0].query(IntegrationCard)) == 1
        app.release_on_exit = True
        await pilot.press("q")
        await _exited(app)
    assert app.return_code == 0
    assert not app.release_on_exit  # the read did land while the app ended
    if held_at == "new-card":
        [stopping] = [note for note in app.notes if note.startswith("Stopping the sync")]
        assert ("kept" in stopping) is not throwaway


def _user(request: httpx.Request) -> str:
    import base64

    value = request.headers.get("authorization", "").partition(" ")[2]
    return base64.b64decode(value).decode("utf-8", "replace")
