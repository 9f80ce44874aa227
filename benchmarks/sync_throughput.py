"""Backfill a year of a large team (1,000,000 events) through the real client and sync engine.

The Cursor API is served from memory by httpx.MockTransport: events are
generated per page on demand (never all held at once), in the documented
shape. Pacing is off. The time the fake server spends building responses is
measured and subtracted, so `events_per_second` is what our side sustains:
HTTP client, JSON parsing, cost rules, aggregation and the SQLite writes.

Prints, as its last lines:
  events_per_second=N   event_requests=N   min_event_requests=N   peak_rss_mb=N

Usage: uv run python benchmarks/sync_throughput.py [--events 1000000] [--days 366]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta

import httpx

PAGE_SIZE = 1000
DAY_MS = 86_400_000
MODELS = [
    "claude-4.5-sonnet",
    "gpt-5",
    "default",
    "claude-4-sonnet-thinking",
    "o3",
    "gemini-2.5-pro",
    "gpt-4.1",
    "claude-4.1-opus",
    "grok-4",
    "cursor-small",
]
KINDS = [("Usage-based", True), ("Included in Business", False), ("Errored, Not Charged", False)]


class SyntheticTeam:
    """A large team whose events are a pure function of (day, index): nothing is stored."""

    def __init__(self, *, api_key: str, first_day: date, days: int, events: int, seed: int = 1) -> None:
        self.api_key = api_key
        self.first_day = first_day
        rng = random.Random(seed)
        weights = [rng.uniform(0.5, 1.5) for _ in range(days)]
        scale = events / sum(weights)
        self.counts = [int(w * scale) for w in weights]
        self.counts[-1] += events - sum(self.counts)
        self.first_ms = int(datetime.combine(first_day, datetime.min.time(), UTC).timestamp() * 1000)
        self.members = [f"dev{i:03d}@example.com" for i in range(200)]
        self.event_requests = 0
        self.server_seconds = 0.0
        auth = httpx.BasicAuth(api_key, "")
        self._auth_header = auth._auth_header  # what a correct client sends

    def event(self, day_index: int, i: int) -> dict:
        n = self.counts[day_index]
        ts = self.first_ms + day_index * DAY_MS + (i * (DAY_MS - 1)) // max(n, 1)
        h = (day_index * 1_000_003 + i * 7919) & 0xFFFFFFFF
        kind, chargeable = KINDS[h % 3]
        raw = {
            "timestamp": str(ts),
            "userEmail": self.members[h % 200],
            "model": MODELS[(h >> 3) % 10],
            "kind": kind,
            "maxMode": bool(h & 1),
            "requestsCosts": (h % 7) + 0.5,
            "isTokenBasedCall": True,
            "isChargeable": chargeable,
            "isHeadless": False,
            "tokenUsage": {
                "inputTokens": h % 5000,
                "outputTokens": h % 900,
                "cacheWriteTokens": h % 3000,
                "cacheReadTokens": h % 12000,
                "totalCents": (h % 400000) / 10000,
            },
        }
        if h % 5:
            raw["chargedCents"] = (h % 500000) / 10000
            raw["cursorTokenFee"] = 1.18
        else:
            raw["tokenUsage"]["discountPercentOff"] = 10
        return raw

    def handler(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        try:
            if request.headers.get("authorization") != self._auth_header:
                return httpx.Response(401, json={"error": "Unauthorized", "message": "Invalid API key"})
            if request.url.path == "/teams/members":
                return httpx.Response(200, json={"teamMembers": [{"email": m, "role": "member"} for m in self.members]})
            body = json.loads(request.content)
            start, end = body["startDate"], body["endDate"]
            page, size = body.get("page", 1), body.get("pageSize", 100)
            if end - start > 30 * DAY_MS or size > 1000:
                return httpx.Response(400, json={"error": "Bad Request", "message": "Date range cannot exceed 30 days"})
            self.event_requests += 1
            first = max(0, (start - self.first_ms) // DAY_MS)
            last = min(len(self.counts) - 1, (end - self.first_ms) // DAY_MS)
            days = list(range(last, first - 1, -1))  # newest first; windows are whole UTC days
            total = sum(self.counts[d] for d in days)
            skip, out = (page - 1) * size, []
            for d in days:
                n = self.counts[d]
                if skip >= n:
                    skip -= n
                    continue
                for i in range(n - 1 - skip, -1, -1):
                    out.append(self.event(d, i))
                    if len(out) == size:
                        break
                skip = 0
                if len(out) == size:
                    break
            pages = max(1, math.ceil(total / size))
            return httpx.Response(
                200,
                content=json.dumps(
                    {
                        "totalUsageEventsCount": total,
                        "pagination": {
                            "numPages": pages,
                            "currentPage": page,
                            "pageSize": size,
                            "hasNextPage": page < pages,
                            "hasPreviousPage": page > 1,
                        },
                        "usageEvents": out,
                        "period": {"startDate": start, "endDate": end},
                    }
                ).encode(),
                headers={"content-type": "application/json"},
            )
        finally:
            self.server_seconds += time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=366)
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="grafient-bench-")
    try:
        return measure(args, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)  # a benchmark leaves nothing behind


def measure(args: argparse.Namespace, home: str) -> int:
    os.environ.update(GRAFIENT_HOME=home, GRAFIENT_CURSOR_RPM="0", GRAFIENT_BACKOFF_BASE="0")
    from grafient_tui.config import Settings
    from grafient_tui.secret import Secret
    from grafient_tui.store.db import Database
    from grafient_tui.store.integrations import add_integration
    from grafient_tui.store.queries import daily_costs
    from grafient_tui.store.vault import Vault
    from grafient_tui.sync.engine import run_sync

    now = datetime(2026, 11, 24, 23, 59, 59, tzinfo=UTC)  # the last day is a full day of events
    settings = Settings.from_env()
    settings.ensure_dirs()
    settings.set_plan("pro")
    db, vault = Database(settings), Vault(settings)
    key = "key_" + "b" * 64
    iid = add_integration(db, vault, label="Large team", provider="cursor", api_key=Secret(key)).id
    first_day = now.date() - timedelta(days=args.days - 1)
    team = SyntheticTeam(api_key=key, first_day=first_day, days=args.days, events=args.events)
    transport = httpx.MockTransport(team.handler)

    started = time.perf_counter()
    result = asyncio.run(run_sync(db, vault, settings, iid, "backfill", transport=transport, now=now))
    wall = time.perf_counter() - started
    if result.outcome != "success":
        print(f"sync failed: {result.error}", file=sys.stderr)
        return 1
    stored = sum(r.requests for r in daily_costs(db, iid, first_day, now.date()))
    client_seconds = wall - team.server_seconds
    windows = math.ceil(args.days / 30)
    minimum = max(math.ceil(args.events / PAGE_SIZE), windows)
    print(f"events_stored={stored} (served {args.events})")
    print(f"wall_seconds={wall:.2f} fake_server_seconds={team.server_seconds:.2f} client_seconds={client_seconds:.2f}")
    print(f"events_per_second_including_fake_server={args.events / wall:.0f}")
    print(f"events_per_second={args.events / client_seconds:.0f}")
    print(f"event_requests={team.event_requests}")
    print(f"min_event_requests={minimum}")
    print(f"peak_rss_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
    return 0 if stored == args.events else 1


if __name__ == "__main__":
    raise SystemExit(main())
