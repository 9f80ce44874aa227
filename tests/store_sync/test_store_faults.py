"""The local store under stress: a full disk, and stored keys that cannot be decrypted.

A full disk is simulated with SQLite's own size limit, `PRAGMA max_page_count`, set on every
new connection; the API is faked at the transport with respx. "Unchanged" is checked on every
row of the data tables read with plain sqlite3 (tests/oracle.py), ciphertexts included.
"""

from __future__ import annotations

import asyncio
import base64
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import respx
from sqlalchemy import event
from sqlalchemy.engine import Engine

from grafient_tui.config import Settings
from grafient_tui.providers.cursor.fake import FakeCursorTeam, make_events
from grafient_tui.store.db import Database
from grafient_tui.store.vault import Vault, new_master_key_b64
from grafient_tui.sync.engine import run_sync
from tests.conftest import GOOD_KEY
from tests.helpers import run_cli
from tests.oracle import (
    all_rows,
    expected_snapshot,
    integrity,
    restrict,
    store_snapshot,
    utc_ms,
)

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
NOW_TEXT = "2026-11-24T10:30:00Z"
TODAY = NOW.date()
OTHER_KEY = "crsr_" + "5e6f7a8b" * 8
DATA_TABLES = ("dailycost", "dailymodelcost", "dailymembercost", "integration")


@pytest.fixture(autouse=True)
def pinned_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFIENT_NOW", NOW_TEXT)


@pytest.fixture
def events() -> list[dict]:
    events = make_events(
        seed=31,
        start=TODAY - timedelta(days=365),
        days=366,
        per_day=30,
        members=["a@x.io", "b@x.io", "c@x.io"],
        models=["gpt-5", "claude-4.5-sonnet", "o3"],
    )
    return [e for e in events if int(e["timestamp"]) <= utc_ms(NOW)]


@pytest.fixture
def api(events: list[dict]) -> Iterator[respx.MockRouter]:
    # two teams with the same usage but different people: one key = one team, and a team is added once
    teams = {
        key: FakeCursorTeam(
            api_key=key, events=events, members=[{"name": "Owner", "email": f"owner{i}@x.io", "role": "owner"}]
        )
        for i, key in enumerate((GOOD_KEY, OTHER_KEY))
    }

    def handler(request):
        auth = request.headers.get("authorization", "")
        team = next((t for t in teams.values() if t.expected_authorization == auth), teams[GOOD_KEY])
        return team.handler(request)

    with respx.mock(base_url="https://api.cursor.com", assert_all_called=False) as router:
        router.route().mock(side_effect=handler)
        yield router


def database(home: Path) -> Path:
    return home / "grafient.db"


def data_rows(home: Path) -> dict[str, list[tuple]]:
    rows = all_rows(database(home))
    return {t: rows[t] for t in DATA_TABLES}


def one_line(text: str) -> bool:
    return len(text.splitlines()) == 1 and text.endswith("\n") and "Traceback" not in text


def page_count(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute("PRAGMA page_count").fetchone()[0]
    finally:
        con.close()


@contextmanager
def disk_full_at(limit: int, engine: object = Engine) -> Iterator[None]:
    """Every new connection of `engine` (default: every engine) may not grow the file past `limit` pages."""

    def cap(dbapi_connection, _record) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {limit}")

    event.listen(engine, "connect", cap)
    try:
        yield
    finally:
        event.remove(engine, "connect", cap)


# ------------------------------------------------------------------ disk full


@pytest.mark.sqlite_only
def test_a_full_disk_fails_the_sync_with_one_sentence_and_keeps_earlier_days(
    capsys,
    monkeypatch,
    api,
    events,
    grafient_home: Path,
) -> None:
    # a month stored while the disk had room
    assert run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=GOOD_KEY).code == 0
    month = store_snapshot(database(grafient_home))
    assert len(month[0]) == 31
    assert run_cli(capsys, monkeypatch, "plan", "pro").code == 0  # the next sync wants 334 more days

    # Whichever window comes first, the sync stops at the first one that needs the file to grow;
    # a window it did write (the two most recent days are always fetched again) holds the same
    # values, so every stored value must be as before, and the older days still missing.
    settings = Settings.from_env()
    db = Database(settings)
    db.write_engine.dispose()  # so the limit applies to the connections the sync opens
    with disk_full_at(page_count(database(grafient_home)), db.write_engine):
        result = asyncio.run(run_sync(db, Vault(settings), settings, 1, "daily", now=NOW))
    db.dispose()
    assert result.outcome == "failed" and result.requests >= 1 and result.days_written < 334  # it failed writing
    assert result.error.startswith("disk full: ") and "\n" not in result.error
    assert store_snapshot(database(grafient_home)) == month
    assert integrity(database(grafient_home)) == "ok"

    # the command line: the same sentence on the integration's line, exit 1, nothing else said
    with disk_full_at(page_count(database(grafient_home))):
        cli = run_cli(capsys, monkeypatch, "sync")
    assert cli.code == 1
    assert one_line(cli.out) and re.match(r"Eng: \d+ days written, .*, failed: disk full: ", cli.out), cli.out
    assert cli.err == ""
    assert store_snapshot(database(grafient_home)) == month

    # room again: the next sync completes the year, and the month stored before is untouched
    done = run_cli(capsys, monkeypatch, "sync")
    assert done.code == 0, done
    year = store_snapshot(database(grafient_home))
    month_days = {row[0] for row in month[0]}
    assert restrict(year, month_days - {TODAY}) == restrict(month, month_days - {TODAY})
    want = expected_snapshot(events, first=TODAY - timedelta(days=365), last=TODAY - timedelta(days=1), today=TODAY)
    assert restrict(year, month_days - {TODAY}) == restrict(want, month_days - {TODAY})
    assert restrict(year, set(want_days := {r[0] for r in want[0]})) == want and len(want_days) == 365


