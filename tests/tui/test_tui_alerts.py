"""Alerts from the app: the process that synced tells the channels (a real HTTP receiver on
loopback), once; a failing channel is one line on the home and no sync's outcome; the opt-in
desktop notification goes through the terminal's writer, wrapped for tmux."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
from textual.widgets import Static

from grafient_tui.config import Settings
from grafient_tui.secret import Secret
from grafient_tui.service import GrafientService
from grafient_tui.tui.alerts import desktop_notify
from grafient_tui.tui.messages import SyncRequested
from grafient_tui.tui.syncing import Toast
from tests.alert_receivers import HttpReceiver
from tests.tui.test_tui import NOW, SIZE, RecordingApp, seeded, settle
from tests.tui.test_tui_budgets import team_with_limits

SIGNING = "whsec-GRAFIENT-TUI-SECRET-77"


async def test_the_app_that_synced_tells_the_channel_once_and_a_failure_is_a_line_on_the_home(grafient_home) -> None:
    team = team_with_limits()
    iid = await seeded(team)
    receiver = HttpReceiver(status=500).start()
    try:
        service = GrafientService(Settings.from_env())
        service.set_budget("Acme", "20", period="cycle", now=NOW)  # over
        service.add_alert_channel("webhook", "Ops", secret=Secret(SIGNING), url=receiver.url + "/hook", now=NOW)
        service.close()
        app = RecordingApp(Settings.from_env(), transport=httpx.MockTransport(team.handler), now=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            assert receiver.received == []  # opening the app sends nothing: it has not synced
            note = app.screen.query_one("#alert-note", Static)
            assert not note.display
            app.post_message(SyncRequested((iid,)))
            await settle(app, pilot)
            kinds = {r.json()["kind"] for r in receiver.received}
            assert kinds == {"budget"} and len(receiver.received) == 3  # one event, its three attempts
            assert note.display
            assert str(note.render()) == (
                "⚠ Alert channel Ops failed: 127.0.0.1 answered HTTP 500 (after 3 attempts). (grafient alert list)"
            )
            assert iid not in app.live.failures  # the sync itself succeeded
            receiver.status = 200
            app.post_message(SyncRequested((iid,)))
            await settle(app, pilot)
            assert len(receiver.received) == 4  # the failed delivery, tried again by the next sync
            assert not note.display
            app.post_message(SyncRequested((iid,)))
            await settle(app, pilot)
            assert len(receiver.received) == 4  # sent: never again
    finally:
        receiver.stop()


class Driver:
    def __init__(self) -> None:
        self.written: list[str] = []

    def write(self, data: str) -> None:
        self.written.append(data)


def test_the_desktop_notification_is_opt_in_and_wrapped_inside_tmux(grafient_home, monkeypatch) -> None:
    settings = Settings.from_env()
    settings.ensure_dirs()
    driver = Driver()
    app = SimpleNamespace(is_headless=False, _driver=driver)
    said = Toast("Eng · monthly budget: over budget", "Budget", "error", 8)
    assert not desktop_notify(app, settings, said) and driver.written == []  # off unless asked for
    settings.config_file.write_text("[alerts]\ndesktop = true\n", encoding="utf-8")
    monkeypatch.delenv("TMUX", raising=False)
    assert desktop_notify(app, settings, said)
    monkeypatch.setenv("TMUX", "/tmp/tmux-1000/default,1,0")
    assert desktop_notify(app, settings, said)
    plain, wrapped = driver.written
    words = "Eng · monthly budget: over budget"
    assert plain == f"\x1b]9;Budget: {words}\x07\x1b]777;notify;Budget;{words}\x07"
    assert wrapped.startswith("\x1bPtmux;\x1b\x1b]9;Budget") and wrapped.endswith("\x1b\\")
    settings.config_file.write_text("[alerts]\ndesktop = 'yes'\n", encoding="utf-8")
    assert not desktop_notify(app, settings, said)  # a value it cannot use: none, and no crash
    assert not desktop_notify(SimpleNamespace(is_headless=True, _driver=driver), Settings.from_env(), said)
