"""A tampered or hostile row in a SQLite home (written with the sqlite3 module, as a user's shell or
another program could): every read command exits 0 (the value was harmless and is shown literally)
or 2 with one sentence naming the table, row and column, never a traceback, and nothing stored
changes. The sweep over every column of the schema is slow (`-m slow`); a representative subset
runs by default. store/row_check.py is the mechanism."""

from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from grafient_tui.store.row_check import COLUMNS, MAX_KEY_SHOWN
from tests.helpers import run_cli

pytestmark = pytest.mark.sqlite_only

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SECRET = "whsec-hostile-rows-signing-secret"

READS = (
    ("list",),
    ("list", "--format", "json"),
    ("report",),
    ("report", "--format", "json"),
    ("report", "--format", "csv"),
    ("report", "--by", "model"),
    ("report", "--by", "member", "--format", "json"),
    ("report", "--format", "focus"),
    ("report", "--month", "2026-11"),
    ("check",),
    ("budget", "list"),
    ("anomalies",),
    ("metrics",),
    ("alert", "list"),
)

LONG = "\x1b[31m" + "y" * 5000  # a text longer than any cap, with a terminal escape
HOSTILE = {
    "garbage": "garbage",
    "float": 1.5,
    "huge": 1e30,  # 10^30 does not fit SQLite's integers: it is stored as a float
    "negative": -5,
    "seven": 7,
    "null": None,
    "blob": b"\xff\x00\xfe",
    "long": LONG,
    "overflowing": 2**62,  # a whole number, but past any day Grafient stores: the reports' SUM() overflows
}
# Python's names for its exceptions, which no sentence may carry.
EXCEPTION_NAMES = ("Traceback", "Error(", "ValueError", "TypeError", "KeyError", "AttributeError", "OverflowError")


def _seed(home: Path) -> None:
    from grafient_tui.config import Settings
    from grafient_tui.secret import Secret
    from grafient_tui.service import GrafientService
    from tests.factories import seed_history

    settings = Settings.from_env()
    settings.ensure_dirs()
    service = GrafientService(settings)
    db, vault = service.db, service.vault
    cursor = seed_history(
        db,
        vault,
        label="Eng",
        until=NOW.date(),
        days=70,
        models=["gpt-5", "claude-4"],
        members=["ada@example.com", "bob@example.com"],
        seed=1,
        synced_at=NOW,
    )
    seed_history(
        db,
        vault,
        label="Research",
        until=NOW.date(),
        days=10,
        models=["opus"],
        members=["cy@example.com"],
        seed=2,
        synced_at=NOW,
        provider="anthropic",
    )
    service.set_budget("all", "100", now=NOW)
    service.set_budget("Eng", "50", period="cycle", now=NOW)
    service.add_alert_channel("webhook", "Hook", secret=Secret(SECRET), url="http://127.0.0.1:9/hook", now=NOW)
    service.close()
    stamp = NOW.strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(home / "grafient.db") as con:  # rows no read above writes: the sweep reaches them too
        con.execute("UPDATE integration SET cycle_start = '2026-11-15' WHERE id = ?", (cursor,))
        con.execute(
            "INSERT INTO membercyclespend (integration_id, member, name, spend_micro, on_demand_micro, limit_micro,"
            " synced_at) VALUES (?, 'ada@example.com', 'Ada', 5000000, 1000000, 9000000, ?)",
            (cursor, stamp),
        )
        con.execute(
            "INSERT INTO alertsent (budget_id, period_start, threshold, sent_at) VALUES (1, '2026-12-01', '50', ?)",
            (stamp,),
        )
        con.execute(
            "INSERT INTO alertdelivery (channel_id, event_key, state, attempts, claimed_at, lease_until, finished_at,"
            " outcome) VALUES (1, 'budget:1:2026-12-01:50', 'sent', 1, ?, ?, ?, 'delivered')",
            (stamp, stamp, stamp),
        )
    con.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home seeded once for the module: two integrations' history, budgets, an alert channel, a
    member's cycle spend, an alert sent and delivered."""
    home = tmp_path_factory.mktemp("hostile-rows") / "home"
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("GRAFIENT_"):
                patch.delenv(name)
        patch.setenv("GRAFIENT_HOME", str(home))
        _seed(home)
    return home


