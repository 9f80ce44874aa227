"""Add an integration: provider, label, admin key; the key is checked with its provider before it is stored."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static
from textual.worker import Worker, WorkerState

from grafient_tui import providers
from grafient_tui.errors import ConfigError, GrafientError, KeyRejected
from grafient_tui.providers.base import AccountField, check_account
from grafient_tui.tui.commands import bindings
from grafient_tui.tui.shown import literal
from grafient_tui.tui.widgets.footer import KeysFooter
from grafient_tui.tui.widgets.secret_paste import SecretPaste
from grafient_tui.tui.widgets.text import sentence as as_sentence
from grafient_tui.untrusted import visible

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.widget import Widget

    from grafient_tui.figures import IntegrationInfo
    from grafient_tui.secret import Secret


def provider_choices() -> list[tuple[str, str]]:
    """(`Cursor (Admin API, Enterprise)`, "cursor") for every registered provider, in the registry's order."""
    return [(f"{providers.get(name).title} ({providers.get(name).key_kind})", name) for name in providers.names()]


_described: dict[int, str] = {}


def describe_key_document(text: str) -> str:
    """What a pasted service-account key is, without a word of its secret: the account it is for and
    its key id's last four, or why it is not a key (yet: a paste may be half way)."""
    from grafient_tui.providers.google.auth import parse_service_account

    cached = _described.get(hash(text))
    if cached is not None:
        return cached
    try:
        account = parse_service_account(text)
    except KeyRejected:  # the family: a key that is not a service-account key
        about = "not a service-account JSON key (yet)"
    else:
        key_id = f", key id …{account.private_key_id[-4:]}" if account.private_key_id else ""
        about = f"service account {visible(account.client_email)}{key_id}"
    _described.clear()  # one paste at a time
    _described[hash(text)] = about
    return about


def checking_text(provider: str) -> str:
    return f"Checking the key with {providers.title(provider)}..."


ALLOW_UNIDENTIFIED = "Add it anyway: I know this account is not connected yet"


@dataclass(frozen=True)
class Refusal:
    """Why the form stays: the sentence, under the label field or the key field; `keep_key` puts the
    key back (nothing was sent with it, or the provider accepted it and only our check refused);
    `unidentified` shows the checkbox that adds it anyway."""

    sentence: str
    field: str = "key"
    keep_key: bool = False
    unidentified: bool = False


