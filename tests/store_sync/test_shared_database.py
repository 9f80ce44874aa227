"""One database for a team: several machines (here: several GRAFIENT_HOMEs, each its own process)
syncing, reading and changing the same PostgreSQL database. The tests without the `postgres` mark
run on whichever store this run uses, so they hold on SQLite as well.

Everything is read back through the store (tests/oracle.snapshot_via_store), never from a file.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from sqlmodel import select

from grafient_tui.config import Settings
from grafient_tui.errors import ConfigError
from grafient_tui.providers.cursor.fake import FakeCursorTeam, make_events
from grafient_tui.secret import Secret
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import add_integration, list_integrations
from grafient_tui.store.models import SyncRun
from grafient_tui.store.queries import member_breakdown, model_breakdown
from grafient_tui.store.sums import MemberSums
from grafient_tui.store.sync_writes import write_window
from grafient_tui.store.team import who_runs
from grafient_tui.store.vault import Vault, new_master_key_b64
from grafient_tui.sync.engine import run_sync
from grafient_tui.sync.lock import is_sync_running, sync_lock
from grafient_tui.sync.status import sync_status
from grafient_tui.sync.totals import WindowTotals
from tests.conftest import GOOD_KEY, PostgresServer
from tests.factories import day_sums, model_sums
from tests.fake_server import FaultPlan
from tests.helpers import PATIENCE, settle, wait_for, wait_until
from tests.oracle import expected_snapshot, snapshot_via_store, utc_ms
from tests.store_sync.test_concurrency import Teams, TrackingServer

NOW = datetime(2026, 3, 12, 10, 30, tzinfo=UTC)
NOW_TEXT = "2026-03-12T10:30:00Z"
TODAY = NOW.date()
MONTH_START = TODAY - timedelta(days=30)


def open_store() -> tuple[Settings, Database, Vault]:
    settings = Settings.from_env()
    settings.ensure_dirs()
    return settings, Database(settings), Vault(settings)


def a_month(seed: int, per_day: int = 20) -> list[dict]:
    events = make_events(
        seed=seed, start=MONTH_START, days=31, per_day=per_day, members=["a@x.io", "b@x.io"], models=["gpt-5", "o3"]
    )
    return [e for e in events if int(e["timestamp"]) <= utc_ms(NOW)]


# ------------------------------------------------------------------ on either database


async def test_control_characters_from_the_api_are_dropped_before_storage() -> None:
    """NUL cannot be stored in PostgreSQL text at all; both databases drop it and the other C0
    characters, so names that differ only by them are one name, with one total."""
    settings, db, vault = open_store()
    iid = add_integration(db, vault, label="Eng", provider="cursor", api_key=Secret(GOOD_KEY), now=NOW).id
    day = int((NOW - timedelta(days=1)).timestamp() * 1000)
    events = [
        {
            "timestamp": str(day + i),
            "userEmail": email,
            "model": model,
            "kind": "Usage-based",
            "isChargeable": True,
            "chargedCents": 10,
        }
        for i, (model, email) in enumerate(
            [("gpt-5", "a@x.io"), ("gpt\x00-5", "a\x00@x.io"), ("gpt-5\x1b\x07", "a@x.io\x7f"), ("o3\u202e", "b@x.io")]
        )
    ]
    team = FakeCursorTeam(api_key=GOOD_KEY, events=events)
    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=team.handler)
        result = await run_sync(db, vault, settings, iid, "backfill", now=NOW)
    assert result.outcome == "success", result.error
    since = TODAY - timedelta(days=30)
    assert [(m.model, m.cost_micro, m.requests) for m in model_breakdown(db, iid, since, TODAY)] == [
        ("gpt-5", 30_000_000, 3),
        ("o3\u202e", 10_000_000, 1),
    ]  # a bidi override is no C0 character: kept, shown escaped
    assert [(m.actor, m.requests) for m in member_breakdown(db, iid, since, TODAY)] == [("a@x.io", 3), ("b@x.io", 1)]
    db.dispose()


async def test_each_sync_run_records_the_machine_and_the_user() -> None:
    settings, db, vault = open_store()
    iid = add_integration(db, vault, label="Eng", provider="cursor", api_key=Secret(GOOD_KEY), now=NOW).id
    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=FakeCursorTeam(api_key=GOOD_KEY, events=a_month(1)).handler)
        assert (await run_sync(db, vault, settings, iid, "backfill", now=NOW)).outcome == "success"
    with db.session() as session:
        [run] = session.exec(select(SyncRun))
    host, user = who_runs()
    assert host and user and (run.host, run.username) == (host, user)
    db.dispose()


def test_two_adds_racing_for_one_label_leave_one_integration() -> None:
    """ "Eng" and " eng " from two threads at once (two connections): one is added, the other is told the
    label is taken, on SQLite (the write lock) and PostgreSQL (the unique label_key) alike."""
    settings, db, vault = open_store()
    Vault(settings).master_key(create=True)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def add(label: str) -> None:
        own = Database(settings)
        barrier.wait()
        try:
            add_integration(own, vault, label=label, provider="cursor", api_key=Secret(GOOD_KEY), now=NOW)
            outcomes.append("added")
        except ConfigError as refused:
            outcomes.append(refused.sentence)
        finally:
            own.dispose()

    for _ in range(5):
        for row in list_integrations(db):
            from grafient_tui.store.integrations import remove_integration

            remove_integration(db, row.id)
        outcomes.clear()
        threads = [threading.Thread(target=add, args=(label,)) for label in ("Eng", " eng ")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=PATIENCE)
        assert sorted(outcomes)[0] == "added" and len(outcomes) == 2, outcomes
        assert "already exists" in outcomes[1] or "already exists" in sorted(outcomes)[1], outcomes
        assert len(list_integrations(db)) == 1
    db.dispose()


def test_two_adds_racing_for_one_account_leave_one_integration() -> None:
    """One account (the same fingerprint) under two labels, added from two connections at once, five
    times: one is added and the other is told the account is connected, on SQLite (the write lock) and
    PostgreSQL (the unique constraint on provider and fingerprint) alike."""
    from grafient_tui.store.integrations import remove_integration, same_team_sentence

    settings, db, vault = open_store()
    Vault(settings).master_key(create=True)
    outcomes: list[str] = []

    def add(label: str, barrier: threading.Barrier) -> None:
        own = Database(settings)
        barrier.wait()
        try:
            add_integration(
                own, vault, label=label, provider="cursor", api_key=Secret(GOOD_KEY), team_fingerprint="f" * 64, now=NOW
            )
            outcomes.append("added")
        except ConfigError as refused:
            outcomes.append(refused.sentence)
        finally:
            own.dispose()

    for _ in range(5):
        for row in list_integrations(db):
            remove_integration(db, row.id)
        outcomes.clear()
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=add, args=(label, barrier)) for label in ("Eng", "Platform")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        [kept] = list_integrations(db)
        assert sorted(outcomes) == sorted(["added", same_team_sentence(kept)]), outcomes
    db.dispose()


# ------------------------------------------------------------------ PostgreSQL: several machines


def _child_env(home: Path, master_key: str, api_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GRAFIENT_HOME=str(home),
        GRAFIENT_MASTER_KEY=master_key,
        GRAFIENT_CURSOR_API_URL=api_url,
        GRAFIENT_NOW=NOW_TEXT,
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.mark.postgres
def test_two_machines_syncing_one_integration_at_once_ten_times_agree_and_never_fail(
    pg: PostgresServer, grafient_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two homes (two machines: separate lock directories, one database, the team's master key) run
    `grafient sync` at the same moment, ten times. The one that loses the advisory lock waits for it or
    says the sync is running; never two fetches for one key at a time, no error, no duplicate key,
    and the data afterwards is exactly what the API served."""
    key = new_master_key_b64()
    monkeypatch.setenv("GRAFIENT_MASTER_KEY", key)
    events = a_month(7, per_day=30)
    teams = Teams(FakeCursorTeam(api_key=GOOD_KEY, events=events))
    with TrackingServer(teams, FaultPlan(delay=0.15)) as server:
        _settings, db, vault = open_store()
        iid = add_integration(db, vault, label="Eng", provider="cursor", api_key=Secret(GOOD_KEY), now=NOW).id
        want = expected_snapshot(events, first=MONTH_START, last=TODAY, today=TODAY)
        lines: list[str] = []
        for trial in range(10):
            runs = [
                subprocess.Popen(
                    [sys.executable, "-m", "grafient_tui", "sync", "--force"],
                    env=_child_env(grafient_home.parent / f"machine-{m}", key, server.url),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for m in "ab"
            ]
            for run in runs:
                out, err = run.communicate(timeout=PATIENCE)
                # the one that gave up says so, naming who held the lock, and exits 1
                assert (run.returncode, err) == (0 if out.rstrip().endswith("ok") else 1, ""), (trial, out, err)
                lines.append(out)
            assert snapshot_via_store(db, iid) == want, trial
        assert server.peak == {GOOD_KEY: 1}  # one sync of the key at any moment, across both machines
        host, user = who_runs()
        # The loser names the holder as far as the holder has got when it asks: its run in the sync log
        # (the usual case), or only its lock's session when the holder has taken the lock but not yet
        # logged its run (a loaded machine can sit between the two for seconds), or nobody when the
        # holder finished between the last try and the question. All three say a sync is running and
        # that this one gave up; which one comes is the machine's timing, never the contract.
        ok = re.compile(r"Eng: \d+ days written, \d+ API calls, .*ok\n")
        blocked = re.compile(
            r"Eng: 0 days written, 0 API calls, blocked: a sync for Eng is already running"
            rf"(: {re.escape(user)} on {re.escape(host)} \(a force sync started 2026-03-12 \d\d:\d\d UTC\)"
            r"|: another Grafient's session \(role '[^']+', process \d+ on the server\)"
            r"| elsewhere); this one gave up after 2 s\n"
        )
        assert all(ok.fullmatch(line) or blocked.fullmatch(line) for line in lines), lines
        assert sum(line.rstrip().endswith("ok") for line in lines) >= 10
        with db.session() as session:
            runs_logged = list(session.exec(select(SyncRun).where(SyncRun.integration_id == iid)))
        assert {r.outcome for r in runs_logged} == {"success"} and all(r.error is None for r in runs_logged)
        db.dispose()


@pytest.mark.postgres
def test_concurrent_writers_of_one_window_never_meet_a_duplicate_key() -> None:
    """Without any sync lock (an older grafient, a lock lost with its connection): four writers replace
    the same window at once, twenty times. The integration row's lock puts them one after another."""
    settings, db, vault = open_store()
    iid = add_integration(db, vault, label="Eng", provider="cursor", api_key=Secret(GOOD_KEY), now=NOW).id
    first, last = TODAY - timedelta(days=29), TODAY

    def totals(seed: int) -> WindowTotals:
        window = WindowTotals(first, last)
        for offset in range(30):
            day = first + timedelta(days=offset)
            window.days[day] = day_sums(seed * 100 + offset, on_demand=0, requests=1)
            window.models[(day, "gpt-5")] = model_sums(seed * 100 + offset, requests=1)
            window.members[(day, "a@x.io")] = MemberSums(cost_micro=seed * 100 + offset, requests=1)
        return window

    errors: list[BaseException] = []
    writers = [Database(settings) for _ in range(4)]
    for _ in range(20):
        barrier = threading.Barrier(len(writers))

        def write(own: Database, seed: int) -> None:
            barrier.wait()  # noqa: B023  (each round waits before the next starts)
            try:
                write_window(own, iid, first, last, totals(seed), NOW)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(own, seed)) for seed, own in enumerate(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=PATIENCE)
    assert errors == []
    days, models, members = snapshot_via_store(db, iid)
    assert len(days) == len(models) == len(members) == 30
    seed = days[0][1] // 100  # the last writer's window, whole: no day from one writer beside another's
    assert [d[1] for d in days] == [seed * 100 + offset for offset in range(30)]
    for own in writers:
        own.dispose()
    db.dispose()


