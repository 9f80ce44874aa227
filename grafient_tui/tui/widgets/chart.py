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
from textual.strip import Strip
from textual.widget import Widget

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
        group = days[first:last + 1]
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

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
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
