"""GitHub Copilot through the sync engine and the store: how far a backfill goes on each plan, GitHub's
24-month edge recorded once and never asked again, the settle days re-read, the members refreshed from
the seat list, and a malformed day replacing nothing. The fake organization is served at the transport."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlmodel import select

from grafient_tui.config import Settings
from grafient_tui.providers.copilot.fake import FakeCopilotAccount, Seat, make_usage
from grafient_tui.secret import Secret
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import add_integration, find_integration
from grafient_tui.store.models import DailyCost
from grafient_tui.store.vault import Vault
from grafient_tui.sync.engine import run_sync

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
EDGE = date(2025, 1, 1)  # December 2026 and the 23 months before it
KEY = "ghp_" + "Rk4vM8nQ2w" * 3 + "Zt7xYp"


@pytest.fixture
def store():
    settings = Settings.from_env()
    settings.ensure_dirs()
    db, vault = Database(settings), Vault(settings)
    yield settings, db, vault
    db.dispose()


def organization(**kw) -> FakeCopilotAccount:
    start = TODAY - timedelta(days=740)
    usage = make_usage(seed=4, start=start, days=741, people=["octo-ana", "octo-bo", None], per_day=2)
    return FakeCopilotAccount(
        api_key=KEY, org="acme", usage=usage, seats=[Seat("octo-ana"), Seat("octo-bo")], today=TODAY, **kw
    )


def add(db, vault) -> int:
    row = add_integration(db, vault, label="Copilot", provider="copilot", api_key=Secret(KEY), account={"org": "acme"})
    return int(row.id)


def stored_days(db, iid: int) -> list[date]:
    with db.session() as session:
        return sorted(session.exec(select(DailyCost.day).where(DailyCost.integration_id == iid)))


def asked_days(account: FakeCopilotAccount, since: int = 0) -> set[date]:
    return {
        date(int(c.url.params["year"]), int(c.url.params["month"]), int(c.url.params["day"]))
        for c in account.calls[since:]
        if "day" in c.url.params and "user" not in c.url.params
    }


async def test_pro_backfills_githubs_24_months_then_asks_only_the_recent_days(store) -> None:
    settings, db, vault = store
    settings.set_plan("pro")
    account = organization()
    iid = add(db, vault)
    transport = httpx.MockTransport(account.handler)

    result = await run_sync(db, vault, settings, iid, "backfill", transport=transport, now=NOW)
    assert result.outcome == "success", result.error
    # 730 days were asked for; GitHub refused the months older than its 24 (HTTP 400), which is its edge.
    assert min(asked_days(account)) < EDGE
    assert stored_days(db, iid) == [EDGE + timedelta(days=i) for i in range((TODAY - EDGE).days + 1)]
    integration = find_integration(db, iid)
    assert integration.history_limit == EDGE and integration.history_from == EDGE
    assert integration.team_members == 2

    before = len(account.calls)
    again = await run_sync(db, vault, settings, iid, "daily", transport=transport, now=NOW + timedelta(hours=1))
    assert again.outcome == "success", again.error
    # Today so far and the 3 days before it again: nothing older, never past the edge.
    assert asked_days(account, before) == {TODAY - timedelta(days=i) for i in range(4)}


async def test_free_backfills_30_days(store) -> None:
    settings, db, vault = store
    account = organization()
    iid = add(db, vault)
    result = await run_sync(
        db, vault, settings, iid, "backfill", transport=httpx.MockTransport(account.handler), now=NOW
    )
    assert result.outcome == "success", result.error
    assert stored_days(db, iid)[0] == TODAY - timedelta(days=30) and len(stored_days(db, iid)) == 31


async def test_the_members_follow_the_seat_list_and_a_refused_list_splits_nobody(store) -> None:
    settings, db, vault = store
    account = organization()
    iid = add(db, vault)
    transport = httpx.MockTransport(account.handler)
    assert (await run_sync(db, vault, settings, iid, "backfill", transport=transport, now=NOW)).outcome == "success"
    assert find_integration(db, iid).team_members == 2
    account.seats_access = "denied"  # the token lost the seat list: the cost still syncs, nobody is split
    result = await run_sync(db, vault, settings, iid, "daily", transport=transport, now=NOW + timedelta(hours=1))
    assert result.outcome == "success", result.error
    assert find_integration(db, iid).team_members == 0


async def test_a_malformed_day_fails_its_window_and_replaces_nothing(store) -> None:
    settings, db, vault = store
    account = organization()
    iid = add(db, vault)
    transport = httpx.MockTransport(account.handler)
    assert (await run_sync(db, vault, settings, iid, "backfill", transport=transport, now=NOW)).outcome == "success"
    with db.session() as session:
        before = sorted((r.day, r.cost_micro) for r in session.exec(select(DailyCost)))

    def broken(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("day") == str((TODAY - timedelta(days=2)).day) and "user" not in request.url.params:
            return httpx.Response(200, json={"timePeriod": {"year": 2026, "month": 12, "day": 5}, "usageItems": None})
        return account.handler(request)

    later = NOW + timedelta(hours=2)
    result = await run_sync(db, vault, settings, iid, "daily", transport=httpx.MockTransport(broken), now=later)
    assert result.outcome == "failed"
    assert result.error == (
        "the GitHub API sent an answer without a usageItems list for 2026-12-05; nothing from this window was saved"
    )
    with db.session() as session:
        assert sorted((r.day, r.cost_micro) for r in session.exec(select(DailyCost))) == before