@pytest.fixture
def home(template: Path, grafient_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(template, grafient_home, dirs_exist_ok=True)
    monkeypatch.setenv("GRAFIENT_NOW", NOW.isoformat())
    return grafient_home


# What `check` writes as it tells the alert channel (nothing listens on the discard port): its
# deliveries and the channel's last outcome. Every other value, and every row seeded, stays as it was.
DELIVERY_NOTES = {"alertchannel": ("last_delivery_at", "last_outcome", "last_ok")}
SEEDED_ONLY = ("alertdelivery", "alertsent")


def rows_of(database: Path) -> dict[str, list[tuple]]:
    found = {}
    with sqlite3.connect(database) as con:
        for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            names = [row[1] for row in con.execute(f"PRAGMA table_info({table})")]
            kept = ", ".join(n for n in names if n not in DELIVERY_NOTES.get(table, ()))
            where = " WHERE rowid = 1" if table in SEEDED_ONLY else ""
            found[table] = sorted(con.execute(f"SELECT rowid, {kept} FROM {table}{where}").fetchall(), key=repr)
    con.close()
    return found


def tamper(database: Path, table: str, column: str, value: object) -> bool:
    """Write `value` into `column` of the table's first row; False when SQLite itself refuses it."""
    con = sqlite3.connect(database)
    try:
        with con:
            con.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = (SELECT MIN(rowid) FROM {table})", (value,))
    except sqlite3.Error:  # a NOT NULL, the rowid alias's type: the database refused the write
        return False
    finally:
        con.close()
    return True


def check_reads(capsys, monkeypatch, home: Path, table: str, column: str, value: object) -> list[int]:
    database = home / "grafient.db"
    if not tamper(database, table, column, value):
        pytest.skip(f"SQLite refuses this value in {table}.{column}")
    before = rows_of(database)
    codes = []
    for args in READS:
        result = run_cli(capsys, monkeypatch, *args)
        said = " ".join(args)
        assert result.code in (0, 2, 3, 4), f"{said}: exit {result.code}: {result.err}"
        assert not any(name in result.err for name in EXCEPTION_NAMES), f"{said}: {result.err}"
        assert "unexpected error" not in result.err, f"{said}: {result.err}"
        assert "y" * 600 not in result.out + result.err, f"{said}: the raw value was shown uncapped"
        assert "\x1b" not in result.out + result.err, f"{said}: an escape from the database reached the terminal"
        assert SECRET not in result.out + result.err
        if result.code == 2:
            lines = result.err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("grafient: "), f"{said}: {result.err}"
        codes.append(result.code)
    assert rows_of(database) == before  # nothing stored changed, the damaged row included
    return codes


DAMAGED = "the database's table {table} has a damaged value in row {row}, column {column} ({what}"

# One damaged value per kind of column and per table the reads turn into Python.
REPRESENTATIVE = [
    ("integration", "cycle_start", "garbage", "1", "not a date"),
    ("integration", "created_at", "seven", "1", "not a time"),
    ("integration", "team_members", "float", "1", "not a whole number"),
    ("integration", "provider", "blob", "1", "not text"),
    ("dailycost", "cost_micro", "huge", "1", "not a whole number"),
    ("dailycost", "complete", "seven", "1", "not true or false"),
    ("dailymodelcost", "day", "garbage", "1", "not a date"),
    ("dailymembercost", "requests", "garbage", "1", "not a whole number"),
    ("syncrun", "started_at", "garbage", "1", "not a time"),
    ("budget", "amount_micro", "garbage", "1", "not a whole number"),
    ("alertchannel", "created_at", "garbage", "1", "not a time"),
    ("alertchannel", "last_ok", "seven", "1", "not true or false"),
    ("membercyclespend", "spend_micro", "float", "1", "not a whole number"),
    ("teamsetting", "updated_at", "garbage", "vault.master_key_fingerprint", "not a time"),
    ("integration", "label", "long", "1", "longer than the 64 characters Grafient writes"),
    ("dailycost", "cost_micro", "overflowing", "1", "beyond the 100,000,000,000,000 Grafient writes at most"),
    ("dailymodelcost", "input_tokens", "overflowing", "1", "beyond the 10,000,000,000,000 Grafient writes at most"),
    ("dailymodelcost", "model", "long", "1", "longer than the 255 characters Grafient writes"),
]


@pytest.mark.parametrize(("table", "column", "value", "row", "what"), REPRESENTATIVE)
def test_a_damaged_value_is_one_sentence_naming_its_row(
    capsys, monkeypatch, home, table: str, column: str, value: str, row: str, what: str
) -> None:
    codes = check_reads(capsys, monkeypatch, home, table, column, HOSTILE[value])
    assert codes == [2] * len(READS)
    result = run_cli(capsys, monkeypatch, "report")
    assert DAMAGED.format(table=table, row=row, column=column, what=what) in result.err


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("syncrun", "error", "long"),  # text of the right type: shown literally, made visible, capped
        ("alertchannel", "last_outcome", "long"),
        ("dailycost", "requests", "negative"),  # a whole number: shown as it is
        ("syncrun", "outcome", "garbage"),  # known values are the reads' own business: "unknown"
        ("budget", "period", "garbage"),  # left out with its own sentence
        ("integration", "provider", "garbage"),
    ],
)
def test_a_value_of_the_right_type_is_read_or_refused_by_its_own_rule(
    capsys, monkeypatch, home, table: str, column: str, value: str
) -> None:
    check_reads(capsys, monkeypatch, home, table, column, HOSTILE[value])


