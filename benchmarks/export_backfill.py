"""A year of a busy Google billing export, and ElevenLabs' 90 days, through the real clients and sync engine.

Google: one query for 366 days over an export of `--rows-per-day` Gemini rows a day in `--projects`
projects and `--skus` SKUs (BigQuery's answer, grouped, is served from memory by the fake, paged at
10,000 rows). ElevenLabs: 90 days of credits for 5 models. Pacing is off; the fakes' time to build
their answers is measured and subtracted, so the figures are what our side sustains: token signing,
HTTP client, exact decimal parsing, cost rules, aggregation and the SQLite writes.

Prints, as its last lines:
  google_result_rows=N   google_queries=N   google_seconds=N   google_rows_per_second=N
  elevenlabs_days=N   elevenlabs_calls=N   elevenlabs_seconds=N

Usage: uv run python benchmarks/export_backfill.py [--rows-per-day 400] [--projects 40] [--skus 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grafient_tui.providers.elevenlabs.fake import FakeElevenLabsWorkspace, make_usage
from grafient_tui.providers.google.fake import SKUS, FakeBillingExport, export_row, service_account_key

TODAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)
TABLE = "billing-admin.billing_export.gcp_billing_export_resource_v1_0A1B2C_3D4E5F_6A7B8C"


class Timed:
    """A handler whose own time is counted apart (to subtract it from the run)."""

    def __init__(self, inner) -> None:
        self.inner, self.seconds, self.calls = inner, 0.0, 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        try:
            return self.inner(request)
        finally:
            self.seconds += time.perf_counter() - started
            self.calls += 1


def export_rows(rows_per_day: int, projects: int, skus: int) -> list[dict]:
    names = [(f"project-{p:03d}", f"Project {p}") for p in range(projects)]
    variants = [(service, f"{sku} v{n}") for n in range(max(1, skus // len(SKUS))) for service, sku in SKUS]
    rows = []
    for back in range(366):
        day = TODAY - timedelta(days=back)
        for i in range(rows_per_day):
            service, sku = variants[(back + i) % len(variants)]
            credits = [(-0.125, "PROMOTION")] if i % 7 == 0 else None
            rows.append(export_row(day, service, sku, names[i % projects], 0.000125 * (i + 1), credits=credits))
    return rows


async def run(args: argparse.Namespace) -> None:
    home = Path(tempfile.mkdtemp(prefix="grafient-bench-"))
    os.environ.update({"GRAFIENT_HOME": str(home), "GRAFIENT_GOOGLE_RPM": "0", "GRAFIENT_ELEVENLABS_RPM": "0"})
    from grafient_tui.config import Settings
    from grafient_tui.secret import Secret
    from grafient_tui.store.db import Database
    from grafient_tui.store.integrations import add_integration
    from grafient_tui.store.vault import Vault
    from grafient_tui.sync.engine import run_sync

    try:
        settings = Settings.from_env()
        settings.ensure_dirs()
        settings.set_plan("pro")
        db, vault = Database(settings), Vault(settings)

        key = service_account_key(seed=1)
        fake = FakeBillingExport(keys=[key], table=TABLE, rows=export_rows(args.rows_per_day, args.projects, args.skus))
        result_rows = len(fake.result(TODAY - timedelta(days=365), TODAY))
        handler = Timed(fake.handler)
        gid = int(
            add_integration(
                db, vault, label="Gemini", provider="google", api_key=Secret(key), account={"table": TABLE}
            ).id
        )
        started = time.perf_counter()
        outcome = await run_sync(db, vault, settings, gid, "backfill", transport=httpx.MockTransport(handler), now=NOW)
        google_seconds = time.perf_counter() - started - handler.seconds
        assert outcome.outcome == "success", outcome.error

        voice_key = "sk_" + "ab" * 24
        usage = make_usage(seed=3, start=TODAY - timedelta(days=95), days=96)
        workspace = FakeElevenLabsWorkspace(api_key=voice_key, usage=usage)
        voice = Timed(workspace.handler)
        vid = int(add_integration(db, vault, label="Voice", provider="elevenlabs", api_key=Secret(voice_key)).id)
        started = time.perf_counter()
        outcome = await run_sync(db, vault, settings, vid, "backfill", transport=httpx.MockTransport(voice), now=NOW)
        voice_seconds = time.perf_counter() - started - voice.seconds
        assert outcome.outcome == "success", outcome.error
        db.dispose()
    finally:
        shutil.rmtree(home, ignore_errors=True)
    queries = sum(1 for _ in fake.queries)
    print(f"export rows: {len(fake.rows):,} raw, {result_rows:,} after the query's grouping")
    print(
        f"google_result_rows={result_rows}   google_queries={queries}   google_seconds={google_seconds:.2f}   "
        f"google_rows_per_second={result_rows / max(google_seconds, 1e-9):,.0f}"
    )
    print(f"elevenlabs_days=91   elevenlabs_calls={voice.calls}   elevenlabs_seconds={voice_seconds:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows-per-day", type=int, default=400)
    parser.add_argument("--projects", type=int, default=40)
    parser.add_argument("--skus", type=int, default=60)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
