"""Files, ids and processes: what Grafient creates and never touches, ids that stay dead, keys kept out of argv
echoes, and no core dumps while keys are held."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from grafient_tui.config import Settings
from grafient_tui.secret import Secret
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import add_integration
from grafient_tui.store.vault import Vault, new_master_key_b64
from tests.conftest import GOOD_KEY
from tests.helpers import PATIENCE, run_cli, wide_open_paths


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def umask_000():
    old = os.umask(0)
    yield
    os.umask(old)


def open_store() -> tuple[Settings, Database, Vault]:
    settings = Settings.from_env()
    settings.ensure_dirs()
    return settings, Database(settings), Vault(settings)


# ------------------------------------------------------------------ directories and files


def test_every_missing_level_is_created_0700_under_umask_000_and_the_parent_keeps_its_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask_000: None, capsys: pytest.CaptureFixture[str]
) -> None:
    base = tmp_path / "base"
    base.mkdir()
    os.chmod(base, 0o755)
    home = base / "dot-config" / "nested" / "grafient"  # like ~/.config missing on a fresh account
    monkeypatch.setenv("GRAFIENT_HOME", str(home))
    _settings, db, vault = open_store()
    add_integration(db, vault, label="A", provider="cursor", api_key=Secret(GOOD_KEY))
    db.dispose()
    assert mode(base) == 0o755
    assert [mode(p) for p in (base / "dot-config", base / "dot-config" / "nested", home)] == [0o700] * 3
    assert wide_open_paths(home) == []
    assert capsys.readouterr().err == ""  # we made them, so there is nothing to warn about


def test_a_shared_tmp_dir_and_a_project_dir_are_never_chmodded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shared = tmp_path / "tmp"
    shared.mkdir()
    os.chmod(shared, 0o1777)  # drwxrwxrwt, like /tmp
    project = tmp_path / "project"
    project.mkdir()
    os.chmod(project, 0o755)

    monkeypatch.setenv("GRAFIENT_HOME", str(shared / "x"))
    monkeypatch.setenv("GRAFIENT_DATABASE_URL", f"sqlite:///{project}/costs.db")
    _settings, db, vault = open_store()
    add_integration(db, vault, label="A", provider="cursor", api_key=Secret(GOOD_KEY))
    db.dispose()
    assert mode(shared) == 0o1777 and mode(project) == 0o755
    assert mode(shared / "x") == 0o700 and mode(project / "costs.db") == 0o600

    assert capsys.readouterr().err == ""  # a project dir is not Grafient's home: no warning either

    # and a database directly in the shared dir: refused (anyone could have planted one there, or
    # swap its -wal), the dir stays as it was and nothing is created in it
    monkeypatch.setenv("GRAFIENT_DATABASE_URL", f"sqlite:///{shared}/grafient.db")
    with pytest.raises(ConfigError, match="is writable by other users, who could replace a database"):
        Database(Settings.from_env())
    assert mode(shared) == 0o1777 and not (shared / "grafient.db").exists()


def test_no_mode_change_follows_a_symlink(tmp_path: Path, grafient_home: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    os.chmod(outside, 0o755)
    target = outside / "somebody-elses.db"
    target.write_bytes(b"")
    os.chmod(target, 0o644)
    wal_target = outside / "log"
    wal_target.write_bytes(b"")
    os.chmod(wal_target, 0o644)
    grafient_home.mkdir(mode=0o700)
    (grafient_home / "locks").symlink_to(outside, target_is_directory=True)
    (grafient_home / "grafient.db").symlink_to(target)

    settings = Settings.from_env()
    settings.ensure_dirs()
    from grafient_tui.config import ensure_private_dir, ensure_private_file, fix_mode

    ensure_private_dir(settings.lock_dir)
    ensure_private_file(grafient_home / "grafient.db")
    (grafient_home / "grafient.db-wal").symlink_to(wal_target)
    assert fix_mode(grafient_home / "grafient.db-wal", 0o600) is False
    assert mode(outside) == 0o755 and mode(target) == 0o644 and mode(wal_target) == 0o644


def test_an_open_master_key_is_tightened_with_one_warning(
    grafient_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings, db, vault = open_store()
    row = add_integration(db, vault, label="A", provider="cursor", api_key=Secret(GOOD_KEY))
    os.chmod(settings.master_key_file, 0o644)
    capsys.readouterr()
    from grafient_tui.store.integrations import integration_key

    assert integration_key(Vault(settings), row).reveal() == GOOD_KEY
    assert mode(settings.master_key_file) == 0o600
    err = capsys.readouterr().err
    assert (
        err
        == f"grafient: warning: {settings.master_key_file} was readable by others (mode 644); tightened it to 600.\n"
    )


def test_a_symlinked_master_key_is_read_but_its_target_keeps_its_mode(tmp_path: Path, grafient_home: Path) -> None:
    settings = Settings.from_env()
    settings.ensure_dirs()
    real = tmp_path / "key-elsewhere"
    real.write_text(new_master_key_b64() + "\n")
    os.chmod(real, 0o640)
    settings.master_key_file.symlink_to(real)
    assert len(Vault(settings).master_key()) == 32
    assert mode(real) == 0o640


@pytest.mark.sqlite_only
def test_a_dangling_symlink_as_the_database_is_one_sentence(
    tmp_path: Path,
    grafient_home: Path,
    capsys,
    monkeypatch,
) -> None:
    grafient_home.mkdir(mode=0o700)
    (grafient_home / "grafient.db").symlink_to(tmp_path / "gone" / "grafient.db")
    result = run_cli(capsys, monkeypatch, "list")
    assert result.code == 2
    assert result.err == (
        f"grafient: {grafient_home / 'grafient.db'} is a symlink to a file that does not exist; "
        "point it at a real file or remove it.\n"
    )
    assert not (tmp_path / "gone").exists()


def test_a_home_that_is_a_file_is_one_sentence(grafient_home: Path, capsys, monkeypatch) -> None:
    grafient_home.write_text("not a dir")
    result = run_cli(capsys, monkeypatch, "list")
    assert (
        result.code == 2
        and result.err == f"grafient: {grafient_home} is not a directory; Grafient needs a directory there.\n"
    )


# ------------------------------------------------------------------ config errors are one sentence


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda f: f.write_text('plan = ["pro"]\n'), "must be one of free, pro, ultimate, not a list."),
        (lambda f: f.mkdir(), "is a directory; Grafient expects its config file there."),
        (lambda f: f.write_bytes(b'plan = "pro\xff"\n'), "is not UTF-8 text, so it cannot be TOML."),
        (lambda f: f.write_text('plan = "pro"\nplan = "free"\n'), "is not valid TOML: "),
    ],
    ids=["list", "directory", "not-utf8", "duplicate"],
)
@pytest.mark.sqlite_only
def test_a_bad_config_file_is_one_sentence_and_exit_2(
    grafient_home: Path,
    capsys,
    monkeypatch,
    setup,
    expected: str,
) -> None:
    grafient_home.mkdir(mode=0o700)
    setup(grafient_home / "config.toml")
    # `plan pro` mends a bad value, but refuses to edit a file it cannot read
    for args in (
        ("plan",),
        *([("plan", "pro")] if expected != "must be one of free, pro, ultimate, not a list." else []),
    ):
        result = run_cli(capsys, monkeypatch, *args)
        assert result.code == 2, (args, result)
        assert result.err.startswith(f"grafient: {grafient_home / 'config.toml'} ") or result.err.startswith(
            f"grafient: plan in {grafient_home / 'config.toml'} "
        ), result.err
        assert expected in result.err and result.err.count("\n") == 1, result.err
        assert "unexpected error" not in result.err


def test_grafient_now_with_an_offset_is_taken_in_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime

    from grafient_tui.cli import now_utc

    monkeypatch.setenv("GRAFIENT_NOW", "2026-11-25T01:00:00+05:00")
    now = now_utc()
    assert now == datetime(2026, 11, 24, 20, 0, tzinfo=UTC) and now.utcoffset().total_seconds() == 0
    assert now.date().isoformat() == "2026-11-24"  # today is the UTC date, not the local one


def test_a_report_under_an_offset_now_ends_on_the_utc_day(capsys, monkeypatch) -> None:
    import json

    monkeypatch.setenv("GRAFIENT_NOW", "2026-11-25T01:00:00+05:00")
    result = run_cli(capsys, monkeypatch, "report", "--days", "1", "--format", "json")
    assert result.code == 0, result.err
    assert "2026-11-24" in json.dumps(json.loads(result.out)) and "2026-11-25" not in result.out


# ------------------------------------------------------------------ integration ids

import json  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

import httpx  # noqa: E402
import respx  # noqa: E402
from sqlmodel import select  # noqa: E402

from grafient_tui.errors import SyncBusy  # noqa: E402
from grafient_tui.providers.cursor.fake import FakeCursorTeam, make_events  # noqa: E402
from grafient_tui.store.integrations import list_integrations, remove_integration, replace_key  # noqa: E402
from grafient_tui.store.models import DailyCost, DailyMemberCost, SyncRun  # noqa: E402
from grafient_tui.store.queries import member_breakdown  # noqa: E402
from grafient_tui.sync.engine import run_sync  # noqa: E402
from grafient_tui.sync.lock import is_sync_running, sync_lock  # noqa: E402
from tests.fake_server import EVENTS_PATH, FaultPlan, FaultyCursorServer  # noqa: E402

NOW = datetime(2026, 3, 12, 10, 30, tzinfo=UTC)
NOW_TEXT = "2026-03-12T10:30:00Z"
OTHER_KEY = "crsr_" + "9e8d7c6b" * 6


def month_of_events(seed: int, members: list[str]) -> list[dict]:
    events = make_events(
        seed=seed, start=NOW.date() - timedelta(days=31), days=32, per_day=6, members=members, models=["gpt-5"]
    )
    return [e for e in events if int(e["timestamp"]) <= NOW.timestamp() * 1000]


def test_a_removed_id_is_never_handed_out_again() -> None:
    _settings, db, vault = open_store()
    a = add_integration(db, vault, label="A", provider="cursor", api_key=Secret(GOOD_KEY))
    b = add_integration(db, vault, label="B", provider="cursor", api_key=Secret(GOOD_KEY))
    remove_integration(db, b.id)
    c = add_integration(db, vault, label="C", provider="cursor", api_key=Secret(GOOD_KEY))
    remove_integration(db, a.id)
    remove_integration(db, c.id)
    d = add_integration(db, vault, label="D", provider="cursor", api_key=Secret(GOOD_KEY))
    assert (a.id, b.id, c.id, d.id) == (1, 2, 3, 4)
    db.dispose()


def _make_it_an_old_database(path: Path) -> None:
    """Make it a database as releases before schema versions and AUTOINCREMENT made it: no
    alembic_version, none of the columns and tables added since, and an integration table whose ids
    SQLite may hand out again."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("DROP TABLE alembic_version")
    con.execute("DROP TABLE teamsetting")
    for table in ("alertsent", "budget", "membercyclespend"):  # budgets and billing cycles (0007)
        con.execute(f"DROP TABLE {table}")
    con.execute("DROP TABLE synclock")  # the team database's roles (0010)
    for table in ("alertdelivery", "alertchannel"):  # alert channels (0011)
        con.execute(f"DROP TABLE {table}")
    con.execute("ALTER TABLE syncrun DROP COLUMN error_kind")
    con.execute("ALTER TABLE dailymodelcost DROP COLUMN on_demand_micro")  # billed per model (0012)
    con.execute("DROP INDEX ix_integration_account")
    con.execute("ALTER TABLE syncrun DROP COLUMN lock_pid")
    con.execute("ALTER TABLE integration DROP COLUMN cycle_start")
    con.execute("ALTER TABLE integration DROP COLUMN account")  # account settings besides the key (0008)
    con.execute("ALTER TABLE integration DROP COLUMN cost_basis")  # cost basis, credits, characters (0009)
    for table in ("dailycost", "dailymodelcost"):
        con.execute(f"ALTER TABLE {table} DROP COLUMN credits_micro")
        con.execute(f"ALTER TABLE {table} DROP COLUMN characters")
    con.execute("DROP INDEX ix_integration_label_key")
    con.execute("ALTER TABLE integration DROP COLUMN label_key")
    con.execute("ALTER TABLE syncrun DROP COLUMN host")
    con.execute("ALTER TABLE syncrun DROP COLUMN username")
    sql = con.execute("SELECT sql FROM sqlite_master WHERE name = 'integration'").fetchone()[0]
    con.execute("PRAGMA foreign_keys = OFF")
    con.execute("BEGIN")
    con.execute(sql.replace("CREATE TABLE integration", "CREATE TABLE integration_old").replace(" AUTOINCREMENT", ""))
    con.execute("INSERT INTO integration_old SELECT * FROM integration")
    con.execute("DROP TABLE integration")
    con.execute("ALTER TABLE integration_old RENAME TO integration")
    con.execute("CREATE UNIQUE INDEX ix_integration_uid ON integration (uid)")
    con.execute("DELETE FROM sqlite_sequence WHERE name = 'integration'")
    con.execute("COMMIT")
    assert "AUTOINCREMENT" not in con.execute("SELECT sql FROM sqlite_master WHERE name = 'integration'").fetchone()[0]
    con.close()


