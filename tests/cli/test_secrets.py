"""The key stays secret: a canary key goes everywhere a key goes, then every byte we can reach is searched.

The canary is "key_CANARY" plus 54 seeded random characters. It is looked for whole, and as every
16-character piece of it (after the `key_` prefix) and of its Basic-auth form (what goes on the
wire), so a key cut short, or base64-encoded, counts as leaked too. What may show is the hint:
the prefix and the last four characters.

The API is the local fake server (tests/fake_server.py) over real HTTP, with its faults, and a
team that, when told to, answers with an error whose message repeats the key it was sent.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import random
import sqlite3
import string
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from rich.console import Console
from sqlmodel import select
from textual import on
from textual.message import Message
from textual.widgets import Input, Static

from grafient_tui.config import Settings
from grafient_tui.providers.cursor.fake import FakeCursorTeam, make_events
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import find_integration, integration_key
from grafient_tui.store.models import SyncRun
from grafient_tui.store.vault import Vault
from grafient_tui.sync.engine import run_sync
from grafient_tui.tui.app import GrafientApp
from grafient_tui.tui.screens.add import AddIntegrationScreen
from grafient_tui.tui.widgets.card import IntegrationCard
from tests.fake_server import EVENTS_PATH, FaultPlan, FaultyCursorServer
from tests.helpers import PATIENCE, wait_for, wide_open_paths
from tests.oracle import utc_ms

NOW = datetime(2026, 3, 12, 10, 30, tzinfo=UTC)
NOW_TEXT = "2026-03-12T10:30:00Z"
TODAY = NOW.date()

CANARY = "key_CANARY" + "".join(random.Random(20260312).choices(string.ascii_letters + string.digits, k=54))
BASIC = base64.b64encode(f"{CANARY}:".encode()).decode()  # the Authorization header carries this
HINT = "key_…" + CANARY[-4:]
NEEDLES = sorted({text[i : i + 16] for text in (CANARY[4:], BASIC) for i in range(len(text) - 15)})


def leaks(blob: bytes | str) -> list[str]:
    """The pieces of the canary found in blob (empty when it holds none)."""
    data = blob.encode("utf-8", "surrogateescape") if isinstance(blob, str) else blob
    return [needle for needle in NEEDLES if needle.encode() in data]


def assert_no_canary(sources: dict[str, bytes | str]) -> None:
    found = {name: leaks(blob)[:3] for name, blob in sources.items() if leaks(blob)}
    assert not found, f"the canary leaked into: {found}"


def every_file_under(root: Path) -> dict[str, bytes]:
    return {str(path): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


class EchoingTeam(FakeCursorTeam):
    """A Cursor team whose errors repeat the key they were sent, as careless servers do."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.reject = False  # every request: 401 "Invalid API key <the key> (Authorization: Basic ...)"
        self.echo_500 = 0  # the next N usage-events requests: 500 with the key in the message

    def handler(self, request: httpx.Request) -> httpx.Response:
        authorization = request.headers.get("authorization", "")
        presented = base64.b64decode(authorization.removeprefix("Basic ")).decode().rstrip(":")
        if self.reject:
            message = f"Invalid API key {presented} (Authorization: {authorization})"
            return httpx.Response(401, json={"error": "Unauthorized", "message": message})
        if self.echo_500 and request.url.path == EVENTS_PATH:
            self.echo_500 -= 1
            return httpx.Response(
                500,
                json={"error": "Internal Server Error", "message": f"upstream failed for {presented}; {authorization}"},
            )
        return super().handler(request)


def canary_team() -> EchoingTeam:
    events = make_events(
        seed=17,
        start=TODAY - timedelta(days=30),
        days=31,
        per_day=6,
        members=["a@x.io", "b@x.io"],
        models=["gpt-5", "o3"],
    )
    return EchoingTeam(api_key=CANARY, events=[e for e in events if int(e["timestamp"]) <= utc_ms(NOW)])


