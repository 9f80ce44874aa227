"""How long `grafient` takes to end: from `q`, SIGTERM, SIGHUP or its terminal going away, to process exit.

Each run starts the real CLI (`grafient_tui.cli.main`) in a pseudo-terminal (120x40,
TERM=xterm-256color) that is the child's controlling terminal, as in a shell, tmux or SSH.
A probe inside the child (GrafientApp subclassed, nothing else changed) writes a stamp
when the app is in the state to measure; the parent then acts and times until the
process has been reaped:

  setups   normal-idle      ten stored integrations with a year each, nothing due, no sync running
           normal-retrying  a forced sync of all ten against a closed port (retrying, in backoff)
           normal-inflight  a forced sync of all ten against a server that accepts and never answers
           demo-idle        `grafient --demo` once its four teams are added and backfilled
           demo-sync        `grafient --demo` while its backfills run
  actions  q                the key, written to the terminal
           term, hup        SIGTERM, SIGHUP sent to the process
           hangup           the terminal's master side closed (the kernel hangs the terminal up
                            and sends SIGHUP, as when tmux kills a session or SSH drops)
           gone             the master closed for a child that has no controlling terminal:
                            no SIGHUP, only EOF on reads and EIO on writes

A run that has not exited after 10 s is killed and counted as `hung`. For demo runs it also
reports whether the throwaway home was left behind.

Runs as installed: grafient_tui and site-packages are byte-compiled first and
PYTHONDONTWRITEBYTECODE is removed from the children's environment.

Prints one line per setup and action (median and worst of the runs, in seconds), then
  worst_q_s=N  worst_signal_s=N  hung=N  demo_homes_left=N

Usage: uv run python benchmarks/quit_latency.py [--runs 3] [--setups normal-idle,demo-sync] [--actions q,hup]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZE = (120, 40)
SETUPS = ("normal-idle", "normal-retrying", "normal-inflight", "demo-idle", "demo-sync")
ACTIONS = ("q", "term", "hup", "hangup", "gone")
HUNG_AFTER = 10.0


# --------------------------------------------------------------------------- the probe (in the child)


def probe(stamp: Path, setup: str) -> int:
    """Run the real CLI with GrafientApp subclassed to stamp once the app is in the wanted state."""
    import grafient_tui.tui.app as app_module
    from grafient_tui.cli import main

    class Probe(app_module.GrafientApp):
        stamped = False
        forced = False

        def on_ready(self) -> None:
            self._probe_timer = self.set_interval(0.01, self._check)

        def _check(self) -> None:
            if self.stamped or not self.live.store_ready:
                return
            home = self.screen_stack[0]
            if not getattr(home, "loaded", False):
                return
            running = [w for w in self.syncs.values() if w.is_running]
            if setup in ("normal-retrying", "normal-inflight"):
                if not self.forced:
                    self.forced = True
                    for integration in self.service.integrations():
                        self.start_sync(integration.integration_id, "force")
                    self._forced_at = time.monotonic()
                    return
                if not running or time.monotonic() - self._forced_at < 0.5:
                    return  # half a second in: retrying, or waiting on its answer
            elif setup == "demo-sync":
                if not any(p.windows_done >= 1 for p in self.live.progress.values()) or not running:
                    return
            elif setup == "demo-idle":
                if self.demo_teams or running or len(list(home.query(".integration-card"))) < 4:
                    return
            elif running:
                return
            self.stamped = True
            self._probe_timer.stop()
            stamp.write_text(json.dumps({"t": time.time(), "home": str(self.settings.data_dir)}))

    app_module.GrafientApp = Probe  # type: ignore[misc]
    return main(["--demo"] if setup.startswith("demo") else [])


# --------------------------------------------------------------------------- the parent


def seed(home: Path) -> None:
    """Ten integrations with a year of 30 models and 12 members each (as benchmarks/startup.py): every
    re-read of the home screen has real work to do. Marked synced an hour ahead, so that no daily
    sync falls due (at 06:00 UTC) while the benchmark runs."""
    code = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from datetime import datetime, timedelta, UTC
from grafient_tui.config import Settings
from tests.factories import seed_history
from grafient_tui.store.db import Database
from grafient_tui.store.vault import Vault
settings = Settings.from_env()
settings.ensure_dirs()
db, vault = Database(settings), Vault(settings)
now = datetime.now(UTC)
settings.set_plan("pro")
models = [f"model-{{i:02d}}" for i in range(30)]
members = [f"dev{{i:02d}}@example.com" for i in range(12)]
for i in range(10):
    seed_history(db, vault, label=f"Team {{i + 1}}", until=now.date(), days=366, seed=i, models=models,
                 members=members, synced_at=now + timedelta(hours=1))
"""
    subprocess.run([sys.executable, "-c", code], env={**os.environ, "GRAFIENT_HOME": str(home)}, check=True)


def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


