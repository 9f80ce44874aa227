"""The daily charts' arithmetic, cell by cell, without Textual: which day each column shows, where
each provider's band starts and ends inside a day's bar, the $ scale and the date ticks.

A terminal cell can show two colours at most (a lower-eighth block: its foreground below, its
background above), so a band boundary may fall inside a cell only where no other boundary does.
`band_edges` places each boundary at the eighth nearest its exact position, or, when that cell
already holds one, at the nearest cell edge: every boundary lies within half a cell of the truth,
the bar's top is exact, and no cell is drawn in a colour that is not its own. Under NO_COLOR the
bands are told apart by patterns, which fill whole cells: the bar and its boundaries are whole cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING

from grafient_tui import providers
from grafient_tui.money import MICRO_PER_USD

if TYPE_CHECKING:
    from grafient_tui.figures import DayFigures, IntegrationFigures

BLOCKS = " ▁▂▃▄▅▆▇█"
EIGHTHS = 8
NOT_SYNCED = "·"

# One colour per provider, as Grafient's web dashboard stacks them (unknown providers are grey).
# One colour per provider, from its registry row (a provider this version does not know is grey).
PROVIDER_COLOURS = {name: providers.colour(name) for name in providers.names()}
OTHER_COLOUR = providers.OTHER_COLOUR

# Under NO_COLOR, the n-th provider of the legend fills its band with the n-th pattern: neighbours
# in this order differ in density (solid, light, dark, medium), then in shape.
PATTERNS = ("█", "░", "▓", "▒", "▚", "≡", "╳", "┼")


def provider_colour(provider: str) -> str:
    """The one place a provider's colour is read (cards, the stacked chart and its legend)."""
    return PROVIDER_COLOURS.get(provider, OTHER_COLOUR)


def pattern(index: int) -> str:
    """The NO_COLOR fill of the legend's `index`-th provider."""
    return PATTERNS[index % len(PATTERNS)]


# ---------------------------------------------------------------- the days, per provider


@dataclass(frozen=True)
class StackDay:
    """One UTC day over every integration: micro-cents per provider (in legend order), or None
    when no integration has the day synced."""

    parts: tuple[int, ...] | None
    partial: bool = False  # today so far
    day: date | None = None

    @property
    def total(self) -> int:
        return sum(self.parts) if self.parts else 0


@dataclass(frozen=True)
class ProviderTotal:
    provider: str
    total_micro: int


@dataclass(frozen=True)
class ProviderStack:
    """The providers in order of first appearance, one StackDay per day of the period, each
    provider's total over it."""

    providers: tuple[str, ...]
    days: tuple[StackDay, ...]
    totals: tuple[ProviderTotal, ...]


def kept(row: DayFigures, history_from: date | None) -> bool:
    """A day the provider holds figures for: synced, and not before the earliest day it ever
    returned usage for (older "empty" days may only be days it no longer keeps)."""
    return row.synced and (history_from is None or row.day >= history_from)


def provider_stack(integrations: Sequence[IntegrationFigures]) -> ProviderStack:
    """Every integration's days summed per provider. A day counts as synced when any integration
    has it (the summary's coverage says how complete that is)."""
    order: list[str] = []
    for figures in integrations:
        if figures.provider not in order:
            order.append(figures.provider)
    if not integrations:
        return ProviderStack((), (), ())
    length = min(len(f.days) for f in integrations)
    days: list[StackDay] = []
    totals = [0] * len(order)
    for i in range(length):
        parts = [0] * len(order)
        synced = partial = False
        for figures in integrations:
            row = figures.days[i]
            if kept(row, figures.history_from):
                synced = True
                partial = partial or not row.complete
                parts[order.index(figures.provider)] += row.cost_micro
        for j, part in enumerate(parts):
            totals[j] += part
        days.append(StackDay(tuple(parts) if synced else None, partial, integrations[0].days[i].day))
    return ProviderStack(
        tuple(order), tuple(days), tuple(ProviderTotal(p, t) for p, t in zip(order, totals, strict=True))
    )


# ---------------------------------------------------------------- columns: which day each shows


@dataclass(frozen=True)
class Slots:
    """How the days share the chart's width: each slot is `width` columns (its bar `bar` of them,
    then a gap) and shows `days_per_slot` days (more than one only when the days outnumber the
    columns; the slot then shows the largest of them whole)."""

    count: int
    width: int
    bar: int
    days_per_slot: int


