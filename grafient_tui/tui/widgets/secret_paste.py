"""A field that takes a pasted key of several lines (Google's service-account JSON key) and never shows it.

An Input keeps only the first line of a paste, and a TextArea would draw the private key on screen
(and in any screenshot). This takes the whole bracketed paste (or the characters typed, for a
terminal that sends a paste as keystrokes), keeps it in memory only, and shows what it holds in a few
words: how many characters, and what `describe` makes of them (the service account's e-mail, or
why it is not a key yet). Enter is left to the form (it submits); backspace takes the last
character back, ctrl+u clears it.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import events
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widget import Widget

from grafient_tui.untrusted import visible

MAX_CHARS = 64 * 1024  # a JSON key file is about 2.3 kB; a paste past this is not one


class SecretPaste(Widget, can_focus=True):
    """Holds pasted text; renders only a description of it."""

    BINDINGS = [Binding("ctrl+u", "clear", "Clear", id="clear_pasted_key", show=False)]

    class Submitted(Message):
        """Enter in the field: the form submits, as it does from a one-line key."""

        def __init__(self, paste: SecretPaste) -> None:
            super().__init__()
            self.paste = paste

        @property
        def control(self) -> SecretPaste:
            return self.paste

    def __init__(
        self,
        *,
        placeholder: str = "",
        describe: Callable[[str], str] | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.placeholder = placeholder
        self._describe = describe
        self._text = ""

    @property
    def value(self) -> str:
        return self._text

    @value.setter
    def value(self, text: str) -> None:
        self._text = text[:MAX_CHARS]
        self.refresh()

    def render(self) -> Content:
        if not self._text:
            return Content.styled(self.placeholder or "paste here", "dim")
        size = f"{len(self._text):,} characters pasted (not shown)"
        about = self._describe(self._text) if self._describe is not None else ""
        return Content.assemble(("● ", "bold"), size, ("  " + visible(about) if about else "", "dim"))

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        self.value = self._text + event.text

    def on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            self.post_message(self.Submitted(self))
        elif event.key == "backspace":
            event.stop()
            self.value = self._text[:-1]
        elif event.is_printable and event.character is not None:
            event.stop()
            self.value = self._text + event.character

    def action_clear(self) -> None:
        self.value = ""
