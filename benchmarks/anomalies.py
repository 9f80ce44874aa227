"""What the anomaly rules cost: on the startup benchmark's history (10 integrations x 365 days x 30
models, 12 members), seeded into a temporary GRAFIENT_HOME, times (medians of several runs, in-process):

- home_s: `service.home(30)` as the app reads it, anomaly marks included,
- marks_s: the marks alone (`service.anomalies(..., drivers=False)` over the 30 days),
- detail_s: `service.detail` of one integration, its Anomalies tab's drivers included,
- cli_30_s / cli_365_s: `service.anomalies` with drivers over 30 and 365 days (what `grafient
  anomalies` reads and judges).

Prints, as its last line: home_s=N marks_s=N detail_s=N cli_30_s=N cli_365_s=N

Usage: uv run python benchmarks/anomalies.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from startup import seed


def median_of(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="grafient-bench-anomalies-"))
    try:
        seed(home)
        os.environ["GRAFIENT_HOME"] = str(home)
        from grafient_tui.config import Settings
        from grafient_tui.service import GrafientService

        service = GrafientService(Settings.from_env())
        today = datetime.now(UTC).date()
        first = service.integrations()[0].integration_id
        since_30, since_365 = today - timedelta(days=29), today - timedelta(days=364)
        figures = {
            "home_s": median_of(args.runs, lambda: service.home(30, today)),
            "marks_s": median_of(
                args.runs, lambda: service.anomalies(since=since_30, until=today, today=today, drivers=False)
            ),
            "detail_s": median_of(args.runs, lambda: service.detail(first, 30, today)),
            "cli_30_s": median_of(args.runs, lambda: service.anomalies(since=since_30, until=today, today=today)),
            "cli_365_s": median_of(args.runs, lambda: service.anomalies(since=since_365, until=today, today=today)),
        }
        found = service.anomalies(since=since_365, until=today, today=today)
        print(f"anomalies over 365 days, every integration and all together: {len(found)}")
        service.close()
        print("  ".join(f"{name}={value:.3f}" for name, value in figures.items()))
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
