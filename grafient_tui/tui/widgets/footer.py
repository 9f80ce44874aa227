"""The keys line at the bottom of every screen, most important first and fitted to the width.

Textual's Footer lists the focused widget's, the screen's and then the App's keys, and a narrow
terminal cuts the end off: at 80 columns `q Quit` and `? Keys` were never seen. Here the keys are
ordered by their rank in the one table (commands.py: quit and `?` first, the screen's own keys, the
plan and the palette last), and the least important are left out whole until the rest fit; every
key left out is still in `?` and the palette."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from grafient_tui.tui.commands import PALETTE_RANK, footer_rank

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.events import Resize
    from textual.screen import Screen

GUTTER = 1  # the compact footer's gap between two keys


def key_width(key: FooterKey, *, compact: bool) -> int:
    """The cells a key takes: `esc Back`, padded by a cell each side when not compact."""
    text = f"{key.key_display} {key.description}" if key.description else key.key_display
    return cell_len(text) + (0 if compact else 2)


def fitted(keys: list[tuple[int, FooterKey]], width: int, *, compact: bool) -> list[FooterKey]:
    """`keys` (rank, key) in rank order (stable: the table's order among equals), without the least
    important ones (the highest rank, the last first) until the rest fit in `width`."""
    ordered = sorted(enumerate(keys), key=lambda item: (item[1][0], item[0]))
    kept = [key for _, (_, key) in ordered]
    ranks = [rank for _, (rank, _) in ordered]

    def total() -> int:
        return sum(key_width(key, compact=compact) for key in kept) + GUTTER * max(0, len(kept) - 1)

    while kept and total() > width:
        drop = max(range(len(kept)), key=lambda i: (ranks[i], i))
        if ranks[drop] == 0:  # quit and `?` always stay
            break
        del kept[drop], ranks[drop]
    return kept


def tabs_together(
    ranked: list[tuple[int, FooterKey]], ids: list[str | None], width: int
) -> list[tuple[int, FooterKey]]:
    """The tab keys (`1 Models 2 Daily 3 Members 4 Anomalies`) as one `1-4 Tabs` when they would not
    all fit beside the rest: a narrow terminal left out the last tab's key, which was never seen."""
    tabs = [i for i, binding_id in enumerate(ids) if binding_id and binding_id.startswith("tab_")]
    kept = {id(key) for key in fitted(ranked, width, compact=True)}
    if len(tabs) < 2 or all(id(ranked[i][1]) in kept for i in tabs):
        return ranked
    rank, first = ranked[tabs[0]]
    last = ranked[tabs[-1]][1]
    together = FooterKey(
        first.key, f"{first.key_display}-{last.key_display}", "Tabs", first.action, classes=" ".join(first.classes)
    )
    out = [item for i, item in enumerate(ranked) if i not in tabs]
    out.insert(tabs[0], (rank, together))
    return out


class KeysFooter(Footer):
    """Footer(compact=True) with its keys ranked and fitted (see the module's docstring)."""

    def __init__(self) -> None:
        super().__init__(compact=True)
        self._fitted_width = 0
        self._recompose_due = False

    def bindings_changed(self, screen: Screen[object]) -> None:
        """Textual's, but one recompose for every change asked for before it runs: the home refreshes its
        bindings for each card it mounts and focuses, and a recompose each (~40 ms on a loaded machine)
        held a key pressed at first paint for a third of a second."""
        if self._recompose_due:
            return
        self._recompose_due = True
        self._bindings_ready = True
        if not screen.app.app_focus or not (self.is_attached and screen is self.screen):
            self._recompose_due = False
            return
        self.call_after_refresh(self._recompose_once)

    async def _recompose_once(self) -> None:
        self._recompose_due = False  # a change from here on asks for another
        await self.recompose()

    def compose(self) -> ComposeResult:
        keys = [key for key in super().compose() if isinstance(key, FooterKey)]
        if not keys:
            return
        bindings = self.screen.active_bindings.values()
        ids = {(active.binding.key, active.binding.action): active.binding.id for active in bindings}
        ranked = [
            (PALETTE_RANK if key.has_class("-command-palette") else footer_rank(ids.get((key.key, key.action))), key)
            for key in keys
        ]
        self._fitted_width = self.app.size.width
        ranked = tabs_together(ranked, [ids.get((key.key, key.action)) for _, key in ranked], self._fitted_width)
        kept = fitted(ranked, self._fitted_width, compact=self.compact)
        # One grid column a key (Textual counted every key): the palette's is docked at the right.
        self.styles.grid_size_columns = max(1, sum(not key.has_class("-command-palette") for key in kept))
        yield from kept

    def on_resize(self, _event: Resize) -> None:
        if self.app.size.width != self._fitted_width:
            self.call_after_refresh(self.recompose)
