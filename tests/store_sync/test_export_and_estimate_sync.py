"""Google's billing export and ElevenLabs' estimate through the sync engine and the store: which days each
sync reads again (late rows), one query per sync, credits and characters kept, and how the dollars were
made stored with the integration. The network is the providers' fakes behind httpx.MockTransport."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlmodel import select

from grafient_tui.config import Settings
from grafient_tui.providers.elevenlabs.fake import FakeElevenLabsWorkspace
from grafient_tui.providers.google.fake import FakeBillingExport, export_row, service_account_key
from grafient_tui.secret import Secret
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import add_integration
from grafient_tui.store.models import DailyCost, DailyModelCost, Integration
from grafient_tui.store.vault import Vault
from grafient_tui.sync.due import days_to_fetch
from grafient_tui.sync.engine import run_sync
from grafient_tui.sync.plan import plan_windows

KEY = service_account_key(seed=21)
TABLE = "billing-admin.billing_export.gcp_billing_export_resource_v1_0A1B2C_3D4E5F_6A7B8C"
VOICE_KEY = "sk_" + "7d3b9e15" * 6
TODAY = date(2026, 12, 7)
NOW = datetime.combine(TODAY, time(10, 30), UTC)
PROJECT = ("chat-prod", "Chat Prod")


class Counting:
    def __init__(self, inner: Any) -> None:
        self.inner, self.queries = inner, 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/queries"):
            self.queries += 1
        return self.inner(request)


@pytest.fixture
def store() -> tuple[Database, Vault, Settings]:
    settings = Settings.from_env()
    settings.ensure_dirs()
    return Database(settings), Vault(settings), settings


def google_integration(db: Database, vault: Vault) -> int:
    row = add_integration(db, vault, label="Gemini", provider="google", api_key=Secret(KEY), account={"table": TABLE})
    return int(row.id)  # type: ignore[arg-type]


def every_day(first: date, last: date, cost: float = 1.0) -> list[dict[str, Any]]:
    return [
        export_row(first + timedelta(days=i), "Gemini API", "Grounding with Google Search", PROJECT, cost)
        for i in range((last - first).days + 1)
    ]


def stored_days(db: Database, iid: int) -> dict[date, tuple[int, int | None, int | None]]:
    with db.session() as session:
        return {
            r.day: (r.cost_micro, r.on_demand_micro, r.included_micro)
            for r in session.exec(select(DailyCost).where(DailyCost.integration_id == iid))
        }


# ------------------------------------------------------------------ Google: which days, how many queries


@pytest.mark.parametrize(
    ("today", "first_reread"),
    [
        (date(2026, 12, 7), date(2026, 12, 1)),  # the month so far is longer than 5 days
        (date(2026, 12, 3), date(2026, 11, 28)),  # 5 days before today reach into last month
        (date(2026, 12, 1), date(2026, 11, 26)),
    ],
)
async def test_every_sync_rereads_from_the_earlier_of_the_months_first_day_and_five_days_ago(
    store: tuple[Database, Vault, Settings], today: date, first_reread: date
) -> None:
    db, vault, settings = store
    iid = google_integration(db, vault)
    now = datetime.combine(today, time(10, 30), UTC)
    fake = FakeBillingExport(keys=[KEY], table=TABLE, rows=every_day(today - timedelta(days=40), today))
    result = await run_sync(db, vault, settings, iid, "backfill", transport=httpx.MockTransport(fake.handler), now=now)
    assert result.outcome == "success", result.error
    again = days_to_fetch(db, settings, iid, "daily", now)
    assert again == [first_reread + timedelta(days=i) for i in range((today - first_reread).days + 1)]


async def test_late_rows_inside_the_reread_are_picked_up_and_older_days_stay_as_stored(
    store: tuple[Database, Vault, Settings],
) -> None:
    db, vault, settings = store
    iid = google_integration(db, vault)
    fake = FakeBillingExport(keys=[KEY], table=TABLE, rows=every_day(TODAY - timedelta(days=30), TODAY))
    handler = Counting(fake.handler)
    transport = httpx.MockTransport(handler)
    assert (await run_sync(db, vault, settings, iid, "backfill", transport=transport, now=NOW)).outcome == "success"
    before = stored_days(db, iid)
    # Rows exported late: a credit for 4 days ago (inside the re-read) and a charge for 20 days ago (not).
    four, twenty = TODAY - timedelta(days=4), TODAY - timedelta(days=20)
    fake.rows.append(
        export_row(
            four,
            "Gemini API",
            "Grounding with Google Search",
            PROJECT,
            0.0,
            credits=[(-0.25, "PROMOTION")],
            late_days=4,
        )
    )
    fake.rows.append(export_row(twenty, "Gemini API", "Grounding with Google Search", PROJECT, 5.0, late_days=20))
    assert (await run_sync(db, vault, settings, iid, "daily", transport=transport, now=NOW)).outcome == "success"
    after = stored_days(db, iid)
    assert after[four] == (100_000_000, 75_000_000, 25_000_000)  # the bill fell; usage value unchanged
    assert after[twenty] == before[twenty] == (100_000_000, 100_000_000, 0)
    assert handler.queries == 2  # one query per sync


async def test_a_sync_with_gaps_still_sends_one_query(store: tuple[Database, Vault, Settings]) -> None:
    db, vault, settings = store
    iid = google_integration(db, vault)
    fake = FakeBillingExport(keys=[KEY], table=TABLE, rows=every_day(TODAY - timedelta(days=400), TODAY))
    handler = Counting(fake.handler)
    transport = httpx.MockTransport(handler)
    assert (await run_sync(db, vault, settings, iid, "backfill", transport=transport, now=NOW)).outcome == "success"
    settings.set_plan("pro")  # 335 older days missing, then a gap of complete days, then the re-read
    wanted = days_to_fetch(db, settings, iid, "daily", NOW)
    assert len(plan_windows(wanted, 366)) == 2 and len(plan_windows(wanted, 366, one_run=True)) == 1
    assert (await run_sync(db, vault, settings, iid, "daily", transport=transport, now=NOW)).outcome == "success"
    assert handler.queries == 2
    assert len(stored_days(db, iid)) == 366


async def test_a_converted_currency_is_stored_with_the_integration(store: tuple[Database, Vault, Settings]) -> None:
    db, vault, settings = store
    iid = google_integration(db, vault)
    rows = [
        export_row(
            TODAY - timedelta(days=1),
            "Gemini API",
            "Grounding with Google Search",
            PROJECT,
            9.2,
            currency="EUR",
            rate=0.92,
        )
    ]
    fake = FakeBillingExport(keys=[KEY], table=TABLE, rows=rows)
    result = await run_sync(db, vault, settings, iid, "backfill", transport=httpx.MockTransport(fake.handler), now=NOW)
    assert result.outcome == "success", result.error
    with db.session() as session:
        basis = json.loads(session.exec(select(Integration.cost_basis).where(Integration.id == iid)).one() or "null")
    assert basis == {
        "note": "converted from EUR at Google's daily rate",
        "estimate": None,
        "cost_known": True,
        "currency": "EUR",
    }
    assert stored_days(db, iid)[TODAY - timedelta(days=1)][0] == 1_000_000_000  # 9.2 EUR ÷ 0.92 = $10


# ------------------------------------------------------------------ ElevenLabs: the estimate


def voice_usage(days: int) -> dict[date, dict[str, tuple[Decimal, int | None]]]:
    return {
        TODAY - timedelta(days=i): {
            "eleven_multilingual_v2": (Decimal(1000), 1000),
            "scribe_v1": (Decimal("500.5"), None),
        }
        for i in range(days)
    }


async def test_a_plan_change_reprices_every_stored_day_with_its_basis(store: tuple[Database, Vault, Settings]) -> None:
    db, vault, settings = store
    iid = int(add_integration(db, vault, label="Voice", provider="elevenlabs", api_key=Secret(VOICE_KEY)).id)  # type: ignore[arg-type]
    fake = FakeElevenLabsWorkspace(api_key=VOICE_KEY, tier="pro", character_limit=500_000, usage=voice_usage(31))
    transport = httpx.MockTransport(fake.handler)
    assert (await run_sync(db, vault, settings, iid, "backfill", transport=transport, now=NOW)).outcome == "success"
    days = stored_days(db, iid)
    assert len(days) == 31 and {cost for cost, _, _ in days.values()} == {29_709_900}  # 1500.5 × $0.000198
    assert {(od, inc) for _, od, inc in days.values()} == {(None, None)}  # no on-demand split
    fake.tier, fake.character_limit = "creator", 100_000
    assert (await run_sync(db, vault, settings, iid, "daily", transport=transport, now=NOW)).outcome == "success"
    assert {cost for cost, _, _ in stored_days(db, iid).values()} == {33_011_000}  # 1500.5 × $0.00022, every day
    with db.session() as session:
        basis = json.loads(session.exec(select(Integration.cost_basis).where(Integration.id == iid)).one() or "null")
        models = session.exec(
            select(DailyModelCost).where(DailyModelCost.integration_id == iid, DailyModelCost.day == TODAY)
        ).all()
        day = session.exec(select(DailyCost).where(DailyCost.integration_id == iid, DailyCost.day == TODAY)).one()
    assert basis["estimate"]["tier"] == "creator" and basis["estimate"]["usd_per_credit"] == "0.00022"
    assert basis["note"] == "estimated from credits at the Creator plan's $22 / 100,000 credits"
    assert (day.credits_micro, day.characters) == (1_500_500_000, 1000)
    assert {(m.model, m.credits_micro, m.characters) for m in models} == {
        ("eleven_multilingual_v2", 1_000_000_000, 1000),
        ("scribe_v1", 500_500_000, None),
    }


async def test_an_unknown_tier_stores_credits_and_says_its_cost_is_unknown(
    store: tuple[Database, Vault, Settings],
) -> None:
    db, vault, settings = store
    iid = int(add_integration(db, vault, label="Voice", provider="elevenlabs", api_key=Secret(VOICE_KEY)).id)  # type: ignore[arg-type]
    fake = FakeElevenLabsWorkspace(api_key=VOICE_KEY, tier="enterprise", character_limit=None, usage=voice_usage(5))
    result = await run_sync(db, vault, settings, iid, "backfill", transport=httpx.MockTransport(fake.handler), now=NOW)
    assert result.outcome == "success", result.error
    with db.session() as session:
        basis = json.loads(session.exec(select(Integration.cost_basis).where(Integration.id == iid)).one() or "null")
        credits = [r.credits_micro for r in session.exec(select(DailyCost).where(DailyCost.integration_id == iid))]
    assert basis["cost_known"] is False and "cost unknown" in basis["note"]
    assert sorted(c for c in credits if c) == [1_500_500_000] * 5


# ------------------------------------------------------------------ both: tokens are never counted


def stored_tokens(db: Database, iid: int) -> dict[date, tuple[int | None, ...]]:
    with db.session() as session:
        return {
            r.day: (r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens)
            for r in session.exec(select(DailyCost).where(DailyCost.integration_id == iid))
        }


async def test_quiet_days_keep_tokens_unknown_even_in_a_window_without_a_line(
    store: tuple[Database, Vault, Settings],
) -> None:
    """Neither the billing export nor ElevenLabs counts tokens: a day without spend is as unknown as a
    day with spend (—), never 0 tokens, also when nothing in its window says so (the provider's
    capabilities do)."""
    db, vault, settings = store
    gemini = google_integration(db, vault)
    export = FakeBillingExport(keys=[KEY], table=TABLE, rows=[])  # no Gemini spend yet
    transport = httpx.MockTransport(export.handler)
    assert (await run_sync(db, vault, settings, gemini, "backfill", transport=transport, now=NOW)).outcome == "success"
    voice = int(add_integration(db, vault, label="Voice", provider="elevenlabs", api_key=Secret(VOICE_KEY)).id)  # type: ignore[arg-type]
    workspace = FakeElevenLabsWorkspace(api_key=VOICE_KEY, tier="pro", character_limit=500_000, usage={})
    transport = httpx.MockTransport(workspace.handler)
    assert (await run_sync(db, vault, settings, voice, "backfill", transport=transport, now=NOW)).outcome == "success"
    for iid in (gemini, voice):
        tokens = stored_tokens(db, iid)
        assert len(tokens) == 31 and {cost for cost, _, _ in stored_days(db, iid).values()} == {0}
        assert set(tokens.values()) == {(None, None, None, None)}
