"""A second copy of Grafient, and a third: the TUI and two `grafient sync` processes at once.

Everything goes over the real network path to one local fake Cursor API (tests/fake_server.py),
so the three processes share the server, the data dir and the SQLite database, as a user's TUI
and a cron job would. The server answers every usage-events page after a delay, so the syncs
truly overlap, and records, per API key (one key = one integration), how many such requests
are in flight at once and which (window, page) each request asked for. That is the witness of
"one sync per integration at a time": the sync log's times come from each process's own clock
(GRAFIENT_NOW plus the time it has run), so they cannot be compared across processes.
"""

from __future__ import annotations

import base64
import collections
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import event
from sqlmodel import select

from grafient_tui.config import Settings
from grafient_tui.providers.cursor.fake import FakeCursorTeam, make_events
from grafient_tui.secret import Secret
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import add_integration
from grafient_tui.store.models import SyncRun
from grafient_tui.store.queries import daily_costs
from grafient_tui.store.team import who_runs
from grafient_tui.store.vault import Vault
from grafient_tui.sync.engine import run_sync
from grafient_tui.sync.lock import is_sync_running
from grafient_tui.tui.app import GrafientApp
from tests.conftest import GOOD_KEY
from tests.fake_server import EVENTS_PATH, FaultPlan, FaultyCursorServer
from tests.helpers import PATIENCE, wait_for
from tests.oracle import expected_snapshot, integrity, snapshot_via_store, utc_ms

NOW = datetime(2026, 3, 12, 10, 30, tzinfo=UTC)
NOW_TEXT = "2026-03-12T10:30:00Z"
TODAY = NOW.date()
YEAR_START = TODAY - timedelta(days=365)
OPS_KEY = "crsr_" + "0f1e2d3c" * 6
PAGE_DELAY = 0.3  # seconds per usage-events page: Eng takes 24 pages (~7 s), Ops 13 (~4 s)
LOCKED = ("database is locked", "database is busy")  # SQLite's words, and the sentence we turn them into


def served(events: list[dict]) -> list[dict]:
    """Only what Cursor could have sent by NOW."""
    return [e for e in events if int(e["timestamp"]) <= utc_ms(NOW)]