@pytest.mark.postgres
async def test_a_sync_running_on_another_machine_is_syncing_for_everyone_and_interrupted_once_it_is_gone(
    pg: PostgresServer, grafient_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock, not the sync log, tells: another machine's run is `syncing` to every viewer and is
    left alone by a sync starting here; when its session ends without finishing (a killed process, a
    vanished machine), it is `interrupted` everywhere at once."""
    key = new_master_key_b64()
    monkeypatch.setenv("GRAFIENT_MASTER_KEY", key)
    settings, db, vault = open_store()
    iid = add_integration(db, vault, label="Eng", provider="cursor", api_key=Secret(GOOD_KEY), now=NOW).id
    # The other machine's first page never comes: its sync holds the lock until the test kills it.
    team = Teams(FakeCursorTeam(api_key=GOOD_KEY, events=a_month(3)))
    with TrackingServer(team, FaultPlan(hold_events_after=0)) as server:
        elsewhere = subprocess.Popen(
            [sys.executable, "-m", "grafient_tui", "sync"],
            env=_child_env(grafient_home.parent / "server", key, server.url),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            wait_until(lambda: server.in_flight[GOOD_KEY] > 0, "the other machine's sync", process=elsewhere)
            assert is_sync_running(settings, iid, db)
            assert sync_status(db, settings, iid).status == "syncing"
            # a third machine's view, through the CLI
            listed = subprocess.run(
                [sys.executable, "-m", "grafient_tui", "list", "--format", "json"],
                env=_child_env(grafient_home.parent / "viewer", key, server.url),
                capture_output=True,
                text=True,
                timeout=PATIENCE,
            )
            assert '"status": "syncing"' in listed.stdout, listed
            # a sync starting here waits for the lock, then says the other one is running
            result = await run_sync(
                db,
                vault,
                settings,
                iid,
                "force",
                now=NOW,
                transport=httpx.MockTransport(lambda request: httpx.Response(500)),
            )
            host, user = who_runs()
            assert (result.outcome, result.blocked, result.error) == (
                "skipped",
                True,
                f"a sync for Eng is already running: {user} on {host} (a daily sync started 2026-03-12 10:30 UTC); "
                "this one gave up after 2 s",
            )
            assert sync_status(db, settings, iid).status == "syncing"  # and it did not mark it interrupted
        finally:
            elsewhere.kill()
            elsewhere.wait(timeout=PATIENCE)
    # the server notices the dead session
    wait_until(lambda: not is_sync_running(settings, iid, db), "the dead session's lock to go", poll=0.05)
    state = sync_status(db, settings, iid)
    assert (state.status, state.error) == ("interrupted", "the last sync stopped before it finished")
    db.dispose()


@pytest.mark.postgres
def test_the_lock_of_one_integration_leaves_the_others_free() -> None:
    settings, db, vault = open_store()
    a = add_integration(db, vault, label="A", provider="cursor", api_key=Secret(GOOD_KEY), now=NOW).id
    b = add_integration(db, vault, label="B", provider="cursor", api_key=Secret(GOOD_KEY), now=NOW).id
    held = sync_lock(settings, a, db)
    assert held.try_acquire()
    try:
        other_machine = Database(settings)
        assert not sync_lock(settings, a, other_machine).try_acquire()
        free = sync_lock(settings, b, other_machine)
        assert free.try_acquire()
        free.release()
        assert is_sync_running(settings, a, other_machine) and not is_sync_running(settings, b, other_machine)
        other_machine.dispose()
    finally:
        held.release()
    assert not is_sync_running(settings, a, db)
    db.dispose()


@pytest.mark.postgres
async def test_a_lock_session_the_server_ended_before_its_first_statement_is_taken_again(pg: PostgresServer) -> None:
    """The server ends the lock's new session before the sync's first statement on it (a DBA's
    idle_session_timeout shorter than a loaded machine's pause between connecting and asking; here
    pg_terminate_backend at connect, so no timing is involved): the sync takes its lock on a new session
    rather than failing."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    settings, db, vault = open_store()
    iid = add_integration(db, vault, label="Eng", provider="cursor", api_key=Secret(GOOD_KEY), now=NOW).id
    ended: list[int] = []

    def end_the_first_lock_session(dbapi_connection: Any, _record: object) -> None:
        if not ended and dbapi_connection.info.parameter_status("application_name") == "grafient sync lock":
            ended.append(dbapi_connection.info.backend_pid)
            pg.sql("SELECT pg_terminate_backend(:pid)", pid=ended[0])
            wait_until(
                lambda: not pg.sql("SELECT 1 FROM pg_stat_activity WHERE pid = :pid", pid=ended[0]),
                "the lock's first session to end",
            )

    event.listen(Engine, "connect", end_the_first_lock_session)
    try:
        lock = sync_lock(settings, iid, db)
        assert await lock.acquire(0)
    finally:
        event.remove(Engine, "connect", end_the_first_lock_session)
    try:
        assert ended and lock.pid is not None and lock.pid != ended[0]
        lock.check()  # held, on its second session
        other_machine = Database(settings)
        assert is_sync_running(settings, iid, other_machine)
        other_machine.dispose()
    finally:
        lock.release()
        db.dispose()


# ------------------------------------------------------------------ PostgreSQL: roles, the team's master key

SYNCER_GRANTS = (
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
    "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}",
)
VIEWER_GRANTS = ("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}",)
# Roles belong to the whole server, not to a test's database: pg.role names each after its worker and
# test, and the README's roles, named as README names them, are made by tests that take turns
# (conftest's server_wide_names).
SERVER_ROLES = pytest.mark.usefixtures("server_wide_names")


def grant(pg: PostgresServer, database: str, role: str, grants: tuple[str, ...]) -> str:
    """A login role of this test granted `grants` on `database`; its name (`role` plus a suffix)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    role = pg.role(role)
    engine = create_engine(pg.url_of(database), poolclass=NullPool)
    with engine.begin() as connection:
        for statement in grants:
            connection.execute(text(statement.format(role=role)))
    engine.dispose()
    return role


def team_database(pg: PostgresServer, monkeypatch: pytest.MonkeyPatch, master_key: str) -> tuple[str, int]:
    """A team database (owned by the test's superuser) with one integration synced by the server."""
    name = pg.database()
    monkeypatch.setenv("GRAFIENT_DATABASE_URL", pg.url_of(name))
    monkeypatch.setenv("GRAFIENT_MASTER_KEY", master_key)
    _settings, db, vault = open_store()
    iid = add_integration(db, vault, label="Eng", provider="cursor", api_key=Secret(GOOD_KEY), now=NOW).id
    db.dispose()
    return name, iid


def sync_log(pg: PostgresServer, database: str) -> list[tuple]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(pg.url_of(database), poolclass=NullPool)
    with engine.connect() as connection:
        rows = [tuple(r) for r in connection.execute(text("SELECT outcome, error FROM syncrun ORDER BY id"))]
    engine.dispose()
    return rows


def as_teammate(monkeypatch: pytest.MonkeyPatch, home: Path, url: str, master_key: str | None) -> None:
    monkeypatch.setenv("GRAFIENT_HOME", str(home))
    monkeypatch.setenv("GRAFIENT_DATABASE_URL", url)
    if master_key is None:
        monkeypatch.delenv("GRAFIENT_MASTER_KEY", raising=False)
    else:
        monkeypatch.setenv("GRAFIENT_MASTER_KEY", master_key)


@SERVER_ROLES
@pytest.mark.postgres
@pytest.mark.parametrize("who", ["viewer role", "no master key", "another master key"])
def test_a_viewer_reads_everything_and_changes_nothing(
    pg: PostgresServer,
    capsys,
    monkeypatch,
    grafient_home: Path,
    who: str,
) -> None:
    from tests.helpers import run_cli

    team_key = new_master_key_b64()
    name, _iid = team_database(pg, monkeypatch, team_key)
    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=FakeCursorTeam(api_key=GOOD_KEY, events=a_month(5)).handler)
        monkeypatch.setenv("GRAFIENT_NOW", NOW_TEXT)
        assert run_cli(capsys, monkeypatch, "sync").code == 0  # the server's cron
        assert run_cli(capsys, monkeypatch, "budget", "set", "Eng", "1").code == 0  # over at once
        before = sync_log(pg, name)
        if who == "viewer role":
            finance = grant(pg, name, "finance", VIEWER_GRANTS)
            as_teammate(monkeypatch, grafient_home.parent / "finance", pg.url_of(name, user=finance), team_key)
            reason = (
                "this database role may read but not change Grafient's data (it lacks INSERT on integration): you "
                "are a viewer; syncing, adding and removing are the syncers' (see README, A shared team database)."
            )
        else:
            lead = grant(pg, name, "lead", SYNCER_GRANTS)
            home = grafient_home.parent / "lead"
            as_teammate(
                monkeypatch,
                home,
                pg.url_of(name, user=lead),
                None if who == "no master key" else new_master_key_b64(),
            )
            from grafient_tui.store.team import recorded_fingerprint, short

            settings = Settings.from_env()
            db = Database(settings)
            recorded = recorded_fingerprint(db)
            db.dispose()
            assert recorded is not None
            mine = "" if who == "no master key" else " (its own is another one)"
            reason = (
                f"this machine does not have the team's master key ({short(recorded)}…){mine}, so it cannot open "
                f"the stored API keys: it views only. To sync, add, rekey or remove here, supply the team's key "
                f"with GRAFIENT_MASTER_KEY or the file {home / 'master.key'}."
            )
        report = run_cli(capsys, monkeypatch, "report", "--format", "json")
        assert report.code == 0 and '"synced_days": 30' in report.out
        assert run_cli(capsys, monkeypatch, "list").code == 0
        assert run_cli(capsys, monkeypatch, "check").code == 4  # budgets are read like everything else
        from grafient_tui.service import GrafientService

        # its app announces nothing (it could not note it): the syncers' apps do
        assert GrafientService(Settings.from_env()).budget_alerts(NOW) == []
        calls = len(api.calls)
        for args in (
            ("sync",),
            ("sync", "Eng", "--force"),
            ("remove", "Eng", "--yes"),
            ("rekey", "Eng"),
            ("add", "openai", "--label", "Ops"),
            ("budget", "set", "Eng", "5"),
            ("budget", "remove", "Eng"),
        ):
            result = run_cli(capsys, monkeypatch, *args, stdin=GOOD_KEY)
            assert (result.code, result.out, result.err) == (2, "", f"grafient: {reason}\n"), args
        # the team's settings are the owner's, whoever else asks
        role = finance if who == "viewer role" else lead
        for args in (("plan", "pro"), ("pace", "cursor", "5")):
            result = run_cli(capsys, monkeypatch, *args)
            assert (result.code, result.out, result.err) == (
                2,
                "",
                "grafient: the team's settings are the database owner's to change (role 'postgres', which owns "
                f"Grafient's tables), and this role is '{role}'; run it as the owner (see README, A shared team "
                "database).\n",
            ), args
        assert len(api.calls) == calls  # nothing was asked of the API
    assert sync_log(pg, name) == before  # and nothing of the viewer's landed in the team's sync log
    assert not (grafient_home.parent / "lead" / "master.key").exists()  # no second master key was made


@SERVER_ROLES
@pytest.mark.postgres
async def test_the_app_of_a_viewer_starts_no_sync_and_greys_what_it_cannot_do(
    pg: PostgresServer, monkeypatch, grafient_home: Path
) -> None:
    from grafient_tui.tui.app import GrafientApp
    from tests.store_sync.test_concurrency import RecordingApp

    team_key = new_master_key_b64()
    name, _iid = team_database(pg, monkeypatch, team_key)
    finance = grant(pg, name, "finance", VIEWER_GRANTS)
    as_teammate(monkeypatch, grafient_home.parent / "finance", pg.url_of(name, user=finance), team_key)
    calls: list[httpx.Request] = []
    app = RecordingApp(
        Settings.from_env(),
        now=lambda: NOW,
        transport=httpx.MockTransport(lambda request: calls.append(request) or httpx.Response(500)),
    )
    assert isinstance(app, GrafientApp)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.live.store_ready, "the store")
        await settle(app, pilot)
        assert app.live.store_ready and app.live.viewer_reason and not app.syncs  # never synced: still nothing started
        for action in ("add", "force_sync", "force_sync_all", "delete"):
            assert app.screen.check_action(action, ()) is None, action
        await pilot.press("r", "R", "a", "d")
        await pilot.pause()
        assert not app.syncs and app.screen is app.screen_stack[-1] and len(app.screen_stack) == 1
        app.daily_tick()
        await app.workers.wait_for_complete()
        assert not app.syncs
    assert calls == []
    assert [n for n in app.notes if "Viewing only" in n] == [f"Viewing only: {app.live.viewer_reason}"]
    assert not [n for n in app.notes if "permission denied" in n.lower()]
    assert sync_log(pg, name) == []


