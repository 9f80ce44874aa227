"""The App's routes for budgets and exports: the intents the budgets screen, the home and a detail
post, the jobs that do them through the one service, and the results they end with.

A part of the App kept in a module of its own (app.py holds the syncs, the store and the screens'
lifecycle); GrafientApp inherits these `@on` handlers. Each job runs in a thread worker of the
App's, as tui/jobs.py's do; a refusal the user can act on (a bad amount, a viewer, an unknown
target) is a result message, so the form that asked can show it and stay open.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from textual import on

from grafient_tui.tui import messages as m
from grafient_tui.tui.crash import CrashReportWithoutSecrets
from grafient_tui.tui.files import notify_path
from grafient_tui.tui.shown import toast
from grafient_tui.tui.stack import show_once
from grafient_tui.tui.widgets.text import sentence_of

if TYPE_CHECKING:
    from grafient_tui.service import GrafientService
    from grafient_tui.tui.jobs import Post
    from grafient_tui.tui.live import LiveState
    from grafient_tui.tui.reads import StoreReads

# What an export of each detail tab holds, in the toast's words.
EXPORT_WORDS = {"day": "days", "model": "models", "member": "members"}
DEMO_NOTE = "It is the demo's: it goes away when you quit."


class BudgetAndExportRoutes(CrashReportWithoutSecrets):
    """The App's handlers for budgets and exports (GrafientApp provides what is declared below)."""

    live: LiveState
    reads: StoreReads
    now: Callable[[], datetime]

    if TYPE_CHECKING:

        @property
        def service(self) -> GrafientService: ...

        def _job(self, job: Callable[..., None], group: str, *args: Any, name: str = "") -> None: ...

        def _tell(self, news: Callable[[LiveState], m.News]) -> None: ...

        def check_budgets(self) -> None: ...

        def wait_for_store(self, then: Callable[[], None], what: str) -> bool: ...

    # -- budgets -------------------------------------------------------------------------

    @on(m.BudgetsRequested)
    async def _budgets_requested(self) -> None:
        from grafient_tui.tui.screens.budgets import BudgetsScreen

        await show_once(self, BudgetsScreen, lambda: BudgetsScreen(self.live, self.reads), lambda _: True)

    @on(m.BudgetSetRequested)
    def _budget_set_requested(self, message: m.BudgetSetRequested) -> None:
        self._job(set_budget, "budget", message, self.now())

    @on(m.BudgetRemoveRequested)
    def _budget_remove_requested(self, message: m.BudgetRemoveRequested) -> None:
        from grafient_tui.tui.screens.confirm import ConfirmDeleteScreen

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._job(remove_budget, "budget", message.target, message.period)

        question = ConfirmDeleteScreen(
            message.label,
            what="budget",
            text="Its alerts stop, and `grafient check` no longer counts it. The stored costs are not touched.",
        )
        self.push_screen(question, confirmed)

    @on(m.BudgetChanged)
    def _budget_changed(self, message: m.BudgetChanged) -> None:
        toast(self, message.said, title="Budget")
        self._tell(lambda live: m.BudgetsChanged(live, said=message.said))
        if not self.live.syncing and not self.live.viewer_reason:
            self.check_budgets()  # a budget set below what is spent already: its alert now

    @on(m.BudgetRefused)
    def _budget_refused(self, message: m.BudgetRefused) -> None:
        toast(self, message.sentence, title="Budget not changed", severity="error")
        self._tell(lambda live: m.BudgetsChanged(live, refused=message.sentence))

    # -- exports -------------------------------------------------------------------------

    @on(m.ExportRequested)
    def _export_requested(self, message: m.ExportRequested) -> None:
        if self.wait_for_store(lambda: self._export_requested(message), "the export is written"):
            return
        self._job(export, "export", message.integration_id, message.by, self.live, self.reads.today())

    @on(m.Exported)
    def _exported(self, message: m.Exported) -> None:
        notes = [DEMO_NOTE] if self.reads.throwaway else []
        notify_path(self, f"Exported {message.what} as CSV to", message.path, *notes)


# --------------------------------------------------------------------------- the jobs (in threads)


def set_budget(service: GrafientService, ask: m.BudgetSetRequested, now: datetime, post: Post) -> None:
    """`grafient budget set`: the same rules (the service's) and the same sentence, or why not."""
    from grafient_tui.budgets.wording import set_words
    from grafient_tui.errors import GrafientError

    try:
        on_demand = ask.measure == "on_demand"
        on = "usage" if on_demand else ask.measure
        row, replaced = service.set_budget(
            ask.target, ask.amount, period=ask.period, on_demand=on_demand, on=on, now=now
        )
    except GrafientError as exc:
        post(m.BudgetRefused(sentence_of(exc, "the budget could not be saved")))
        return
    post(
        m.BudgetChanged(
            set_words(row.target, row.target_id, row.period, row.measure, row.amount_micro, replaced=replaced)
        )
    )


def remove_budget(service: GrafientService, target: str, period: str, post: Post) -> None:
    """`grafient budget remove`: the same rules and sentence, or why not."""
    from grafient_tui.budgets.wording import removed_words
    from grafient_tui.errors import GrafientError

    try:
        row = service.remove_budget(target, period=period)
    except GrafientError as exc:
        post(m.BudgetRefused(sentence_of(exc, "the budget could not be removed")))
        return
    post(m.BudgetChanged(removed_words(row.target, row.target_id, row.period, row.measure, row.amount_micro)))


def export(
    service: GrafientService, integration_id: int | None, by: str, live: LiveState, today: date, post: Post
) -> None:
    """The period's rows (the last `live.period` days, or the calendar month shown, to today) to a
    0600 CSV: every integration's days (the home), or one integration's tab in view (days, models or
    members), through the service's export, the writer of `grafient report --format csv`."""
    from grafient_tui.report import ReportRange

    if live.month:
        month = service.period(live.month, today)
        span = ReportRange(month.since, min(month.until, today))
    else:
        span = ReportRange(today - timedelta(days=live.period - 1), today)
    period = (span.until - span.since).days + 1
    path = service.export_csv(integration_id, span, by=by, today=today)
    if integration_id is None:
        what = f"every integration's {period:d} days"
    else:
        label = service.find(integration_id).label
        what = f"{period:d} days of {label}'s {EXPORT_WORDS[by]}"
    post(m.Exported(path, what))
