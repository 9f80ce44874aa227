"""The command palette's commands that name an integration: sync, open or delete it by its label.

A label is data (a teammate on a shared database may have written it): Textual reads a palette
command's title and help as markup, so a label `Eng [/]` crashed the palette and
`[@click=app.bell]Ops` became an action. These commands are shown as Content built by the one rule
(tui/shown.py), never markup, and matched on the label as it is shown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from grafient_tui.tui.shown import literal
from grafient_tui.untrusted import visible

if TYPE_CHECKING:
    from grafient_tui.tui.app import GrafientApp


class IntegrationCommands(Provider):
    """Sync, Open and Delete for each integration on the home screen."""

    def _commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        app = cast("GrafientApp", self.app)
        yield from app.integration_commands()

    @staticmethod
    def _display(title: str, help_text: str) -> Content:
        # The help goes in the display itself (dim, on its own line, as the palette shows help): the
        # palette would read a separate help string as markup.
        return Content.assemble(literal(title), "\n", literal(help_text, "dim"))

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(self._display(title, help_text), callback, text=visible(title))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            shown = visible(title)
            score = matcher.match(shown)
            if score > 0:
                yield Hit(score, self._display(title, help_text), callback, text=shown)
