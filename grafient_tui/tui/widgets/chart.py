"""Daily cost as bars that start at $0, with never-synced days drawn apart from $0 days.

Textual's Sparkline scales from the series' minimum, so steady $11-17 days look jagged and a
day never fetched looks like a day without spend. This chart scales from zero, marks a day
that was never synced with a dim dot, and draws today so far (not over yet) dimmer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.content import Content
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from grafient_tui import providers

BLOCKS = " ▁▂▃▄▅▆▇█"
NOT_SYNCED = "·"


@dataclass(frozen=True)
class ChartDay:
    """One UTC day: its cost in micro-cents, or None when it was never synced."""

    cost_micro: int | None
    partial: bool = False  # today so far


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
        columns.append(ChartDay(max(synced) if synced else None, any(d.partial for d in group)))
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
    """Bars of daily cost on a $0-based scale. Assign `days` to redraw (a new list each time)."""

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
        segments = []
        for column in chart_columns(self._days, width):
            char = bar_cells(column.cost_micro, top, rows)[y]
            kind = "missing" if column.cost_micro is None else "partial" if column.partial else "bar"
            segments.append(Segment(char, styles[kind]))
        strip = Strip(segments, len(segments))
        return strip.extend_cell_length(width, self.rich_style or Style())


# ---------------------------------------------------------------- every provider, stacked

# One colour per provider, from its registry row (a provider this version does not know is grey).
PROVIDER_COLOURS = {name: providers.colour(name) for name in providers.names()}
OTHER_COLOUR = providers.OTHER_COLOUR


@dataclass(frozen=True)
class StackDay:
    """One UTC day over every integration: micro-cents per provider (in legend order), or None
    when no integration has the day synced."""

    parts: tuple[int, ...] | None
    partial: bool = False

    @property
    def total(self) -> int:
        return sum(self.parts) if self.parts else 0


def stack_columns(days: Sequence[StackDay], width: int) -> list[StackDay]:
    """Like chart_columns: stretched or folded; a folded column shows its largest day whole."""
    if not days or width <= 0:
        return []
    n = len(days)
    columns = []
    for column in range(width):
        first = column * n // width
        last = max(first, (column + 1) * n // width - 1)
        group = list(days[first : last + 1])
        synced = [d for d in group if d.parts is not None]
        best = max(synced, key=lambda d: d.total) if synced else StackDay(None)
        columns.append(StackDay(best.parts, any(d.partial for d in group)))
    return columns


Cell = tuple[str, int | None, int | None]  # (character, foreground part, background part)


def stack_cells(parts: tuple[int, ...] | None, top: int, rows: int) -> list[Cell]:
    """One column's cells, top row first: (character, index of the part drawn in the foreground,
    index of the part behind it or None). The lower-eighth blocks fill from the bottom in the
    foreground colour, so a cell where one provider's band ends inside it shows both exactly."""
    blank: Cell = (" ", None, None)
    if parts is None:
        return [blank] * (rows - 1) + [(NOT_SYNCED, None, None)]
    total = sum(parts)
    if top <= 0 or total <= 0:
        return [blank] * rows
    scale = rows * 8 / top
    edges, running = [], 0
    for part in parts:
        running += part
        edges.append(round(running * scale))
    edges[-1] = max(1, edges[-1])  # a small nonzero day still shows

    def owner(eighth: int) -> int:
        return next((i for i, edge in enumerate(edges) if eighth < edge), len(edges) - 1)

    cells: list[Cell] = []
    for row in range(rows - 1, -1, -1):
        bottom = row * 8
        filled = min(8, max(0, edges[-1] - bottom))
        if filled == 0:
            cells.append((" ", None, None))
            continue
        below = owner(bottom)
        boundary = edges[below] - bottom  # where the bottom part's band ends inside this cell
        if filled == 8 and 0 < boundary < 8:
            cells.append((BLOCKS[boundary], below, owner(bottom + boundary)))
        else:
            cells.append((BLOCKS[filled], below, None))
    return cells


class StackedCostChart(Widget):
    """Daily cost over every integration, one colour per provider, on a $0-based scale.
    Assign `data` (providers in legend order, and the days) to redraw."""

    COMPONENT_CLASSES = {"cost-chart--missing", "cost-chart--partial"}
    DEFAULT_CSS = """
    StackedCostChart { height: 2; }
    StackedCostChart > .cost-chart--missing { color: $text-disabled; }
    StackedCostChart > .cost-chart--partial { text-style: dim; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._providers: tuple[str, ...] = ()
        self._days: list[StackDay] = []

    @property
    def data(self) -> tuple[tuple[str, ...], list[StackDay]]:
        return self._providers, self._days

    @data.setter
    def data(self, value: tuple[Sequence[str], Sequence[StackDay]]) -> None:
        providers, days = value
        self._providers, self._days = tuple(providers), list(days)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width, rows = self.size.width, self.size.height
        if rows <= 0 or width <= 0:
            return Strip.blank(width)
        base = self.rich_style or Style()
        missing = self.get_component_rich_style("cost-chart--missing", partial=False)
        partial = self.get_component_rich_style("cost-chart--partial", partial=True)
        colours = [Style(color=PROVIDER_COLOURS.get(p, OTHER_COLOUR)) for p in self._providers]
        backs = [Style(bgcolor=PROVIDER_COLOURS.get(p, OTHER_COLOUR)) for p in self._providers]
        columns = stack_columns(self._days, width)
        top = max((c.total for c in columns), default=0)
        segments = []
        for column in columns:
            char, front, back = stack_cells(column.parts, top, rows)[y]
            if column.parts is None:
                style = missing
            elif front is None:
                style = base
            else:
                style = base + colours[front] + (backs[back] if back is not None else Style())
                if column.partial:
                    style += partial
            segments.append(Segment(char, style))
        strip = Strip(segments, len(segments))
        return strip.extend_cell_length(width, base)


class StackLegend(Static):
    """The stacked chart's legend: a lead-in, then one entry per provider (its colour, name and total),
    broken into lines between entries, never inside one, at the widget's own width: six providers do
    not fit one line at 110 columns, and none may be cut off."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lead: Content = Content("")
        self._entries: list[Content] = []

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