class DemoKey(Protocol):
    """A key the demo offers (grafient_tui.demo.TryKey): a simulated account served but not added."""

    @property
    def provider(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def account(self) -> dict[str, str]: ...


class Adds(Protocol):
    """What the form asks of the service (GrafientService is one): the label checked, then the key."""

    def clean_label(self, label: str) -> str: ...

    def free_label(self, label: str) -> str: ...

    async def add(
        self,
        provider: str,
        label: str,
        key: Secret,
        *,
        account: dict[str, str] | None = None,
        allow_unidentified: bool = False,
    ) -> IntegrationInfo: ...


class AddIntegrationScreen(ModalScreen[int | None]):
    """Dismisses with the new integration's id, or None when cancelled."""

    BINDINGS = bindings("add")
    AUTO_FOCUS = "#provider"  # the first choice, which every other field follows

    def __init__(self, service: Adds, *, demo_keys: Callable[[str], DemoKey | None] | None = None) -> None:
        super().__init__(id="add-integration")
        self.service = service
        # Demo mode: the key of a simulated account not added yet, for the provider chosen.
        self.demo_keys = demo_keys
        self.checking = False
        self._held: Secret | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="add-dialog") as dialog:
            dialog.border_title = "Add an integration"
            yield Label("Provider", classes="field-label")
            yield Select(provider_choices(), value="cursor", allow_blank=False, id="provider")
            yield Static(id="key-help", classes="dialog-hint")
            yield Label("Label", classes="field-label")
            yield Input(id="label", max_length=64)
            yield Static(classes="field-error", id="label-error")
            # The chosen provider's account settings besides the key (the organization, the team id).
            yield Vertical(id="account-fields")
            yield Static(classes="field-error", id="account-error")
            yield Label("Admin API key", classes="field-label", id="key-label")
            yield Input(password=True, id="key")
            # A key of several lines (Google's JSON key file): pasted whole, never drawn.
            yield SecretPaste(id="key-document", describe=describe_key_document)
            yield Static(classes="field-error", id="key-error")
            # Shown once a good key's account could not be identified (sync/connect.Unidentified).
            yield Checkbox(ALLOW_UNIDENTIFIED, id="allow-unidentified", classes="-hidden")
            yield Static("", id="checking")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Add", variant="primary", id="add")
                yield Button("Cancel", id="cancel")
            if self.demo_keys is not None:
                # A made-up key the demo's simulated API accepts: the whole add flow can be tried.
                yield Static(id="demo-hint", classes="dialog-hint")
            yield Static(
                Content.from_markup(
                    "[b]tab[/b] next field · [b]enter[/b] in the key field adds · [b]escape[/b] cancels"
                ),
                classes="dialog-hint",
            )
        yield KeysFooter()  # this form's keys, not the home screen's underneath

    async def on_mount(self) -> None:
        await self._describe("cursor")

    @on(Select.Changed, "#provider")
    async def _provider_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            await self._describe(event.value)

    async def _describe(self, name: str) -> None:
        """The chosen provider's key help (where to create the key and what kind it must be) and its
        account settings besides the key."""
        provider = providers.get(name)
        await self._show_account_fields(provider.account_fields)
        self.query_one("#key-help", Static).update(literal(provider.key_help))
        account = "team" if provider.capabilities.actor_kind == "member" else "account"
        self.query_one(
            "#label", Input
        ).placeholder = f"a name for this {provider.title} {account}, e.g. Acme Engineering"
        self.query_one("#key-label", Label).update(literal(f"{provider.title} key ({provider.key_kind})"))
        self.query_one("#key", Input).placeholder = provider.key_placeholder
        document = self.query_one("#key-document", SecretPaste)
        document.placeholder = provider.key_placeholder
        document.display = provider.key_document
        self.query_one("#key", Input).display = not provider.key_document
        allow = self.query_one("#allow-unidentified", Checkbox)  # a choice about one key's account, not another's
        allow.add_class("-hidden")
        allow.value = False
        self._errors(None, None)
        self._offer_demo_key(name)

    def _offer_demo_key(self, name: str) -> None:
        """Demo mode: the chosen provider's demo key, shown (a key document only named: it is long)."""
        offer = self.demo_keys(name) if self.demo_keys is not None else None
        hints = self.query("#demo-hint")
        if not hints:
            return
        hint = hints.first(Static)
        hint.display = offer is not None
        if offer is None:
            return
        title = visible(providers.title(name))
        if providers.get(name).key_document:
            hint.update(
                Content.from_markup(
                    "[b]Demo:[/b] a simulated $title account accepts a made-up key ([b]f2[/b] fills it in)",
                    title=title,
                )
            )
            return
        hint.update(
            Content.from_markup(
                "[b]Demo:[/b] a simulated $title account accepts this key ([b]f2[/b] fills it in): $key",
                title=title,
                key=visible(offer.key),
            )
        )

    async def _show_account_fields(self, fields: tuple[AccountField, ...]) -> None:
        """A field per setting; alternatives (GitHub's organization or enterprise) as a choice of which,
        and one field for its value."""
        box = self.query_one("#account-fields", Vertical)
        await box.remove_children()  # before the new ones mount: two providers may name fields alike
        groups: dict[str, list[AccountField]] = {}
        widgets: list[Widget] = []
        for field in fields:
            if field.group is not None:
                if field.group not in groups:
                    groups[field.group] = [f for f in fields if f.group == field.group]
                    widgets.extend(self._account_group(groups[field.group]))
                continue
            optional = "" if field.required else " (optional)"
            widgets.append(Label(literal(field.label + optional), classes="field-label"))
            widgets.append(self._account_input(field, id=f"account-{field.name}"))
            widgets.append(Static(literal(field.help), classes="dialog-hint account-help"))
        await box.mount_all(widgets)
        box.display = bool(widgets)

    def _account_group(self, members: list[AccountField]) -> list[Widget]:
        first = members[0]
        group = first.group
        return [
            Label(literal(" or ".join(f.label for f in members)), classes="field-label"),
            Select(
                [(f.label, f.name) for f in members],
                value=first.name,
                allow_blank=False,
                id=f"account-kind-{group}",
                classes="account-kind",
            ),
            self._account_input(first, id=f"account-group-{group}"),
            Static(literal(first.help), classes="dialog-hint account-help", id=f"account-help-{group}"),
        ]

    @staticmethod
    def _account_input(field: AccountField, *, id: str) -> Input:
        return Input(placeholder=field.placeholder, max_length=field.max_length, id=id, classes="account-input")

    @on(Select.Changed, ".account-kind")
    def _account_kind_changed(self, event: Select.Changed) -> None:
        """Organization or enterprise: the one value field follows the choice."""
        event.stop()
        group = (event.select.id or "").removeprefix("account-kind-")
        chosen = next((f for f in providers.account_fields(self._provider()) if f.name == event.value), None)
        if chosen is None:
            return
        self.query_one(f"#account-group-{group}", Input).placeholder = chosen.placeholder
        self.query_one(f"#account-help-{group}", Static).update(literal(chosen.help))

    def _account_values(self) -> dict[str, str]:
        """What the form holds for the chosen provider's settings, by field name (unchecked)."""
        values: dict[str, str] = {}
        done: set[str] = set()
        for field in providers.get(self._provider()).account_fields:
            if field.group is None:
                values[field.name] = self.query_one(f"#account-{field.name}", Input).value
            elif field.group not in done:
                done.add(field.group)
                chosen = self.query_one(f"#account-kind-{field.group}", Select).value
                if isinstance(chosen, str):
                    values[chosen] = self.query_one(f"#account-group-{field.group}", Input).value
        return values

    def _provider(self) -> str:
        value = self.query_one("#provider", Select).value
        return value if isinstance(value, str) else "cursor"

    # -- submitting -------------------------------------------------------------

    @on(Input.Submitted, "#label")
    @on(Input.Submitted, ".account-input")
    def _label_done(self) -> None:
        self.focus_next()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "use_demo_key":
            return self.demo_keys is not None  # only in demo mode (hidden otherwise)
        return True

    def _key_field(self) -> Input | SecretPaste:
        """Where the chosen provider's key goes: one line, or a pasted document (a JSON key file)."""
        if providers.get(self._provider()).key_document:
            return self.query_one("#key-document", SecretPaste)
        return self.query_one("#key", Input)

    def action_use_demo_key(self) -> None:
        """The chosen provider's demo key, with its account settings and a label if none is typed."""
        offer = self.demo_keys(self._provider()) if self.demo_keys is not None and not self.checking else None
        if offer is None:
            return
        field = self._key_field()
        field.value = offer.key
        for name, value in offer.account.items():
            match = next((f for f in providers.account_fields(offer.provider) if f.name == name), None)
            if match is None:
                continue
            if match.group is None:
                self.query_one(f"#account-{name}", Input).value = value
            else:
                self.query_one(f"#account-kind-{match.group}", Select).value = name
                self.query_one(f"#account-group-{match.group}", Input).value = value
        if not self.query_one("#label", Input).value.strip():
            self.query_one("#label", Input).value = offer.label
        field.focus()

    def action_submit(self) -> None:
        self.submit()

    @on(Input.Submitted, "#key")
    @on(SecretPaste.Submitted, "#key-document")
    @on(Button.Pressed, "#add")
    def submit(self) -> None:
        if self.checking:
            return
        from grafient_tui.secret import Secret

        key_input = self._key_field()
        text = key_input.value.strip()
        self._errors(None, None)
        # A local error (the label) keeps the pasted key: Cursor and Anthropic show a key only once.
        # Only a check with the provider takes it out of the form (below).
        try:  # the label's shape here; whether it is taken, in the worker (a store read)
            label = self.service.clean_label(self.query_one("#label", Input).value)
        except ConfigError as exc:
            self._errors(exc.sentence, None)
            self.query_one("#label", Input).focus()
            return
        provider_class = providers.get(self._provider())
        try:
            account = check_account(provider_class.account_fields, self._account_values(), title=provider_class.title)
        except ConfigError as exc:
            self._errors(None, None, exc.sentence)
            self._focus_account_field()
            return
        if not text:
            title = providers.title(self._provider())
            self._errors(None, f"Paste the {title} key (it is shown once when you create it in {title}).")
            key_input.focus()
            return
        if provider_class.key_document:
            try:  # a file that is not a service-account key is refused here, before any call
                provider_class.check_key_text(text)
            except GrafientError as exc:
                self._errors(None, exc.sentence)
                key_input.focus()
                return
        elif any(ch.isspace() for ch in text) or not text.isprintable() or len(text) > 512:
            self._errors(None, "That does not look like an API key (it has spaces or control characters).")
            key_input.focus()
            return
        provider = self._provider()
        allow = self.query_one("#allow-unidentified", Checkbox)
        allow_unidentified = allow.display and allow.value
        key_input.value = ""  # from here the key is held sealed in a Secret, not left in the form
        self._held = Secret(text)  # put back only if the label turns out to be taken (a local error)
        self._checking(True)
        self.run_worker(
            self._check(label, provider, self._held, account, allow_unidentified),
            name="check-key",
            group="add-integration",
            exclusive=True,
            exit_on_error=False,
        )

    async def _check(
        self, label: str, provider: str, key: Secret, account: dict[str, str], allow_unidentified: bool
    ) -> int | Refusal:
        """The new integration's id, or why not."""
        from grafient_tui.errors import ConfigError, GrafientError, Unidentified

        service = self.service
        try:  # off the event loop (a daemon thread: the App's executor), a sync elsewhere may hold the database
            label = await asyncio.to_thread(service.free_label, label)
        except ConfigError as exc:
            return Refusal(exc.sentence, field="label", keep_key=True)
        try:
            integration = await service.add(
                provider, label, key, account=account, allow_unidentified=allow_unidentified
            )
        except Unidentified as exc:
            return Refusal(exc.sentence, keep_key=True, unidentified=True)
        except GrafientError as exc:
            return Refusal(exc.sentence)
        except Exception as exc:  # a provider error that is not a GrafientError still carries a sentence
            sentence = getattr(exc, "sentence", None)
            if isinstance(sentence, str):
                return Refusal(sentence)
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
            assert isinstance(result, Refusal)
            if result.keep_key and held is not None:  # the label is taken, or only our own check refused
                self._key_field().value = held.reveal()
            if result.unidentified:
                allow = self.query_one("#allow-unidentified", Checkbox)
                allow.remove_class("-hidden")
                allow.focus()
                self._errors(None, result.sentence)
                return
            if result.field == "label":
                self._errors(result.sentence, None)
                self.query_one("#label", Input).focus()
                return
            self._errors(None, result.sentence)
            self._key_field().focus()
        elif event.state == WorkerState.ERROR:
            self._checking(False)
            self._held = None
            error = event.worker.error
            self._errors(None, f"The key could not be checked (unexpected {type(error).__name__}); try again.")

    # -- state -------------------------------------------------------------------

    def _checking(self, checking: bool) -> None:
        self.checking = checking
        self.query_one("#checking", Static).update(literal(checking_text(self._provider()) if checking else ""))
        self.set_class(checking, "-checking")
        for widget in self.query("Input, Select, SecretPaste, Checkbox, Button#add"):
            widget.disabled = checking

    def _focus_account_field(self) -> None:
        """The first empty account field (else the first one): where the sentence points."""
        inputs = list(self.query(".account-input").results(Input))
        target = next((i for i in inputs if not i.value.strip()), inputs[0] if inputs else None)
        if target is not None:
            target.focus()

    def _errors(self, label_error: str | None, key_error: str | None, account_error: str | None = None) -> None:
        for selector, sentence in (
            ("#label-error", label_error),
            ("#key-error", key_error),
            ("#account-error", account_error),
        ):
            widget = self.query_one(selector, Static)
            widget.update(literal(as_sentence(sentence) if sentence else ""))
            widget.set_class(bool(sentence), "-shown")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.workers.cancel_group(self, "add-integration")
        self.dismiss(None)
