"""One database for a team: several machines (here: several GRAFIENT_HOMEs, each its own process)
syncing, reading and changing the same PostgreSQL database. The tests without the `postgres` mark
run on whichever store this run uses, so they hold on SQLite as well.

Everything is read back through the store (tests/oracle.snapshot_via_store), never from a file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
from grafient_tui.store.vault import Vault, new_master_key_b64
from grafient_tui.sync.engine import WindowTotals, run_sync, sync_status, who_runs, write_window
from grafient_tui.sync.lock import is_sync_running, sync_lock
from tests.conftest import GOOD_KEY, PostgresServer
from tests.fake_server import FaultPlan
from tests.oracle import expected_snapshot, snapshot_via_store, utc_ms
from tests.test_concurrency import Teams, TrackingServer

NOW = datetime(2026, 3, 12, 10, 30, tzinfo=UTC)
NOW_TEXT = "2026-03-12T10:30:00Z"
TODAY = NOW.date()
MONTH_START = TODAY - timedelta(days=30)


def open_store() -> tuple[Settings, Database, Vault]:
    settings = Settings.from_env()
    settings.ensure_dirs()
    return settings, Database(settings), Vault(settings)


def a_month(seed: int, per_day: int = 20) -> list[dict]:
    events = make_events(seed=seed, start=MONTH_START, days=31, per_day=per_day, members=["a@x.io", "b@x.io"],
                         models=["gpt-5", "o3"])
    return [e for e in events if int(e["timestamp"]) <= utc_ms(NOW)]


# ------------------------------------------------------------------ on either database

async def test_control_characters_from_the_api_are_dropped_before_storage() -> None:
    """NUL cannot be stored in PostgreSQL text at all; both databases drop it and the other C0
    characters, so names that differ only by them are one name, with one total."""
    settings, db, vault = open_store()
    iid = add_integration(db, vault, label="Eng", provider="cursor", api_key=Secret(GOOD_KEY), now=NOW).id
    day = int((NOW - timedelta(days=1)).timestamp() * 1000)
    events = [{"timestamp": str(day + i), "userEmail": email, "model": model, "kind": "Usage-based",
               "isChargeable": True, "chargedCents": 10}
              for i, (model, email) in enumerate([("gpt-5", "a@x.io"), ("gpt\x00-5", "a\x00@x.io"),
                                                  ("gpt-5\x1b\x07", "a@x.io\x7f"), ("o3\u202e", "b@x.io")])]
    team = FakeCursorTeam(api_key=GOOD_KEY, events=events)
    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=team.handler)
        result = await run_sync(db, vault, settings, iid, "backfill", now=NOW)
    assert result.outcome == "success", result.error
    since = TODAY - timedelta(days=30)
    assert [(m.model, m.cost_micro, m.requests) for m in model_breakdown(db, iid, since, TODAY)] == [
        ("gpt-5", 30_000_000, 3), ("o3\u202e", 10_000_000, 1)]  # a bidi override is no C0 character: kept, shown escaped
    assert [(m.email, m.requests) for m in member_breakdown(db, iid, since, TODAY)] == [("a@x.io", 3), ("b@x.io", 1)]
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
    """"Eng" and " eng " from two threads at once (two connections): one is added, the other is told the
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
            thread.join(timeout=60)
        assert sorted(outcomes)[0] == "added" and len(outcomes) == 2, outcomes
        assert "already exists" in outcomes[1] or "already exists" in sorted(outcomes)[1], outcomes
        assert len(list_integrations(db)) == 1
    db.dispose()


# ------------------------------------------------------------------ PostgreSQL: several machines