def open_wal_holder(database: Path) -> sqlite3.Connection:
    """A connection held open to the end, so the -wal file (and what it holds) outlives the writers."""
    holder = sqlite3.connect(database)
    holder.execute("SELECT count(*) FROM sqlite_master").fetchall()
    assert Path(f"{database}-wal").exists()
    return holder


# ------------------------------------------------------------------ the command line, in child processes


@dataclass
class Ran:
    args: tuple[str, ...]
    code: int
    out: str
    err: str
    proc_views: set[bytes] = field(default_factory=set)  # what /proc/<pid>/{cmdline,environ} showed


def run_child(
    env: dict[str, str],
    out_dir: Path,
    *args: str,
    stdin: str = "",
    umask0: bool = False,
    module_args: tuple[str, ...] = ("-m", "grafient_tui"),
    timeout: float = PATIENCE,
) -> Ran:
    """Run a child, feed stdin, and read its argv and environment from /proc while it runs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    n = len(list(out_dir.glob("*.out")))
    out_path, err_path = out_dir / f"{n}.out", out_dir / f"{n}.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        # umask=0 is set in the child between fork and exec, as preexec_fn=lambda: os.umask(0) would be
        child = subprocess.Popen(
            [sys.executable, *module_args, *args],
            env=env,
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=err,
            umask=0 if umask0 else -1,
        )
    views: set[bytes] = set()
    deadline = time.monotonic() + timeout
    try:
        assert child.stdin is not None
        child.stdin.write(stdin.encode())
        child.stdin.close()
        while child.poll() is None:
            assert time.monotonic() < deadline, f"{args} did not finish in {timeout} s"
            for part in ("cmdline", "environ"):
                try:
                    views.add(part.encode() + b":" + Path(f"/proc/{child.pid}/{part}").read_bytes())
                except OSError:
                    pass  # it has just exited
            time.sleep(0.005)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=PATIENCE)
    assert any(v.startswith(b"cmdline:") and b"python" in v for v in views), "argv was never read while it ran"
    return Ran(args, child.returncode, out_path.read_text(), err_path.read_text(), views)


def child_env(server_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)  # conftest's GRAFIENT_HOME, no backoff, no pacing
    env.update(GRAFIENT_CURSOR_API_URL=server_url, GRAFIENT_NOW=NOW_TEXT, PYTHONUNBUFFERED="1", **extra)
    return env


def test_the_canary_never_leaves_the_command_line(tmp_path: Path, grafient_home: Path) -> None:
    """`grafient add` (validated: 500 then 200) with a backfill through 429s, 5xx and a body cut
    mid-stream; `grafient add` refused by a 401 whose message repeats the key and its Basic
    header; `grafient sync --force` through a 429, a 502 and 500s that repeat the key (one
    integration fails, the other gets through): once plainly and once with GRAFIENT_DEBUG=1.
    Each says what happened (with "[redacted]" where the server echoed the key), and no byte of
    any output, argv, environment, file, database or -wal holds the canary."""
    team = canary_team()
    outputs = tmp_path / "outputs"
    database = grafient_home / "grafient.db"
    Database(Settings.from_env()).dispose()  # create it, so the holder can open it first
    holder = open_wal_holder(database)
    runs: list[Ran] = []
    try:
        with FaultyCursorServer(team, FaultPlan(slow_seconds=(0.01, 0.02)), seed=7) as server:
            for debug in (False, True):
                # One key is one team, added once: each round has a home of its own (the second one a
                # sibling of the first, so every file of both is searched for the canary below).
                home = {"GRAFIENT_HOME": str(tmp_path / "home-debug"), "GRAFIENT_DEBUG": "1"} if debug else {}
                env = child_env(server.url, **home)
                suffix = " debug" if debug else ""

                team.reject = True
                refused = run_child(env, outputs, "add", "cursor", "--label", f"Bad{suffix}", stdin=CANARY + "\n")
                team.reject = False
                runs.append(refused)
                assert refused.code == 2 and refused.out == ""
                assert (
                    "grafient: the key was rejected by Cursor (HTTP 401: Invalid API key [redacted] "
                    "(Authorization: Basic [redacted]))"
                ) in refused.err

                # validate: 500, 200; backfill: two windows, each through two faults
                server._script = ["500", "ok", "429", "503", "ok", "429-seconds", "close", "ok"]
                added = run_child(env, outputs, "add", "cursor", "--label", f"Eng{suffix}", stdin=CANARY + "\n")
                runs.append(added)
                assert added.code == 0, added.err
                assert f"(cursor, key {HINT}, 2 members)" in added.out and added.out.rstrip().endswith(", ok")
                assert (
                    "31 days written, 7 API calls (2 rate-limited, 4 retries), ok" in added.out
                )  # the 7th: /teams/spend

                again = run_child(env, outputs, "add", "cursor", "--label", f"Again{suffix}", stdin=CANARY + "\n")
                runs.append(again)
                assert again.code == 2 and "already stored" in again.err  # refused before any request

                # 429, 502, then four 500s that quote the key: the sync fails.
                server._script = ["429", "502"]
                team.echo_500 = 4
                synced = run_child(env, outputs, "sync", "--force")
                runs.append(synced)
                assert synced.code == 1
                assert synced.out.splitlines() == [
                    f"Eng{suffix}: 0 days written, 6 API calls (1 rate-limited, 5 retries), failed: the Cursor API "
                    "failed with HTTP 500 after 6 tries: upstream failed for [redacted]; Basic [redacted]"
                ]
                if debug:
                    assert "grafient.cursor: POST /teams/filtered-usage-events -> 500" in synced.err
                else:
                    assert synced.err == ""

        errors = []
        for db_file in (database, tmp_path / "home-debug" / "grafient.db"):
            with sqlite3.connect(db_file) as con:
                errors += [row[0] for row in con.execute("SELECT error FROM syncrun WHERE outcome = 'failed'")]
        assert len(errors) == 2 and all("[redacted]" in e for e in errors)
        assert Path(f"{database}-wal").stat().st_size > 0  # still there, with what the children wrote
        sources: dict[str, bytes | str] = every_file_under(tmp_path)
    finally:
        holder.close()
    for ran in runs:
        sources[f"{ran.args} stdout"] = ran.out
        sources[f"{ran.args} stderr"] = ran.err
        for j, view in enumerate(sorted(ran.proc_views)):
            sources[f"{ran.args} /proc view {j}"] = view
    assert any(str(database) + "-wal" == name for name in sources)
    assert_no_canary(sources)


# ------------------------------------------------------------------ the TUI, logs, crash reports, screenshots


class RecordingApp(GrafientApp):
    """The app, keeping every notification (Textual drops them when they expire)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.notes: list[str] = []
        self.crash_report = io.StringIO()
        self.error_console = Console(file=self.crash_report, width=160, color_system=None)

    def notify(self, message: str, *, title: str = "", **kwargs) -> None:
        self.notes.append(f"{title}: {message}")
        super().notify(message, title=title, **kwargs)


