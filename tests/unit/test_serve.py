"""`grafient serve`: the loopback rule and its sentence, what each tab runs, which requests it answers
(this machine's, signed in through the one printed link), the page's addresses (none elsewhere), and the
sentence for a missing extra. (The browser itself: tests/tui/test_browser.py.)"""

from __future__ import annotations

import http.client
import re
import shlex
import socket
import subprocess
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import pytest

from grafient_tui import __version__
from grafient_tui.tui import serve
from tests.helpers import PATIENCE, run_cli
from tests.tui.test_browser import Served, serving

FORWARDING = "ssh -L 8765:127.0.0.1:8765 host"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "example.com", "127.0.0.1.nip.io"])
def test_a_non_loopback_host_is_refused_with_the_ssh_sentence(capsys, monkeypatch, host: str) -> None:
    result = run_cli(capsys, monkeypatch, "serve", "--host", host)
    assert result.code == 2
    assert result.out == ""
    assert result.err == (
        f"grafient: grafient serve listens on this machine only (127.0.0.1), not on '{host}': to use it from "
        f"another machine, forward the port over SSH with `{FORWARDING}` there, then open "
        "http://127.0.0.1:8765.\n"
    )


def test_the_sentence_names_the_port_chosen(capsys, monkeypatch) -> None:
    result = run_cli(capsys, monkeypatch, "serve", "--host", "0.0.0.0", "--port", "9000")
    assert "`ssh -L 9000:127.0.0.1:9000 host`" in result.err
    assert "open http://127.0.0.1:9000." in result.err


@pytest.mark.parametrize(
    ("host", "address"),
    [("127.0.0.1", "127.0.0.1"), ("localhost", "127.0.0.1"), ("127.0.0.2", "127.0.0.2"), ("::1", "::1")],
)
def test_loopback_hosts_are_bound_as_addresses(host: str, address: str) -> None:
    assert serve.bind_address(host) == address


def test_the_url_printed_is_the_address_bound() -> None:
    assert serve.public_url("127.0.0.1", 8765) == "http://127.0.0.1:8765"
    assert serve.public_url("::1", 8765) == "http://[::1]:8765"


@pytest.mark.parametrize("port", ["0", "65536", "-1"])
def test_a_port_out_of_range_is_one_sentence(capsys, monkeypatch, port: str) -> None:
    result = run_cli(capsys, monkeypatch, "serve", "--port", port)
    assert (result.code, result.err) == (2, f"grafient: --port must be between 1 and 65535, not {port}.\n")


