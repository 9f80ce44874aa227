"""The app at every size: at 80x24, 100x30 and 120x40 (and under NO_COLOR) every figure is on screen
whole. The detail leaves its table at least 8 rows (the tiles on one line each, the chart and gauges
folded behind `g`); the home shows each card's cost and status; an amount is never cut: a long
model name gives way to it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rich.cells import cell_len
from textual.widgets import DataTable, Static

from grafient_tui.config import Settings
from grafient_tui.money import format_usd
from grafient_tui.store.db import Database
from grafient_tui.store.vault import Vault
from grafient_tui.tui.app import GrafientApp
from grafient_tui.tui.screens.detail import CostDetailScreen
from grafient_tui.tui.widgets.card import IntegrationCard
from grafient_tui.tui.widgets.fit import Part, fit_note, fit_parts, shorten
from grafient_tui.tui.widgets.summary import Figure
from tests.factories import seed_history
from tests.helpers import settle, wait_for
from tests.tui.test_tui import NOW

SIZES = ((80, 24), (100, 30), (120, 40))
# Real dated names, long enough to crowd the top-model tile at every size.
LONG_MODELS = ["claude-sonnet-4-5-20250929-thinking-extended", "gpt-5-codex-2025-09-15-preview", "o3"]


def seeded_app() -> GrafientApp:
    settings = Settings.from_env()
    settings.ensure_dirs()
    settings.set_plan("pro")
    db, vault = Database(settings), Vault(settings)
    for i in range(5):
        seed_history(
            db,
            vault,
            label=f"Acme Engineering {i}",
            until=NOW.date(),
            days=40,
            models=LONG_MODELS,
            members=["maya@acme.dev", "liam@acme.dev"],
            seed=i,
            synced_at=NOW - timedelta(minutes=12),
        )
    from grafient_tui.service import GrafientService

    service = GrafientService(settings, db=db, vault=vault)
    service.set_budget("Acme Engineering 0", "10", now=NOW)  # over: its gauge on the card and the detail
    service.set_budget("all", "50", now=NOW)  # over too: two alerts at start
    service.close()
    return GrafientApp(settings, now=lambda: NOW)


def text_of(widget: Static) -> str:
    content = widget.content
    return content.plain if hasattr(content, "plain") else str(content)


def assert_whole(widget: Static, *amounts: str) -> None:
    """Each amount is in the widget's text, and its lines fit its width (nothing cut by the terminal;
    a tile's note, its third line, wraps at its spaces)."""
    text = text_of(widget)
    for amount in amounts:
        assert amount in text, (amount, text)
    for line in text.splitlines()[:2]:
        assert cell_len(line) <= widget.content_size.width, (line, widget.content_size.width)


def money_in(text: str) -> list[str]:
    return [word.strip("(),;") for word in text.split() if "$" in word]


@pytest.fixture(params=[*SIZES, "no-color"], ids=lambda p: "x".join(map(str, p)) if isinstance(p, tuple) else p)
def size(request, monkeypatch) -> tuple[int, int]:
    if request.param == "no-color":
        monkeypatch.setenv("NO_COLOR", "1")
        return (80, 24)
    return request.param


