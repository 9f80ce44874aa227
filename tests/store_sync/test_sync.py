"""The sync engine against a fake Cursor API served at the transport (respx).

The expected numbers are computed here, independently, from the served events
with Decimal arithmetic; the engine must match them to the micro-cent.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
import respx
from sqlmodel import select

from grafient_tui.config import Settings
from grafient_tui.providers.cursor.fake import make_events
from grafient_tui.secret import Secret
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import add_integration
from grafient_tui.store.models import DailyCost, DailyMemberCost, DailyModelCost, SyncRun
from grafient_tui.store.queries import daily_costs, model_breakdown
from grafient_tui.store.vault import Vault
from grafient_tui.sync.due import days_to_fetch, sync_due
from grafient_tui.sync.engine import run_sync
from grafient_tui.sync.lock import sync_lock
from grafient_tui.sync.plan import plan_windows
from tests.conftest import GOOD_KEY
from tests.fakes import CountingCursorTeam
from tests.oracle import event_cents as cents
from tests.oracle import event_day as utc_day
from tests.oracle import expected_model_on_demand

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
TODAY = NOW.date()
EVENTS_PATH = "/teams/filtered-usage-events"


# ------------------------------------------------------------------ oracle
# The cost rule itself comes from tests/oracle.py (Decimal, independent of the app).


def expected_by_day(events: list[dict]) -> dict[date, tuple[Decimal, int]]:
    out: dict[date, list] = defaultdict(lambda: [Decimal(0), 0])
    for raw in events:
        slot = out[utc_day(raw)]
        slot[0] += cents(raw)
        slot[1] += 1
    return {d: (v[0], v[1]) for d, v in out.items()}


def expected_by_model(events: list[dict]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(Decimal)
    for raw in events:
        out[raw["model"]] += cents(raw)
    return dict(out)


def stored_cents(micro: int) -> Decimal:
    return Decimal(micro) / 1_000_000


# ------------------------------------------------------------------ fixtures


@pytest.fixture
def store(grafient_home) -> tuple[Settings, Database, Vault]:
    settings = Settings.from_env()
    settings.ensure_dirs()
    return settings, Database(settings), Vault(settings)


def add(store, label: str = "Eng") -> int:
    _, db, vault = store
    return add_integration(db, vault, label=label, provider="cursor", api_key=Secret(GOOD_KEY)).id


def team_with(events: list[dict]) -> CountingCursorTeam:
    return CountingCursorTeam(
        api_key=GOOD_KEY, events=events, members=[{"name": "A", "email": "a@x.io", "role": "owner"}]
    )


def edge_events() -> list[dict]:
    """The awkward documented shapes, on known days."""
    midnight = int(datetime(2026, 11, 20, tzinfo=UTC).timestamp() * 1000)
    return [
        # exactly midnight: belongs to the 20th, not the 19th
        {
            "timestamp": str(midnight),
            "userEmail": "a@x.io",
            "model": "gpt-5",
            "kind": "Usage-based",
            "requestsCosts": 2,
            "isTokenBasedCall": True,
            "isChargeable": True,
            "tokenUsage": {"inputTokens": 10, "outputTokens": 5, "totalCents": 3.5},
            "chargedCents": 3.75,
        },
        # one millisecond before: the 19th
        {
            "timestamp": str(midnight - 1),
            "userEmail": "a@x.io",
            "model": "gpt-5",
            "kind": "Usage-based",
            "requestsCosts": 1,
            "isTokenBasedCall": True,
            "isChargeable": True,
            "tokenUsage": {"inputTokens": 1, "outputTokens": 1, "totalCents": 1.25},
            "chargedCents": 1.25,
        },
        # no chargedCents: totalCents * (1 - 10%) + fee
        {
            "timestamp": str(midnight + 3_600_000),
            "userEmail": "b@x.io",
            "model": "claude-4.5-sonnet",
            "kind": "Usage-based",
            "maxMode": True,
            "requestsCosts": 10,
            "isTokenBasedCall": True,
            "isChargeable": True,
            "tokenUsage": {
                "inputTokens": 5805,
                "outputTokens": 311,
                "cacheWriteTokens": 11964,
                "cacheReadTokens": 0,
                "totalCents": 40.167,
                "discountPercentOff": 10,
            },
            "cursorTokenFee": 1.18,
        },
        # no tokenUsage at all, plan-included
        {
            "timestamp": str(midnight + 7_200_000),
            "userEmail": "admin@x.io",
            "model": "claude-4-sonnet-thinking",
            "kind": "Included in Business",
            "maxMode": True,
            "requestsCosts": 1.4,
            "isTokenBasedCall": False,
            "isChargeable": False,
            "chargedCents": 8,
        },
        # older response shape: kindLabel, no chargedCents, no tokenUsage -> costs 0 but still a request
        {
            "timestamp": str(midnight + 9_000_000),
            "userEmail": "b@x.io",
            "model": "default",
            "kindLabel": "Errored, Not Charged",
            "requestsCosts": 0,
            "isTokenBasedCall": False,
            "unknownField": [1],
        },
    ]


# ------------------------------------------------------------------ planning


def test_a_year_of_a_quiet_team_takes_thirteen_windows(store) -> None:
    settings, db, _ = store
    settings.set_plan("pro")
    iid = add(store)
    windows = plan_windows(days_to_fetch(db, settings, iid, "backfill", NOW))
    assert len(windows) == 13
    assert windows[0] == (TODAY - timedelta(days=29), TODAY)  # the recent month arrives first
    assert windows[-1][0] == TODAY - timedelta(days=365)
    assert all((last - first).days < 30 for first, last in windows)
    # contiguous, non-overlapping, newest first
    assert all(b[1] == a[0] - timedelta(days=1) for a, b in itertools.pairwise(windows))


async def test_backfill_stores_exactly_the_served_events(store) -> None:
    settings, db, vault = store
    settings.set_plan("pro")
    iid = add(store)
    events = make_events(
        seed=7,
        start=TODAY - timedelta(days=365),
        days=366,
        per_day=12,
        members=["a@x.io", "b@x.io", "c@x.io"],
        models=["gpt-5", "claude-4.5-sonnet", "default"],
    )
    events = [e for e in events if int(e["timestamp"]) <= NOW.timestamp() * 1000] + edge_events()
    team = team_with(events)
    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=team.handler)
        result = await run_sync(db, vault, settings, iid, "backfill", now=NOW)
    assert result.outcome == "success", result.error
    assert team.event_requests == 13  # a quiet year: one request per 30-day window
    expected = expected_by_day(events)
    rows = daily_costs(db, iid, TODAY - timedelta(days=365), TODAY)
    assert all(r.synced for r in rows) and len(rows) == 366
    for row in rows:
        want_cents, want_requests = expected.get(row.day, (Decimal(0), 0))
        assert stored_cents(row.cost_micro) == want_cents, row.day
        assert row.requests == want_requests, row.day
        assert row.on_demand_micro + row.included_micro == row.cost_micro
        assert row.complete == (row.day < TODAY)
    assert (
        stored_cents(next(r for r in rows if r.day == date(2026, 11, 20)).cost_micro)
        == (expected[date(2026, 11, 20)][0])
    )
    models = {m.model: stored_cents(m.cost_micro) for m in model_breakdown(db, iid, TODAY - timedelta(days=365), TODAY)}
    assert models == expected_by_model(events)


async def test_each_model_s_billed_part_is_the_sum_of_its_on_demand_events(store) -> None:
    """Billed per day x model (migration 0012): a model's on-demand events, to the micro-cent; a
    model whose events were all included bills 0 (known), and a day's models add up to the day's."""
    settings, db, vault = store
    iid = add(store)
    events = make_events(
        seed=5,
        start=TODAY - timedelta(days=20),
        days=21,
        per_day=30,
        members=["a@x.io", "b@x.io"],
        models=["gpt-5", "claude-4.5-sonnet", "o3"],
    )
    events = [e for e in events if int(e["timestamp"]) <= NOW.timestamp() * 1000] + edge_events()
    team = team_with(events)
    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=team.handler)
        result = await run_sync(db, vault, settings, iid, "backfill", now=NOW)
    assert result.outcome == "success", result.error
    with db.session() as session:
        models = session.exec(select(DailyModelCost).where(DailyModelCost.integration_id == iid)).all()
        days = session.exec(select(DailyCost).where(DailyCost.integration_id == iid)).all()
    want = expected_model_on_demand(events)
    got = {(m.day, m.model): m.on_demand_micro for m in models}
    assert got == want
    # the fake mixes on-demand and included events: both a billed part and an included one are there
    assert any(0 < m.on_demand_micro < m.cost_micro for m in models)
    by_day: dict[date, int] = defaultdict(int)
    for m in models:
        by_day[m.day] += m.on_demand_micro
    assert {d.day: d.on_demand_micro for d in days if d.cost_micro} == dict(by_day)


async def test_repeated_rows_across_pages_are_counted_once(store) -> None:
    settings, db, vault = store
    iid = add(store)
    events = make_events(
        seed=3, start=TODAY - timedelta(days=5), days=5, per_day=900, members=["a@x.io"], models=["gpt-5"]
    )
    team = team_with(events)

    def shifting(request: httpx.Request) -> httpx.Response:
        """Cursor, when new events arrive mid-paging: page N+1 starts with page N's last row."""
        response = team.handler(request)
        if request.url.path != EVENTS_PATH:
            return response
        body = json.loads(request.content)
        page = body.get("page", 1)
        if page > 1:
            previous = team.handler(
                httpx.Request(
                    "POST", request.url, headers=request.headers, content=json.dumps({**body, "page": page - 1})
                )
            )
            data = response.json()
            data["usageEvents"].insert(0, previous.json()["usageEvents"][-1])
            return httpx.Response(200, json=data)
        return response

    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=shifting)
        result = await run_sync(db, vault, settings, iid, "backfill", now=NOW)
    assert result.outcome == "success"
    total = sum(r.requests for r in daily_costs(db, iid, TODAY - timedelta(days=30), TODAY))
    assert total == len(events) == 4500
    assert sum(stored_cents(r.cost_micro) for r in daily_costs(db, iid, TODAY - timedelta(days=30), TODAY)) == sum(
        cents(e) for e in events
    )


