"""How long the app's event loop stops answering while a force sync runs and SQLite is locked.

A temporary GRAFIENT_HOME holds one integration backfilled from a simulated Cursor team
(served by httpx.MockTransport, a little latency per request). The app runs headless
(`run_test`, 120x40); a heartbeat task on its event loop wakes every 5 ms and records how
late it wakes. Then `r` forces a sync while another connection holds SQLite's write lock for
3 s (BEGIN IMMEDIATE in a thread), so the sync's writes, the sync log and the screens'
re-reads all meet a locked database. The figure is the worst lateness seen from pressing `r`
until the sync has finished and the screen has settled (goal <= 100 ms).

Runs as installed: grafient_tui and site-packages are byte-compiled first.

Prints, as its last lines:
  sync_s=N   lock_s=3.0   max_stall_ms=N

Usage: uv run python benchmarks/ui_stall.py [--days 90]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2025, 6, 18, 9, 30, tzinfo=UTC)
HOLD_SECONDS = 3.0
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


def hold_write_lock(database: Path, seconds: float, held: threading.Event) -> None:
    connection = sqlite3.connect(database, timeout=30, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(seconds)
        connection.execute("COMMIT")
    finally:
        connection.close()


async def measure(days: int) -> tuple[float, float]:
    import httpx

    from grafient_tui.config import Settings
    from grafient_tui.providers.cursor.fake import FakeCursorTeam, make_events
    from grafient_tui.secret import Secret
    from grafient_tui.store.db import Database
    from grafient_tui.store.integrations import add_integration
    from grafient_tui.store.vault import Vault
    from grafient_tui.sync.engine import backfill_integration
    from grafient_tui.tui.app import GrafientApp

    key = "key_" + "b" * 64
    members = [f"dev{i:02d}@example.com" for i in range(12)]
    models = [f"model-{i:02d}" for i in range(30)]
    events = make_events(
        seed=5, start=NOW.date() - timedelta(days=days - 1), days=days, per_day=60, members=members, models=models
    )
    cutoff = int(NOW.timestamp() * 1000)
    team = FakeCursorTeam(api_key=key, events=[e for e in events if int(e["timestamp"]) <= cutoff])

    async def serve(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.01)
        return team.handler(request)

    transport = httpx.MockTransport(serve)
    settings = Settings.from_env()
    settings.ensure_dirs()
    settings.set_plan("pro")
    db, vault = Database(settings), Vault(settings)
    row = add_integration(db, vault, label="Acme", provider="cursor", api_key=Secret(key), team_members=12)
    result = await backfill_integration(db, vault, settings, row.id, transport=transport, now=NOW)
    assert result.outcome == "success", result
    db.dispose()

    app = GrafientApp(settings, transport=transport, now=lambda: NOW)
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
        held = threading.Event()
        holder = threading.Thread(target=hold_write_lock, args=(settings.database_file, HOLD_SECONDS, held))
        holder.start()
        held.wait(10)
        measuring = True
        began = time.perf_counter()
        await pilot.press("r")
        await pilot.pause()
        while app.syncs:
            await asyncio.sleep(0.02)
        sync_s = time.perf_counter() - began
        for _ in range(5):  # the screens' re-reads after the sync
            await app.workers.wait_for_complete()
            await pilot.pause()
        measuring = False
        beat.cancel()
        holder.join()
    return sync_s, worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    compile_as_installed()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    print("bytecode: grafient_tui and site-packages byte-compiled (compileall); PYTHONDONTWRITEBYTECODE unset")
    home = Path(tempfile.mkdtemp(prefix="grafient-stall-"))
    os.environ["GRAFIENT_HOME"] = str(home)
    os.environ["GRAFIENT_CURSOR_RPM"] = "0"
    try:
        sync_s, worst = asyncio.run(measure(args.days))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(f"sync_s={sync_s:.2f}")
    print(f"lock_s={HOLD_SECONDS:.1f}")
    print(f"max_stall_ms={worst * 1000:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