@pytest.mark.sqlite_only
@pytest.mark.parametrize("lock_file_left", [False, True], ids=["no-lock-files", "a-removed-id-left-its-lock"])
def test_an_old_database_is_rebuilt_once_with_its_ids_and_costs_kept(lock_file_left: bool) -> None:
    settings, db, vault = open_store()
    rows = [
        add_integration(db, vault, label=label, provider="cursor", api_key=Secret(GOOD_KEY), now=NOW)
        for label in ("A", "B", "C")
    ]
    with db.session(write=True) as session:
        session.add(
            DailyCost(
                integration_id=2,
                day=NOW.date(),
                cost_micro=7,
                on_demand_micro=7,
                included_micro=0,
                request_units_micro=0,
                synced_at=NOW,
                complete=False,
            )
        )
    remove_integration(db, 3)
    if not lock_file_left:
        (settings.lock_dir / "integration-3.lock").unlink()
    db.dispose()
    _make_it_an_old_database(settings.database_file)

    db = Database(settings)  # the upgrade happens here
    con = sqlite3.connect(settings.database_file)
    assert "AUTOINCREMENT" in con.execute("SELECT sql FROM sqlite_master WHERE name = 'integration'").fetchone()[0]
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    kept = list_integrations(db)
    assert [(i.id, i.label, i.uid) for i in kept] == [(r.id, r.label, r.uid) for r in rows[:2]]
    from grafient_tui.store.integrations import integration_key

    assert integration_key(vault, kept[1]).reveal() == GOOD_KEY  # the ciphertext still opens (uid kept)
    with db.session() as session:
        assert [(c.integration_id, c.cost_micro) for c in session.exec(select(DailyCost))] == [(2, 7)]
    new = add_integration(db, vault, label="D", provider="cursor", api_key=Secret(GOOD_KEY))
    # id 3 was removed before the upgrade: only its lock file remembers it
    assert new.id == (4 if lock_file_left else 3)
    remove_integration(db, new.id)
    assert add_integration(db, vault, label="E", provider="cursor", api_key=Secret(GOOD_KEY)).id == new.id + 1
    db.dispose()
    Database(settings).dispose()  # a second open changes nothing