def snapshot(db: Database, iid: int) -> list:
    with db.session() as session:
        days = [
            (
                r.day,
                r.cost_micro,
                r.on_demand_micro,
                r.included_micro,
                r.requests,
                r.request_units_micro,
                r.input_tokens,
                r.output_tokens,
                r.cache_read_tokens,
                r.cache_write_tokens,
                r.complete,
            )
            for r in session.exec(select(DailyCost).where(DailyCost.integration_id == iid).order_by(DailyCost.day))
        ]
        models = sorted(
            (r.day, r.model, r.cost_micro, r.requests)
            for r in session.exec(select(DailyModelCost).where(DailyModelCost.integration_id == iid))
        )
        members = sorted(
            (r.day, r.email, r.cost_micro, r.requests)
            for r in session.exec(select(DailyMemberCost).where(DailyMemberCost.integration_id == iid))
        )
    return [days, models, members]


async def test_running_the_same_sync_twice_gives_identical_data(store) -> None:
    settings, db, vault = store
    iid = add(store)
    events = make_events(
        seed=11,
        start=TODAY - timedelta(days=30),
        days=31,
        per_day=40,
        members=["a@x.io", "b@x.io"],
        models=["gpt-5", "o3"],
    )
    events = [e for e in events if int(e["timestamp"]) <= NOW.timestamp() * 1000]
    team = team_with(events)
    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=team.handler)
        await run_sync(db, vault, settings, iid, "force", now=NOW)
        first = snapshot(db, iid)
        await run_sync(db, vault, settings, iid, "backfill", now=NOW)
        await run_sync(db, vault, settings, iid, "force", now=NOW)
    assert snapshot(db, iid) == first
    assert len(first[0]) == 31 and len(first[1]) > 31 and len(first[2]) > 31


