"""Text from an API is data: never markup, never terminal control, never a spreadsheet formula.

A hostile team's model names and member emails are served through the real client and sync
engine (httpx.MockTransport), then shown by the app (through run_test) and by every CLI format.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from textual.widgets import DataTable

from grafient_tui.config import Settings
from grafient_tui.providers.cursor.fake import FakeCursorTeam
from grafient_tui.tui.app import GrafientApp
from grafient_tui.untrusted import csv_cell, visible
from tests.conftest import GOOD_KEY
from tests.helpers import run_cli, settle

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
CLICK = "[@click=app.screenshot('master.key','.')]gpt-5[/]"
BROKEN = "claude-[/bold]-sonnet"
LINK = "[link=https://evil.example]o3[/link]"
OSC52 = "mod\x1b]52;c;ZXZpbA==\x1b\\el"
CLEAR = "x\x1b[2Jy"
FORMULA = '=HYPERLINK("http://evil.example","x")'
HOSTILE_MODELS = [CLICK, BROKEN, LINK, OSC52, CLEAR, FORMULA]
HOSTILE_EMAILS = ["+cmd|' /C calc'!A0@x.io", "=1+1@x.io", "\u202eevil@x.io", "a\x1b]0;title\x07@x.io"]


def stored(name: str) -> str:
    """A name as the store keeps it: NUL and the other C0 control characters (and DEL) dropped, on
    SQLite as on PostgreSQL (which cannot store NUL); everything else exactly as sent."""
    return "".join(ch for ch in name if ord(ch) >= 0x20 and ch != "\x7f")


def hostile_team() -> FakeCursorTeam:
    ms = int((NOW - timedelta(days=1)).timestamp() * 1000)
    events = [
        {
            "timestamp": str(ms + i),
            "userEmail": HOSTILE_EMAILS[i % len(HOSTILE_EMAILS)],
            "model": model,
            "kind": "Usage-based",
            "isChargeable": True,
            "chargedCents": 10 + i,
        }
        for i, model in enumerate(HOSTILE_MODELS)
    ]
    return FakeCursorTeam(api_key=GOOD_KEY, events=events, members=[{"name": "A", "email": "a@x.io", "role": "owner"}])


@pytest.fixture
def synced(capsys, monkeypatch, grafient_home):
    import respx

    monkeypatch.setenv("GRAFIENT_NOW", NOW.isoformat())
    team = hostile_team()
    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=team.handler)
        assert run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=GOOD_KEY).code == 0
    return team


def test_visible_escapes_every_control_and_format_character() -> None:
    assert visible(OSC52) == "mod\\x1b]52;c;ZXZpbA==\\x1b\\el"
    assert visible("\u202eevil") == "\\u202eevil" and visible("a\u200bb") == "a\\u200bb"
    assert visible("line\nbreak\u2028") == "line\\nbreak\\u2028"
    assert visible("plain é 漢字") == "plain é 漢字"


@pytest.mark.parametrize("cell", ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_that_could_be_formulas_are_neutralised(cell: str) -> None:
    assert str(csv_cell(cell)).startswith("'")
    assert csv_cell("gpt-5") == "gpt-5" and csv_cell(12.5) == 12.5
    assert csv_cell("-0.25") == "-0.25" and csv_cell("+3") == "+3"  # our own exact numbers stay numbers


def test_no_cli_format_writes_an_escape_or_a_formula(synced, capsys, monkeypatch) -> None:
    for by in ("day", "model", "member"):
        for fmt in ("table", "json", "csv"):
            result = run_cli(capsys, monkeypatch, "report", "--by", by, "--format", fmt)
            assert result.code == 0, result
            assert "\x1b" not in result.out and "\x07" not in result.out and "\u202e" not in result.out, (by, fmt)
            if fmt == "csv":
                for row in csv.reader(io.StringIO(result.out)):
                    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row), row
            if fmt == "json" and by == "model":  # the data itself is kept exactly, as JSON escapes
                models = {m["model"] for m in json.loads(result.out)["integrations"][0]["models"]}
                assert models == {stored(m) for m in HOSTILE_MODELS}
    listed = run_cli(capsys, monkeypatch, "list")
    assert "\x1b" not in listed.out


async def test_the_app_shows_markup_and_escapes_as_literal_text(synced) -> None:
    settings = Settings.from_env()
    key_file = settings.master_key_file
    before = key_file.read_bytes()
    app = GrafientApp(settings, transport=httpx.MockTransport(hostile_team().handler), now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("enter")  # the detail screen: models and members tables
        await settle(app, pilot)
        table = app.screen.query_one("#models", DataTable)
        shown = {str(table.get_row_at(i)[0]) for i in range(table.row_count)}
        # `[/bold]` did not crash the screen; a long name gives way with … (the figures never), as text
        for model in HOSTILE_MODELS:
            want = visible(stored(model))
            assert any(s == want or (s.endswith("…") and want.startswith(s[:-1])) for s in shown), want
        # click every model row, on the name: no action runs (the master key is untouched)
        for row in range(table.row_count):
            await pilot.click("#models", offset=(2, row + 1))
            await pilot.pause()
        members = app.screen.query_one("#members", DataTable)
        emails = {str(members.get_row_at(i)[0]) for i in range(members.row_count)}
        assert {visible(stored(e)) for e in HOSTILE_EMAILS} <= emails
        screen = app.export_screenshot()
        assert "\x1b" not in screen and 'evil.example"' not in screen.split("<a ")[0]
        assert 'href="https://evil.example"' not in screen  # no hyperlink was made of a name
    assert key_file.read_bytes() == before
