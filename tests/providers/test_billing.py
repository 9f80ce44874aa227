"""Cursor's billing cycle (/teams/spend): the shapes it comes in, paging, what a sync stores, and
that a failure there never costs a sync its cost data. The API is faked at the transport."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
import respx
from sqlmodel import select

from grafient_tui.config import Settings
from grafient_tui.providers.base import MemberSpend
from grafient_tui.providers.cursor.api import CursorClient
from grafient_tui.providers.cursor.fake import make_events
from grafient_tui.providers.cursor.spend import cycle_start, parse_member
from grafient_tui.secret import Secret
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import add_integration, find_integration, remove_integration
from grafient_tui.store.models import MemberCycleSpend
from grafient_tui.store.queries import daily_costs
from grafient_tui.store.vault import Vault
from grafient_tui.sync.engine import run_sync
from tests import oracle
from tests.conftest import API, GOOD_KEY
from tests.fakes import CountingCursorTeam

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
TODAY = NOW.date()
CYCLE = date(2026, 11, 9)
MEMBERS = ["ana@acme.dev", "bo@acme.dev", "cy@acme.dev"]
MICRO_PER_DOLLAR = 100_000_000


# ------------------------------------------------------------------ shapes


def test_the_documented_member_shape() -> None:
    raw = {
        "userId": "user_PDSPmvukpYgZEDXsoNirw3CFhy",
        "name": "Alex",
        "email": "developer@company.com",
        "role": "member",
        "spendCents": 2450.125487,
        "overallSpendCents": 3100.5,
        "fastPremiumRequests": 1250,
        "hardLimitOverrideDollars": 100,
        "monthlyLimitDollars": 200,
        "effectivePerUserLimitDollars": 100,
    }
    assert parse_member(raw) == MemberSpend(
        "developer@company.com",
        "Alex",
        spend_micro=3_100_500_000,
        on_demand_micro=2_450_125_487,
        limit_micro=100 * MICRO_PER_DOLLAR,
    )


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        # older answers: spendCents alone is the total, the on-demand part unknown
        ({"email": "a@x.io", "spendCents": 1200}, MemberSpend("a@x.io", None, 1_200_000_000, None, None)),
        # no limit fields at all, or a null effective limit: no limit known (never $0)
        (
            {"email": "a@x.io", "spendCents": 5, "overallSpendCents": 9, "effectivePerUserLimitDollars": None},
            MemberSpend("a@x.io", None, 9_000_000, 5_000_000, None),
        ),
        # the other limit fields do not say which applies: not guessed from
        (
            {"email": "a@x.io", "spendCents": 5, "hardLimitOverrideDollars": 50, "monthlyLimitDollars": 80},
            MemberSpend("a@x.io", None, 5_000_000, None, None),
        ),
        # cents as numeric strings, an integer id, no email: named by name
        (
            {
                "userId": 7,
                "name": "Sam",
                "spendCents": "12.3456",
                "overallSpendCents": "20",
                "effectivePerUserLimitDollars": "250.5",
            },
            MemberSpend("Sam", "Sam", 20_000_000, 12_345_600, 25_050_000_000),
        ),
        # nothing but an id
        ({"userId": "1", "spendCents": 0}, MemberSpend("1", None, 0, None, None)),
        # unreadable money is unknown, and costs only that figure
        (
            {"email": "a@x.io", "spendCents": "lots", "overallSpendCents": True, "effectivePerUserLimitDollars": [1]},
            MemberSpend("a@x.io", None, None, None, None),
        ),
        # sizes no bill has (and no 64-bit column holds) are unreadable too
        (
            {"email": "a@x.io", "spendCents": 1e12, "effectivePerUserLimitDollars": 1e12},
            MemberSpend("a@x.io", None, None, None, None),
        ),
        # nobody named at all
        ({"spendCents": 1}, MemberSpend("unknown member", None, 1_000_000, None, None)),
    ],
    ids=["spend-only", "no-limit", "other-limits", "strings", "id-only", "unreadable", "huge", "anonymous"],
)
def test_member_shapes_seen_in_the_wild(raw: dict, want: MemberSpend) -> None:
    assert parse_member(raw) == want


def test_entries_that_are_not_objects_are_skipped() -> None:
    assert parse_member(["a@x.io", 5]) is None and parse_member(None) is None


@pytest.mark.parametrize(
    ("value", "want"),
    [
        (1708992000000, date(2024, 2, 27)),
        ("1708992000000", date(2024, 2, 27)),
        ("2026-01-31T00:00:00.000Z", date(2026, 1, 31)),
        (1708992000000.0, date(2024, 2, 27)),
        (None, None),
        ("soon", None),
        (-5, None),
        ({"ms": 1}, None),
    ],
)
def test_the_cycle_start_as_sent(value: object, want: date | None) -> None:
    assert cycle_start(value) == want


async def spend_answer(*answers: dict | httpx.Response) -> tuple[object, respx.Route]:
    with respx.mock(base_url=API) as router:
        route = router.post("/teams/spend").mock(
            side_effect=[a if isinstance(a, httpx.Response) else httpx.Response(200, json=a) for a in answers]
        )
        async with CursorClient(GOOD_KEY, rpm=0, backoff_base=0) as client:
            billing = await client.billing()
    return billing, route


async def test_pages_are_read_up_to_total_pages() -> None:
    page = {"subscriptionCycleStart": 1763337600000, "totalPages": 3, "totalMembers": 5}
    billing, route = await spend_answer(
        {**page, "teamMemberSpend": [{"email": "a@x.io", "spendCents": 1}, {"email": "b@x.io", "spendCents": 2}]},
        {**page, "teamMemberSpend": [{"email": "b@x.io", "spendCents": 2}, {"email": "c@x.io", "spendCents": 3}]},
        {**page, "teamMemberSpend": [{"email": "d@x.io", "spendCents": 4}]},
    )
    assert [c.request.content for c in route.calls] == [b'{"page":1}', b'{"page":2}', b'{"page":3}']
    assert billing.cycle_start == date(2025, 11, 17)
    # a member seen twice (pages shift while members are added) is kept once
    assert [(m.member, m.spend_micro) for m in billing.members] == [
        ("a@x.io", 1_000_000),
        ("b@x.io", 2_000_000),
        ("c@x.io", 3_000_000),
        ("d@x.io", 4_000_000),
    ]


async def test_without_total_pages_or_cycle_start_one_page_is_read_and_the_start_is_unknown() -> None:
    billing, route = await spend_answer({"teamMemberSpend": [{"email": "a@x.io", "spendCents": 1}]})
    assert route.call_count == 1
    assert billing.cycle_start is None and len(billing.members) == 1


async def test_an_answer_without_the_member_list_is_malformed() -> None:
    from grafient_tui.providers.http import BadResponse

    with pytest.raises(BadResponse, match="without a teamMemberSpend list"):
        await spend_answer({"data": []})


async def test_the_fake_pages_its_members_like_cursor() -> None:
    team = make_team(spend_page_size=2)
    async with CursorClient(GOOD_KEY, rpm=0, transport=httpx.MockTransport(team.handler)) as client:
        billing = await client.billing()
    assert team.calls["/teams/spend"] == 2  # three members, two a page
    assert billing.cycle_start == CYCLE
    assert sorted(m.member for m in billing.members) == MEMBERS


# ------------------------------------------------------------------ through a sync


def make_team(**kw) -> CountingCursorTeam:
    events = make_events(
        seed=8, start=TODAY - timedelta(days=29), days=30, per_day=10, members=MEMBERS, models=["gpt-5", "o3"]
    )
    cutoff = int(NOW.timestamp() * 1000)
    limits = {"ana@acme.dev": 40, "bo@acme.dev": 12.5}
    return CountingCursorTeam(
        api_key=GOOD_KEY,
        events=[e for e in events if int(e["timestamp"]) <= cutoff],
        cycle_start=CYCLE,
        limits=limits,
        **kw,
    )


def expected_cycle_spend(team: CountingCursorTeam) -> dict[str, tuple[int, int]]:
    """Per member (total, on-demand) since the cycle started, from the events by the documented rules."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for raw in team.events:
        if oracle.event_day(raw) >= CYCLE:
            cost = oracle.micro(oracle.event_cents(raw))
            sums[raw["userEmail"]][0] += cost
            if oracle._chargeable(raw):
                sums[raw["userEmail"]][1] += cost
    return {k: (v[0], v[1]) for k, v in sums.items()}