@SERVER_ROLES
@pytest.mark.postgres
def test_the_team_s_master_key_opens_a_teammate_s_syncs_and_adds_never_make_another(
    pg: PostgresServer, capsys, monkeypatch, grafient_home: Path
) -> None:
    from grafient_tui.store.team import fingerprint, recorded_fingerprint
    from tests.helpers import run_cli

    team_key = new_master_key_b64()
    name, _iid = team_database(pg, monkeypatch, team_key)
    syncer = grant(pg, name, "syncer", SYNCER_GRANTS)
    home = grafient_home.parent / "second-server"
    key_file = home / "master.key"
    as_teammate(monkeypatch, home, pg.url_of(name, user=syncer), None)
    home.mkdir(mode=0o700)
    key_file.write_text(team_key + "\n")  # distributed as the key file this time
    key_file.chmod(0o600)
    monkeypatch.setenv("GRAFIENT_NOW", NOW_TEXT)
    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=FakeCursorTeam(api_key=GOOD_KEY, events=a_month(9)).handler)
        synced = run_cli(capsys, monkeypatch, "sync")
        assert (synced.code, synced.err) == (0, ""), synced
        assert run_cli(capsys, monkeypatch, "rekey", "Eng", stdin=GOOD_KEY).code == 0
    settings = Settings.from_env()
    db = Database(settings)
    import base64

    assert recorded_fingerprint(db) == fingerprint(base64.b64decode(team_key))
    assert sync_log(pg, name) == [("success", None)]
    db.dispose()
    assert key_file.read_text().strip() == team_key  # the same key, never replaced