def failing_after(team: CountingCursorTeam, good_windows: int, *, status: int = 500):
    """Serve the first `good_windows` windows, then fail every request for later windows."""
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == EVENTS_PATH:
            start = json.loads(request.content)["startDate"]
            if start not in seen:
                seen.append(start)
            if seen.index(start) >= good_windows:
                return httpx.Response(
                    status, json={"error": "Internal Server Error", "message": "An unexpected error occurred"}
                )
        return team.handler(request)

    return handler


async def test_a_failing_window_keeps_earlier_days_and_the_next_run_resumes(store) -> None:
    settings, db, vault = store
    settings.set_plan("pro")
    iid = add(store)
    events = make_events(
        seed=5, start=TODAY - timedelta(days=365), days=366, per_day=5, members=["a@x.io"], models=["gpt-5", "o3"]
    )
    events = [e for e in events if int(e["timestamp"]) <= NOW.timestamp() * 1000]
    team = team_with(events)
    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=failing_after(team, 4))
        result = await run_sync(db, vault, settings, iid, "backfill", now=NOW)
    assert result.outcome == "failed"
    assert "HTTP 500" in result.error and "An unexpected error occurred" in result.error
    assert result.days_written == 4 * 30
    rows = daily_costs(db, iid, TODAY - timedelta(days=365), TODAY)
    assert [r.synced for r in rows] == [False] * 246 + [True] * 120  # the newest four windows
    kept = snapshot(db, iid)
    with db.session() as session:
        run = session.exec(select(SyncRun).where(SyncRun.integration_id == iid)).one()
    assert run.outcome == "failed" and run.days_written == 120 and run.error == result.error
    # the next run fetches only what is missing: 9 windows for the 246 older days, plus today
    # again (it was written in the first window, and a day in progress is never complete)
    requests_before = team.event_requests
    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=team.handler)
        result = await run_sync(db, vault, settings, iid, "backfill", now=NOW)
    assert result.outcome == "success"
    assert team.event_requests - requests_before == 10
    final = snapshot(db, iid)
    assert [d for d in final[0] if d[0] > TODAY - timedelta(days=120) and d[0] < TODAY] == [
        d for d in kept[0] if d[0] < TODAY
    ]  # the days already written were not touched
    expected = expected_by_day(events)
    for row in daily_costs(db, iid, TODAY - timedelta(days=365), TODAY):
        assert stored_cents(row.cost_micro) == expected.get(row.day, (Decimal(0), 0))[0]


