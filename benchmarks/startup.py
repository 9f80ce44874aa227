"""Process start to first paint (and to numbers) of `grafient`, against a bare Textual app; and quit.

Seeds 10 integrations x 365 days x 30 models into a temporary GRAFIENT_HOME,
then starts each program several times in a pseudo-terminal (TERM=xterm-256color,
120x40), alternating them. A probe inside the child writes the wall-clock time
of Textual's Ready event (sent once the first frame has been written to the
terminal) and exits; the parent takes the time from just before it spawned the
process. `grafient` is started through its real entry point (`grafient_tui.cli.main`).

`data_ready_s`: process start until the home screen shows figures (cards and totals),
which since the home snapshot is the last run's figures at first paint; `data_ready_ratio`
is that over bare Textual's first paint (goal <= 1.5). `store_ready_s`, for the record: until
the store's own figures have replaced them. `quit_s`: from `q` written to the terminal until
the process has exited, idle (goal <= 0.5); `quit_mid_sync_s`: the same while a forced sync
runs (against a closed port, so it is retrying). `first_key_s`: process start until Enter, written to
the terminal as soon as the first frame is painted, has opened the highlighted card's detail screen
(on the home snapshot's figures, before the store has opened: the store's fill it in afterwards;
`first_key_ratio` is it over bare Textual's first paint, goal <= 1.5).

Runs as installed: the package and site-packages are byte-compiled first and
PYTHONDONTWRITEBYTECODE is removed from the children's environment.

Prints, as its last lines:
  first_paint_s=N  bare_textual_s=N  ratio=N  data_ready_s=N  data_ready_ratio=N  first_key_s=N  quit_s=N ...

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
        stamped = False

        def on_ready(self) -> None:
            # Textual calls GrafientApp.on_ready as well (handlers run for every class in the MRO).
            if until == "key":  # the parent presses Enter now; stamped once the detail is on screen
                stamp.with_suffix(".painted").write_text(repr(time.time()))
                self.set_interval(0.002, self._check_detail)
            elif until == "paint" or (until == "data" and getattr(self.screen_stack[0], "data", None) is not None):
                self._done()  # Ready follows the first frame: what it shows was painted
            else:
                self.set_interval(0.002, self._check_data)

        def _check_data(self) -> None:
            home = self.screen_stack[0]
            if until == "data":  # figures on screen, from the snapshot or the store
                ready = getattr(home, "data", None) is not None
            else:  # the store's own figures
                ready = self.live.store_ready and getattr(home, "loaded", False)
            if ready and not self.stamped:
                self.stamped = True
                self.call_after_refresh(self._done)

        def _check_detail(self) -> None:
            if type(self.screen).__name__ == "CostDetailScreen" and not self.stamped:
                self.stamped = True
                self.call_after_refresh(self._done)

        def _done(self) -> None:
            stamp.write_text(repr(time.time()))
            if until != "quit":  # "quit": the parent presses q now
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


def run_once(kind: str, home: Path, until: str = "paint", keys: str = "") -> float:
    """Seconds from spawn to the probe's stamp; for until="quit", from `q` to the process's exit."""
    fd, name = tempfile.mkstemp(prefix="grafient-paint-")
    os.close(fd)
    stamp = Path(name)
    stamp.unlink()
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    env = {
        **os.environ,
        "GRAFIENT_HOME": str(home),
        "TERM": "xterm-256color",
        "COLUMNS": str(SIZE[0]),
        "LINES": str(SIZE[1]),
        "GRAFIENT_CURSOR_API_URL": NO_NETWORK,
    }
    env.pop("TEXTUAL", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: .pyc files are used
    command = [sys.executable, str(Path(__file__).resolve()), "--probe", kind, "--stamp", str(stamp), "--until", until]
    drained = threading.Thread(target=_drain, args=(master,), daemon=True)
    drained.start()
    start = time.time()
    process = subprocess.Popen(
        command, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, start_new_session=True
    )
    os.close(slave)
    quit_s = None
    try:
        if until == "quit":
            deadline = time.time() + 60
            while not stamp.exists() or not stamp.read_text():
                if time.time() > deadline or process.poll() is not None:
                    break
                time.sleep(0.005)
            for key in keys:  # e.g. "r": a forced sync, left to run a moment
                os.write(master, key.encode())
                time.sleep(0.3)
            pressed = time.time()
            os.write(master, b"q")
            process.wait(timeout=60)
            quit_s = time.time() - pressed
        elif until == "key":  # Enter at first paint, before the store has opened
            painted_mark = stamp.with_suffix(".painted")
            deadline = time.time() + 60
            while not painted_mark.exists() or not painted_mark.read_text():
                if time.time() > deadline or process.poll() is not None:
                    break
                time.sleep(0.002)
            os.write(master, b"\r")
            painted_mark.unlink(missing_ok=True)
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
    return quit_s if quit_s is not None else painted - start


def _drain(fd: int) -> None:
    """Read the child's terminal output so it never blocks on a full pty."""
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)


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
        print(
            f"seeded {INTEGRATIONS} integrations x {DAYS} days (+ today) x {MODELS} models in "
            f"{time.perf_counter() - began:.1f}s ({home})"
        )
        compile_as_installed()
        print(
            "bytecode: grafient_tui, tests and site-packages byte-compiled (compileall); "
            "PYTHONDONTWRITEBYTECODE unset in the children, as installed"
        )
        run_once("bare", home)  # warm the file cache for both
        run_once("grafient", home)
        run_once("grafient", home, until="store")  # the first home read writes the snapshot
        runs: dict[str, list[float]] = {
            name: [] for name in ("bare", "grafient", "data", "key", "store", "quit", "quit_mid_sync")
        }
        for _ in range(args.runs):
            runs["bare"].append(run_once("bare", home))
            runs["grafient"].append(run_once("grafient", home))
            runs["data"].append(run_once("grafient", home, until="data"))
            runs["key"].append(run_once("grafient", home, until="key"))
            runs["store"].append(run_once("grafient", home, until="store"))
            runs["quit"].append(run_once("grafient", home, until="quit"))
            runs["quit_mid_sync"].append(run_once("grafient", home, until="quit", keys="r"))
        for name, values in runs.items():
            print(f"{name + ' runs:':20s}" + " ".join(f"{t:.3f}" for t in values))
        mean = {name: statistics.mean(values) for name, values in runs.items()}
        print(f"first_paint_s={mean['grafient']:.3f}")
        print(f"bare_textual_s={mean['bare']:.3f}")
        print(f"ratio={mean['grafient'] / mean['bare']:.2f}")
        print(f"data_ready_s={mean['data']:.3f}")
        print(f"data_ready_ratio={mean['data'] / mean['bare']:.2f}")
        print(f"first_key_s={mean['key']:.3f}")
        print(f"first_key_ratio={mean['key'] / mean['bare']:.2f}")
        print(f"store_ready_s={mean['store']:.3f}")
        print(f"quit_s={mean['quit']:.3f}")
        print(f"quit_mid_sync_s={mean['quit_mid_sync']:.3f}")
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