class SilentServer:
    """Accepts connections and reads, never answers: every request stays in flight."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)


def run_once(setup: str, action: str, home: Path, api_url: str) -> tuple[float | None, bool | None]:
    """(seconds from the action to the exit, or None when it hung; for demo runs, whether its home is gone)."""
    fd, name = tempfile.mkstemp(prefix="grafient-quit-")
    os.close(fd)
    stamp = Path(name)
    stamp.unlink()
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    env = {
        **os.environ,
        "GRAFIENT_HOME": str(home),
        "TERM": "xterm-256color",
        "GRAFIENT_CURSOR_API_URL": api_url,
        "GRAFIENT_BACKOFF_BASE": "1",
    }
    for name_ in ("TEXTUAL", "PYTHONDONTWRITEBYTECODE", "COLUMNS", "LINES"):
        env.pop(name_, None)
    if setup.startswith("demo"):
        env.pop("GRAFIENT_HOME")
        env.pop("GRAFIENT_CURSOR_API_URL")
    controlling = action != "gone"

    def become_session_leader() -> None:
        os.setsid()
        if controlling:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)  # the pty becomes its controlling terminal

    command = [sys.executable, str(Path(__file__).resolve()), "--probe", setup, "--stamp", str(stamp)]
    terminal = Terminal(master)
    process = subprocess.Popen(
        command, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, preexec_fn=become_session_leader
    )
    os.close(slave)
    took: float | None = None
    demo_home: str | None = None
    try:
        deadline = time.time() + 60
        while not stamp.exists() or not stamp.read_text():
            if time.time() > deadline or process.poll() is not None:
                raise SystemExit(f"{setup}: the probe never reported its state (exit {process.poll()})")
            time.sleep(0.005)
        demo_home = json.loads(stamp.read_text())["home"] if setup.startswith("demo") else None
        acted = time.monotonic()
        if action == "q":
            os.write(master, b"q")
        elif action == "term":
            process.send_signal(signal.SIGTERM)
        elif action == "hup":
            process.send_signal(signal.SIGHUP)
        else:  # hangup, gone
            acted = terminal.close()
        try:
            process.wait(timeout=HUNG_AFTER)
            took = time.monotonic() - acted
        except subprocess.TimeoutExpired:
            took = None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        terminal.close()
        stamp.unlink(missing_ok=True)
    left = None
    if demo_home is not None:
        left = Path(demo_home).exists()
        shutil.rmtree(demo_home, ignore_errors=True)
    return took, left


class Terminal:
    """The master side of the child's pty: drained so the child never blocks on a full pty, and
    closed by the draining thread itself (a close() while another thread sits in read() on the same
    fd would not release the pty until that read returned)."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.closing = threading.Event()
        self.closed = threading.Event()
        self.closed_at = 0.0
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        import select

        try:
            while not self.closing.is_set():
                ready, _, _ = select.select([self.master], [], [], 0.002)
                if ready:
                    try:
                        if not os.read(self.master, 65536):
                            break
                    except OSError:
                        break
        finally:
            os.close(self.master)
            self.closed_at = time.monotonic()
            self.closed.set()

    def close(self) -> float:
        """Close the master now; the moment it was closed."""
        self.closing.set()
        self.closed.wait()
        self._thread.join()
        return self.closed_at


def compile_as_installed() -> None:
    """pip and uv-with-compile install .pyc files; a plain `uv sync` does not. Compile ours and the venv's."""
    import sysconfig

    for path in (ROOT / "grafient_tui", ROOT / "tests", Path(sysconfig.get_paths()["purelib"])):
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", "-j", "0", str(path)],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--setups", default=",".join(SETUPS))
    parser.add_argument("--actions", default=",".join(ACTIONS))
    parser.add_argument("--probe", choices=SETUPS, help=argparse.SUPPRESS)
    parser.add_argument("--stamp", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        sys.path.insert(0, str(ROOT))
        return probe(args.stamp, args.probe)

    setups = [s for s in args.setups.split(",") if s]
    actions = [a for a in args.actions.split(",") if a]
    compile_as_installed()
    print(
        "bytecode: grafient_tui, tests and site-packages byte-compiled (compileall); "
        "PYTHONDONTWRITEBYTECODE unset in the children, as installed"
    )
    home = Path(tempfile.mkdtemp(prefix="grafient-bench-"))
    silent = SilentServer()
    refused = closed_port()
    worst = {"q": 0.0, "signal": 0.0}
    hung = homes_left = 0
    try:
        seed(home)
        run_once("normal-idle", "q", home, refused)  # warm the file cache
        for setup in setups:
            url = silent.url if setup == "normal-inflight" else refused
            for action in actions:
                times: list[float] = []
                left_here = hung_here = 0
                for _ in range(args.runs):
                    took, left = run_once(setup, action, home, url)
                    if took is None:
                        hung_here += 1
                    else:
                        times.append(took)
                    left_here += bool(left)
                hung += hung_here
                homes_left += left_here
                if times:
                    kind = "q" if action == "q" else "signal"
                    worst[kind] = max(worst[kind], max(times))
                figures = (
                    f"median {statistics.median(times):.3f}  worst {max(times):.3f}" if times else "median -  worst -"
                )
                extra = f"  hung {hung_here}" if hung_here else ""
                extra += f"  demo home left {left_here}" if left_here else ""
                print(
                    f"{setup:16s} {action:7s} {figures}  runs " + " ".join(f"{t:.3f}" for t in times) + extra,
                    flush=True,
                )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(f"worst_q_s={worst['q']:.3f}")
    print(f"worst_signal_s={worst['signal']:.3f}")
    print(f"hung={hung}")
    print(f"demo_homes_left={homes_left}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
