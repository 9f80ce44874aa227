"""Issue 22's papercuts, at 80x24, 100x30, 120x40 and under NO_COLOR: every tab of the detail marks
the column it is sorted by; the Footer names the third tab as it is titled (Members, Workspaces,
Projects, never "Split"); Tab leaves the focus on something in view, and ↓ then still moves in the
table in view; the Footer keeps quit, `?` and the screen's main keys whole at 80 columns."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest
from textual.widgets import DataTable, TabbedContent
from textual.widgets._footer import FooterKey

from grafient_tui.config import Settings
from grafient_tui.store.db import Database
from grafient_tui.store.vault import Vault
from grafient_tui.tui.app import GrafientApp
from grafient_tui.tui.messages import DetailRequested
from grafient_tui.tui.screens.detail import CostDetailScreen
from grafient_tui.tui.widgets.footer import fitted
from tests.factories import seed_history
from tests.helpers import settle, wait_for
from tests.tui.test_tui import NOW

# (label, provider, the title of its third tab)
ACCOUNTS = (
    ("Acme Engineering", "cursor", "Members"),
    ("Acme Labs API", "anthropic", "Workspaces"),
    ("Acme Chat", "openai", "Projects"),
)
TABS = {"1": "models", "2": "daily", "3": "members"}


def seeded() -> tuple[GrafientApp, dict[str, int]]:
    settings = Settings.from_env()
    settings.ensure_dirs()
    db, vault = Database(settings), Vault(settings)
    ids = {
        label: seed_history(
            db,
            vault,
            label=label,
            provider=provider,
            until=NOW.date(),
            days=30,
            models=["claude-4.5-sonnet", "gpt-5", "o3"],
            members=[f"team-{i}" for i in range(12)],
            seed=i,
            synced_at=NOW - timedelta(minutes=12),
        )
        for i, (label, provider, _) in enumerate(ACCOUNTS)
    }
    from grafient_tui.service import GrafientService

    service = GrafientService(settings, db=db, vault=vault)
    service.set_budget("all", "5000", now=NOW)  # a row on the budgets screen: its edit and remove keys
    service.close()
    return GrafientApp(settings, now=lambda: NOW), ids


@pytest.fixture(params=["80x24", "100x30", "120x40", "no-color"])
def size(request, monkeypatch) -> tuple[int, int]:
    if request.param == "no-color":
        monkeypatch.setenv("NO_COLOR", "1")
        return (80, 24)
    width, height = request.param.split("x")
    return int(width), int(height)


def footer_keys(app: GrafientApp) -> dict[str, FooterKey]:
    return {key.key: key for key in app.screen.query(FooterKey)}


def sort_marks(table: DataTable[object]) -> list[str]:
    labels = [column.label.plain.rstrip() for column in table.columns.values()]
    return [label for label in labels if label.endswith(("▼", "▲"))]


def assert_whole_in_line(app: GrafientApp, *keys: str) -> None:
    """Each key is in the Footer, drawn whole inside the terminal, no two overlapping."""
    shown = footer_keys(app)
    width = app.size.width
    for key in keys:
        assert key in shown, (key, sorted(shown))
        region = shown[key].region
        assert region.width > 0 and region.x >= 0 and region.right <= width, (key, region, width)
    regions = sorted((key.region for key in shown.values()), key=lambda r: r.x)
    for left, right in pairwise(regions):
        assert left.right <= right.x, (left, right)


async def test_each_tab_marks_its_sort_the_footer_names_it_and_the_arrows_move_in_it(grafient_home, size) -> None:
    app, ids = seeded()
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        for label, _provider, title in ACCOUNTS:
            app.post_message(DetailRequested(ids[label]))
            await wait_for(pilot, lambda: isinstance(app.screen, CostDetailScreen), "the detail")
            await settle(app, pilot)
            detail = app.screen
            tabs = detail.query_one(TabbedContent)
            assert tabs.get_tab("members-tab").label.plain.startswith(title)
            footer = footer_keys(app)
            if "3" in footer:
                assert footer["3"].description == title  # the tab's own word
                assert_whole_in_line(app, "3", "4")  # and the last tab's key beside it
            else:  # too narrow for the four: one `1-4 Tabs` rather than 4 left out
                assert (footer["1"].key_display, footer["1"].description) == ("1-4", "Tabs")
                assert size[0] < 100
            assert all(key.description != "Split" for key in footer.values())
            # Compact (80 columns), the token columns' headings are short: the figures keep the room.
            headings = [c.label.plain.rstrip(" ▼▲") for c in detail.query_one("#models", DataTable).columns.values()]
            assert ("In" in headings) is detail.has_class("-compact") is (size[0] < 100 or size[1] < 32)
            assert ("Input tok" in headings) is not detail.has_class("-compact")
            for key, name in TABS.items():
                await pilot.press(key)
                await pilot.pause()
                table = detail.query_one(f"#{name}", DataTable)
                assert tabs.active == f"{name}-tab" and app.focused is table
                assert len(sort_marks(table)) == 1, (name, [c.label.plain for c in table.columns.values()])
                before = sort_marks(table)
                await pilot.press("s")  # the next column takes the mark
                await pilot.pause()
                assert len(sort_marks(table)) == 1 and sort_marks(table) != before, (name, before)
                # Tab leaves the focus on something drawn on screen; ↓ then moves in the table in view.
                await pilot.press("tab")
                await pilot.pause()
                focused = app.focused
                assert focused is not None and focused.display and focused.region.area > 0, focused
                assert focused.region.overlaps(detail.region)
                row = table.cursor_row
                await pilot.press("down")
                await pilot.pause()
                assert table.cursor_row == row + 1, (name, row, table.cursor_row)
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, CostDetailScreen), "the home")


async def test_at_80_columns_the_footer_keeps_quit_help_and_the_screens_main_keys_whole(grafient_home) -> None:
    app, ids = seeded()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert_whole_in_line(app, "q", "question_mark", "a", "enter", "r", "p", "b", "e")
        app.post_message(DetailRequested(ids["Acme Labs API"]))  # the longest tab word
        await wait_for(pilot, lambda: isinstance(app.screen, CostDetailScreen), "the detail")
        await settle(app, pilot)
        # The four tab keys do not fit beside the rest: one `1-4 Tabs`, never 1-3 with 4 left out.
        assert_whole_in_line(app, "q", "question_mark", "escape", "p", "s", "1")
        assert (footer_keys(app)["1"].key_display, footer_keys(app)["1"].description) == ("1-4", "Tabs")
        assert not {"2", "3", "4"} & set(footer_keys(app))
        assert footer_keys(app)["question_mark"].key_display == "?"
        await pilot.press("escape")
        await pilot.press("b")
        await wait_for(pilot, lambda: app.screen.id == "budgets", "the budgets screen")
        await settle(app, pilot)
        assert_whole_in_line(app, "q", "question_mark", "escape", "n", "e", "d")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen.id != "budgets", "the home")
        await pilot.resize_terminal(160, 40)  # wide, nothing is left out: the plan and the palette too
        await wait_for(pilot, lambda: {"P", "ctrl+p", "g", "m", "R"} <= set(footer_keys(app)), "every key")
        assert_whole_in_line(app, "q", "question_mark", "P", "ctrl+p", "g", "m", "R")


def test_the_footer_leaves_out_the_least_important_keys_whole() -> None:
    def key(display: str, description: str) -> FooterKey:
        return FooterKey(display, display, description, "noop")

    quit_, help_, back, chart, plan = (
        key("q", "Quit"),
        key("?", "Keys"),
        key("esc", "Back"),
        key("g", "Chart"),
        key("P", "Plan"),
    )
    ranked = [(5, back), (7, chart), (0, quit_), (9, plan), (0, help_)]
    assert fitted(ranked, 80, compact=True) == [quit_, help_, back, chart, plan]  # rank order
    assert fitted(ranked, 29, compact=True) == [quit_, help_, back]  # 6+1+6+1+8 (+1+7 would be 30)
    assert fitted(ranked, 3, compact=True) == [quit_, help_]  # quit and `?` are never left out


async def test_bindings_refreshed_many_times_at_once_recompose_the_footer_once_and_it_follows(grafient_home) -> None:
    """The home refreshes its bindings for each card it mounts and focuses: one recompose for all the
    changes asked for before it runs (each cost ~40 ms, and held a key pressed at first paint), and the
    footer still shows the last of them."""
    from grafient_tui.tui.widgets.footer import KeysFooter

    app, _ = seeded()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        footer = app.screen.query_one(KeysFooter)
        composed = []
        original = KeysFooter.compose

        def counted(self):
            composed.append(self)
            return original(self)

        KeysFooter.compose = counted
        try:
            for _ in range(10):
                app.screen.refresh_bindings()
            await settle(app, pilot)
            assert composed == [footer]  # ten asks, one recompose
            assert not footer_keys(app)["r"].has_class("-disabled")
            app.screen.live = app.screen.live.sync_started(app.screen.highlighted().integration_id)
            app.screen.refresh_bindings()  # asked after it ran: another, showing the change
            await wait_for(pilot, lambda: len(composed) == 2, "a second recompose")
            await settle(app, pilot)
            assert footer_keys(app)["r"].has_class("-disabled")  # "Sync" greyed: its sync runs
        finally:
            KeysFooter.compose = original
