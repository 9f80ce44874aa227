"""The store's reads into the read model (store/queries.py, store/read.py): the same SQL on SQLite and
PostgreSQL, text ordered by Python rather than by a database's collation, one read transaction per
Reader, and the report's short cuts giving what the long way gives.

Days are stored through the sync engine's own writer (`write_window`), as a sync leaves them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from grafient_tui.config import Settings
from grafient_tui.figures import DayFigures, ModelFigures
from grafient_tui.report import ReportRange, build_report, render_csv, render_table
from grafient_tui.secret import Secret
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import add_integration
from grafient_tui.store.queries import (
    daily_costs,
    integrations,
    model_breakdown,
    model_costs,
    models_by_day,
    period_summary,
    summed,
)
from grafient_tui.store.read import marks, open_reader
from grafient_tui.store.vault import Vault
from grafient_tui.sync.engine import WindowTotals, write_window

TODAY = date(2026, 11, 24)
NOW = datetime.combine(TODAY, time(12), UTC)


@pytest.fixture
def db(grafient_home):
    settings = Settings.from_env()
    settings.ensure_dirs()
    database = Database(settings)
    yield database
    database.dispose()


def integration(db: Database, label: str, key_seed: str) -> int:
    row = add_integration(
        db, Vault(db.settings), label=label, provider="cursor", api_key=Secret("key_" + key_seed * 64)
    )
    assert row.id is not None
    return row.id


def put_models(db: Database, iid: int, day: date, models: dict[str, int]) -> None:
    totals = WindowTotals()
    cost = sum(models.values())
    totals.days[day] = [cost, 0, cost, len(models), 0, 0, 0, 0, 0, None, None]
    for model, model_cost in models.items():
        totals.models[(day, model)] = [model_cost, 1, 0, 0, 0, 0, None]
    totals.members[(day, "a@x.io")] = [cost, len(models)]
    write_window(db, iid, day, day, totals, NOW)


def test_a_days_top_model_is_the_dearest_and_of_equal_ones_the_first_by_name(db: Database) -> None:
    iid = integration(db, "Eng", "a")
    yesterday = TODAY - timedelta(days=1)
    # "Zeta" before "alpha" by code point, after it in a case-insensitive collation: Python decides
    put_models(db, iid, yesterday, {"alpha": 5, "Zeta": 5, "beta": 4})
    put_models(db, iid, TODAY, {"gpt-5": 1, "o3": 9})
    days = daily_costs(db, iid, yesterday - timedelta(days=1), TODAY)
    assert [(d.synced, d.top_model) for d in days] == [(False, None), (True, "Zeta"), (True, "o3")]
    per_day = models_by_day(db, iid, yesterday, TODAY)
    assert [m.model for m in per_day[yesterday]] == ["Zeta", "alpha", "beta"]
    assert all(per_day[d.day][0].model == d.top_model for d in days if d.synced)


def test_a_summary_from_given_model_costs_is_the_summary_read_whole(db: Database) -> None:
    eng, ops = integration(db, "Eng", "a"), integration(db, "Ops", "b")
    put_models(db, eng, TODAY - timedelta(days=2), {"gpt-5": 7, "o3": 3})
    put_models(db, ops, TODAY - timedelta(days=1), {"o3": 5, "sonnet": 6})
    since = TODAY - timedelta(days=6)
    costs = [model_costs(db, iid, since, TODAY) for iid in (eng, ops)]
    assert summed(costs) == {"gpt-5": 7, "o3": 8, "sonnet": 6}
    assert summed(costs) == model_costs(db, [eng, ops], since, TODAY)
    whole = period_summary(db, [eng, ops], days=7, until=TODAY)
    assert period_summary(db, [eng, ops], days=7, until=TODAY, costs=summed(costs)) == whole
    assert (whole.top_model, whole.top_model_micro) == ("o3", 8)
    assert [(m.model, m.cost_micro) for m in model_breakdown(db, [eng, ops], since, TODAY)] == [
        ("o3", 8),
        ("gpt-5", 7),
        ("sonnet", 6),
    ]


def test_no_integrations_read_as_nothing(db: Database) -> None:
    assert marks(0) == "NULL" and marks(3) == "?, ?, ?"
    assert model_breakdown(db, [], TODAY, TODAY) == [] and model_costs(db, [], TODAY, TODAY) == {}
    summary = period_summary(db, [], days=7, until=TODAY)
    assert (summary.total_micro, summary.requests, summary.top_model) == (0, 0, None)


def test_the_report_without_each_days_models_names_the_same_top_model(db: Database) -> None:
    iid = integration(db, "Eng", "a")
    put_models(db, iid, TODAY - timedelta(days=1), {"alpha": 5, "Zeta": 5})
    span = ReportRange(TODAY - timedelta(days=2), TODAY)
    infos = integrations(db)
    whole = build_report(db, infos, span, "day", TODAY)
    short = build_report(db, infos, span, "day", TODAY, day_models=False)
    assert "models" not in short["integrations"][0]["days"][1]
    assert whole["integrations"][0]["days"][1]["models"][0]["model"] == "Zeta"
    assert render_csv(short) == render_csv(whole) and render_table(short) == render_table(whole)
    assert "Zeta" in render_csv(short)


def test_a_reader_is_one_read_transaction(db: Database) -> None:
    """Figures read through one Reader come from one state of the store, even while a sync writes."""
    iid = integration(db, "Eng", "a")
    put_models(db, iid, TODAY, {"gpt-5": 1})
    with db.reader() as read:
        before = daily_costs(read, iid, TODAY, TODAY)
        put_models(db, iid, TODAY, {"gpt-5": 2})  # committed by another connection meanwhile
        assert daily_costs(read, iid, TODAY, TODAY) == before
    assert daily_costs(db, iid, TODAY, TODAY)[0].cost_micro == 2


def test_a_reader_of_its_own_reads_what_the_orm_wrote(db: Database) -> None:
    iid = integration(db, "Eng", "a")
    put_models(db, iid, TODAY, {"gpt-5": 3})
    with open_reader(db.settings) as own:
        assert own is not None  # at this version's schema
        assert daily_costs(own, iid, TODAY, TODAY) == daily_costs(db, iid, TODAY, TODAY)
        assert [i.label for i in integrations(own)] == ["Eng"]
        assert daily_costs(own, iid, TODAY, TODAY)[0] == DayFigures(
            day=TODAY,
            synced=True,
            complete=False,
            cost_micro=3,
            on_demand_micro=0,
            included_micro=3,
            requests=1,
            input_tokens=0,
            output_tokens=0,
            cache_read_tokens=0,
            cache_write_tokens=0,
            top_model="gpt-5",
        )
        assert model_breakdown(own, iid, TODAY, TODAY) == [
            ModelFigures(model="gpt-5", cost_micro=3, requests=1, input_tokens=0, output_tokens=0,
                         cache_read_tokens=0, cache_write_tokens=0, reasoning_tokens=None)
        ]  # fmt: skip


@pytest.mark.sqlite_only
def test_no_reader_of_its_own_before_the_store_exists(grafient_home) -> None:
    settings = Settings.from_env()
    with open_reader(settings) as own:
        assert own is None  # the store's open (Database) creates and sets it up
    assert settings.database_file is not None and not settings.database_file.exists()