@pytest.mark.parametrize("how", ["removed", "replaced-under-its-id", "rekeyed"])
async def test_a_sync_whose_integration_went_away_writes_nothing(how: str) -> None:
    settings, db, vault = open_store()
    team = FakeCursorTeam(api_key=GOOD_KEY, events=month_of_events(3, ["old@team.io"]))
    row = add_integration(db, vault, label="Eng", provider="cursor", api_key=Secret(GOOD_KEY), now=NOW)

    def meddle() -> None:
        """What a removal by an older grafient (no lock), or a rekey, does between two windows
        (through the store's own engine: SQLite or PostgreSQL)."""
        if how == "rekeyed":
            replace_key(db, vault, row.id, Secret(GOOD_KEY))
            return
        from sqlalchemy import text

        with db.write_engine.begin() as con:
            for table in ("dailycost", "dailymodelcost", "dailymembercost", "syncrun"):
                con.execute(text(f"DELETE FROM {table} WHERE integration_id = :id"), {"id": row.id})
            con.execute(text("DELETE FROM integration WHERE id = :id"), {"id": row.id})
            if how == "replaced-under-its-id":  # what an old database without AUTOINCREMENT would do
                con.execute(
                    text(
                        "INSERT INTO integration (id, uid, provider, label, label_key, key_scheme, "
                        "key_ciphertext, key_hint, created_at) VALUES (:id, 'newuid', 'cursor', 'Ops', 'ops', "
                        "'aesgcm-v1', :blob, 'key_…', :at)"
                    ),
                    {"id": row.id, "blob": b"\x00", "at": datetime(2026, 3, 12, 11, tzinfo=UTC)},
                )

    pages = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal pages
        if request.url.path == EVENTS_PATH:
            pages += 1
            if pages == 2:  # the first window is written; the second is being fetched
                meddle()
        return team.handler(request)

    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=handler)
        result = await run_sync(db, vault, settings, row.id, "backfill", now=NOW)

    with db.session() as session:
        days = list(session.exec(select(DailyCost).where(DailyCost.integration_id == row.id)))
        members = {m.email for m in session.exec(select(DailyMemberCost))}
        runs = list(session.exec(select(SyncRun)))
    if how == "rekeyed":
        assert (result.outcome, result.error) == (
            "failed",
            f"the key of integration {row.id} was replaced while it synced; this window was not written, so sync again",
        )
        assert len(days) == 30  # the first window stays; the second was dropped
        assert [(r.outcome, r.error) for r in runs] == [("failed", result.error)]
    else:
        assert (result.outcome, result.error) == (
            "skipped",
            f"integration {row.id} was removed while it synced; nothing was written",
        )
        assert days == [] and members == set()  # nothing landed under the id, whoever holds it now
        assert runs == []  # the old run was removed with it, and no run was written for the newcomer
    db.dispose()


