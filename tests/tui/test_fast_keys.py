"""Keys typed back to back (a terminal delivers a burst: tmux send-keys, key repeat) each count."""

from __future__ import annotations

import httpx
from textual import events
from textual.widgets import Input

from grafient_tui.tui.screens.budgets import BudgetFormScreen, BudgetsScreen
from grafient_tui.tui.screens.home import IntegrationListScreen
from grafient_tui.tui.widgets.card import IntegrationCard
from grafient_tui.tui.widgets.summary import PeriodSelector
from tests.helpers import wait_for
from tests.tui.test_tui import SIZE, make_app, make_team, seeded, settle


def burst(app, *keys: str) -> None:
    """Keys as a terminal sends a burst: all queued before the app handles the first."""
    assert app._driver is not None
    for key in keys:
        event = events.Key(key, key if len(key) == 1 else None)
        event.set_sender(app)
        app._driver.send_message(event)


async def test_j_and_k_typed_back_to_back_each_move_one_card(grafient_home) -> None:
    team = make_team()
    for label in ("A1", "A2", "A3", "A4", "A5"):
        await seeded(team, label=label)
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        home = app.screen
        assert isinstance(home, IntegrationListScreen)

        def labels() -> str | None:
            return home.focused.view.label if isinstance(home.focused, IntegrationCard) else None

        assert labels() == "A1"
        await pilot.press("j", "j", "j")
        await settle(app, pilot)
        assert labels() == "A4"
        await pilot.press("k", "k")
        await settle(app, pilot)
        assert labels() == "A2"
        burst(app, "j", "j", "j", "j")
        await settle(app, pilot)
        assert labels() == "A5"
        burst(app, "k", "k", "k")
        await settle(app, pilot)
        assert labels() == "A2"


async def test_p_typed_back_to_back_steps_through_every_period(grafient_home) -> None:
    team = make_team()
    await seeded(team, label="Acme")
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        home = app.screen
        assert isinstance(home, IntegrationListScreen)
        start = app.live.period
        order = [7, 30, 90]
        for presses in (1, 2, 3, 4, 5):
            before = app.live.period
            burst(app, *["p"] * presses)
            await settle(app, pilot)
            expected = order[(order.index(before) + presses) % 3]
            assert app.live.period == expected, (start, presses)
            assert home.data is not None and home.data.period == expected
            assert f"[{expected} days]" in str(home.query_one(PeriodSelector).render())


async def test_the_period_chosen_shows_before_its_figures_land(grafient_home) -> None:
    team = make_team()
    await seeded(team, label="Acme")
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        home = app.screen
        assert isinstance(home, IntegrationListScreen)
        expected = app.live.next_period()
        home.loaded = False  # no read follows: what the selector shows comes from the key alone
        await pilot.press("p")
        await wait_for(pilot, lambda: app.live.period == expected, "the period to change")
        await pilot.pause()
        assert f"[{expected} days]" in str(home.query_one(PeriodSelector).render())


async def test_digits_typed_right_after_shift_tab_reach_the_amount(grafient_home) -> None:
    team = make_team()
    await seeded(team, label="Acme")
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BudgetsScreen), "the budgets screen")
        await settle(app, pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, BudgetFormScreen), "the budget form")
        await settle(app, pilot)
        form = app.screen
        amount = form.query_one("#budget-amount", Input)
        assert form.focused is amount
        burst(app, "tab", "shift+tab", "1", "2", "5", "0")
        await settle(app, pilot)
        assert form.focused is amount
        assert amount.value == "1250"