async def test_rate_limits_and_server_errors_are_retried(store) -> None:
    settings, db, vault = store
    iid = add(store)
    events = make_events(
        seed=9, start=TODAY - timedelta(days=30), days=31, per_day=30, members=["a@x.io"], models=["gpt-5"]
    )
    events = [e for e in events if int(e["timestamp"]) <= NOW.timestamp() * 1000]
    team = team_with(events)
    faults = iter(
        [
            httpx.Response(429, headers={"Retry-After": "0"}, json={"error": "Too Many Requests", "message": "x"}),
            httpx.Response(429, json={"error": "Too Many Requests", "message": "Rate limit exceeded."}),
            httpx.Response(502, text="bad gateway"),
            "truncated",
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == EVENTS_PATH:
            fault = next(faults, None)
            if fault == "truncated":
                good = team.handler(request)
                return httpx.Response(
                    200, content=good.content[: len(good.content) // 2], headers={"content-type": "application/json"}
                )
            if fault is not None:
                return fault
        return team.handler(request)

    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=handler)
        result = await run_sync(db, vault, settings, iid, "backfill", now=NOW)
    assert result.outcome == "success", result.error
    assert result.rate_limited == 2 and result.retries == 4
    expected = expected_by_day(events)
    for row in daily_costs(db, iid, TODAY - timedelta(days=30), TODAY):
        assert stored_cents(row.cost_micro) == expected.get(row.day, (Decimal(0), 0))[0]
    with db.session() as session:
        run = session.exec(select(SyncRun)).one()
    assert (run.rate_limited, run.retries, run.outcome) == (2, 4, "success")


async def test_daily_sync_catches_up_and_refetches_the_two_latest_days(store) -> None:
    settings, db, vault = store
    iid = add(store)
    events = make_events(
        seed=2, start=TODAY - timedelta(days=30), days=31, per_day=10, members=["a@x.io"], models=["gpt-5"]
    )
    team = team_with([e for e in events if int(e["timestamp"]) <= NOW.timestamp() * 1000])
    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=team.handler)
        await run_sync(db, vault, settings, iid, "backfill", now=NOW)
        later = NOW + timedelta(days=4)
        assert sync_due(db, settings, iid, later)
        days = days_to_fetch(db, settings, iid, "daily", later)
        # the backfill's today (incomplete when synced) through the later run's today so far
        assert days == [TODAY + timedelta(days=i) for i in range(5)]
        result = await run_sync(db, vault, settings, iid, "daily", now=later)
        assert result.outcome == "success" and result.days_written == 5
        assert not sync_due(db, settings, iid, later)
        # a run the same day refetches the two most recent finished days and today so far
        recent = [later.date() - timedelta(days=2), later.date() - timedelta(days=1), later.date()]
        assert days_to_fetch(db, settings, iid, "daily", later) == recent
        # every trigger covers the same days: who asked does not change the figures
        assert days_to_fetch(db, settings, iid, "force", later) == recent
        assert days_to_fetch(db, settings, iid, "backfill", later) == recent


async def test_raising_the_plan_extends_history_on_the_next_sync(store) -> None:
    settings, db, vault = store
    iid = add(store)
    team = team_with([])
    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=team.handler)
        await run_sync(db, vault, settings, iid, "backfill", now=NOW)
        assert len([r for r in daily_costs(db, iid, TODAY - timedelta(days=365), TODAY) if r.synced]) == 31
        settings.set_plan("ultimate")
        assert sync_due(db, settings, iid, NOW)
        await run_sync(db, vault, settings, iid, "daily", now=NOW)
    assert all(r.synced for r in daily_costs(db, iid, TODAY - timedelta(days=365), TODAY - timedelta(days=1)))


