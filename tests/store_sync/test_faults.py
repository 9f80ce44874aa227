"""Grafient against a real local HTTP server that misbehaves: faults, SIGKILL, no network.

The server (tests/fake_server.py) serves a FakeCursorTeam on 127.0.0.1 and injects faults
from a seeded RNG; the app reaches it through GRAFIENT_CURSOR_API_URL like any other
address. Expected numbers come from tests/oracle.py, which never imports the code under test.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from grafient_tui.config import Settings
from grafient_tui.providers.cursor.fake import FakeCursorTeam, make_events
from grafient_tui.secret import Secret
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import add_integration
from grafient_tui.store.models import SyncRun
from grafient_tui.store.vault import Vault
from grafient_tui.sync.engine import run_sync
from tests.conftest import GOOD_KEY
from tests.fake_server import FaultPlan, FaultyCursorServer, closed_port_url
from tests.helpers import OTHER_KEY, PATIENCE, FakeClock, run_cli, wait_until
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
YEAR_START = TODAY - timedelta(days=365)  # plan pro keeps today-365 .. today: 366 days
MEMBERS = ["a@x.io", "b@x.io", "c@x.io", "d@x.io"]
MODELS = ["gpt-5", "claude-4.5-sonnet", "default", "o3"]


def served(events: list[dict]) -> list[dict]:
    """Only what Cursor could have sent by NOW."""
    return [e for e in events if int(e["timestamp"]) <= utc_ms(NOW)]


NEW_KEY = "key_" + "7a6b5c4d" * 8  # a key no integration holds


def team_with(events: list[dict]) -> FakeCursorTeam:
    return FakeCursorTeam(api_key=GOOD_KEY, events=events, members=[{"name": "A", "email": "a@x.io", "role": "owner"}])


def open_store(monkeypatch: pytest.MonkeyPatch, api_url: str, *, backoff: str = "0.01"):
    monkeypatch.setenv("GRAFIENT_CURSOR_API_URL", api_url)
    monkeypatch.setenv("GRAFIENT_BACKOFF_BASE", backoff)
    settings = Settings.from_env()
    settings.ensure_dirs()
    return settings, Database(settings), Vault(settings)


def sync_runs(db: Database) -> list[SyncRun]:
    with db.session() as session:
        return list(session.exec(select(SyncRun).order_by(SyncRun.id)))


# ------------------------------------------------------------------ faults


async def test_a_month_through_every_kind_of_fault_is_exact(monkeypatch, grafient_home: Path) -> None:
    """The default suite's quick pass over the local server: each fault kind once, in a fixed
    order (5xx of every flavour, both truncations, 429 with and without Retry-After, slow
    first byte and slow body), then a clean month that must come out exact."""
    events = served(
        make_events(seed=21, start=TODAY - timedelta(days=30), days=31, per_day=40, members=MEMBERS, models=MODELS)
    )
    # three answered requests (a two-page window and a one-day window), each after three faults
    script = ["500", "short", "429", "ok", "close", "502", "429-seconds", "slow", "503", "504", "429-date", "slow-body"]
    plan = FaultPlan(script=script, slow_seconds=(0.01, 0.03))
    with FaultyCursorServer(team_with(events), plan, seed=1) as server:
        settings, db, vault = open_store(monkeypatch, server.url, backoff="0.001")
        iid = add_integration(db, vault, label="Eng", provider="cursor", api_key=Secret(GOOD_KEY)).id
        result = await run_sync(db, vault, settings, iid, "backfill", now=NOW)
        assert result.outcome == "success", result.error
        assert set(server.faults) == set(script) - {"ok"}
        # three 429s, four 5xx and two truncations were retried; slow answers are answers
        # (and one answered /teams/spend after the windows)
        assert result.rate_limited == 3 and result.retries == 9 and result.requests == 13
    want = expected_snapshot(events, first=TODAY - timedelta(days=30), last=TODAY, today=TODAY)
    assert store_snapshot(settings.database_file, iid) == want


@pytest.mark.slow
async def test_a_year_backfill_under_faults_ends_exactly_equal_to_the_served_events(
    monkeypatch,
    grafient_home: Path,
) -> None:
    """Plan pro, 366 days, ~25,000 events (busy windows take up to seven pages, so some fifty
    requests are answered and each fault comes up more than once) through 15% 5xx,
    5% truncated bodies (half short with a matching Content-Length, half cut off mid-body), a
    rolling limit of 8 requests a second (the server's seconds: its clock ticks a tenth with each
    request, so the 429s come however fast the machine is) answered by 429 with or without
    Retry-After, and slow answers; plus an eight-request outage so at least one window exhausts its six tries.

    A window that exhausts its tries fails the run, which is what a user sees on a bad day: the
    sync is run again (as cron or the TUI would), at most eight times. After every run,
    failed or not, every stored day must already be exact (a window is written whole or not at
    all) and every day stored before the run must be unchanged. The last run must succeed and
    the whole year must equal the served events."""
    max_runs = 8

    def per_day(day: date) -> int:
        return 200 if day.month in (2, 5, 7, 9) else 5  # four busy months

    events = served(make_events(seed=365, start=YEAR_START, days=366, per_day=per_day, members=MEMBERS, models=MODELS))
    assert 20_000 < len(events) < 30_000
    plan = FaultPlan(
        server_error_rate=0.15,
        truncate_rate=0.05,
        slow_rate=0.2,
        slow_seconds=(0.005, 0.06),
        rate_limit=8,
        rate_window=1.0,
        clock=FakeClock(tick=0.1),  # ten requests a "second", whatever the machine's pace: two of each ten get 429
        retry_after_rate=0.6,
        outage=(10, 18),
    )
    want = expected_snapshot(events, first=YEAR_START, last=TODAY, today=TODAY)
    with FaultyCursorServer(team_with(events), plan, seed=2026) as server:
        settings, db, vault = open_store(monkeypatch, server.url)
        settings.set_plan("pro")
        iid = add_integration(db, vault, label="Eng", provider="cursor", api_key=Secret(GOOD_KEY)).id
        results = []
        for _ in range(max_runs):
            before = store_snapshot(settings.database_file, iid)
            result = await run_sync(db, vault, settings, iid, "backfill", now=NOW)
            results.append(result)
            after = store_snapshot(settings.database_file, iid)
            stored_days = {row[0] for row in after[0]}
            assert restrict(want, stored_days) == after, "a stored day differs from the served events"
            for table_before, table_after in zip(before, after, strict=True):
                assert set(table_before) <= set(table_after), "a run changed or lost a day stored before it"
            if result.outcome == "success":
                break
            assert result.error and result.error[0].islower() and "\n" not in result.error
        faults, answered = dict(server.faults), server.answered
    assert results[-1].outcome == "success", [r.error for r in results]
    assert len(results) >= 2  # the outage made the first run fail part-way
    assert 0 < results[0].days_written < 366
    assert store_snapshot(settings.database_file, iid) == want
    for kind in ("500", "502", "503", "504", "short", "close", "429", "slow", "slow-body"):
        assert faults.get(kind, 0) > 0, f"no {kind} in {faults} ({answered} answered)"
    assert faults.get("429-seconds", 0) + faults.get("429-date", 0) > 0, faults
    runs = sync_runs(db)
    assert [r.outcome for r in runs] == ["failed"] * (len(results) - 1) + ["success"]
    assert [r.error for r in runs[:-1]] == [r.error for r in results[:-1]]
    assert sum(r.days_written for r in runs) >= 366


# ------------------------------------------------------------------ SIGKILL


def child_env(home: Path, api_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAFIENT_")}
    env.update(
        GRAFIENT_HOME=str(home),
        GRAFIENT_CURSOR_API_URL=api_url,
        GRAFIENT_NOW=NOW_TEXT,
        GRAFIENT_BACKOFF_BASE="0.01",
        GRAFIENT_CURSOR_RPM="0",
        PYTHONUNBUFFERED="1",
    )
    return env


def grafient(
    env: dict[str, str], *args: str, stdin: str = "", timeout: float = PATIENCE
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grafient_tui", *args],
        env=env,
        input=stdin,
        text=True,
        capture_output=True,
        timeout=timeout,
    )


def spawn_sync(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "grafient_tui", "sync"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def setup_home(env: dict[str, str]) -> None:
    """plan pro, and the integration added from a key piped on stdin (never argv), no backfill."""
    assert grafient(env, "plan", "pro").returncode == 0
    added = grafient(env, "add", "cursor", "--label", "Eng", "--no-backfill", stdin=GOOD_KEY + "\n")
    assert added.returncode == 0, added.stderr


@pytest.mark.slow
def test_sigkill_twenty_times_mid_backfill_then_a_clean_run_equals_an_uninterrupted_one(tmp_path: Path) -> None:
    """A year of ~30,000 events (three pages a window) from a server that takes 0.1 s per page.

    `grafient sync` runs in a child process and is SIGKILLed twenty times at seeded moments:
    a quarter at a random time after start (imports, lock, the sync-log row, the first
    request), the rest after the child has received 1-4 pages plus a random sliver (so the kill
    lands in a request, in parsing or in the window's write). The kills are bounded to about one
    window per run, so they all land mid-backfill. After each kill the database must pass
    `PRAGMA integrity_check` and hold only exact, whole windows; `grafient list` must call the
    integration interrupted. Then a run that is left alone must produce exactly the data of an
    uninterrupted run, and the sync log must show every killed run that had started as
    interrupted, never as success."""
    rng = random.Random(20)
    events = served(make_events(seed=99, start=YEAR_START, days=366, per_day=83, members=MEMBERS, models=MODELS))
    # `grafient sync` on pro: today-365 .. today so far
    want = expected_snapshot(events, first=YEAR_START, last=TODAY, today=TODAY)
    plan = FaultPlan(delay=0.1)
    with FaultyCursorServer(team_with(events), plan, seed=5) as server:
        reference = tmp_path / "reference"
        env = child_env(reference, server.url)
        setup_home(env)
        done = grafient(env, "sync")
        assert done.returncode == 0, done.stderr
        reference_data = store_snapshot(reference / "grafient.db")
        assert reference_data == want

        home = tmp_path / "killed"
        env = child_env(home, server.url)
        setup_home(env)
        database = home / "grafient.db"
        after_requests = 0  # kills made after the child had been answered (so its sync-log row exists)
        partial_kills = 0
        for kill in range(20):
            start = server.completed
            child = spawn_sync(env)
            try:
                if rng.random() < 0.25:
                    time.sleep(rng.uniform(0.0, 1.2))
                else:
                    pages = rng.randint(1, 4)
                    wait_until(
                        lambda: server.completed - start >= pages,  # noqa: B023  (this run's)
                        f"run {kill} to be answered {pages} pages",
                        process=child,
                        poll=0.002,
                    )
                    time.sleep(rng.uniform(0.0, 0.12))  # the kill lands a sliver after: in parsing, or the write
                    after_requests += 1
                assert child.poll() is None, f"run {kill} finished before it was killed: {child.stderr.read()!r}"
                child.send_signal(signal.SIGKILL)
            finally:
                child.kill()
                child.wait(timeout=PATIENCE)
                child.stderr.close()
            assert child.returncode == -signal.SIGKILL
            assert integrity(database) == "ok"
            stored = store_snapshot(database)
            stored_days = {row[0] for row in stored[0]}
            assert restrict(want, stored_days) == stored, f"kill {kill} left a partial or wrong window"
            partial_kills += 0 < len(stored_days) < 366
            started = len(all_rows(database)["syncrun"])  # killed runs that got as far as their sync-log row
            listed = json.loads(grafient(env, "list", "--format", "json").stdout)
            assert listed[0]["status"] == ("interrupted" if started else "never synced"), listed

        assert len(stored_days) < 366, "the kills did not land mid-backfill"
        assert partial_kills >= 10
        final = grafient(env, "sync")
        assert final.returncode == 0, final.stderr
        assert final.stdout.startswith("Eng: ") and final.stdout.rstrip().endswith(", ok")

    assert integrity(database) == "ok"
    assert store_snapshot(database) == reference_data
    rows = all_rows(database)["syncrun"]
    con_columns = ["id", "integration_id", "trigger", "started_at", "finished_at", "outcome"]
    runs = [dict(zip(con_columns, r[:6], strict=True)) for r in sorted(rows)]
    assert runs[-1]["outcome"] == "success"
    killed = runs[:-1]
    assert after_requests <= len(killed) <= 20
    assert all(r["outcome"] == "interrupted" for r in killed), [r["outcome"] for r in killed]
    listed = json.loads(grafient(env, "list", "--format", "json").stdout)
    assert listed[0]["status"] == "ok"


# ------------------------------------------------------------------ offline


def test_offline_every_command_shows_stored_data_and_names_the_network(
    capsys,
    monkeypatch,
    grafient_home: Path,
) -> None:
    monkeypatch.setenv("GRAFIENT_NOW", NOW_TEXT)
    events = served(
        make_events(
            seed=8, start=TODAY - timedelta(days=30), days=31, per_day=6, members=MEMBERS[:2], models=MODELS[:2]
        )
    )
    with FaultyCursorServer(team_with(events)) as server:
        monkeypatch.setenv("GRAFIENT_CURSOR_API_URL", server.url)
        assert run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=GOOD_KEY).code == 0
        # a second team, added without a sync (the fake server serves one team)
        settings = Settings.from_env()
        add_integration(Database(settings), Vault(settings), label="Ops", provider="cursor", api_key=Secret(OTHER_KEY))
        online = {
            (by, fmt): run_cli(capsys, monkeypatch, "report", "--by", by, "--format", fmt).out
            for by in ("day", "model", "member")
            for fmt in ("table", "json", "csv")
        }

    monkeypatch.setenv("GRAFIENT_CURSOR_API_URL", closed_port_url())
    database = grafient_home / "grafient.db"
    stored = all_rows(database)
    assert len(stored["dailycost"]) == 31

    def ok(*args: str) -> str:
        result = run_cli(capsys, monkeypatch, *args)
        assert result.code == 0 and result.err == "", (args, result)
        return result.out

    listed = json.loads(ok("list", "--format", "json"))
    assert [(r["label"], r["status"]) for r in listed] == [("Eng", "ok"), ("Ops", "never synced")]
    assert "Eng" in ok("list") and "Ops" in ok("list")
    for (by, fmt), before in online.items():
        assert ok("report", "--by", by, "--format", fmt) == before  # the same report as when online
    day = json.loads(ok("report", "Eng", "--days", "31", "--format", "json"))
    assert sum(d["requests"] for d in day["integrations"][0]["days"]) == len(events)
    assert ok("plan").startswith("free")
    assert all_rows(database) == stored

    for args, code in ((("add", "cursor", "--label", "New"), 2), (("rekey", "Ops"), 2)):
        result = run_cli(capsys, monkeypatch, *args, stdin=NEW_KEY)
        assert result.code == code, result
        assert result.err.startswith("grafient: cannot reach the Cursor API at 127.0.0.1 (connection refused")
        assert len(result.err.splitlines()) == 1 and "Traceback" not in result.err
        assert GOOD_KEY not in result.err + result.out and NEW_KEY not in result.err + result.out
    assert all_rows(database) == stored

    result = run_cli(capsys, monkeypatch, "sync")
    assert result.code == 1 and "Traceback" not in result.out + result.err
    lines = result.out.splitlines()
    assert len(lines) == 2 and all(", failed: cannot reach the Cursor API at 127.0.0.1" in line for line in lines)
    assert lines[0].startswith("Eng: 0 days written")
    after = all_rows(database)
    assert {t: rows for t, rows in after.items() if t != "syncrun"} == {
        t: rows for t, rows in stored.items() if t != "syncrun"
    }
    statuses = json.loads(ok("list", "--format", "json"))
    assert [r["status"] for r in statuses] == ["failed", "failed"]
    assert statuses[0]["last_sync"] is not None  # the last good sync is still shown

    assert "removed integration 2 'Ops'" in ok("remove", "Ops", "--yes")
    assert [r["label"] for r in json.loads(ok("list", "--format", "json"))] == ["Eng"]
