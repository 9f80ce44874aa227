"""Add an integration: provider, label, admin key; the key is checked with its provider before it is stored."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Select, Static
from textual.worker import Worker, WorkerState

from grafient_tui import providers
from grafient_tui.tui.widgets.text import sentence as as_sentence

if TYPE_CHECKING:
    from grafient_tui.secret import Secret
    from grafient_tui.tui.app import GrafientApp

PROVIDERS = [(f"{providers.get(name).title} ({providers.get(name).key_kind})", name) for name in providers.names()]


def checking_text(provider: str) -> str:
    return f"Checking the key with {providers.title(provider)}..."


class AddIntegrationScreen(ModalScreen[int | None]):
    """Dismisses with the new integration's id, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="cancel_add"),
        Binding("enter", "submit", "Add", id="submit_add", show=True, tooltip="Check the key and add the integration"),
        Binding(
            "f2", "use_demo_key", "Demo key", id="demo_key", tooltip="Fill in the demo's key (demo mode)", priority=True
        ),
        # Priority: the app moves focus before it hands the next key to a widget. Without it, a key
        # pasted right after Tab (one burst from the terminal) was forwarded to the label field
        # before Tab had bubbled up to the focus binding, and landed there in clear text.
        Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
    ]
    AUTO_FOCUS = "#label"

    def __init__(self, *, demo_key: tuple[str, str] | None = None) -> None:
        super().__init__(id="add-integration")
        self.demo_key = demo_key  # demo mode: (provider, key) of a simulated team not added yet
        self.checking = False
        self._held: Secret | None = None

    @property
    def grafient(self) -> GrafientApp:
        return cast("GrafientApp", self.app)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="add-dialog") as dialog:
            dialog.border_title = "Add an integration"
            yield Label("Provider", classes="field-label")
            yield Select(PROVIDERS, value="cursor", allow_blank=False, id="provider")
            yield Static(id="key-help", classes="dialog-hint")
            yield Label("Label", classes="field-label")
            yield Input(id="label", max_length=64)
            yield Static(classes="field-error", id="label-error")
            yield Label("Admin API key", classes="field-label", id="key-label")
            yield Input(password=True, id="key")
            yield Static(classes="field-error", id="key-error")
            yield Static("", id="checking")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Add", variant="primary", id="add")
                yield Button("Cancel", id="cancel")
            if self.demo_key is not None:
                provider, key = self.demo_key
                # A made-up key the demo's simulated API accepts: the whole add flow can be tried.
                yield Static(
                    Content.from_markup(
                        "[b]Demo:[/b] a simulated $title team accepts this key ([b]f2[/b] fills it in): $key",
                        title=providers.title(provider),
                        key=key,
                    ),
                    id="demo-hint",
                    classes="dialog-hint",
                )
            yield Static(
                Content.from_markup(
                    "[b]tab[/b] next field · [b]enter[/b] in the key field adds · [b]escape[/b] cancels"
                ),
                classes="dialog-hint",
            )
        yield Footer(compact=True)  # this form's keys, not the home screen's underneath

    def on_mount(self) -> None:
        self._describe("cursor")

    @on(Select.Changed, "#provider")
    def _provider_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self._describe(event.value)

    def _describe(self, name: str) -> None:
        """The chosen provider's key help: where to create the key and what kind it must be."""
        provider = providers.get(name)
        self.query_one("#key-help", Static).update(Content(provider.key_help))
        account = "team" if provider.capabilities.actor_kind == "member" else "account"
        self.query_one(
            "#label", Input
        ).placeholder = f"a name for this {provider.title} {account}, e.g. Acme Engineering"
        self.query_one("#key-label", Label).update(f"{provider.title} key ({provider.key_kind})")
        self.query_one("#key", Input).placeholder = provider.key_placeholder
        self._errors(None, None)

    def _provider(self) -> str:
        value = self.query_one("#provider", Select).value
        return value if isinstance(value, str) else "cursor"

    # -- submitting -------------------------------------------------------------

    @on(Input.Submitted, "#label")
    def _label_done(self) -> None:
        self.query_one("#key", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "use_demo_key":
            return self.demo_key is not None  # only in demo mode (hidden otherwise)
        return True

    def action_use_demo_key(self) -> None:
        if self.demo_key is None or self.checking:
            return
        provider, key = self.demo_key
        self.query_one("#provider", Select).value = provider
        self.query_one("#key", Input).value = key
        if not self.query_one("#label", Input).value.strip():
            self.query_one("#label", Input).value = "Acme Data"
        self.query_one("#key", Input).focus()

    def action_submit(self) -> None:
        self.submit()

    @on(Input.Submitted, "#key")
    @on(Button.Pressed, "#add")
    def submit(self) -> None:
        if self.checking:
            return
        from grafient_tui.errors import ConfigError
        from grafient_tui.secret import Secret

        key_input = self.query_one("#key", Input)
        text = key_input.value.strip()
        self._errors(None, None)
        # A local error (the label) keeps the pasted key: Cursor and Anthropic show a key only once.
        # Only a check with the provider takes it out of the form (below).
        try:  # the label's shape here; whether it is taken, in the worker (a store read)
            label = self.grafient.service.clean_label(self.query_one("#label", Input).value)
        except ConfigError as exc:
            self._errors(exc.sentence, None)
            self.query_one("#label", Input).focus()
            return
        if not text:
            title = providers.title(self._provider())
            self._errors(None, f"Paste the {title} key (it is shown once when you create it in {title}).")
            key_input.focus()
            return
        if any(ch.isspace() for ch in text) or not text.isprintable() or len(text) > 512:
            self._errors(None, "That does not look like an API key (it has spaces or control characters).")
            key_input.focus()
            return
        provider = self._provider()
        key_input.value = ""  # from here the key is held sealed in a Secret, not left in the form
        self._held = Secret(text)  # put back only if the label turns out to be taken (a local error)
        self._checking(True)
        self.run_worker(
            self._check(label, provider, self._held),
            name="check-key",
            group="add-integration",
            exclusive=True,
            exit_on_error=False,
        )

    async def _check(self, label: str, provider: str, key: Secret) -> int | str | tuple[str]:
        """The new integration's id, the sentence to show under the key field, or (sentence,)
        for the label field."""
        from grafient_tui.errors import ConfigError, GrafientError

        service = self.grafient.service
        try:  # off the event loop (a daemon thread: the App's executor), a sync elsewhere may hold the database
            label = await asyncio.to_thread(service.free_label, label)
        except ConfigError as exc:
            return (exc.sentence,)
        try:
            integration = await self.grafient.add_checked_integration(label, provider, key)
        except GrafientError as exc:
            return exc.sentence
        except Exception as exc:  # a provider error that is not a GrafientError still carries a sentence
            sentence = getattr(exc, "sentence", None)
            if isinstance(sentence, str):
                return sentence
            raise
        return integration.integration_id

    @on(Worker.StateChanged)
    def _checked(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "add-integration":
            return
        if event.state == WorkerState.SUCCESS:
            result = event.worker.result
            if isinstance(result, int):
                self.dismiss(result)
                return
            self._checking(False)
            held, self._held = self._held, None
            if isinstance(result, tuple):  # the label is taken: the provider was never asked, keep the key
                if held is not None:
                    self.query_one("#key", Input).value = held.reveal()
                self._errors(result[0], None)
                self.query_one("#label", Input).focus()
                return
            self._errors(None, str(result))
            self.query_one("#key", Input).focus()
        elif event.state == WorkerState.ERROR:
            self._checking(False)
            self._held = None
            error = event.worker.error
            self._errors(None, f"The key could not be checked (unexpected {type(error).__name__}); try again.")

    # -- state -------------------------------------------------------------------

    def _checking(self, checking: bool) -> None:
        self.checking = checking
        self.query_one("#checking", Static).update(checking_text(self._provider()) if checking else "")
        self.set_class(checking, "-checking")
        for widget in self.query("Input, Select, Button#add"):
            widget.disabled = checking

    def _errors(self, label_error: str | None, key_error: str | None) -> None:
        for selector, sentence in (("#label-error", label_error), ("#key-error", key_error)):
            widget = self.query_one(selector, Static)
            widget.update(Content(as_sentence(sentence) if sentence else ""))
            widget.set_class(bool(sentence), "-shown")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.workers.cancel_group(self, "add-integration")
        self.dismiss(None)
