"""The daily charts' arithmetic (tui/widgets/chart_layout.py), cell by cell, without Textual."""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
from datetime import date, timedelta
from fractions import Fraction

import pytest

from grafient_tui.money import MICRO_PER_USD
from grafient_tui.tui.widgets.chart_layout import (
    BLOCKS,
    EIGHTHS,
    PATTERNS,
    Cell,
    Slots,
    StackDay,
    band_edges,
    bar_height,
    chart_rows,
    date_row,
    date_ticks,
    fold_days,
    nice_scale,
    provider_colour,
    scale_label,
    slots_for,
    stack_cells,
)

USD = MICRO_PER_USD


def eighths_of(cells: list[Cell], *, patterned: bool = False) -> list[int | None]:
    """What the cells show, eighth by eighth from the bottom: the band's index, or None (nothing)."""
    shown: list[int | None] = []
    for cell in reversed(cells):
        if cell.char == " ":
            shown += [None] * EIGHTHS
        elif patterned:
            assert cell.char in PATTERNS and cell.back is None
            shown += [cell.front] * EIGHTHS
        else:
            filled = BLOCKS.index(cell.char)
            shown += [cell.front] * filled + [cell.back] * (EIGHTHS - filled)
    return shown


def test_a_day_where_one_provider_was_7_percent_is_drawn_7_percent_not_whole() -> None:
    # The day: Cursor 7%, the rest 93%. Six rows are 48 eighths: Cursor's band is 3 of them.
    cells = stack_cells((7, 93), 100, 6)
    assert cells[-1] == Cell("▃", 0, 1)  # Cursor below, the other provider above it, in one cell
    assert all(cell == Cell("█", 1) for cell in cells[:-1])
    assert eighths_of(cells).count(0) == 3 and eighths_of(cells).count(1) == 45
    # A short bar (a tenth of the tallest day) is not painted in its lowest provider's colour: 7% of
    # two eighths is nothing, so it is the other provider's.
    assert stack_cells((7, 93), 1000, 2) == [Cell(" "), Cell("▂", 1)]


def test_four_providers_in_one_bar_each_keep_their_share_within_half_a_cell() -> None:
    parts = (10 * USD, 35 * USD, 5 * USD, 50 * USD)
    cells = stack_cells(parts, 100 * USD, 4)
    shown = eighths_of(cells)
    for index, part in enumerate(parts):
        exact = Fraction(part * 32, sum(parts))
        assert abs(shown.count(index) - exact) <= EIGHTHS  # each of its two boundaries within half a cell
    assert shown.count(None) == 0


