"""The terminal app, driven with Textual's pilot against a simulated Cursor team.

HTTP is faked at the transport (httpx.MockTransport over CountingCursorTeam); the
real client and sync engine run. The clock is frozen through the App's `now`.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import stat
import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from rich.console import Console
from textual.widgets import DataTable, Input, Select, Static

from grafient_tui.config import Settings
from grafient_tui.providers.cursor.fake import make_events
from grafient_tui.secret import Secret
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import add_integration, list_integrations
from grafient_tui.store.models import SyncRun
from grafient_tui.store.queries import daily_costs, model_breakdown
from grafient_tui.store.vault import Vault
from grafient_tui.sync.engine import backfill_integration
from grafient_tui.tui.app import GrafientApp
from grafient_tui.tui.screens.add import AddIntegrationScreen
from grafient_tui.tui.screens.confirm import ConfirmDeleteScreen
from grafient_tui.tui.screens.detail import CostDetailScreen
from grafient_tui.tui.screens.keys_help import KeysHelpScreen
from grafient_tui.tui.widgets.card import IntegrationCard
from grafient_tui.tui.widgets.chart import CostChart
from grafient_tui.tui.widgets.text import tokens
from grafient_tui.tui.widgets.welcome import WelcomePanel
from tests.conftest import GOOD_KEY
from tests.fakes import CountingCursorTeam
from tests.helpers import PATIENCE, all_bytes_under, settle, wait_for

NOW = datetime(2025, 6, 18, 9, 30, tzinfo=UTC)
MODELS = ["claude-4.5-sonnet", "gpt-5", "default", "gemini-2.5-pro"]
MEMBERS = ["alex@acme.dev", "sam@acme.dev", "kim@acme.dev"]
SIZE = (120, 40)


def make_team(key: str = GOOD_KEY, *, days: int = 40, enterprise: bool = True, seed: int = 3) -> CountingCursorTeam:
    events = make_events(
        seed=seed, start=NOW.date() - timedelta(days=days - 1), days=days, per_day=6, members=MEMBERS, models=MODELS
    )
    cutoff = int(NOW.timestamp() * 1000)
    return CountingCursorTeam(
        api_key=key, events=[e for e in events if int(e["timestamp"]) <= cutoff], enterprise=enterprise
    )


class RecordingApp(GrafientApp):
    """The app, keeping every notification's text (Textual drops them when they expire)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.notes: list[str] = []

    def notify(self, message: str, *args, **kwargs) -> None:
        self.notes.append(message)
        super().notify(message, *args, **kwargs)


def make_app(transport: httpx.AsyncBaseTransport, **kw) -> RecordingApp:
    return RecordingApp(Settings.from_env(), transport=transport, now=lambda: NOW, **kw)


def cells(table: DataTable, *, total: bool = False) -> list:
    """The table's rows as plain strings (the cells are Text), without the total row; or only it."""
    from grafient_tui.tui.screens.detail import TOTAL_KEY

    keys = [row.key.value for row in table.ordered_rows]
    if total:
        return [str(c) for c in table.get_row(TOTAL_KEY)]
    return [[str(c) for c in table.get_row(key)] for key in keys if key != TOTAL_KEY]


async def seeded(team: CountingCursorTeam, label: str = "Acme") -> int:
    """An integration stored and backfilled before the app opens (as the CLI would have done)."""
    settings = Settings.from_env()
    settings.ensure_dirs()
    db, vault = Database(settings), Vault(settings)
    row = add_integration(db, vault, label=label, provider="cursor", api_key=Secret(team.api_key), team_members=3)
    result = await backfill_integration(
        db, vault, settings, row.id, transport=httpx.MockTransport(team.handler), now=NOW
    )
    assert result.outcome == "success", result
    db.dispose()
    return int(row.id)


def sync_runs(app: GrafientApp, integration_id: int) -> list[SyncRun]:
    return sync_runs_in(app.service.db, integration_id)


def sync_runs_in(db: Database, integration_id: int) -> list[SyncRun]:
    from sqlmodel import select

    with db.session() as session:
        return list(session.exec(select(SyncRun).where(SyncRun.integration_id == integration_id)))


