"""Daily cost as bars that start at $0, with never-synced days drawn apart from $0 days.

Textual's Sparkline scales from the series' minimum, so steady $11-17 days look jagged and a
day never fetched looks like a day without spend. This chart scales from zero, marks a day
that was never synced with a dim dot, and draws today so far (not over yet) dimmer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style
from textual.content import Content
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from grafient_tui import providers as provider_registry
from grafient_tui.estimates import together
from grafient_tui.rounding import adding_up
from grafient_tui.tui.widgets.chart_layout import (
    BLOCKS,
    NOT_SYNCED,
    ProviderStack,
    chart_rows,
    date_row,
    date_ticks,
    fold_days,
    nice_scale,
    pattern,
    provider_colour,
    provider_stack,
    slots_for,
    stack_cells,
)
from grafient_tui.untrusted import visible

if TYPE_CHECKING:
    from grafient_tui.figures import IntegrationFigures


@dataclass(frozen=True)
class ChartDay:
    """One UTC day: its cost in micro-cents, or None when it was never synced."""

    cost_micro: int | None
    partial: bool = False  # today so far
    anomaly: bool = False  # an anomaly (grafient_tui.anomalies): marked under its bar


def chart_columns(days: Sequence[ChartDay], width: int) -> list[ChartDay]:
    """One entry per column: days are stretched over a wide chart, and folded (largest day wins,
    a column is unsynced only when all its days are) on a narrow one."""
    if not days or width <= 0:
        return []
    n = len(days)
    columns = []
    for column in range(width):
        first = column * n // width
        last = max(first, (column + 1) * n // width - 1)
        group = days[first : last + 1]
        synced = [d.cost_micro for d in group if d.cost_micro is not None]
        columns.append(
            ChartDay(max(synced) if synced else None, any(d.partial for d in group), any(d.anomaly for d in group))
        )
    return columns


def bar_cells(value: int | None, top: int, rows: int) -> list[str]:
    """The characters of one column, top row first, for a value on a 0..top scale."""
    if value is None:
        return [" "] * (rows - 1) + [NOT_SYNCED]
    if top <= 0 or value <= 0:
        return [" "] * rows
    eighths = max(1, round(value * rows * 8 / top))  # a small nonzero day still shows
    cells = []
    for row in range(rows - 1, -1, -1):  # from the top row down
        filled = min(8, max(0, eighths - row * 8))
        cells.append(BLOCKS[filled])
    return cells


class CostChart(Widget):
    """Bars of daily cost on a $0-based scale. Assign `days` to redraw (a new list each time), and
    `provider` to draw them in its colour (the stacked chart's band for it)."""

    COMPONENT_CLASSES = {"cost-chart--bar", "cost-chart--partial", "cost-chart--missing"}
    DEFAULT_CSS = """
    CostChart { height: 2; }
    CostChart > .cost-chart--bar { color: $accent; }
    CostChart > .cost-chart--partial { color: $accent 50%; }
    CostChart > .cost-chart--missing { color: $text-disabled; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._days: list[ChartDay] = []
        self._provider: str | None = None

    @property
    def provider(self) -> str | None:
        return self._provider

    @provider.setter
    def provider(self, provider: str | None) -> None:
        if provider != self._provider:
            self._provider = provider
            self.refresh()

    @property
    def days(self) -> list[ChartDay]:
        return self._days

    @days.setter
    def days(self, days: Sequence[ChartDay]) -> None:
        self._days = list(days)
        self.refresh()

    @property
    def top_micro(self) -> int:
        """The top of the scale: the largest synced day."""
        return max((d.cost_micro for d in self._days if d.cost_micro is not None), default=0)

    def render_line(self, y: int) -> Strip:
        width, rows = self.size.width, self.size.height
        if rows <= 0 or width <= 0:
            return Strip.blank(width)
        top = self.top_micro
        styles = {
            "bar": self.get_component_rich_style("cost-chart--bar", partial=False),
            "partial": self.get_component_rich_style("cost-chart--partial", partial=False),
            "missing": self.get_component_rich_style("cost-chart--missing", partial=False),
        }
        if self._provider is not None:
            colour = Style(color=provider_colour(self._provider))
            styles["bar"] += colour
            styles["partial"] += colour + Style(dim=True)
        segments = []
        for column in chart_columns(self._days, width):
            char = bar_cells(column.cost_micro, top, rows)[y]
            kind = "missing" if column.cost_micro is None else "partial" if column.partial else "bar"
            segments.append(Segment(char, styles[kind]))
        strip = Strip(segments, len(segments))
        return strip.extend_cell_length(width, self.rich_style or Style())


ANOMALY_MARK = "▲"


class AnomalyMarks(Widget):
    """The row under a CostChart of the same width: ▲ under each column holding an anomaly day, so the
    mark reads without colour; hidden (the class -none) while there is none. Assign `days` as the
    chart's."""

    DEFAULT_CSS = """
    AnomalyMarks { height: 1; color: $text-warning; }
    AnomalyMarks.-none { display: none; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._days: list[ChartDay] = []
        self.add_class("-none")

    @property
    def days(self) -> list[ChartDay]:
        return self._days

    @days.setter
    def days(self, days: Sequence[ChartDay]) -> None:
        self._days = list(days)
        self.set_class(not any(d.anomaly for d in self._days), "-none")
        self.refresh()

    def text(self, width: int | None = None) -> str:
        """The row as plain text at `width` (the widget's own by default)."""
        columns = chart_columns(self._days, self.size.width if width is None else width)
        return "".join(ANOMALY_MARK if column.anomaly else " " for column in columns)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style or Style()
        if y != 0 or width <= 0:
            return Strip.blank(width, base)
        return Strip([Segment(self.text(width), base)]).extend_cell_length(width, base).crop(0, width)


# ---------------------------------------------------------------- every provider, stacked


class StackedCostChart(Widget):
    """Daily cost over every integration, each day's bar split by provider in proportion, on a $0-based
    scale with its $ ticks on the left and dates below. Providers are told apart by colour, or by
    pattern under NO_COLOR. `show(integrations)` to redraw."""

    COMPONENT_CLASSES = {"cost-chart--missing", "cost-chart--partial", "cost-chart--axis"}
    DEFAULT_CSS = """
    StackedCostChart { height: auto; }
    StackedCostChart > .cost-chart--missing { color: $text-disabled; }
    StackedCostChart > .cost-chart--partial { text-style: dim; }
    StackedCostChart > .cost-chart--axis { color: $text-muted; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._stack = ProviderStack((), (), ())
        self._frame: list[Strip] = []
        self._frame_size = Size(0, 0)

    @property
    def stack(self) -> ProviderStack:
        return self._stack

    @property
    def patterned(self) -> bool:
        """NO_COLOR: the bands are patterns (Textual's monochrome filter would leave near-equal greys)."""
        return bool(self.app.no_color)

    def show(self, integrations: Sequence[IntegrationFigures]) -> None:
        self._stack = provider_stack(integrations)
        self._frame = []
        self.refresh()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return chart_rows(viewport.height) + 1  # the bars, then the dates

    def on_resize(self) -> None:
        self._frame = []

    def notify_style_update(self) -> None:
        self._frame = []  # a theme's colours for the axis and the missing days
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        frame = self._drawn()
        return frame[y] if 0 <= y < len(frame) else Strip.blank(self.size.width)

    def text(self) -> list[str]:
        """The chart as plain lines (what a test or a reader without colour sees)."""
        return [strip.text for strip in self._drawn()]

    def _drawn(self) -> list[Strip]:
        """Every line at once, once per size and data: a line alone cannot place the scale."""
        if not self._frame or self._frame_size != self.size:
            self._frame, self._frame_size = self._draw(), self.size
        return self._frame

    def _draw(self) -> list[Strip]:
        width, height = self.size.width, self.size.height
        base = self.rich_style or Style()
        rows = height - 1
        if rows <= 0 or width <= 0:
            return [Strip.blank(width, base) for _ in range(max(0, height))]
        axis = base + self.get_component_rich_style("cost-chart--axis", partial=False)
        missing = base + self.get_component_rich_style("cost-chart--missing", partial=False)
        partial = self.get_component_rich_style("cost-chart--partial", partial=True)
        patterned = self.patterned
        colours = [provider_colour(p) for p in self._stack.providers]
        days = self._stack.days
        largest = max((d.total for d in days if d.parts is not None), default=0)
        scale = nice_scale(largest, rows)
        labels = {tick.row: tick.label for tick in scale.ticks}
        label_width = max(scale.label_width, 2)  # "$0" under the axis
        bars_width = max(0, width - label_width - 1)
        slots = slots_for(len(days), bars_width)
        shown = fold_days(days, slots)
        columns = [stack_cells(day.parts, scale.top_micro, rows, patterned=patterned) for day in shown]
        lines: list[Strip] = []
        for y in range(rows):
            segments = [Segment(labels.get(y, "").rjust(label_width) + ("┤" if y in labels else "│"), axis)]
            for day, cells in zip(shown, columns, strict=True):
                cell = cells[y]
                if day.parts is None:
                    style = missing
                elif cell.front is None:
                    style = base
                elif patterned:
                    style = base + (partial if day.partial else Style())
                else:
                    style = base + Style(
                        color=colours[cell.front], bgcolor=colours[cell.back] if cell.back is not None else None
                    )
                    if day.partial:
                        style += partial
                segments.append(Segment(cell.char * slots.bar, style))
                if slots.width > slots.bar:
                    segments.append(Segment(" " * (slots.width - slots.bar), base))
            lines.append(Strip(segments).extend_cell_length(width, base).crop(0, width))
        ticks = date_ticks([d.day for d in shown], slots, bars_width)
        dates = date_row(ticks, bars_width)
        if slots.days_per_slot > 1:  # said where the bars end (if it fits): a bar is not one day here
            note = f"{slots.days_per_slot} days a bar: the largest"
            start = max([slots.count * slots.width] + [t.column + len(t.label) for t in ticks]) + 2
            if start + len(note) <= bars_width:
                dates = (dates[:start] + note).ljust(bars_width)
        dates_line = Strip([Segment("$0".rjust(label_width) + "└" + dates, axis)])
        lines.append(dates_line.extend_cell_length(width, base).crop(0, width))
        return lines


class StackLegend(Static):
    """The stacked chart's legend: a lead-in, then one entry per provider (its colour or, under NO_COLOR,
    its pattern, its name and total), broken into lines between entries, never inside one, at the
    widget's own width: six providers do not fit one line at 110 columns, and none may be cut off."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lead: Content = Content("")
        self._entries: list[Content] = []

    def show_stack(self, integrations: Sequence[IntegrationFigures]) -> None:
        """Each provider's total marked as its integrations' figures are (≈ for an estimate, — unknown),
        the amounts shown rounded so that they add up to their total rounded once (rounding.adding_up,
        as `report` does): never $6,373.40 of parts under a $6,373.39 total."""
        stack = provider_stack(integrations)
        patterned = bool(self.app.no_color)
        bases = [
            together((f.label, f.basis) for f in integrations if f.provider == total.provider) for total in stack.totals
        ]
        # A provider none of whose integrations has synced a day of the period is unknown (`—`), not $0.00
        # (the store still loading, a first backfill under way): its total is a sum over no day.
        synced = [
            any(f.summary.total_micro is not None for f in integrations if f.provider == total.provider)
            for total in stack.totals
        ]
        shown = [
            (basis.estimated or not basis.unknown_labels) and any_day
            for basis, any_day in zip(bases, synced, strict=True)
        ]
        amounts = [total.total_micro for total, known in zip(stack.totals, shown, strict=True) if known]
        rounded = iter(adding_up(amounts) if all(amount >= 0 for amount in amounts) else amounts)
        entries = []
        for index, (total, basis, known) in enumerate(zip(stack.totals, bases, shown, strict=True)):
            fill = pattern(index)
            mark = (fill + fill + " ", "") if patterned else ("■ ", provider_colour(total.provider))
            entries.append(
                Content.assemble(
                    mark,
                    visible(provider_registry.title(total.provider)),
                    " ",
                    (basis.money(next(rounded)) if known else "—", "bold"),
                )
            )
        self.show(Content.assemble(("Daily usage value by provider  ", "dim")), entries)

    def show(self, lead: Content, entries: list[Content]) -> None:
        self._lead, self._entries = lead, entries
        self._lay_out()
        if not self.size.width:  # hidden or not laid out yet: again once it has a width
            self.call_after_refresh(self._lay_out)

    def on_resize(self) -> None:
        self._lay_out()

    def _lay_out(self) -> None:
        width = self.size.width or 10_000  # not laid out yet: one line, broken again once it is
        lines: list[Content] = []
        line = self._lead
        gap = Content("   ")
        for entry in self._entries:
            candidate = line + entry if not line.plain.strip() or line is self._lead else line + gap + entry
            if candidate.cell_length > width and line.plain.strip():
                lines.append(line)
                line = entry
            else:
                line = candidate
        lines.append(line)
        self.update(Content("\n").join(lines))
