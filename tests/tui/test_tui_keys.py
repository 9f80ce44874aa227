"""The keyboard app: palette, keys, tabs, footers, plan, the small-terminal notice, the demo's add flow.

Driven with Textual's pilot; the network is the demo's fakes or a Cursor fake at the transport.
"""

from __future__ import annotations

import stat
from functools import partial

import httpx
import pytest
from textual.app import SystemCommand
from textual.command import CommandPalette
from textual.widgets import Checkbox, DataTable, Input, Select, Static, TabbedContent

from grafient_tui.config import Settings
from grafient_tui.demo import build_demo
from grafient_tui.store.integrations import list_integrations
from grafient_tui.tui.app import GrafientApp
from grafient_tui.tui.commands import integration_commands
from grafient_tui.tui.messages import DetailRequested
from grafient_tui.tui.screens.add import AddIntegrationScreen
from grafient_tui.tui.screens.confirm import ConfirmDeleteScreen
from grafient_tui.tui.screens.detail import CostDetailScreen
from grafient_tui.tui.screens.home import IntegrationListScreen
from grafient_tui.tui.screens.keys_help import KeysHelpScreen
from grafient_tui.tui.screens.plan import ConfirmPlanScreen
from grafient_tui.tui.screens.too_small import TooSmallScreen
from grafient_tui.tui.widgets.card import IntegrationCard
from tests.helpers import wait_for
from tests.tui.test_tui import NOW, SIZE, cells, make_app, make_team, seeded, settle


def shown_keys(app: GrafientApp) -> set[str]:
    """The binding ids the footer offers on the screen in front."""
    return {b.binding.id for b in app.screen.active_bindings.values() if b.binding.id and b.binding.show}


async def test_the_palette_holds_every_app_action_with_its_help(grafient_home) -> None:
    team = make_team()
    await seeded(team, label="Acme")
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        # the commands that name an integration come from their own palette provider (tui/commands.py)
        commands |= {
            c.title: SystemCommand(c.title, c.help, partial(app.post_message, c.intent))
            for c in integration_commands(app.integrations)
        }
        for title in (
            "Add an integration",
            "Sync all integrations",
            "Sync Acme",
            "Open Acme",
            "Delete Acme",
            "Period: 7 days",
            "Period: 90 days",
            "Plan: free",
            "Plan: pro",
            "Keys",
            "Screenshot",
        ):
            assert title in commands and commands[title].help, title
        assert "Export CSV" not in commands  # only where there is something to export
        commands["Period: 90 days"].callback()
        await settle(app, pilot)
        assert app.live.period == 90
        commands["Open Acme"].callback()
        await settle(app, pilot)
        assert isinstance(app.screen, CostDetailScreen)
        assert "Export CSV" in {c.title for c in app.get_system_commands(app.screen)}
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)


async def test_the_screenshot_command_writes_into_the_data_dir_and_names_the_file(grafient_home) -> None:
    team = make_team()
    await seeded(team)
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        path = app.save_screen_svg()
        assert path is not None and path.parent == Settings.from_env().data_dir / "exports"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_text().startswith("<svg")
        assert any(path.name in note and "\n" in note for note in app.notes)  # the path on a line of its own


async def test_detail_tabs_have_direct_keys_and_s_sorts_the_table_in_view(grafient_home) -> None:
    team = make_team()
    integration_id = await seeded(team)
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.post_message(DetailRequested(integration_id))
        await settle(app, pilot)
        assert {"tab_models", "tab_daily", "tab_members", "sort"} <= shown_keys(app)
        tabs = app.screen.query_one(TabbedContent)
        await pilot.press("2")
        assert tabs.active == "daily-tab"
        daily = app.screen.query_one("#daily", DataTable)
        dates = [row[0] for row in cells(daily)]
        assert dates == sorted(dates, reverse=True)  # newest first
        await pilot.press("s")
        await pilot.pause()
        assert tabs.active == "daily-tab"  # the sort stays on the table in view
        costs = [float(row[1].lstrip("$").replace(",", "")) for row in cells(daily) if row[1].startswith("$")]
        assert costs == sorted(costs, reverse=True) and costs != [float(c) for c in costs[::-1]]
        await pilot.press("3")
        assert tabs.active == "members-tab"
        await pilot.press("s")  # cost -> name
        await pilot.pause()
        names = [row[0] for row in cells(app.screen.query_one("#members", DataTable))]
        assert names == sorted(names, key=str.casefold)
        await pilot.press("1")
        assert tabs.active == "models-tab"


