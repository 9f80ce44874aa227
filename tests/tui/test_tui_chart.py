"""The home's stacked chart on the demo's accounts (one per provider), at 80×24, 100×30 and 120×40 and
under NO_COLOR: each day's bar split by provider in proportion, read back from the cells the widget
draws, with its $ scale and dates; the cards' charts in their provider's colour."""

from __future__ import annotations

from fractions import Fraction

import pytest
from rich.style import Style
from textual.widgets import Static

from grafient_tui import providers
from grafient_tui.demo import build_demo
from grafient_tui.rounding import adding_up
from grafient_tui.tui.app import GrafientApp
from grafient_tui.tui.widgets.card import IntegrationCard
from grafient_tui.tui.widgets.chart import CostChart, StackedCostChart
from grafient_tui.tui.widgets.chart_layout import (
    BLOCKS,
    EIGHTHS,
    PATTERNS,
    bar_height,
    chart_rows,
    nice_scale,
    provider_colour,
    slots_for,
)
from tests.tui.test_tui import NOW, settle

SIZES = ((80, 24), (100, 30), (120, 40))


@pytest.fixture
def demo():
    env = build_demo(now=NOW, latency=0)
    env.settings.set_plan("free")  # 30 days of each account: the home's default period
    yield env
    env.cleanup()


def demo_app(env) -> GrafientApp:
    return GrafientApp(env.settings, transport=env.transport, now=lambda: NOW, demo_teams=env.teams)


def grid(chart: StackedCostChart) -> list[list[tuple[str, Style]]]:
    """The chart's cells as drawn: (character, style) per column, per row."""
    rows = []
    for y in range(chart.size.height):
        cells = []
        for segment in chart.render_line(y):
            cells += [(char, segment.style or Style()) for char in segment.text]
        rows.append(cells)
    return rows


def colour_of(style: Style, attribute: str, colours: dict[str, int]) -> int | None:
    colour = getattr(style, attribute)
    return None if colour is None or colour.triplet is None else colours.get(colour.triplet.hex)


def drawn_bands(chart: StackedCostChart, size: tuple[int, int]) -> tuple[list[dict[int, int]], list[str]]:
    """Per day: eighths drawn per provider (by colour, or by pattern under NO_COLOR); and the plain lines."""
    stack = chart.stack
    cells = grid(chart)
    lines = ["".join(char for char, _ in row) for row in cells]
    rows = chart_rows(size[1])
    scale = nice_scale(max(d.total for d in stack.days if d.parts), rows)
    axis = max(scale.label_width, 2) + 1
    slots = slots_for(len(stack.days), chart.size.width - axis)
    assert slots.days_per_slot == 1  # 30 days fit every size: a bar per day
    colours = {provider_colour(p): i for i, p in enumerate(stack.providers)}
    bands = []
    for index in range(len(stack.days)):
        x = axis + index * slots.width
        counts: dict[int, int] = {}
        for y in range(rows):
            char, style = cells[y][x]
            if char in (" ", "·"):
                continue
            if chart.patterned:
                counts[PATTERNS.index(char)] = counts.get(PATTERNS.index(char), 0) + EIGHTHS
                continue
            front, back = colour_of(style, "color", colours), colour_of(style, "bgcolor", colours)
            filled = BLOCKS.index(char)
            assert front is not None
            counts[front] = counts.get(front, 0) + filled
            if back is not None:
                counts[back] = counts.get(back, 0) + EIGHTHS - filled
        bands.append(counts)
    return bands, lines


async def show_the_chart(app: GrafientApp, pilot) -> None:
    """A small screen folds the home's chart behind `g` (tui/layout.py): shown, at every size."""
    if app.screen.has_class("-compact") != app.screen.has_class("-chart-toggled"):
        await pilot.press("g")
        await settle(app, pilot)
    assert app.screen.query_one("#home-chart").display