def test_remove_is_refused_while_any_process_syncs_that_integration(capsys, monkeypatch) -> None:
    settings, db, vault = open_store()
    row = add_integration(db, vault, label="Eng", provider="cursor", api_key=Secret(GOOD_KEY))
    other = add_integration(db, vault, label="Ops", provider="cursor", api_key=Secret(GOOD_KEY))
    lock = sync_lock(settings, row.id, db)  # the lock file, or the shared database's row lock
    assert lock.try_acquire()
    # a shared database names the holder: here this process's own lock session
    held_by = (
        f" (another Grafient's session (role {db.url.username!r}, process {lock.pid} on the server))"
        if db.is_postgres
        else ""
    )
    try:
        with pytest.raises(SyncBusy) as busy:
            remove_integration(db, row.id)
        assert busy.value.sentence == f"a sync of Eng is running{held_by}; wait for it or stop it, then remove."
        result = run_cli(capsys, monkeypatch, "remove", "Eng", "--yes")
        assert (result.code, result.err) == (
            2,
            f"grafient: a sync of Eng is running{held_by}; wait for it or stop it, then remove.\n",
        )
        assert run_cli(capsys, monkeypatch, "remove", "Ops", "--yes").code == 0  # another integration is free
    finally:
        lock.release()
    assert [i.id for i in list_integrations(db)] == [row.id]
    remove_integration(db, row.id)
    assert list_integrations(db) == [] and other.id != row.id
    db.dispose()


