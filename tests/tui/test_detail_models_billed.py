"""The detail's Models tab shows billed beside usage value where a plan covers part of the cost
(Cursor's included usage), as the Models view and `report --by model` do: sortable by each, a model
with a day stored before billed was kept per model reads `—` (so does the total), and at 80x24 every
amount is whole (the names give way). A provider billed for all of its cost keeps one Cost column.

A Cursor team's fake at the transport, synced by the real engine; the real app reads the store."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from textual.widgets import DataTable, Static

from grafient_tui.config import Settings
from grafient_tui.money import format_usd
from grafient_tui.store.db import Database
from grafient_tui.store.queries import model_breakdown
from grafient_tui.tui.screens.detail import CostDetailScreen
from tests.helpers import settle, wait_for
from tests.tui.test_tui import NOW, SIZE, RecordingApp, cells, make_team, seeded

SINCE, UNTIL = NOW.date() - timedelta(days=29), NOW.date()


def stored_models(integration_id: int) -> dict[str, tuple[int, int | None]]:
    """Each model's usage value and billed part over the detail's 30 days, as the store sums them."""
    db = Database(Settings.from_env())
    try:
        return {m.model: (m.cost_micro, m.on_demand_micro) for m in model_breakdown(db, integration_id, SINCE, UNTIL)}
    finally:
        db.dispose()


def forget_billed(model: str) -> None:
    """One day of `model` as a Grafient before migration 0012 stored it: no billed part per model."""
    from sqlalchemy import text

    db = Database(Settings.from_env())
    try:
        with db.session(write=True) as session:
            day = session.execute(
                text("SELECT MAX(day) FROM dailymodelcost WHERE model = :model AND day >= :since"),
                {"model": model, "since": SINCE},
            ).scalar()
            assert day is not None
            session.execute(
                text("UPDATE dailymodelcost SET on_demand_micro = NULL WHERE model = :model AND day = :day"),
                {"model": model, "day": day},
            )
            session.commit()
    finally:
        db.dispose()


def labels(table: DataTable) -> dict[str, str]:
    return {str(key.value): column.label.plain for key, column in table.columns.items()}


def by_model(table: DataTable, names: list[str]) -> dict[str, dict[str, str]]:
    """The rows by model name, a name shortened with … to fit found by its start."""
    keys = [str(key.value) for key in table.columns]
    return {full(row[0], names): dict(zip(keys, row, strict=True)) for row in cells(table)}


def full(shown: str, names: list[str]) -> str:
    return next(n for n in names if n == shown or (shown.endswith("…") and n.startswith(shown[:-1])))


async def open_detail(app: RecordingApp, pilot) -> CostDetailScreen:
    await settle(app, pilot)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, CostDetailScreen), "the detail")
    await settle(app, pilot)
    assert isinstance(app.screen, CostDetailScreen)
    return app.screen


async def test_the_models_tab_shows_billed_beside_usage_value_and_sorts_by_each(grafient_home) -> None:
    team = make_team()
    integration_id = await seeded(team)
    stored = stored_models(integration_id)
    assert any(b is not None and b < c for c, b in stored.values())  # a plan covers part of some model
    app = RecordingApp(Settings.from_env(), transport=httpx.MockTransport(team.handler), now=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        detail = await open_detail(app, pilot)
        table = detail.query_one("#models", DataTable)
        heads = labels(table)
        assert heads["cost"].startswith("Usage value ▼") and heads["billed"].rstrip() == "Billed"
        rows = by_model(table, list(stored))
        assert set(rows) == set(stored)
        for model, (usage, billed) in stored.items():
            assert (rows[model]["cost"], rows[model]["billed"]) == (format_usd(usage), format_usd(billed or 0))
        total = dict(zip(heads, cells(table, total=True), strict=True))
        assert total["billed"] == format_usd(sum(b or 0 for _, b in stored.values()))

        await pilot.press("s")  # the next column: billed, the biggest first
        await pilot.pause()
        heads = labels(table)
        assert heads["billed"] == "Billed ▼" and heads["cost"].rstrip() == "Usage value"
        order = [full(row[0], list(stored)) for row in cells(table)]
        assert order == sorted(stored, key=lambda m: (-(stored[m][1] or 0), -stored[m][0], m))

        # A day of the top model stored before billed was kept per model (migration 0012): its billed
        # is unknown over the period, so is the total's; it sorts below every known one.
        top = order[0]
        forget_billed(top)
        detail.reload()
        await settle(app, pilot)
        rows = by_model(table, list(stored))
        assert rows[top]["billed"] == "—" and rows[top]["cost"] == format_usd(stored[top][0])
        assert full(cells(table)[-1][0], list(stored)) == top
        total = dict(zip(labels(table), cells(table, total=True), strict=True))
        assert total["billed"] == "—" and total["cost"] == format_usd(sum(c for c, _ in stored.values()))
        note = detail.query_one("#detail-models-note", Static)
        assert note.display and "stored before" in str(note.render())


async def test_at_80x24_the_billed_and_usage_columns_are_whole(grafient_home) -> None:
    team = make_team()
    integration_id = await seeded(team)
    stored = stored_models(integration_id)
    app = RecordingApp(Settings.from_env(), transport=httpx.MockTransport(team.handler), now=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        detail = await open_detail(app, pilot)
        table = detail.query_one("#models", DataTable)
        await wait_for(pilot, lambda: table.virtual_size.width <= table.size.width, "the models table to fit")
        heads = labels(table)
        assert heads["cost"].startswith("Usage") and heads["billed"].startswith("Billed")
        rows = by_model(table, list(stored))
        for model, (usage, billed) in stored.items():
            assert (rows[model]["cost"], rows[model]["billed"]) == (format_usd(usage), format_usd(billed or 0))


@pytest.mark.parametrize("size", [SIZE, (80, 24)])
async def test_a_provider_billed_for_all_its_cost_has_one_cost_column(grafient_home, size) -> None:
    from grafient_tui.tui.messages import DetailRequested
    from tests.tui.test_unknown_in_app import NOW as THEN
    from tests.tui.test_unknown_in_app import synced_openai_and_cursor

    transport, chat, _ = await synced_openai_and_cursor()
    app = RecordingApp(Settings.from_env(), transport=transport, now=lambda: THEN)

    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        app.post_message(DetailRequested(chat))
        await settle(app, pilot)
        assert isinstance(app.screen, CostDetailScreen)
        heads = labels(app.screen.query_one("#models", DataTable))
        assert "billed" not in heads and heads["cost"].startswith("Cost")