class Teams:
    """Two fake Cursor teams behind one server, told apart by the Authorization header."""

    def __init__(self, *teams: FakeCursorTeam) -> None:
        self.teams = {team.expected_authorization: team for team in teams}
        self.fetched: collections.Counter[tuple[str, int, int, int]] = collections.Counter()

    def handler(self, request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("authorization", "")
        team = self.teams.get(auth) or next(iter(self.teams.values()))  # a wrong key gets that team's 401
        if request.url.path == EVENTS_PATH and auth in self.teams:
            body = json.loads(request.content)
            self.fetched[(team.api_key, body["startDate"], body["endDate"], body["page"])] += 1
        return team.handler(request)


class TrackingServer(FaultyCursorServer):
    """The fault server, counting usage-events requests in flight per key (delay included)."""

    def __init__(self, teams: Teams, plan: FaultPlan) -> None:
        super().__init__(teams, plan)  # type: ignore[arg-type]  (anything with .handler will do)
        self.teams = teams
        self._track = threading.Lock()
        self.in_flight: collections.Counter[str] = collections.Counter()
        self.peak: collections.Counter[str] = collections.Counter()
        self.peak_total = 0

    def start(self) -> None:
        super().start()
        assert self._server is not None
        owner, base = self, self._server.RequestHandlerClass

        class Tracking(base):  # type: ignore[misc, valid-type]
            def _serve(self) -> None:
                if urlsplit(self.path).path != EVENTS_PATH:
                    super()._serve()
                    return
                key = _key_of(self.headers.get("authorization", ""))
                with owner._track:
                    owner.in_flight[key] += 1
                    owner.peak[key] = max(owner.peak[key], owner.in_flight[key])
                    owner.peak_total = max(owner.peak_total, sum(owner.in_flight.values()))
                try:
                    super()._serve()
                finally:
                    with owner._track:
                        owner.in_flight[key] -= 1

        self._server.RequestHandlerClass = Tracking  # before any request: none can have been served yet

    def reset(self) -> None:
        with self._track:
            self.peak.clear()
            self.peak_total = 0
        self.teams.fetched.clear()


def _key_of(authorization: str) -> str:
    try:
        return base64.b64decode(authorization.removeprefix("Basic ")).decode().rstrip(":")
    except ValueError:
        return "?"


class RecordingApp(GrafientApp):
    """The app, keeping every notification (Textual drops them when they expire)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.notes: list[str] = []

    def notify(self, message: str, *, title: str = "", **kwargs) -> None:
        self.notes.append(f"{title}: {message}")
        super().notify(message, title=title, **kwargs)


def child_env() -> dict[str, str]:
    env = dict(os.environ)  # conftest's GRAFIENT_HOME, no backoff, no pacing; plus the server and the date
    env.update(GRAFIENT_NOW=NOW_TEXT, PYTHONUNBUFFERED="1")
    return env


class Child:
    """`grafient ARGS` in a child process; its output goes to files (a full pipe would stall it)."""

    def __init__(self, directory: Path, *args: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.out_path, self.err_path = directory / "stdout", directory / "stderr"
        self.started = time.monotonic()
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "grafient_tui", *args],
                env=child_env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )

    def running(self) -> bool:
        return self.process.poll() is None

    def finish(self, deadline: float) -> tuple[int, str, str, float]:
        """(exit code, stdout, stderr, seconds it ran)."""
        code = self.process.wait(timeout=max(1.0, deadline - time.monotonic()))
        seconds = time.monotonic() - self.started
        return code, self.out_path.read_text(), self.err_path.read_text(), seconds

    def kill(self) -> None:
        if self.running():
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.mark.slow
async def test_the_tui_and_two_sync_processes_run_one_sync_per_integration_and_never_lock(
    monkeypatch: pytest.MonkeyPatch, grafient_home: Path
) -> None:
    """Eng and Ops have a month stored (plan free); the plan is raised to pro and the TUI
    force-syncs Eng: eleven months to fetch, ~7 s at the server's pace. Meanwhile two
    `grafient sync --force` processes start. Each finds Eng busy and says so; then they race
    for Ops: one syncs it (alongside the TUI's Eng sync, in another process, on the same
    database), the other finds it busy and says so. The TUI, asked to sync everything while
    that runs, says another process is syncing Ops. Throughout, the test process reads the
    store and `grafient report` processes print it.

    Proven: every (integration, window, page) was fetched exactly once and never two requests
    for one key at a time (one sync per integration at any moment), while requests of both
    keys were in flight together (different integrations in parallel); each process exits 0;
    no "database is locked" (nor the "database is busy" sentence we would turn it into) in any
    output, notification or sync-log error; every read succeeded promptly and saw the data
    grow window by window; and the final store equals the served events exactly."""
    deadline = time.monotonic() + PATIENCE  # a hang guard for the whole test (~10 s on an idle machine)
    eng_events = served(
        make_events(
            seed=12, start=YEAR_START, days=366, per_day=40, members=["a@x.io", "b@x.io"], models=["gpt-5", "o3"]
        )
    )  # 2 pages a month
    ops_events = served(
        make_events(seed=13, start=YEAR_START, days=366, per_day=10, members=["c@x.io"], models=["claude-4.5-sonnet"])
    )  # 1 page a month
    teams = Teams(
        FakeCursorTeam(api_key=GOOD_KEY, events=eng_events), FakeCursorTeam(api_key=OPS_KEY, events=ops_events)
    )
    children: list[Child] = []
    report: Child | None = None
    with TrackingServer(teams, FaultPlan()) as server:
        monkeypatch.setenv("GRAFIENT_CURSOR_API_URL", server.url)
        settings = Settings.from_env()
        settings.ensure_dirs()
        db, vault = Database(settings), Vault(settings)
        eng = add_integration(db, vault, label="Eng", provider="cursor", api_key=Secret(GOOD_KEY), now=NOW).id
        ops = add_integration(db, vault, label="Ops", provider="cursor", api_key=Secret(OPS_KEY), now=NOW).id
        for iid in (eng, ops):  # a month each, synced this morning: nothing is due when the app opens
            assert (await run_sync(db, vault, settings, iid, "backfill", now=NOW)).outcome == "success"
        db.dispose()
        server.reset()
        server.plan.delay = PAGE_DELAY

        reader = Database(settings)  # the test's own connection, for reads while others write
        if reader.sqlite_file is not None:
            # A read that had to wait for a writer fails at once ("database is locked") instead of
            # waiting: every read below succeeding is the proof that none waited, whatever the pace.
            @event.listens_for(reader.engine, "connect")
            def _never_wait(dbapi_connection, _record) -> None:
                dbapi_connection.execute("PRAGMA busy_timeout = 0")

            reader.engine.dispose()  # the connection opened meanwhile had the user's 15 s
        reads: list[tuple[int, int]] = []  # (Eng days stored, Ops days stored)
        reports: list[tuple[int, str, str, float]] = []
        app = RecordingApp(settings, now=lambda: NOW)  # no transport: the real network path
        try:
            async with app.run_test(size=(120, 40)) as pilot:
                await wait_for(pilot, lambda: app.live.store_ready and app.focused is not None, "the store to open")
                assert app.focused.id == f"card-{eng}" and not app.syncs  # nothing was due
                settings.set_plan("pro")  # 335 more days to fetch, for both
                await pilot.press("r")
                await wait_for(pilot, lambda: server.in_flight[GOOD_KEY] > 0, "the TUI's Eng sync")
                assert set(app.syncs) == {eng}

                runs_dir = grafient_home.parent / "children"
                children = [Child(runs_dir / f"sync-{i}", "sync", "--force") for i in (1, 2)]
                pressed_sync_all = False
                while any(c.running() for c in children) or app.syncs:
                    assert time.monotonic() < deadline, "the syncs did not finish in time"
                    days = [sum(r.synced for r in daily_costs(reader, iid, YEAR_START, TODAY)) for iid in (eng, ops)]
                    reads.append((days[0], days[1]))
                    if report is not None and not report.running():
                        reports.append(report.finish(deadline))
                        report = None
                    if report is None and len(reports) < 4:
                        report = Child(
                            runs_dir / f"report-{len(reports)}", "report", "--format", "json", "--days", "366"
                        )
                    if not pressed_sync_all and ops not in app.syncs and is_sync_running(settings, ops, reader):
                        await pilot.press("R")  # sync all: Eng is running here, Ops in another process
                        pressed_sync_all = True
                    await pilot.pause(0.1)
                if report is not None:
                    reports.append(report.finish(deadline))
                results = [c.finish(deadline)[:3] for c in children]
                await pilot.pause()
                notes = list(app.notes)
        finally:
            for child in [*children, *([report] if report is not None else [])]:
                child.kill()
        with reader.session() as session:
            runs = list(session.exec(select(SyncRun).order_by(SyncRun.id)))
        reader.dispose()
        fetched, peak, peak_total = dict(teams.fetched), dict(server.peak), server.peak_total

    # One sync per integration: every window page was asked for once, and never two at a time per key.
    assert fetched and set(fetched.values()) == {1}, [k for k, n in fetched.items() if n > 1]
    windows = {key: {(s, e) for k, s, e, _ in fetched if k == key} for key in (GOOD_KEY, OPS_KEY)}
    assert len(windows[GOOD_KEY]) == len(windows[OPS_KEY]) == 13  # 3 recent days + 335 older days in 12 windows
    assert peak == {GOOD_KEY: 1, OPS_KEY: 1}
    assert peak_total == 2, "Eng and Ops were never fetched at the same time"
    # The sync log: the two backfills, then one forced sync each (the skipped attempts never start a run).
    assert sorted((r.trigger, r.integration_id, r.outcome, r.error) for r in runs) == [
        ("backfill", eng, "success", None),
        ("backfill", ops, "success", None),
        ("force", eng, "success", None),
        ("force", ops, "success", None),
    ]

    # The two processes: each says Eng is busy; one syncs Ops, the other says Ops is busy. On SQLite that
    # is a skip (exit 0); a shared database names who holds the lock, and a sync that gave up exits 1.
    shared = settings.database_file is None
    host, user = who_runs()

    def busy(label: str) -> str:
        if not shared:
            return f"{label}: 0 days written, 0 API calls, skipped: a sync for {label} is already running"
        return (
            f"{label}: 0 days written, 0 API calls, blocked: a sync for {label} is already running: {user} on {host} "
            f"(a force sync started {NOW:%Y-%m-%d %H:%M} UTC); this one gave up after 2 s"
        )

    for code, out, err in results:
        assert code == (1 if shared else 0) and err == "", (code, out, err)
        lines = out.splitlines()
        assert lines[0] == busy("Eng"), out
        assert len(lines) == 2
    ops_lines = sorted(out.splitlines()[1] for _, out, _ in results)
    assert ops_lines == [
        busy("Ops"),
        # 12 windows of usage events, the team's members, and /teams/spend once per sync
        "Ops: 338 days written, 14 API calls, ok",
    ], ops_lines

    # The TUI: its own sync finished, and it said Ops was being synced elsewhere.
    assert pressed_sync_all
    # (SQLite: the app sees the lock file at once; a shared database's lock is asked by the sync, in a thread)
    assert any(
        "Another grafient process is syncing this integration" in n or "Ops: A sync for Ops is already running" in n
        for n in notes
    ), notes
    assert any(n.startswith("Sync finished: Eng: 338 days synced") for n in notes), notes

    # No "database is locked" anywhere.
    texts = [
        *notes,
        *(out + err for _, out, err in results),
        *(out + err for _, out, err, _ in reports),
        *(r.error or "" for r in runs),
    ]
    assert not [t for t in texts if any(word in t.lower() for word in LOCKED)]

    # Reads kept working during the writes: none waited for a writer (on SQLite it could not: see the
    # reader above; PostgreSQL's reads never wait for writes), and they watched the data grow.
    assert len(reads) >= 20
    eng_seen = sorted({e for e, _ in reads})
    assert eng_seen[0] == 31 and len(eng_seen) >= 4, eng_seen  # a month, then window after window
    assert len({o for _, o in reads}) >= 3
    assert len(reports) >= 2
    for code, out, err, _seconds in reports:
        # A report that had queued for the write lock until SQLite's busy timeout would have failed
        # with "database is busy" (in err and texts above); how long it took is the machine's business.
        assert code == 0 and err == "", (code, err)
        data = json.loads(out)
        assert [i["label"] for i in data["integrations"]] == ["Eng", "Ops"]
        assert all(len(i["days"]) == 366 for i in data["integrations"])

    # And what they wrote side by side is exact (read through the store: SQLite or PostgreSQL).
    if settings.database_file is not None:
        assert integrity(settings.database_file) == "ok"
    reader = Database(settings)
    try:
        assert snapshot_via_store(reader, eng) == expected_snapshot(
            eng_events, first=YEAR_START, last=TODAY, today=TODAY
        )
        assert snapshot_via_store(reader, ops) == expected_snapshot(
            ops_events, first=YEAR_START, last=TODAY, today=TODAY
        )
    finally:
        reader.dispose()