async def test_help_lists_only_this_apps_keys_with_ids_and_a_free_example(grafient_home) -> None:
    team = make_team()
    integration_id = await seeded(team)
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.post_message(DetailRequested(integration_id))
        await settle(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, KeysHelpScreen)
        table = app.screen.query_one(DataTable)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        ids = [str(row[2]) for row in rows]
        assert all(ids) and "" not in ids  # Textual's own scrolling and cursor keys are not listed
        assert {"back", "force_sync", "sort", "tab_daily", "command_palette"} <= set(ids)
        assert not any("Scroll" in str(row[1]) or "Page" in str(row[1]) for row in rows)
        widths = [max(len(str(row[i])) for row in rows) for i in range(3)]
        assert sum(widths) + 10 <= 80  # every column fits at 80 columns: no id is cut
        example = str(app.screen.query(".dialog-text").first().render())
        taken = {key for screen in app.screen_stack for key in screen.active_bindings}
        free = example.split('force_sync = "')[1].split('"')[0]
        assert free not in taken and free not in {"s", "r"}
        assert "close_help" in {b.binding.id for b in app.screen.active_bindings.values()}


async def test_the_footer_shows_the_keys_of_the_screen_in_front(grafient_home) -> None:
    team = make_team()
    await seeded(team)
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert {"add", "force_sync", "delete"} <= shown_keys(app)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, AddIntegrationScreen)
        keys = shown_keys(app)
        assert "cancel_add" in keys and not {"add", "force_sync", "delete"} & keys
        assert app.screen.query("Footer")  # its own footer, in front of the home screen's
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDeleteScreen)
        keys = shown_keys(app)
        assert {"confirm_yes", "confirm_no"} <= keys and not {"add", "force_sync"} & keys


async def test_a_label_error_keeps_the_pasted_key_and_a_provider_refusal_clears_it(grafient_home) -> None:
    team = make_team()
    await seeded(team, label="Acme")
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        pasted = "key_" + "7" * 64
        form.query_one("#key", Input).value = pasted
        form.query_one("#label", Input).value = "   "  # empty: refused here, before any check
        form.query_one("#key", Input).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert str(form.query_one("#label-error", Static).render()) and form.query_one("#key", Input).value == pasted
        form.query_one("#label", Input).value = "acme"  # taken (case aside): found by a store read
        form.query_one("#key", Input).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert "already" in str(form.query_one("#label-error", Static).render())
        assert form.query_one("#key", Input).value == pasted  # still there: the provider was never asked
        form.query_one("#label", Input).value = "Platform"
        form.query_one("#key", Input).focus()
        await pilot.press("enter")
        await settle(app, pilot)  # the Cursor fake refuses this key: a check did happen
        assert "401" in str(form.query_one("#key-error", Static).render())
        assert form.query_one("#key", Input).value == ""


async def test_the_plan_is_shown_and_changed_from_the_keyboard(grafient_home) -> None:
    team = make_team()
    integration_id = await seeded(team)
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert Settings.from_env().plan() == "free"
        assert "Grafient plan free" in str(app.screen.query_one("#period", Static).render())
        await pilot.press("P")
        await settle(app, pilot)
        assert Settings.from_env().plan() == "free"  # asked first
        await pilot.press("y")
        await settle(app, pilot)
        assert Settings.from_env().plan() == "pro"
        assert any("Plan pro" in note for note in app.notes)
        assert "Grafient plan pro" in str(app.screen.query_one("#period", Static).render())
        app.post_message(DetailRequested(integration_id))
        await settle(app, pilot)
        assert "Grafient plan pro (365 days of history)" in str(app.screen.query_one("#detail-header", Static).render())


async def test_below_80_by_24_a_notice_replaces_cut_figures(grafient_home) -> None:
    team = make_team()
    await seeded(team)
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=(70, 20)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, TooSmallScreen)
        assert "at least 80×24" in str(app.screen.query_one("#too-small-text", Static).render())
        await pilot.resize_terminal(80, 24)
        await settle(app, pilot)
        assert not isinstance(app.screen, TooSmallScreen) and app.screen.query(IntegrationCard)


