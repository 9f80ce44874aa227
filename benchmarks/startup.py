"""Process start to first paint of `grafient`, against a bare Textual app in the same run.

Seeds 10 integrations x 365 days x 30 models into a temporary GRAFIENT_HOME,
then starts each program several times in a pseudo-terminal (TERM=xterm-256color,
120x40), alternating them. A probe inside the child writes the wall-clock time
of Textual's Ready event (sent once the first frame has been written to the
terminal) and exits; the parent takes the time from just before it spawned the
process. `grafient` is started through its real entry point (`grafient_tui.cli.main`).

Also measured for the record: `data_ready_s`, until the home screen shows the
cards read from the store (the store opens in a worker after the first paint).

Prints, as its last lines:
  first_paint_s=N   bare_textual_s=N   ratio=N

Usage: uv run python benchmarks/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import shutil
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
INTEGRATIONS, DAYS, MODELS, MEMBERS = 10, 365, 30, 12
SIZE = (120, 40)
NO_NETWORK = "http://127.0.0.1:9"  # nothing here may reach Cursor, even if a sync were due


# --------------------------------------------------------------------------- probes (run in the child)

def probe_grafient(stamp: Path, until: str) -> int:
    """Run the real CLI with GrafientApp replaced by a subclass that records the paint and exits."""
    import grafient_tui.tui.app as app_module
    from grafient_tui.cli import main

    class Probe(app_module.GrafientApp):
        def on_ready(self) -> None:
            # Textual calls GrafientApp.on_ready as well (handlers run for every class in the MRO).
            if until == "paint":
                self._done()
            else:
                self.set_interval(0.002, self._check_data)

        def _check_data(self) -> None:
            home = self.screen_stack[0]
            if self.store_ready and getattr(home, "loaded", False):
                self.call_after_refresh(self._done)

        def _done(self) -> None:
            stamp.write_text(repr(time.time()))
            self.exit()

    app_module.GrafientApp = Probe  # type: ignore[misc]
    return main([])


def probe_bare(stamp: Path) -> int:
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Header, Static

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield Static("Hello")
            yield Footer()

        def on_ready(self) -> None:
            stamp.write_text(repr(time.time()))
            self.exit()

    Bare().run()
    return 0


# --------------------------------------------------------------------------- parent

def seed(home: Path) -> None:
    env = {"GRAFIENT_HOME": str(home)}
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
settings.set_plan("pro")
db, vault = Database(settings), Vault(settings)
now = datetime.now(UTC)
models = [f"model-{{i:02d}}" for i in range({MODELS})]
members = [f"dev{{i:02d}}@example.com" for i in range({MEMBERS})]
for i in range({INTEGRATIONS}):
    # {DAYS} finished days plus today: the whole history the pro plan keeps, so no sync is due at start.
    seed_history(db, vault, label=f"Team {{i + 1}}", until=now.date(), days={DAYS} + 1, models=models,
                 members=members, seed=i, synced_at=now - timedelta(minutes=5))
"""
    subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, check=True)


def run_once(kind: str, home: Path, until: str = "paint") -> float:
    fd, name = tempfile.mkstemp(prefix="grafient-paint-")
    os.close(fd)
    stamp = Path(name)
    stamp.unlink()
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    env = {**os.environ, "GRAFIENT_HOME": str(home), "TERM": "xterm-256color", "COLUMNS": str(SIZE[0]),
           "LINES": str(SIZE[1]), "GRAFIENT_CURSOR_API_URL": NO_NETWORK}
    env.pop("TEXTUAL", None)
    command = [sys.executable, str(Path(__file__).resolve()), "--probe", kind, "--stamp", str(stamp),
               "--until", until]
    drained = threading.Thread(target=_drain, args=(master,), daemon=True)
    drained.start()
    start = time.time()
    process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT,
                               start_new_session=True)
    os.close(slave)
    try:
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    drained.join(timeout=5)
    try:
        painted = float(stamp.read_text())
    except (FileNotFoundError, ValueError):
        raise SystemExit(f"the {kind} probe did not report a paint (exit {process.returncode})") from None
    finally:
        stamp.unlink(missing_ok=True)
    return painted - start


def _drain(fd: int) -> None:
    """Read the child's terminal output so it never blocks on a full pty."""
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--probe", choices=("grafient", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--stamp", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--until", default="paint", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe == "grafient":
        sys.path.insert(0, str(ROOT))
        return probe_grafient(args.stamp, args.until)
    if args.probe == "bare":
        return probe_bare(args.stamp)

    home = Path(tempfile.mkdtemp(prefix="grafient-bench-"))
    try:
        began = time.perf_counter()
        seed(home)
        print(f"seeded {INTEGRATIONS} integrations x {DAYS} days (+ today) x {MODELS} models in "
              f"{time.perf_counter() - began:.1f}s ({home})")
        run_once("bare", home)  # warm the file cache and the .pyc files for both
        run_once("grafient", home)
        grafient, bare, data = [], [], []
        for _ in range(args.runs):
            bare.append(run_once("bare", home))
            grafient.append(run_once("grafient", home))
            data.append(run_once("grafient", home, until="data"))
        print("bare_textual runs: " + " ".join(f"{t:.3f}" for t in bare))
        print("grafient runs:     " + " ".join(f"{t:.3f}" for t in grafient))
        print("data_ready runs:   " + " ".join(f"{t:.3f}" for t in data))
        first_paint, bare_textual = statistics.mean(grafient), statistics.mean(bare)
        print(f"data_ready_s={statistics.mean(data):.3f}")
        print(f"first_paint_s={first_paint:.3f}")
        print(f"bare_textual_s={bare_textual:.3f}")
        print(f"ratio={first_paint / bare_textual:.2f}")
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
