"""One screen of a kind in the stack: a screen keeps its id (`detail`, `models-view`, `budgets`), and
Textual refuses a second widget with the same id under the App (DuplicateIds, a crash). Asking for a
screen that is already in the stack (the palette's "Open <integration>" over a detail, "Models" over
the models view) brings that one back to the front, or replaces it when it shows something else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from textual.app import App
from textual.screen import Screen

S = TypeVar("S", bound=Screen[Any])


async def show_once(app: App[Any], kind: type[S], build: Callable[[], S], same: Callable[[S], bool]) -> None:
    """Push `build()`, unless a `kind` screen is in the stack: then the screens above it go (a dialog
    over it is cancelled: its callback is not called), and it stays if `same(it)`, else it is removed
    before the new one is mounted (a switch would mount the new one first, with the same id)."""
    existing = next((screen for screen in app.screen_stack if isinstance(screen, kind)), None)
    if existing is not None:
        while app.screen is not existing:
            await app.pop_screen()
        if same(existing):
            return
        await app.pop_screen()
    await app.push_screen(build())
