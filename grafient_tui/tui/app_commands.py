"""The App's palette, `?` and screenshots: the command table's side of the App (tui/commands.py),
apart from app.py, which composes and routes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand
from textual.screen import Screen

from grafient_tui.tui.commands import free_key_example, help_rows, palette
from grafient_tui.tui.crash import CrashReportWithoutSecrets
from grafient_tui.tui.files import save_screenshot

if TYPE_CHECKING:
    from grafient_tui.config import Settings
    from grafient_tui.figures import IntegrationFigures
    from grafient_tui.tui.reads import StoreReads


class PaletteKeysScreenshots(CrashReportWithoutSecrets):
    """What GrafientApp sets up in its constructor, and the palette, `?` and screenshot actions on it."""

    settings: Settings
    keymap: dict[str, str]
    reads: StoreReads
    integrations: tuple[IntegrationFigures, ...]
    now: Callable[[], datetime]

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The command table's (tui/commands.py), beside Textual's Theme and Quit: its Keys and Screenshot
        are replaced by ours (this app's keys; saved where the data lives)."""
        for command in super().get_system_commands(screen):
            if command.title not in ("Keys", "Screenshot"):
                yield command
        yield from palette(self, screen, integrations=bool(self.integrations), periods=self.reads.period_choices)

    def action_keys_help(self) -> None:
        """Every key of the current screen, as the keymap has them (greyed ones included)."""
        from grafient_tui.tui.screens.keys_help import KeysHelpScreen

        rows = help_rows(self, self.screen)
        self.push_screen(KeysHelpScreen(rows, example=free_key_example(self.keymap, self.screen_stack)))

    def action_save_screenshot(self) -> None:
        self.set_timer(0.1, self.save_screen_svg)  # once the palette has gone from the screen

    def save_screen_svg(self) -> Path | None:
        return save_screenshot(self, self.settings.data_dir, self.now())
