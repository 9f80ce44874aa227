"""Feedback while a sync struggles, and how the app ends.

In the app (pilot): a request being retried shows on its card and in the detail header, and the
failures of one action are one toast. In a real pseudo-terminal (subprocess): `grafient --demo`
ends on SIGHUP and SIGTERM and when its terminal goes away, and removes its throwaway home.
Timings are benchmarks/quit_latency.py's business; these wait for each step, however long it takes.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from grafient_tui.config import Settings
from grafient_tui.providers.http import HttpClient, RetryNotice, reporting_retries
from grafient_tui.tui.screens.detail import CostDetailScreen
from grafient_tui.tui.syncing import clause
from grafient_tui.tui.threads import DaemonThreadExecutor
from grafient_tui.tui.widgets.card import IntegrationCard
from tests.conftest import GOOD_KEY
from tests.helpers import PATIENCE, settle, wait_for, wait_until
from tests.tui.test_tui import NOW, SIZE, RecordingApp, make_app, make_team, seeded

REFUSED = "[Errno 111] Connection refused"


def refusing(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError(REFUSED, request=request)


def other_key(n: int) -> str:
    return "key_" + f"{n:02d}" * 32


def card_text(card: IntegrationCard) -> str:
    return str(card.query_one(".card-error").render())  # what its error line shows


# --------------------------------------------------------------------------- the HTTP client's notices


async def test_the_client_tells_its_listener_before_each_retry_in_its_own_words() -> None:
    notices: list[RetryNotice] = []

    async def no_wait(_seconds: float) -> None:
        return None

    client = HttpClient(
        GOOD_KEY,
        title="Cursor",
        base_url="https://api.cursor.com",
        transport=httpx.MockTransport(refusing),
        max_attempts=3,
        sleep=no_wait,
    )
    with reporting_retries(notices.append), pytest.raises(Exception, match="cannot reach the Cursor API"):
        await client.request("GET", "/teams/members")
    await client.aclose()
    assert [(n.attempt, n.attempts) for n in notices] == [(2, 3), (3, 3)]  # none after the last try
    assert {n.reason for n in notices} == {"cannot reach the Cursor API at api.cursor.com (connection refused)"}


async def test_a_retry_notice_never_quotes_the_server() -> None:
    key_echo = {"message": f"bad key {GOOD_KEY}"}
    answers = iter([httpx.Response(503, json=key_echo), httpx.Response(200, json={"teamMembers": []})])
    notices: list[RetryNotice] = []

    async def no_wait(_seconds: float) -> None:
        return None

    client = HttpClient(
        GOOD_KEY,
        title="Cursor",
        base_url="https://api.cursor.com",
        transport=httpx.MockTransport(lambda request: next(answers)),
        sleep=no_wait,
    )
    with reporting_retries(notices.append):
        await client.request("GET", "/teams/members")
    await client.aclose()
    assert [n.reason for n in notices] == ["the Cursor API failed with HTTP 503"]


async def test_without_a_listener_retries_go_on_as_before() -> None:
    async def no_wait(_seconds: float) -> None:
        return None

    answers = iter([httpx.Response(500), httpx.Response(200, json={"ok": True})])
    client = HttpClient(
        GOOD_KEY,
        title="Cursor",
        base_url="https://api.cursor.com",
        transport=httpx.MockTransport(lambda request: next(answers)),
        sleep=no_wait,
    )
    assert await client.request("GET", "/x") == {"ok": True}
    await client.aclose()


def test_a_sentence_becomes_a_clause() -> None:
    assert (
        clause("Cannot reach the Cursor API at api.cursor.com (connection refused; 6 tries).")
        == "cannot reach the Cursor API at api.cursor.com (connection refused; 6 tries)"
    )
    assert clause("API keys are refused.") == "API keys are refused"


# --------------------------------------------------------------------------- quitting waits for no thread


def test_the_default_executor_never_waits_for_its_jobs() -> None:
    """asyncio.run joins the default executor on the way out (Textual's thread workers, DNS look-ups):
    ours lets the process end under a job still running, as a quit must."""
    release, started = threading.Event(), threading.Event()

    def job() -> str:
        started.set()
        release.wait(PATIENCE)
        return "done"

    executor = DaemonThreadExecutor()
    future = executor.submit(job)
    assert started.wait(PATIENCE)
    executor.shutdown(wait=True)  # returns with the job still running
    assert future.running()
    assert [t.daemon for t in threading.enumerate() if t.name == "grafient-thread-worker"] == [True]
    release.set()
    assert future.result(PATIENCE) == "done"


async def test_the_app_runs_its_thread_workers_on_it(grafient_home) -> None:
    app = make_app(httpx.MockTransport(refusing))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        thread = await asyncio.get_running_loop().run_in_executor(None, threading.current_thread)
        assert thread.name == "grafient-thread-worker" and thread.daemon


# --------------------------------------------------------------------------- the retry line


async def test_a_failing_request_shows_retrying_on_its_card_and_in_the_detail_header(grafient_home) -> None:
    """The first try is refused; the second is held at the network until the test lets it through:
    the line is there while the request is retried, on the card and in the detail header, and goes
    when the answer comes."""
    team = make_team()
    await seeded(team)
    network_up = asyncio.Event()
    tries = 0

    async def flaky(request: httpx.Request) -> httpx.Response:
        nonlocal tries
        if not network_up.is_set() and request.url.path.endswith("filtered-usage-events"):
            tries += 1
            if tries == 1:
                return refusing(request)
            await network_up.wait()  # the retry: in flight until the network is back
        return team.handler(request)

    app = make_app(httpx.MockTransport(flaky))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        card = app.screen.query_one(IntegrationCard)
        await pilot.press("r")
        await wait_for(pilot, lambda: "retrying (" in card_text(card), "the retry line on the card")
        line = card_text(card)
        assert "of 6) · cannot reach the Cursor API at api.cursor.com (connection refused)" in line
        assert GOOD_KEY not in line and GOOD_KEY[-20:] not in line
        assert card.has_class("-retrying") and card.view.state == "syncing"

        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, CostDetailScreen) and app.screen.data is not None, "the detail"
        )
        header = app.screen.query_one("#detail-header")
        await wait_for(pilot, lambda: "retrying (" in str(header.render()), "the retry line in the header")
        assert "· cannot reach the Cursor API at api.cursor.com" in str(header.render())

        network_up.set()  # the try in flight gets through: the line goes, the sync ends well
        await wait_for(pilot, lambda: not app.syncs, "the sync to end")
        await settle(app, pilot)
        assert "retrying" not in str(header.render())
        await pilot.press("escape")
        await settle(app, pilot)
        card = app.screen.query_one(IntegrationCard)
        assert card.view.state == "ok" and card_text(card) == "" and not card.has_class("-retrying")


# --------------------------------------------------------------------------- one toast per action


async def three_teams() -> list[str]:
    keys = [GOOD_KEY, other_key(1), other_key(2)]
    for n, key in enumerate(keys):
        await seeded(make_team(key, seed=n), label=f"Team {n + 1}")
    return keys


async def test_r_with_no_network_is_one_toast_and_every_card_keeps_its_own_error(grafient_home) -> None:
    await three_teams()
    app = make_app(httpx.MockTransport(refusing))
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(app, pilot)
        before = len(app.notes)
        await pilot.press("R")
        await settle(app, pilot)
        notes = app.notes[before:]
        assert notes == [
            "3 of 3 syncs failed: cannot reach the Cursor API at api.cursor.com (connection refused; "
            "6 tries); the cards say which."
        ]
        cards = list(app.screen.query(IntegrationCard))
        assert len(cards) == 3
        for card in cards:
            assert card.view.state == "error"
            assert card_text(card).startswith("✗ Cannot reach the Cursor API")


async def test_one_failure_among_three_syncs_is_one_toast_naming_the_card(grafient_home) -> None:
    keys = await three_teams()
    teams = {key: make_team(key, seed=n) for n, key in enumerate(keys)}

    def one_down(request: httpx.Request) -> httpx.Response:
        from grafient_tui.demo import request_key

        key = request_key(request)
        if key == keys[1]:
            return httpx.Response(401, json={"error": "unauthorized", "message": f"bad key {key}"})
        return teams[key].handler(request)  # type: ignore[index]

    app = make_app(httpx.MockTransport(one_down))
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(app, pilot)
        before = len(app.notes)
        await pilot.press("R")
        await settle(app, pilot)
        notes = app.notes[before:]
        assert len(notes) == 1, notes
        assert notes[0].startswith("1 of 3 syncs failed: ") and notes[0].endswith("; the card says which.")
        assert keys[1] not in notes[0] and keys[1][-12:] not in notes[0]
        states = {card.view.label: card.view.state for card in app.screen.query(IntegrationCard)}
        assert states == {"Team 1": "ok", "Team 2": "error", "Team 3": "ok"}


async def test_r_that_succeeds_everywhere_is_one_toast_too(grafient_home) -> None:
    keys = await three_teams()
    teams = {key: make_team(key, seed=n) for n, key in enumerate(keys)}

    def serve(request: httpx.Request) -> httpx.Response:
        from grafient_tui.demo import request_key

        return teams[request_key(request)].handler(request)  # type: ignore[index]

    app = make_app(httpx.MockTransport(serve))
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(app, pilot)
        before = len(app.notes)
        await pilot.press("R")
        await settle(app, pilot)
        notes = app.notes[before:]
        assert len(notes) == 1 and notes[0].startswith("3 integrations synced: "), notes


async def test_one_sync_still_names_its_integration(grafient_home) -> None:
    team = make_team()
    await seeded(team)
    app = make_app(httpx.MockTransport(refusing))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        before = len(app.notes)
        await pilot.press("r")
        await settle(app, pilot)
        assert app.notes[before:] == [
            "Acme: Cannot reach the Cursor API at api.cursor.com (connection refused; 6 tries)."
        ]


async def test_the_due_syncs_at_start_fail_in_one_toast(grafient_home) -> None:
    await three_teams()
    # A day later, every team is due for its daily sync when the app opens; the network is down.
    app = RecordingApp(
        Settings.from_env(), transport=httpx.MockTransport(refusing), now=lambda: NOW + timedelta(days=1)
    )
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(app, pilot)
        failed = [note for note in app.notes if "failed" in note]
        assert failed == [
            "3 of 3 syncs failed: cannot reach the Cursor API at api.cursor.com (connection "
            "refused; 6 tries); the cards say which."
        ]


# --------------------------------------------------------------------------- ending, in a real terminal


class DemoInATerminal:
    """`python -m grafient_tui --demo` in a pseudo-terminal that is its controlling terminal (as in a
    shell, tmux or SSH; or, with `controlling=False`, only its stdin, stdout and stderr), with TMPDIR
    pointed at `tmp` so its throwaway home can be found."""

    def __init__(self, tmp: Path, *, controlling: bool = True) -> None:
        self.tmp = tmp
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        env = {**os.environ, "TMPDIR": str(tmp), "TERM": "xterm-256color"}
        for name in [name for name in env if name.startswith("GRAFIENT_")] + ["TEXTUAL", "COLUMNS", "LINES"]:
            env.pop(name, None)

        def controlling_terminal() -> None:
            os.setsid()
            if controlling:
                fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.process = subprocess.Popen(
            [sys.executable, "-m", "grafient_tui", "--demo"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            preexec_fn=controlling_terminal,
        )
        os.close(slave)
        self.output = bytearray()
        self.closing = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        try:
            while not self.closing.is_set():
                if select.select([self.master], [], [], 0.01)[0]:
                    try:
                        data = os.read(self.master, 65536)
                    except OSError:
                        break
                    if not data:
                        break
                    self.output += data
        finally:
            os.close(self.master)

    def homes(self) -> list[Path]:
        return sorted(self.tmp.glob("grafient-demo-*"))

    def wait_until_running(self) -> None:
        """The app has painted its demo teams (so its home exists and its syncs have started)."""
        wait_until(lambda: b"Acme" in self.output and self.homes(), "the demo's teams on screen", process=self.process)

    def close_terminal(self) -> None:
        self.closing.set()
        self.reader.join(PATIENCE)

    def wait_for_exit(self) -> int:
        try:
            return self.process.wait(timeout=PATIENCE)  # how long it takes is the benchmark's business
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self.close_terminal()


@pytest.mark.slow
@pytest.mark.parametrize(("how", "code"), [(signal.SIGHUP, 129), (signal.SIGTERM, 143)], ids=["SIGHUP", "SIGTERM"])
def test_the_demo_ends_on_a_signal_and_removes_its_home(tmp_path: Path, how: int, code: int) -> None:
    demo = DemoInATerminal(tmp_path)
    demo.wait_until_running()
    assert len(demo.homes()) == 1
    demo.process.send_signal(how)
    assert demo.wait_for_exit() == code
    assert demo.homes() == []


@pytest.mark.slow  # a real process in a real terminal: in CI's slow run
@pytest.mark.parametrize("controlling", [True, False], ids=["hung-up", "no-signal"])
def test_the_demo_ends_when_its_terminal_goes_away_and_removes_its_home(tmp_path: Path, controlling: bool) -> None:
    """The tmux case: the terminal's other side is closed, and the kernel hangs it up: SIGHUP to a
    process it is the controlling terminal of, and for any process end-of-file on reads and EIO on
    writes. Before, the process stayed until SIGKILL (always without a SIGHUP, often with one)."""
    demo = DemoInATerminal(tmp_path, controlling=controlling)
    demo.wait_until_running()
    assert len(demo.homes()) == 1
    demo.close_terminal()
    assert demo.wait_for_exit() == 129
    assert demo.homes() == []


@pytest.mark.slow  # a real process in a real terminal: in CI's slow run
def test_the_demo_ends_and_removes_its_home_when_the_terminal_goes_away_while_it_starts(tmp_path: Path) -> None:
    """A tmux session killed a second after `grafient --demo`: the home exists, the app may not yet."""
    demo = DemoInATerminal(tmp_path)
    wait_until(demo.homes, "the demo's throwaway home", process=demo.process, poll=0.001)
    demo.close_terminal()
    assert demo.wait_for_exit() == 129
    assert demo.homes() == []
