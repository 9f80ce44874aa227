"""`grafient mcp` as a coding agent meets it: how long the server takes to start and answer, and how
long its answers are (an agent reads every character of them).

Builds the demo's home (one simulated account per provider, the pro plan's year of history, synced by
the real engine from the fakes) in a temporary directory, then starts `grafient mcp` with the SDK's
stdio client, `--runs` times, and calls each tool: integrations; spend by day over 30 and 92 days, by
model and member over 366 days, by provider over 90; budgets.

Prints one line per call (median seconds, characters of the text answer), then as its last line:
  start_s=N  spend_30_days_s=N  spend_30_days_chars=N
(medians). The clock is pinned (GRAFIENT_NOW), so the figures are the same data every run.

Usage: uv run python benchmarks/mcp_answers.py [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mcp.client.session import ClientSession  # noqa: E402
from mcp.client.stdio import StdioServerParameters, stdio_client  # noqa: E402

from grafient_tui.demo import build_demo  # noqa: E402
from grafient_tui.service import GrafientService  # noqa: E402
from tests.factories import add_demo_teams  # noqa: E402

NOW = datetime(2026, 3, 12, 10, 30, tzinfo=UTC)
CALLS = (
    ("integrations", {}),
    ("spend", {"days": 30}),
    ("spend", {"days": 92}),
    ("spend", {"days": 366, "group_by": "model"}),
    ("spend", {"days": 366, "group_by": "member"}),
    ("spend", {"days": 90, "group_by": "provider"}),
    ("budgets", {}),
)


def build_home(home: Path) -> None:
    env = build_demo(now=NOW, latency=0, home=home)
    service = GrafientService(env.settings, transport=env.transport)

    asyncio.run(add_demo_teams(service, env.teams, NOW))
    for target, amount, period, on_demand in env.budgets:
        service.set_budget(target, amount, period=period, on_demand=on_demand, now=NOW)
    service.close()


async def one_run(home: Path) -> tuple[float, list[tuple[float, int]]]:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "grafient_tui", "mcp"],
        env={"GRAFIENT_HOME": str(home), "GRAFIENT_NOW": NOW.isoformat(), "PYTHONPATH": str(ROOT)},
    )
    started = time.perf_counter()
    calls = []
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        start = time.perf_counter() - started
        for name, arguments in CALLS:
            began = time.perf_counter()
            result = await session.call_tool(name, arguments)
            took = time.perf_counter() - began
            if result.is_error:
                raise SystemExit(f"{name} {arguments}: {result.content[0].text}")
            calls.append((took, len(result.content[0].text)))
    return start, calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="grafient-mcp-bench-"))
    try:
        home = folder / "home"
        began = time.perf_counter()
        build_home(home)
        print(f"home built (8 accounts, a year each) in {time.perf_counter() - began:.1f} s")
        runs = [asyncio.run(one_run(home)) for _ in range(args.runs)]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    starts = [start for start, _ in runs]
    medians = []
    for i, (name, arguments) in enumerate(CALLS):
        seconds = statistics.median(calls[i][0] for _, calls in runs)
        chars = runs[0][1][i][1]
        medians.append((seconds, chars))
        print(f"{name} {json.dumps(arguments)}: {seconds:.3f} s, {chars:,} characters")
    spend_s, spend_chars = medians[1]
    print(f"start_s={statistics.median(starts):.2f}  spend_30_days_s={spend_s:.3f}  spend_30_days_chars={spend_chars}")


if __name__ == "__main__":
    main()
