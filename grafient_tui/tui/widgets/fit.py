"""Text fitted to its width by priority, never by clipping money: a name gives way, an amount never.

The screens are read at 80 columns as often as at 200; Textual's ellipsis cuts whatever comes last,
which was as often `$2,521.40` as a model's name. Here the parts that may give way are named: a name
is shortened with `…`, a note loses its words that hold no amount, a part of a line with a lower
rank goes whole, and what holds money is kept whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from textual.content import Content
from textual.widgets import Static

from grafient_tui.untrusted import visible

ELLIPSIS = "…"


def shorten(text: str, room: int) -> str:
    """`text` in at most `room` cells, cut at its end with `…` when longer ("" when no room)."""
    if cell_len(text) <= room:
        return text
    if room <= 0:
        return ""
    cut = text
    while cut and cell_len(cut) + 1 > room:
        cut = cut[:-1]
    return f"{cut.rstrip()}{ELLIPSIS}"


def holds_money(word: str) -> bool:
    return "$" in word


def fit_note(text: str, room: int) -> str:
    """A note in `room` cells: its words without an amount go first (from the end), marked `…` where
    they were; its amounts stay whole even if they alone are wider than `room`."""
    if cell_len(text) <= room:
        return text
    words = text.split(" ")
    while cell_len(" ".join(words)) > room:
        droppable = [i for i, word in enumerate(words) if not holds_money(word) and word != ELLIPSIS]
        if not droppable:
            break
        i = droppable[-1]
        if (i + 1 < len(words) and words[i + 1] == ELLIPSIS) or (i > 0 and words[i - 1] == ELLIPSIS):
            del words[i]
        else:
            words[i] = ELLIPSIS
    return " ".join(words)


@dataclass(frozen=True)
class Part:
    """A piece of a line. `rank`: 0 is always shown; a higher rank goes sooner when the line is short.
    `style`: a Textual style ("bold", "dim")."""

    text: str
    style: str = ""
    rank: int = 0


def fit_parts(parts: Sequence[Part], width: int) -> list[Part]:
    """The parts that fit `width`, in their order: the highest rank dropped first, whole."""
    kept = list(parts)
    while sum(cell_len(p.text) for p in kept) > width:
        ranks = [p.rank for p in kept if p.rank > 0]
        if not ranks:
            break
        worst = max(ranks)
        last = max(i for i, p in enumerate(kept) if p.rank == worst)
        del kept[last]
    return kept


class FitLine(Static):
    """One line of ranked parts, refitted whenever its width changes."""

    def __init__(self, *, classes: str = "", drop: bool = True) -> None:
        """`drop`: False for a line that wraps (between words, never inside an amount) instead."""
        super().__init__(classes=classes)
        self.parts: tuple[Part, ...] = ()
        self.drop = drop

    def show(self, parts: Sequence[Part]) -> None:
        self.parts = tuple(parts)
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        width = self.content_size.width or 1000  # before the first layout: everything, refitted on resize
        shown = fit_parts(self.parts, width) if self.drop else self.parts
        self.update(Content.assemble(*[(visible(p.text), p.style) for p in shown]))
