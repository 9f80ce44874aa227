"""A hostile row in a shared PostgreSQL database: the server types its columns, so what a teammate
(or another program) can write that Grafient never does is text: longer than Grafient writes, or full
of escapes. The reads say so in one sentence naming the table, row and column (exit 2), or show the
text made visible and cut (exit 0); nothing stored changes (store/row_check.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from tests.factories import seed_history
from tests.helpers import run_cli

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
LONG = "\x1b[31m" + "y" * 5000
READS = (
    ("list",),
    ("report", "--format", "json"),
    ("report", "--by", "model"),
    ("report", "--format", "focus"),
    ("check",),
    ("budget", "list"),
    ("anomalies",),
    ("metrics",),
    ("alert", "list"),
)


@pytest.fixture
def seeded(pg, store, capsys, monkeypatch):
    db, vault = store
    seed_history(
        db, vault, label="Eng", until=NOW.date(), days=20, models=["m"], members=["a@x.io"], seed=4, synced_at=NOW
    )
    monkeypatch.setenv("GRAFIENT_NOW", NOW.isoformat())
    assert run_cli(capsys, monkeypatch, "budget", "set", "all", "100").code == 0
    return db


def write(db, sql: str, **values: object) -> None:
    with db.engine.begin() as connection:
        connection.execute(text(sql), values)


def everything(db) -> dict[str, list[tuple]]:
    with db.engine.connect() as connection:
        tables = ("integration", "dailycost", "dailymodelcost", "dailymembercost", "syncrun", "budget", "teamsetting")
        return {t: sorted(map(tuple, connection.execute(text(f"SELECT * FROM {t}"))), key=repr) for t in tables}


@pytest.mark.parametrize(
    ("table", "column", "row", "limit"),
    [
        ("integration", "label", "1", 64),
        ("dailymodelcost", "model", "1", 255),
        ("integration", "provider", "1", 32),
        ("budget", "period", "1", 32),
    ],
)
def test_text_longer_than_grafient_writes_is_one_sentence(
    seeded, capsys, monkeypatch, table: str, column: str, row: str, limit: int
) -> None:
    write(seeded, f"UPDATE {table} SET {column} = :value WHERE id = (SELECT MIN(id) FROM {table})", value=LONG)
    before = everything(seeded)
    for args in READS:
        result = run_cli(capsys, monkeypatch, *args)
        assert result.code == 2, (args, result.err)
        assert result.err == (
            f"grafient: the database's table {table} has a damaged value in row {row}, column {column} (longer "
            f"than the {limit} characters Grafient writes: not written by Grafient); nothing was changed. Fix or "
            "delete that row (e.g. with psql), or restore a backup of the database.\n"
        )
    assert everything(seeded) == before


@pytest.mark.parametrize(("table", "column"), [("dailycost", "cost_micro"), ("dailymodelcost", "requests")])
def test_a_figure_past_any_day_grafient_stores_is_one_sentence(
    seeded, capsys, monkeypatch, table: str, column: str
) -> None:
    """A bigint the server takes, but no sync writes: the reports' sums would overflow."""
    write(seeded, f"UPDATE {table} SET {column} = :value WHERE id = (SELECT MIN(id) FROM {table})", value=2**62)
    before = everything(seeded)
    for args in READS:
        result = run_cli(capsys, monkeypatch, *args)
        assert result.code == 2, (args, result.err)
        assert f"table {table} has a damaged value in row 1, column {column} (beyond the " in result.err
    assert everything(seeded) == before


def test_escapes_in_text_of_its_length_are_shown_as_text(seeded, capsys, monkeypatch) -> None:
    write(seeded, "UPDATE syncrun SET outcome = 'failed', error = :value", value=LONG)
    write(seeded, "UPDATE integration SET label = :value", value="Eng\x1b]0;pwned\x07")
    before = everything(seeded)
    for args in READS:
        result = run_cli(capsys, monkeypatch, *args)
        assert result.code in (0, 3, 4), (args, result.err)
        shown = result.out + result.err
        assert "\x1b" not in shown and "\x07" not in shown and "y" * 600 not in shown
    assert everything(seeded) == before
