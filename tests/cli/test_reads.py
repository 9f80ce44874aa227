"""The commands that only read (report, check, budget list, and list on a SQLite home) read the store
with plain SQL: SQLAlchemy, SQLModel and Alembic stay unloaded while the store is at this version's
schema. A store that is not (an older home, a newer schema) is still opened as before: upgraded, or
refused with its sentence."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from grafient_tui.config import Settings
from grafient_tui.service import GrafientService
from grafient_tui.store.db import Database
from grafient_tui.store.schema import HEAD
from grafient_tui.store.vault import Vault
from tests.factories import seed_history
from tests.helpers import run_cli

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
FIXTURES = Path(__file__).parent.parent / "fixtures"

PROBE = """
import sys
from grafient_tui.cli import main
code = main(sys.argv[1:])
loaded = sorted({m.split(".")[0] for m in sys.modules} & {"sqlalchemy", "sqlmodel", "alembic", "httpx", "textual"})
print("LOADED", ",".join(loaded) or "none", "CODE", code, file=sys.stderr)
"""


@pytest.fixture
def seeded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFIENT_NOW", NOW.isoformat())
    settings = Settings.from_env()
    settings.ensure_dirs()
    db, vault = Database(settings), Vault(settings)
    for number in (1, 2):
        seed_history(
            db,
            vault,
            label=f"Team {number}",
            until=NOW.date(),
            days=40,
            models=["claude-4-sonnet", "gpt-5"],
            members=["a@acme.dev", "b@acme.dev"],
            seed=number,
            synced_at=NOW,
        )
    GrafientService(settings, db=db, vault=vault).set_budget("all", "500", now=NOW)
    db.dispose()


def probe(*args: str) -> tuple[str, int]:
    """What a `grafient ARGS` process loaded, and its exit code."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60, check=False
    )
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("LOADED"), result.stderr
    _, loaded, _, code = line.split()
    return loaded, int(code)


@pytest.mark.parametrize(
    "args",
    [
        ("report",),
        ("report", "--days", "7", "--format", "json"),
        ("report", "--format", "csv"),
        ("report", "--by", "model"),
        ("report", "Team 2", "--by", "member", "--format", "json"),
        ("check",),
        ("check", "--format", "json"),
        ("budget", "list"),
    ],
)
def test_reading_commands_load_no_orm(seeded: None, args: tuple[str, ...]) -> None:
    loaded, code = probe(*args)
    assert loaded == "none"
    assert code in (0, 3, 4) if args[0] == "check" else code == 0


@pytest.mark.sqlite_only  # a shared database's syncs hold their locks there: `list` asks it through the store
def test_list_on_a_sqlite_home_loads_no_orm(seeded: None) -> None:
    assert probe("list", "--format", "json") == ("none", 0)


def test_the_probe_sees_a_command_that_opens_the_store_with_the_orm(seeded: None) -> None:
    loaded, code = probe("db", "status")
    assert code == 0 and "sqlalchemy" in loaded.split(",")


@pytest.mark.sqlite_only
def test_a_report_on_the_previous_release_s_home_upgrades_it_then_reads_it(capsys, monkeypatch) -> None:
    settings = Settings.from_env()
    settings.ensure_dirs()
    con = sqlite3.connect(settings.database_file, isolation_level=None)
    con.executescript((FIXTURES / "schema-before-providers.sql").read_text())
    con.execute(
        "INSERT INTO integration (id, uid, provider, label, key_scheme, key_ciphertext, key_hint, created_at) "
        "VALUES (7, 'u7', 'cursor', 'Data', 'aesgcm-v1', x'00', 'key_…abcd', '2026-03-01 00:00:00')"
    )
    con.execute(
        "INSERT INTO dailycost (integration_id, day, cost_micro, on_demand_micro, included_micro, requests, "
        "request_units_micro, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, synced_at, "
        "complete) VALUES (7, '2026-03-02', 123000000, 100000000, 23000000, 4, 0, 1, 2, 3, 4, "
        "'2026-03-03 00:00:00', 1)"
    )
    con.close()
    result = run_cli(
        capsys, monkeypatch, "report", "--since", "2026-03-01", "--until", "2026-03-02", "--format", "json"
    )
    assert result.code == 0, result.err
    [entry] = json.loads(result.out)["integrations"]
    assert (entry["id"], entry["label"]) == (7, "Data")
    assert [(d["date"], d["synced"], d["cost_usd"]) for d in entry["days"]] == [
        ("2026-03-01", False, 0.0),
        ("2026-03-02", True, 1.23),
    ]
    assert entry["days"][1]["requests"] == 4
    con = sqlite3.connect(settings.database_file)
    assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
    con.close()


def test_a_report_of_nothing_stored_yet_sets_the_store_up(capsys, monkeypatch) -> None:
    monkeypatch.setenv("GRAFIENT_NOW", NOW.isoformat())
    result = run_cli(capsys, monkeypatch, "report", "--days", "3")
    assert (result.code, result.err) == (0, "")
    assert result.out.startswith("No integrations yet.")
    until = NOW.date()
    data = json.loads(run_cli(capsys, monkeypatch, "report", "--days", "3", "--format", "json").out)
    assert (data["since"], data["until"]) == ((until - timedelta(days=2)).isoformat(), until.isoformat())
    assert data["integrations"] == [] and data["summary"]["total_usd"] == 0.0