def check_chart(app: GrafientApp, size: tuple[int, int]) -> None:
    chart = app.screen.query_one("#home-chart", StackedCostChart)
    stack = chart.stack
    rows = chart_rows(size[1])
    assert chart.size.height == rows + 1  # the bars, then the dates
    largest = max(d.total for d in stack.days if d.parts)
    scale = nice_scale(largest, rows)
    bands, lines = drawn_bands(chart, size)
    for day, drawn in zip(stack.days, bands, strict=True):
        assert day.parts is not None  # the demo has every day of the period
        height = bar_height(day.total, scale.top_micro, rows)
        if chart.patterned:
            height = max(EIGHTHS, (height + EIGHTHS // 2) // EIGHTHS * EIGHTHS)
        assert sum(drawn.values()) == height, (day, drawn)  # the day's total, to the eighth of a cell
        for index, part in enumerate(day.parts):
            exact = Fraction(part * height, day.total)
            # Each provider's band within a cell of its share (its two boundaries half a cell each).
            assert abs(drawn.get(index, 0) - exact) <= EIGHTHS, (stack.providers[index], day, drawn)
    # The $ scale on the left (its top on the top row), $0 and the dates below, today named.
    assert lines[0].lstrip().startswith(scale.ticks[0].label + "┤")
    assert lines[-1].lstrip().startswith("$0└") and "Jun 18" in lines[-1]
    assert sum(1 for word in lines[-1].split() if word in ("May", "Jun")) >= 2
    # Every provider's total in the legend, whole, whatever the width.
    legend_widget = app.screen.query_one("#home-legend", Static)
    legend = str(legend_widget.render())
    assert len(legend.split("\n")) <= legend_widget.size.height  # every line on screen, none cut off
    for line in legend.split("\n"):
        assert len(line) <= size[0] - 2 and "…" not in line
    # Each as its card's total, rounded so that the parts add up to the total rounded once (issue 21).
    cards = [next(c for c in app.screen.query(IntegrationCard) if c.view.provider == name) for name in stack.providers]
    shown = adding_up([card.view.summary.total_micro for card in cards])
    assert sum(shown) == round(sum(card.view.summary.total_micro for card in cards), -6)
    for index, (name, card) in enumerate(zip(stack.providers, cards, strict=True)):
        mark = PATTERNS[index] * 2 if chart.patterned else "■"
        assert abs(shown[index] - card.view.summary.total_micro) < 1_000_000  # within a cent of its own total
        assert f"{mark} {providers.title(name)} {card.view.basis.money(shown[index])}" in legend.replace("\n", "   ")


async def test_the_stacked_chart_is_true_per_day_at_every_size(demo) -> None:
    app = demo_app(demo)
    async with app.run_test(size=SIZES[-1]) as pilot:
        await settle(app, pilot)
        chart = app.screen.query_one("#home-chart", StackedCostChart)
        assert not chart.patterned and len(chart.stack.providers) == 8
        for size in SIZES:
            await pilot.resize_terminal(*size)
            await settle(app, pilot)
            await show_the_chart(app, pilot)
            check_chart(app, size)
        # Each card's chart is drawn in its provider's colour, the one its band has above.
        for card in app.screen.query(IntegrationCard):
            spark = card.query_one(CostChart)
            assert spark.provider == card.view.provider
            bars = [s for y in range(spark.size.height) for s in spark.render_line(y) if s.text.strip(" ·")]
            assert bars and {s.style.color.triplet.hex for s in bars if s.style and s.style.color} == {
                provider_colour(card.view.provider)
            }


async def test_under_no_color_providers_are_told_apart_by_pattern(demo, monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = demo_app(demo)
    async with app.run_test(size=SIZES[0]) as pilot:
        await settle(app, pilot)
        chart = app.screen.query_one("#home-chart", StackedCostChart)
        assert app.no_color and chart.patterned
        for size in SIZES:
            await pilot.resize_terminal(*size)
            await settle(app, pilot)
            await show_the_chart(app, pilot)
            check_chart(app, size)
            bars = "".join(line[len(line) - chart.size.width :] for line in chart.text()[:-1])
            assert set(bars) - set("┤│$0123456789.,k ") <= set(PATTERNS)  # patterns, never bare blocks


async def test_the_detail_chart_is_drawn_in_its_providers_colour(demo) -> None:
    app = demo_app(demo)
    async with app.run_test(size=SIZES[-1]) as pilot:
        await settle(app, pilot)
        card = app.screen.query(IntegrationCard).first()
        card.focus()
        await pilot.press("enter")
        await settle(app, pilot)
        spark = app.screen.query_one("#detail-sparkline", CostChart)
        assert spark.provider == card.view.provider
        bars = [s for y in range(spark.size.height) for s in spark.render_line(y) if s.text.strip(" ·")]
        assert bars and {s.style.color.triplet.hex for s in bars if s.style and s.style.color} == {
            provider_colour(card.view.provider)
        }
