"""`grafient report` as a process, against a floor: the same figures from a bare Python with sqlite3.

Seeds the startup benchmark's history (10 integrations x 365 days x 30 models, 12 members) into a
temporary GRAFIENT_HOME, then times, alternating and several times each:

- `grafient report --days 30` (the period's summary and days of every integration),
- `grafient report --days 30 --by model`,
- the floor: a bare `python -c` that opens the same SQLite file with the standard library's sqlite3
  and runs the equivalent aggregates (the period's sums per integration and per day, and per model).

Runs as installed: the package and site-packages are byte-compiled first, and PYTHONDONTWRITEBYTECODE
is removed from the children's environment (this environment sets it, which would make every start
compile from source).

Prints, as its last line:
  report_s=N  report_by_model_s=N  floor_s=N  report_ratio=N  report_by_model_ratio=N
(medians in seconds; the ratios are over the floor measured in the same run). Goal: report_s <= 0.3
and report_ratio <= 4.

Usage: uv run python benchmarks/report.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from startup import DAYS, INTEGRATIONS, MEMBERS, MODELS, ROOT, compile_as_installed, seed

# The floor's SQL: what `report --days 30` needs at the least (each integration's sums over the
# period, and the sums per day), and what `--by model` needs (the sums per model).
FLOOR = """
import sqlite3, sys
from datetime import date, timedelta
db = sqlite3.connect(sys.argv[1])
until = date.today()
since = (until - timedelta(days=29)).isoformat()
until = until.isoformat()
db.execute(
    "SELECT integration_id, count(*), sum(cost_micro), sum(on_demand_micro), sum(requests) FROM dailycost "
    "WHERE day BETWEEN ? AND ? GROUP BY integration_id", (since, until)).fetchall()
db.execute(
    "SELECT integration_id, day, cost_micro, on_demand_micro, requests, complete FROM dailycost "
    "WHERE day BETWEEN ? AND ? ORDER BY integration_id, day", (since, until)).fetchall()
db.execute(
    "SELECT model, sum(cost_micro), sum(requests) FROM dailymodelcost WHERE day BETWEEN ? AND ? "
    "GROUP BY model ORDER BY 2 DESC", (since, until)).fetchall()
"""


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}): {result.stderr.decode()[-400:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="grafient-bench-report-"))
    try:
        began = time.perf_counter()
        seed(home)
        print(
            f"seeded {INTEGRATIONS} integrations x {DAYS} days (+ today) x {MODELS} models, {MEMBERS} members in "
            f"{time.perf_counter() - began:.1f}s ({home})"
        )
        compile_as_installed()
        print(
            "bytecode: grafient_tui, tests and site-packages byte-compiled (compileall); "
            "PYTHONDONTWRITEBYTECODE unset in the children, as installed"
        )
        env = {**os.environ, "GRAFIENT_HOME": str(home)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        grafient = [sys.executable, "-m", "grafient_tui"]
        commands = {
            "report": [*grafient, "report", "--days", "30"],
            "report_by_model": [*grafient, "report", "--days", "30", "--by", "model"],
            "floor": [sys.executable, "-c", FLOOR, str(home / "grafient.db")],
        }
        for command in commands.values():  # warm the file cache and check each runs
            timed(command, env)
        runs: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                runs[name].append(timed(command, env))
        for name, values in runs.items():
            print(f"{name:16} median {statistics.median(values):.3f}s  min {min(values):.3f}s  max {max(values):.3f}s")
        median = {name: statistics.median(values) for name, values in runs.items()}
        floor = median["floor"]
        print(
            f"report_s={median['report']:.3f}  report_by_model_s={median['report_by_model']:.3f}  "
            f"floor_s={floor:.3f}  report_ratio={median['report'] / floor:.2f}  "
            f"report_by_model_ratio={median['report_by_model'] / floor:.2f}"
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