async def fill_add_form(pilot, label: str, key: str) -> None:
    await pilot.press("a")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, AddIntegrationScreen)
    assert screen.focused is screen.query_one("#provider", Select)  # the provider first: the rest follow it
    await pilot.press("tab")
    assert screen.focused is screen.query_one("#label", Input)
    await pilot.press(*label)
    await pilot.press("tab")
    assert screen.focused is screen.query_one("#key", Input)
    screen.query_one("#key", Input).value = key  # as if pasted
    await pilot.press("enter")


# --------------------------------------------------------------------------- add


async def test_add_with_a_good_key_backfills_and_fills_the_sparkline(grafient_home) -> None:
    team = make_team()
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.screen.query(WelcomePanel)  # the empty state explains how to get a key
        await fill_add_form(pilot, "Acme Engineering", GOOD_KEY)
        await settle(app, pilot)
        assert not isinstance(app.screen, AddIntegrationScreen)
        [integration] = list_integrations(app.service.db)
        card = app.screen.query_one(f"#card-{integration.id}", IntegrationCard)
        assert card.view.label == "Acme Engineering"
        assert card.view.key_hint == "key_…c3d4"
        assert card.view.state == "ok" and card.view.status.startswith("✓ synced")
        data = [d.cost_micro for d in card.query_one(CostChart).days]
        assert data and len(data) == 30 and max(d or 0 for d in data) > 0
        assert [r.trigger for r in sync_runs(app, integration.id)] == ["backfill"]
        assert team.event_requests > 0
        assert not app.screen.query(WelcomePanel)
        assert GOOD_KEY not in app.export_screenshot()
    assert GOOD_KEY.encode() not in all_bytes_under(grafient_home)
    assert GOOD_KEY[4:].encode() not in all_bytes_under(grafient_home)


async def test_backfill_progress_reaches_the_card_while_it_runs(grafient_home) -> None:
    team = make_team(days=40)
    gate = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("filtered-usage-events"):
            await gate.wait()
        return team.handler(request)

    app = make_app(httpx.MockTransport(slow))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await fill_add_form(pilot, "Acme", GOOD_KEY)
        await wait_for(pilot, lambda: app.syncs and app.screen.query(IntegrationCard), "the backfill to start")
        card = app.screen.query_one(IntegrationCard)
        assert card.view.state == "syncing"
        assert card.query_one(".refresh-icon").has_class("-disabled")
        gate.set()
        await settle(app, pilot)
        assert card.view.state == "ok"
        assert max(d.cost_micro or 0 for d in card.query_one(CostChart).days) > 0


