"""Budgets in the app: gauges on the cards and under the summary, a toast and the bell when a
threshold is first crossed (once, across restarts), and members near their Cursor limit marked.

A simulated Cursor team is served at the transport; the clock is frozen through the App's `now`."""

from __future__ import annotations

import math
from datetime import date, timedelta

import httpx
from textual.widgets import DataTable, Static, TabbedContent

from grafient_tui.config import Settings
from grafient_tui.providers.cursor.fake import make_events
from grafient_tui.service import GrafientService
from grafient_tui.tui.messages import DetailRequested
from grafient_tui.tui.widgets.card import IntegrationCard
from grafient_tui.tui.widgets.gauge import BudgetGauges
from tests.conftest import GOOD_KEY
from tests.fakes import CountingCursorTeam
from tests.tui.test_tui import MEMBERS, MODELS, NOW, SIZE, RecordingApp, cells, seeded, settle

CYCLE = date(2025, 6, 3)


class BellApp(RecordingApp):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.bells = 0

    def bell(self) -> None:
        self.bells += 1


def team_with_limits() -> CountingCursorTeam:
    events = make_events(
        seed=3, start=NOW.date() - timedelta(days=39), days=40, per_day=6, members=MEMBERS, models=MODELS
    )
    cutoff = int(NOW.timestamp() * 1000)
    team = CountingCursorTeam(
        api_key=GOOD_KEY, events=[e for e in events if int(e["timestamp"]) <= cutoff], cycle_start=CYCLE
    )
    spend = team.cycle_spend()
    near, far = MEMBERS[0], MEMBERS[1]
    # the first at 90% of an exact limit, the second at a third of hers, the third sends no limit
    team.limits = {near: spend[near][1] / 100_000_000 / 0.9, far: math.ceil(spend[far][1] * 3 / 100_000_000)}
    return team


def app_for(team: CountingCursorTeam) -> BellApp:
    return BellApp(Settings.from_env(), transport=httpx.MockTransport(team.handler), now=lambda: NOW)


def gauge_texts(app: BellApp, selector: str) -> list[str]:
    gauges = app.screen.query_one(selector, BudgetGauges)
    return [str(line.render()) for line in gauges.query(".gauge").results(Static)]


async def test_gauges_show_and_a_crossing_rings_once_across_restarts(grafient_home) -> None:
    team = team_with_limits()
    await seeded(team)
    service = GrafientService(Settings.from_env())
    service.set_budget("Acme", "20", period="cycle", now=NOW)  # far less than the cycle has cost: over
    service.set_budget("all", "100000", now=NOW)  # far more: fine
    (over, fine) = sorted(service.check_budgets(NOW.date()), key=lambda s: s.target_id or 0, reverse=True)
    assert over.bounds.start == CYCLE and over.status == "over" and fine.status == "ok"

    app = app_for(team)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        (summary_line,) = gauge_texts(app, "#home-budgets")
        assert summary_line.startswith("✓ All · monthly budget ")
        assert (
            f"of $100,000 · forecast ${fine.forecast.micro / 100_000_000:,.0f} · day 18 of 30 · resets 2025-07-01"
            in summary_line
        )
        card = app.screen.query_one(IntegrationCard)
        (card_line,) = gauge_texts(app, f"#{card.id} BudgetGauges")
        assert card_line.startswith("✗ Cycle budget ██████████ ")
        assert "of $20 · " in card_line and "day 16 of 30 · resets 2025-07-03" in card_line
        assert card.query_one(BudgetGauges).query_one(".gauge").has_class("-over")
        budget_notes = [n for n in app.notes if "budget" in n]
        assert budget_notes == [
            "Acme · cycle budget: over budget, "
            f"${over.spent_micro / 100_000_000:,.2f} of $20; forecast "
            f"${over.forecast.micro / 100_000_000:,.0f} is above it · resets 2025-07-03"
        ]
        assert app.bells == 1
        app.post_message(DetailRequested(card.integration_id))
        await settle(app, pilot)
        (detail_line,) = gauge_texts(app, "#detail-budgets")
        assert detail_line == card_line
        method = str(app.screen.query_one("#detail-budgets .gauge-method", Static).render())
        assert method.startswith("Forecast: spend through yesterday + the average of the complete days among the 14")

    again = app_for(team)  # a restart: nothing new to announce
    async with again.run_test(size=SIZE) as pilot:
        await settle(again, pilot)
        assert gauge_texts(again, "#home-budgets")  # the gauges are still there
        assert [n for n in again.notes if "budget" in n] == [] and again.bells == 0


