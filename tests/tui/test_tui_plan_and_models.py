"""Issue 21's app parts: the first screen after the first add says what the plan keeps and which key
changes it (the keymap's key, not always `P`). Driven with the pilot at 80x24 and 120x40; the Cursor
fake at the transport."""

from __future__ import annotations

import httpx
import pytest
from textual.widgets import Static

from grafient_tui.tui.widgets.summary import SummaryBar
from tests.tui.test_tui import make_app, make_team, seeded, settle
from tests.tui.test_tui_providers import provider_figures

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
        # One line per tile at 80x24 (the compact layout), caption / value / note above it.
        # the reason gives way to the amount there; the plan note above names the key at every size
        if size[1] < 32:
            assert change.split(" ")[2] == "n/a", change
        else:
            assert change.split("\n")[1] == "n/a" and change.endswith("· P: plan"), change


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


async def months_seeded() -> tuple[int, object]:
    from grafient_tui.config import Settings

    settings = Settings.from_env()
    settings.ensure_dirs()
    settings.set_plan("pro")  # the backfill keeps every day the fake has: months back to March
    team = make_team(days=100)
    return await seeded(team), team


@pytest.mark.parametrize("size", SIZES)
async def test_the_period_choice_offers_calendar_months_and_home_and_detail_follow(
    grafient_home, size: tuple[int, int]
) -> None:
    from datetime import date

    from textual.widgets import DataTable

    from grafient_tui.config import Settings
    from grafient_tui.tui.messages import DetailRequested, PeriodRequested
    from grafient_tui.tui.screens.detail import CostDetailScreen
    from grafient_tui.tui.widgets.summary import PeriodSelector
    from tests.tui.test_tui import cells

    integration_id, team = await months_seeded()
    app = make_app(httpx.MockTransport(team.handler))  # type: ignore[attr-defined]
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        titles = {c.title: c for c in app.get_system_commands(app.screen)}
        for title in ("Period: 7 days", "Period: 30 days", "Period: 90 days", "Period: this month (Jun 2025, to date)"):
            assert title in titles
        assert "Period: last month (May 2025)" in titles and "Period: Apr 2025" in titles
        titles["Period: last month (May 2025)"].callback()
        await settle(app, pilot)
        assert "[May 2025]" in str(app.screen.query_one(PeriodSelector).render())
        assert "May 2025" in app.screen.sub_title
        home = app.screen.data
        assert home is not None and home.month == "2025-05" and home.summary is not None
        assert (home.summary.since, home.summary.until) == (date(2025, 5, 1), date(2025, 5, 31))
        assert Settings.from_env().period() == 30  # a month is for this run: the saved period stays
        app.post_message(DetailRequested(integration_id))
        await settle(app, pilot)
        detail = app.screen
        assert isinstance(detail, CostDetailScreen) and detail.data is not None
        assert detail.data.month == "2025-05" and "[May 2025]" in str(detail.query_one(PeriodSelector).render())
        days = [row[0] for row in cells(detail.query_one("#daily", DataTable))]
        assert len(days) == 31 and "2025-05-01" in days and "2025-05-31" in days
        app.post_message(PeriodRequested(month="2025-04"))  # any YYYY-MM
        await settle(app, pilot)
        assert detail.data.month == "2025-04" and detail.data.figures.summary.since == date(2025, 4, 1)
        await pilot.press("p")  # from a month, p comes back to the days shown before it
        await settle(app, pilot)
        assert detail.data.month is None and detail.data.period == 30
        assert "[30 days]" in str(detail.query_one(PeriodSelector).render())


async def test_export_follows_the_month_shown(grafient_home) -> None:
    import csv
    import io

    from grafient_tui.tui.messages import DetailRequested, PeriodRequested

    integration_id, team = await months_seeded()
    app = make_app(httpx.MockTransport(team.handler))  # type: ignore[attr-defined]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        app.post_message(PeriodRequested(month="2025-04"))
        app.post_message(DetailRequested(integration_id))
        await settle(app, pilot)
        await pilot.press("2")  # the Daily tab: a detail exports the tab in view
        await pilot.press("e")
        await settle(app, pilot)
        [path] = list((grafient_home / "exports").glob("*.csv"))
        days = [row["date"] for row in csv.DictReader(io.StringIO(path.read_text()))]
        assert days[0] == "2025-04-01" and days[-1] == "2025-04-30" and len(days) == 30
        assert any("Exported 30 days" in note for note in app.notes)


