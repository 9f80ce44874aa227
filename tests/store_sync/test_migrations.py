"""The schema's versions: migrations that reproduce the models, old homes upgraded with their rows,
shared databases set up once however many first runs race, and a sentence for every version a
Grafient cannot use."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel, select

from grafient_tui.config import Settings
from grafient_tui.errors import StoreError
from grafient_tui.secret import Secret
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import add_integration, find_integration, list_integrations
from grafient_tui.store.models import DailyCost
from grafient_tui.store.schema import HEAD, REVISIONS, SCRIPT_LOCATION, alembic_config, older_sentence, read_state
from grafient_tui.store.vault import Vault, new_master_key_b64
from tests.conftest import GOOD_KEY, PostgresServer
from tests.helpers import PATIENCE, run_cli

FIXTURES = Path(__file__).parent.parent / "fixtures"
NOW = datetime(2026, 3, 12, 10, 30, tzinfo=UTC)
ROOT = Path(__file__).parent.parent.parent


def differences(db: Database) -> list:
    """What Alembic's autogenerate finds between the migrated database and the models (nothing, we hope)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)


def test_the_revisions_listed_are_the_scripts_in_order() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    scripts = ScriptDirectory.from_config(config)
    chain = [script.revision for script in reversed(list(scripts.walk_revisions()))]
    assert tuple(chain) == REVISIONS and scripts.get_current_head() == HEAD


def test_a_new_store_is_set_up_at_the_head_exactly_as_the_models_say() -> None:
    """On whichever database this run uses (SQLite, or PostgreSQL with GRAFIENT_TEST_DATABASE_URL)."""
    settings = Settings.from_env()
    settings.ensure_dirs()
    db = Database(settings)
    with db.engine.connect() as connection:
        assert read_state(connection).revision == HEAD
    assert differences(db) == []
    db.dispose()


@pytest.mark.sqlite_only
def test_the_previous_release_s_home_upgrades_to_the_models_and_keeps_every_row() -> None:
    settings = Settings.from_env()
    settings.ensure_dirs()
    con = sqlite3.connect(settings.database_file, isolation_level=None)
    con.executescript((FIXTURES / "schema-before-providers.sql").read_text())
    con.execute(
        "INSERT INTO integration (id, uid, provider, label, key_scheme, key_ciphertext, key_hint, created_at) "
        "VALUES (7, 'u7', 'cursor', '  Data   Science ', 'aesgcm-v1', x'00', 'key_…abcd', '2026-03-01 00:00:00')"
    )
    con.execute(
        "INSERT INTO dailycost (integration_id, day, cost_micro, on_demand_micro, included_micro, requests, "
        "request_units_micro, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, synced_at, "
        "complete) VALUES (7, '2026-03-02', 123, 100, 23, 4, 0, 1, 2, 3, 4, '2026-03-03 00:00:00', 1)"
    )
    con.close()
    db = Database(settings)
    assert differences(db) == []
    assert find_integration(db, "data science").id == 7  # the label rule reaches rows from before it was stored
    with db.session() as session:
        row = session.exec(select(DailyCost)).one()
    assert (row.integration_id, row.cost_micro, row.requests, row.reasoning_tokens) == (7, 123, 4, None)
    db.dispose()
    con = sqlite3.connect(settings.database_file)
    assert "AUTOINCREMENT" in con.execute("SELECT sql FROM sqlite_master WHERE name = 'integration'").fetchone()[0]
    assert con.execute("SELECT seq FROM sqlite_sequence WHERE name = 'integration'").fetchone()[0] >= 7
    con.close()


@pytest.mark.sqlite_only
def test_processes_opening_an_old_home_together_upgrade_it_once() -> None:
    settings = Settings.from_env()
    settings.ensure_dirs()
    con = sqlite3.connect(settings.database_file, isolation_level=None)
    con.executescript((FIXTURES / "schema-before-providers.sql").read_text())
    con.close()
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            Database(settings).dispose()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=PATIENCE)
    assert errors == []
    con = sqlite3.connect(settings.database_file)
    assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
    con.close()


