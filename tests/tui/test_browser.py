"""`grafient serve --demo` in a real headless browser: Debian's chromium, driven by Playwright.

The page is textual-serve's: a terminal (xterm.js) drawn on a canvas, so its text is not in the DOM. The
test reads xterm's own buffer through its public API (`buffer.active.getLine(y).translateToString()`):
the page never exposes its Terminal, so a script added before the page's own catches it as the page's
code assigns it (`this.terminal = new Terminal(...)` runs a setter put on Object.prototype for that
one name). Every wait is on a condition, bounded by PATIENCE as a hang guard.

The browser signs in as a user does, through the one link the server prints (read from its output),
and every request the page makes is watched: none leaves 127.0.0.1.

Skips where /usr/bin/chromium is missing (`apt-get install chromium`; .ci/run installs it). Never
`playwright install`: the system's browser is launched by path. GRAFIENT_UPDATE_SNAPSHOTS=1 also writes
screenshots/browser.png.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.helpers import PATIENCE, run_cli, wait_until

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
UPDATE = os.environ.get("GRAFIENT_UPDATE_SNAPSHOTS") == "1"
SCREENSHOT = ROOT / "screenshots" / "browser.png"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
)

BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Before the page's scripts: keep the xterm.js Terminal textual-serve's page builds (it assigns it to
# `this.terminal`; the setter makes it an ordinary property of that object, and remembers it).
CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  set(value) {
    window.grafientTerminal = value;
    Object.defineProperty(this, "terminal", {value, writable: true, configurable: true, enumerable: true});
  },
});
"""

# The terminal's screen as text, one line per row ("" until the page has built its terminal).
SCREEN_TEXT = """() => {
  const terminal = window.grafientTerminal;
  if (!terminal) return "";
  const rows = [];
  for (let y = 0; y < terminal.rows; y++) {
    const line = terminal.buffer.active.getLine(y);
    rows.push(line ? line.translateToString(true) : "");
  }
  return rows.join("\\n");
}"""


def screen_shows(pattern: str) -> str:
    """A JS predicate: the terminal's text matches the regular expression `pattern` (multiline)."""
    return f"() => new RegExp({pattern!r}, 'm').test(({SCREEN_TEXT})())"


# The home's first tile: "Billed" over the period's total, once a sync has brought a dollar in.
HOME_TOTAL = r"^ *│ Billed .*\n *│ ≈?\$[1-9][\d,]*\.\d\d "
# The detail of the first card (the demo's Cursor team), named in the header with its period.
DETAIL_HEADER = r"^.*Acme Engineering · last 30 days"


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str  # the page, without a token: refused (403) until this browser has signed in
    link: str  # the one sign-in link the server printed (single-use)
    log: Path

    def app_processes(self) -> list[int]:
        """The server's child processes: one app per open tab (textual-serve execs each through a shell
        line that starts with `exec`, so each child is the app itself)."""
        children: list[int] = []
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            try:
                children += [int(pid) for pid in (task / "children").read_text().split()]
            except FileNotFoundError:  # that thread has ended
                continue
        return children


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE):
            return True
    except OSError:
        return False


SIGN_IN_LINK = re.compile(
    rb"^grafient: sign in at (http://127\.0\.0\.1:\d+/\?token=[A-Za-z0-9_-]{43}) \(", re.MULTILINE
)


@contextmanager
def serving(log_path: Path, *args: str, env: dict[str, str] | None = None, port: int | None = None) -> Iterator[Served]:
    port = port or free_port()
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "grafient_tui", "serve", "--port", str(port), *args],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
        start_new_session=True,  # its own process group: the server and every tab's app end together
    )
    try:
        # It says so once it listens (the socket is bound before, the line printed after its start-up).
        wait_until(
            lambda: SIGN_IN_LINK.search(log_path.read_bytes()), "grafient serve to print its link", process=process
        )
        assert answers(port)
        links = SIGN_IN_LINK.findall(log_path.read_bytes())
        assert len(links) == 1  # one link, printed once
        yield Served(process, f"http://127.0.0.1:{port}/", links[0].decode(), log_path)
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(PATIENCE)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@contextmanager
def chromium(tmp_path: Path) -> Iterator[BrowserContext]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a new, empty profile
            executable_path=str(CHROMIUM),
            args=BROWSER_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 800},
        )
        try:
            browser.add_init_script(CATCH_TERMINAL)
            browser.set_default_timeout(PATIENCE * 1000)
            yield browser
        finally:
            browser.close()


def requests_made(browser: BrowserContext) -> list[str]:
    """Every URL the browser's pages ask for from now on (requests and websockets), as they ask, and
    any complaint of the page's Content-Security-Policy (its text, marked "refused:")."""
    asked: list[str] = []

    def watch(page: Page) -> None:
        page.on("websocket", lambda websocket: asked.append(websocket.url))
        page.on(
            "console",
            lambda message: (
                asked.append("refused: " + message.text) if "Content Security Policy" in message.text else None
            ),
        )

    browser.on("request", lambda request: asked.append(request.url))
    browser.on("page", watch)
    return asked


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with serving(tmp_path / "serve.log", "--demo") as running:
        yield running


