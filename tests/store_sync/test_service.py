"""GrafientService, called directly as the app and the CLI call it, with Cursor faked by respx at
the transport: add -> list -> sync -> report -> export -> remove, and the refusals on the way."""

from __future__ import annotations

import csv
import io
import stat
from datetime import UTC, datetime, timedelta

import pytest
import respx

from grafient_tui.config import Settings
from grafient_tui.errors import ConfigError, NotFound
from grafient_tui.money import usd_exact
from grafient_tui.providers.cursor.fake import FakeCursorTeam, make_events
from grafient_tui.report import ReportRange
from grafient_tui.secret import Secret
from grafient_tui.service import GrafientService
from tests.conftest import GOOD_KEY
from tests.oracle import expected_snapshot

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
TODAY = NOW.date()
MEMBERS = [{"name": "Alex", "email": "a@x.io", "role": "owner"}, {"name": "Sam", "email": "b@x.io", "role": "member"}]


@pytest.fixture
def team() -> FakeCursorTeam:
    events = make_events(
        seed=11,
        start=TODAY - timedelta(days=30),
        days=31,
        per_day=6,
        members=["a@x.io", "b@x.io"],
        models=["gpt-5", "claude-4.5-sonnet"],
    )
    cutoff = NOW.timestamp() * 1000
    return FakeCursorTeam(
        api_key=GOOD_KEY, events=[e for e in events if int(e["timestamp"]) <= cutoff], members=MEMBERS
    )


@pytest.fixture
def api(team: FakeCursorTeam):
    with respx.mock(base_url="https://api.cursor.com", assert_all_called=False) as router:
        router.route().mock(side_effect=team.handler)
        yield router


@pytest.fixture
def service(grafient_home) -> GrafientService:
    return GrafientService(Settings.from_env())


async def test_an_integration_from_add_to_remove(service: GrafientService, team: FakeCursorTeam, api) -> None:
    assert service.list_integrations() == []

    row = await service.add("cursor", "  Eng   Team ", Secret(GOOD_KEY), now=NOW)
    assert (row.label, row.provider, row.team_members) == ("Eng Team", "cursor", 2)
    assert api.calls.call_count >= 1  # the key was checked with the provider before it was stored

    (listed,) = service.list_integrations()
    assert (listed.id, listed.label, listed.key_hint, listed.status, listed.last_sync) == (
        row.integration_id,
        "Eng Team",
        Secret(GOOD_KEY).hint,
        "never synced",
        None,
    )
    assert GOOD_KEY not in repr(listed)

    seen = []
    results = await service.sync(trigger="backfill", progress=seen.append, now=NOW)
    assert [(r.integration_id, r.outcome) for r in results] == [(row.integration_id, "success")]
    assert seen and seen[-1].windows_done == seen[-1].windows_total
    (listed,) = service.list_integrations()
    assert listed.status == "ok" and listed.last_sync is not None and listed.error is None

    since = TODAY - timedelta(days=29)
    span = ReportRange(since, TODAY)
    report = service.report(span, "day", row.integration_id, today=TODAY)
    expected_days = expected_snapshot(team.events, first=since, last=TODAY, today=TODAY)[0]
    (entry,) = report["integrations"]
    assert [(d["date"], d["_micro"], d["complete"]) for d in entry["days"]] == [
        (day.isoformat(), cost, complete) for day, cost, *_, complete in expected_days
    ]
    assert report["summary"]["_summary"].total_micro == sum(r[1] for r in expected_days)

    path = service.export_csv("eng team", span, today=TODAY)
    assert path.parent == service.settings.data_dir / "exports"
    assert path.name == f"grafient-eng-team-{since.isoformat()}-to-{TODAY.isoformat()}.csv"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rows = list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))
    assert [(r["date"], r["cost_usd"]) for r in rows] == [
        (day.isoformat(), usd_exact(cost)) for day, cost, *_ in expected_days
    ]

    removed = service.remove("Eng Team")
    assert removed.integration_id == row.integration_id
    assert service.list_integrations() == []
    with pytest.raises(NotFound):
        service.find(row.integration_id)