@pytest.mark.parametrize("seed", range(6))
def test_every_cell_shows_at_most_two_bands_and_every_boundary_is_near_its_place(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(300):
        parts = tuple(rng.choice([0, 0, rng.randint(1, 10), rng.randint(1, 5000)]) for _ in range(rng.randint(1, 8)))
        top = max(sum(parts), 1) * rng.choice([1, 1, 2, 7])
        rows = rng.randint(1, 8)
        patterned = rng.random() < 0.3
        cells = stack_cells(parts, top, rows, patterned=patterned)
        assert len(cells) == rows
        shown = eighths_of(cells, patterned=patterned)
        height = bar_height(sum(parts), top, rows)
        if patterned and height:
            height = max(EIGHTHS, (height + EIGHTHS // 2) // EIGHTHS * EIGHTHS)  # half a cell rounds up
        assert shown.count(None) == rows * EIGHTHS - height  # the bar's top is exact
        assert shown[:height] == sorted(shown[:height], key=lambda i: -1 if i is None else i)  # bands in order
        if not height:
            continue
        edges = band_edges(parts, height, inside_cells=not patterned)
        running = 0
        for index, part in enumerate(parts):
            running += part
            exact = Fraction(running * height, sum(parts))
            assert abs(edges[index] - exact) <= EIGHTHS // 2, (parts, top, rows, edges)
            assert shown.count(index) == edges[index] - (edges[index - 1] if index else 0)


def test_under_no_color_bands_are_whole_cells_of_their_pattern() -> None:
    cells = stack_cells((30, 30, 40), 100, 4, patterned=True)
    assert [c.char for c in cells] == [PATTERNS[2], PATTERNS[2], PATTERNS[1], PATTERNS[0]]
    assert len(set(PATTERNS)) == len(PATTERNS) == 8  # every provider the registry has, told apart
    assert stack_cells((1,), 100, 4, patterned=True)[-1] == Cell(PATTERNS[0], 0)  # a nonzero day keeps a cell


def test_a_day_never_synced_is_a_dot_not_a_zero_day() -> None:
    assert stack_cells(None, 100, 3) == [Cell(" "), Cell(" "), Cell("·")]
    assert stack_cells((0, 0), 100, 3) == [Cell(" ")] * 3


def test_the_scale_is_round_starts_at_zero_and_holds_the_tallest_day() -> None:
    for largest in (7 * USD // 100, 52_31 * USD // 100, 448 * USD, 12_345 * USD, 3_000_000 * USD):
        for rows in (2, 4, 6):
            scale = nice_scale(largest, rows)
            assert largest <= scale.top_micro <= largest * 4 // 3
            assert scale.ticks[0].row == 0  # the top row's top edge
            assert [t.row for t in scale.ticks] == sorted({t.row for t in scale.ticks})  # distinct, top first
    scale = nice_scale(448 * USD, 6)
    assert scale.top_micro == 450 * USD
    assert [(t.row, t.label) for t in scale.ticks] == [(0, "$450"), (2, "$300"), (4, "$150")]
    assert [t.label for t in nice_scale(52_31 * USD // 100, 2).ticks] == ["$60"]
    assert [t.label for t in nice_scale(1, 4).ticks] == ["$0.02", "$0.01"]  # a cent is the finest step


def test_scale_labels_are_exact_and_short() -> None:
    assert scale_label(25 * USD // 100) == "$0.25"
    assert scale_label(25 * USD // 10) == "$2.50"
    assert scale_label(1_500 * USD) == "$1,500"
    assert scale_label(12_500 * USD) == "$12.5k"
    assert scale_label(20_000_000 * USD) == "$20M"


def test_days_share_the_width_evenly_and_fold_from_today_back() -> None:
    assert slots_for(30, 72) == Slots(count=30, width=2, bar=2, days_per_slot=1)
    assert slots_for(30, 110) == Slots(count=30, width=3, bar=2, days_per_slot=1)  # a gap between days
    assert slots_for(90, 72) == Slots(count=45, width=1, bar=1, days_per_slot=2)
    first = date(2025, 6, 1)
    days = [StackDay((i,), partial=i == 4, day=first + timedelta(days=i)) for i in range(5)]
    days[3] = StackDay(None, day=first + timedelta(days=3))
    folded = fold_days(days, Slots(count=3, width=1, bar=1, days_per_slot=2))
    # (day 0) (days 1, 2) (days 3, 4): today's slot holds today; each slot shows its largest synced day.
    assert [(d.parts, d.partial, d.day) for d in folded] == [
        ((0,), False, first),
        ((2,), False, first + timedelta(days=1)),
        ((4,), True, first + timedelta(days=3)),
    ]


def test_date_ticks_name_today_and_never_touch() -> None:
    first = date(2025, 5, 20)
    days = [first + timedelta(days=i) for i in range(30)]
    for width in (40, 60, 72, 112):
        slots = slots_for(30, width)
        ticks = date_ticks(days, slots, width)
        assert ticks[-1].label == "Jun 18"
        for left, right in itertools.pairwise(ticks):
            assert left.column + len(left.label) + 2 <= right.column
        assert all(t.column >= 0 and t.column + len(t.label) <= width for t in ticks)
        assert len(ticks) >= 2
        row = date_row(ticks, width)
        assert len(row) == width and "Jun 18" in row


def test_the_chart_grows_with_the_screen() -> None:
    assert [chart_rows(h) for h in (24, 30, 40)] == [2, 4, 6]


def test_provider_colours_are_read_through_one_function() -> None:
    assert provider_colour("cursor") == "#6b9bf2"
    assert provider_colour("no-such-provider") == "#8a8a8a"


def test_the_layout_module_loads_no_textual() -> None:
    code = (
        "import sys, grafient_tui.tui.widgets.chart_layout\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')], 'textual loaded'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
