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
from tests.helpers import PATIENCE, run_cli

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
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=PATIENCE, check=False
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
        ("2026-03-01", False, None),  # never synced: unknown, not $0
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
    # Nothing stored: no day is synced and no amount is known (null, never $0 over "3 synced days")
    assert data["integrations"] == [] and data["summary"]["total_usd"] is None
    assert (data["summary"]["synced_days"], data["summary"]["billed"], data["summary"]["usage_value"]) == (
        0,
        None,
        None,
    )


# ------------------------------------------------------------------ estimates, account settings, team servers


@pytest.fixture
def estimate_and_account(monkeypatch: pytest.MonkeyPatch) -> None:
    """A home with a Cursor team, a GitHub organization (account settings) and an ElevenLabs workspace
    whose dollars are an estimate, as their syncs leave them."""
    from sqlmodel import update

    from grafient_tui.secret import Secret
    from grafient_tui.store.integrations import add_integration
    from grafient_tui.store.models import Integration
    from grafient_tui.store.sums import DaySums, ModelSums, WindowSums
    from grafient_tui.store.sync_writes import write_window

    monkeypatch.setenv("GRAFIENT_NOW", NOW.isoformat())
    settings = Settings.from_env()
    settings.ensure_dirs()
    db, vault = Database(settings), Vault(settings)
    seed_history(db, vault, label="Eng", until=NOW.date(), days=5, models=["gpt-5"], members=["a@x.io"], seed=1,
                 synced_at=NOW)  # fmt: skip
    add_integration(
        db, vault, label="Octo", provider="copilot", api_key=Secret("ghp_" + "k" * 32 + "Wx9Q"), account={"org": "acme"}
    )
    voice = add_integration(db, vault, label="Voice", provider="elevenlabs", api_key=Secret("sk_" + "7d3b9e15" * 6))
    assert voice.id is not None
    day = NOW.date() - timedelta(days=1)
    totals = WindowSums()
    totals.days[day] = DaySums(cost_micro=9_900_000, credits_micro=500_000_000_000, characters=1200)
    totals.models[(day, "eleven_multilingual_v2")] = ModelSums(
        cost_micro=9_900_000, credits_micro=500_000_000_000, characters=1200
    )
    write_window(db, voice.id, day, day, totals, NOW)
    note = "estimated from credits at the Pro plan's $99 / 500,000 credits"
    with db.session(write=True) as session:
        session.exec(
            update(Integration)
            .where(Integration.id == voice.id)  # type: ignore[arg-type]
            .values(cost_basis=json.dumps({"note": note, "estimate": {"tier": "pro", "credit_quota": 500000}}))
        )
    db.dispose()


@pytest.mark.parametrize("args", [("report", "--format", "json"), ("report", "--by", "model"), ("check",)])
def test_a_report_of_estimates_and_account_settings_loads_no_provider(
    estimate_and_account: None, args: tuple[str, ...]
) -> None:
    """Whether an integration's dollars are an estimate is its provider's capability: the registry's
    table says so without loading the provider (and httpx with it)."""
    loaded, code = probe(*args)
    assert (loaded, code) == ("none", 0)


def test_the_plain_read_report_marks_the_estimate_and_keeps_credits(
    estimate_and_account: None, capsys, monkeypatch
) -> None:
    data = json.loads(run_cli(capsys, monkeypatch, "report", "--days", "2", "--format", "json").out)
    voice = next(i for i in data["integrations"] if i["label"] == "Voice")
    assert voice["cost_basis"] == "estimate"
    assert voice["estimate"] == {
        "tier": "pro",
        "plan_price_usd": None,
        "credit_quota": 500000,
        "usd_per_credit": None,
        "as_of": None,
    }
    assert voice["cost_note"].startswith("estimated from credits")
    yesterday = voice["days"][0]
    assert (yesterday["cost_usd"], yesterday["credits"], yesterday["characters"]) == (0.099, "500000", 1200)
    assert data["summary"]["cost_basis"] == "estimate" and "Voice" in data["summary"]["cost_note"]
    table = run_cli(capsys, monkeypatch, "report", "--days", "2").out
    assert "≈$0.10" in table and "includes estimates (Voice)" in table


@pytest.mark.sqlite_only
def test_list_on_a_sqlite_home_shows_account_settings_without_the_orm(
    estimate_and_account: None, capsys, monkeypatch
) -> None:
    assert probe("list", "--format", "json") == ("none", 0)
    rows = json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out)
    assert [(r["label"], r["account"]) for r in rows] == [("Eng", {}), ("Octo", {"org": "acme"}), ("Voice", {})]


