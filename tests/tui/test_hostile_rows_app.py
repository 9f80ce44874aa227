"""A tampered row in the app's store (written with the sqlite3 module): the home and the detail say
so in one notice naming the table, row and column, and the app keeps running (store/row_check.py)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from grafient_tui.config import Settings
from grafient_tui.tui.app import GrafientApp
from grafient_tui.tui.screens.detail import CostDetailScreen
from tests.factories import seed_history
from tests.helpers import settle, wait_for

pytestmark = pytest.mark.sqlite_only

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


class NotingApp(GrafientApp):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.notes: list[str] = []

    def notify(self, message: str, *args, **kwargs) -> None:
        self.notes.append(str(message))
        super().notify(message, *args, **kwargs)


@pytest.fixture
def seeded(store, grafient_home):
    db, vault = store
    seed_history(
        db, vault, label="Eng", until=NOW.date(), days=20, models=["m"], members=["a@x.io"], seed=3, synced_at=NOW
    )
    return grafient_home / "grafient.db"


def damage(database, sql: str, *values: object) -> None:
    con = sqlite3.connect(database)
    with con:
        con.execute(sql, values)
    con.close()


def damaged(app: NotingApp) -> list[str]:
    return [note for note in app.notes if "has a damaged value in row" in note]


@pytest.mark.parametrize(
    ("sql", "said"),
    [
        (
            "UPDATE integration SET cycle_start = 'garbage'",
            "table integration has a damaged value in row 1, column cycle_start (not a date",
        ),
        (
            "UPDATE teamsetting SET updated_at = 7",
            "table teamsetting has a damaged value in row vault.master_key_fingerprint, column updated_at (not a time",
        ),
        (
            "UPDATE dailycost SET complete = 7 WHERE id = 3",
            "table dailycost has a damaged value in row 3, column complete (not true or false",
        ),
    ],
)
async def test_a_damaged_row_at_start_is_a_notice_on_the_home(seeded, sql: str, said: str) -> None:
    damage(seeded, sql)
    app = NotingApp(Settings.from_env(), now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: damaged(app), "the notice of the damaged row")
        await settle(app, pilot)
        assert app.is_running and app.return_code is None
        [note] = set(damaged(app))
        assert said in note
        assert "\n" not in note.strip()


async def test_a_row_damaged_while_the_app_runs_is_a_notice_on_the_detail(seeded) -> None:
    app = NotingApp(Settings.from_env(), now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        assert not damaged(app)
        # A day that sorts among the period's days, but is no date: the detail's read fails turning it
        # into one, and the store is searched for the row that did it.
        damage(seeded, "UPDATE dailycost SET day = '2026-12-05x' WHERE day = '2026-12-05'")
        await pilot.press("enter")
        await wait_for(pilot, lambda: damaged(app), "the notice of the damaged row")
        await settle(app, pilot)
        assert app.is_running and isinstance(app.screen, CostDetailScreen)
        assert any(
            "table dailycost has a damaged value in row" in n and "column day (not a date" in n for n in app.notes
        )