@pytest.mark.parametrize("size", SIZES)
async def test_the_provider_legend_adds_up_to_the_total_shown(size: tuple[int, int]) -> None:
    """Three providers at $1.005 each: each alone reads $1.00 (half to even), three of them $3.00
    under a $3.02 total. Shown so that they add up: $1.01 + $1.01 + $1.00."""
    import re
    from decimal import Decimal

    from textual.app import App, ComposeResult

    from grafient_tui.money import format_usd
    from grafient_tui.tui.widgets.chart import StackLegend

    class Legend(App[None]):
        def compose(self) -> ComposeResult:
            yield StackLegend(id="legend")

    teams = [provider_figures(p, 100_500_000) for p in ("cursor", "anthropic", "openai")]
    app = Legend()
    async with app.run_test(size=size) as pilot:
        app.query_one(StackLegend).show_stack(teams)
        await pilot.pause()
        shown = str(app.query_one(StackLegend).render())
        amounts = [Decimal(a.replace(",", "")) for a in re.findall(r"\$([\d,]+\.\d\d)", shown)]
        assert sorted(amounts) == [Decimal("1.00"), Decimal("1.01"), Decimal("1.01")], shown
        assert f"${sum(amounts):,.2f}" == format_usd(sum(t.summary.total_micro for t in teams)) == "$3.02"


@pytest.fixture
def demo3():
    from grafient_tui.demo import build_demo
    from tests.tui.test_tui import NOW

    env = build_demo(now=NOW, latency=0)
    env.settings.set_plan("free")
    yield env
    env.cleanup()


@pytest.mark.parametrize("size", SIZES)
async def test_the_models_view_has_one_row_per_model_over_every_integration(demo3, size: tuple[int, int]) -> None:
    """Cursor, Anthropic and OpenAI (the demo's first three): `m` opens one row per model key, naming
    its raw names and providers; amounts as the service sums them, adding up to the total; billed per
    model too (the demo's days are synced, so Cursor's on-demand part is kept per model), adding up to
    its total; `s` sorts as the detail's tables do; the amounts fit."""
    from textual.widgets import DataTable

    from grafient_tui.money import format_usd
    from grafient_tui.rounding import adding_up
    from grafient_tui.spans import rolling
    from grafient_tui.tui.app import GrafientApp
    from grafient_tui.tui.screens.models import ModelsScreen
    from tests.tui.test_tui import NOW, cells

    env = demo3
    app = GrafientApp(env.settings, transport=env.transport, now=lambda: NOW, demo_teams=env.teams[:3])
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        await pilot.press("m")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ModelsScreen)
        table = screen.query_one("#models-across", DataTable)
        keys = [str(k.value) for k in table.columns]
        assert keys[:3] == ["model", "usage", "billed"]
        rows, total = cells(table), cells(table, total=True)
        by_key = [dict(zip(keys, row, strict=True)) for row in rows]
        expected = app.service.models_across(rolling(30, NOW.date()), NOW.date())
        assert len(rows) == len(expected) > 3
        for model, row in zip(expected, rows, strict=True):  # the key, or (narrow) its start and …
            assert row[0] == model.key or (row[0].endswith("…") and model.key.startswith(row[0][:-1]))
        assert [r[1] for r in rows] == [format_usd(a) for a in adding_up([m.cost_micro for m in expected])]
        assert total[1] == format_usd(sum(m.cost_micro for m in expected))
        across = [m for m in expected if len(m.providers) > 1]
        assert across, "the demo bills one model under two providers' names"
        row = by_key[[m.key for m in expected].index(across[0].key)]
        named = ", ".join(
            {"anthropic": "Anthropic", "cursor": "Cursor", "openai": "OpenAI"}[p] for p in across[0].providers
        )
        # the names give way to the figures: shortened with …, or (narrow) their column left out
        assert "providers" not in row or named.startswith(row["providers"].rstrip("…"))
        assert "names" not in row or ", ".join(across[0].names).startswith(row["names"].rstrip("…"))
        assert len(across[0].names) > 1
        if size[0] >= 120:
            assert row["providers"] == named
        billed = [m.billed_micro for m in expected]
        assert all(b is not None for b in billed)
        assert [r[2] for r in rows] == [format_usd(b) for b in adding_up([b or 0 for b in billed])]
        assert total[2] == format_usd(sum(b or 0 for b in billed))
        # where Cursor's included usage is among a model, billed is less than its usage value
        assert any(m.billed_micro is not None and m.billed_micro < m.cost_micro for m in across)
        for model, shown in zip(expected, rows, strict=True):
            if "cursor" not in model.providers:  # billed in full
                assert model.billed_micro == model.cost_micro
            assert shown[keys.index("requests")] == (
                "n/a" if not model.reports_requests else "—" if model.requests is None else f"{model.requests:,}"
            )
        # every column shown fits in the view: a figure is never cut off (at 80 columns the token
        # columns are left out whole, the requests shown whole)
        widths = [table.columns[key].get_render_width(table) for key in table.columns]  # type: ignore[index]
        assert sum(widths) <= table.scrollable_content_region.width, (keys, widths)
        assert "requests" in keys
        for key in keys[1:]:
            if key not in ("providers", "names"):
                column = table.columns[next(k for k in table.columns if k.value == key)]
                assert all(len(r[keys.index(key)]) <= column.width for r in [*rows, total]), key
        await pilot.press("s")  # by requests: the biggest first, unknown (or not reported) below every known count
        await settle(app, pilot)
        counts = [r[keys.index("requests")] for r in cells(table)]
        known = [int(c.replace(",", "")) for c in counts if c not in ("—", "n/a")]
        assert known == sorted(known, reverse=True) and counts[: len(known)] == [f"{k:,}" for k in known]
        assert "Requests ▼" in str(table.columns[next(k for k in table.columns if k.value == "requests")].label)
        await pilot.press("escape")
        await settle(app, pilot)
        assert not isinstance(app.screen, ModelsScreen)


