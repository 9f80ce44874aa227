"""Small helpers shared by the tests: run the CLI in-process, walk GRAFIENT_HOME, wait on conditions,
and the fake clock and sleep that stand in for real time.

Waiting: no test sleeps for a while and hopes. It waits for a condition (a widget shows something, a
worker has ended, a process has printed a line) with `wait_for` (in the app, under the pilot), `settle`
(every worker has ended and its news has been handled) or `wait_until` (threads and processes). Each
gives up only after PATIENCE, which is no timing: it turns a hang into a failure, and is far beyond
what any wait takes on a loaded machine.
"""

from __future__ import annotations

import asyncio
import io
import os
import stat
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from grafient_tui.cli import main

if TYPE_CHECKING:
    from textual.app import App
    from textual.pilot import Pilot

# Seconds before a wait is called a hang. Every wait here ends on an event or a condition, normally
# within a second or two; a 2-core machine running the suite on every core beside other work (CI has
# been seen at a load of 15-19) is many times slower than an idle one: the demo's year of eight
# accounts then took over 120 s. Only a hang ever waits this long, so it is generous.
PATIENCE = 600.0


def _hang(what: str) -> AssertionError:
    return AssertionError(f"still waiting for {what} after {PATIENCE:g} s: it is not coming")


async def wait_for(pilot: Pilot, condition: Callable[[], object], what: str) -> None:
    """Let the app run (message by message, worker by worker) until `condition()` holds."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + PATIENCE
    while not condition():
        if loop.time() > give_up:
            raise _hang(what)
        await _pause(pilot)


async def settle(app: App, pilot: Pilot) -> None:
    """Wait until no worker runs, every message they caused has been handled (on every screen, not
    only the one in front: a dismissed form's result comes back to the screen below it), the home
    screen shows a card for each integration it read and the screen in front has been repainted.
    Checked twice in a row, after the queued messages (which may start more work) have been handled."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + PATIENCE
    quiet = 0
    while quiet < 2:
        if loop.time() > give_up:
            raise _hang("the app's workers to settle")
        await _drain(app)
        await _pause(pilot)
        if any(w.is_running for w in app.workers):
            quiet = 0
            await app.workers.wait_for_complete()
        elif _home_caught_up(app) and _painted(app):
            quiet += 1
        else:
            quiet = 0


async def _pause(pilot: Pilot) -> None:
    """`pilot.pause()`, whose own wait for the screen gives up after Textual's fixed 30 s: a busy app
    on a loaded machine (the demo's eight accounts backfilling a year each) can take longer, so there
    it is one more turn of the caller's loop, which gives up only after PATIENCE."""
    from textual.pilot import WaitForScreenTimeout

    try:
        await pilot.pause()
    except WaitForScreenTimeout:
        pass


async def _drain(app: App) -> None:
    """Until the app and every widget of every screen in its stack have handled the messages queued
    for them so far (the pilot's own pause waits only for the screen in front)."""
    pending = [app, *(node for screen in app.screen_stack for node in screen.walk_children(with_self=True))]
    handled = [asyncio.Event() for _ in pending]
    waits = [done.wait() for node, done in zip(pending, handled, strict=True) if node.call_later(done.set)]
    if waits:
        try:
            await asyncio.wait_for(asyncio.gather(*waits), PATIENCE)
        except TimeoutError:
            raise _hang("the app to handle its messages") from None


def _painted(app: App) -> bool:
    """The screen in front has run what was asked to run after its next repaint (`call_after_refresh`:
    the home focuses its first card that way, and a loaded machine repaints late). Textual keeps them
    in `Screen._callbacks`; if a Textual upgrade moves them, this says yes, as before it existed."""
    front = app.screen_stack[-1] if app.screen_stack else None
    return not getattr(front, "_callbacks", ())


def _home_caught_up(app: App) -> bool:
    """The home screen (the bottom of the stack) has mounted a card for each integration of the
    figures it shows: those below the first screenful are mounted on a timer after the first frame,
    which no worker or message in flight tells of."""
    home = app.screen_stack[0] if app.screen_stack else None
    data = getattr(home, "data", None)
    if home is None or data is None:
        return True
    cards = list(home.query("IntegrationCard"))
    return len(cards) == len(data.integrations) and all(card.is_mounted for card in cards)


def wait_until(
    condition: Callable[[], object], what: str, *, process: subprocess.Popen | None = None, poll: float = 0.01
) -> None:
    """Block until `condition()` holds (a thread or another process gets there); with `process`, fail as
    soon as that process has ended without it."""
    give_up = time.monotonic() + PATIENCE
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the process ended (exit code {process.returncode}) before {what}{_said(process)}")
        if time.monotonic() > give_up:
            raise _hang(what)
        time.sleep(poll)


def _said(process: subprocess.Popen) -> str:
    """What an ended process wrote, when its output was piped (so a failed wait shows why it died)."""
    try:
        out, err = process.communicate(timeout=PATIENCE)
    except (ValueError, OSError, subprocess.TimeoutExpired):  # not piped, or already read
        return ""
    return f"; stdout: {out!r}; stderr: {err!r}" if out or err else ""


class FakeClock:
    """A monotonic clock that moves only when told to (`advance`), when a RecordingSleep sleeps on it,
    or, with `tick`, that much each time it is read (a clock counting events rather than seconds)."""

    def __init__(self, start: float = 1000.0, *, tick: float = 0.0) -> None:
        self.now = start
        self.tick = tick

    def __call__(self) -> float:
        now = self.now
        self.now += self.tick
        return now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingSleep:
    """An async sleep that returns at once and records how long it was asked to wait; given a
    FakeClock, that much time passes on it."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.delays: list[float] = []
        self.clock = clock

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        if self.clock is not None:
            self.clock.advance(delay)


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> Result:
    """Run `grafient ARGS` in this process with STDIN piped (not a terminal)."""
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(args))
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def all_bytes_under(root: Path) -> bytes:
    """Every byte of every file below root (database, -wal, config, key file...)."""
    chunks = []
    for path in sorted(root.rglob("*")):
        if path.is_file():
            chunks.append(path.read_bytes())
    return b"\n".join(chunks)


def modes_under(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)) or ".": stat.S_IMODE(p.stat().st_mode) for p in [root, *root.rglob("*")]}


def wide_open_paths(root: Path) -> list[str]:
    """Paths below root that are not 0700 (dirs) or 0600 (files)."""
    bad = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(os.lstat(path).st_mode)
        want = 0o700 if path.is_dir() else 0o600
        if mode != want:
            bad.append(f"{path} {oct(mode)}")
    return bad


OTHER_KEY = "crsr_" + "9f8e7d6c" * 8  # a second team's key, in the newer documented shape


def route_by_key(*teams):
    """An httpx handler serving several fake teams, each answering its own key (one key = one team)."""
    import base64

    by_auth = {"Basic " + base64.b64encode(f"{t.api_key}:".encode()).decode("ascii"): t for t in teams}

    def handler(request):
        team = by_auth.get(request.headers.get("authorization", ""), teams[0])  # an unknown key: the 401 path
        return team.handler(request)

    return handler
