"""A key pressed at first paint, while the store is still opening (issue 22): Enter opens the
highlighted card's detail at once, on what the last run's home snapshot says of it, with its tables
saying they are being read; the store's figures replace it all once it has opened. A key that needs
the store (a sync, an export) is done once it is open, and says so meanwhile; never dropped.

The store's opening is held on a gate (a threading.Event the start-up thread waits on): no clock,
no sleep. HTTP is faked at the transport; the store, the snapshot and the screens are the real ones.
"""

from __future__ import annotations

import threading

import httpx
from textual.widgets import DataTable, Static

from grafient_tui.config import Settings
from grafient_tui.errors import StoreError
from grafient_tui.home_snapshot import snapshot_path
from grafient_tui.money import format_usd
from grafient_tui.tui.screens.detail import READING, READING_KEY, TOTAL_KEY, CostDetailScreen
from grafient_tui.tui.screens.home import IntegrationListScreen
from grafient_tui.tui.screens.models import ModelsScreen
from grafient_tui.tui.widgets.card import IntegrationCard
from tests.helpers import PATIENCE, run_cli, settle, wait_for
from tests.tui.test_tui import NOW, SIZE, RecordingApp, make_app, make_team, seeded

TABLES = ("models", "daily", "members", "anomalies")


class GatedStoreApp(RecordingApp):
    """The app with its store held shut until the test opens the gate (or made to fail then)."""

    def __init__(self, *args, fail: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.gate = threading.Event()
        self.fail = fail

    def open_store(self) -> None:
        assert self.gate.wait(PATIENCE)
        if self.fail:
            raise StoreError("the local database is damaged (file is not a database).")
        super().open_store()


def gated(team, **kw) -> GatedStoreApp:
    return GatedStoreApp(Settings.from_env(), transport=httpx.MockTransport(team.handler), now=lambda: NOW, **kw)


async def last_run(team) -> tuple[int, str]:
    """An app run to the end of its first home read (which writes the snapshot); the total it showed."""
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        card = app.screen.query_one(IntegrationCard)
        assert card.view.summary.total_micro
        return card.integration_id, format_usd(card.view.summary.total_micro)


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def rows_of(screen, table_id: str) -> list[list[str]]:
    table = screen.query_one(f"#{table_id}", DataTable)
    return [[str(cell) for cell in table.get_row(row.key)] for row in table.ordered_rows]


def reading_only(screen) -> bool:
    """Every table holds one row, which says it is being read (never $0, never empty as if no data)."""
    for table_id in TABLES:
        table = screen.query_one(f"#{table_id}", DataTable)
        keys = [row.key.value for row in table.ordered_rows]
        if keys != [READING_KEY] or READING not in " ".join(rows_of(screen, table_id)[0]):
            return False
    return True


async def open_at_first_paint(app: GatedStoreApp, pilot) -> CostDetailScreen:
    await pilot.pause()
    assert not app.live.store_ready and isinstance(app.screen, IntegrationListScreen)
    assert not app.screen.loaded and app.screen.query(IntegrationCard)  # the snapshot's cards
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, CostDetailScreen), "the detail, opened on the snapshot")
    assert not app.live.store_ready  # still held shut: it opened on the snapshot alone
    return app.screen


async def test_enter_at_first_paint_opens_the_detail_on_the_snapshot_then_the_store_fills_it(grafient_home) -> None:
    team = make_team()
    await seeded(team)
    iid, total = await last_run(team)

    app = gated(team)
    async with app.run_test(size=SIZE) as pilot:
        detail = await open_at_first_paint(app, pilot)
        assert detail.integration_id == iid and detail.data is None
        header = text_of(detail, "#detail-header")
        assert "Acme" in header and "Cursor" in header and "reading the local store" in header
        assert "days of history" not in header  # the snapshot does not know the plan's days: not made up
        assert total in text_of(detail, ".figure-total")  # the card's figure, from the snapshot
        assert detail.query_one("#detail-sparkline").days  # its chart too
        assert reading_only(detail)
        await pilot.press("s")  # a sort while reading: kept for when the figures come, nothing made up
        await pilot.pause()
        assert reading_only(detail) and detail.model_sort == "billed"  # Cursor: usage value, then billed
        assert not any("$0.00" in cell for t in TABLES for row in rows_of(detail, t) for cell in row)

        app.gate.set()
        await wait_for(pilot, lambda: detail.data is not None, "the store's figures in the detail")
        await settle(app, pilot)
        assert app.screen is detail
        assert "reading the local store" not in text_of(detail, "#detail-header")
        assert "days of history" in text_of(detail, "#detail-header")
        assert total in text_of(detail, ".figure-total")
        models = rows_of(detail, "models")
        assert READING not in str(models) and {row[0] for row in models} >= {"claude-4.5-sonnet", "gpt-5"}
        assert detail.query_one("#models", DataTable).get_row(TOTAL_KEY)
        daily = detail.query_one("#daily", DataTable)
        assert READING_KEY not in [row.key.value for row in daily.ordered_rows] and daily.row_count > 30


