"""What checking the store's rows costs (store/row_check.py: once before a service's first read): on
the startup benchmark's history (10 integrations x 365 days x 30 models, 12 members), seeded into a
temporary GRAFIENT_HOME, times (medians of several runs, in-process):

- check_s: `find_damage` over every table, as a command's first read runs it,
- report_s: `service.report` over 30 days on a service that has checked already (the read it precedes),
- first_report_s: the same on a new service each time (the check, then the report: what a
  `grafient report` pays).

Prints, as its last line: rows=N check_s=N report_s=N first_report_s=N

Usage: uv run python benchmarks/row_check.py [--runs 5]
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
    home = Path(tempfile.mkdtemp(prefix="grafient-bench-row-check-"))
    try:
        seed(home)
        os.environ["GRAFIENT_HOME"] = str(home)
        from grafient_tui.config import Settings
        from grafient_tui.report import ReportRange
        from grafient_tui.service import GrafientService
        from grafient_tui.store.row_check import COLUMNS, find_damage

        settings = Settings.from_env()
        service = GrafientService(settings)
        today = datetime.now(UTC).date()
        span = ReportRange(since=today - timedelta(days=29), until=today)

        def check() -> None:
            with service.reading() as read:
                assert find_damage(read) is None

        def first_report() -> None:
            fresh = GrafientService(settings)
            fresh.report(span, today=today)
            fresh.close()

        with service.reading() as read:
            rows = sum(int(read.one(f"SELECT COUNT(*) FROM {table}")[0]) for table in COLUMNS)  # type: ignore[index]
        figures = {
            "check_s": median_of(args.runs, check),
            "report_s": median_of(args.runs, lambda: service.report(span, today=today)),
            "first_report_s": median_of(args.runs, first_report),
        }
        service.close()
        print(f"rows={rows}  " + "  ".join(f"{name}={value:.3f}" for name, value in figures.items()))
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
