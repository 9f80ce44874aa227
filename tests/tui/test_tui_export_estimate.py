"""Google Gemini and ElevenLabs in the app: the add form takes a pasted JSON key without ever showing it,
and every dollar of an estimated integration is marked as one (card, summary, legend, detail), with
the estimate's plan and caveats in the detail header."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import httpx
import pytest
from textual import events
from textual.widgets import DataTable, Input, Select, Static, TabbedContent

from grafient_tui import home_snapshot
from grafient_tui.demo import build_demo
from grafient_tui.providers.google.auth import NOT_A_KEY
from grafient_tui.providers.google.fake import FakeBillingExport, make_rows, service_account_key
from grafient_tui.store.integrations import account_of, list_integrations
from grafient_tui.tui.app import GrafientApp
from grafient_tui.tui.messages import DetailRequested
from grafient_tui.tui.screens.add import AddIntegrationScreen
from grafient_tui.tui.widgets.card import IntegrationCard
from grafient_tui.tui.widgets.secret_paste import SecretPaste
from grafient_tui.tui.widgets.summary import SummaryBar
from tests.tui.test_tui import NOW, SIZE, make_app, settle

KEY = service_account_key(seed=51)
KEY_INFO = json.loads(KEY)
TABLE = "billing-admin.billing_export.gcp_billing_export_resource_v1_0A1B2C_3D4E5F_6A7B8C"


async def open_form(app, pilot) -> AddIntegrationScreen:
    await settle(app, pilot)
    await pilot.press("a")
    await pilot.pause()
    form = app.screen
    assert isinstance(form, AddIntegrationScreen)
    return form


def shown(app) -> str:
    """Every character the screen shows now (its SVG screenshot, tags stripped)."""
    svg = app.export_screenshot()
    text = re.sub(r"<style.*?</style>", "", svg, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).replace("\xa0", " ")


async def test_a_json_key_is_pasted_whole_never_shown_and_added_with_its_table(grafient_home) -> None:
    rows = make_rows(seed=2, start=NOW.date() - timedelta(days=40), days=41, projects=[("chat-prod", "Chat Prod")])
    fake = FakeBillingExport(keys=[KEY], table=TABLE, rows=rows)
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return fake.handler(request)

    app = make_app(httpx.MockTransport(handler))
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(app, pilot)
        form.query_one("#provider", Select).value = "google"
        await pilot.pause()
        paste = form.query_one("#key-document", SecretPaste)
        assert paste.display and not form.query_one("#key", Input).display
        assert form.query_one("#account-table", Input) and form.query_one("#account-query_project", Input)
        form.query_one("#label", Input).value = "Gemini"
        form.query_one("#account-table", Input).value = TABLE

        paste.focus()
        paste.post_message(events.Paste("AIzaSyD-" + "q" * 31))  # an AI Studio API key: not a service account
        await pilot.pause()
        assert "not a service-account JSON key" in str(paste.render())
        await pilot.press("enter")
        await pilot.pause()
        assert str(form.query_one("#key-error", Static).render()) == NOT_A_KEY + "."
        assert not calls and list_integrations(app.service.db) == []

        paste.action_clear()
        paste.post_message(events.Paste(KEY))  # one bracketed paste of the whole file
        await pilot.pause()
        screen_text = shown(app)
        assert f"service account {KEY_INFO['client_email']}" in str(paste.render())
        assert "characters pasted (not shown)" in screen_text
        body = "".join(KEY_INFO["private_key"].splitlines()[1:-1])
        for start in range(0, len(body) - 16, 16):  # not a run of 16 characters of the key on screen
            assert body[start : start + 16] not in screen_text
        await pilot.press("enter")
        await settle(app, pilot)
        [row] = list_integrations(app.service.db)
        assert row.provider == "google" and account_of(row) == {"table": TABLE}
        assert row.key_hint == f"key id …{KEY_INFO['private_key_id'][-4:]}"
        card = next(iter(app.screen.query(IntegrationCard)))
        assert card.view.state == "ok" and card.view.summary.total_micro > 0


@pytest.fixture
def demo():
    env = build_demo(now=NOW, latency=0)
    env.settings.set_plan("free")
    yield env
    env.cleanup()


def card_of(app: GrafientApp, provider: str) -> IntegrationCard:
    return next(c for c in app.screen.query(IntegrationCard) if c.view.provider == provider)


async def test_every_amount_of_the_estimated_integration_is_marked_on_the_home_screen(demo) -> None:
    app = GrafientApp(demo.settings, transport=demo.transport, now=lambda: NOW, demo_teams=demo.teams)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        voice, gemini = card_of(app, "elevenlabs"), card_of(app, "google")
        assert voice.view.basis.estimated and not gemini.view.basis.estimated
        voice_line = str(voice._cost.render())
        assert voice_line.startswith("≈$") and "estimate" in voice_line and "on-demand" not in voice_line
        assert str(voice._scale.render()).startswith("$0 – ≈$")
        gemini_line = str(gemini._cost.render())
        assert not gemini_line.startswith("≈") and "on-demand" in gemini_line  # the bill beside the usage value
        total_figure = app.screen.query_one(SummaryBar).query_one(".figure-total")
        total = str(total_figure.render())
        # billed and the usage value beside it, both marked ≈; which integration is an estimate, in the tooltip
        assert "≈$" in total and "usage value ≈$" in total
        assert "includes estimates (Acme Voice)" in str(total_figure.tooltip)
        # The most expensive model of all is marked only when it is one of the estimate's models.
        data = app.screen.data
        model = str(app.screen.query_one(SummaryBar).query_one(".figure-model").render())
        assert data.summary.top_model and data.estimated_models == {
            "eleven_multilingual_v2",
            "eleven_flash_v2_5",
            "scribe_v1",
        }
        assert ("≈" in model) == (data.summary.top_model in data.estimated_models)
    # The next start's first paint (the home snapshot, read without the store) marks them the same way.
    snapshot = home_snapshot.load(demo.settings.data_dir, app.live.period, app.reads.database_key)
    assert snapshot is not None and snapshot.basis == data.basis and snapshot.estimated_models == data.estimated_models
    painted = {card.provider: card.basis for card in snapshot.integrations}
    assert painted["elevenlabs"].estimated and painted["elevenlabs"].money(100_000_000) == "≈$1.00"
    assert not painted["google"].estimated


async def test_the_estimate_detail_says_how_it_was_made_and_shows_credits(demo) -> None:
    app = GrafientApp(demo.settings, transport=demo.transport, now=lambda: NOW, demo_teams=demo.teams)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.post_message(DetailRequested(card_of(app, "elevenlabs").integration_id))
        await settle(app, pilot)
        screen = app.screen
        header = str(screen.query_one("#detail-header", Static).render())
        assert "≈ estimated from credits at the Creator plan's $22 / 100,000 credits" in header
        assert "a plan change re-prices history" in header and "overage charges are not in it" in header
        models = screen.query_one("#models", DataTable)
        keys = [str(k.value) for k in models.columns]
        assert "credits" in keys and "characters" in keys and "input" not in keys
        first = [str(c) for c in models.get_row_at(0)]
        assert first[keys.index("cost")].startswith("≈$") and first[keys.index("credits")] not in ("", "—")
        daily = screen.query_one("#daily", DataTable)
        synced = [str(daily.get_row_at(i)[1]) for i in range(daily.row_count)]
        assert all(cell.startswith("≈$") or cell == "—" for cell in synced)
        assert str(screen.query_one(TabbedContent).get_tab("members-tab").label) == "Workspaces"


async def test_the_google_detail_splits_by_project_and_keeps_the_bill_apart(demo) -> None:
    app = GrafientApp(demo.settings, transport=demo.transport, now=lambda: NOW, demo_teams=demo.teams)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.post_message(DetailRequested(card_of(app, "google").integration_id))
        await settle(app, pilot)
        screen = app.screen
        assert str(screen.query_one(TabbedContent).get_tab("members-tab").label) == "Projects"
        members = screen.query_one("#members", DataTable)
        names = {str(members.get_row_at(i)[0]) for i in range(members.row_count - 1)}
        assert {"Chat Prod", "Search AI"} <= names
        daily = screen.query_one("#daily", DataTable)
        assert "on_demand" in [str(k.value) for k in daily.columns] and "requests" not in daily.columns
        header = str(screen.query_one("#detail-header", Static).render())
        assert "Google Gemini" in header and "≈" not in header
