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
from grafient_tui.store.sums import DaySums, MemberSums, ModelSums, WindowSums
from grafient_tui.store.sync_writes import write_window
from grafient_tui.store.vault import Vault
from tests.factories import day_sums, model_sums

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
    totals = WindowSums()
    cost = sum(models.values())
    totals.days[day] = day_sums(cost, on_demand=0, requests=len(models))
    for model, model_cost in models.items():
        totals.models[(day, model)] = model_sums(model_cost, requests=1)
    totals.members[(day, "a@x.io")] = MemberSums(cost_micro=cost, requests=len(models))
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
    # nothing synced: the total and requests are unknown, never $0 (issue 21)
    assert (summary.total_micro, summary.requests, summary.top_model) == (None, None, None)


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


def test_an_integration_reads_back_its_account_settings_and_how_its_dollars_are_made(db: Database) -> None:
    """IntegrationInfo carries the account settings (read back untrusted: a damaged row reads as None)
    and the cost basis (its provider's kind, the note its last sync stored); days and models carry
    ElevenLabs' credits and characters, and keep unknown tokens unknown."""
    import json

    from sqlmodel import update

    from grafient_tui.store.models import Integration

    vault = Vault(db.settings)
    octo = add_integration(
        db, vault, label="Octo", provider="copilot", api_key=Secret("ghp_" + "k" * 32 + "Wx9Q"), account={"org": "acme"}
    )
    voice = add_integration(db, vault, label="Voice", provider="elevenlabs", api_key=Secret("sk_" + "7d3b9e15" * 6))
    assert octo.id is not None and voice.id is not None
    totals = WindowSums()
    totals.days[TODAY] = DaySums(cost_micro=9_900_000, credits_micro=500_000_000_000, characters=1200)
    totals.models[(TODAY, "eleven_v3")] = ModelSums(
        cost_micro=9_900_000, credits_micro=500_000_000_000, characters=1200
    )
    note = "estimated from credits at the Pro plan's $99 / 500,000 credits"
    with db.session(write=True) as session:
        session.exec(
            update(Integration).where(Integration.id == voice.id).values(cost_basis=json.dumps({"note": note}))  # type: ignore[arg-type]
        )
    write_window(db, voice.id, TODAY, TODAY, totals, NOW)
    with open_reader(db.settings) as source:
        assert source is not None  # at this version's schema
        by_label = {i.label: i for i in integrations(source)}
        assert by_label["Octo"].account == {"org": "acme"} and not by_label["Octo"].basis.estimated
        assert by_label["Voice"].account == {} and by_label["Voice"].basis.estimated
        assert by_label["Voice"].basis.note == note and by_label["Voice"].basis.kind == "estimate"
        [day] = daily_costs(source, voice.id, TODAY, TODAY)
        assert (day.credits_micro, day.characters, day.input_tokens, day.requests) == (
            500_000_000_000,
            1200,
            None,
            None,
        )
        [model] = model_breakdown(source, voice.id, TODAY, TODAY)
        assert (model.credits_micro, model.characters, model.output_tokens) == (500_000_000_000, 1200, None)
        assert models_by_day(source, voice.id, TODAY, TODAY)[TODAY] == [model]
    with db.session(write=True) as session:
        session.exec(update(Integration).where(Integration.id == octo.id).values(account='{"org": 7}'))  # type: ignore[arg-type]
    assert next(i for i in integrations(db) if i.label == "Octo").account is None  # damaged: shown as unreadable


def test_a_models_count_over_days_skips_days_that_do_not_report_it_and_not_days_that_lost_it(db: Database) -> None:
    """Written by the engine from cost lines: o3 counts its tokens on day 1; on day 2 its line reports
    none (a Cursor event without tokenUsage) while the day's other model does; on day 3 its line's
    tokens are unknown (a usage report that failed), so that day's are too. Every read of a model's
    figures over days (the report's and the detail's, the all-integrations Models view's) agrees:
    day 2 adds nothing, day 3 makes the sum unknown, a model no line of which reports it is not
    reported (its flag False: neither unknown nor a part of the total)."""
    from grafient_tui.providers.base import CostLine
    from grafient_tui.store.queries import models_across
    from grafient_tui.store.top_rows import model_pages, model_totals
    from grafient_tui.sync.totals import WindowTotals

    iid = integration(db, "Engineering", "c")
    d1, d2, d3 = TODAY - timedelta(days=3), TODAY - timedelta(days=2), TODAY - timedelta(days=1)
    silent = {"input_tokens": None, "output_tokens": None, "cache_read_tokens": None, "cache_write_tokens": None}
    totals = WindowTotals(d1, d3)
    totals.add(
        [
            CostLine(d1, "o3", "a@x.io", True, 10, 1, input_tokens=5, output_tokens=1),
            CostLine(d2, "o3", "a@x.io", True, 10, 1, reports_tokens=False, **silent),
            CostLine(d2, "gpt-5", "a@x.io", True, 10, 1, input_tokens=7, output_tokens=2),
            CostLine(d2, "request-model", "a@x.io", True, 10, 1, reports_tokens=False, **silent),
            CostLine(d3, "o3", "a@x.io", True, 10, 1, **silent),
        ]
    )
    write_window(db, iid, d1, d3, totals, NOW)

    def read(until: date) -> dict[str, tuple[int | None, int | None, int | None]]:
        breakdown = {
            m.model: (m.requests, m.input_tokens, m.output_tokens) for m in model_breakdown(db, iid, d1, until)
        }
        across = {m.key: (m.requests, m.input_tokens, m.output_tokens) for m in models_across(db, iid, d1, until)}
        pages = model_pages(db, iid, d1, until, limit=10)
        paged = {m.model: (m.requests, m.input_tokens, m.output_tokens) for rows in pages.values() for m in rows}
        every = model_totals(db, iid, d1, until)
        assert breakdown == paged and set(across.values()) == set(breakdown.values())
        assert every.known["input_tokens"] == sum(t[1] or 0 for t in breakdown.values())
        silent = {m.model for m in model_breakdown(db, iid, d1, until) if not m.reports_tokens}
        assert silent == {m.model for rows in pages.values() for m in rows if not m.reports_tokens}
        assert silent == {m.key for m in models_across(db, iid, d1, until) if not m.reports_tokens}
        assert every.unknown["input_tokens"] == sum(t[1] is None for n, t in breakdown.items() if n not in silent)
        assert every.unreported["reports_tokens"] == len(silent) == 1
        assert all(breakdown[n][1:] == (None, None) for n in silent)
        return breakdown

    assert read(d2) == {"o3": (2, 5, 1), "gpt-5": (1, 7, 2), "request-model": (1, None, None)}
    assert read(d3)["o3"] == (3, None, None)
