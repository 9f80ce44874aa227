"""Below 80×24 the figures would be cut (`$1,282…`): say so plainly instead, until it is bigger."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Middle
from textual.screen import ModalScreen
from textual.widgets import Static

MIN_WIDTH, MIN_HEIGHT = 80, 24


class TooSmallScreen(ModalScreen[None]):
    """Covers everything while the terminal is smaller than 80×24; the app removes it on a resize."""

    BINDINGS = [Binding("q", "app.quit", "Quit", id="quit_small")]

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Static(id="too-small-text")

    def on_mount(self) -> None:
        self.show_size(self.app.size.width, self.app.size.height)

    def show_size(self, width: int, height: int) -> None:
        self.query_one("#too-small-text", Static).update(
            f"Make the terminal at least {MIN_WIDTH:d}×{MIN_HEIGHT:d}\n(it is {width:d}×{height:d} now)\n\nq quits"
        )