def test_a_schema_from_a_newer_grafient_is_refused_with_one_sentence(capsys, monkeypatch) -> None:
    settings = Settings.from_env()
    settings.ensure_dirs()
    db = Database(settings)
    with db.write_engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    db.dispose()
    sentence = (
        f"the database was set up by a newer Grafient (schema revision 0099; this version knows up to {HEAD}); "
        "upgrade Grafient to use it."
    )
    # the plain reads (report, check, budget list) check the schema as the store's open does
    for args in (("list",), ("report",), ("check",), ("budget", "list"), ("db", "upgrade")):
        result = run_cli(capsys, monkeypatch, *args)
        assert (result.code, result.out, result.err) == (2, "", f"grafient: {sentence}\n"), args
    status = run_cli(capsys, monkeypatch, "db", "status")
    assert status.code == 2 and "schema: revision 0099 (newer than this Grafient" in status.out
    assert status.err == "grafient: this Grafient cannot use it as it is; upgrade Grafient.\n"


def test_a_postgres_url_without_the_extra_is_one_sentence(capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # what an install without the postgres extra has
    monkeypatch.setenv("GRAFIENT_DATABASE_URL", "postgresql://team:s3cret-pass@127.0.0.1:1/grafient")
    result = run_cli(capsys, monkeypatch, "list")
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "grafient: PostgreSQL needs Grafient's postgres extra (psycopg 3): install it with "
        "`uv tool install 'grafient-tui[postgres]'`, or run `uv run --extra postgres grafient`.\n"
    )


@pytest.mark.parametrize("url", ["mysql://team@db/grafient", "postgresql+psycopg2://team:s3cret-pass@db/grafient"])
def test_a_database_grafient_does_not_speak_is_one_sentence_without_the_url(capsys, monkeypatch, url: str) -> None:
    monkeypatch.setenv("GRAFIENT_DATABASE_URL", url)
    result = run_cli(capsys, monkeypatch, "list")
    assert result.code == 2 and result.err.startswith(
        "grafient: GRAFIENT_DATABASE_URL must be a sqlite:/// or postgresql:// URL; "
    )
    assert "s3cret" not in result.err and "team" not in result.err and result.err.count("\n") == 1


def test_an_unreachable_server_is_one_sentence_and_never_shows_the_password(capsys, monkeypatch) -> None:
    monkeypatch.setenv("GRAFIENT_DATABASE_URL", "postgresql://team:s3cret-pass@127.0.0.1:1/grafient")
    result = run_cli(capsys, monkeypatch, "list")
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "grafient: nothing answers at 127.0.0.1:1 (connection refused): check the host and port of "
        "GRAFIENT_DATABASE_URL and that the server is up.\n"
    )