async def test_the_demo_add_form_offers_a_key_for_every_provider_its_fake_accepts(grafient_home) -> None:
    """Every provider's demo key is another account than the demo's own of that provider (added here
    first): f2 fills the key, the settings that name the account and a label; enter adds it."""
    from grafient_tui import providers
    from grafient_tui.demo import TRY_ACCOUNTS

    env = build_demo(now=NOW, latency=0)
    env.settings.set_plan("free")
    assert env.try_keys is not None
    offers = {name: env.try_keys(name) for name in providers.names()}
    assert all(offers.values()), offers  # a key for every provider
    assert {offer.provider for offer in offers.values() if offer} == {p for _, p, _ in TRY_ACCOUNTS} | {"cursor"}
    # Through the form: Cursor, a key with a setting naming the account (GitHub's organization), a key
    # document (Google's JSON key, its requests carrying no key) and one whose account is unnamed (each
    # run backfills: the rest are the same path, their accounts told apart by their seeds).
    tried = ["cursor", "copilot", "google", "elevenlabs"]
    try:
        own = [team for team in env.teams if team.provider in tried]
        app = GrafientApp(
            env.settings, transport=env.transport, now=lambda: NOW, demo_teams=own, demo_try_keys=env.try_keys
        )
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            home = app.screen
            for name in tried:
                offer = env.try_keys(name)
                assert offer is not None
                await pilot.press("a")
                await wait_for(pilot, lambda: isinstance(app.screen, AddIntegrationScreen), "the add form")
                form = app.screen
                provider = form.query_one("#provider", Select)
                await wait_for(pilot, lambda: app.focused is provider, "the provider focused")  # noqa: B023
                assert "demo_key" in shown_keys(app)
                form.query_one("#provider", Select).value = name
                hint = form.query_one("#demo-hint", Static)
                title = providers.title(name)
                await wait_for(pilot, lambda: title in str(hint.render()), f"{name}'s demo hint")  # noqa: B023
                if not providers.get(name).key_document:
                    assert offer.key in str(hint.render())
                await pilot.press("f2")
                await pilot.pause()
                await pilot.press("enter")
                await wait_for(
                    pilot,
                    lambda: app.screen is home or not form.checking,  # noqa: B023
                    f"{name}'s key checked",
                )
                if app.screen is form:  # a key whose account its API names not (ElevenLabs): say so, and add
                    assert providers.get(name).unnamed_account is not None, form.query_one("#key-error").render()
                    form.query_one("#allow-unidentified", Checkbox).value = True
                    form.submit()
                    await wait_for(pilot, lambda: app.screen is home, f"{name} added")
                added = {i.label: i.provider for i in list_integrations(app.service.db)}
                assert added.get(offer.label) == name, added
            await settle(app, pilot)
            assert len(list_integrations(app.service.db)) == 2 * len(tried)
            assert all(c.view.state == "ok" for c in app.screen.query(IntegrationCard)), [
                (c.view.label, c.view.status) for c in app.screen.query(IntegrationCard)
            ]
    finally:
        env.cleanup()


async def test_outside_the_demo_the_add_form_has_no_demo_key(grafient_home) -> None:
    app = make_app(httpx.MockTransport(lambda request: httpx.Response(500)))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("a")
        await pilot.pause()
        assert not app.screen.query("#demo-hint") and "demo_key" not in shown_keys(app)


@pytest.mark.parametrize("days", [7, 30, 90])
async def test_period_commands_set_that_period(grafient_home, days: int) -> None:
    app = make_app(httpx.MockTransport(lambda request: httpx.Response(500)))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        next(c for c in app.get_system_commands(app.screen) if c.title == f"Period: {days} days").callback()
        await settle(app, pilot)
        assert app.live.period == days and Settings.from_env().period() == days


async def test_one_command_table_feeds_the_bindings_the_palette_and_help(grafient_home) -> None:
    """The keys `?` lists, the Footer's bindings and the palette's commands all come from COMMANDS."""
    from grafient_tui.tui.commands import COMMANDS, help_rows

    team = make_team()
    integration_id = await seeded(team)
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        for scopes in (("app", "home", "cards"), ("app", "detail")):
            if "detail" in scopes:
                app.post_message(DetailRequested(integration_id))
                await settle(app, pilot)
            bound = {c.id for c in COMMANDS if c.scope in scopes and c.id and c.keys}
            listed = {row.binding_id for row in help_rows(app, app.screen)}
            assert bound <= listed and listed - bound <= {"command_palette"}, (scopes, bound ^ listed)
            offered = {c.title for c in app.get_system_commands(app.screen)}
            assert {c.palette for c in COMMANDS if c.palette and c.scope in (*scopes, "home")} <= offered


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_p_asks_what_the_plan_keeps_and_escape_saves_nothing(grafient_home, size: tuple[int, int]) -> None:
    """Issue 21: `P` (one shift from `p`) asks first, with what the plan keeps and what the next sync
    fetches; Escape leaves the plan as it was, in the store and on the screen."""
    team = make_team()
    await seeded(team)
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        await pilot.press("P")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmPlanScreen)
        question = str(app.screen.query_one("#plan-question", Static).render())
        assert question == app.service.plan_change("pro")
        assert "pro keeps" in question and "The next sync fetches the older days" in question
        assert app.screen.query_one("#plan-question", Static).region.height >= 2  # the whole sentence, wrapped
        assert {"confirm_yes", "confirm_no"} <= shown_keys(app)
        await pilot.press("escape")
        await settle(app, pilot)
        assert not isinstance(app.screen, ConfirmPlanScreen)
        assert Settings.from_env().plan() == "free" and not any("Plan pro" in note for note in app.notes)
        assert "Grafient plan free" in str(app.screen.query_one("#period", Static).render())