async def test_a_period_chosen_while_reading_shows_no_figure_of_the_snapshots_period(grafient_home) -> None:
    team = make_team()
    await seeded(team)
    _, total = await last_run(team)

    app = gated(team)
    async with app.run_test(size=SIZE) as pilot:
        detail = await open_at_first_paint(app, pilot)
        await pilot.press("p")  # 30 -> 90 days: the snapshot is of 30
        await wait_for(pilot, lambda: detail.live.period == 90, "the period changed")
        await pilot.pause()
        assert total not in text_of(detail, ".figure-total") and "…" in text_of(detail, ".figure-total")
        assert not detail.query_one("#detail-sparkline").days and reading_only(detail)
        app.gate.set()
        await wait_for(pilot, lambda: detail.data is not None, "the store's figures")
        assert detail.data.period == 90


async def test_the_detail_leaves_when_its_integration_is_gone_from_the_store(
    grafient_home, capsys, monkeypatch
) -> None:
    team = make_team()
    await seeded(team)
    await last_run(team)
    settings = Settings.from_env()
    snapshot = snapshot_path(settings.data_dir).read_bytes()
    # Removed elsewhere (another machine on a shared database): this home's snapshot still holds it.
    assert run_cli(capsys, monkeypatch, "remove", "Acme", "--yes").code == 0
    snapshot_path(settings.data_dir).write_bytes(snapshot)

    app = gated(team)
    async with app.run_test(size=SIZE) as pilot:
        detail = await open_at_first_paint(app, pilot)
        assert "Acme" in text_of(detail, "#detail-header") and reading_only(detail)
        app.gate.set()
        await wait_for(pilot, lambda: isinstance(app.screen, IntegrationListScreen), "back to the home")
        await settle(app, pilot)
        assert detail.data is None  # it never showed a figure this store did not give
        assert "Acme is no longer in the local store." in app.notes
        assert not app.screen.query(IntegrationCard)  # nor does the home


async def test_the_detail_leaves_when_the_store_cannot_open(grafient_home) -> None:
    team = make_team()
    await seeded(team)
    await last_run(team)

    app = gated(team, fail=True)
    async with app.run_test(size=SIZE) as pilot:
        await open_at_first_paint(app, pilot)
        app.gate.set()
        await wait_for(pilot, lambda: isinstance(app.screen, IntegrationListScreen), "back to the home")
        await wait_for(pilot, lambda: app.screen.query("#loading"), "the home saying why")
        assert not app.screen.query(IntegrationCard)
        assert str(app.screen.query_one("#loading").render()).startswith("The local store could not be opened")


async def test_a_sync_and_an_export_asked_while_the_store_opens_are_done_once_it_is(grafient_home) -> None:
    team = make_team()
    iid = await seeded(team)
    await last_run(team)
    before = team.calls.total()

    app = gated(team)
    async with app.run_test(size=SIZE) as pilot:
        await open_at_first_paint(app, pilot)
        await pilot.press("r")
        await pilot.press("e")
        await pilot.pause()
        assert not app.syncs and team.calls.total() == before  # not started: the store is shut
        assert "Still opening the local store: the sync starts once it is open." in app.notes
        assert "Still opening the local store: the export is written once it is open." in app.notes
        app.gate.set()
        await wait_for(pilot, lambda: team.calls.total() > before, "the sync asked for, started")
        await settle(app, pilot)
        assert any(note.startswith("Exported 30 days of Acme's models as CSV") for note in app.notes), app.notes
        assert iid not in app.syncs and isinstance(app.screen, CostDetailScreen)


async def test_the_models_view_opens_at_first_paint_and_fills_once_the_store_has(grafient_home) -> None:
    team = make_team()
    await seeded(team)
    await last_run(team)

    app = gated(team)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelsScreen), "the models view")
        assert not app.live.store_ready
        app.gate.set()
        await settle(app, pilot)
        names = {str(row[0]) for row in rows_of(app.screen, "models-across")}
        assert any("gpt-5" in name for name in names), names


async def test_help_and_budgets_open_at_first_paint_and_budgets_fill_once_the_store_has(grafient_home) -> None:
    from grafient_tui.tui.screens.budgets import BudgetsScreen
    from grafient_tui.tui.screens.keys_help import KeysHelpScreen

    team = make_team()
    await seeded(team)
    await last_run(team)

    app = gated(team)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, KeysHelpScreen), "the keys")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, IntegrationListScreen), "the home again")
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BudgetsScreen), "the budgets screen")
        budgets = app.screen
        assert not app.live.store_ready and budgets.check_action("new_budget", ()) is None  # greyed, said why
        app.gate.set()
        await settle(app, pilot)
        assert app.screen is budgets and budgets.check_action("new_budget", ()) is True


async def test_sync_all_pressed_on_the_snapshots_home_runs_once_the_store_is_open(grafient_home) -> None:
    team = make_team()
    iid = await seeded(team)
    await last_run(team)
    before = team.calls.total()

    app = gated(team)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not app.live.store_ready and app.screen.check_action("force_sync_all", ()) is True
        await pilot.press("R")
        await pilot.pause()
        assert not app.syncs and team.calls.total() == before
        assert "Still opening the local store: the sync starts once it is open." in app.notes
        app.gate.set()
        await wait_for(pilot, lambda: team.calls.total() > before, "the sync of every integration, started")
        await settle(app, pilot)
        assert iid not in app.syncs
