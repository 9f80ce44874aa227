"""The messages of the app, in three kinds; a reader follows any chain with a search for `@on`.

- Intents: a screen (or the palette) asks the App for something. They bubble from the screen to the
  App, whose `@on` handlers do it; no screen calls the App by name.
- Results: a worker of the App says how its work ended. Workers post them (never a callback stored
  somewhere); a worker that raises ends in the App's one `Worker.StateChanged` handler instead.
- News: the App tells every screen in the stack what changed (a screen under another has to catch
  up too), with the live state as one immutable value (`live`). They do not bubble, so the App
  never receives its own news back.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from textual.message import Message

from grafient_tui.tui.live import LiveState

if TYPE_CHECKING:
    from grafient_tui.figures import BudgetStatus, DetailFigures, HomeFigures, SyncProgress
    from grafient_tui.tui.reads import ModelsView
    from grafient_tui.tui.syncing import SyncEnd

__all__ = ["LiveState", "Reads"]


class Reads(Protocol):
    """What a screen reads from the store, through the App's one service, always in a thread."""

    def now(self) -> datetime: ...

    def home(self, period: int, month: str | None = None) -> HomeFigures: ...

    def detail(self, integration_id: int, period: int, month: str | None = None) -> DetailFigures: ...

    def models(self, period: int, month: str | None = None) -> ModelsView: ...


# --------------------------------------------------------------------------- intents (screen -> App)


class SyncRequested(Message):
    """Sync these integrations now (those already syncing are left alone); None: every one the home
    shows. `trigger`: "force" from a key or the palette, "daily" from the timer's look-up (jobs.py)."""

    def __init__(self, integration_ids: tuple[int, ...] | None, *, trigger: str = "force") -> None:
        super().__init__()
        self.integration_ids = integration_ids
        self.trigger = trigger


class DeleteRequested(Message):
    """Delete an integration and its stored costs, after asking."""

    def __init__(self, integration_id: int, label: str) -> None:
        super().__init__()
        self.integration_id = integration_id
        self.label = label


class AddRequested(Message):
    """Open the form that adds an integration."""


class DetailRequested(Message):
    """Open an integration's cost detail. `preview`: the last run's home figures (the snapshot) it was
    asked from before the store opened; the detail shows what they say of it until the store's come."""

    def __init__(self, integration_id: int, preview: HomeFigures | None = None) -> None:
        super().__init__()
        self.integration_id = integration_id
        self.preview = preview


class PeriodRequested(Message):
    """Show the last `days` UTC days everywhere (None: the next of 7, 30 and 90), and remember it."""

    def __init__(self, days: int | None = None, month: str | None = None) -> None:
        super().__init__()
        self.days = days
        self.month = month  # a calendar month instead: "this-month", "last-month", "YYYY-MM"


class ModelsRequested(Message):
    """Show every integration's models by one key per model (the Models view)."""


class PlanRequested(Message):
    """Save this plan (None: the next one)."""

    def __init__(self, plan: str | None = None) -> None:
        super().__init__()
        self.plan = plan


class ExportRequested(Message):
    """Write the period to a CSV file: one integration's (None: every integration's) rows per `by`
    (day, model or member: the columns of `grafient report --by <by> --format csv`)."""

    def __init__(self, integration_id: int | None, by: str = "day") -> None:
        super().__init__()
        self.integration_id = integration_id
        self.by = by


class BudgetsRequested(Message):
    """Open the budgets screen."""


class BudgetSetRequested(Message):
    """Set (or replace) a budget, as `grafient budget set TARGET AMOUNT --period P [--on billed|usage |
    --on-demand]`: `measure` is usage, billed or on_demand."""

    def __init__(self, target: str, amount: str, period: str, *, measure: str = "usage") -> None:
        super().__init__()
        self.target = target
        self.amount = amount
        self.period = period
        self.measure = measure


class BudgetRemoveRequested(Message):
    """Remove a budget, after asking: `label` names its target in the question."""

    def __init__(self, target: str, period: str, label: str) -> None:
        super().__init__()
        self.target = target
        self.period = period
        self.label = label


class HomeLoaded(Message):
    """The home screen shows these figures now: the integrations the palette names come from them."""

    def __init__(self, figures: HomeFigures) -> None:
        super().__init__()
        self.figures = figures


# --------------------------------------------------------------------------- results (worker -> App)


