"""How long the app's event loop stops answering while the detail screen of a huge integration opens.

A temporary GRAFIENT_HOME holds one integration whose period has N members (default 150,000: a
provider may send 50,000 a window, so a 90-day period can hold three times that) and M models
(default 1; `--models 150000` for a hostile list of models), written straight into the store. The
app runs headless (`run_test`, 120x40); a heartbeat task on its event loop wakes every 5 ms and
records how late it wakes. From pressing `enter` on the card until the detail screen has drawn its
tables (the Members tab included), the worst lateness is the figure (goal <= 100 ms; it was 26 s at
150,000 members when every member was drawn as a row). The machine's load average is printed too:
on a shared machine a figure taken under load says more about the neighbours than about the app.

Runs as installed: grafient_tui and site-packages are byte-compiled first, PYTHONDONTWRITEBYTECODE unset.

Prints, as its last lines:
  members=N   models=N   rows_drawn=N   open_s=N   max_stall_ms=N

Usage: uv run python benchmarks/detail_stall.py [--members 150000] [--models 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2025, 6, 18, 9, 30, tzinfo=UTC)
TICK = 0.005


def compile_as_installed() -> None:
    import sysconfig

    for path in (ROOT / "grafient_tui", Path(sysconfig.get_paths()["purelib"])):
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", "-j", "0", str(path)],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def seed(members: int, models: int = 1) -> None:
    """One Cursor integration, 30 synced days, and `members` members and `models` models spread over them."""
    from sqlalchemy import insert

    from grafient_tui.config import Settings
    from grafient_tui.secret import Secret
    from grafient_tui.store.db import Database
    from grafient_tui.store.integrations import add_integration
    from grafient_tui.store.models import DailyCost, DailyMemberCost, DailyModelCost
    from grafient_tui.store.vault import Vault

    settings = Settings.from_env()
    settings.ensure_dirs()
    db, vault = Database(settings), Vault(settings)
    row = add_integration(db, vault, label="Huge", provider="cursor", api_key=Secret("key_" + "h" * 64))
    iid = int(row.id)  # type: ignore[arg-type]
    today = NOW.date()
    days = [today - timedelta(days=i) for i in range(30)]
    per_day = -(-members // len(days))
    with db.session(write=True) as session:
        connection = session.connection()
        connection.execute(
            insert(DailyCost.__table__),
            [
                {
                    "integration_id": iid,
                    "day": day,
                    "cost_micro": per_day * 1_000_000,
                    "on_demand_micro": 0,
                    "included_micro": per_day * 1_000_000,
                    "requests": per_day,
                    "request_units_micro": 0,
                    "input_tokens": 0,
                    "output_tokens": 0,
                    "cache_read_tokens": 0,
                    "cache_write_tokens": 0,
                    "reasoning_tokens": None,
                    "byok_micro": None,
                    "synced_at": NOW,
                    "complete": day < today,
                }
                for day in days
            ],
        )
        connection.execute(
            insert(DailyModelCost.__table__),
            [
                {
                    "integration_id": iid,
                    "day": days[i % len(days)],
                    "model": f"model-{i:06d}",
                    "cost_micro": 1_000_000 + i,
                    "requests": 1,
                }
                for i in range(models)
            ],
        )
        rows = [
            {
                "integration_id": iid,
                "day": days[i % len(days)],
                "email": f"member{i:06d}@example.com",
                "cost_micro": 1_000_000 + i,
                "requests": 1,
            }
            for i in range(members)
        ]
        for start in range(0, len(rows), 20_000):
            connection.execute(insert(DailyMemberCost.__table__), rows[start : start + 20_000])
    db.dispose()


async def measure() -> tuple[float, float, int]:  # open_s, worst stall, rows drawn (members, models)
    from textual.widgets import DataTable

    from grafient_tui.config import Settings
    from grafient_tui.tui.app import GrafientApp

    class NoSync(GrafientApp):
        def start_sync(self, integration_id: int, trigger: str) -> bool:  # figures only: no network
            return False

    app = NoSync(Settings.from_env(), now=lambda: NOW)
    worst = 0.0
    measuring = False

    async def heartbeat() -> None:
        nonlocal worst
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(TICK)
            late = loop.time() - before - TICK
            if measuring:
                worst = max(worst, late)

    async with app.run_test(size=(120, 40)) as pilot:
        while not (app.live.store_ready and getattr(app.screen, "loaded", False)):
            await pilot.pause(0.02)
        await app.workers.wait_for_complete()
        beat = asyncio.create_task(heartbeat())
        await asyncio.sleep(0.1)
        measuring = True
        began = time.perf_counter()
        await pilot.press("enter")
        while getattr(app.screen, "data", None) is None:
            await asyncio.sleep(0.01)
        for _ in range(5):
            await app.workers.wait_for_complete()
            await pilot.pause()
        open_s = time.perf_counter() - began
        measuring = False
        rows = sum(app.screen.query_one(f"#{name}", DataTable).row_count for name in ("members", "models"))
        beat.cancel()
    return open_s, worst, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=150_000)
    parser.add_argument("--models", type=int, default=1)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    compile_as_installed()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    print("bytecode: grafient_tui and site-packages byte-compiled (compileall); PYTHONDONTWRITEBYTECODE unset")
    home = Path(tempfile.mkdtemp(prefix="grafient-detail-"))
    os.environ["GRAFIENT_HOME"] = str(home)
    try:
        seed(args.members, args.models)
        open_s, worst, rows = asyncio.run(measure())
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(f"members={args.members}")
    print(f"models={args.models}")
    print(f"rows_drawn={rows}")
    print(f"open_s={open_s:.2f}")
    print(f"load_average_1m={os.getloadavg()[0]:.2f}")
    print(f"max_stall_ms={worst * 1000:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
