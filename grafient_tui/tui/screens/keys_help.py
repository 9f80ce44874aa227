"""`?`: every key of the screen underneath, as the user's keymap has them."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from grafient_tui.tui.commands import HelpRow, bindings
from grafient_tui.tui.shown import literal_cell
from grafient_tui.tui.widgets.footer import KeysFooter
from grafient_tui.untrusted import visible


class KeysHelpScreen(ModalScreen[None]):
    BINDINGS = bindings("help")

    def __init__(self, rows: list[HelpRow], *, example: str = 'force_sync = "f5"') -> None:
        """rows: the keys, what they do, the binding id; example: a remap that uses a free key."""
        super().__init__(id="keys-help")
        self.rows = rows
        self.example = example

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide") as dialog:
            dialog.border_title = "Keys"
            table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True, id="keys-table")
            table.add_columns("Key", "Does", "Binding id")
            for row in self.rows:
                table.add_row(literal_cell(row.keys), literal_cell(row.does), literal_cell(row.binding_id))
            yield table
            yield Static(
                Content.from_markup(
                    "Remap a key by its id in the [b]\\[keymap][/b] table of config.toml, e.g. [b]$example[/b]. "
                    "[b]escape[/b] closes.",
                    example=visible(self.example),
                ),
                classes="dialog-text",
            )
        yield KeysFooter()

    def action_close(self) -> None:
        self.dismiss(None)