@pytest.fixture
def store(grafient_home):
    settings = Settings.from_env()
    settings.ensure_dirs()
    db, vault = Database(settings), Vault(settings)
    iid = int(add_integration(db, vault, label="Eng", provider="cursor", api_key=Secret(GOOD_KEY)).id)
    return settings, db, vault, iid


def member_rows(db: Database, iid: int) -> dict[str, tuple]:
    with db.session() as session:
        return {
            r.member: (r.spend_micro, r.on_demand_micro, r.limit_micro)
            for r in session.exec(select(MemberCycleSpend).where(MemberCycleSpend.integration_id == iid))
        }


async def test_a_sync_stores_the_cycle_and_each_members_spend_and_limit(store) -> None:
    settings, db, vault, iid = store
    team = make_team()
    result = await run_sync(db, vault, settings, iid, "backfill", transport=httpx.MockTransport(team.handler), now=NOW)
    assert result.outcome == "success"
    assert team.calls["/teams/spend"] == 1  # once per sync, after the windows
    assert find_integration(db, iid).cycle_start == CYCLE
    want = expected_cycle_spend(team)
    assert member_rows(db, iid) == {
        "ana@acme.dev": (*want["ana@acme.dev"], 40 * MICRO_PER_DOLLAR),
        "bo@acme.dev": (*want["bo@acme.dev"], 1_250_000_000),
        "cy@acme.dev": (*want["cy@acme.dev"], None),
    }
    assert all(on_demand > 0 for _, on_demand in want.values())
    remove_integration(db, iid)
    with db.session() as session:
        assert session.exec(select(MemberCycleSpend)).all() == []