class TwoTeams:
    def __init__(self, *teams: FakeCursorTeam) -> None:
        self.teams = {team.expected_authorization: team for team in teams}

    def handler(self, request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("authorization", "")
        return (self.teams.get(auth) or next(iter(self.teams.values()))).handler(request)


class GatedServer(FaultyCursorServer):
    """Usage-events answers wait until the test opens the gate: the sync is busy for as long as we need."""

    def __init__(self, teams: TwoTeams) -> None:
        super().__init__(teams, FaultPlan())  # type: ignore[arg-type]
        self.gate = threading.Event()
        self.waiting = threading.Event()

    def start(self) -> None:
        super().start()
        assert self._server is not None
        owner, base = self, self._server.RequestHandlerClass

        class Gated(base):  # type: ignore[misc, valid-type]
            def _serve(self) -> None:
                if self.path.startswith(EVENTS_PATH):
                    owner.waiting.set()
                    owner.gate.wait(timeout=PATIENCE)
                super()._serve()

        self._server.RequestHandlerClass = Gated


def grafient(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grafient_tui", *args],
        env=env,
        input=stdin,
        text=True,
        capture_output=True,
        timeout=PATIENCE,
    )


@pytest.mark.slow  # seconds of work: CI's slow run
def test_across_processes_remove_is_refused_during_a_sync_and_a_new_team_gets_a_new_id(grafient_home: Path) -> None:
    old = FakeCursorTeam(api_key=GOOD_KEY, events=month_of_events(5, ["old-a@team.io", "old-b@team.io"]))
    new = FakeCursorTeam(api_key=OTHER_KEY, events=month_of_events(6, ["new@other.io"]))
    sync: subprocess.Popen[str] | None = None
    with GatedServer(TwoTeams(old, new)) as server:
        env = dict(os.environ, GRAFIENT_CURSOR_API_URL=server.url, GRAFIENT_NOW=NOW_TEXT)
        added = grafient(env, "add", "cursor", "--label", "Eng", "--no-backfill", stdin=GOOD_KEY + "\n")
        assert added.returncode == 0, added.stderr
        settings = Settings.from_env()
        db = Database(settings)  # read through the store: the SQLite file or the shared database
        sync = subprocess.Popen(
            [sys.executable, "-m", "grafient_tui", "sync"],
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            assert server.waiting.wait(timeout=PATIENCE), "the sync never asked for usage"
            assert is_sync_running(settings, 1, db)
            refused = grafient(env, "remove", "Eng", "--yes")
            held_by = ""
            if db.is_postgres:  # a shared database names who runs it, from the sync log
                from grafient_tui.store.team import who_runs

                host, user = who_runs()
                held_by = f" ({user} on {host} (a daily sync started {NOW:%Y-%m-%d %H:%M} UTC))"
            assert (refused.returncode, refused.stdout, refused.stderr) == (
                2,
                "",
                f"grafient: a sync of Eng is running{held_by}; wait for it or stop it, then remove.\n",
            )
            server.gate.set()
            out, err = sync.communicate(timeout=PATIENCE)
        finally:
            server.gate.set()
            if sync.poll() is None:
                sync.kill()
                sync.wait(timeout=PATIENCE)
        assert sync.returncode == 0 and err == "" and out.startswith("Eng: 31 days written"), (out, err)
        assert {m.actor for m in member_breakdown(db, 1, NOW.date() - timedelta(days=40), NOW.date())} == {
            "old-a@team.io",
            "old-b@team.io",
        }

        removed = grafient(env, "remove", "Eng", "--yes")
        assert removed.returncode == 0 and removed.stdout == "removed integration 1 'Eng' and its data\n"
        readded = grafient(env, "add", "cursor", "--label", "Ops", stdin=OTHER_KEY + "\n")
        assert readded.returncode == 0, readded.stderr
        assert readded.stdout.startswith("added integration 2 'Ops'")
    report = json.loads(grafient(env, "report", "--by", "member", "--format", "json", "--days", "40").stdout)
    text = json.dumps(report)
    assert "new@other.io" in text and "old-a@team.io" not in text and "old-b@team.io" not in text
    assert [(i["id"], i["label"]) for i in report["integrations"]] == [(2, "Ops")]
    assert [(i.id, i.label) for i in list_integrations(db)] == [(2, "Ops")]
    with db.session() as session:
        left = list(session.exec(select(DailyMemberCost)))
    assert {m.integration_id for m in left} == {2} and not [m for m in left if m.email.startswith("old-")]
    db.dispose()


# ------------------------------------------------------------------ keys never echoed from argv

from grafient_tui.errors import ConfigError  # noqa: E402
from grafient_tui.secret import KEY_IN_ARGV, looks_like_key  # noqa: E402
from grafient_tui.store.integrations import clean_label  # noqa: E402

SHORT_KEY = "key_" + "ab12cd34ef56"  # a prefix and 12 more: short enough to slip past length masking


@pytest.mark.parametrize(
    "text", [GOOD_KEY, OTHER_KEY, SHORT_KEY, "sk-proj-" + "Ab1" * 10, "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA=="]
)
def test_key_shaped_text_is_recognised(text: str) -> None:
    assert looks_like_key(text) and looks_like_key(f"  {text}\n")


@pytest.mark.parametrize(
    "text",
    [
        "Engineering",
        "platform-engineering-2026",
        "key_accounts",
        "2026-03-12",
        "42",
        "Data Science (EU)",
        "abcdefghijklmnopqrstuvwxyz",
    ],
)
def test_ordinary_labels_ids_and_dates_are_not_taken_for_keys(text: str) -> None:
    assert not looks_like_key(text)
    if not text.isdigit():
        assert clean_label(text) == text


@pytest.mark.parametrize("key", [GOOD_KEY, SHORT_KEY])
@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (("sync", "{key}"), f"{KEY_IN_ARGV}."),
        (("report", "{key}"), f"{KEY_IN_ARGV}."),
        (("remove", "{key}", "--yes"), f"{KEY_IN_ARGV}."),
        (("rekey", "{key}"), f"{KEY_IN_ARGV}."),
        (("report", "--since", "{key}"), f"--since must be a date as YYYY-MM-DD: {KEY_IN_ARGV}."),
        (
            ("report", "--since", "2026-11-01", "--until", "{key}"),
            f"--until must be a date as YYYY-MM-DD: {KEY_IN_ARGV}.",
        ),
        (("add", "cursor", "--label", "{key}"), f"a label cannot be an API key: {KEY_IN_ARGV}."),
    ],
    ids=["sync", "report", "remove", "rekey", "since", "until", "label"],
)
def test_a_key_given_as_an_argument_is_never_echoed(
    capsys,
    monkeypatch,
    grafient_home: Path,
    key: str,
    args: tuple[str, ...],
    sentence: str,
) -> None:
    monkeypatch.setenv("GRAFIENT_NOW", NOW_TEXT)
    _settings, db, vault = open_store()
    add_integration(db, vault, label="Eng", provider="cursor", api_key=Secret(GOOD_KEY))
    db.dispose()
    result = run_cli(capsys, monkeypatch, *(a.format(key=key) for a in args), stdin="")
    assert (result.code, result.out, result.err) == (2, "", f"grafient: {sentence}\n")
    assert key not in result.err and key[4:] not in result.err


