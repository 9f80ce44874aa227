"""Below 80×24 the figures would be cut (`$1,282…`): say so plainly instead, until it is bigger."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.containers import Center, Middle
from textual.screen import ModalScreen
from textual.widgets import Static

from grafient_tui.tui.commands import bindings

MIN_WIDTH, MIN_HEIGHT = 80, 24


class TooSmallScreen(ModalScreen[None]):
    """Covers everything while the terminal is smaller than 80×24; the app removes it on a resize."""

    BINDINGS = bindings("small")

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Static(id="too-small-text")

    def on_mount(self) -> None:
        self.show_size(self.app.size.width, self.app.size.height)

    def show_size(self, width: int, height: int) -> None:
        self.query_one("#too-small-text", Static).update(
            f"Make the terminal at least {MIN_WIDTH:d}×{MIN_HEIGHT:d}\n(it is {width:d}×{height:d} now)\n\nq quits"
        )


def cover_if_small(app: App[Any], width: int, height: int) -> None:
    """Below 80×24 the notice covers the screens (their figures would be cut); it goes at 80×24."""
    small = width < MIN_WIDTH or height < MIN_HEIGHT
    notice = next((s for s in app.screen_stack if isinstance(s, TooSmallScreen)), None)
    if small and notice is None:
        app.push_screen(TooSmallScreen())
    elif small and notice is not None:
        notice.show_size(width, height)
    elif not small and notice is not None and app.screen is notice:
        app.pop_screen()
