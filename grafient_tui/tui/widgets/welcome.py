"""The empty state: what Grafient is and how to get a Cursor Admin API key."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

WELCOME = """\
[b]Welcome to Grafient[/b]: your Cursor team's AI spend, day by day, in a local store.

[b]Get a Cursor Admin API key[/b] (Enterprise teams):
 1. open [b]cursor.com/dashboard[/b]
 2. go to [b]Settings → Advanced → Admin API Keys[/b]
 3. choose [b]Create New API Key[/b] and copy it: Cursor shows it only once.

Then press [b]$add[/b] to add it. The key is checked with Cursor and stored encrypted; only its last four \
characters are ever shown."""


class WelcomePanel(Static):
    def __init__(self, add_key: str = "a") -> None:
        super().__init__(Content.from_markup(WELCOME, add=add_key), id="welcome")
