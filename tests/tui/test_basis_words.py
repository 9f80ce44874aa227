"""Every figure on screen says its basis (the demo's accounts, the real service, sync and store): the
home's daily average beside "Billed" says it is usage value, as do the stacked chart's legend and the
detail's cost columns; ElevenLabs' dollars, an estimate from credits, are never called billed."""

from __future__ import annotations

from textual.widgets import DataTable

from grafient_tui.tui.messages import DetailRequested
from grafient_tui.tui.screens.detail import CostDetailScreen
from grafient_tui.tui.widgets.chart import StackLegend
from grafient_tui.tui.widgets.summary import Figure
from tests.tui.test_tui import SIZE, settle
from tests.tui.test_tui_providers import card_of, demo, demo_app

__all__ = ["demo"]  # the fixture, used by name


def column_labels(table: DataTable) -> list[str]:
    return [str(column.label).strip().rstrip(" ▲▼") for column in table.columns.values()]


async def test_each_figure_says_whether_it_is_billed_usage_value_or_an_estimate(demo) -> None:
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        total = app.screen.query_one(".figure-total", Figure).parts
        average = app.screen.query_one(".figure-average", Figure).parts
        # the demo's plans cover part of its usage: billed differs from the usage value the average is of
        assert total[0] == "Billed" and total[2].startswith("usage value ")
        assert average[0] == "Daily avg" and average[2].startswith("usage value · "), average
        legend = app.screen.query_one("#home-legend", StackLegend)
        assert "Daily usage value by provider" in str(legend.render())

        app.post_message(DetailRequested(card_of(app, "cursor").integration_id))
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, CostDetailScreen)
        for name in ("models", "daily", "members"):
            labels = column_labels(screen.query_one(f"#{name}", DataTable))
            assert "Usage value" in labels and "Cost" not in labels, (name, labels)
        assert screen.query_one(".figure-total", Figure).parts[0] == "Billed"
        await pilot.press("escape")
        await settle(app, pilot)

        app.post_message(DetailRequested(card_of(app, "elevenlabs").integration_id))
        await settle(app, pilot)
        caption, value, _, _ = app.screen.query_one(".figure-total", Figure).parts
        assert caption == "Estimated cost" and value.startswith("≈$"), (caption, value)