class WorkerCrashApp(RecordingApp):
    """A worker that fails with the key in a local variable and in its message."""

    BINDINGS = [("f12", "boom", "Boom")]  # a key no screen of the app binds (b opens the budgets)

    def action_boom(self) -> None:
        self.run_worker(self._boom(), name="boom")  # exit_on_error: the app's crash path

    async def _boom(self) -> None:
        api_key = integration_key(self.service.vault, find_integration(self.service.db, "Acme")).reveal()
        raise RuntimeError(f"worker failed while holding {api_key}")


class HandlerCrashApp(RecordingApp):
    """A message handler that fails with the key only in a local (Textual's own crash report prints locals)."""

    BINDINGS = [("f12", "boom", "Boom")]

    class Poke(Message):
        pass

    def action_boom(self) -> None:
        self.post_message(self.Poke())

    @on(Poke)
    def _poked(self) -> None:
        api_key = integration_key(self.service.vault, find_integration(self.service.db, "Acme")).reveal()
        assert api_key
        raise ValueError("the handler failed")


class LeakyProxy(httpx.AsyncHTTPTransport):
    """A transport that fails with the request's credentials in its message: a bug below us."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        authorization = request.headers["authorization"]
        key = base64.b64decode(authorization.removeprefix("Basic ")).decode().rstrip(":")
        raise RuntimeError(f"proxy refused {authorization} ({key})")


@pytest.fixture
def debug_log(tmp_path: Path) -> Iterator[Path]:
    """DEBUG from grafient, httpx and httpcore into one file, as a user debugging a problem would set it."""
    path = tmp_path / "logs" / "debug.log"
    path.parent.mkdir()
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    saved = []
    for name in ("grafient", "httpx", "httpcore"):
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.handlers[:], logger.propagate))
        logger.handlers[:] = [handler]
        logger.setLevel(logging.DEBUG)
    try:
        yield path
    finally:
        for logger, level, handlers, propagate in saved:
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate = propagate
        handler.close()


async def test_the_canary_never_leaves_the_tui_its_logs_crash_reports_or_screenshots(
    tmp_path: Path,
    grafient_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    debug_log: Path,
) -> None:
    """In the TUI, over the real network path: the add form refused by a 401 that echoes the
    key; added (500 then 200) and backfilled through 429s, 5xx and read timeouts (a 2 s timeout
    against answers that stall until the client gives up); a forced sync failing on 500s that echo the
    key; the detail screen and a CSV export; a screenshot of each, one of the form with the key
    typed in. Then two crashes with the key in a local variable: a worker (key in the message
    too) and a message handler; and a sync whose transport fails with the key in its message.
    DEBUG logging of grafient, httpx and httpcore goes to a file throughout."""
    # Far above what a clean answer takes on any machine; the stalled ones last until this ends them.
    monkeypatch.setattr("grafient_tui.providers.http._DEFAULT_TIMEOUT", httpx.Timeout(2.0))
    team = canary_team()
    shots = tmp_path / "screenshots"
    shots.mkdir()
    screenshots: dict[str, str] = {}
    crash_reports: dict[str, str] = {}
    notes: list[str] = []
    settings = Settings.from_env()
    settings.ensure_dirs()
    Database(settings).dispose()
    holder = open_wal_holder(settings.database_file)
    try:
        with FaultyCursorServer(team, FaultPlan(stall_until_hangup=True), seed=11) as server:
            monkeypatch.setenv("GRAFIENT_CURSOR_API_URL", server.url)
            settings = Settings.from_env()
            app = RecordingApp(settings, now=lambda: NOW)

            def shoot(name: str) -> None:
                screenshots[name] = app.export_screenshot()
                app.save_screenshot(f"{name}.svg", path=str(shots))

            async with app.run_test(size=(120, 40)) as pilot:
                await wait_for(pilot, lambda: app.live.store_ready, "the store")
                await pilot.press("a")
                await wait_for(pilot, lambda: isinstance(app.screen, AddIntegrationScreen), "the add form")
                form = app.screen
                await pilot.press("tab", *"Acme")  # the form opens on Provider; then the label
                form.query_one("#key", Input).value = CANARY  # pasted
                await pilot.pause()
                shoot("add-typed")
                team.reject = True
                await pilot.press("tab", "enter")
                key_error = form.query_one("#key-error", Static)
                await wait_for(pilot, lambda: not form.checking and "401" in str(key_error.render()), "the refusal")
                refusal = str(key_error.render())
                assert "Invalid API key [redacted] (Authorization: Basic [redacted])" in refusal
                shoot("add-refused")

                team.reject = False
                # validate: 500, 200; window 1: 429, timeout, 503, 200; window 2: 429, timeout mid-body, 200
                server._script = [
                    "500",
                    "ok",
                    "429",
                    "slow",
                    "503",
                    "ok",
                    "429-seconds",
                    "slow-body",
                    "ok",
                ]
                form.query_one("#key", Input).value = CANARY
                form.query_one("#key", Input).focus()
                await pilot.press("enter")
                await wait_for(pilot, lambda: not isinstance(app.screen, AddIntegrationScreen), "the key check")
                await wait_for(
                    pilot,
                    lambda: app.focused is not None and not app.syncs and not server._script,
                    "the backfill",
                )
                card = app.screen.query_one(IntegrationCard)
                # the screen re-reads the store in a thread once the sync has ended
                await wait_for(pilot, lambda: card.view.state == "ok", "the card to show the finished sync")
                assert card.view.state == "ok" and card.view.key_hint == HINT, card.view
                assert server.faults["slow"] == server.faults["slow-body"] == 1
                shoot("home")

                team.echo_500 = 6
                await pilot.press("r")
                await wait_for(pilot, lambda: not app.syncs and card.view.state == "error", "the failed sync")
                assert "upstream failed for [redacted]; Basic [redacted]" in (card.view.error or "")
                shoot("home-failed")
                await pilot.press("enter")
                await wait_for(pilot, lambda: getattr(app.screen, "data", None) is not None, "the detail's figures")
                shoot("detail")
                await pilot.press("e")
                exports = grafient_home / "exports"
                await wait_for(pilot, lambda: list(exports.glob("*.csv")), "the CSV export")  # written in a thread
                await pilot.press("escape")
                await pilot.pause()
            notes += app.notes
            crash_reports["normal exit"] = app.crash_report.getvalue()

            for crashing in (WorkerCrashApp, HandlerCrashApp):
                app = crashing(settings, now=lambda: NOW)
                with pytest.raises(Exception) as raised:  # run_test hands the crash back to the test
                    async with app.run_test(size=(120, 40)) as pilot:
                        await wait_for(pilot, lambda: app.live.store_ready and app.focused is not None, "the store")  # noqa: B023  (used within this iteration)
                        await pilot.press("f12")
                        await wait_for(pilot, lambda: app.return_code is not None, "the crash")  # noqa: B023
                report = app.crash_report.getvalue()
                assert type(raised.value).__name__ in report and "locals" not in report.lower(), report
                crash_reports[crashing.__name__] = report
                notes += app.notes
            # Textual hands a failed worker over as WorkerFailed (no traceback of its own), with the
            # worker's exception in its message; a failed handler comes with its traceback.
            assert (
                "WorkerFailed: Worker raised exception: RuntimeError('worker failed while holding [redacted]')"
                in crash_reports["WorkerCrashApp"]
            )
            assert "Traceback" in crash_reports["HandlerCrashApp"]
            assert "ValueError: the handler failed" in crash_reports["HandlerCrashApp"]

            db, vault = Database(settings), Vault(settings)
            acme = find_integration(db, "Acme").id
            result = await run_sync(db, vault, settings, acme, "force", transport=LeakyProxy(), now=NOW)
            assert result.outcome == "failed"
            assert result.error == "unexpected error (RuntimeError); rerun with GRAFIENT_DEBUG=1 for details"
            with db.session() as session:
                sync_errors = [r.error or "" for r in session.exec(select(SyncRun))]
            db.dispose()

        logging.getLogger("grafient").debug("end of test")  # the handler is live to the end
        assert Path(f"{settings.database_file}-wal").stat().st_size > 0
        sources: dict[str, bytes | str] = every_file_under(tmp_path)
    finally:
        holder.close()
    captured = capfd.readouterr()
    log_text = debug_log.read_text()
    assert "HTTP Request: POST" in log_text and "grafient.cursor" in log_text and "httpcore" in log_text
    assert "receive_response_headers.failed exception=ReadTimeout" in log_text  # the timeouts did happen
    assert "sync Acme failed unexpectedly:\nTraceback" in log_text  # the details stay, scrubbed
    assert "RuntimeError: proxy refused Basic [redacted] ([redacted])" in log_text
    assert len(list(shots.glob("*.svg"))) == 5
    assert all(HINT in screenshots[name] for name in ("home", "home-failed", "detail"))
    assert list((grafient_home / "exports").glob("*.csv"))
    sources.update({f"screenshot {k}": v for k, v in screenshots.items()})
    sources.update({f"crash report {k}": v for k, v in crash_reports.items()})
    sources.update(
        {
            "notifications": "\n".join(notes),
            "sync errors": "\n".join(sync_errors),
            "stdout": captured.out,
            "stderr": captured.err,
            "pytest's log capture": caplog.text,
        }
    )
    assert_no_canary(sources)


# ------------------------------------------------------------------ file modes under umask 000

TUI_PROBE = """
import asyncio, json, os, stat
from grafient_tui.cli import now_utc
from grafient_tui.config import Settings
from grafient_tui.tui.app import GrafientApp
from tests.helpers import wait_for

