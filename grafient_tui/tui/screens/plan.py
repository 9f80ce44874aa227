"""Asks before the plan changes (`P`, or the palette's Plan commands): the question says what the
plan keeps and what the next sync will fetch (service.plan_change), read off the event loop. Escape
or "Keep" changes nothing; "Change" answers with the plan, which the App saves."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from grafient_tui.config import PLANS
from grafient_tui.errors import GrafientError
from grafient_tui.tui.commands import bindings
from grafient_tui.tui.shown import literal
from grafient_tui.tui.widgets.footer import KeysFooter
from grafient_tui.tui.widgets.text import sentence_of

if TYPE_CHECKING:
    from grafient_tui.service import GrafientService


def next_plan(current: str) -> str:
    """The plan after `current` (free, pro, ultimate, free…)."""
    plans = list(PLANS)
    return plans[(plans.index(current) + 1) % len(plans)] if current in plans else plans[0]


class ConfirmPlanScreen(ModalScreen[str | None]):
    BINDINGS = bindings("confirm_plan")

    def __init__(self, service: GrafientService, plan: str | None) -> None:
        super().__init__(id="confirm-plan")
        self.service = service
        self.plan = plan  # None: the one after the current plan, once it has been read
        self.asked: str | None = None  # the plan the question names, once it is shown

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Change the plan?"
            yield Static("Reading the plan…", id="plan-question", classes="dialog-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Change (y)", variant="warning", id="yes", disabled=True)
                yield Button("Keep (n)", variant="default", id="no")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()
        self.read_question()

    @work(thread=True, group="plan-question", exit_on_error=False)
    def read_question(self) -> None:
        try:
            plan = self.plan or next_plan(self.service.plan())
            question = self.service.plan_change(plan)
        except GrafientError as exc:
            self.app.call_from_thread(self.show_question, None, sentence_of(exc, "the plan could not be read"))
            return
        self.app.call_from_thread(self.show_question, plan, question)

    def show_question(self, plan: str | None, question: str) -> None:
        self.asked = plan
        dialog = self.query_one(".dialog", Vertical)
        dialog.border_title = literal("The plan cannot be changed" if plan is None else f"Change the plan to {plan}?")
        self.query_one("#plan-question", Static).update(literal(question))
        self.query_one("#yes", Button).disabled = plan is None

    def action_answer(self, yes: bool) -> None:
        if yes and self.asked is None:
            return  # the question is not shown yet: nothing to agree to
        self.dismiss(self.asked if yes else None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.action_answer(event.button.id == "yes")
