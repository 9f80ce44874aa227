"""The budgets screen: list, set, edit and remove budgets with the CLI's rules and sentences, at 80x24
and 120x40; a viewer is refused with the reason. A simulated Cursor team at the transport; the clock
frozen through the App's `now`."""

from __future__ import annotations

import httpx
import pytest
from textual.widgets import DataTable, Input, Static

from grafient_tui.budgets.wording import Replaced, percent, removed_words, set_words
from grafient_tui.money import MICRO_PER_USD as USD
from grafient_tui.money import format_usd
from grafient_tui.service import GrafientService
from grafient_tui.store.team import Access
from grafient_tui.tui.messages import BudgetSetRequested
from grafient_tui.tui.screens.budgets import NONE_YET, BudgetFormScreen, BudgetsScreen, forecast_cell
from grafient_tui.tui.screens.confirm import ConfirmDeleteScreen
from tests.helpers import settle, wait_for
from tests.tui.test_tui import NOW, RecordingApp, make_app, make_team, seeded

VIEWER = "you are a viewer of this team's database; setting budgets is the syncers'."


def shown(app: RecordingApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def rows(app: RecordingApp) -> list[list[str]]:
    table = app.screen.query_one("#budgets-table", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def open_budgets(app: RecordingApp, pilot) -> BudgetsScreen:
    await settle(app, pilot)
    await pilot.press("b")
    await wait_for(pilot, lambda: isinstance(app.screen, BudgetsScreen) and app.screen.data is not None, "budgets")
    assert isinstance(app.screen, BudgetsScreen)
    return app.screen


async def save_in_form(app: RecordingApp, pilot, amount: str) -> None:
    assert isinstance(app.screen, BudgetFormScreen)
    field = app.screen.query_one("#budget-amount", Input)
    field.value = amount
    field.focus()
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await settle(app, pilot)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_set_edit_and_remove_a_budget_with_the_clis_sentences(grafient_home, size) -> None:
    team = make_team()
    await seeded(team)
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=size, notifications=True) as pilot:
        await open_budgets(app, pilot)
        assert shown(app, "#budget-line") == NONE_YET

        await pilot.press("n")
        await pilot.pause()
        await save_in_form(app, pilot, "12.345")  # the CLI's rule: dollars and cents
        assert isinstance(app.screen, BudgetFormScreen)  # refused: the form stays, saying why
        assert shown(app, "#budget-error") == "A budget is in dollars and cents, at most two decimals ('12.345')."
        await save_in_form(app, pilot, "500")
        assert isinstance(app.screen, BudgetsScreen)
        said = set_words("all", None, "month", "cost", 500 * USD, replaced=None)
        assert said == (
            "set a budget of $500 per calendar month (UTC) on all integrations, counting the usage value "
            "(plan-included usage too)"
        )
        assert said in app.notes
        [row] = rows(app)
        [status] = app.service.check_budgets(NOW.date())
        assert row[0] in "✓▲✗" and row[5:] == ["monthly, usage value", "all integrations"]
        assert row[1:3] == ["$500", format_usd(status.spent_micro)]  # the money whole, at 80 columns too
        assert row[3:5] == [percent(status), forecast_cell(status)]
        table = app.screen.query_one("#budgets-table", DataTable)
        assert table.virtual_size.width <= size[0]  # nothing cut: every column fits the width
        assert shown(app, "#budget-line").startswith(("✓ ok", "▲ forecast over", "✗ over"))
        assert "all integrations · monthly, usage value: $" in shown(app, "#budget-line")  # `grafient check`'s line

        await pilot.press("e")  # edit: the same target and period, a new amount replaces it
        await pilot.pause()
        assert app.screen.query_one("#budget-amount", Input).value == "500"
        await save_in_form(app, pilot, "750.50")
        assert (
            set_words("all", None, "month", "cost", 75050 * USD // 100, replaced=Replaced(500 * USD, "cost"))
            in app.notes
        )
        assert [r[1] for r in rows(app)] == ["$750.50"]

        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDeleteScreen)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await settle(app, pilot)
        assert removed_words("all", None, "month", "cost", 75050 * USD // 100) in app.notes
        assert app.service.budgets() == []
        assert shown(app, "#budget-line") == NONE_YET


async def test_a_budget_on_one_integration_and_the_on_demand_rule(grafient_home) -> None:
    team = make_team()
    integration_id = await seeded(team)
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await open_budgets(app, pilot)
        app.post_message(BudgetSetRequested(str(integration_id), "$40", "cycle", measure="on_demand"))
        await app.workers.wait_for_complete()
        await settle(app, pilot)
        said = set_words("Acme", integration_id, "cycle", "on_demand", 40 * USD, replaced=None)
        assert said in app.notes
        [row] = rows(app)
        assert row[1] == "$40" and row[5:] == ["billing cycle, on-demand", "Acme"]


async def test_the_palette_offers_budgets(grafient_home) -> None:
    team = make_team()
    await seeded(team)
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        assert "Budgets" in commands and "budget" in commands["Budgets"].help
        commands["Budgets"].callback()
        await wait_for(pilot, lambda: isinstance(app.screen, BudgetsScreen), "the budgets screen")


class ViewerApp(RecordingApp):
    """An app whose user only views the store (as a viewer of a shared database is)."""

    @property
    def service(self) -> GrafientService:
        service = super().service
        service._access = Access(can_change=False, reason=VIEWER)
        return service


async def test_a_viewer_sees_the_budgets_and_is_refused_with_the_reason(grafient_home) -> None:
    from grafient_tui.config import Settings

    team = make_team()
    await seeded(team)
    GrafientService(Settings.from_env()).set_budget("all", "500", now=NOW)
    app = ViewerApp(Settings.from_env(), transport=httpx.MockTransport(team.handler), now=lambda: NOW)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = await open_budgets(app, pilot)
        assert shown(app, "#budgets-viewer") == f"Viewing only: {VIEWER}"
        assert [r[1] for r in rows(app)] == ["$500"]
        for action in ("new_budget", "edit_budget", "remove_budget"):
            assert screen.check_action(action, ()) is None  # greyed
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is screen
        app.post_message(BudgetSetRequested("all", "900", "month", measure="billed"))  # the palette, a race
        await app.workers.wait_for_complete()
        await settle(app, pilot)
        assert "You are a viewer of this team's database; setting budgets is the syncers'." in app.notes
        assert [r[1] for r in rows(app)] == ["$500"]


LONG_LABEL = "Acme Platform Engineering · Shared Inference Gateway (EU-West)"  # 62 characters


async def test_at_80_columns_a_long_name_gives_way_and_the_amounts_never_do(grafient_home) -> None:
    team = make_team()
    integration_id = await seeded(team, label=LONG_LABEL)
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_budgets(app, pilot)
        app.post_message(BudgetSetRequested(str(integration_id), "1234567.89", "cycle", measure="on_demand"))
        app.post_message(BudgetSetRequested("all", "250000", "month"))
        await app.workers.wait_for_complete()
        await settle(app, pilot)
        await wait_for(pilot, lambda: len(rows(app)) == 2, "both budgets listed")
        statuses = {s.target_id: s for s in app.service.check_budgets(NOW.date())}
        long_row, all_row = sorted(rows(app), key=lambda row: row[1] != "$1,234,567.89")
        assert long_row[6].endswith("…") and LONG_LABEL.startswith(long_row[6][:-1].rstrip())
        assert len(long_row[6]) >= 8  # still says which integration
        assert long_row[1] == "$1,234,567.89"
        assert long_row[2] == format_usd(statuses[integration_id].spent_micro)
        assert long_row[3:5] == [percent(statuses[integration_id]), forecast_cell(statuses[integration_id])]
        assert all_row[1] == "$250,000" and all_row[2] == format_usd(statuses[None].spent_micro)
        table = app.screen.query_one("#budgets-table", DataTable)
        assert table.virtual_size.width <= 80, table.virtual_size  # every column in view, none off the edge
        table.move_cursor(row=[row[6] for row in rows(app)].index(long_row[6]))
        await wait_for(pilot, lambda: LONG_LABEL in shown(app, "#budget-line"), "the name whole under the table")
        await pilot.resize_terminal(170, 40)  # room again: the name whole
        await wait_for(pilot, lambda: any(row[6] == LONG_LABEL for row in rows(app)), "the whole name when wide")


def test_names_give_way_and_figures_never() -> None:
    from grafient_tui.tui.screens.budgets import fit_names

    row = ("✗", "$1,234,567.89", "$2,000.00", "162%", "$3,100,000", "billing cycle, on-demand", "x" * 60)
    assert fit_names([row], 500) == [row]
    fitted = fit_names([row], 90)  # the figures take 37: 53 for the names, the period's 24 whole
    assert fitted[0][:6] == row[:6] and fitted[0][6] == "x" * 28 + "…"
    tight = fit_names([row], 58)[0]  # 21 for both: the target half, the period's words cut too
    assert tight[:5] == row[:5] and tight[5] == "billing cy…" and tight[6] == "x" * 9 + "…"
    assert fit_names([row], 10)[0][:5] == row[:5]  # too narrow even for the figures: still whole


async def test_saving_a_budget_unchanged_announces_no_threshold_again(grafient_home) -> None:
    """README: a threshold's toast comes once per budget, period and threshold; `b`, `e`, save (nothing
    changed) showed the '50% reached' toast again."""
    from grafient_tui.config import Settings

    team = make_team()
    await seeded(team)
    service = GrafientService(Settings.from_env())
    service.set_budget("all", "1000000", now=NOW)
    [status] = service.check_budgets(NOW.date())
    half_again = status.spent_micro * 3 // 2 // USD + 1  # whole dollars: about 66% spent
    service.set_budget("all", str(half_again), now=NOW)
    service.close()
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await open_budgets(app, pilot)
        reached = [note for note in app.notes if "50% reached" in note]
        assert len(reached) == 1  # at start
        await pilot.press("e")
        await pilot.pause()
        await save_in_form(app, pilot, str(half_again))
        assert isinstance(app.screen, BudgetsScreen)
        assert [note for note in app.notes if "50% reached" in note] == reached