async def main():
    settings, now = Settings.from_env(), now_utc()
    app = GrafientApp(settings, now=lambda: now)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.live.store_ready and app.focused is not None and not app.syncs, "the app")
        await pilot.press("p")  # the period is saved to config.toml
        await pilot.press("enter")  # the detail
        await wait_for(pilot, lambda: getattr(app.screen, "data", None) is not None, "the detail")
        await pilot.press("e")  # a CSV export, written in a thread worker
        home = settings.data_dir
        await wait_for(pilot, lambda: list((home / "exports").glob("*.csv")), "the CSV export")
        # while the app still has the database open (so -wal and -shm exist)
        print(json.dumps({str(p.relative_to(home)): stat.S_IMODE(os.lstat(p).st_mode)
                          for p in [home, *home.rglob("*")]}))

asyncio.run(main())
"""


def test_under_umask_000_every_path_is_private_and_an_open_home_is_left_with_a_warning(
    tmp_path: Path, grafient_home: Path
) -> None:
    """GRAFIENT_HOME made 0755 beforehand; then, each in a child process whose umask is 000:
    `grafient add` (with its backfill), `sync`, `report` and the TUI (period saved, a CSV
    export). A home Grafient did not create is never chmodded: each command says, in one
    sentence on stderr, that it is open to others, and leaves it 0755. Every path below the
    home, seen while the TUI still has the database open and again afterwards, is 0700 (dirs)
    or 0600 (files)."""
    grafient_home.mkdir()
    os.chmod(grafient_home, 0o755)
    warning = (
        f"grafient: warning: {grafient_home} is open to other users (mode 755); Grafient left it as it is, "
        f"run `chmod 700 {grafient_home}` to keep them out of its files.\n"
    )
    outputs = tmp_path / "outputs"
    with FaultyCursorServer(canary_team()) as server:
        env = child_env(server.url)
        added = run_child(env, outputs, "add", "cursor", "--label", "Acme", stdin=CANARY + "\n", umask0=True)
        assert added.code == 0, added.err
        assert added.err == warning
        assert grafient_home.stat().st_mode & 0o777 == 0o755
        for args in (("sync",), ("report",)):
            ran = run_child(env, outputs, *args, umask0=True)
            assert ran.code == 0 and ran.err == warning, ran
        probe_env = {**env, "PYTHONPATH": str(Path(__file__).parents[2])}  # the probe waits as the tests do
        tui = run_child(probe_env, outputs, umask0=True, module_args=("-c", TUI_PROBE))
        assert tui.code == 0 and tui.err == warning, tui.err
    seen = json.loads(tui.out.strip().splitlines()[-1])
    for expected in (
        "locks",
        "locks/integration-1.lock",
        "grafient.db-wal",
        "grafient.db-shm",
        "config.toml",
        "master.key",
        "exports",
    ):
        assert expected in seen, sorted(seen)
    assert [p for p in seen if p.startswith("exports/") and p.endswith(".csv")]
    assert seen.pop(".") == 0o755
    wrong = {p: oct(m) for p, m in seen.items() if m != (0o700 if (grafient_home / p).is_dir() else 0o600)}
    assert wrong == {}
    assert wide_open_paths(grafient_home) == [f"{grafient_home} 0o755"]