def _child_env(home: Path, master_key: str, api_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(GRAFIENT_HOME=str(home), GRAFIENT_MASTER_KEY=master_key, GRAFIENT_CURSOR_API_URL=api_url,
               GRAFIENT_NOW=NOW_TEXT, PYTHONUNBUFFERED="1")
    return env


@pytest.mark.postgres
def test_two_machines_syncing_one_integration_at_once_ten_times_agree_and_never_fail(
        pg: PostgresServer, grafient_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two homes (two machines: separate lock directories, one database, the team's master key) run
    `grafient sync` at the same moment, ten times. The one that loses the advisory lock waits for it or
    says the sync is running; never two fetches for one key at a time, no error, no duplicate key,
    and the data afterwards is exactly what the API served."""
    key = new_master_key_b64()
    monkeypatch.setenv("GRAFIENT_MASTER_KEY", key)
    events = a_month(7, per_day=30)
    teams = Teams(FakeCursorTeam(api_key=GOOD_KEY, events=events))
    with TrackingServer(teams, FaultPlan(delay=0.15)) as server:
        settings, db, vault = open_store()
        iid = add_integration(db, vault, label="Eng", provider="cursor", api_key=Secret(GOOD_KEY), now=NOW).id
        want = expected_snapshot(events, first=MONTH_START, last=TODAY, today=TODAY)
        lines: list[str] = []
        for trial in range(10):
            runs = [subprocess.Popen([sys.executable, "-m", "grafient_tui", "sync", "--force"],
                                     env=_child_env(grafient_home.parent / f"machine-{m}", key, server.url),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                    for m in "ab"]
            for run in runs:
                out, err = run.communicate(timeout=120)
                assert (run.returncode, err) == (0, ""), (trial, out, err)
                lines.append(out)
            assert snapshot_via_store(db, iid) == want, trial
        assert server.peak == {GOOD_KEY: 1}  # one sync of the key at any moment, across both machines
        assert all(line.startswith("Eng: ") and line.rstrip().endswith(
            ("ok", "skipped: a sync for Eng is already running")) for line in lines), lines
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
            window.days[day] = [seed * 100 + offset, 0, seed * 100 + offset, 1, 0, 0, 0, 0, 0, None, None]
            window.models[(day, "gpt-5")] = [seed * 100 + offset, 1, 0, 0, 0, 0, None]
            window.members[(day, "a@x.io")] = [seed * 100 + offset, 1]
        return window

    errors: list[BaseException] = []
    writers = [Database(settings) for _ in range(4)]
    for _ in range(20):
        barrier = threading.Barrier(len(writers))

        def write(own: Database, seed: int) -> None:
            barrier.wait()
            try:
                write_window(own, iid, first, last, totals(seed), NOW)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(own, seed)) for seed, own in enumerate(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
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
        pg: PostgresServer, grafient_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lock, not the sync log, tells: another machine's run is `syncing` to every viewer and is
    left alone by a sync starting here; when its session ends without finishing (a killed process, a
    vanished machine), it is `interrupted` everywhere at once."""
    key = new_master_key_b64()
    monkeypatch.setenv("GRAFIENT_MASTER_KEY", key)
    settings, db, vault = open_store()
    iid = add_integration(db, vault, label="Eng", provider="cursor", api_key=Secret(GOOD_KEY), now=NOW).id
    with TrackingServer(Teams(FakeCursorTeam(api_key=GOOD_KEY, events=a_month(3))), FaultPlan(delay=30)) as server:
        elsewhere = subprocess.Popen([sys.executable, "-m", "grafient_tui", "sync"],
                                     env=_child_env(grafient_home.parent / "server", key, server.url),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while server.in_flight[GOOD_KEY] == 0:
                assert time.monotonic() < deadline and elsewhere.poll() is None, "the other machine never synced"
                time.sleep(0.05)
            assert is_sync_running(settings, iid, db)
            assert sync_status(db, settings, iid).status == "syncing"
            # a third machine's view, through the CLI
            listed = subprocess.run([sys.executable, "-m", "grafient_tui", "list", "--format", "json"],
                                    env=_child_env(grafient_home.parent / "viewer", key, server.url),
                                    capture_output=True, text=True, timeout=60)
            assert '"status": "syncing"' in listed.stdout, listed
            # a sync starting here waits for the lock, then says the other one is running
            result = await run_sync(db, vault, settings, iid, "force", now=NOW,
                                    transport=httpx.MockTransport(lambda request: httpx.Response(500)))
            assert (result.outcome, result.error) == ("skipped", "a sync for Eng is already running")
            assert sync_status(db, settings, iid).status == "syncing"  # and it did not mark it interrupted
        finally:
            elsewhere.kill()
            elsewhere.wait(timeout=30)
    deadline = time.monotonic() + 30
    while is_sync_running(settings, iid, db):  # the server notices the dead session
        assert time.monotonic() < deadline
        time.sleep(0.05)
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