def test_the_app_in_a_browser_shows_the_total_its_keys_palette_and_syncs_work_and_a_closed_tab_ends_its_app(
    served: Served, tmp_path: Path
) -> None:
    said = served.log.read_text(errors="replace")
    assert f"grafient: serving on {served.url.rstrip('/')} (each browser tab runs its own demo)" in said
    with chromium(tmp_path) as browser:
        asked = requests_made(browser)
        page = browser.new_page()
        page.goto(served.link)
        assert page.url == served.url  # signed in, and sent on to the page without the token
        (session,) = browser.cookies()
        assert (session["name"], session["path"], session["httpOnly"], session["sameSite"]) == (
            f"grafient_serve_{served.url.rsplit(':', 1)[1].strip('/')}",
            "/",
            True,
            "Strict",
        )
        page.wait_for_function(screen_shows(HOME_TOTAL))
        assert "Grafient — 8 integrations" in page.evaluate(SCREEN_TEXT)
        (app,) = served.app_processes()  # this tab's app
        token = served.link.rsplit("=", 1)[1]
        for secret in (token, session["value"]):  # neither in the tab's command line nor its environment
            assert secret.encode() not in Path(f"/proc/{app}/cmdline").read_bytes()
            assert secret.encode() not in Path(f"/proc/{app}/environ").read_bytes()
        assert session["value"].encode() not in served.log.read_bytes()  # the session is never printed

        if UPDATE:
            page.wait_for_function(f"() => !/syncing/.test(({SCREEN_TEXT})())")  # every demo sync done
            page.screenshot(path=str(SCREENSHOT))

        page.locator(".xterm-helper-textarea").focus()  # where xterm.js takes the keyboard
        page.keyboard.press("Enter")
        page.wait_for_function(screen_shows(DETAIL_HEADER))
        page.keyboard.press("Escape")
        page.wait_for_function(screen_shows("Grafient — 8 integrations"))

        # The palette, and a sync from it: once the demo's first syncs and their toast are over, "Sync
        # all integrations" chosen in the palette ends in a toast of its own.
        page.wait_for_function(f"() => !/syncing|Sync finished/.test(({SCREEN_TEXT})())")
        page.keyboard.press("Control+p")
        page.wait_for_function(screen_shows("Search for commands"))
        page.keyboard.type("Sync all integrations")
        page.wait_for_function(screen_shows("Force a sync of every integration now"))
        page.keyboard.press("Enter")
        page.wait_for_function(screen_shows("Sync finished"))

        second = browser.new_page()  # a second tab: its own app
        second.goto(served.url)
        wait_until(lambda: len(served.app_processes()) == 2, "a second app for the second tab")

        page.close()
        second.close()
        wait_until(lambda: not served.app_processes(), "every tab's app to end once its tab is closed")
        assert served.process.poll() is None  # the server itself goes on
    # Offline: the page, its scripts, styles, font and websocket all came from the server itself.
    origin = served.url.rstrip("/")
    assert any(url.startswith("ws://") for url in asked), asked  # the websockets were watched too
    assert [url for url in asked if not url.startswith((origin + "/", "ws" + origin.removeprefix("http") + "/"))] == []


def test_each_tab_is_the_app_on_the_servers_own_store(tmp_path: Path, grafient_home: Path, capsys, monkeypatch) -> None:
    """Not the demo: a tab opens the store of the server's GRAFIENT_HOME, and shows the total the CLI
    reports from it. (The app in the tab reads the real clock, as `report` does here a moment before:
    only a run across midnight UTC could see two different periods.)"""
    seed_store()
    report = run_cli(capsys, monkeypatch, "report", "--days", "30", "--format", "json")
    assert report.code == 0, report.err
    billed = Decimal(json.loads(report.out)["summary"]["billed"])
    shown = f"${billed.quantize(Decimal('0.01')):,}"
    # Nothing is due (the seeded history is synced through today), and a sync could reach no provider.
    with serving(tmp_path / "serve.log", env={"GRAFIENT_CURSOR_API_URL": "http://127.0.0.1:9"}) as served:
        said = served.log.read_text(errors="replace")
        assert "(each browser tab runs its own app on this store)" in said
        with chromium(tmp_path) as browser:
            page = browser.new_page()
            page.goto(served.link)
            page.wait_for_function(screen_shows(HOME_TOTAL))
            page.wait_for_function(screen_shows("Browser Team"))  # its card, mounted after the first frame
            screen = page.evaluate(SCREEN_TEXT)
            tile = re.search(r"^ *│ Billed .*\n *│ (\S+) ", screen, re.MULTILINE)
            assert tile is not None, screen
            assert tile.group(1) == shown
            assert "Grafient — 1 integration" in screen
            assert "Browser Team" in screen


def seed_store() -> None:
    """A Cursor team's 31 days through today, synced a minute ago, in this test's GRAFIENT_HOME."""
    from grafient_tui.config import Settings
    from grafient_tui.store.db import Database
    from grafient_tui.store.vault import Vault
    from tests.factories import seed_history

    settings = Settings.from_env()
    settings.ensure_dirs()
    db = Database(settings)
    try:
        now = datetime.now(UTC)
        seed_history(
            db,
            Vault(settings),
            label="Browser Team",
            until=now.date(),
            days=31,
            models=["claude-sonnet-4.5", "gpt-5"],
            members=["dev@example.com"],
            seed=7,
            synced_at=now - timedelta(minutes=1),
        )
    finally:
        db.dispose()
