"""The home snapshot (the last run's figures, painted before the store opens) is of one database: an
app opened on another database never paints it, `remove` drops the removed team from it, and when
the store cannot be opened no figure it did not give stays on screen."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from grafient_tui.config import Settings
from grafient_tui.errors import StoreError
from grafient_tui.home_snapshot import database_key, snapshot_path
from grafient_tui.providers.cursor.fake import FakeCursorTeam
from grafient_tui.tui.app import GrafientApp
from grafient_tui.tui.widgets.card import IntegrationCard
from tests.conftest import GOOD_KEY
from tests.helpers import run_cli, settle, wait_for

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
OTHER_KEY = "key_" + "e5f6a7b8" * 8


def team(key: str = GOOD_KEY, cents: int = 900) -> FakeCursorTeam:
    ms = int((NOW - timedelta(days=1)).timestamp() * 1000)
    events = [{"timestamp": str(ms), "userEmail": "a@x.io", "model": "m", "kind": "Usage-based", "chargedCents": cents}]
    return FakeCursorTeam(api_key=key, events=events, members=[{"name": "A", "email": f"a@{key[-6:]}.io", "role": "o"}])


def route(*teams: FakeCursorTeam):
    def handler(request: httpx.Request) -> httpx.Response:
        sent = request.headers.get("authorization", "")
        for candidate in teams:
            import base64

            if sent == "Basic " + base64.b64encode(f"{candidate.api_key}:".encode()).decode():
                return candidate.handler(request)
        return teams[0].handler(request)

    return handler


class GatedStoreApp(GrafientApp):
    """The app, its store held closed until the test opens the gate (or made to fail)."""

    def __init__(self, *args, fail: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.gate = threading.Event()
        self.fail = fail

    def open_store(self) -> list[int]:
        assert self.gate.wait(30)
        if self.fail:
            raise StoreError("the local database is damaged (file is not a database).")
        return super().open_store()


async def run_app_once(settings: Settings, handler) -> None:
    """Open the app on `settings` until it has read the store (and written the snapshot)."""
    app = GrafientApp(settings, transport=httpx.MockTransport(handler), now=lambda: NOW)
    app.gate = None  # type: ignore[attr-defined]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)


@pytest.fixture
def two_teams(capsys, monkeypatch, grafient_home):
    monkeypatch.setenv("GRAFIENT_NOW", NOW.isoformat())
    handler = route(team(), team(OTHER_KEY, 50))
    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=handler)
        assert run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Acme", stdin=GOOD_KEY).code == 0
        assert run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Beta", stdin=OTHER_KEY).code == 0
    return handler


async def test_an_app_on_another_database_never_paints_this_ones_figures(two_teams, monkeypatch, tmp_path) -> None:
    settings = Settings.from_env()
    await run_app_once(settings, two_teams)
    document = json.loads(snapshot_path(settings.data_dir).read_text())
    assert document["database"] == database_key(settings.database_url) and len(document["integrations"]) == 2

    monkeypatch.setenv("GRAFIENT_DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    other = Settings.from_env()
    app = GatedStoreApp(other, transport=httpx.MockTransport(two_teams), now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.home_snapshot is None  # another database's snapshot: not painted
        assert not app.screen.query(IntegrationCard)
        app.gate.set()
        await settle(app, pilot)
        assert not app.screen.query(IntegrationCard)  # the other database has no integrations


def test_the_database_key_is_the_url_without_its_password() -> None:
    a = database_key("postgresql://bob:secret@db/grafient")
    assert a == database_key("postgresql://bob:other@db/grafient")  # the password changes nothing
    assert a != database_key("postgresql://bob@db/grafient2") and a != database_key("sqlite:////x/grafient.db")
    assert "secret" not in a


async def test_remove_drops_the_team_from_the_snapshot(two_teams, capsys, monkeypatch) -> None:
    settings = Settings.from_env()
    await run_app_once(settings, two_teams)
    assert run_cli(capsys, monkeypatch, "remove", "Beta", "--yes").code == 0
    document = json.loads(snapshot_path(settings.data_dir).read_text())
    assert [card["label"] for card in document["integrations"]] == ["Acme"] and document["summary"] is None

    app = GatedStoreApp(settings, transport=httpx.MockTransport(two_teams), now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        painted = [card.view.label for card in app.screen.query(IntegrationCard)]
        assert painted == ["Acme"]  # the removed team's card is not painted at the next start
        app.gate.set()
        await settle(app, pilot)


async def test_when_the_store_cannot_open_no_snapshot_figure_stays(two_teams) -> None:
    settings = Settings.from_env()
    await run_app_once(settings, two_teams)
    app = GatedStoreApp(settings, transport=httpx.MockTransport(two_teams), now=lambda: NOW, fail=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert len(app.screen.query(IntegrationCard)) == 2  # the last run's figures, while it opens
        app.gate.set()
        await wait_for(  # the failure shown (the worker's error is the app's news)
            pilot,
            lambda: not app.screen.query(IntegrationCard) and app.screen.query("#loading"),
            "the failure to open the store on screen",
        )
        assert not app.screen.query(IntegrationCard)
        loading = str(app.screen.query_one("#loading").render())
        assert loading.startswith("The local store could not be opened: The local database is damaged")
        assert "$" not in str(app.screen.query_one(".figure-total").render())