@pytest.mark.parametrize("fault", ["500", "malformed", "offline"])
async def test_a_failing_spend_call_keeps_the_costs_and_the_previous_members(store, caplog, fault: str) -> None:
    settings, db, vault, iid = store
    team = make_team()
    assert (
        await run_sync(db, vault, settings, iid, "backfill", transport=httpx.MockTransport(team.handler), now=NOW)
    ).outcome == "success"
    before = member_rows(db, iid)
    team.events.append({**team.events[-1], "chargedCents": 5000})  # a new event the next sync brings

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/teams/spend":
            if fault == "500":
                return httpx.Response(500, json={"error": "Internal Server Error", "message": "oops"})
            if fault == "offline":
                raise httpx.ConnectError("connection refused")
            return httpx.Response(200, json={"spend": []})
        return team.handler(request)

    caplog.set_level(logging.WARNING, logger="grafient")
    result = await run_sync(db, vault, settings, iid, "force", transport=httpx.MockTransport(handler), now=NOW)
    assert result.outcome == "success", result.error
    assert member_rows(db, iid) == before
    assert find_integration(db, iid).cycle_start == CYCLE
    (today_row,) = list(daily_costs(db, iid, TODAY, TODAY))
    assert today_row.cost_micro >= 5000 * 1_000_000  # the window after it was written all the same
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith("Eng: the billing cycle")
    assert "the costs are saved" in warnings[0] and GOOD_KEY not in warnings[0]


async def test_an_answer_without_a_cycle_start_keeps_the_last_known_one(store) -> None:
    settings, db, vault, iid = store
    team = make_team()
    await run_sync(db, vault, settings, iid, "backfill", transport=httpx.MockTransport(team.handler), now=NOW)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/teams/spend":
            return httpx.Response(200, json={"teamMemberSpend": [{"email": "ana@acme.dev", "spendCents": 7}]})
        return team.handler(request)

    assert (
        await run_sync(db, vault, settings, iid, "daily", transport=httpx.MockTransport(handler), now=NOW)
    ).outcome == "success"
    assert find_integration(db, iid).cycle_start == CYCLE
    assert member_rows(db, iid) == {"ana@acme.dev": (7_000_000, None, None)}  # the members are replaced whole
