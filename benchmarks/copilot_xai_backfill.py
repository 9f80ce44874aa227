"""Backfill the maximum history of a GitHub Copilot organization and of an xAI team through the real
clients and sync engine, and count the calls.

The APIs are the demo's fakes served from memory by httpx.MockTransport (no latency, pacing off); the
time the fakes spend building their answers is measured and subtracted, so `seconds` is what our side
costs: HTTP client, JSON parsing, the cost rules and the SQLite writes. The calls decide how long a real
backfill takes: `minutes_at_default_pace` is calls / the provider's default pace (GitHub 240 a minute,
xAI 30), a floor that a real network's latency adds to. In-process: no process start is timed.

Prints, as its last lines:
  copilot_calls=N  copilot_days=N  copilot_seconds=N  copilot_minutes_at_default_pace=N
  xai_calls=N  xai_days=N  xai_seconds=N  xai_minutes_at_default_pace=N

Usage: uv run python benchmarks/copilot_xai_backfill.py [--seats 12]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


async def backfill(provider: str, seats: int) -> tuple[int, int, float]:
    from grafient_tui.config import Settings
    from grafient_tui.secret import Secret
    from grafient_tui.store.db import Database
    from grafient_tui.store.integrations import add_integration
    from grafient_tui.store.vault import Vault
    from grafient_tui.sync.engine import run_sync

    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    if provider == "copilot":
        from grafient_tui.providers.copilot.fake import Seat, demo_account

        key, account = "ghp_" + "Bm4nC7xZ2q" * 3 + "Ab12Cd", {"org": "acme"}
        fake = demo_account(key, now.date(), seed=13)
        fake.seats = [Seat(f"dev-{i:03d}") for i in range(seats - 12)] + fake.seats[:seats]
    else:
        from grafient_tui.providers.xai.fake import DEMO_TEAM_ID, demo_account

        key, account = "xai-token-" + "Bm4nC7xZ" * 10, {"team_id": DEMO_TEAM_ID}
        fake = demo_account(key, now.date(), seed=17)
    served = 0.0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal served
        started = time.perf_counter()
        try:
            return fake.handler(request)
        finally:
            served += time.perf_counter() - started

    home = Path(tempfile.mkdtemp(prefix="grafient-bench-"))
    try:
        settings = Settings.from_env(
            {"GRAFIENT_HOME": str(home), f"GRAFIENT_{provider.upper()}_RPM": "0", "GRAFIENT_BACKOFF_BASE": "0"}
        )
        settings.ensure_dirs()
        settings.set_plan("pro")
        db, vault = Database(settings), Vault(settings)
        iid = int(
            add_integration(db, vault, label=provider, provider=provider, api_key=Secret(key), account=account).id
        )
        started = time.perf_counter()
        result = await run_sync(db, vault, settings, iid, "backfill", transport=httpx.MockTransport(handler), now=now)
        elapsed = time.perf_counter() - started - served
        db.dispose()
        assert result.outcome == "success", result.error
        return result.requests, result.days_written, elapsed
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seats", type=int, default=12, help="Copilot seat holders split per person (12 to 300)")
    args = parser.parse_args()
    os.environ.pop("GRAFIENT_HOME", None)
    from grafient_tui.providers import get

    for provider in ("copilot", "xai"):
        calls, days, seconds = asyncio.run(backfill(provider, max(12, args.seats)))
        pace = get(provider).limits.default_rpm
        print(
            f"{provider}_calls={calls}  {provider}_days={days}  {provider}_seconds={seconds:.2f}  "
            f"{provider}_minutes_at_default_pace={calls / pace:.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