async def test_a_second_sync_of_the_same_integration_is_skipped(store, monkeypatch) -> None:
    settings, db, vault = store
    iid = add(store)
    monkeypatch.setattr("grafient_tui.sync.engine.LOCK_WAIT_SECONDS", 0.2)
    held = sync_lock(settings, iid, db)
    assert held.try_acquire()
    try:
        with respx.mock(base_url="https://api.cursor.com", assert_all_called=False) as api:
            route = api.route().mock(side_effect=team_with([]).handler)
            result = await run_sync(db, vault, settings, iid, "force", now=NOW)
        if db.is_postgres:  # a shared database names the holder, and this sync gave up (the CLI exits 1)
            holder = f"another Grafient's session (role {db.url.username!r}, process {held.pid} on the server)"
            wanted = f"a sync for Eng is already running: {holder}; this one gave up after 0.2 s"
        else:
            wanted = "a sync for Eng is already running"
        assert (result.outcome, result.error, result.blocked) == ("skipped", wanted, db.is_postgres)
        assert route.call_count == 0
        with db.session() as session:
            assert session.exec(select(SyncRun)).all() == []
    finally:
        held.release()


async def test_an_interrupted_run_is_marked_interrupted_by_the_next_one(store) -> None:
    settings, db, vault = store
    iid = add(store)
    with db.session(write=True) as session:  # what a killed process leaves behind
        session.add(SyncRun(integration_id=iid, trigger="backfill", started_at=NOW))
    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=team_with([]).handler)
        await run_sync(db, vault, settings, iid, "backfill", now=NOW)
    with db.session() as session:
        outcomes = [r.outcome for r in session.exec(select(SyncRun).order_by(SyncRun.id))]
    assert outcomes == ["interrupted", "success"]


