"""`grafient serve` before it serves: the loopback rule and its sentence, what each tab runs, which
requests it answers, and the sentence for a missing extra. (The browser itself: tests/tui/test_browser.py.)"""

from __future__ import annotations

import shlex
import socket
import subprocess
import sys

import pytest

from grafient_tui import __version__
from grafient_tui.tui import serve
from tests.helpers import PATIENCE, run_cli

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


def test_the_server_answers_only_this_machine(tmp_path) -> None:
    """The real server: its page names its own address; a rebound name, or a websocket opened by
    another site's page, is refused, and starts no app."""
    import http.client

    from tests.tui.test_browser import serving

    with serving(tmp_path / "serve.log", "--demo") as served:
        port = int(served.url.rsplit(":", 1)[1].strip("/"))

        def get(path: str, **headers: str) -> tuple[int, str]:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=PATIENCE)
            try:
                connection.request("GET", path, headers=headers)
                answer = connection.getresponse()
                return answer.status, answer.read().decode()
            finally:
                connection.close()

        status, page = get("/")
        assert status == 200
        assert f'data-session-websocket-url="ws://127.0.0.1:{port}/ws"' in page
        assert get("/", Host=f"evil.example:{port}")[0] == 421
        upgrade = {
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        }
        assert get("/ws", Origin="https://evil.example", **upgrade)[0] == 403
        assert get("/ws", **upgrade)[0] == 403  # no page at all
        assert get("/ws", Origin=f"http://127.0.0.1:{port + 1}", **upgrade)[0] == 403  # another local server's page
        assert served.app_processes() == []
