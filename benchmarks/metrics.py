"""`grafient metrics` as a process, beside `grafient report --days 30` on the same store.

Seeds the startup benchmark's history (10 integrations x 365 days x 30 models, 12 members) into a
temporary GRAFIENT_HOME, then times, alternating and several times each:

- `grafient metrics` (each integration's spend today, month to date and in its cycle; syncs; budgets),
- `grafient metrics --by-model` (each model's too, for the three periods),
- `grafient report --days 30`, the reference: a command people already run from cron.

Runs as installed (byte-compiled, PYTHONDONTWRITEBYTECODE removed from the children), as
benchmarks/report.py does. Prints, as its last line:
  metrics_s=N  metrics_by_model_s=N  report_s=N  metrics_ratio=N
(medians in seconds; the ratio is metrics over report, measured in the same run).

Usage: uv run python benchmarks/metrics.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import timed
from startup import DAYS, INTEGRATIONS, MEMBERS, MODELS, compile_as_installed, seed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="grafient-bench-metrics-"))
    try:
        began = time.perf_counter()
        seed(home)
        print(
            f"seeded {INTEGRATIONS} integrations x {DAYS} days (+ today) x {MODELS} models, {MEMBERS} members in "
            f"{time.perf_counter() - began:.1f}s ({home})"
        )
        compile_as_installed()
        env = {**os.environ, "GRAFIENT_HOME": str(home)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        grafient = [sys.executable, "-m", "grafient_tui"]
        commands = {
            "metrics": [*grafient, "metrics"],
            "metrics_by_model": [*grafient, "metrics", "--by-model"],
            "report": [*grafient, "report", "--days", "30"],
        }
        for command in commands.values():  # warm the file cache and check each runs
            timed(command, env)
        runs: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                runs[name].append(timed(command, env))
        for name, values in runs.items():
            print(f"{name:17} median {statistics.median(values):.3f}s  min {min(values):.3f}s  max {max(values):.3f}s")
        median = {name: statistics.median(values) for name, values in runs.items()}
        print(
            f"metrics_s={median['metrics']:.3f}  metrics_by_model_s={median['metrics_by_model']:.3f}  "
            f"report_s={median['report']:.3f}  metrics_ratio={median['metrics'] / median['report']:.2f}"
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
