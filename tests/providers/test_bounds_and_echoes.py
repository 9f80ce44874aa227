"""What a hostile answer can still try after the first round of limits: escapes through an error
sentence, key fragments quoted back in a field, lines for other days, and a removed integration."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
import respx
from sqlmodel import select
from textual.widgets import Static

from grafient_tui.config import Settings
from grafient_tui.providers.base import CostLine
from grafient_tui.providers.http import BadResponse
from grafient_tui.secret import Secret
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import add_integration
from grafient_tui.store.models import SyncRun
from grafient_tui.store.vault import Vault
from grafient_tui.sync import totals as totals_module
from grafient_tui.sync.engine import run_sync
from grafient_tui.sync.totals import WindowTotals
from grafient_tui.tui.app import GrafientApp
from tests.conftest import GOOD_KEY
from tests.helpers import all_bytes_under, run_cli, wait_for

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x1b\\"


@pytest.fixture
def store(grafient_home):
    settings = Settings.from_env()
    settings.ensure_dirs()
    return settings, Database(settings), Vault(settings)


def test_an_error_message_with_escapes_reaches_the_cli_as_text(capsys, monkeypatch) -> None:
    with respx.mock(base_url="https://api.cursor.com") as api:
        api.get("/teams/members").respond(401, json={"error": "Unauthorized", "message": OSC52 + " Invalid API key"})
        result = run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=GOOD_KEY)
    assert result.code == 2 and "\x1b" not in result.err and "\\x1b]52;c;" in result.err


async def test_an_error_message_with_escapes_reaches_the_add_form_as_text(grafient_home) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "Unauthorized", "message": OSC52 + " Invalid API key"})

    app = GrafientApp(Settings.from_env(), transport=httpx.MockTransport(handler), now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("tab", *"Eng", "tab")  # from Provider to the label, then the key
        app.screen.query_one("#key").value = GOOD_KEY
        await pilot.press("enter")
        await wait_for(pilot, lambda: "401" in str(app.screen.query_one("#key-error", Static).render()), "the refusal")
        shown = str(app.screen.query_one("#key-error", Static).render())
        assert "\x1b" not in shown and "\\x1b]52;c;" in shown
        assert "\x1b]52" not in app.export_screenshot()


def test_a_key_fragment_quoted_in_an_event_field_is_never_printed_or_stored(
    store,
    capsys,
    monkeypatch,
    grafient_home,
) -> None:
    _settings, db, vault = store
    add_integration(db, vault, label="Eng", provider="cursor", api_key=Secret(GOOD_KEY))
    basic = base64.b64encode(f"{GOOD_KEY}:".encode()).decode()
    monkeypatch.setenv("GRAFIENT_NOW", NOW.isoformat())
    for value in (basic[:30], GOOD_KEY[4:30]):
        event = {"timestamp": str(int(NOW.timestamp() * 1000)), "chargedCents": value}
        with respx.mock(base_url="https://api.cursor.com") as api:
            api.post("/teams/filtered-usage-events").respond(200, json={"usageEvents": [event]})
            result = run_cli(capsys, monkeypatch, "sync")
        assert result.code == 1 and "chargedCents" in result.out
        assert value not in result.out + result.err
    with db.session() as session:
        errors = [run.error or "" for run in session.exec(select(SyncRun))]
    assert errors and not any(basic[:30] in e or GOOD_KEY[4:30] in e for e in errors)
    assert basic[:30].encode() not in all_bytes_under(grafient_home)


def test_lines_for_days_outside_the_window_cost_no_memory_and_are_never_counted() -> None:
    first, last = date(2026, 11, 1), date(2026, 11, 30)
    totals = WindowTotals(first, last)
    stray = [CostLine(date(2010, 1, 1) + timedelta(days=i), f"m{i}", f"u{i}", True, 100, 1) for i in range(5000)]
    mine = [CostLine(date(2026, 11, 5), "gpt-5", "a@x.io", True, 250, 1)]
    totals.add(stray + mine)
    assert totals.outside == 5000
    assert list(totals.days) == [date(2026, 11, 5)] and len(totals.models) == len(totals.members) == 1
    assert totals.days[date(2026, 11, 5)].cost_micro == 250


def test_a_window_past_its_totals_limit_fails_with_a_sentence(monkeypatch) -> None:
    monkeypatch.setattr(totals_module, "MAX_ROWS_PER_WINDOW", 100)
    totals = WindowTotals(date(2026, 11, 1), date(2026, 11, 30))
    totals.add([CostLine(date(2026, 11, 1 + i % 30), "gpt-5", f"u{i}@x.io", True, 1, 1) for i in range(40)])
    totals.check_size("the Cursor API")  # 70 sums: fine
    totals.add([CostLine(date(2026, 11, 2), "gpt-5", f"v{i}@x.io", True, 1, 1) for i in range(40)])
    with pytest.raises(BadResponse, match=r"more than 100 day-by-model and day-by-member totals .*nothing from"):
        totals.check_size("the Cursor API")


def test_a_sync_of_an_integration_removed_meanwhile_is_skipped_not_an_error(store) -> None:
    settings, db, vault = store
    result = asyncio.run(run_sync(db, vault, settings, 42, "daily", now=NOW))
    assert result.outcome == "skipped" and "removed" in (result.error or "")


async def test_a_store_that_cannot_open_is_said_in_words_even_with_brackets_in_its_path(tmp_path, monkeypatch) -> None:
    home = tmp_path / "home[/]D"
    (home / "grafient.db").mkdir(parents=True)  # a directory where the database file should be
    monkeypatch.setenv("GRAFIENT_HOME", str(home))
    app = GrafientApp(Settings.from_env(), now=lambda: NOW)
    async with app.run_test(size=(100, 30)) as pilot:

        def said() -> bool:
            loading = app.screen.query("#loading")
            return bool(loading) and "could not be opened" in str(loading.first().render())

        await wait_for(pilot, said, "the sentence on the loading line")
        assert app.is_running
        assert "could not be opened" in str(app.screen.query_one("#loading").render())
