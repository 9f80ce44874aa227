"""xAI through the sync engine and the store: a 90-day Pro backfill in three queries, the earliest day
with a non-zero point recorded, an answer xAI cut short stored exactly as an uncut one, and a malformed
window replacing nothing. The fake team is served at the transport."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from grafient_tui.config import Settings
from grafient_tui.providers.xai.fake import FakeXaiTeam, make_key, make_spend
from grafient_tui.secret import Secret
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import add_integration, find_integration
from grafient_tui.store.vault import Vault
from grafient_tui.sync.engine import run_sync
from tests.oracle import snapshot_via_store, store_snapshot

NOW = datetime(2026, 11, 4, 8, 0, tzinfo=UTC)
TODAY = NOW.date()
KEY = "xai-token-" + "Pw4Ee7Rr" * 10
TEAM = "0b9c8d7e-6f5a-4b3c-9d2e-1f0a9b8c7d6e"


@pytest.fixture
def store():
    settings = Settings.from_env()
    settings.ensure_dirs()
    db, vault = Database(settings), Vault(settings)
    yield settings, db, vault
    db.dispose()


def the_team(**kw) -> FakeXaiTeam:
    import random

    rng = random.Random(8)
    keys = [make_key(rng, "prod"), make_key(rng, "batch"), make_key(rng, "ci")]
    spend = make_spend(seed=6, start=TODAY - timedelta(days=60), days=61, keys=keys, per_day=5)
    return FakeXaiTeam(api_key=KEY, team_id=TEAM, spend=spend, today=TODAY, **kw)


def add(db, vault, label: str = "Grok", key: str = KEY) -> int:
    row = add_integration(db, vault, label=label, provider="xai", api_key=Secret(key), account={"team_id": TEAM})
    return int(row.id)


@pytest.mark.sqlite_only
async def test_pro_reads_90_days_in_three_queries_and_a_capped_answer_is_stored_as_an_uncapped_one(store) -> None:
    settings, db, vault = store
    settings.set_plan("pro")
    fake = the_team()
    iid = add(db, vault)
    result = await run_sync(db, vault, settings, iid, "backfill", transport=httpx.MockTransport(fake.handler), now=NOW)
    assert result.outcome == "success", result.error
    assert [c.method for c in fake.calls] == ["POST"] * 3  # 91 days: windows of 31, 31 and 29
    assert find_integration(db, iid).history_from == min(s.day for s in fake.spend if s.usd)  # first non-zero
    uncapped = store_snapshot(settings.database_file, iid)
    assert len(uncapped[0]) == 91  # every day stored: xAI's answer is dense

    other_key = "xai-token-" + "Lk3Jh6Gf" * 10
    capped = the_team(cap=6)  # past 6 series xAI cuts the answer short: asked again in halves
    capped.api_key = other_key
    cid = add(db, vault, "Grok capped", other_key)
    result = await run_sync(
        db, vault, settings, cid, "backfill", transport=httpx.MockTransport(capped.handler), now=NOW
    )
    assert result.outcome == "success", result.error
    assert len(capped.calls) > 3
    assert store_snapshot(settings.database_file, cid) == uncapped


async def test_a_malformed_window_replaces_nothing(store) -> None:
    settings, db, vault = store
    fake = the_team()
    iid = add(db, vault)
    transport = httpx.MockTransport(fake.handler)
    assert (await run_sync(db, vault, settings, iid, "backfill", transport=transport, now=NOW)).outcome == "success"
    before = snapshot_via_store(db, iid)

    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"timeSeries": [{"group": ["m"], "groupLabels": ["m"]}]})

    later = NOW + timedelta(hours=3)
    result = await run_sync(db, vault, settings, iid, "daily", transport=httpx.MockTransport(broken), now=later)
    assert result.outcome == "failed"
    assert result.error == (
        "the xAI API sent a series whose group or groupLabels does not name each field asked for "
        f"{(TODAY - timedelta(days=3)).isoformat()} .. {TODAY.isoformat()}; nothing from this window was saved"
    )
    assert snapshot_via_store(db, iid) == before