async def test_a_taken_label_is_refused_before_the_network(service: GrafientService, api) -> None:
    await service.add("cursor", "Eng", Secret(GOOD_KEY), now=NOW)
    calls = api.calls.call_count
    with pytest.raises(ConfigError, match="already exists"):
        service.free_label("ENG ")
    with pytest.raises(ConfigError, match="already exists"):
        await service.add("cursor", "eng", Secret("key_" + "f" * 64), now=NOW)
    assert api.calls.call_count == calls
    assert [i.label for i in service.list_integrations()] == ["Eng"]


async def test_a_bad_reference_is_not_found_everywhere(service: GrafientService, api) -> None:
    await service.add("cursor", "Eng", Secret(GOOD_KEY), now=NOW)
    span = ReportRange(TODAY, TODAY)
    for call in (
        lambda: service.find("nope"),
        lambda: service.remove("nope"),
        lambda: service.report(span, "day", "nope"),
        lambda: service.export_csv("42", span),
    ):
        with pytest.raises(NotFound, match="see `grafient list`"):
            call()
    with pytest.raises(NotFound):
        await service.sync("nope", now=NOW)
    with pytest.raises(NotFound):
        await service.rekey("nope", Secret("key_" + "f" * 64))
    assert [i.label for i in service.list_integrations()] == ["Eng"]


async def test_sync_with_nothing_to_sync_returns_no_results(service: GrafientService) -> None:
    assert await service.sync(now=NOW) == []


@pytest.mark.sqlite_only
def test_the_plan_opens_no_database(service: GrafientService) -> None:
    assert service.plan() == "free" and service.plan_days("free") == 30
    assert service.set_plan("pro") == 365
    assert service.plan() == "pro"
    assert service._db is None


# ------------------------------------------------------------------ the app's door: what it reads and checks


def test_label_shapes_are_checked_without_a_store(service: GrafientService) -> None:
    assert service.clean_label("  Eng   Team ") == "Eng Team"
    for bad, said in (("  ", "empty"), ("123", "only digits"), (GOOD_KEY, "cannot be an API key")):
        with pytest.raises(ConfigError, match=said):
            service.clean_label(bad)
    assert service._db is None


async def test_home_and_detail_figures_and_the_syncs_due(service: GrafientService, team, api) -> None:
    row = await service.add("cursor", "Eng", Secret(GOOD_KEY), now=NOW)
    iid = row.integration_id
    assert service.due_syncs(NOW) == [iid]  # never synced: its history is missing
    await service.sync(iid, trigger="backfill", now=NOW)
    assert service.due_syncs(NOW) == []  # synced after today's 06:00 UTC, nothing missing
    assert service.due_syncs(NOW + timedelta(days=1)) == [iid]  # a new day: yesterday is not final

    home = service.home(30, TODAY)
    [card] = home.integrations
    assert (card.integration_id, card.label, card.status.status) == (iid, "Eng", "ok")
    assert home.summary is not None and home.summary.total_micro == card.summary.total_micro > 0
    assert sum(d.cost_micro for d in card.days) == card.summary.total_micro
    detail = service.detail(iid, 7, TODAY)
    assert detail.figures.summary.days == 7 and detail.plan == "free" and detail.plan_days == 30
    assert sum(m.cost_micro for m in detail.models) == detail.figures.summary.total_micro
    assert {m.actor for m in detail.members} == {"a@x.io", "b@x.io"}
    service.remove(iid)
    with pytest.raises(NotFound):
        service.detail(iid, 7, TODAY)
    assert service.home(30, TODAY).integrations == ()
    service.close()
    assert service._db is None


@pytest.mark.sqlite_only
async def test_is_syncing_asks_the_lock_not_the_database(service: GrafientService, api) -> None:
    from grafient_tui.sync.lock import sync_lock

    row = await service.add("cursor", "Eng", Secret(GOOD_KEY), now=NOW)
    service.close()  # a SQLite home's sync lock is a file: the check opens no database
    assert not service.is_syncing(row.integration_id)
    lock = sync_lock(service.settings, row.integration_id)
    assert lock.try_acquire()
    try:
        assert service.is_syncing(row.integration_id)
    finally:
        lock.release()
    assert not service.is_syncing(row.integration_id) and service._db is None
