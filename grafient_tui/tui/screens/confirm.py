"""Asks before an integration and all its stored costs are deleted (or a budget is removed)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from grafient_tui.tui.commands import bindings
from grafient_tui.tui.shown import literal
from grafient_tui.tui.widgets.footer import KeysFooter
from grafient_tui.untrusted import visible


class ConfirmDeleteScreen(ModalScreen[bool]):
    BINDINGS = bindings("confirm")

    INTEGRATION = (
        "This removes the integration, its stored key and every stored day of its costs. "
        "The provider's own data is not touched; adding the key again fetches the history again."
    )

    def __init__(self, label: str, *, what: str = "", text: str = INTEGRATION) -> None:
        """`label`: what is deleted, as stored (data); `what`: its kind in the title ("budget": `Remove
        the budget of Eng?`); `text`: what deleting it does, in this code's own words."""
        super().__init__(id="confirm-delete")
        self.label = label
        self.what = what
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            if self.what:
                dialog.border_title = Content.from_markup(
                    "Remove the $what of [b]$label[/b]?", what=visible(self.what), label=visible(self.label)
                )
            else:
                dialog.border_title = Content.from_markup("Delete [b]$label[/b]?", label=visible(self.label))
            yield Static(literal(self.text), classes="dialog-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Delete (y)", variant="error", id="yes")
                yield Button("Keep (n)", variant="default", id="no")
        yield KeysFooter()  # this question's keys, not the home screen's underneath

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")