async def test_members_near_their_limit_are_marked(grafient_home) -> None:
    team = team_with_limits()
    integration_id = await seeded(team)
    app = app_for(team)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.post_message(DetailRequested(integration_id))
        await settle(app, pilot)
        table = app.screen.query_one("#members", DataTable)
        assert [str(key.value) for key in table.columns][-1] == "limit"
        rows = {row[0]: row[-1] for row in cells(table)}
        assert rows[MEMBERS[0]].startswith("⚠ ") and rows[MEMBERS[0]].endswith(" · 90%")
        assert not rows[MEMBERS[1]].startswith("⚠") and rows[MEMBERS[1]].endswith("%")
        assert rows[MEMBERS[2]].endswith(" · no limit sent")
        assert str(app.screen.query_one(TabbedContent).get_tab("members-tab").label) == "Members ⚠ 1"
        assert not gauge_texts(app, "#detail-budgets")  # no budget on it: no gauge


async def test_the_demo_has_a_budget_over_one_forecast_over_and_members_near_their_limits() -> None:
    from grafient_tui.demo import build_demo

    env = build_demo(now=NOW, latency=0)
    env.settings.set_plan("free")  # 30 days of each account are enough for a month's budget
    try:
        app = BellApp(
            env.settings, transport=env.transport, now=lambda: NOW, demo_teams=env.teams, demo_budgets=env.budgets
        )
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await settle(app, pilot)
            statuses = {s.target: s.status for s in app.service.check_budgets(NOW.date())}
            assert statuses == {"Acme Engineering": "over", "all": "forecast_over"}
            # One toast for both (tui/alerts.py): several long ones covered the cards at start.
            [alert] = [n for n in app.notes if "budget" in n]
            assert app.bells == 1 and alert.startswith("2 budgets crossed a threshold: ")
            assert "Acme Engineering · cycle budget" in alert and "all integrations · monthly budget" in alert
            cursor = next(c for c in app.screen.query(IntegrationCard) if c.view.provider == "cursor")
            (line,) = gauge_texts(app, f"#{cursor.id} BudgetGauges")
            assert line.startswith("✗ Cycle budget") and "day 20 of " in line
            app.post_message(DetailRequested(cursor.integration_id))
            await settle(app, pilot)
            assert str(app.screen.query_one(TabbedContent).get_tab("members-tab").label) == "Members ⚠ 2"
    finally:
        env.cleanup()


async def test_the_first_paint_shows_the_last_runs_gauges_before_the_store_opens(grafient_home) -> None:
    """The snapshot holds the budgets too: the gauges are in the first frame, and nothing moves when the
    store's own figures replace them."""
    from tests.tui.test_tui import GatedStoreApp

    team = team_with_limits()
    await seeded(team)
    service = GrafientService(Settings.from_env())
    service.set_budget("Acme", "20", period="cycle", now=NOW)
    service.set_budget("all", "100000", now=NOW)
    app = app_for(team)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        summary_lines = gauge_texts(app, "#home-budgets")
        card = app.screen.query_one(IntegrationCard)
        card_lines = gauge_texts(app, f"#{card.id} BudgetGauges")
    assert summary_lines and card_lines

    gated = GatedStoreApp(Settings.from_env(), transport=httpx.MockTransport(team.handler), now=lambda: NOW)
    async with gated.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not gated.live.store_ready and not gated.screen.loaded
        assert gauge_texts(gated, "#home-budgets") == summary_lines
        painted = gated.screen.query_one(IntegrationCard)
        assert gauge_texts(gated, f"#{painted.id} BudgetGauges") == card_lines
        gated.gate.set()
        await settle(gated, pilot)
        assert gated.screen.loaded and gauge_texts(gated, "#home-budgets") == summary_lines