# ------------------------------------------------------------------ keys that cannot be decrypted


def two_integrations(capsys, monkeypatch) -> None:
    assert run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=GOOD_KEY).code == 0
    assert run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Ops", stdin=OTHER_KEY).code == 0


def break_vault(how: str, home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Damage the vault one way; return the sentence `grafient sync` must give."""
    key_file = home / "master.key"
    if how == "missing master key file":
        key_file.unlink()
        return f"cannot decrypt stored keys: the master key file {key_file} is missing"
    if how == "wrong GRAFIENT_MASTER_KEY":
        monkeypatch.setenv("GRAFIENT_MASTER_KEY", new_master_key_b64())
        return "cannot decrypt stored keys: the master key does not match"
    if how == "GRAFIENT_MASTER_KEY not base64":
        monkeypatch.setenv("GRAFIENT_MASTER_KEY", "not base64!")
        return "cannot decrypt stored keys: GRAFIENT_MASTER_KEY is not valid base64"
    if how == "master key of the wrong length":
        monkeypatch.setenv("GRAFIENT_MASTER_KEY", base64.b64encode(b"x" * 16).decode())
        return "cannot decrypt stored keys: GRAFIENT_MASTER_KEY must hold 32 bytes, not 16"
    if how == "master key file garbled":
        key_file.write_text("garbage\n")
        return f"cannot decrypt stored keys: {key_file} is not valid base64"
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how",
    [
        "missing master key file",
        "wrong GRAFIENT_MASTER_KEY",
        "GRAFIENT_MASTER_KEY not base64",
        "master key of the wrong length",
        "master key file garbled",
    ],
)
@pytest.mark.sqlite_only
def test_an_unusable_master_key_fails_every_sync_with_its_sentence_and_changes_nothing(
    capsys,
    monkeypatch,
    api,
    grafient_home: Path,
    how: str,
) -> None:
    """Each integration's line gives the sentence and the command exits 1; nothing is sent, the
    sync log records the failure (so `list` shows it), and every data row and ciphertext is
    unchanged byte for byte."""
    two_integrations(capsys, monkeypatch)
    before = data_rows(grafient_home)
    sentence = break_vault(how, grafient_home, monkeypatch)
    requests = len(api.calls)
    result = run_cli(capsys, monkeypatch, "sync", "--force")
    assert result.code == 1 and result.err == ""
    lines = result.out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["Eng", "Ops"]
    for line in lines:
        assert ", failed: " + sentence in line, line
        assert "Traceback" not in line
    assert len(api.calls) == requests  # nothing was sent without a key
    assert data_rows(grafient_home) == before
    listed = run_cli(capsys, monkeypatch, "list", "--format", "json")
    assert listed.code == 0 and '"status": "failed"' in listed.out
    assert GOOD_KEY not in result.out + listed.out and OTHER_KEY not in result.out + listed.out


@pytest.mark.sqlite_only
def test_adding_with_a_missing_master_key_never_mints_a_new_one(
    capsys,
    monkeypatch,
    api,
    grafient_home: Path,
) -> None:
    two_integrations(capsys, monkeypatch)
    before = data_rows(grafient_home)
    (grafient_home / "master.key").unlink()
    result = run_cli(capsys, monkeypatch, "add", "cursor", "--label", "New", "--no-backfill", stdin=GOOD_KEY)
    assert result.code == 2 and one_line(result.err)
    assert result.err.startswith("grafient: cannot decrypt stored keys: the master key file")
    assert not (grafient_home / "master.key").exists()
    assert data_rows(grafient_home) == before


@pytest.mark.parametrize(
    "how", ["tampered ciphertext", "ciphertext copied from another row", "truncated ciphertext", "unknown scheme"]
)
@pytest.mark.sqlite_only
def test_a_damaged_stored_key_fails_only_its_integration(
    capsys,
    monkeypatch,
    api,
    grafient_home: Path,
    how: str,
) -> None:
    two_integrations(capsys, monkeypatch)
    with sqlite3.connect(database(grafient_home)) as con:
        eng, ops = (bytes(r[0]) for r in con.execute("SELECT key_ciphertext FROM integration ORDER BY id"))
        if how == "tampered ciphertext":
            damaged = ops[:20] + bytes([ops[20] ^ 0x01]) + ops[21:]
        elif how == "ciphertext copied from another row":
            damaged = eng
        elif how == "truncated ciphertext":
            damaged = ops[:5]
        else:
            damaged = ops
            con.execute("UPDATE integration SET key_scheme = 'rot13-v0' WHERE id = 2")
        con.execute("UPDATE integration SET key_ciphertext = ? WHERE id = 2", (damaged,))
    con.close()
    before = data_rows(grafient_home)
    ops_before = store_snapshot(database(grafient_home), 2)
    result = run_cli(capsys, monkeypatch, "sync", "--force")
    assert result.code == 1 and result.err == ""
    eng_line, ops_line = result.out.splitlines()
    assert eng_line.startswith("Eng: ") and eng_line.endswith(", ok")  # one bad row does not stop the others
    expected = (
        "cannot decrypt stored keys: unknown encryption scheme 'rot13-v0'"
        if how == "unknown scheme"
        else "cannot decrypt stored keys: the master key does not match, or the stored key was altered or copied "
        "from another integration"
    )
    assert ops_line.startswith("Ops: 0 days written, 0 API calls, failed: " + expected), ops_line
    after = data_rows(grafient_home)
    assert list(after["integration"]) == list(before["integration"])  # ciphertexts byte for byte
    assert store_snapshot(database(grafient_home), 2) == ops_before
    assert GOOD_KEY not in result.out and OTHER_KEY not in result.out