class StoreReady(Message):
    """The start-up worker has opened the store: these integrations are due for their daily sync."""

    def __init__(self, due: list[int], viewer_reason: str | None) -> None:
        super().__init__()
        self.due = due
        self.viewer_reason = viewer_reason


class SyncProgressed(Message):
    """A running sync fetched a page or wrote a window (a newer one replaces one still queued)."""

    def __init__(self, progress: SyncProgress) -> None:
        super().__init__()
        self.progress = progress

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SyncProgressed) and message.progress.integration_id == self.progress.integration_id


class SyncFinished(Message):
    """A sync ended: how, in the words of its batch's toast."""

    def __init__(self, end: SyncEnd) -> None:
        super().__init__()
        self.end = end


class IntegrationsAdded(Message):
    """Integrations were added (by the form, or the demo's teams: their backfills start as one
    batch); `focus`: highlight the card of the first."""

    def __init__(self, integration_ids: tuple[int, ...], *, focus: bool = False) -> None:
        super().__init__()
        self.integration_ids = integration_ids
        self.focus = focus


class Deleted(Message):
    def __init__(self, integration_id: int, label: str) -> None:
        super().__init__()
        self.integration_id = integration_id
        self.label = label


class PlanSaved(Message):
    def __init__(self, plan: str) -> None:
        super().__init__()
        self.plan = plan


class Exported(Message):
    """A CSV was written: `what` it holds, in words (`30 days of Acme's models`)."""

    def __init__(self, path: Path, what: str) -> None:
        super().__init__()
        self.path = path
        self.what = what


class BudgetChanged(Message):
    """A budget was set, replaced or removed: `said` is the CLI's sentence for it."""

    def __init__(self, said: str) -> None:
        super().__init__()
        self.said = said


class BudgetRefused(Message):
    """A budget was not set or removed: `sentence` says why (a bad amount, a viewer, an unknown target)."""

    def __init__(self, sentence: str) -> None:
        super().__init__()
        self.sentence = sentence


class BudgetsChecked(Message):
    """The budget thresholds crossed since they were last announced: (status, thresholds) each."""

    def __init__(self, alerts: list[tuple[BudgetStatus, tuple[str, ...]]]) -> None:
        super().__init__()
        self.alerts = alerts


class AlertsDelivered(Message):
    """Pending alerts were sent to the channels (none when `sent` is False: only their standing was
    read); `problem`: one line when a channel's last delivery failed."""

    def __init__(self, delivered: int, failed: int, problem: str | None) -> None:
        super().__init__()
        self.delivered = delivered
        self.failed = failed
        self.problem = problem


# --------------------------------------------------------------------------- news (App -> every screen)


class News(Message, bubble=False):
    """What the App tells every screen, with its live state at that moment. (Each kind says
    `bubble=False` again: Textual's default, True, is given to every subclass that does not.)"""

    def __init__(self, live: LiveState) -> None:
        super().__init__()
        self.live = live


class StoreOpened(News, bubble=False):
    """The local store is open (it opens in a thread after the first paint)."""


class StoreFailed(News, bubble=False):
    """The local store could not be opened; `sentence` says why. No figure it did not give may stay."""

    def __init__(self, live: LiveState, sentence: str) -> None:
        super().__init__(live)
        self.sentence = sentence


class SyncChanged(News, bubble=False):
    """A sync of one integration started, progressed or ended.

    `stored`: the store may hold new figures (a window was written, the sync ended), worth a
    re-read; False when only its live status changed (it started, a request is being retried)."""

    def __init__(self, live: LiveState, integration_id: int, *, stored: bool = True) -> None:
        super().__init__(live)
        self.integration_id = integration_id
        self.stored = stored


class PeriodChanged(News, bubble=False):
    """The period (7, 30 or 90 days) or the plan changed: the figures are to be read again."""


class IntegrationsChanged(News, bubble=False):
    """An integration was added or deleted; `focus_id` is one to highlight (a new one the user added)."""

    def __init__(self, live: LiveState, focus_id: int | None = None) -> None:
        super().__init__(live)
        self.focus_id = focus_id


class BudgetsChanged(News, bubble=False):
    """A budget was set or removed (`said`), or refused (`refused`: why): the gauges and lists re-read."""

    def __init__(self, live: LiveState, *, said: str = "", refused: str = "") -> None:
        super().__init__(live)
        self.said = said
        self.refused = refused


class AlertsChanged(News, bubble=False):
    """An alert channel's standing changed (live.alert_problem): the home's one line shows it."""
