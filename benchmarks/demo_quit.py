"""How long `q` takes to quit `grafient --demo`: the unmodified program, in a real terminal (tmux).

Each run starts the installed entry point (`grafient --demo`, the venv's console script) in a
detached tmux session of its own server (120x40, TERM=xterm-256color), reads the screen with
`tmux capture-pane` and, when the screen is in the state to measure, sends `q` with `tmux send-keys`
and times until the process has gone (its /proc entry, which tmux reaps at once):

  when   paint   at first paint: the title is on screen (the store may still be opening, the demo's
                 accounts being added)
         busy    `--after` seconds (15) after first paint, the user idle while the demo's eight
                 backfills run and the home re-draws its cards and chart as their windows land
         idle    once the screen has not changed for 3 s (the backfills have ended)

`--load N` runs N busy processes beside it (the slow quits were seen on a loaded machine); they
and the tmux server are this script's own and are ended by it. A run that has not exited 30 s
after `q` is killed and counted as hung.

Runs as installed: grafient_tui and site-packages are byte-compiled first and
PYTHONDONTWRITEBYTECODE is removed from the child's environment; the first line printed says so.

Prints one line per state (median and worst, in seconds, and every run), then
  worst_paint_q_s=N  worst_busy_q_s=N  worst_idle_q_s=N  hung=N

Usage: uv run python benchmarks/demo_quit.py [--runs 5] [--when paint,busy,idle] [--after 15] [--load 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZE = (120, 40)
HUNG_AFTER = 30.0
READY_WITHIN = 600.0  # a loaded machine backfills the demo's eight accounts slowly
SETTLED_FOR = 3.0


def compile_as_installed() -> None:
    """pip and uv-with-compile install .pyc files; a plain `uv sync` does not. Compile ours and the venv's."""
    for path in (ROOT / "grafient_tui", Path(sysconfig.get_paths()["purelib"])):
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", "-j", "0", str(path)],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def busy() -> None:  # pragma: no cover - a load generator
    while True:
        pass


class Tmux:
    """A tmux server of this script's own (its own socket): nobody else's sessions are touched."""

    def __init__(self) -> None:
        self.socket = f"grafient-bench-{os.getpid()}"

    def __call__(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=False)
        return done.stdout

    def start(self, command: list[str], env: dict[str, str]) -> int:
        width, height = SIZE
        line = (
            "exec env -u PYTHONDONTWRITEBYTECODE "
            + " ".join(f"{k}={v}" for k, v in env.items())
            + " "
            + " ".join(command)
        )
        self("new-session", "-d", "-s", "bench", "-x", str(width), "-y", str(height), line)
        return int(self("display-message", "-p", "-t", "bench", "#{pane_pid}").strip())

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "bench")

    def stop(self) -> None:
        self("kill-server")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def ready(when: str, screen: str, since_paint: float, since_change: float, after: float) -> bool:
    if "Grafient" not in screen:
        return False
    if when == "paint":
        return True
    if when == "busy":
        return since_paint >= after
    return since_change >= SETTLED_FOR


def run_once(when: str, grafient: Path, after: float) -> float | None:
    """Seconds from `q` to the process's exit; None when it hung."""
    tmux = Tmux()
    env = {"TERM": "xterm-256color"}
    pid = tmux.start([str(grafient), "--demo"], env)
    try:
        give_up = time.monotonic() + READY_WITHIN
        last, changed, painted = "", time.monotonic(), 0.0
        while True:
            screen = tmux.screen()
            now = time.monotonic()
            if screen != last:
                last, changed = screen, now
            if not painted and "Grafient" in screen:
                painted = now
            if ready(when, screen, now - (painted or now), now - changed, after):
                break
            if now > give_up or not alive(pid):
                raise SystemExit(f"{when}: the demo never reached the state to measure")
            time.sleep(0.02 if when == "paint" else 0.2)
        pressed = time.monotonic()
        tmux("send-keys", "-t", "bench", "q")
        while alive(pid):
            if time.monotonic() - pressed > HUNG_AFTER:
                return None
            time.sleep(0.005)
        return time.monotonic() - pressed
    finally:
        if alive(pid):
            os.kill(pid, 9)
        tmux.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--when", default="paint,busy,idle")
    parser.add_argument("--after", type=float, default=15.0, help="seconds after first paint for `busy`")
    parser.add_argument("--load", type=int, default=0, help="busy processes to run beside it")
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        print("benchmarks/demo_quit.py needs tmux (apt-get install tmux).", file=sys.stderr)
        return 2
    grafient = Path(sys.executable).parent / "grafient"
    compile_as_installed()
    print(
        "bytecode: grafient_tui and site-packages byte-compiled (compileall); "
        f"PYTHONDONTWRITEBYTECODE unset in the child, as installed; load {args.load} busy process(es); "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
        flush=True,
    )
    loaders = [multiprocessing.Process(target=busy, daemon=True) for _ in range(args.load)]
    for loader in loaders:
        loader.start()
    worst: dict[str, float] = {}
    hung = 0
    try:
        for when in [w for w in args.when.split(",") if w]:
            times: list[float] = []
            for _ in range(args.runs):
                took = run_once(when, grafient, args.after)
                if took is None:
                    hung += 1
                else:
                    times.append(took)
            worst[when] = max(times, default=0.0)
            figures = f"median {statistics.median(times):.3f}  worst {max(times):.3f}" if times else "median -  worst -"
            print(f"q at {when:5s} {figures}  runs " + " ".join(f"{t:.3f}" for t in times), flush=True)
    finally:
        for loader in loaders:
            loader.terminate()
            loader.join()
    for when, seconds in worst.items():
        print(f"worst_{when}_q_s={seconds:.3f}")
    print(f"hung={hung}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