@pytest.mark.postgres
def test_team_settings_are_followed_by_every_syncer(
    pg: PostgresServer,
    capsys,
    monkeypatch,
    grafient_home: Path,
) -> None:
    from grafient_tui.store.team import effective_settings
    from grafient_tui.sync.due import days_to_fetch
    from tests.helpers import run_cli

    team_key = new_master_key_b64()
    name, iid = team_database(pg, monkeypatch, team_key)
    assert run_cli(capsys, monkeypatch, "plan").out == "free (backfills 30 days)\n"
    assert run_cli(capsys, monkeypatch, "plan", "pro").code == 0
    paced = run_cli(capsys, monkeypatch, "pace", "cursor", "600")
    assert paced.out == "cursor keys are paced to 600 requests per minute for every syncer of this database\n"
    # another machine, whose own config.toml says free and whose environment says 0 (no pacing)
    as_teammate(monkeypatch, grafient_home.parent / "laptop", pg.url_of(name), team_key)
    settings = Settings.from_env()
    settings.ensure_dirs()
    settings.set_plan("free")
    assert run_cli(capsys, monkeypatch, "plan").out.startswith("pro (backfills 365 days; ")
    shown = run_cli(capsys, monkeypatch, "pace", "cursor").out
    assert shown == "cursor: 600 requests per minute (the team's setting)\n"
    db = Database(settings)
    team = effective_settings(db, settings)
    assert (team.plan(), team.rpm("cursor", 20)) == ("pro", 600.0)
    assert len(days_to_fetch(db, team, iid, "daily", NOW)) == 366  # the team's year, not this machine's month
    db.dispose()
    monkeypatch.setenv("GRAFIENT_NOW", NOW_TEXT)
    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=FakeCursorTeam(api_key=GOOD_KEY, events=a_month(4)).handler)
        synced = run_cli(capsys, monkeypatch, "sync")
    # 13 windows of usage events and /teams/spend once per sync
    assert synced.out.startswith("Eng: 366 days written, 14 API calls"), synced


