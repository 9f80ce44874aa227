"""What the App tells its screens. The App holds the state and runs the workers; a screen that
cares about a change handles the message (`on_sync_changed`, ...) and re-reads what it shows.

The App posts one instance to each screen in the stack (a screen under another still has to
catch up); they do not bubble, so the App never receives its own news back.
"""

from __future__ import annotations

from textual.message import Message


class StoreOpened(Message, bubble=False):
    """The local store is open (it opens in a thread after the first paint)."""


class StoreFailed(Message, bubble=False):
    """The local store could not be opened; `sentence` says why. No figure it did not give may stay."""

    def __init__(self, sentence: str) -> None:
        super().__init__()
        self.sentence = sentence


class SyncChanged(Message, bubble=False):
    """A sync of one integration started, progressed or ended.

    `stored`: the store may hold new figures (a window was written, the sync ended), worth a
    re-read; False when only its live status changed (it started, a request is being retried)."""

    def __init__(self, integration_id: int, *, stored: bool = True) -> None:
        super().__init__()
        self.integration_id = integration_id
        self.stored = stored


class PeriodChanged(Message, bubble=False):
    """The period (7, 30 or 90 days) changed."""

    def __init__(self, period: int) -> None:
        super().__init__()
        self.period = period


class IntegrationsChanged(Message, bubble=False):
    """An integration was added or deleted; `focus_id` is one to highlight (a new one the user added)."""

    def __init__(self, focus_id: int | None = None) -> None:
        super().__init__()
        self.focus_id = focus_id
