"""The empty state: what Grafient is, which keys it reads, and where to create one."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from grafient_tui.untrusted import visible

WELCOME = """\
[b]Welcome to Grafient[/b]: your team's AI spend, day by day and provider by provider, in a local store.

[b]Connect an admin key[/b] (Grafient only reads usage and cost):
 · [b]Cursor[/b]: an Admin API key of an Enterprise team (cursor.com/dashboard → Settings → Advanced)
 · [b]Anthropic[/b]: an Admin key, sk-ant-admin01-… (Claude Console → Settings → Admin keys)
 · [b]OpenAI[/b]: an Admin key with Read only permission, sk-admin-… (Organization settings → Admin keys)
 · [b]OpenRouter[/b]: a management key (openrouter.ai/settings/management-keys)
 · [b]GitHub Copilot[/b]: a token of an organization owner or billing manager, and the organization or enterprise
 · [b]xAI[/b]: a management key with Billing: Read Only, and the team ID (xAI Console → Settings)

Then press [b]$add[/b] to add it. The key is checked with its provider and stored encrypted; only its last four \
characters are ever shown."""


class WelcomePanel(Static):
    def __init__(self, add_key: str = "a") -> None:
        super().__init__(Content.from_markup(WELCOME, add=visible(add_key)), id="welcome")