async def test_the_palette_offers_models_once_there_are_integrations(demo3) -> None:
    from grafient_tui.tui.app import GrafientApp
    from grafient_tui.tui.screens.models import ModelsScreen
    from tests.tui.test_tui import NOW

    app = GrafientApp(demo3.settings, transport=demo3.transport, now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        assert "Models" not in {c.title for c in app.get_system_commands(app.screen)}
    app = GrafientApp(demo3.settings, transport=demo3.transport, now=lambda: NOW, demo_teams=demo3.teams[:2])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        [models] = [c for c in app.get_system_commands(app.screen) if c.title == "Models"]
        models.callback()
        await settle(app, pilot)
        assert isinstance(app.screen, ModelsScreen)


async def test_the_models_view_reads_billed_unknown_where_a_day_predates_it(grafient_home) -> None:
    """A Cursor day whose models were stored before billed was kept per model (NULL, as migration 0012
    leaves them): those models' billed and the total's read `—`, never 0, and the note says why."""
    from sqlalchemy import text
    from textual.widgets import DataTable

    from grafient_tui.config import Settings
    from grafient_tui.money import format_usd
    from grafient_tui.spans import rolling
    from grafient_tui.store.db import Database
    from grafient_tui.tui.screens.models import ModelsScreen
    from tests.tui.test_tui import NOW, cells

    team = make_team()
    iid = await seeded(team)
    db = Database(Settings.from_env())
    with db.write_engine.begin() as connection:
        old = connection.execute(
            text("SELECT MIN(day) FROM dailymodelcost WHERE integration_id = :iid AND day >= :since"),
            {"iid": iid, "since": rolling(30, NOW.date()).since},
        ).scalar_one()
        connection.execute(
            text("UPDATE dailymodelcost SET on_demand_micro = NULL WHERE integration_id = :iid AND day = :day"),
            {"iid": iid, "day": old},
        )
        stale = set(
            connection.execute(
                text("SELECT model FROM dailymodelcost WHERE integration_id = :iid AND day = :day"),
                {"iid": iid, "day": old},
            ).scalars()
        )
    db.dispose()
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("m")
        await settle(app, pilot)
        assert isinstance(app.screen, ModelsScreen)
        expected = {m.key: m for m in app.service.models_across(rolling(30, NOW.date()), NOW.date())}
        rows = cells(app.screen.query_one("#models-across", DataTable))
        assert stale and any(m.billed_micro is not None for m in expected.values())
        for row in rows:
            model = expected[row[0]]
            assert (model.billed_micro is None) == bool(set(model.names) & stale)
            assert row[2] == ("—" if model.billed_micro is None else format_usd(model.billed_micro))
        assert cells(app.screen.query_one("#models-across", DataTable), total=True)[2] == "—"
        note = str(app.screen.query_one("#models-note", Static).render())
        assert "stored before it was kept per model" in note


async def test_the_palette_lists_the_months_newest_first_and_every_provider(grafient_home) -> None:
    """Before anything is typed the palette listed the months by title (Apr 2025, Aug 2024, Dec 2024, ...)
    and its Add entry named four of the eight providers."""
    from grafient_tui import providers
    from grafient_tui.config import Settings
    from grafient_tui.tui.commands import SystemCommandsInOrder

    settings = Settings.from_env()
    settings.ensure_dirs()
    settings.set_plan("pro")
    team = make_team(days=365)  # Jun 2024 to Jun 2025: months across a year's turn
    await seeded(team)
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        provider = SystemCommandsInOrder(app.screen)
        hits = [hit async for hit in provider.discover()]
        titles = [str(hit.text) for hit in hits]
        periods = [t for t in titles if t.startswith("Period: ")]
        assert periods[:5] == [
            "Period: 7 days",
            "Period: 30 days",
            "Period: 90 days",
            "Period: this month (Jun 2025, to date)",
            "Period: last month (May 2025)",
        ]
        assert periods[5:8] == ["Period: Apr 2025", "Period: Mar 2025", "Period: Feb 2025"]
        assert periods[-1] == "Period: Jun 2024"
        others = [t for t in titles if not t.startswith("Period: ")]
        assert others == sorted(others)  # the rest as Textual lists them: by title
        [add] = [hit for hit in hits if hit.text == "Add an integration"]
        for name in providers.names():
            assert providers.title(name) in str(add.help)