def test_a_key_of_hostile_text_is_shown_visible_and_capped(capsys, monkeypatch, home) -> None:
    database = home / "grafient.db"
    with sqlite3.connect(database) as con:
        con.execute("UPDATE teamsetting SET name = ?, updated_at = 'garbage'", ("\x1b[2J" + "k" * 500,))
    con.close()
    result = run_cli(capsys, monkeypatch, "report")
    assert result.code == 2 and "\x1b" not in result.err and "k" * (MAX_KEY_SHOWN + 1) not in result.err
    assert "table teamsetting has a damaged value in row \\x1b[2J" in result.err or "row ␛" in result.err


def test_the_rules_cover_every_column_of_the_schema() -> None:
    from grafient_tui.store.models import SQLModel

    tables = {t.name: {c.name for c in t.columns} for t in SQLModel.metadata.sorted_tables}
    assert {table: {c.name for c in columns} for table, (_, columns) in COLUMNS.items()} == tables


def _every_column() -> list[tuple[str, str, str]]:
    cases = []
    for table, (_, columns) in COLUMNS.items():
        for column in columns:
            values = ("garbage", "huge", "blob", "null", "seven", "long", "overflowing")
            cases += [(table, column.name, value) for value in values]
    return cases


@pytest.mark.slow
@pytest.mark.parametrize(("table", "column", "value"), _every_column())
def test_every_column_holds_any_value_without_a_crash(
    capsys, monkeypatch, home, table: str, column: str, value: str
) -> None:
    check_reads(capsys, monkeypatch, home, table, column, HOSTILE[value])


@pytest.mark.parametrize("day", ["2026-02-30", "2026-13-01", "20261201", 20261201, "2026-12-01 00:00:00"])
def test_a_day_sqlite_would_read_as_another_is_damaged(capsys, monkeypatch, home, day: object) -> None:
    codes = check_reads(capsys, monkeypatch, home, "dailycost", "day", day)
    assert set(codes) == {2}


def test_a_store_found_whole_is_searched_again_once_it_changes(capsys, monkeypatch, home) -> None:
    """The search is skipped while the SQLite files are as they were when it found nothing (a report
    between syncs does not pay it); a write of any kind since is searched again."""
    import stat

    from grafient_tui.store.row_check import CHECKED_SUFFIX

    database = home / "grafient.db"
    assert run_cli(capsys, monkeypatch, "report").code == 0
    stamp = database.with_name(database.name + CHECKED_SUFFIX)
    assert stamp.is_file() and stat.S_IMODE(stamp.stat().st_mode) == 0o600
    assert run_cli(capsys, monkeypatch, "report").code == 0
    assert tamper(database, "dailymembercost", "day", "garbage")
    result = run_cli(capsys, monkeypatch, "report", "--by", "member")
    assert result.code == 2 and "table dailymembercost has a damaged value in row 1, column day" in result.err