def test_a_port_taken_is_one_sentence(capsys, monkeypatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run_cli(capsys, monkeypatch, "serve", "--port", str(port))
    assert result.code == 2
    assert result.err == (
        f"grafient: cannot listen on http://127.0.0.1:{port}: address already in use; choose another --port.\n"
    )


def test_each_tab_runs_this_interpreter_on_this_package_and_nothing_else(monkeypatch) -> None:
    # Secrets in the environment reach the tab's app the way they reach any child: never its argv.
    monkeypatch.setenv("GRAFIENT_MASTER_KEY", "bWFzdGVyLWtleS1zZWNyZXQtbWFzdGVyLWtleS1zZWNyZXQ=")
    monkeypatch.setenv("GRAFIENT_DATABASE_URL", "postgresql://grafient:s3cret-password@db.example/grafient")
    assert serve.app_argv(demo=False) == [sys.executable, "-m", "grafient_tui"]
    assert serve.app_argv(demo=True) == [sys.executable, "-m", "grafient_tui", "--demo"]
    for demo in (False, True):
        line = serve.app_command(demo=demo)
        assert line.startswith("exec ")  # the app is the tab's process: a closed tab leaves no shell
        assert shlex.split(line)[1:] == serve.app_argv(demo=demo)
        assert "s3cret" not in line
        assert "bWFzdGVy" not in line


def test_the_shell_line_starts_our_program() -> None:
    """textual-serve hands the line to a shell: run it the same way (with --version, so it ends at once)."""
    shown = subprocess.run(
        ["/bin/sh", "-c", serve.app_command(demo=False) + " --version"],
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        check=True,
    )
    assert shown.stdout == f"grafient {__version__}\n"


@pytest.mark.parametrize(
    ("host", "answered"),
    [
        ("127.0.0.1:8765", True),
        ("localhost:8765", True),
        ("[::1]:8765", True),
        ("LOCALHOST", True),
        ("evil.example:8765", False),  # a name rebound to 127.0.0.1 still says so in its Host
        ("127.0.0.1.evil.example", False),
        ("", False),
        (None, False),
    ],
)
def test_pages_are_answered_only_for_a_loopback_host(host: str | None, answered: bool) -> None:
    assert serve.same_machine_host(host) is answered


@pytest.mark.parametrize(
    ("origin", "answered"),
    [
        ("http://127.0.0.1:8765", True),
        ("http://localhost:8765", True),
        ("http://[::1]:8765", True),
        ("http://localhost:9000", False),  # another local server's page (a dev server, a file server)
        ("http://127.0.0.1", False),  # port 80: another server too
        ("http://127.0.0.1:notaport", False),
        ("https://evil.example", False),  # another site open in the same browser
        ("http://evil.example:8765", False),
        ("null", False),
        ("", False),
        (None, False),  # no browser page at all
    ],
)
def test_websockets_are_answered_only_from_a_loopback_page(origin: str | None, answered: bool) -> None:
    assert serve.same_machine_origin(origin, 8765) is answered


def test_without_the_extra_it_says_how_to_install_it(capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)  # as if textual-serve were not installed
    result = run_cli(capsys, monkeypatch, "serve")
    assert result.code == 2
    assert result.err == (
        "grafient: grafient serve needs Grafient's serve extra (textual-serve): install it with "
        "`uv tool install 'grafient-tui[serve]'`, or run `uv run --extra serve grafient serve`.\n"
    )


FOLLOWER = """
import os, sys, time
from grafient_tui.tui.serve import follow_server
follow_server()
print("following", flush=True)
time.sleep(10 * 60)  # ended by its server's death, or by the test's clean-up
"""

PARENT = """
import os, subprocess, sys, time
served_by = {**os.environ, "GRAFIENT_SERVE_PID": str(os.getpid())}
child = subprocess.Popen([sys.executable, "-c", sys.argv[1]], env=served_by)
print(child.pid, flush=True)
time.sleep(10 * 60)  # killed by the test
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_tabs_app_ends_when_its_server_is_killed() -> None:
    """SIGKILL gives the server no chance to end its tabs: each app asked the kernel for SIGTERM then."""
    import os
    import signal

    from tests.helpers import wait_until

    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, FOLLOWER], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert parent.stdout.readline() == "following\n"  # the app has asked to follow its server
        parent.kill()
        parent.wait()
        wait_until(lambda: _state(child) in ("", "Z"), "the app to end with its server")
    finally:
        try:
            os.killpg(parent.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _state(pid: int) -> str:
    """A process's state letter from /proc ("" once it is gone)."""
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return ""


UPGRADE = {
    "Connection": "Upgrade",
    "Upgrade": "websocket",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
}
SIGN_IN_FIRST = (
    "grafient serve: open the sign-in link that grafient serve printed when it started "
    "(or restart grafient serve for a new link).\n"
)


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: str


def ask(port: int, path: str, headers: dict[str, str] | None = None, method: str = "GET") -> Answer:
    """One request to the server on 127.0.0.1:`port`, as a browser or a script would send it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=PATIENCE)
    try:
        connection.request(method, path, headers=headers or {})
        answer = connection.getresponse()
        return Answer(answer.status, answer.headers, answer.read().decode())
    finally:
        connection.close()


def port_of(served: Served) -> int:
    return int(served.url.rsplit(":", 1)[1].strip("/"))


def sign_in(served: Served) -> str:
    """Use the printed link once; the session cookie it sets, as a Cookie header's value."""
    port = port_of(served)
    opened = ask(port, served.link.removeprefix(f"http://127.0.0.1:{port}"))
    assert (opened.status, opened.headers["Location"]) == (303, "/")
    cookie = SimpleCookie(opened.headers["Set-Cookie"])
    (name,) = cookie
    return f"{name}={cookie[name].value}"


def test_the_server_answers_only_this_machine(tmp_path) -> None:
    """The real server, signed in: its page names its own address; a rebound name, or a websocket opened
    by another site's page, is refused, and starts no app."""
    with serving(tmp_path / "serve.log", "--demo") as served:
        port = port_of(served)
        signed_in = {"Cookie": sign_in(served)}
        page = ask(port, "/", signed_in)
        assert page.status == 200
        assert f'data-session-websocket-url="ws://127.0.0.1:{port}/ws"' in page.body
        assert ask(port, "/", {"Host": f"evil.example:{port}", **signed_in}).status == 421
        assert ask(port, "/ws", {"Origin": "https://evil.example", **UPGRADE, **signed_in}).status == 403
        assert ask(port, "/ws", {**UPGRADE, **signed_in}).status == 403  # no page at all
        # another local server's page
        assert ask(port, "/ws", {"Origin": f"http://127.0.0.1:{port + 1}", **UPGRADE, **signed_in}).status == 403
        assert served.app_processes() == []


def test_only_the_printed_link_signs_in_once_and_every_request_needs_its_cookie(tmp_path) -> None:
    """Another user of the machine reaches the port as the owner does: without the link, nothing (not the
    page, not its files, not the websocket); the link works once; its cookie is the session."""
    with serving(tmp_path / "serve.log", "--demo") as served:
        port = port_of(served)
        origin = {"Origin": f"http://127.0.0.1:{port}"}
        token = served.link.rsplit("=", 1)[1]
        for path, headers in [
            ("/", {}),
            ("/static/js/textual.js", {}),
            ("/static/", {}),
            ("/download/anything", {}),
            ("/ws", {**origin, **UPGRADE}),  # the websocket, from the server's own page
            ("/?token=" + "A" * 43, {}),  # a wrong token
            ("/?token=", {}),
            ("/?token=" + token[:-1], {}),
            ("/?token=%C3%A9", {}),  # not ASCII
            ("/", {"Cookie": f"grafient_serve_{port}=" + token}),  # the token is not the session
        ]:
            refused = ask(port, path, headers)
            assert (refused.status, refused.body) == (403, SIGN_IN_FIRST), path
            assert refused.headers["Set-Cookie"] is None
        assert ask(port, f"/?token={token}", method="HEAD").status == 403  # only a visit spends it
        assert ask(port, f"/?token={token}&token={token}").status == 403

        opened = ask(port, f"/?token={token}")
        assert (opened.status, opened.headers["Location"], opened.body) == (303, "/", "")  # no token left
        assert opened.headers["Cache-Control"] == "no-store"
        set_cookie = opened.headers["Set-Cookie"]
        cookie = SimpleCookie(set_cookie)
        assert list(cookie) == [f"grafient_serve_{port}"]
        session = cookie[f"grafient_serve_{port}"]
        assert (session["httponly"], session["samesite"], session["path"]) == (True, "Strict", "/")
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", session.value) and session.value != token
        signed_in = {"Cookie": f"grafient_serve_{port}={session.value}"}

        # The link is spent: refused, even to the browser that used it, and it sets nothing.
        again = ask(port, f"/?token={token}", signed_in)
        assert again.status == 403
        assert again.body == (
            "grafient serve: this sign-in link has already been used; it works once, in one browser "
            "(restart grafient serve for a new link).\n"
        )
        assert again.headers["Set-Cookie"] is None

        assert ask(port, "/", signed_in).status == 200
        assert ask(port, "/static/js/textual.js", signed_in).status == 200
        forged = {"Cookie": f"grafient_serve_{port}={session.value[:-1]}A"}
        assert ask(port, "/", forged).status == 403
        assert ask(port, "/", {"Cookie": f"grafient_serve_{port + 1}={session.value}"}).status == 403
        assert served.app_processes() == []  # nothing refused started an app

        log = served.log.read_bytes()
        assert session.value.encode() not in log  # the session is never printed
        assert log.count(token.encode()) == 1  # the link, once


def test_a_cookie_of_a_previous_run_is_refused(tmp_path) -> None:
    """Each run makes its own secrets: a browser still holding the last run's cookie signs in again."""
    with serving(tmp_path / "first.log", "--demo") as first:
        port = port_of(first)
        old = sign_in(first)
        assert ask(port, "/", {"Cookie": old}).status == 200
    with serving(tmp_path / "second.log", "--demo", port=port) as second:
        assert second.link != first.link
        assert ask(port, "/", {"Cookie": old}).status == 403
        assert ask(port, first.link.removeprefix(f"http://127.0.0.1:{port}")).status == 403  # the old link too
        new = sign_in(second)
        assert new != old
        assert ask(port, "/", {"Cookie": new}).status == 200


class Links(HTMLParser):
    """Every address an HTML page makes its browser fetch: src and href attributes, and url(...) in CSS."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value or "" for name, value in attrs if name in ("src", "href", "srcset", "data-pingurl")]
        self.found += re.findall(r"url\(\s*['\"]?([^'\")]*)", dict(attrs).get("style") or "")

    def handle_data(self, data: str) -> None:
        self.found += re.findall(r"url\(\s*['\"]?([^'\")]*)", data)
        self.found += re.findall(r"@import\s+['\"]([^'\"]*)", data)


def test_the_page_fetches_nothing_from_another_host(tmp_path) -> None:
    """Offline, and nobody told the page was opened: no Google Fonts, every address on the server itself."""
    with serving(tmp_path / "serve.log", "--demo") as served:
        port = port_of(served)
        answer = ask(port, "/", {"Cookie": sign_in(served)})
        page = answer.body
    # The browser enforces it too: only this server, and no other page frames this one.
    policy = dict(rule.strip().split(" ", 1) for rule in answer.headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert all("http" not in sources and "*" not in sources for sources in policy.values())
    links = Links()
    links.feed(page)
    assert "/static/js/textual.js" in links.found  # the parser sees the page's own files
    assert "/static/images/background.png" in links.found
    for address in links.found:
        parts = urlsplit(address)
        assert parts.hostname in (None, "127.0.0.1"), address
        assert parts.scheme in ("", "http", "ws"), address
    assert "googleapis" not in page and "gstatic" not in page
    websocket = re.search(r'data-session-websocket-url="([^"]*)"', page)
    assert websocket is not None and urlsplit(websocket.group(1)).hostname == "127.0.0.1"


def test_the_sign_in_keeps_its_secrets() -> None:
    first, second = serve.SignIn(8765), serve.SignIn(8765)
    token = first.link("http://127.0.0.1:8765").rsplit("=", 1)[1]
    assert first.link("http://127.0.0.1:8765") == f"http://127.0.0.1:8765/?token={token}"
    assert token != second.link("http://127.0.0.1:8765").rsplit("=", 1)[1]  # per run
    assert token != first.session and first.session != second.session
    assert token not in repr(first) and first.session not in repr(first)
    assert not first.admits(first.session)  # no session before the link is used
    assert first.redeem("x" * 43) == "wrong"
    assert first.redeem(token + "x") == "wrong"
    assert first.redeem("é") == "wrong"
    assert first.redeem(token) == "opened"
    assert first.redeem(token) == "spent"
    assert first.admits(first.session)
    assert not first.admits(second.session)
    assert not first.admits(None)
    assert not first.admits(token)
    assert not first.admits("é")
    assert first.cookie_name == "grafient_serve_8765"


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1:8765", "ws://127.0.0.1:8765/ws"),
        ("localhost:8765", "ws://localhost:8765/ws"),  # its cookie was set for localhost
        ("[::1]:8765", "ws://[::1]:8765/ws"),
        ("localhost", "ws://localhost:8765/ws"),  # the server's port, always
    ],
)
def test_the_websocket_is_on_the_name_the_browser_used(host: str, url: str) -> None:
    assert serve.websocket_url(host, 8765) == url
