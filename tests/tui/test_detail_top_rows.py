"""The detail screen draws at most MAX_TABLE_ROWS members and models, in the order asked for, and
sums the rest exactly in one "N others" row, all built in a thread from what the database sorted and
cut: an integration of 150,000 members stalled the app's event loop 26 s when every one was a row
(benchmarks/detail_stall.py measures the stall; tests/store_sync/test_top_rows.py checks every order)."""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest
from textual.widgets import DataTable

from grafient_tui.config import Settings
from grafient_tui.figures import MemberFigures, ModelFigures
from grafient_tui.money import format_usd
from grafient_tui.overview import load_detail
from grafient_tui.providers.base import CostLine
from grafient_tui.secret import Secret
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import add_integration
from grafient_tui.store.models import MemberCycleSpend
from grafient_tui.store.sync_writes import write_window
from grafient_tui.store.vault import Vault
from grafient_tui.sync.totals import WindowTotals
from grafient_tui.tops import MAX_TABLE_ROWS, MEMBER_SORTS, MODEL_ORDERS
from grafient_tui.tui.app import GrafientApp
from tests.helpers import settle

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
MEMBERS = 450
MODELS = 240


def member_cost(i: int) -> int:
    return 1_000_000 * (1 + (i * 7919) % 1000) + i  # distinct, in no order


def member_requests(i: int) -> int:
    return 1 + (i * 104_729) % 97


def seed() -> int:
    settings = Settings.from_env()
    settings.ensure_dirs()
    db, vault = Database(settings), Vault(settings)
    iid = int(add_integration(db, vault, label="Big", provider="cursor", api_key=Secret("key_" + "b7" * 32)).id)
    day = NOW.date() - timedelta(days=1)
    totals = WindowTotals(day, day)
    lines = [
        CostLine(day, f"model-{i % MODELS:03d}", f"m{i:04d}@x.io", False, member_cost(i), member_requests(i))
        for i in range(MEMBERS)
    ]
    totals.add(lines)
    write_window(db, iid, day, day, totals, NOW)
    db.dispose()
    return iid


def cells(table: DataTable, row: int) -> list[str]:
    return [str(cell) for cell in table.get_row_at(row)]


class NoSync(GrafientApp):
    def start_sync(self, integration_id: int, trigger: str) -> bool:  # the stored figures only
        return False