def slots_for(days: int, width: int) -> Slots:
    """Every slot as wide as every other (a day is never drawn wider than its neighbour)."""
    if days <= 0 or width <= 0:
        return Slots(0, 0, 0, 1)
    if days <= width:
        slot = width // days
        return Slots(days, slot, slot - 1 if slot >= 3 else slot, 1)
    per_slot = -(-days // width)
    return Slots(-(-days // per_slot), 1, 1, per_slot)


def fold_days(days: Sequence[StackDay], slots: Slots) -> list[StackDay]:
    """One StackDay per slot. Folded slots are grouped from the last day back (today stands alone
    or with its predecessors, the first slot may hold fewer days); each shows its largest synced day
    whole, dated by its first day, partial when any of its days is."""
    if slots.days_per_slot == 1:
        return list(days)
    shown: list[StackDay] = []
    end = len(days)
    groups: list[Sequence[StackDay]] = []
    while end > 0:
        groups.append(days[max(0, end - slots.days_per_slot) : end])
        end -= slots.days_per_slot
    for group in reversed(groups):
        synced = [d for d in group if d.parts is not None]
        best = max(synced, key=lambda d: d.total) if synced else None
        shown.append(
            StackDay(best.parts if best else None, any(d.partial for d in group), group[0].day if group else None)
        )
    return shown


# ---------------------------------------------------------------- one bar, band by band


def bar_height(total: int, top: int, rows: int) -> int:
    """The bar's height in eighths of a cell, on a 0..top scale (a nonzero day is at least one)."""
    if total <= 0 or top <= 0 or rows <= 0:
        return 0
    eighths = (2 * total * rows * EIGHTHS + top) // (2 * top)
    return min(rows * EIGHTHS, max(1, eighths))


def band_edges(parts: Sequence[int], height: int, *, inside_cells: bool = True) -> tuple[int, ...]:
    """Where each part's band ends, in eighths from the bottom (the last is `height`). A boundary
    goes at the eighth nearest its exact place when its cell holds no other boundary (and
    `inside_cells`), else at the nearest cell edge: within half a cell of the truth either way."""
    total = sum(parts)
    if height <= 0 or total <= 0:
        return tuple(0 for _ in parts)
    taken = {height // EIGHTHS} if height % EIGHTHS else set()  # the top's cell
    edges: list[int] = []
    low = 0
    running = 0
    for part in parts[:-1]:
        running += part
        ideal = Fraction(running * height, total)
        floor_edge = int(ideal) // EIGHTHS * EIGHTHS
        candidates = [max(low, min(height, edge)) for edge in (floor_edge, floor_edge + EIGHTHS)]
        nearest = round(ideal)
        if inside_cells and low <= nearest <= height and (nearest % EIGHTHS == 0 or nearest // EIGHTHS not in taken):
            candidates.append(nearest)
        # An interior spot already taken is only acceptable as the very boundary that took it.
        usable = [c for c in candidates if c % EIGHTHS == 0 or c in (low, height) or c // EIGHTHS not in taken]
        edge = min(usable, key=lambda c: (abs(c - ideal), c))
        if edge % EIGHTHS:
            taken.add(edge // EIGHTHS)
        edges.append(edge)
        low = edge
    edges.append(height)
    return tuple(edges)


@dataclass(frozen=True)
class Cell:
    """One cell of a bar: its character, the band drawn in the foreground (its lower part) and the
    band behind it (None: nothing, the chart's background)."""

    char: str
    front: int | None = None
    back: int | None = None


BLANK = Cell(" ")


def stack_cells(parts: tuple[int, ...] | None, top: int, rows: int, *, patterned: bool = False) -> list[Cell]:
    """One bar's cells, top row first. `patterned` (NO_COLOR): every cell is one band's pattern, so
    the bar's height is rounded to whole cells (a nonzero day keeps one)."""
    if rows <= 0:
        return []
    if parts is None:
        return [BLANK] * (rows - 1) + [Cell(NOT_SYNCED)]
    height = bar_height(sum(parts), top, rows)
    if patterned and height:
        height = max(EIGHTHS, (height + EIGHTHS // 2) // EIGHTHS * EIGHTHS)
    edges = band_edges(parts, height, inside_cells=not patterned)

    def owner(eighth: int) -> int | None:
        return next((i for i, edge in enumerate(edges) if eighth < edge), None)

    cells: list[Cell] = []
    for row in range(rows - 1, -1, -1):
        bottom = row * EIGHTHS
        below = owner(bottom)
        if below is None:
            cells.append(BLANK)
            continue
        inside = next((e for e in edges if bottom < e < bottom + EIGHTHS), None)
        if inside is None:
            cells.append(Cell(pattern(below) if patterned else BLOCKS[EIGHTHS], below))
        else:
            cells.append(Cell(BLOCKS[inside - bottom], below, owner(inside)))
    return cells


# ---------------------------------------------------------------- the $ scale


@dataclass(frozen=True)
class Tick:
    row: int  # from the top; the tick's value is this row's top edge
    label: str


@dataclass(frozen=True)
class Scale:
    top_micro: int  # the value of the top row's top edge
    ticks: tuple[Tick, ...]

    @property
    def label_width(self) -> int:
        return max((len(t.label) for t in self.ticks), default=0)


# Round steps, times a power of ten, in tenths of a cent: fine enough that the tallest day fills most of
# the chart (the top is at most a third above it) whatever the number of ticks.
NICE = (10, 12, 15, 20, 25, 30, 40, 50, 60, 80)


def _number(value: Fraction) -> str:
    if value.denominator == 1:
        return f"{int(value):,}"
    places = next((p for p in (1, 2) if (value * 10**p).denominator == 1), 3)
    return f"{float(value):,.{places}f}"


def scale_label(micro: int) -> str:
    """A tick's value, whole and short: `$0.25`, `$2.50`, `$40`, `$7,500`, `$12.5k`, `$20M`."""
    dollars = Fraction(micro, MICRO_PER_USD)
    if dollars >= 10_000_000:
        return f"${_number(dollars / 1_000_000)}M"
    if dollars >= 10_000:
        return f"${_number(dollars / 1_000)}k"
    text = _number(dollars)
    return f"${text}0" if "." in text and len(text.rsplit(".", 1)[1]) == 1 else f"${text}"


def tick_count(rows: int) -> int:
    """How many ticks above $0: each on a row's top edge, at least two rows apart."""
    return next((d for d in (4, 3, 2) if rows % d == 0 and rows // d >= 2), 1)


def nice_scale(largest_micro: int, rows: int) -> Scale:
    """A $0-based scale whose ticks are round amounts and whose top is at or above the largest day."""
    ticks = tick_count(rows)
    step = 0
    power = 100_000  # a tenth of a cent, in micro-cents
    while not step:
        for nice in NICE:
            if nice * power * ticks >= largest_micro:
                step = nice * power
                break
        power *= 10
    return Scale(
        step * ticks,
        tuple(Tick(rows - j * rows // ticks, scale_label(j * step)) for j in range(ticks, 0, -1)),
    )


# ---------------------------------------------------------------- the date ticks

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def date_label(day: date) -> str:
    return f"{MONTHS[day.month - 1]} {day.day}"


@dataclass(frozen=True)
class DateTick:
    column: int  # from the bars' left edge
    label: str


def date_ticks(days: Sequence[date | None], slots: Slots, width: int) -> list[DateTick]:
    """Labels under the bars, each starting under its slot: the last slot (today) always, then
    every so many slots back from it, as many as fit without touching (two spaces apart)."""
    if not days or slots.count == 0 or width <= 0:
        return []
    widest = max(len(date_label(d)) for d in days if d is not None) if any(days) else 0
    step = max(1, -(-(widest + 2) // slots.width))
    placed: list[DateTick] = []
    right_limit = width
    for index in range(len(days) - 1, -1, -step):
        day = days[index]
        if day is None:
            continue
        label = date_label(day)
        column = min(index * slots.width, width - len(label))
        if column < 0 or column + len(label) + (2 if placed else 0) > right_limit:
            continue
        placed.append(DateTick(column, label))
        right_limit = column
    return list(reversed(placed))


def date_row(ticks: Sequence[DateTick], width: int) -> str:
    row = [" "] * width
    for tick in ticks:
        for offset, char in enumerate(tick.label):
            if 0 <= tick.column + offset < width:
                row[tick.column + offset] = char
    return "".join(row)


def chart_rows(viewport_height: int) -> int:
    """The bars' rows on a screen this tall: two on 24 rows (the cards need the room), more above."""
    if viewport_height < 28:
        return 2
    if viewport_height < 36:
        return 4
    return 6
