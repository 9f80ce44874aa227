"""Issue 21's app parts: the first screen after the first add says what the plan keeps and which key
changes it (the keymap's key, not always `P`). Driven with the pilot at 80x24 and 120x40; the Cursor
fake at the transport."""

from __future__ import annotations

import httpx
import pytest
from textual.widgets import Static

from grafient_tui.tui.widgets.summary import SummaryBar
from tests.tui.test_tui import make_app, make_team, seeded, settle

SIZES = [(80, 24), (120, 40)]


@pytest.mark.parametrize("size", SIZES)
async def test_the_first_home_on_the_free_plan_says_what_it_keeps_and_how_to_change_it(
    grafient_home, size: tuple[int, int]
) -> None:
    team = make_team()
    await seeded(team)  # the first add's backfill: 30 days on the free plan, none before them
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        note = app.screen.query_one("#plan-note", Static)
        assert note.display and note.region.height >= 1
        said = str(note.render())
        assert said == app.service.home(30, app.reads.today()).plan_note
        assert "Grafient plan free keeps 30 days" in said and "P (or `grafient plan pro`) keeps more" in said
        change = str(app.screen.query_one(SummaryBar).query_one(".figure-change", Static).render())
        assert change.split("\n")[1] == "n/a" and change.endswith("· P: plan")


async def test_the_plan_note_and_the_n_a_name_a_remapped_plan_key(grafient_home) -> None:
    from grafient_tui.config import Settings

    team = make_team()
    await seeded(team)
    Settings.from_env().config_file.write_text('[keymap]\nplan = "ctrl+y"\n')
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        said = str(app.screen.query_one("#plan-note", Static).render())
        assert "ctrl+y (or `grafient plan pro`) keeps more" in said and " P (" not in said
        change = str(app.screen.query_one(SummaryBar).query_one(".figure-change", Static).render())
        assert change.endswith("· ctrl+y: plan")


async def test_no_plan_note_once_the_plan_keeps_enough(grafient_home) -> None:
    from grafient_tui.config import Settings

    team = make_team()
    await seeded(team)
    Settings.from_env().set_plan("pro")
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        assert not app.screen.query_one("#plan-note", Static).display