def test_the_wheel_carries_the_migrations(tmp_path: Path) -> None:
    built = subprocess.run(
        ["uv", "build", "--wheel", "--out-dir", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300
    )
    if built.returncode != 0 and "uv" not in os.environ.get("PATH", "") and "No such file" in built.stderr:
        pytest.skip("uv is not on PATH")
    assert built.returncode == 0, built.stderr
    [wheel] = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = {f"grafient_tui/store/migrations/{name}" for name in ("env.py", "script.py.mako")}
    wanted |= {f"grafient_tui/store/migrations/versions/{p.name}" for p in (SCRIPT_LOCATION / "versions").glob("*.py")}
    assert len(wanted) == len(REVISIONS) + 2 and wanted <= names, sorted(wanted - names)


# ------------------------------------------------------------------ PostgreSQL


def _previous_release_on(server: PostgresServer, name: str) -> None:
    """The tables the previous release made with create_all on PostgreSQL (revision 0001, unversioned),
    with a team in them."""
    from alembic import command
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(server.url_of(name), poolclass=NullPool)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
        connection.execute(text("DROP TABLE alembic_version"))
        connection.execute(
            text(
                "INSERT INTO integration (uid, provider, label, key_scheme, key_ciphertext, key_hint, created_at) "
                "VALUES ('u1', 'cursor', 'Eng', 'aesgcm-v1', '\\x00', 'key_…abcd', '2026-03-01 00:00:00+00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO dailycost (integration_id, day, cost_micro, on_demand_micro, included_micro, requests, "
                "request_units_micro, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, synced_at, "
                "complete) VALUES (1, '2026-03-02', 123, 100, 23, 4, 0, 1, 2, 3, 4, '2026-03-03 00:00:00+00', true)"
            )
        )
    engine.dispose()


@pytest.mark.postgres
def test_the_previous_release_s_team_database_is_refused_until_db_upgrade(
    pg: PostgresServer,
    capsys,
    monkeypatch,
) -> None:
    name = pg.empty_database()
    _previous_release_on(pg, name)
    monkeypatch.setenv("GRAFIENT_DATABASE_URL", pg.url_of(name))
    settings = Settings.from_env()
    settings.ensure_dirs()
    with pytest.raises(StoreError) as refused:
        Database(settings)
    assert refused.value.sentence == (
        f"the team database's schema is older than this Grafient (from before schema versions were recorded, this "
        f"version needs {HEAD}); run `grafient db upgrade` once, as a role that owns the tables (see README, A shared "
        "team database)."
    )
    listed = run_cli(capsys, monkeypatch, "list")
    assert (listed.code, listed.err) == (2, f"grafient: {refused.value.sentence}\n")

    upgraded = run_cli(capsys, monkeypatch, "db", "upgrade")
    assert (upgraded.code, upgraded.err) == (0, "")
    assert (
        upgraded.out
        == f"the schema was made before schema versions were recorded; it is now revision {HEAD} (current)\n"
    )
    db = Database(settings)
    assert differences(db) == []
    [eng] = list_integrations(db)
    assert (eng.id, eng.label, eng.label_key) == (1, "Eng", "eng")
    with db.session() as session:
        assert [
            (r.integration_id, r.cost_micro, r.requests, r.byok_micro) for r in session.exec(select(DailyCost))
        ] == [(1, 123, 4, None)]
    # 64-bit ids: an id past 2**31 - 1, and the sequence behind new ones, both fit
    with db.write_engine.begin() as connection:
        connection.execute(text("SELECT setval(pg_get_serial_sequence('integration', 'id'), 1099511627776)"))
    monkeypatch.setenv("GRAFIENT_MASTER_KEY", new_master_key_b64())
    big = add_integration(
        db, Vault(Settings.from_env()), label="Ops", provider="cursor", api_key=Secret(GOOD_KEY), now=NOW
    )
    assert big.id == 2**40 + 1 and find_integration(db, str(2**40 + 1)).label == "Ops"
    db.dispose()
    assert (
        run_cli(capsys, monkeypatch, "report", "9999999999999").err
        == "grafient: no integration with id or label '9999999999999' (see `grafient list`).\n"
    )


@pytest.mark.postgres
def test_a_team_database_one_revision_behind_names_the_command_to_run(
    pg: PostgresServer,
    capsys,
    monkeypatch,
) -> None:
    from alembic import command
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    name = pg.empty_database()
    engine = create_engine(pg.url_of(name), poolclass=NullPool)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), REVISIONS[-2])
    engine.dispose()
    monkeypatch.setenv("GRAFIENT_DATABASE_URL", pg.url_of(name))
    status = run_cli(capsys, monkeypatch, "db", "status")
    assert status.code == 2
    assert status.out.splitlines() == [
        f"database: PostgreSQL postgres@{pg.url.host}:{pg.url.port}/{name}",
        f"schema: revision {REVISIONS[-2]} (older; this Grafient needs {HEAD})",
        "sessions: lock_timeout 30s, statement_timeout 1min, idle_in_transaction_session_timeout 1min, "
        'tcp_keepalives_idle 30, search_path "$user", public (reads; writes have no statement_timeout)',
    ]
    from grafient_tui.store.schema import SchemaState

    sentence = older_sentence(SchemaState(REVISIONS[-2], True))
    for args in (("sync",), ("report",), ("check",), ("budget", "list")):
        assert run_cli(capsys, monkeypatch, *args).err == f"grafient: {sentence}\n", args
    assert (
        run_cli(capsys, monkeypatch, "db", "upgrade").out
        == f"the schema was revision {REVISIONS[-2]} (older; this Grafient needs {HEAD}); "
        f"it is now revision {HEAD} (current)\n"
    )
    assert run_cli(capsys, monkeypatch, "list").code == 0