@pytest.mark.sqlite_only
def test_a_home_s_pacing_stays_its_environment_s(capsys, monkeypatch) -> None:
    from tests.helpers import run_cli

    refused = run_cli(capsys, monkeypatch, "pace", "cursor", "5")
    assert (refused.code, refused.err) == (
        2,
        "grafient: a home's own pacing is GRAFIENT_CURSOR_RPM; `grafient pace` "
        "sets the pacing a shared database's syncers all follow.\n",
    )
    assert (
        run_cli(capsys, monkeypatch, "pace", "cursor").out
        == "cursor: no pacing (GRAFIENT_CURSOR_RPM on this machine)\n"
    )


@SERVER_ROLES
@pytest.mark.postgres
def test_the_readme_s_roles_set_up_a_team(pg: PostgresServer, capsys, monkeypatch, grafient_home: Path) -> None:
    """The SQL of README's "A shared team database", as written: the owner sets the schema up and the
    team's plan, the syncer adds and syncs, the viewer reads and is told it views only."""
    from tests.helpers import run_cli
    from tests.team_db import set_up_readme_team

    name = set_up_readme_team(pg)
    team_key = new_master_key_b64()
    monkeypatch.setenv("GRAFIENT_NOW", NOW_TEXT)

    as_teammate(monkeypatch, grafient_home.parent / "cron", pg.url_of(name, user="grafient_sync"), team_key)
    early = run_cli(capsys, monkeypatch, "list")
    assert early.code == 2 and early.err == (
        "grafient: the team database is empty and this role may not create its "
        "tables; run `grafient db upgrade` once as the database's owner (see "
        "README, A shared team database).\n"
    )
    as_teammate(monkeypatch, grafient_home.parent / "owner", pg.url_of(name, user="grafient_owner"), None)
    assert run_cli(capsys, monkeypatch, "db", "upgrade").code == 0

    as_teammate(monkeypatch, grafient_home.parent / "cron", pg.url_of(name, user="grafient_sync"), team_key)
    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=FakeCursorTeam(api_key=GOOD_KEY, events=a_month(2)).handler)
        added = run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=GOOD_KEY)
        assert (added.code, added.err) == (0, ""), added
    as_teammate(monkeypatch, grafient_home.parent / "owner", pg.url_of(name, user="grafient_owner"), None)
    planned = run_cli(capsys, monkeypatch, "plan", "pro")  # the owner needs no master key for it
    assert (planned.code, planned.err) == (0, ""), planned
    as_teammate(monkeypatch, grafient_home.parent / "finance", pg.url_of(name, user="grafient_view"), None)
    report = run_cli(capsys, monkeypatch, "report", "--format", "csv")
    assert report.code == 0 and report.out.count("\n") == 31
    assert run_cli(capsys, monkeypatch, "plan").out == (
        "pro (backfills 365 days; OpenAI 180, OpenRouter 30, GitHub Copilot 730, xAI 90, ElevenLabs 90)\n"
    )
    refused = run_cli(capsys, monkeypatch, "sync")
    assert refused.code == 2 and "you are a viewer" in refused.err