async def test_the_palette_plan_asks_for_the_plan_it_names(grafient_home) -> None:
    team = make_team()
    await seeded(team)
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        [ultimate] = [c for c in app.get_system_commands(app.screen) if c.title == "Plan: ultimate"]
        ultimate.callback()
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmPlanScreen)
        assert app.screen.asked == "ultimate"
        await pilot.press("n")
        await settle(app, pilot)
        assert Settings.from_env().plan() == "free"
        ultimate.callback()
        await settle(app, pilot)
        await pilot.click("#yes")
        await settle(app, pilot)
        assert Settings.from_env().plan() == "ultimate"


async def choose_in_palette(app: GrafientApp, pilot, title: str) -> None:
    """ctrl+p, type the command's title, enter: as a user picks it."""
    await pilot.press("ctrl+p")
    await settle(app, pilot)
    assert isinstance(app.screen, CommandPalette)
    await pilot.press(*title)
    await settle(app, pilot)
    await pilot.press("enter")
    await settle(app, pilot)


async def test_open_from_the_palette_over_a_detail_replaces_it(grafient_home) -> None:
    """Opening an integration from the palette with a detail in front mounted a second screen with the
    detail's id (Textual's DuplicateIds, a crash): the detail in front is replaced, or kept if it is
    the one asked for; escape still goes back home."""
    team = make_team()
    first = await seeded(team, "Acme")
    second = await seeded(team, "Zeta Two")
    app = make_app(httpx.MockTransport(team.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.post_message(DetailRequested(first))
        await settle(app, pilot)
        assert isinstance(app.screen, CostDetailScreen) and app.screen.integration_id == first

        def details() -> list[int]:
            return [s.integration_id for s in app.screen_stack if isinstance(s, CostDetailScreen)]

        await choose_in_palette(app, pilot, "Open Zeta Two")
        assert details() == [second] and app.screen.integration_id == second
        assert app.screen.data is not None and "Zeta Two" in str(app.screen.query_one("#detail-header").render())
        await choose_in_palette(app, pilot, "Open Zeta Two")  # the same one: it stays
        assert details() == [second]
        await pilot.press("question_mark")  # a dialog over the detail: the detail under it is replaced
        await settle(app, pilot)
        assert isinstance(app.screen, KeysHelpScreen)
        await choose_in_palette(app, pilot, "Open Acme")
        assert details() == [first] and isinstance(app.screen, CostDetailScreen)
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, IntegrationListScreen) and len(app.screen_stack) == 1
    assert app.return_code in (None, 0)


async def test_q_quits_at_once_while_the_focused_card_works_through_its_queue(grafient_home) -> None:
    """`q` waited behind what the focused widget had queued (after the demo's backfills, a home
    re-drawing its cards held it 5-9 s): the App acts on it first. In a dialog or a field it is theirs."""
    import asyncio

    from textual import events

    team = make_team()
    await seeded(team)
    app = make_app(httpx.MockTransport(team.handler))
    busy = asyncio.Event()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await settle(app, pilot)
        await pilot.press("q")  # the help's own q: closes it
        await settle(app, pilot)
        assert isinstance(app.screen, IntegrationListScreen) and app.return_code is None
        await pilot.press("a")
        await settle(app, pilot)
        await pilot.press("tab")  # the form opens on Provider; Tab moves on to the Label field
        await settle(app, pilot)
        await pilot.press("q")  # typed into the add form's field
        await settle(app, pilot)
        assert isinstance(app.focused, Input) and app.focused.value.endswith("q") and app.return_code is None
        await pilot.press("escape")
        await settle(app, pilot)
        card = app.focused
        assert isinstance(card, IntegrationCard)
        card.call_later(busy.wait)  # the card is busy until told: its queue does not move
        app.post_message(events.Key("q", "q"))  # as the terminal sends it (the pilot waits for the card)
        await wait_for(pilot, lambda: app.return_code is not None, "the app to start quitting")
        busy.set()  # (closing waits for each widget's queue to end)
    assert app.return_code == 0