async def test_q_mid_sync_stops_the_sync_and_quits_keeping_finished_days(grafient_home) -> None:
    team = make_team()
    integration_id = await seeded(team)
    stalled = asyncio.Event()

    async def stalls(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("filtered-usage-events"):
            stalled.set()
            await asyncio.Event().wait()  # the network hangs for good: q must not wait for it
        return team.handler(request)

    app = make_app(httpx.MockTransport(stalls))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("r")
        await wait_for(pilot, stalled.is_set, "the sync to reach the network")
        assert app.syncs
        await pilot.press("q")
        await _exited(app)
    assert any(note.startswith("Stopping the sync") for note in app.notes)
    assert not app.is_running
    db = Database(Settings.from_env())
    assert len(daily_costs(db, integration_id, NOW.date() - timedelta(days=29), NOW.date())) == 30  # kept
    runs = sync_runs_in(db, integration_id)
    db.dispose()
    assert [(r.trigger, r.outcome) for r in runs] == [("backfill", "success"), ("force", "interrupted")]


async def _exited(app: GrafientApp) -> None:
    """Until the app has stopped (the pilot cannot pause an app that is going)."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + PATIENCE
    while app.is_running:
        assert loop.time() < give_up, "the app never quit"
        await asyncio.sleep(0.01)


async def test_the_add_form_refuses_a_team_already_connected(grafient_home) -> None:
    """The same key again, or a label that differs only in case: one sentence, nothing stored twice."""
    team = make_team()
    await seeded(team, label="Acme")
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await fill_add_form(pilot, "Platform", GOOD_KEY)
        await settle(app, pilot)
        assert isinstance(app.screen, AddIntegrationScreen)
        assert "already stored for integration 1 ('Acme')" in str(app.screen.query_one("#key-error", Static).render())
        await pilot.press("escape")
        await pilot.pause()
        await fill_add_form(pilot, " acme ", "key_" + "9" * 64)
        await settle(app, pilot)
        assert "already exists" in str(app.screen.query_one("#label-error", Static).render())
        assert [i.label for i in list_integrations(app.service.db)] == ["Acme"]


@pytest.mark.parametrize(
    ("team_key", "enterprise", "expected"),
    [("key_" + "f" * 64, True, "HTTP 401"), (GOOD_KEY, False, "Enterprise access required")],
    ids=["rejected-key", "not-enterprise"],
)
async def test_a_refused_key_shows_its_sentence_and_stores_nothing(
    grafient_home, team_key, enterprise, expected
) -> None:
    team = make_team(team_key, enterprise=enterprise)
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await fill_add_form(pilot, "Acme", GOOD_KEY)
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, AddIntegrationScreen)  # the form stays
        error = str(screen.query_one("#key-error", Static).render())
        assert expected in error
        assert error[0].isupper()
        assert screen.query_one("#label", Input).value == "Acme"  # kept
        assert screen.query_one("#key", Input).value == ""  # cleared after submit
        assert not screen.checking
        assert list_integrations(app.service.db) == []
        assert GOOD_KEY not in app.export_screenshot()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, AddIntegrationScreen)
    assert GOOD_KEY.encode() not in all_bytes_under(grafient_home)


async def test_unreachable_api_keeps_the_form(grafient_home) -> None:
    def offline(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("name resolution failed", request=request)

    app = make_app(httpx.MockTransport(offline))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await fill_add_form(pilot, "Acme", GOOD_KEY)
        await settle(app, pilot)
        assert isinstance(app.screen, AddIntegrationScreen)
        assert "reach the Cursor API" in str(app.screen.query_one("#key-error", Static).render())
        assert list_integrations(app.service.db) == []


async def test_checking_state_is_visible_while_the_key_is_validated(grafient_home) -> None:
    team = make_team()
    gate = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        await gate.wait()
        return team.handler(request)

    app = make_app(httpx.MockTransport(slow))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await fill_add_form(pilot, "Acme", GOOD_KEY)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AddIntegrationScreen)
        assert "Checking the key with Cursor..." in str(screen.query_one("#checking", Static).render())
        assert screen.query_one("#key", Input).value == ""
        gate.set()
        await settle(app, pilot)
        assert len(list_integrations(app.service.db)) == 1


# --------------------------------------------------------------------------- sync


async def test_force_sync_by_key(grafient_home) -> None:
    team = make_team()
    integration_id = await seeded(team)
    served = team.event_requests
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert [r.trigger for r in sync_runs(app, integration_id)] == ["backfill"]  # not due: no daily sync
        await pilot.press("r")
        await settle(app, pilot)
        runs = sync_runs(app, integration_id)
        assert [r.trigger for r in runs] == ["backfill", "force"]
        assert runs[-1].outcome == "success"
        assert team.event_requests > served


async def test_force_sync_by_clicking_the_refresh_icon(grafient_home) -> None:
    team = make_team()
    integration_id = await seeded(team)
    served = team.event_requests
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert await pilot.click(f"#card-{integration_id} .refresh-icon")
        await settle(app, pilot)
        assert [r.trigger for r in sync_runs(app, integration_id)] == ["backfill", "force"]
        assert team.event_requests > served


async def test_force_sync_is_greyed_and_not_queued_twice_while_running(grafient_home) -> None:
    team = make_team()
    integration_id = await seeded(team)
    gate = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        await gate.wait()
        return team.handler(request)

    app = make_app(httpx.MockTransport(slow))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("r")
        await pilot.pause()
        assert app.live.is_syncing(integration_id)
        screen = app.screen
        assert screen.check_action("force_sync", ()) is None
        assert app.active_bindings["r"].enabled is False  # greyed in the Footer
        assert screen.query_one(IntegrationCard).view.state == "syncing"
        await pilot.press("r")
        await pilot.press("R")
        await pilot.click(f"#card-{integration_id} .refresh-icon")
        await pilot.pause()
        assert len([w for w in app.workers if w.group == "sync"]) == 1
        gate.set()
        await settle(app, pilot)
        assert [r.trigger for r in sync_runs(app, integration_id)] == ["backfill", "force"]
        assert app.active_bindings["r"].enabled is True


async def test_a_sync_failure_shows_on_the_card_without_a_crash(grafient_home) -> None:
    team = make_team()
    integration_id = await seeded(team)

    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"error": "Internal Server Error", "message": "An unexpected error occurred"})

    app = make_app(httpx.MockTransport(broken))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        await pilot.press("r")
        await settle(app, pilot)
        assert app.is_running
        card = app.screen.query_one(IntegrationCard)
        assert card.view.state == "error"
        assert card.has_class("-error")
        error = str(card.query_one(".card-error", Static).render())
        assert "HTTP 500" in error
        assert card.view.status.startswith("✗ sync failed")
        assert any("HTTP 500" in note for note in app.notes)
        assert sync_runs(app, integration_id)[-1].outcome == "failed"
        # The data synced before stays on screen.
        assert card.view.summary.total_micro > 0


async def test_a_revoked_key_fails_the_sync_with_the_401_sentence(grafient_home) -> None:
    team = make_team()
    await seeded(team)
    team.api_key = "key_" + "0" * 64  # revoked in Cursor: our stored key is now refused
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("r")
        await settle(app, pilot)
        card = app.screen.query_one(IntegrationCard)
        assert card.view.state == "error"
        assert "HTTP 401" in (card.view.error or "")
        assert GOOD_KEY not in app.export_screenshot()


async def test_a_killed_sync_shows_as_interrupted_not_syncing(grafient_home) -> None:
    team = make_team()
    integration_id = await seeded(team)
    db = Database(Settings.from_env())
    with db.session(write=True) as session:  # a process died mid-sync: its run is still marked running
        session.add(SyncRun(integration_id=integration_id, trigger="force", started_at=NOW, outcome="running"))
    db.dispose()
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        card = app.screen.query_one(IntegrationCard)
        assert card.view.state == "error"
        assert card.view.status.startswith("✗ sync interrupted")
        assert app.screen.check_action("force_sync", ()) is True  # nothing runs: r works


async def test_daily_sync_runs_on_start_when_due(grafient_home) -> None:
    team = make_team()
    integration_id = await seeded(team)
    later = NOW + timedelta(days=1)  # a new day has ended since the backfill: the daily sync is due
    app = GrafientApp(Settings.from_env(), transport=httpx.MockTransport(team.handler), now=lambda: later)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert [r.trigger for r in sync_runs(app, integration_id)] == ["backfill", "daily"]
        assert app.next_daily_sync == datetime(2025, 6, 20, 6, tzinfo=UTC)  # (armed for the next 06:00)


async def test_the_daily_timer_runs_due_syncs_at_six_utc_and_re_arms(grafient_home) -> None:
    team = make_team()
    integration_id = await seeded(team)
    clock = {"now": datetime(2025, 6, 18, 23, 0, tzinfo=UTC)}  # synced this morning: nothing due yet
    app = GrafientApp(Settings.from_env(), transport=httpx.MockTransport(team.handler), now=lambda: clock["now"])
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert [r.trigger for r in sync_runs(app, integration_id)] == ["backfill"]
        assert app.next_daily_sync == datetime(2025, 6, 19, 6, tzinfo=UTC)
        app.daily_tick()  # (an early wake-up: not yet 06:00)
        await settle(app, pilot)
        assert [r.trigger for r in sync_runs(app, integration_id)] == ["backfill"]
        clock["now"] = datetime(2025, 6, 19, 6, 1, tzinfo=UTC)
        app.daily_tick()  # (the timer fires after 06:00)
        await settle(app, pilot)
        assert [r.trigger for r in sync_runs(app, integration_id)] == ["backfill", "daily"]
        assert app.next_daily_sync == datetime(2025, 6, 20, 6, tzinfo=UTC)


# --------------------------------------------------------------------------- detail


async def test_detail_shows_the_model_breakdown_and_sorts_it(grafient_home) -> None:
    team = make_team()
    integration_id = await seeded(team)
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, CostDetailScreen)
        table = screen.query_one("#models", DataTable)
        since = NOW.date() - timedelta(days=29)
        expected = model_breakdown(app.service.db, integration_id, since, NOW.date())
        assert expected
        assert [row[0] for row in cells(table)] == [r.model for r in expected]
        from grafient_tui.money import format_usd

        assert [row[1] for row in cells(table)] == [format_usd(r.cost_micro) for r in expected]
        # a total row closes the table, and it is the sum of the rows
        assert cells(table, total=True)[0] == "Total"
        assert cells(table, total=True)[1] == format_usd(sum(r.cost_micro for r in expected))
        column = [key.value for key in table.columns].index  # Cursor: usage value, then billed, then the counts
        assert cells(table, total=True)[column("input")] == tokens(sum(r.input_tokens for r in expected))
        daily = screen.query_one("#daily", DataTable)
        assert len(cells(daily)) == 30
        assert cells(daily, total=True)[-1] == "30 of 30 days synced"
        assert len(cells(screen.query_one("#members", DataTable))) == len(MEMBERS)
        await pilot.press("s", "s")  # by billed, then by requests
        await pilot.pause()
        by_requests = sorted(expected, key=lambda r: r.requests, reverse=True)
        assert [row[column("requests")] for row in cells(table)] == [f"{r.requests:,}" for r in by_requests]
        assert cells(table, total=True)[0] == "Total"  # the total stays last whatever the sort
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, CostDetailScreen)


async def test_detail_marks_days_never_synced(grafient_home) -> None:
    team = make_team(days=40)
    integration_id = await seeded(team)  # the free plan backfills 30 days; a 90-day view reaches before them
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("p")  # 30 -> 90 days
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        daily = app.screen.query_one("#daily", DataTable)
        assert len(cells(daily)) == 90
        rows = daily_costs(app.service.db, integration_id, NOW.date() - timedelta(days=89), NOW.date())
        never = [r for r in rows if not r.synced]
        assert never
        assert str(daily.get_row(never[0].day.isoformat())[-1]) == "never synced"


async def test_force_sync_from_detail_updates_it_live(grafient_home) -> None:
    team = make_team()
    integration_id = await seeded(team)
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        # New usage arrives in Cursor for today; a forced sync brings it into the detail.
        team.events.extend(
            make_events(seed=99, start=NOW.date(), days=1, per_day=50, members=MEMBERS, models=["o3-new-model"])
        )
        team.events[:] = [e for e in team.events if int(e["timestamp"]) <= int(NOW.timestamp() * 1000)]
        team.invalidate()
        await pilot.press("r")
        await settle(app, pilot)
        assert isinstance(app.screen, CostDetailScreen)
        table = app.screen.query_one("#models", DataTable)
        assert "o3-new-model" in [row[0] for row in cells(table)]
        assert [r.trigger for r in sync_runs(app, integration_id)] == ["backfill", "force"]


async def test_export_csv_writes_the_period_privately(grafient_home) -> None:
    team = make_team()
    integration_id = await seeded(team)
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("2")  # the Daily tab: the export is the tab in view
        await pilot.press("e")
        await settle(app, pilot)
        [path] = list((grafient_home / "exports").glob("*.csv"))
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert any(str(path) in note for note in app.notes)
        rows = list(csv.DictReader(io.StringIO(path.read_text())))
        stored = daily_costs(app.service.db, integration_id, NOW.date() - timedelta(days=29), NOW.date())
        assert [r["date"] for r in rows] == [d.day.isoformat() for d in stored]
        from grafient_tui.money import usd_exact

        assert [r["cost_usd"] for r in rows] == [usd_exact(d.cost_micro) for d in stored]
        assert [int(r["requests"]) for r in rows] == [d.requests for d in stored]


# --------------------------------------------------------------------------- home keys


async def test_period_cycles_and_is_remembered(grafient_home) -> None:
    team = make_team()
    await seeded(team)
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        card = app.screen.query_one(IntegrationCard)
        assert len(card.query_one(CostChart).days) == 30
        await pilot.press("p")
        await settle(app, pilot)
        assert app.live.period == 90
        assert len(card.query_one(CostChart).days) == 90
        await pilot.press("p")
        await settle(app, pilot)
        assert app.live.period == 7
        assert card.view.period_days == 7
    assert Settings.from_env().period() == 7
    assert "period = 7" in (grafient_home / "config.toml").read_text()
    app = make_app(httpx.MockTransport(team.handler))
    assert app.live.period == 7


async def test_delete_asks_first_then_removes_everything(grafient_home) -> None:
    team = make_team()
    integration_id = await seeded(team)
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDeleteScreen)
        await pilot.press("n")
        await pilot.pause()
        assert [i.id for i in list_integrations(app.service.db)] == [integration_id]
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await settle(app, pilot)  # the delete runs in a thread, then the home re-reads the store
        assert list_integrations(app.service.db) == []
        assert (
            daily_costs(app.service.db, integration_id, NOW.date() - timedelta(days=5), NOW.date())[0].synced is False
        )
        assert not app.screen.query(IntegrationCard)
        assert app.screen.query(WelcomePanel)


async def test_keymap_from_the_config_file_remaps_bindings(grafient_home) -> None:
    team = make_team()
    integration_id = await seeded(team)
    (grafient_home / "config.toml").write_text('[keymap]\nforce_sync = "s"\nperiod = "ctrl+t"\n')
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("r")  # no longer bound
        await settle(app, pilot)
        assert [r.trigger for r in sync_runs(app, integration_id)] == ["backfill"]
        await pilot.press("s")
        await settle(app, pilot)
        assert [r.trigger for r in sync_runs(app, integration_id)] == ["backfill", "force"]
        await pilot.press("ctrl+t")
        assert app.live.period == 90
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, KeysHelpScreen)
        table = app.screen.query_one(DataTable)
        rows = {str(table.get_row_at(i)[2]): str(table.get_row_at(i)[0]) for i in range(table.row_count)}
        assert rows["force_sync"] == "s"
        assert "add" in rows and "quit" in rows


async def test_arrows_and_jk_move_between_cards(grafient_home) -> None:
    team = make_team()
    first = await seeded(team, "Acme")
    second = await seeded(team, "Acme Two")
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.focused.id == f"card-{first}"
        await pilot.press("j")
        assert app.focused.id == f"card-{second}"
        await pilot.press("k")
        assert app.focused.id == f"card-{first}"
        await pilot.press("down")
        assert app.focused.id == f"card-{second}"
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, CostDetailScreen) and app.screen.integration_id == second


async def test_a_card_without_usage_says_so(grafient_home) -> None:
    team = CountingCursorTeam(api_key=GOOD_KEY, events=[])
    await seeded(team)
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        card = app.screen.query_one(IntegrationCard)
        assert card.has_class("-no-usage")
        text = str(card.query_one(".card-empty", Static).render())
        assert "No usage in the last 30 days" in text and "r" in text


# --------------------------------------------------------------------------- first paint


class GatedStoreApp(GrafientApp):
    """The app with its store held shut until the test opens the gate: what the first paint shows."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.gate = threading.Event()

    def open_store(self) -> None:
        assert self.gate.wait(PATIENCE)
        super().open_store()


async def test_the_first_paint_shows_the_last_runs_figures_then_the_stores(grafient_home) -> None:
    from grafient_tui.home_snapshot import FORMAT, snapshot_path

    team = make_team()
    await seeded(team)
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        before = app.screen.query_one(IntegrationCard).view
    path = snapshot_path(Settings.from_env().data_dir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    document = json.loads(path.read_text())
    assert document["format"] == FORMAT and document["period"] == 30
    [card] = document["integrations"]
    assert card["label"] == "Acme" and card["summary"]["total_micro"] == before.summary.total_micro
    assert isinstance(card["summary"]["total_micro"], int)  # micro-cents, never a float
    assert GOOD_KEY[4:] not in path.read_text()

    app = GatedStoreApp(Settings.from_env(), transport=httpx.MockTransport(team.handler), now=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        home = app.screen
        painted = home.query_one(IntegrationCard)
        assert not app.live.store_ready and not home.loaded
        assert "sqlalchemy" not in str(type(painted.view.summary))
        assert painted.view.label == "Acme" and painted.view.summary.total_micro == before.summary.total_micro
        assert [d.cost_micro for d in painted.query_one(CostChart).days] == [
            d.cost_micro if d.synced else None for d in before.days
        ]
        assert "$" in str(home.query_one(".figure-total", Static).render())
        assert home.check_action("delete", ()) is None  # greyed until the store is open
        assert home.check_action("force_sync", ()) is True  # done once it is (tests/tui/test_first_key.py)
        app.gate.set()
        await settle(app, pilot)
        assert home.loaded and home.query_one(IntegrationCard).view.summary == before.summary


async def test_an_app_on_a_throwaway_home_keeps_no_snapshot_of_it(grafient_home) -> None:
    """The demo's app (remember_home=False) reads its home as any other but writes no snapshot: the
    home is removed at exit, and a home read ending in its thread afterwards made its folder anew."""
    from grafient_tui.home_snapshot import snapshot_path

    team = make_team()
    await seeded(team)
    settings = Settings.from_env()
    app = GrafientApp(settings, transport=httpx.MockTransport(team.handler), now=lambda: NOW, remember_home=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.screen.query_one(IntegrationCard).view.summary.total_micro > 0
    assert not snapshot_path(settings.data_dir).exists()


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b'{"format": "grafient-home-snapshot/0"}',
        b"[]",
        b'{"format": "grafient-home-snapshot/1", "period": 30}',
    ],
)
async def test_a_corrupt_or_old_snapshot_starts_as_without_one(grafient_home, content: bytes) -> None:
    from grafient_tui.config import write_private_file
    from grafient_tui.home_snapshot import snapshot_path

    settings = Settings.from_env()
    settings.ensure_dirs()
    write_private_file(snapshot_path(settings.data_dir), content)
    app = GatedStoreApp(settings, transport=httpx.MockTransport(make_team().handler), now=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.home_snapshot is None
        assert not app.screen.query(IntegrationCard) and app.screen.query("#loading")
        app.gate.set()
        await settle(app, pilot)
        assert app.screen.loaded


# --------------------------------------------------------------------------- crash


class _Boom(GrafientApp):
    BINDINGS = [("f12", "boom", "Boom")]  # a key no screen of the app binds

    def action_boom(self) -> None:
        api_key = Secret(GOOD_KEY).reveal()  # a key in a local variable, and in the message
        raise RuntimeError(f"boom with {api_key}")


async def test_the_crash_report_has_no_locals_and_no_key(grafient_home) -> None:
    app = _Boom(Settings.from_env(), transport=httpx.MockTransport(make_team().handler), now=lambda: NOW)
    out = io.StringIO()
    app.error_console = Console(file=out, width=200, color_system=None)
    with pytest.raises(RuntimeError):
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("f12")
            await pilot.pause()
    report = out.getvalue()
    assert "RuntimeError" in report and "boom with [redacted]" in report
    assert GOOD_KEY not in report
    assert "locals" not in report.lower()


def test_textual_still_sends_crashes_through_the_hook_that_hides_locals() -> None:
    """GrafientApp overrides one private hook, `App._fatal_error` (Textual's crash report prints
    local variables, and a key could be in one). If a Textual upgrade renames it or stops calling it,
    the override silently does nothing: this fails first, next to the end-to-end test above."""
    import inspect

    from textual.app import App

    handle = inspect.getsource(App._handle_exception)
    assert "self._fatal_error()" in handle
    assert "self._exception = error" in handle  # the override reads the error Textual records there
    assert "show_locals=True" in inspect.getsource(App._fatal_error)
    assert GrafientApp._fatal_error is not App._fatal_error


# --------------------------------------------------------------------------- demo


async def test_demo_mode_adds_and_backfills_one_account_per_provider_in_a_throwaway_home(grafient_home) -> None:
    from grafient_tui.demo import build_demo

    env = build_demo(now=NOW, latency=0)
    try:
        assert env.home != grafient_home and not env.home.is_relative_to(grafient_home)
        app = GrafientApp(env.settings, transport=env.transport, now=lambda: NOW, demo_teams=env.teams)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            cards = list(app.screen.query(IntegrationCard))
            assert [(c.view.label, c.view.provider) for c in cards] == [
                ("Acme Engineering", "cursor"),
                ("Acme Labs API", "anthropic"),
                ("Acme Chat", "openai"),
                ("Acme Prototypes", "openrouter"),
                ("Acme Copilot", "copilot"),
                ("Acme Grok", "xai"),
                ("Acme Gemini", "google"),
                ("Acme Voice", "elevenlabs"),
            ]
            assert all(c.view.state == "ok" and c.view.summary.total_micro > 0 for c in cards), [
                (c.view.label, c.view.state, c.view.error) for c in cards
            ]
            assert env.settings.plan() == "pro"
            assert (
                len(daily_costs(app.service.db, cards[0].integration_id, NOW.date() - timedelta(days=364), NOW.date()))
                == 365
            )
    finally:
        env.cleanup()
    assert not env.home.exists()
    assert not grafient_home.exists()  # the user's own home was never touched


def test_demo_module_does_not_import_textual() -> None:
    import subprocess
    import sys

    probe = "import sys, grafient_tui.demo; assert not [m for m in sys.modules if m.startswith('textual')]"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=PATIENCE)
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------- coverage on screen


async def test_figures_while_a_backfill_lands_say_what_they_cover(grafient_home) -> None:
    """Pro plan, 90-day period: the newest window lands first; until the older ones do, the card
    and summary say how much is synced, the average divides by the complete days only, and the
    change is withheld with its reason."""
    team = make_team(days=120)
    gate = asyncio.Event()
    newest_start = None

    async def slow_older_windows(request: httpx.Request) -> httpx.Response:
        nonlocal newest_start
        if request.url.path.endswith("filtered-usage-events"):
            start = json.loads(request.content)["startDate"]
            newest_start = start if newest_start is None else newest_start
            if start < newest_start:
                await gate.wait()
        return team.handler(request)

    settings = Settings.from_env()
    settings.ensure_dirs()
    settings.set_plan("pro")
    settings.set_period(90)
    app = make_app(httpx.MockTransport(slow_older_windows))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await fill_add_form(pilot, "Acme", GOOD_KEY)

        def first_window_shown() -> IntegrationCard | None:
            cards = list(app.screen.query(IntegrationCard))
            return cards[0] if cards and cards[0].view.summary and cards[0].view.summary.synced_days else None

        await wait_for(pilot, first_window_shown, "the first window on the card")
        card = first_window_shown()
        assert card is not None and app.syncs  # the first window is in, the rest are held back
        s = card.view.summary
        assert (s.days, s.synced_days, s.complete_days, s.today_partial) == (90, 30, 29, True)
        assert s.daily_average_micro == round(sum(r.cost_micro for r in card.view.days if r.complete) / 29)
        assert s.change_pct is None and s.change_note == "this period 29/89 days synced"
        cost_line = str(card.query_one(".card-cost", Static).render())
        assert "30 of 90 days synced" in cost_line and "today so far" in cost_line and "on-demand" in cost_line
        chart = card.query_one(CostChart)
        assert sum(1 for d in chart.days if d.cost_micro is None) == 60  # drawn apart from $0 days
        assert "· dots: not synced" in str(card.query_one(".card-scale", Static).render())
        gate.set()
        await settle(app, pilot)
        s = app.screen.query_one(IntegrationCard).view.summary
        assert (s.synced_days, s.complete_days) == (90, 89)


def test_the_first_progress_seen_may_already_count_a_written_window() -> None:
    """A newer progress replaces an older one still queued on a busy event loop, so the first news
    of a sync the app handles can already count a window written: the screens must re-read then, or
    a card shows the figures from before it until the next window lands (which, in a held-back
    backfill, may be never)."""
    from grafient_tui.figures import SyncProgress
    from grafient_tui.tui.syncing import stored_since

    def progress(windows_done: int, days_written: int, retry: str | None = None) -> SyncProgress:
        return SyncProgress(
            integration_id=1,
            label="Acme",
            trigger="backfill",
            windows_done=windows_done,
            windows_total=13,
            days_written=days_written,
            requests=4,
            retry_reason=retry,
        )

    assert stored_since(None, progress(1, 30))  # report(0) was replaced before it was handled
    assert not stored_since(None, progress(0, 0))  # the sync has only begun
    assert stored_since(progress(0, 0), progress(1, 30))
    assert not stored_since(progress(1, 30), progress(1, 30, retry="cannot reach the Cursor API"))


async def test_a_key_pasted_right_after_tab_goes_to_the_key_field(grafient_home) -> None:
    """Tab and the pasted key arrive in one burst from the terminal (tmux, a slow SSH link): every
    key is queued before the first is handled. The key must land in the masked key field."""
    from textual import events

    app = make_app(httpx.MockTransport(make_team().handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("a")
        await pilot.pause()
        screen = app.screen
        await pilot.press("tab")  # the form opens on Provider; the label comes next
        await pilot.press(*"Team")
        for key in ["tab", *GOOD_KEY]:  # posted together, as one read from the terminal delivers them
            app.post_message(events.Key(key, None if key == "tab" else key))
        await pilot.pause()
        await pilot.pause()
        assert screen.query_one("#label", Input).value == "Team"
        assert screen.query_one("#key", Input).value == GOOD_KEY
        assert GOOD_KEY not in app.export_screenshot()