def test_a_reading_command_on_a_team_server_keeps_the_driver_s_log_off_stderr(capsys, monkeypatch) -> None:
    """`report`, `list` and `check` skip setting up logging on a SQLite home; on a team server they read
    through psycopg, whose logger must go where every other command sends it (nowhere, without
    GRAFIENT_DEBUG)."""
    import logging

    from tests.tcp_proxy import TcpProxy

    driver = logging.getLogger("psycopg")
    driver.handlers[:], driver.propagate = [], True  # as a fresh process has it (conftest puts it back)
    driver.setLevel(logging.NOTSET)
    with TcpProxy(None) as refused:
        closed = refused.port  # nothing listens there any more
    monkeypatch.setenv("GRAFIENT_DATABASE_URL", f"postgresql://grafient@127.0.0.1:{closed}/grafient")
    result = run_cli(capsys, monkeypatch, "report")
    assert result.code == 2 and result.err.count("\n") == 1, result.err
    assert not driver.propagate and driver.level > logging.CRITICAL
    assert [type(h) for h in driver.handlers] == [logging.NullHandler]


@pytest.mark.postgres
def test_plain_reads_on_a_team_server_are_set_up_as_its_reading_sessions(monkeypatch) -> None:
    """store/read.py's own psycopg connection gets what store/server.py gives Database's reading
    sessions: the timeouts, the keepalives, the application name, the team's options after ours."""
    from grafient_tui.store.read import open_reader
    from grafient_tui.store.server import SHOWN_SETTINGS, session_settings

    monkeypatch.setenv("PGOPTIONS", "-c statement_timeout=90s")
    settings = Settings.from_env()
    settings.ensure_dirs()
    db = Database(settings)  # sets the schema up
    with db.engine.connect() as reads:
        expected = session_settings(reads)
        parameters = reads.connection.driver_connection.info.get_parameters()
    db.dispose()
    assert expected["statement_timeout"] == "90s" and expected["lock_timeout"] == "30s"
    with open_reader(settings) as own:
        assert own is not None
        assert {name: str(own.one(f"SHOW {name}")[0]) for name in SHOWN_SETTINGS} == expected  # type: ignore[index]
        assert own.one("SHOW application_name") == ("grafient",)
        assert own._connection.info.get_parameters()["connect_timeout"] == parameters["connect_timeout"] == "10"


@pytest.mark.postgres
def test_a_report_from_a_server_that_is_not_there_says_so_in_the_team_server_s_words(pg, capsys, monkeypatch) -> None:
    from tests.tcp_proxy import TcpProxy

    with TcpProxy(None) as refused:
        closed = refused.port
    monkeypatch.setenv("GRAFIENT_DATABASE_URL", f"postgresql://postgres:s3cret-pass@127.0.0.1:{closed}/grafient")
    result = run_cli(capsys, monkeypatch, "report")
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        f"grafient: nothing answers at 127.0.0.1:{closed} (connection refused): check the host and port of "
        "GRAFIENT_DATABASE_URL and that the server is up.\n"
    )


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://team%40acme:p%3As%2Fs@db.example.com:6543/grafient?sslmode=require&options=-c%20search_path%3Dt",
        "postgresql+psycopg://grafient@/grafient?host=/var/run/postgresql&application_name=cron",
        "postgresql://grafient@[::1]:5432/grafient?keepalives=0&keepalives=1",
    ],
)
def test_plain_reads_read_a_team_server_s_url_as_sqlalchemy_does(url: str) -> None:
    """The plain reads' own connection takes its settings and sentences from the same parts of the URL
    as Database's (store/server.py reads both): user, password, host, port and parameters alike."""
    from sqlalchemy.engine import make_url

    from grafient_tui.store.read import _server_url

    ours, theirs = _server_url(url), make_url(url)
    assert ours is not None
    assert (ours.username, ours.password, ours.host, ours.port, dict(ours.query)) == (
        theirs.username,
        theirs.password,
        theirs.host,
        theirs.port,
        dict(theirs.query),
    )


@pytest.mark.parametrize(
    "url", ["postgresql://grafient@db:99999/g", "postgresql://grafient@db:0/g", "postgresql://db:5x/g"]
)
def test_a_team_server_url_with_no_port_to_connect_to_is_left_to_database(url: str) -> None:
    from grafient_tui.store.read import _server_url

    assert _server_url(url) is None  # Database refuses it with its sentence about the port
