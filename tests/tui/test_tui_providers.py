"""The app with every provider: the home's stacked chart, cards, detail screens and the add form.

The demo's accounts (one per provider, from each provider's fake) are served at the transport;
the real clients, sync engine and store run. The clock is frozen through the App's `now`.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from textual.widgets import DataTable, Input, Select, Static, TabbedContent

from grafient_tui import providers
from grafient_tui.demo import build_demo
from grafient_tui.figures import IntegrationFigures
from grafient_tui.money import format_usd
from grafient_tui.rounding import adding_up
from grafient_tui.secret import Secret
from grafient_tui.store.integrations import list_integrations
from grafient_tui.store.queries import daily_costs, period_summary
from grafient_tui.tui.app import GrafientApp
from grafient_tui.tui.messages import DetailRequested, IntegrationsAdded
from grafient_tui.tui.screens.add import AddIntegrationScreen
from grafient_tui.tui.screens.detail import CostDetailScreen
from grafient_tui.tui.widgets.card import IntegrationCard
from grafient_tui.tui.widgets.chart import StackedCostChart
from grafient_tui.tui.widgets.chart_layout import Cell, ProviderTotal, provider_stack, stack_cells
from tests.tui.test_tui import NOW, SIZE, make_app, settle

LABELS = {
    "cursor": "Acme Engineering",
    "anthropic": "Acme Labs API",
    "openai": "Acme Chat",
    "openrouter": "Acme Prototypes",
    "copilot": "Acme Copilot",
    "xai": "Acme Grok",
    "google": "Acme Gemini",
    "elevenlabs": "Acme Voice",
}


@pytest.fixture
def demo():
    """The demo's accounts on the free plan: 30 days of each is all these screens need (the demo's
    own test backfills the full pro history)."""
    env = build_demo(now=NOW, latency=0)
    env.settings.set_plan("free")
    yield env
    env.cleanup()


def demo_app(env) -> GrafientApp:
    return GrafientApp(env.settings, transport=env.transport, now=lambda: NOW, demo_teams=env.teams)


def card_of(app: GrafientApp, provider: str) -> IntegrationCard:
    return next(c for c in app.screen.query(IntegrationCard) if c.view.provider == provider)


def column_keys(table: DataTable) -> list[str]:
    return [str(key.value) for key in table.columns]


async def test_the_home_stacks_every_provider_and_each_card_says_what_it_has(demo) -> None:
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        chart = app.screen.query_one("#home-chart", StackedCostChart)
        order, days = chart.stack.providers, chart.stack.days
        assert order == ("cursor", "anthropic", "openai", "openrouter", "copilot", "xai", "google", "elevenlabs")
        since = NOW.date() - timedelta(days=app.live.period - 1)
        # Each provider's band is exactly its integration's stored days (one integration each here);
        # a day is drawn as not synced only when no provider has it.
        stored = {
            name: daily_costs(app.service.db, card_of(app, name).integration_id, since, NOW.date()) for name in order
        }
        for i, day in enumerate(days):
            if day.parts is None:
                assert not any(stored[name][i].synced for name in order)
                continue
            for index, name in enumerate(order):
                row = stored[name][i]
                assert day.parts[index] == (row.cost_micro if row.synced else 0)
        assert sum(1 for d in days if d.parts is not None) == 30
        # Six entries do not fit one line at 120 columns: the legend breaks between entries, never in one.
        legend = str(app.screen.query_one("#home-legend", Static).render()).split("\n")
        assert len(legend) == 2 and all(len(line) <= SIZE[0] - 2 for line in legend)
        # each card's total, rounded so that the parts add up to their total rounded once (issue 21)
        shown = dict(
            zip(order, adding_up([card_of(app, name).view.summary.total_micro for name in order]), strict=True)
        )
        for name in order:
            view = card_of(app, name).view
            money = view.basis.money(shown[name])
            assert any(f"{providers.title(name)} {money}" in line for line in legend)
        voice = f"ElevenLabs ≈{format_usd(shown['elevenlabs'])}"
        assert any(voice in line for line in legend)
        # Anthropic counts no requests: unknown, never 0; OpenRouter shows BYOK beside the cost.
        anthropic = str(card_of(app, "anthropic")._cost.render())
        assert "requests —" in anthropic and "on-demand" not in anthropic
        openrouter = card_of(app, "openrouter")
        assert "BYOK" in str(openrouter._cost.render())
        assert card_of(app, "cursor").view.summary.on_demand_micro is not None
        assert "Anthropic · sk-ant-admin01-…" in str(card_of(app, "anthropic").border_subtitle)
        # GitHub Copilot: the bill (on-demand) beside the usage value, no request count, split per person.
        copilot = card_of(app, "copilot")
        text = str(copilot._cost.render())
        assert "on-demand" in text and "requests —" in text and "no seat list" not in text
        assert 0 < copilot.view.summary.on_demand_micro < copilot.view.summary.total_micro
        assert "GitHub Copilot · ghp_…" in str(copilot.border_subtitle)
        # Its detail: people (and what no seat holder accounts for), the bill apart, no request column.
        app.post_message(DetailRequested(copilot.integration_id))
        await settle(app, pilot)
        screen = app.screen
        assert str(screen.query_one(TabbedContent).get_tab("members-tab").label) == "Members"
        for name in ("models", "daily", "members"):
            assert "requests" not in column_keys(screen.query_one(f"#{name}", DataTable))
        assert "on_demand" in column_keys(screen.query_one("#daily", DataTable))
        members = screen.query_one("#members", DataTable)
        names = {str(members.get_row_at(i)[0]) for i in range(members.row_count - 1)}
        assert {"maya-chen", "kenji-tanaka", "(other usage)"} <= names and "(all users)" not in names
        header = str(screen.query_one("#detail-header", Static).render())
        assert "GitHub Copilot" in header and "members 12" in header
        # xAI: no split of the bill, no request count, its API keys by name (never the redacted key).
        await pilot.press("escape")
        await settle(app, pilot)
        xai = card_of(app, "xai")
        text = str(xai._cost.render())
        assert "on-demand" not in text and "requests —" in text and xai.view.summary.total_micro > 0
        app.post_message(DetailRequested(xai.integration_id))
        await settle(app, pilot)
        screen = app.screen
        assert str(screen.query_one(TabbedContent).get_tab("members-tab").label) == "API keys"
        assert "on_demand" not in column_keys(screen.query_one("#daily", DataTable))
        keys = screen.query_one("#members", DataTable)
        names = {str(keys.get_row_at(i)[0]) for i in range(keys.row_count - 1)}
        assert {"prod-backend", "eval-runner", "(no API key)"} <= names
        assert sum(n.startswith("staging (") for n in names) == 2 and not any("xai-" in n for n in names)
        assert "API keys" in str(screen.query_one("#detail-header", Static).render())


async def test_openrouter_today_is_not_reported_and_does_not_count_as_missing(demo) -> None:
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        card = card_of(app, "openrouter")
        today_row = daily_costs(app.service.db, card.integration_id, NOW.date(), NOW.date())[0]
        assert not today_row.synced  # never $0: not reported yet
        ids = [c.integration_id for c in app.screen.query(IntegrationCard)]
        together = period_summary(app.service.db, ids, days=30, until=NOW.date(), today=NOW.date())
        with_cursor_only = period_summary(
            app.service.db, [card_of(app, "cursor").integration_id], days=30, until=NOW.date(), today=NOW.date()
        )
        assert together.synced_days == with_cursor_only.synced_days == 30


@pytest.mark.slow  # seconds of work: CI's slow run
async def test_the_anthropic_detail_has_workspaces_and_no_request_column(demo) -> None:
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        iid = card_of(app, "anthropic").integration_id
        app.post_message(DetailRequested(iid))
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, CostDetailScreen)
        for name in ("models", "daily", "members"):
            assert "requests" not in column_keys(screen.query_one(f"#{name}", DataTable))
        assert "on_demand" not in column_keys(screen.query_one("#daily", DataTable))
        assert str(screen.query_one(TabbedContent).get_tab("members-tab").label) == "Workspaces"
        members = screen.query_one("#members", DataTable)
        names = {str(members.get_row_at(i)[0]) for i in range(members.row_count - 1)}
        assert "Default workspace" in names and "Research" in names
        header = str(screen.query_one("#detail-header", Static).render())
        history_from = next(i for i in list_integrations(app.service.db) if i.id == iid).history_from
        assert history_from is not None and f"history from {history_from.isoformat()}" in header
        assert "Anthropic" in header and "workspaces" in header


@pytest.mark.slow  # seconds of work: CI's slow run
async def test_the_openrouter_detail_shows_byok_apart_and_projects_for_openai(demo) -> None:
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.post_message(DetailRequested(card_of(app, "openrouter").integration_id))
        await settle(app, pilot)
        daily = app.screen.query_one("#daily", DataTable)
        assert "byok" in column_keys(daily) and "on_demand" not in column_keys(daily)
        assert "requests" in column_keys(daily)
        today = [str(c) for c in daily.get_row(NOW.date().isoformat())]
        # today is not reported by OpenRouter, never a $0 day: in the header's words, unknown as everywhere
        assert "not reported yet" in today and "never synced" not in today
        assert today[1] == "—" and "–" not in today
        assert "today not reported yet" in str(app.screen.query_one("#period", Static).render())
        await pilot.press("escape")
        await settle(app, pilot)
        app.post_message(DetailRequested(card_of(app, "google").integration_id))
        await settle(app, pilot)
        header = str(app.screen.query_one("#detail-header", Static).render())
        assert "key id …" in header and "key key" not in header  # a service-account key's hint names itself
        await pilot.press("escape")
        await settle(app, pilot)
        app.post_message(DetailRequested(card_of(app, "openai").integration_id))
        await settle(app, pilot)
        assert str(app.screen.query_one(TabbedContent).get_tab("members-tab").label) == "Projects"
        for name in ("models", "daily", "members"):  # the heading drawn whole, not "Compl. r"
            table = app.screen.query_one(f"#{name}", DataTable)
            column = table.columns[next(k for k in table.columns if k.value == "requests")]
            assert column.get_render_width(table) - 2 * table.cell_padding >= len("Compl. req."), name
        assert "Compl. req." in str(
            app.screen.query_one("#models", DataTable)
            .columns[next(k for k in app.screen.query_one("#models", DataTable).columns if k.value == "requests")]
            .label
        )


async def test_the_add_form_explains_each_providers_key_and_adds_an_openai_account(grafient_home) -> None:
    from grafient_tui.providers.openai.fake import FakeOpenAIOrg, demo_account

    good, project_key = "sk-admin-" + "Zq8wE1rT5yU9iO3pA7sD2fG6hK0lX4cV", "sk-proj-" + "x" * 40
    account = demo_account(good, NOW.date(), seed=2)
    project = FakeOpenAIOrg(api_key=project_key, key_kind="project")

    def route(request: httpx.Request) -> httpx.Response:
        wrong_kind = request.headers.get("authorization") == f"Bearer {project_key}"
        return (project if wrong_kind else account).handler(request)

    app = make_app(httpx.MockTransport(route))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, AddIntegrationScreen)
        form.query_one("#provider", Select).value = "openai"
        await pilot.pause()
        assert "api.usage.read" in str(form.query_one("#key-help", Static).render())
        assert form.query_one("#key", Input).placeholder.startswith("sk-admin-")
        assert "OpenAI" in form.query_one("#label", Input).placeholder
        form.query_one("#label", Input).value = "Chat"
        form.query_one("#key", Input).value = project_key  # a project key: the wrong kind
        form.query_one("#key", Input).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        refusal = str(form.query_one("#key-error", Static).render())
        assert "api.usage.read" in refusal and "x" * 12 not in refusal
        assert list_integrations(app.service.db) == []
        form.query_one("#key", Input).value = good
        form.query_one("#key", Input).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        [row] = list_integrations(app.service.db)
        assert (row.provider, row.label) == ("openai", "Chat")
        card = next(iter(app.screen.query(IntegrationCard)))
        assert card.view.state == "ok" and card.view.summary.total_micro > 0


async def test_the_add_form_asks_before_adding_an_account_it_cannot_identify(grafient_home) -> None:
    """A good OpenAI key that may not list projects: the form says the account cannot be checked, keeps
    the key, and shows the checkbox; ticked, the same submit adds it."""
    from textual.widgets import Checkbox

    from grafient_tui.providers.openai.fake import demo_account
    from grafient_tui.tui.screens.add import ALLOW_UNIDENTIFIED

    good = "sk-admin-" + "Zq8wE1rT5yU9iO3pA7sD2fG6hK0lX4cV"
    account = demo_account(good, NOW.date(), seed=2)
    account.key_kind = "costs_only"
    app = make_app(httpx.MockTransport(account.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, AddIntegrationScreen)
        allow = form.query_one("#allow-unidentified", Checkbox)
        assert not allow.display  # hidden until a key needs it
        form.query_one("#provider", Select).value = "openai"
        await pilot.pause()
        form.query_one("#label", Input).value = "Chat"
        form.query_one("#key", Input).value = good
        form.query_one("#key", Input).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        refusal = str(form.query_one("#key-error", Static).render())
        assert "cannot check that this account is not connected already" in refusal
        assert list_integrations(app.service.db) == []
        assert allow.display and str(allow.label) == ALLOW_UNIDENTIFIED and form.focused is allow
        assert form.query_one("#key", Input).value == good  # kept: nothing of it was stored
        await pilot.press("space")  # tick it
        assert allow.value
        form.query_one("#key", Input).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        [row] = list_integrations(app.service.db)
        assert (row.provider, row.label, row.team_fingerprint) == ("openai", "Chat", None)


async def test_the_add_form_asks_before_sending_an_elevenlabs_key(grafient_home) -> None:
    """ElevenLabs never names its workspace: unticked, the form says so at once (nothing is sent), keeps
    the key and shows the checkbox; ticked, the same submit checks the key and adds it."""
    from textual.widgets import Checkbox

    from grafient_tui.providers.elevenlabs.fake import demo_account

    good = "sk_" + "3f9a1c7e" * 6
    workspace = demo_account(good, NOW.date(), seed=3)
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return workspace.handler(request)

    app = make_app(httpx.MockTransport(handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, AddIntegrationScreen)
        form.query_one("#provider", Select).value = "elevenlabs"
        await pilot.pause()
        allow = form.query_one("#allow-unidentified", Checkbox)
        assert not allow.display
        form.query_one("#label", Input).value = "Voice"
        form.query_one("#key", Input).value = good
        form.query_one("#key", Input).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        refusal = str(form.query_one("#key-error", Static).render())
        assert refusal.startswith("ElevenLabs' API names no workspace") and "--allow-unidentified" in refusal
        assert sent == [] and list_integrations(app.service.db) == []
        assert allow.display and form.focused is allow and form.query_one("#key", Input).value == good
        await pilot.press("space")
        form.query_one("#key", Input).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        [row] = list_integrations(app.service.db)
        assert (row.provider, row.label, row.team_fingerprint) == ("elevenlabs", "Voice", None)
        assert sent and all(r.headers["xi-api-key"] == good for r in sent)


def test_a_stacked_cell_shows_both_providers_where_one_band_ends_inside_it() -> None:
    # 30 + 70 of 100 on two rows (16 eighths): the first band ends at 5 eighths, inside the bottom cell.
    assert stack_cells((30, 70), 100, 2) == [Cell("█", 1), Cell("▅", 0, 1)]
    assert stack_cells((0, 0), 100, 2) == [Cell(" ")] * 2
    assert stack_cells(None, 100, 2)[-1].char == "·"


def provider_figures(provider: str, cost: int) -> IntegrationFigures:
    """One integration of `provider`: `cost` on NOW's day, the day after never synced."""
    from grafient_tui.figures import DayFigures, Summary, SyncStatus

    day = NOW.date()
    days = (
        DayFigures(day=day, synced=True, complete=True, cost_micro=cost),
        DayFigures(day=day + timedelta(days=1), synced=False, complete=False),
    )
    summary = Summary(
        since=day,
        until=day + timedelta(days=1),
        days=2,
        synced_days=1,
        complete_days=1,
        today_partial=False,
        total_micro=cost,
        on_demand_micro=None,
        included_micro=None,
        requests=None,
        daily_average_micro=cost,
        top_model=None,
        top_model_micro=0,
        change_pct=None,
        change_note="previous period 0/1 days synced",
    )
    return IntegrationFigures(
        integration_id=cost,
        label=f"{provider} {cost}",
        provider=provider,
        key_hint="…abcd",
        team_members=None,
        summary=summary,
        days=days,
        status=SyncStatus(status="ok", last_sync=None, error=None),
    )