@pytest.mark.parametrize(
    "args", [("report", "--days", "{key}"), ("add", "{key}", "--label", "x"), ("report", "--by", "{key}")]
)
def test_argparse_errors_hide_key_shaped_values_too(capsys, monkeypatch, args: tuple[str, ...]) -> None:
    result = run_cli(capsys, monkeypatch, *(a.format(key=SHORT_KEY) for a in args))
    assert result.code == 2 and "[hidden]" in result.err and SHORT_KEY[4:] not in result.err
    assert "never from the command line" in result.err and result.err.count("\n") == 1


def test_the_add_form_refuses_a_key_as_its_label_without_showing_it() -> None:
    from grafient_tui.sync.connect import free_label

    _settings, db, _ = open_store()
    with pytest.raises(ConfigError) as raised:
        free_label(db, f" {GOOD_KEY} ")
    assert GOOD_KEY[4:20] not in raised.value.sentence and KEY_IN_ARGV in raised.value.sentence
    db.dispose()


# ------------------------------------------------------------------ core dumps

CORE_PROBE = """
import ctypes, resource
from grafient_tui.cli import main
libc = ctypes.CDLL(None)
before = (resource.getrlimit(resource.RLIMIT_CORE)[0], libc.prctl(3, 0, 0, 0, 0))  # 3 = PR_GET_DUMPABLE
code = main(["list", "--format", "json"])
print(*before, code, resource.getrlimit(resource.RLIMIT_CORE)[0], libc.prctl(3, 0, 0, 0, 0))
"""