@pytest.mark.parametrize("presses", [0, 1, 2], ids=["by cost", "by name", "by requests"])
async def test_the_members_tab_holds_the_top_rows_and_the_rest_summed_exactly(grafient_home, presses: int) -> None:
    seed()
    expected = {i: (f"m{i:04d}@x.io", member_cost(i), member_requests(i)) for i in range(MEMBERS)}
    order = {
        0: sorted(expected.values(), key=lambda m: -m[1]),
        1: sorted(expected.values(), key=lambda m: m[0]),
        2: sorted(expected.values(), key=lambda m: (-m[2], -m[1])),
    }[presses]
    app = NoSync(Settings.from_env(), now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("enter", "3")
        await settle(app, pilot)
        for _ in range(presses):
            await pilot.press("s")
            await settle(app, pilot)
        table = app.screen.query_one("#members", DataTable)
        assert table.row_count == MAX_TABLE_ROWS + 2  # the top rows, "N others", the total
        shown = [cells(table, i) for i in range(MAX_TABLE_ROWS)]
        assert [row[0] for row in shown] == [m[0] for m in order[:MAX_TABLE_ROWS]]
        others, total = cells(table, MAX_TABLE_ROWS), cells(table, MAX_TABLE_ROWS + 1)
    rest = order[MAX_TABLE_ROWS:]
    assert others[0] == f"{len(rest):,} others"
    assert others[1] == format_usd(sum(m[1] for m in rest))  # exactly the rest: nothing lost, nothing twice
    assert others[3] == f"{sum(m[2] for m in rest):,}"
    assert total[1] == format_usd(sum(m[1] for m in expected.values()))


def model_figures(i: int) -> tuple[int, int]:
    """(cost, requests) of model i: the sums of its members' lines."""
    lines = [m for m in range(MEMBERS) if m % MODELS == i]
    return sum(member_cost(m) for m in lines), sum(member_requests(m) for m in lines)


# s steps from usage value to billed (Cursor's plan covers part of the cost) to requests
@pytest.mark.parametrize("presses", [0, 2], ids=["by cost", "by requests"])
async def test_the_models_tab_holds_the_top_rows_and_the_rest_summed_exactly(grafient_home, presses: int) -> None:
    seed()
    expected = [(f"model-{i:03d}", *model_figures(i)) for i in range(MODELS)]
    order = sorted(expected, key=lambda m: (-m[1 if presses == 0 else 2], -m[1], m[0]))
    app = NoSync(Settings.from_env(), now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("enter", "1")
        await settle(app, pilot)
        for _ in range(presses):
            await pilot.press("s")
            await settle(app, pilot)
        table = app.screen.query_one("#models", DataTable)
        assert table.row_count == MAX_TABLE_ROWS + 2  # the top rows, "N others", the total
        shown = [cells(table, i)[0] for i in range(MAX_TABLE_ROWS)]
        others, total = cells(table, MAX_TABLE_ROWS), cells(table, MAX_TABLE_ROWS + 1)
        requests = [str(key.value) for key in table.columns].index("requests")
    assert shown == [m[0] for m in order[:MAX_TABLE_ROWS]]
    rest = order[MAX_TABLE_ROWS:]
    assert others[0] == f"{len(rest):,} others"
    assert others[1] == format_usd(sum(m[1] for m in rest))
    assert others[requests] == f"{sum(m[2] for m in rest):,}"
    assert total[1] == format_usd(sum(m[1] for m in expected))


def rows_held(value: object, seen: set[int] | None = None) -> int:
    """How many member and model rows `value` holds, however deep."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, MemberFigures | ModelFigures):
        return 1
    if isinstance(value, Mapping):
        return sum(rows_held(v, seen) for v in value.values())
    if isinstance(value, tuple | list):
        return sum(rows_held(v, seen) for v in value)
    if dataclasses.is_dataclass(value):
        return sum(rows_held(getattr(value, f.name), seen) for f in dataclasses.fields(value))
    return 0


def test_what_the_screen_gets_holds_only_the_rows_it_draws(grafient_home) -> None:
    """The thread hands the event loop a few hundred rows per order, never the integration's every
    member and model (450 and 240 here; 150,000 is allowed)."""
    iid = seed()
    settings = Settings.from_env()
    db = Database(settings)
    try:
        data = load_detail(db, settings, iid, 30, NOW.date())
    finally:
        db.dispose()
    orders = len(data.member_views) + len(data.model_views)
    assert orders == len(MEMBER_SORTS) + len(MODEL_ORDERS)  # every order the tabs offer, built before the screen asks
    per_order = MAX_TABLE_ROWS + 2  # the top rows, the rest summed, the total (a model table's)
    assert rows_held(data) <= orders * per_order
    assert all(len(view.rows) == MAX_TABLE_ROWS for view in (*data.member_views.values(), *data.model_views.values()))


async def test_someone_near_their_limit_is_listed_once_whatever_the_case_of_their_name(grafient_home) -> None:
    """A member whose limit the provider names in another case than their spend ("M0001@X.IO") is the
    same member: their row shows the limit, and they are not listed again as near it without spend."""
    iid = seed()
    settings = Settings.from_env()
    db = Database(settings)
    with db.session(write=True) as session:
        for member, used in (("M0001@X.IO", 95), ("idle@x.io", 90), ("calm@x.io", 10)):
            session.add(
                MemberCycleSpend(
                    integration_id=iid,
                    member=member,
                    spend_micro=used * 1_000_000,
                    on_demand_micro=used * 1_000_000,
                    limit_micro=100 * 1_000_000,
                    synced_at=NOW,
                )
            )
    db.dispose()
    app = NoSync(Settings.from_env(), now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("enter", "3", "s")  # by name: m0001 among the first rows
        await settle(app, pilot)
        table = app.screen.query_one("#members", DataTable)
        rows = [cells(table, i) for i in range(table.row_count)]
    by_name = {row[0]: row for row in rows}
    assert by_name["m0001@x.io"][-1].startswith("⚠")  # its limit, on its row
    assert [row[0] for row in rows].count("M0001@X.IO") == 0  # not again as near it without spend
    assert "idle@x.io" in by_name and "calm@x.io" not in by_name  # near it without spend: listed


async def test_the_app_leaves_nothing_frozen_for_the_collector(grafient_home) -> None:
    """The app moves what it built at start-up out of the collector's reach (shorter pauses); once it
    has gone, that is collectable again: a process that runs many apps (the tests) does not keep them."""
    seed()
    before = gc.get_freeze_count()
    app = NoSync(Settings.from_env(), now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        assert gc.get_freeze_count() > before
    assert gc.get_freeze_count() == 0