async def test_a_rejected_key_fails_the_sync_with_its_sentence(store) -> None:
    settings, db, vault = store
    iid = add(store)
    other = CountingCursorTeam(api_key="key_" + "0" * 64, events=[])
    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=other.handler)
        result = await run_sync(db, vault, settings, iid, "force", now=NOW)
    assert result.outcome == "failed" and result.error.startswith("the key was rejected by Cursor")
    assert result.error_kind == "KeyRejected"  # the family the app's toast groups failures by
    assert GOOD_KEY not in result.error
    assert daily_costs(db, iid, TODAY, TODAY)[0].synced is False


async def test_status_shows_a_killed_run_as_interrupted_and_a_live_one_as_syncing(store) -> None:
    from grafient_tui.sync.status import sync_status

    settings, db, _ = store
    iid = add(store)
    assert sync_status(db, settings, iid).status == "never synced"
    with db.session(write=True) as session:  # a run row left behind by a killed process
        session.add(SyncRun(integration_id=iid, trigger="backfill", started_at=NOW))
    assert sync_status(db, settings, iid).status == "interrupted"
    held = sync_lock(settings, iid, db)
    assert held.try_acquire()
    try:
        assert sync_status(db, settings, iid).status == "syncing"
    finally:
        held.release()


# --------------------------------------------------------------------------- a provider's history edge


async def test_a_400_on_a_window_older_than_one_that_answered_ends_the_backfill_at_that_edge() -> None:
    """A provider that keeps less than the plan asks for may refuse older windows with 400: the
    newer windows are kept, the edge is recorded, the sync succeeds, and later syncs stop asking."""
    from grafient_tui.providers.anthropic.fake import demo_account
    from grafient_tui.store.integrations import find_integration

    key = "sk-ant-admin01-" + "Hx7" * 30
    org = demo_account(key, TODAY, seed=4)
    edge = TODAY - timedelta(days=70)  # the provider keeps 70 days; the pro plan asks for 365
    asked: list[date] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/cost_report"):
            first = date.fromisoformat(request.url.params["starting_at"][:10])
            asked.append(first)
            if first < edge:
                return httpx.Response(
                    400,
                    json={
                        "type": "error",
                        "error": {"type": "invalid_request_error", "message": "starting_at is too far in the past"},
                    },
                )
        return org.handler(request)

    settings = Settings.from_env()
    settings.ensure_dirs()
    settings.set_plan("pro")
    db, vault = Database(settings), Vault(settings)
    iid = int(add_integration(db, vault, label="Labs", provider="anthropic", api_key=Secret(key)).id)
    transport = httpx.MockTransport(handler)
    result = await run_sync(db, vault, settings, iid, "backfill", transport=transport, now=NOW)
    assert result.outcome == "success", result.error
    integration = find_integration(db, iid)
    assert integration.history_limit is not None and edge <= integration.history_limit <= TODAY
    assert integration.history_from == integration.history_limit  # the oldest day that answered has usage
    rows = daily_costs(db, iid, TODAY - timedelta(days=365), TODAY)
    assert all(not r.synced for r in rows if r.day < integration.history_limit)
    assert all(r.synced for r in rows if r.day >= integration.history_limit)
    refused = sum(1 for first in asked if first < edge)
    assert refused == 1  # the first refusal ends the backfill: no older window is asked for

    asked.clear()
    again = await run_sync(db, vault, settings, iid, "daily", transport=transport, now=NOW + timedelta(days=1))
    assert again.outcome == "success" and asked and min(asked) >= integration.history_limit


async def test_a_400_on_the_newest_window_is_a_failure_not_an_edge() -> None:
    from grafient_tui.store.integrations import find_integration

    key = "sk-ant-admin01-" + "Qw4" * 30

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400, json={"type": "error", "error": {"type": "invalid_request_error", "message": "bad parameters"}}
        )

    settings = Settings.from_env()
    settings.ensure_dirs()
    db, vault = Database(settings), Vault(settings)
    iid = int(add_integration(db, vault, label="Labs", provider="anthropic", api_key=Secret(key)).id)
    result = await run_sync(db, vault, settings, iid, "backfill", transport=httpx.MockTransport(handler), now=NOW)
    assert result.outcome == "failed"
    assert result.error and "Anthropic" in result.error and key[-12:] not in result.error
    assert find_integration(db, iid).history_limit is None