def _allow_core_files() -> None:
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))  # as generous as this machine lets us start


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_the_cli_turns_core_dumps_off_at_start() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", CORE_PROBE],
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        preexec_fn=_allow_core_files,
    )
    assert probe.returncode == 0, probe.stderr
    _, dumpable_before, code, limit, dumpable = (int(v) for v in probe.stdout.split()[-5:])
    assert dumpable_before == 1  # a plain Python is dumpable: the 0 below is the CLI's doing
    assert code == 0 and limit == 0 and dumpable == 0, probe.stdout


FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.mark.sqlite_only
def test_a_database_from_before_unknown_figures_is_rebuilt_and_keeps_its_rows() -> None:
    """A home made before providers without request counts: its NOT NULL columns become nullable
    (unknown is stored as NULL), the new columns appear, and every row is kept."""
    settings = Settings.from_env()
    settings.ensure_dirs()
    schema = (FIXTURES / "schema-before-providers.sql").read_text()
    con = sqlite3.connect(settings.database_file, isolation_level=None)
    con.executescript(schema)
    con.execute(
        "INSERT INTO integration (id, uid, provider, label, key_scheme, key_ciphertext, key_hint, created_at) "
        "VALUES (5, 'u5', 'cursor', 'Old', 'aesgcm-v1', x'00', 'key_…abcd', '2026-03-01 00:00:00')"
    )
    con.execute(
        "INSERT INTO dailycost (integration_id, day, cost_micro, on_demand_micro, included_micro, requests, "
        "request_units_micro, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, synced_at, "
        "complete) VALUES (5, '2026-03-02', 123, 100, 23, 4, 0, 1, 2, 3, 4, '2026-03-03 00:00:00', 1)"
    )
    con.close()

    db = Database(settings)
    with db.session(write=True) as session:
        old = session.exec(select(DailyCost)).one()
        assert (old.cost_micro, old.on_demand_micro, old.requests, old.reasoning_tokens, old.byok_micro) == (
            123,
            100,
            4,
            None,
            None,
        )
        session.add(
            DailyCost(
                integration_id=5,
                day=NOW.date(),
                cost_micro=7,
                on_demand_micro=None,
                included_micro=None,
                requests=None,
                request_units_micro=0,
                input_tokens=None,
                synced_at=NOW,
                complete=False,
            )
        )
    with db.session() as session:
        new = session.exec(select(DailyCost).where(DailyCost.day == NOW.date())).one()
        assert (new.requests, new.on_demand_micro, new.input_tokens) == (None, None, None)
    assert [i.id for i in list_integrations(db)] == [5]
    db.dispose()
    con = sqlite3.connect(settings.database_file)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    not_null = {r[1] for r in con.execute("PRAGMA table_info(dailycost)") if r[3]}
    assert "requests" not in not_null and "input_tokens" not in not_null and "cost_micro" in not_null
    assert "history_from" in {r[1] for r in con.execute("PRAGMA table_info(integration)")}
    con.close()
