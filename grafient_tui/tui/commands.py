"""Every command of the app in one table: its binding id (what `[keymap]` remaps), keys, action,
the Footer's word, what it does, and its title in the command palette. The screens' BINDINGS, the
palette's commands and `?`'s list are all made from it, so they never disagree.

The palette's commands that name an integration (sync, open or delete it by its label) come from
their own provider: a label is data (a teammate on a shared database may have written it), and
Textual reads a palette command's title and help as markup, so a label `Eng [/]` crashed the
palette and `[@click=app.bell]Ops` became an action. They are shown as Content built by the one rule
(tui/shown.py), never markup, and matched on the label as it is shown."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.message import Message
from textual.system_commands import SystemCommandsProvider

from grafient_tui import providers
from grafient_tui.config import PERIODS, PLANS
from grafient_tui.tui.messages import (
    AddRequested,
    BudgetsRequested,
    DeleteRequested,
    DetailRequested,
    ExportRequested,
    ModelsRequested,
    PeriodRequested,
    PlanRequested,
    SyncRequested,
)
from grafient_tui.tui.shown import literal
from grafient_tui.untrusted import visible

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen

    from grafient_tui.figures import IntegrationFigures, PeriodChoice


@dataclass(frozen=True)
class Command:
    """One command. `scope`: where its binding lives (the App, or a screen's name below). `intent`:
    what the palette posts for it, from any screen; without one the palette offers it where it is
    bound, by running its action there."""

    scope: str
    id: str | None  # the binding id; None for plumbing that is no command of its own (focus moves)
    keys: str | None  # None: only in the palette
    action: str
    description: str = ""
    tooltip: str = ""
    show: bool = True
    priority: bool = False
    palette: str | None = None
    palette_help: str = ""
    intent: Callable[[], Message] | None = None
    needs_integrations: bool = False  # offered in the palette only once there are integrations
    # Its place in the Footer: lower first, and a narrow terminal leaves out the highest ranks first
    # (widgets/footer.py). 0 is never left out (quit, `?`); the screen's own keys are 5.
    rank: int = 5


def _every_provider() -> str:
    """`Cursor, Anthropic, ... or ElevenLabs`: the registry's providers, however many there are."""
    titles = [providers.title(name) for name in providers.names()]
    return titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " or " + titles[-1]


COMMANDS: tuple[Command, ...] = (
    # the App's, on every screen
    # priority: the App acts on it at once, not after the focused widget has worked through what is
    # queued before it (a home re-drawing its cards after a backfill held `q` for 5-9 s); a dialog's
    # keys and a field's typing still come first (GrafientApp.action_quit).
    Command("app", "quit", "q", "quit", "Quit", "Quit (a sync stops; finished days kept)", priority=True, rank=0),
    Command(
        "app",
        "keys_help",
        "question_mark",
        "keys_help",
        "Keys",
        "Every key and its binding id",
        palette="Keys",
        palette_help="Every key of this screen and its binding id, for remapping (?)",
        rank=0,
    ),
    Command("app", "plan", "P", "cycle_plan", "Plan", "Plan: free, pro or ultimate (asks first)", rank=9),
    Command(
        "app",
        None,
        None,
        "save_screenshot",
        palette="Screenshot",
        palette_help="Save an SVG of the screen in the data directory's exports folder",
    ),
    # the home screen
    Command(
        "home",
        "add",
        "a",
        "add",
        "Add",
        "Add an integration (any provider)",
        palette="Add an integration",
        palette_help=f"Connect the key of a {_every_provider()} account (a)",
        intent=AddRequested,
    ),
    Command("home", "open", "enter", "open", "Open", "Open the highlighted integration's detail"),
    Command("home", "force_sync", "r", "force_sync", "Sync", "Sync the highlighted integration now"),
    Command(
        "home",
        "force_sync_all",
        "R",
        "force_sync_all",
        "Sync all",
        "Sync every integration now",
        palette="Sync all integrations",
        palette_help="Force a sync of every integration now (R)",
        intent=partial(SyncRequested, None),
        needs_integrations=True,
        rank=6,
    ),
    Command("home", "delete", "d", "delete", "Delete", "Delete the highlighted integration"),
    Command("home", "period", "p", "cycle_period", "Period", "Period: 7, 30 or 90 days"),
    Command(
        "home",
        "budgets",
        "b",
        "budgets",
        "Budgets",
        "List, set, edit and remove budgets",
        palette="Budgets",
        palette_help="List, set, edit and remove budgets, as `grafient budget` does (b)",
        intent=BudgetsRequested,
    ),
    Command(
        "home",
        "export_all",
        "e",
        "export_all",
        "Export",
        "Export every integration's days as one CSV",
        palette="Export CSV: every integration",
        palette_help="Every integration's days of the period in one CSV file, as `grafient report --format csv` (e)",
        intent=partial(ExportRequested, None),
        needs_integrations=True,
    ),
    Command("home", "toggle_chart", "g", "toggle_chart", "Chart", "Show or hide the chart (folded when small)", rank=7),
    Command(
        "home",
        "models",
        "m",
        "models",
        "Models",
        "Every integration's models, one row per model",
        palette="Models",
        palette_help="Every integration's models by one key per model, with their names and providers (m)",
        intent=ModelsRequested,
        needs_integrations=True,
    ),
    Command("cards", "next_card", "down,j", "move(1)", "Next", "Next card", show=False),
    Command("cards", "previous_card", "up,k", "move(-1)", "Previous", "Previous card", show=False),
    # an integration's cost detail
    Command("detail", "back", "escape", "back", "Back"),
    # the all-integrations Models view
    Command("models", "back", "escape", "back", "Back"),
    Command("models", "sort", "s", "sort", "Sort", "Sort the models by the next column"),
    Command("models", "period", "p", "cycle_period", "Period", "Period: 7, 30 or 90 days"),
    Command("detail", "force_sync", "r", "force_sync", "Sync", "Sync this integration now"),
    Command("detail", "period", "p", "cycle_period", "Period", "Period: 7, 30 or 90 days"),
    Command(
        "detail",
        "export",
        "e",
        "export",
        "Export CSV",
        "Export the tab in view as CSV (models, days, …)",
        palette="Export CSV",
        palette_help="Write the tab in view of this integration's period to a CSV file (e)",
        rank=6,
    ),
    Command("detail", "sort", "s", "sort", "Sort", "Sort the table in view by its next column"),
    Command("detail", "toggle_chart", "g", "toggle_chart", "Chart", "Show or hide the chart and gauges", rank=7),
    Command("detail", "tab_models", "1", "show_tab('models-tab')", "Models", "Show the Models tab"),
    Command("detail", "tab_daily", "2", "show_tab('daily-tab')", "Daily", "Show the Daily tab"),
    Command(
        "detail", "tab_members", "3", "show_tab('members-tab')", "Split", "Show the Members/Workspaces/Projects tab"
    ),  # the Footer names it as the tab is titled (CostDetailScreen.active_bindings)
    Command(
        "detail", "tab_anomalies", "4", "show_tab('anomalies-tab')", "Anomalies", "Show the Anomalies tab"
    ),  # in the Footer beside 1-3 (as `1-4 Tabs` when narrow): a key never shown was found by chance
    # the budgets screen and its form
    Command("budgets", "back", "escape", "back", "Back"),
    Command("budgets", "new_budget", "n", "new_budget", "New", "Set a new budget"),
    Command("budgets", "edit_budget", "e", "edit_budget", "Edit", "Change the highlighted budget (enter too)"),
    Command("budgets", "remove_budget", "d", "remove_budget", "Remove", "Remove the highlighted budget, after asking"),
    Command("budget_form", "cancel_budget", "escape", "cancel", "Cancel"),
    Command("budget_form", "save_budget", "ctrl+s", "save", "Save", "Save the budget (enter in the amount too)"),
    # the add form
    Command("add", "cancel_add", "escape", "cancel", "Cancel"),
    Command("add", "submit_add", "enter", "submit", "Add", "Check the key and add the integration"),
    Command("add", "demo_key", "f2", "use_demo_key", "Demo key", "Fill in the demo's key (demo mode)", priority=True),
    # Priority: the app moves focus before it hands the next key to a widget. Without it, a key
    # pasted right after Tab (one burst from the terminal) was forwarded to the label field
    # before Tab had bubbled up to the focus binding, and landed there in clear text.
    Command("add", None, "tab", "app.focus_next", "Next field", show=False, priority=True),
    Command("add", None, "shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
    # the dialogs
    Command("confirm", "confirm_yes", "y", "answer(True)", "Delete"),
    Command("confirm", "confirm_no", "n,escape", "answer(False)", "Keep"),
    Command("confirm_plan", "confirm_yes", "y", "answer(True)", "Change"),
    Command("confirm_plan", "confirm_no", "n,escape", "answer(False)", "Keep"),
    Command("help", "close_help", "escape,question_mark,q", "close", "Close"),
    Command("small", "quit_small", "q", "app.quit", "Quit"),
)


PALETTE_RANK = 8  # the palette's key (ctrl+p) in the Footer: before the plan, after the screen's keys
_RANKS = {command.id: command.rank for command in COMMANDS if command.id}


def footer_rank(binding_id: str | None) -> int:
    """Where a key goes in the Footer (Command.rank); a key of no command of ours last but the plan."""
    return _RANKS.get(binding_id, 5) if binding_id else PALETTE_RANK


def bindings(scope: str) -> list[BindingType]:
    """The BINDINGS of the App ("app") or of one screen, from the table."""
    return [
        Binding(
            command.keys,
            command.action,
            command.description,
            show=command.show,
            priority=command.priority,
            tooltip=command.tooltip,
            id=command.id,
        )
        for command in COMMANDS
        if command.scope == scope and command.keys is not None
    ]


# --------------------------------------------------------------------------- the palette


class SystemCommandsInOrder(SystemCommandsProvider):
    """Textual's system commands provider, whose list (before anything is typed) is sorted by title,
    except the periods: they keep the order `palette` gives them (7, 30, 90 days, this month, last
    month, then each month before, newest first), where a sort by title mixed the months up
    (Apr 2025, Apr 2026, Aug 2025, ...)."""

    async def discover(self) -> Hits:
        commands = list(self.app.get_system_commands(self.screen))
        position = {command.title: index for index, command in enumerate(commands)}

        def order(command: SystemCommand) -> tuple[str, int]:
            grouped = command.title.startswith(PERIOD_PREFIX)
            return (PERIOD_PREFIX if grouped else command.title, position[command.title] if grouped else 0)

        for command in sorted(commands, key=order):
            if command.discover:
                yield DiscoveryHit(command.title, command.callback, help=command.help)


PERIOD_PREFIX = "Period: "


def palette(
    app: App[Any], screen: Screen[Any], *, integrations: bool, periods: Sequence[PeriodChoice] = ()
) -> Iterator[SystemCommand]:
    """The table's palette commands for `screen` (the one under the palette), then the choices of
    period (7, 30, 90 days, and the calendar months among `periods`) and plan. Shown as markup by
    Textual: only this code's own words go in them (a month's label is made of dates)."""
    bound = {active.binding.id for active in screen.active_bindings.values() if active.enabled}
    for command in COMMANDS:
        if command.palette is None or (command.needs_integrations and not integrations):
            continue
        if command.intent is not None:
            callback: Callable[[], object] = partial(app.post_message, command.intent())
        elif command.scope == "app":
            callback = partial(app.run_action, command.action)
        elif command.id in bound:
            callback = partial(app.run_action, command.action, screen)
        else:
            continue
        yield SystemCommand(command.palette, command.palette_help, callback)
    for days in PERIODS:
        title, help_text = f"{PERIOD_PREFIX}{days:d} days", f"Show the last {days:d} UTC days (p cycles)"
        yield SystemCommand(title, help_text, partial(app.post_message, PeriodRequested(days)))
    for choice in periods:
        if choice.month:
            title, help_text = f"{PERIOD_PREFIX}{choice.label}", f"Show {choice.since} … {choice.until} (UTC days)"
            yield SystemCommand(title, help_text, partial(app.post_message, PeriodRequested(month=choice.key)))
    for plan, history in PLANS.items():  # the plans are this code's own words
        title, help_text = f"Plan: {plan}", f"Keep up to {history:d} days of history, after asking (P cycles)"
        yield SystemCommand(title, help_text, partial(app.post_message, PlanRequested(plan)))


@dataclass(frozen=True)
class IntegrationCommand:
    """A palette command naming an integration: its title and help hold its label, as stored."""

    title: str
    help: str
    intent: Message


def integration_commands(integrations: Iterable[IntegrationFigures]) -> Iterator[IntegrationCommand]:
    """Sync, Open and Delete of each integration."""
    for figures in integrations:
        label, iid = figures.label, figures.integration_id
        yield IntegrationCommand(f"Sync {label}", f"Force a sync of {label} now (r on its card)", SyncRequested((iid,)))
        yield IntegrationCommand(
            f"Open {label}", f"The cost detail of {label}: models, days, members (enter)", DetailRequested(iid)
        )
        yield IntegrationCommand(
            f"Delete {label}", f"Remove {label} and its stored costs, after asking (d)", DeleteRequested(iid, label)
        )


@runtime_checkable
class NamesIntegrations(Protocol):
    """An App that knows the integrations the home screen shows."""

    @property
    def integrations(self) -> Sequence[IntegrationFigures]: ...


class IntegrationCommands(Provider):
    """Sync, Open and Delete for each integration on the home screen."""

    def _commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        app = self.app
        known = app.integrations if isinstance(app, NamesIntegrations) else ()
        for command in integration_commands(known):
            yield command.title, command.help, partial(app.post_message, command.intent)

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


# --------------------------------------------------------------------------- `?`


@dataclass(frozen=True)
class HelpRow:
    keys: str
    does: str
    binding_id: str


def help_rows(app: App[Any], screen: Screen[Any]) -> list[HelpRow]:
    """Every key of `screen`, as the keymap has them (greyed ones included).

    `active_bindings` (public) walks from the focused widget to the App, one binding per key (the
    nearest wins); a binding whose check_action says there is nothing for it to act on is left out."""
    rows: dict[tuple[str, str], list[str]] = {}
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.id:
            continue  # Textual's own (scrolling, table cursor, copy): not this app's keys
        does = binding.tooltip or binding.description or binding.action
        entry = rows.setdefault((does, binding.id), [])
        display = app.get_key_display(binding)
        if display not in entry:
            entry.append(display)
    listed = [HelpRow(" / ".join(keys), does, binding_id) for (does, binding_id), keys in rows.items()]
    if app.use_command_palette:
        listed.append(HelpRow(app.COMMAND_PALETTE_BINDING, "Every command, searchable", "command_palette"))
    return listed


def free_key_example(keymap: dict[str, str], screens: Iterable[Screen[Any]]) -> str:
    """`force_sync = "f5"`: a remap example with a key nothing here uses."""
    taken = {key.strip() for keys in keymap.values() for key in keys.split(",")}
    for screen in screens:
        taken |= set(screen.active_bindings)
    free = next((k for k in ("f5", "f6", "f7", "f8", "ctrl+r", "ctrl+s") if k not in taken), "f9")
    return f'force_sync = "{free}"'