def test_provider_stack_sums_integrations_of_one_provider_and_keeps_unsynced_days_apart() -> None:
    day = NOW.date()
    figures = provider_figures

    stack = provider_stack([figures("cursor", 100), figures("cursor", 50), figures("openai", 7)])
    assert stack.providers == ("cursor", "openai")
    assert [d.parts for d in stack.days] == [(150, 7), None]
    assert [d.day for d in stack.days] == [day, day + timedelta(days=1)]
    assert stack.totals == (ProviderTotal("cursor", 150), ProviderTotal("openai", 7))


async def test_a_copilot_card_says_once_when_nobody_can_be_split(grafient_home) -> None:
    from grafient_tui.providers.copilot.fake import demo_account
    from tests.tui.test_tui import make_app

    token = "ghp_" + "Vw3Kd8Lp1Q" * 3 + "aB2cD3"
    account = demo_account(token, NOW.date(), seed=2)
    account.seats_access = "denied"  # the token reads billing but not the seat list
    app = make_app(httpx.MockTransport(account.handler))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await app.service.add("copilot", "Copilot", Secret(token), account={"org": "acme"})
        app.post_message(IntegrationsAdded((list_integrations(app.service.db)[0].id,)))
        await settle(app, pilot)
        card = card_of(app, "copilot")
        assert card.view.state == "ok" and card.view.team_members == 0
        assert "all as (all users): no seat list to split by" in str(card._cost.render())