async def test_every_figure_is_whole_at_each_size(grafient_home, size) -> None:
    app = seeded_app()
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        home = app.screen
        figures = {f.parts[0]: f for f in home.query(Figure)}
        data = home.data  # type: ignore[attr-defined]
        summary = data.summary
        billed = summary.billed_micro if summary.billed_micro is not None else summary.total_micro
        assert_whole(figures["Billed"], format_usd(billed))
        top = figures["Most expensive model"]
        assert_whole(top, format_usd(summary.top_model_micro))
        assert LONG_MODELS[0] not in text_of(top)  # the name gave way, shortened with …
        cards = list(home.query(IntegrationCard))
        assert len(cards) == 5
        for card in cards:
            await pilot.pause()
            card.scroll_visible(animate=False)
            await pilot.pause()
            view = card.view
            cost = card.query_one(".card-cost", Static)
            # Wrapped between its parts when narrow (never inside an amount): every line drawn whole.
            assert format_usd(view.summary.total_micro) in text_of(cost)
            drawn = [strip.text for strip in cost.render_lines(cost.content_region.reset_offset)]
            assert any(format_usd(view.summary.total_micro) in line for line in drawn), drawn
            for amount in money_in(text_of(cost)):  # any amount shown is shown whole
                assert amount.startswith("$") and "…" not in amount
            status = card.query_one(".card-status", Static)
            assert text_of(status) == view.status and cell_len(view.status) <= status.content_size.width
            for gauge in card.query(".gauge"):
                assert "…" not in "".join(money_in(text_of(gauge)))
                assert cell_len(text_of(gauge)) <= gauge.content_size.width
        compact = size[0] < 100 or size[1] < 32
        assert home.has_class("-compact") is compact
        assert home.query_one("#home-chart").display is not compact

        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CostDetailScreen), "the detail")
        await settle(app, pilot)
        detail = app.screen
        table = detail.query_one("#models", DataTable)
        rows_in_view = table.scrollable_content_region.height - table.header_height
        assert rows_in_view >= 8, rows_in_view
        # Every column in view: the long model names give way (…), the figures beside them never do.
        await wait_for(pilot, lambda: table.virtual_size.width <= table.size.width, "the models table to fit")
        names = [str(table.get_cell_at((row, 0))) for row in range(table.row_count)]
        assert LONG_MODELS[0] not in names and any(name.startswith(LONG_MODELS[0][:8]) for name in names), names
        costs = [str(table.get_cell_at((row, 1))) for row in range(table.row_count)]
        assert all("…" not in cost and cost.startswith("$") for cost in costs), costs
        for figure in detail.query(Figure):
            for amount in money_in(text_of(figure)):
                assert "…" not in amount
            assert_whole(figure)
        assert detail.query_one("#detail-sparkline").display is not compact
        await pilot.press("g")  # the chart behind its key: shown when folded, hidden when not
        await pilot.pause()
        assert detail.has_class("-chart-toggled")
        assert detail.query_one("#detail-sparkline").display is compact


async def test_budget_alerts_at_start_are_one_toast_at_the_top(grafient_home) -> None:
    app = seeded_app()
    said: list[tuple[str, str]] = []
    notify = app.notify

    def recorded(message, *, title="", **kw):  # a toast lasts 8 s: a loaded machine may settle later
        said.append((title, str(message)))
        return notify(message, title=title, **kw)

    app.notify = recorded  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(app, pilot)
        budgets = [text for title, text in said if "udget" in title]
        assert len(budgets) == 1, said
        assert budgets[0].startswith("2 budgets crossed a threshold: all integrations · monthly budget; Acme")
        rack = app.screen.query_one("ToastRack")
        assert str(rack.styles.align_vertical) == "top"


def test_a_note_loses_its_words_not_its_amounts() -> None:
    assert fit_note("+ BYOK $7.35 billed elsewhere", 20) == "+ BYOK $7.35 …"
    assert fit_note("on-demand $664.44", 12) == "… $664.44"
    assert fit_note("$1,234.56 $7.00", 3) == "$1,234.56 $7.00"  # amounts are never cut, even if too wide
    assert shorten("claude-sonnet-4-5-20250929", 12) == "claude-sonn…"
    assert shorten("o3", 12) == "o3"


def test_a_line_drops_its_lowest_parts_whole() -> None:
    parts = [Part("$1,093.10"), Part(" · on-demand $664.44", rank=2), Part(" · 2,994 requests", rank=4)]
    assert [p.text for p in fit_parts(parts, 30)] == ["$1,093.10", " · on-demand $664.44"]
    assert [p.text for p in fit_parts(parts, 5)] == ["$1,093.10"]


async def test_enter_pressed_at_first_paint_opens_the_detail_at_once_and_the_store_fills_it(grafient_home) -> None:
    """Keys from first paint: the cards are the last run's snapshot, the store is still opening;
    Enter then opens the detail at once on the snapshot (it was dropped, and only a second Enter opened
    it), and the store's figures fill it once it has opened (tests/tui/test_first_key.py: the rest)."""
    from tests.tui.test_tui import GatedStoreApp

    app = seeded_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)  # a first run: it leaves the snapshot the next start paints
        first = app.screen.query(IntegrationCard).first().integration_id
    app = GatedStoreApp(Settings.from_env(), now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.screen.query(IntegrationCard), "the snapshot's cards")
        home = app.screen
        assert not home.loaded  # type: ignore[attr-defined]
        assert home.check_action("open", ()) is True  # not greyed: it will be acted on
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CostDetailScreen), "the detail the key asked for")
        detail = app.screen
        assert detail.integration_id == first  # type: ignore[attr-defined]
        assert not app.live.store_ready and detail.data is None  # type: ignore[attr-defined]
        app.gate.set()
        await settle(app, pilot)
        assert app.screen is detail and detail.data is not None  # type: ignore[attr-defined]
        assert len(app.screen_stack) == 2  # opened once