@pytest.mark.postgres
def test_first_runs_racing_on_an_empty_team_database_all_succeed(pg: PostgresServer, grafient_home: Path) -> None:
    """Six `grafient list` at once on a database with nothing in it: the first sets the schema up under
    the advisory lock, the others wait for it and find it done (no duplicate pg_type entry)."""
    name = pg.empty_database()
    env = dict(os.environ, GRAFIENT_DATABASE_URL=pg.url_of(name))
    runs = []
    for i in range(6):
        home = grafient_home.parent / f"machine-{i}"
        runs.append(
            subprocess.Popen(
                [sys.executable, "-m", "grafient_tui", "list"],
                env=dict(env, GRAFIENT_HOME=str(home)),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outcomes = [(run.wait(timeout=PATIENCE), *run.communicate()) for run in runs]
    assert [(code, out.startswith("No integrations yet."), err) for code, out, err in outcomes] == [(0, True, "")] * 6
    assert pg.sql(f"SELECT count(*) FROM pg_database WHERE datname = '{name}'") == [(1,)]
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(pg.url_of(name), poolclass=NullPool)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).all() == [(HEAD,)]
    engine.dispose()


@pytest.mark.postgres
def test_the_same_data_gives_the_same_report_on_sqlite_and_postgres(
    pg: PostgresServer,
    capsys,
    monkeypatch,
    grafient_home: Path,
) -> None:
    """Days, models, members and the summary written through the engine, then every report format, byte for byte."""
    from tests.factories import seed_history

    outputs = {}
    for kind in ("sqlite", "postgres"):
        home = grafient_home.parent / kind
        monkeypatch.setenv("GRAFIENT_HOME", str(home))
        if kind == "sqlite":
            monkeypatch.delenv("GRAFIENT_DATABASE_URL", raising=False)
        else:
            monkeypatch.setenv("GRAFIENT_DATABASE_URL", pg.url_of(pg.database()))
        monkeypatch.setenv("GRAFIENT_NOW", "2026-03-12T10:30:00Z")
        settings = Settings.from_env()
        settings.ensure_dirs()
        db, vault = Database(settings), Vault(settings)
        for seed, label in enumerate(("Eng", "Ops")):
            seed_history(
                db,
                vault,
                label=label,
                until=date(2026, 3, 12),
                days=90,
                models=["gpt-5", "o3", "sonnet"],
                members=["a@x.io", "b@x.io", "c@x.io"],
                seed=seed,
                synced_at=NOW,
            )
        db.dispose()
        outputs[kind] = [
            run_cli(capsys, monkeypatch, "report", "--days", "90", "--by", by, "--format", fmt).out
            for by in ("day", "model", "member")
            for fmt in ("table", "json", "csv")
        ]
    assert all(outputs["sqlite"]) and outputs["postgres"] == outputs["sqlite"]


# ------------------------------------------------------------------ 0010: one account, one integration


def _an_account_twice_at_0009(url: str) -> None:
    """A store at revision 0009 (accounts, cost basis) with one OpenAI account connected twice, a Copilot
    integration with its account settings, and an ElevenLabs one with its cost basis and no fingerprint."""
    from alembic import command
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    rows = [
        ("openai", "Chat", "f1", None, None),
        ("copilot", "Copilot", "g1", '{"org": "acme"}', None),
        ("openai", "Chat again", "f1", None, None),
        ("elevenlabs", "Voice", None, None, '{"basis": "estimate"}'),
    ]
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0009")
        for n, (provider, label, fingerprint, account, basis) in enumerate(rows, start=1):
            connection.execute(
                text(
                    "INSERT INTO integration (uid, provider, label, label_key, key_scheme, key_ciphertext, key_hint, "
                    "created_at, team_fingerprint, account, cost_basis) VALUES (:uid, :provider, :label, :key, "
                    "'aesgcm-v1', :cipher, 'key_…abcd', :created, :fingerprint, :account, :basis)"
                ),
                {
                    "uid": f"u{n}",
                    "provider": provider,
                    "label": label,
                    "key": label.lower(),
                    "cipher": b"\x00",
                    "created": datetime(2026, 3, 1, tzinfo=UTC),
                    "fingerprint": fingerprint,
                    "account": account,
                    "basis": basis,
                },
            )
    engine.dispose()


def _the_account_twice_is_marked_and_the_constraint_holds(db: Database) -> None:
    from sqlalchemy.exc import IntegrityError

    from grafient_tui.store.integrations import same_team_owner

    with db.engine.connect() as connection:
        stored = connection.execute(
            text("SELECT id, provider, team_fingerprint, account, cost_basis FROM integration ORDER BY id")
        ).all()
        locks = connection.execute(text("SELECT integration_id FROM synclock ORDER BY integration_id")).scalars()
        assert list(locks) == [1, 2, 3, 4]  # every integration has its sync lock's row
    assert [tuple(row) for row in stored] == [
        (1, "openai", "f1", None, None),
        (2, "copilot", "g1", '{"org": "acme"}', None),
        (3, "openai", "f1:duplicate-of-1", None, None),  # both kept; adding it again still matches the first
        (4, "elevenlabs", None, None, '{"basis": "estimate"}'),
    ]
    assert same_team_owner(db, "f1", provider="openai").id == 1
    with pytest.raises(IntegrityError), db.write_engine.begin() as connection:
        connection.execute(text("UPDATE integration SET team_fingerprint = 'g1', provider = 'copilot' WHERE id = 3"))
    assert differences(db) == []


@pytest.mark.sqlite_only
def test_0010_keeps_an_account_connected_twice_and_makes_it_unique_on_sqlite() -> None:
    settings = Settings.from_env()
    settings.ensure_dirs()
    _an_account_twice_at_0009(f"sqlite:///{settings.database_file}")
    db = Database(settings)  # a home is upgraded on opening
    _the_account_twice_is_marked_and_the_constraint_holds(db)
    db.dispose()


@pytest.mark.postgres
def test_0010_keeps_an_account_connected_twice_and_makes_it_unique_on_postgres(
    pg: PostgresServer, capsys, monkeypatch
) -> None:
    name = pg.empty_database()
    _an_account_twice_at_0009(pg.url_of(name))
    monkeypatch.setenv("GRAFIENT_DATABASE_URL", pg.url_of(name))
    assert run_cli(capsys, monkeypatch, "db", "upgrade").code == 0
    db = Database(Settings.from_env())
    _the_account_twice_is_marked_and_the_constraint_holds(db)
    db.dispose()


def _a_cursor_model_day_at_0011(url: str) -> None:
    """A store at revision 0011 with a Cursor day and its model (no per-model on-demand column yet)."""
    from alembic import command
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0011")
        connection.execute(
            text(
                "INSERT INTO integration (uid, provider, label, label_key, key_scheme, key_ciphertext, key_hint, "
                "created_at) VALUES ('u1', 'cursor', 'Eng', 'eng', 'aesgcm-v1', :cipher, 'key_…abcd', :created)"
            ),
            {"cipher": b"\x00", "created": datetime(2026, 3, 1, tzinfo=UTC)},
        )
        connection.execute(
            text(
                "INSERT INTO dailycost (integration_id, day, cost_micro, on_demand_micro, included_micro, requests, "
                "request_units_micro, synced_at, complete) "
                "VALUES (1, :day, 123, 100, 23, 4, 0, :synced, :complete)"
            ),
            {"day": date(2026, 3, 2), "synced": datetime(2026, 3, 3, tzinfo=UTC), "complete": True},
        )
        connection.execute(
            text(
                "INSERT INTO dailymodelcost (integration_id, day, model, cost_micro, requests) "
                "VALUES (1, :day, 'gpt-5', 123, 4)"
            ),
            {"day": date(2026, 3, 2)},
        )
    engine.dispose()


def _the_model_day_is_kept_with_its_billed_unknown(db: Database) -> None:
    from grafient_tui.store.queries import models_across

    with db.engine.connect() as connection:
        rows = connection.execute(text("SELECT model, cost_micro, on_demand_micro FROM dailymodelcost")).all()
    assert [tuple(r) for r in rows] == [("gpt-5", 123, None)]  # unknown, never 0
    [model] = models_across(db, [1], date(2026, 3, 1), date(2026, 3, 5))
    assert (model.cost_micro, model.billed_micro) == (123, None)
    assert differences(db) == []


@pytest.mark.sqlite_only
def test_0012_keeps_a_model_s_day_with_its_billed_part_unknown_on_sqlite() -> None:
    settings = Settings.from_env()
    settings.ensure_dirs()
    _a_cursor_model_day_at_0011(f"sqlite:///{settings.database_file}")
    db = Database(settings)  # a home is upgraded on opening
    _the_model_day_is_kept_with_its_billed_unknown(db)
    db.dispose()


@pytest.mark.postgres
def test_0012_keeps_a_model_s_day_with_its_billed_part_unknown_on_postgres(
    pg: PostgresServer, capsys, monkeypatch
) -> None:
    name = pg.empty_database()
    _a_cursor_model_day_at_0011(pg.url_of(name))
    monkeypatch.setenv("GRAFIENT_DATABASE_URL", pg.url_of(name))
    assert run_cli(capsys, monkeypatch, "db", "upgrade").code == 0
    db = Database(Settings.from_env())
    _the_model_day_is_kept_with_its_billed_unknown(db)
    db.dispose()
