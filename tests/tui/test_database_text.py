"""Text and values that come back from the database are data too: anyone who can write the store (a
teammate on a shared database, an older or newer Grafient) may have put escapes, markup or values
this Grafient does not know in a label, a sync outcome, an error, a team setting or a budget. Each
reaches every terminal sink through the one rule, and an unknown value is one sentence."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx
from sqlalchemy import text
from textual.command import CommandList, CommandPalette
from textual.content import Content

from grafient_tui.config import Settings
from grafient_tui.providers.cursor.fake import FakeCursorTeam
from grafient_tui.store.db import Database
from grafient_tui.tui.app import GrafientApp
from grafient_tui.untrusted import visible
from tests.conftest import GOOD_KEY
from tests.helpers import run_cli, settle

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
OSC52 = "Eng\x1b]52;c;ZXZpbA==\x07"  # writes the clipboard
TITLE = "Ops\x1b]0;pwned\x07"  # sets the window title
CLEAR = "Fin\x1b[2J\x1b[H"  # clears the screen
ESCAPES = [OSC52, TITLE, CLEAR]


def team() -> FakeCursorTeam:
    ms = int((NOW - timedelta(days=1)).timestamp() * 1000)
    events = [{"timestamp": str(ms), "userEmail": "a@x.io", "model": "m", "kind": "Usage-based", "chargedCents": 9}]
    return FakeCursorTeam(api_key=GOOD_KEY, events=events, members=[{"name": "A", "email": "a@x.io", "role": "owner"}])


@pytest.fixture
def added(capsys, monkeypatch, grafient_home):
    monkeypatch.setenv("GRAFIENT_NOW", NOW.isoformat())
    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=team().handler)
        assert run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=GOOD_KEY).code == 0


def write(sql: str, **values: object) -> None:
    """What a teammate with write access (or another program) puts in the database."""
    db = Database(Settings.from_env())
    with db.engine.begin() as connection:
        connection.execute(text(sql), values)


def no_escape(*outputs: str) -> None:
    for output in outputs:
        assert "\x1b" not in output and "\x07" not in output, output


# ------------------------------------------------------------------ the CLI


@pytest.mark.parametrize("label", ESCAPES)
def test_a_label_from_the_database_reaches_every_cli_output_as_text(added, capsys, monkeypatch, label: str) -> None:
    write("UPDATE integration SET label = :label", label=label)
    write("UPDATE syncrun SET outcome = 'failed', error = :error", error="boom " + label)
    listed = run_cli(capsys, monkeypatch, "list")
    assert visible(label) in listed.out
    as_json = run_cli(capsys, monkeypatch, "list", "--format", "json")
    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=team().handler)
        synced = run_cli(capsys, monkeypatch, "sync")
    assert synced.code == 0 and synced.out.startswith(visible(label) + ":"), synced
    removed = run_cli(capsys, monkeypatch, "remove", "1", "--yes")
    assert visible(label) in removed.out
    no_escape(listed.out, listed.err, as_json.out, synced.out, synced.err, removed.out)


def test_an_unknown_sync_outcome_is_a_sentence(added, capsys, monkeypatch) -> None:
    write("UPDATE syncrun SET outcome = :outcome, error = NULL", outcome="\x1b[2Jweird")
    listed = run_cli(capsys, monkeypatch, "list", "--format", "json")
    [row] = json.loads(listed.out)
    assert listed.code == 0 and row["status"] == "unknown"
    assert row["error"].startswith("the sync log's last entry has an outcome this Grafient does not know")
    table = run_cli(capsys, monkeypatch, "list")
    assert table.code == 0 and "unknown" in table.out
    no_escape(listed.out, table.out)


@pytest.mark.parametrize("pace", ["nan", "inf", "-5", "1e309", "lots", "9" * 40])
def test_a_team_pace_this_grafient_cannot_use_is_a_sentence(added, capsys, monkeypatch, pace: str) -> None:
    from grafient_tui.store.team import apply, read_rpm

    assert read_rpm(pace) is None
    settings = apply(Settings.from_env(), {"rpm.cursor": pace, "plan": "pro"})
    problem = settings.team_problems["rpm.cursor"]
    assert problem.startswith("the team's pace for cursor in the database is not a number")
    assert settings.cursor_rpm == Settings.from_env().cursor_rpm  # not applied


def test_an_unknown_team_plan_is_a_sentence() -> None:
    from grafient_tui.store.team import apply

    settings = apply(Settings.from_env({"GRAFIENT_HOME": "/nonexistent"}), {"plan": "[b]mega\x1b[2J"})
    assert settings.team_plan is None
    assert "\x1b" not in settings.team_problems["plan"]
    assert settings.team_problems["plan"].startswith("the team's plan in the database is not free, pro or ultimate")


@pytest.mark.parametrize(
    "column, value",
    [("period", "weekly"), ("measure", "tokens"), ("amount_micro", 0), ("amount_micro", -5), ("amount_micro", 10**18)],
)
def test_a_budget_this_grafient_cannot_use_is_left_out_with_a_sentence(
    added, capsys, monkeypatch, column: str, value: object
) -> None:
    assert run_cli(capsys, monkeypatch, "budget", "set", "all", "500").code == 0
    assert run_cli(capsys, monkeypatch, "budget", "set", "Eng", "100").code == 0
    write(f"UPDATE budget SET {column} = :value WHERE integration_id IS NULL", value=value)
    listed = run_cli(capsys, monkeypatch, "budget", "list")
    checked = run_cli(capsys, monkeypatch, "check", "--format", "json")
    assert listed.code == 0 and "Eng" in listed.out and "all" not in listed.out.split("\n", 1)[1]
    assert "budget 1 in the database has a period, measure or amount this Grafient cannot use" in listed.err
    assert checked.code == 0 and [s["target"] for s in json.loads(checked.out)] == ["Eng"]
    assert "unexpected error" not in listed.err + checked.err


@pytest.mark.parametrize(
    "label, words",
    [
        ("Eng [/]", "square brackets"),
        ("[@click=app.bell]Ops", "square brackets"),
        ("Ops\ufe0f", "characters that show nothing"),
        ("\u3164", "characters that show nothing"),
        ("Fin\u2800", "characters that show nothing"),
        ("Eng\x1b[2J", "control characters"),
    ],
)
def test_add_refuses_a_label_that_is_markup_or_shows_nothing(capsys, monkeypatch, grafient_home, label, words) -> None:
    result = run_cli(capsys, monkeypatch, "add", "cursor", "--label", label, stdin=GOOD_KEY)
    assert result.code == 2 and words in result.err, result
    no_escape(result.err)


# ------------------------------------------------------------------ the app


class RecordingApp(GrafientApp):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.notes: list[str] = []

    def notify(self, message: str, *args, **kwargs) -> None:
        self.notes.append(str(message) + " " + str(kwargs.get("title", "")))
        super().notify(message, *args, **kwargs)


@pytest.mark.parametrize("label", ["Eng [/]", "[@click=app.bell]Ops", "[b]x", OSC52])
async def test_a_label_from_the_database_in_the_palette_is_text(added, label: str) -> None:
    """`Eng [/]` crashed the app when ctrl+p opened (MarkupError) and `[@click=app.bell]Ops` became an
    action: a label is shown as the characters it is, and is found by them."""
    write("UPDATE integration SET label = :label", label=label)
    app = RecordingApp(Settings.from_env(), transport=httpx.MockTransport(team().handler), now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await settle(app, pilot)
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        await pilot.press(*"Open")
        await settle(app, pilot)
        results = palette.query_one(CommandList)
        prompts = [results.get_option_at_index(i).prompt for i in range(results.option_count)]
        mine = [p for p in prompts if isinstance(p, Content) and p.plain.startswith("Open ")]
        assert [p.plain.split("\n")[0] for p in mine] == [f"Open {visible(label)}"]  # the characters it is
        assert not any("@click" in str(span.style) for p in mine for span in p.spans)  # no action made of it
        assert "\x1b" not in app.export_screenshot()
    assert app.return_code in (None, 0)


async def test_a_label_from_the_database_in_the_delete_dialog_and_toasts_is_text(added) -> None:
    write("UPDATE integration SET label = :label", label=OSC52 + "[/]")
    app = RecordingApp(Settings.from_env(), transport=httpx.MockTransport(team().handler), now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("r")  # a force sync: its toast names the integration
        await settle(app, pilot)
        await pilot.press("d")
        await settle(app, pilot)
        dialog = app.screen.query_one(".dialog")
        title = Content.from_markup(str(dialog.border_title)).plain  # the title as it is drawn
        assert title == f"Delete {visible(OSC52 + '[/]')}?"
        await pilot.press("y")
        await settle(app, pilot)
    assert app.notes and all("\x1b" not in note and "\x07" not in note for note in app.notes)
    assert any(visible(OSC52 + "[/]") in note for note in app.notes)


async def test_an_unknown_outcome_in_the_app_is_a_sentence(added) -> None:
    from grafient_tui.service import GrafientService
    from grafient_tui.tui.syncing import sync_line

    write("UPDATE syncrun SET outcome = 'exploded'")
    [listing] = GrafientService(Settings.from_env()).list_integrations()
    app = RecordingApp(Settings.from_env(), transport=httpx.MockTransport(team().handler), now=lambda: NOW)
    async with app.run_test(size=(120, 40)):
        line = sync_line(app.live, listing.id, app_status(listing), app.now())
    assert line.state == "error" and line.text.startswith("✗ sync state unknown")
    assert (
        line.sentence
        == "The sync log's last entry has an outcome this Grafient does not know; sync again to replace it."
    )


def app_status(listing):
    from grafient_tui.figures import SyncStatus

    return SyncStatus(status=listing.status, last_sync=listing.last_sync, error=listing.error)


def test_who_holds_a_sync_lock_is_named_from_the_sync_log_as_bounded_text() -> None:
    """On a shared database the sentence for a sync that gave up names the holder from the sync log's
    host, user and trigger, which any syncer writes: escapes are shown as text, a name is cut, and a
    trigger this Grafient does not know is not repeated."""
    from grafient_tui.store.server import Holder
    from grafient_tui.sync.lock import blocked_sentence

    since = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    holder = Holder(
        pid=7, role="ci", application="grafient", host=CLEAR * 2_000, user=OSC52, trigger=TITLE, since=since
    )
    sentence = blocked_sentence("Eng", holder, 2.0)
    assert "\x1b" not in sentence and "\x07" not in sentence
    assert visible(OSC52) in sentence and "pwned" not in sentence  # an unknown trigger: "a sync"
    assert "a sync started 2026-11-24 09:00 UTC" in sentence and len(sentence) < 400
    known = Holder(pid=7, role="ci", application="grafient", host="ci-1", user="ana", trigger="daily", since=since)
    assert "ana on ci-1 (a daily sync started 2026-11-24 09:00 UTC)" in blocked_sentence("Eng", known, 2.0)