async def test_an_edge_after_windows_that_answered_without_usage_is_still_an_edge() -> None:
    """A quiet organization: the newer windows answer with empty days, the older one 400: an edge."""
    from grafient_tui.providers.anthropic.fake import FakeAnthropicOrg
    from grafient_tui.store.integrations import find_integration

    key = "sk-ant-admin01-" + "Qz8" * 30
    org = FakeAnthropicOrg(api_key=key)
    edge = TODAY - timedelta(days=40)

    def handler(request: httpx.Request) -> httpx.Response:
        if (
            request.url.path.endswith("/cost_report")
            and date.fromisoformat(request.url.params["starting_at"][:10]) < edge
        ):
            return httpx.Response(
                400, json={"type": "error", "error": {"type": "invalid_request_error", "message": "too old"}}
            )
        return org.handler(request)

    settings = Settings.from_env()
    settings.ensure_dirs()
    settings.set_plan("pro")
    db, vault = Database(settings), Vault(settings)
    iid = int(add_integration(db, vault, label="Quiet", provider="anthropic", api_key=Secret(key)).id)
    result = await run_sync(db, vault, settings, iid, "backfill", transport=httpx.MockTransport(handler), now=NOW)
    assert result.outcome == "success", result.error
    integration = find_integration(db, iid)
    assert integration.history_limit is not None and integration.history_limit >= edge
    assert integration.history_from is None  # no usage came back: nothing to show as history


async def test_a_404_on_an_older_window_is_a_failure_not_an_edge() -> None:
    from grafient_tui.providers.anthropic.fake import demo_account
    from grafient_tui.store.integrations import find_integration

    key = "sk-ant-admin01-" + "Rk5" * 30
    org = demo_account(key, TODAY, seed=6)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/cost_report") and date.fromisoformat(
            request.url.params["starting_at"][:10]
        ) < TODAY - timedelta(days=40):
            return httpx.Response(404, json={"type": "error", "error": {"type": "not_found_error", "message": "x"}})
        return org.handler(request)

    settings = Settings.from_env()
    settings.ensure_dirs()
    settings.set_plan("pro")
    db, vault = Database(settings), Vault(settings)
    iid = int(add_integration(db, vault, label="Labs", provider="anthropic", api_key=Secret(key)).id)
    result = await run_sync(db, vault, settings, iid, "backfill", transport=httpx.MockTransport(handler), now=NOW)
    assert result.outcome == "failed" and "404" in (result.error or "")
    assert find_integration(db, iid).history_limit is None


async def test_an_openrouter_account_is_not_due_again_the_moment_it_synced() -> None:
    """OpenRouter reports completed days only and yesterday may come late: right after a sync the
    account is not due (so an app start does not sync it again), the next morning it is."""
    from grafient_tui.providers.openrouter.fake import demo_account

    key = "sk-or-v1-" + "4c2d9e1f" * 8
    account = demo_account(key, TODAY, 3)
    account.rows = [r for r in account.rows if r["date"] != (TODAY - timedelta(days=1)).isoformat()]
    settings = Settings.from_env()
    settings.ensure_dirs()
    db, vault = Database(settings), Vault(settings)
    iid = int(add_integration(db, vault, label="Proto", provider="openrouter", api_key=Secret(key)).id)
    result = await run_sync(
        db, vault, settings, iid, "backfill", transport=httpx.MockTransport(account.handler), now=NOW
    )
    assert result.outcome == "success", result.error
    assert not daily_costs(db, iid, TODAY - timedelta(days=1), TODAY - timedelta(days=1))[0].synced
    assert not sync_due(db, settings, iid, NOW + timedelta(minutes=5))
    assert sync_due(db, settings, iid, NOW + timedelta(days=1))
