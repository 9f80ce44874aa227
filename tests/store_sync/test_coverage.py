"""Every figure says what it covers: coverage, partial today, averages and the change.

Days are stored through the sync engine's own writer (`write_window`), so the rows are exactly
what a sync leaves behind; the expected figures are worked out by hand from those rows.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest

from grafient_tui.config import Settings
from grafient_tui.secret import Secret
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import add_integration
from grafient_tui.store.queries import period_summary
from grafient_tui.store.sums import MemberSums, ModelSums, WindowSums
from grafient_tui.store.sync_writes import write_window
from grafient_tui.store.vault import Vault
from tests.factories import day_sums, model_sums
from tests.helpers import run_cli

TODAY = date(2026, 11, 24)
NOW = datetime.combine(TODAY, time(0, 23), UTC)  # 00:23 UTC: today has barely begun
DOLLAR = 100_000_000  # micro-cents


@pytest.fixture
def store(grafient_home):
    settings = Settings.from_env()
    settings.ensure_dirs()
    return Database(settings), Vault(settings)


def integration(store, label: str, key_seed: str = "a") -> int:
    db, vault = store
    row = add_integration(db, vault, label=label, provider="cursor", api_key=Secret("key_" + key_seed * 64))
    return int(row.id)


def put(store, iid: int, costs: dict[date, int], *, on_demand_share: float = 0.5, synced_at: datetime = NOW) -> None:
    """Store each day as a sync at `synced_at` would: a day before that day's date is complete."""
    db, _ = store
    for day, cost in costs.items():
        totals = WindowSums()
        on_demand = int(cost * on_demand_share)
        totals.days[day] = day_sums(cost, on_demand=on_demand, requests=10)
        totals.models[(day, "gpt-5")] = model_sums(cost, requests=10)
        totals.members[(day, "a@x.io")] = MemberSums(cost_micro=cost, requests=10)
        write_window(db, iid, day, day, totals, synced_at)


def days_back(first: int, last: int) -> list[date]:
    """TODAY - first .. TODAY - last, oldest first."""
    return [TODAY - timedelta(days=n) for n in range(first, last - 1, -1)]


def test_a_free_plan_history_gives_no_change_and_says_why(store) -> None:
    iid = integration(store, "Eng")
    put(store, iid, dict.fromkeys(days_back(30, 0), 30 * DOLLAR))  # 30 finished days and today so far
    s = period_summary(store[0], iid, days=30, until=TODAY, today=TODAY)
    assert (s.days, s.synced_days, s.complete_days, s.today_partial) == (30, 30, 29, True)
    # the 29 finished days are compared with the same 29 days a period earlier (today-59 .. today-31):
    # the one older synced day (today-30) is the day a period before today, which is left out
    assert s.change_pct is None
    assert s.change_note == "previous period 0/29 days synced"
    assert s.daily_average_micro == 30 * DOLLAR  # the partial today is not averaged


def test_the_average_divides_by_complete_synced_days_not_the_period(store) -> None:
    iid = integration(store, "Eng")
    costs = {d: (5 + i % 3) * DOLLAR for i, d in enumerate(days_back(30, 1))}  # 30 finished days
    costs[TODAY] = 1 * DOLLAR
    put(store, iid, costs)
    s = period_summary(store[0], iid, days=90, until=TODAY, today=TODAY)
    assert (s.synced_days, s.complete_days) == (31, 30)
    assert s.coverage() == "31 of 90 days synced"
    finished = sum(c for d, c in costs.items() if d < TODAY)
    assert s.daily_average_micro == finished // 30  # $6.00, not $2.07 (the 90-day divisor)
    assert s.total_micro == finished + 1 * DOLLAR
    assert s.change_note == "this period 30/89 days synced"


def test_a_partial_today_never_tilts_the_change(store) -> None:
    """A 7-day period at 00:23 UTC: the same spend every day must read as no change."""
    iid = integration(store, "Eng")
    costs = dict.fromkeys(days_back(13, 1), 12 * DOLLAR)
    costs[TODAY] = DOLLAR // 10  # 23 minutes of spend
    put(store, iid, costs)
    s = period_summary(store[0], iid, days=7, until=TODAY, today=TODAY)
    assert s.change_pct == 0.0 and s.change_note is None
    assert s.total_micro == 6 * 12 * DOLLAR + DOLLAR // 10


def test_the_change_compares_finished_days_with_the_same_days_one_period_earlier(store) -> None:
    iid = integration(store, "Eng")
    costs = dict.fromkeys(days_back(13, 7), 10 * DOLLAR)  # the previous week
    costs.update(dict.fromkeys(days_back(6, 1), 15 * DOLLAR))  # this week's finished days
    costs[TODAY] = 99 * DOLLAR
    put(store, iid, costs)
    s = period_summary(store[0], iid, days=7, until=TODAY, today=TODAY)
    # 6 x $15 against the 6 days one week earlier (6 x $10), today left out
    assert s.change_pct == pytest.approx(50.0)


def test_a_period_of_finished_days_compares_whole_periods(store) -> None:
    iid = integration(store, "Eng")
    put(store, iid, dict.fromkeys(days_back(20, 11), 10 * DOLLAR))
    put(store, iid, dict.fromkeys(days_back(10, 1), 8 * DOLLAR))
    s = period_summary(store[0], iid, days=10, until=TODAY - timedelta(days=1), today=TODAY)
    assert (s.synced_days, s.complete_days, s.today_partial) == (10, 10, False)
    assert s.change_pct == pytest.approx(-20.0)


def test_a_day_synced_while_it_was_running_is_not_final(store) -> None:
    iid = integration(store, "Eng")
    put(store, iid, dict.fromkeys(days_back(13, 1), DOLLAR))
    yesterday = TODAY - timedelta(days=1)
    # yesterday synced at noon yesterday: stored, but not over when it was fetched
    put(store, iid, {yesterday: DOLLAR}, synced_at=datetime.combine(yesterday, time(12), UTC))
    s = period_summary(store[0], iid, days=7, until=TODAY, today=TODAY)
    assert s.change_pct is None and s.change_note == "this period 5/6 days final"
    assert s.complete_days == 5 and s.daily_average_micro == DOLLAR


def test_a_period_with_only_today_has_no_change(store) -> None:
    iid = integration(store, "Eng")
    put(store, iid, {TODAY: DOLLAR})
    s = period_summary(store[0], iid, days=1, until=TODAY, today=TODAY)
    assert s.change_note == "no finished day in this period yet" and s.daily_average_micro is None


def test_no_spend_before_means_no_percentage(store) -> None:
    iid = integration(store, "Eng")
    put(store, iid, dict.fromkeys(days_back(13, 7), 0))
    put(store, iid, dict.fromkeys(days_back(6, 0), DOLLAR))
    s = period_summary(store[0], iid, days=7, until=TODAY, today=TODAY)
    assert s.change_pct is None and s.change_note == "no spend in the previous period"


def test_teams_together_are_only_as_covered_as_the_least_covered_team(store) -> None:
    eng, data = integration(store, "Eng", "a"), integration(store, "Data", "b")
    put(store, eng, dict.fromkeys(days_back(29, 0), 2 * DOLLAR))
    put(store, data, dict.fromkeys(days_back(9, 0), DOLLAR))
    s = period_summary(store[0], [eng, data], days=30, until=TODAY, today=TODAY)
    assert (s.synced_days, s.complete_days) == (10, 9)
    assert s.total_micro == 30 * 2 * DOLLAR + 10 * DOLLAR
    # the average is over the days both teams have complete: $3 a day
    assert s.daily_average_micro == 3 * DOLLAR


def test_on_demand_and_included_add_up_to_the_total(store) -> None:
    iid = integration(store, "Eng")
    put(store, iid, dict.fromkeys(days_back(6, 0), 7 * DOLLAR + 3), on_demand_share=0.25)
    s = period_summary(store[0], iid, days=7, until=TODAY, today=TODAY)
    assert s.on_demand_micro + s.included_micro == s.total_micro
    assert s.on_demand_micro == 7 * int((7 * DOLLAR + 3) * 0.25)


def test_report_json_summary_per_integration_and_for_all(store, capsys, monkeypatch) -> None:
    monkeypatch.setenv("GRAFIENT_NOW", NOW.isoformat())
    eng, data = integration(store, "Eng", "a"), integration(store, "Data", "b")
    put(store, eng, dict.fromkeys(days_back(29, 0), 35 * DOLLAR + DOLLAR // 10), on_demand_share=0.6)
    put(store, data, {TODAY - timedelta(days=40): DOLLAR})
    result = run_cli(capsys, monkeypatch, "report", "--days", "30", "--format", "json")
    assert result.code == 0
    report = json.loads(result.out)
    keys = {
        "days",
        "synced_days",
        "complete_days",
        "total_usd",
        "on_demand_usd",
        "included_usd",
        "requests",
        "requests_partial",
        "daily_average_usd",
        "change_pct",
        "change_note",
        # issue 21: the two amounts, exact, whose split it is, and what the integrations can have
        "billed",
        "usage_value",
        "on_demand_of",
        "expected_days",
        "limits",
        "forecast_usd",
        "unsynced",  # the integrations with no synced day in the period, left out of every amount
        # what the average and the forecast are of (keys added beside, never renamed: scripts read them)
        "daily_average_basis",
        "forecast_basis",
    }
    eng_summary = report["integrations"][0]["summary"]
    # The summary of all also says whether it includes an estimate, and which (cost_basis, cost_note).
    assert set(eng_summary) == keys and set(report["summary"]) == keys | {"cost_basis", "cost_note"}
    assert (report["summary"]["cost_basis"], report["summary"]["cost_note"]) == ("billed", None)
    assert eng_summary["daily_average_basis"] == eng_summary["forecast_basis"] == "usage_value"
    assert (eng_summary["days"], eng_summary["synced_days"], eng_summary["complete_days"]) == (30, 30, 29)
    assert eng_summary["total_usd"] == pytest.approx(30 * 35.1)
    assert eng_summary["on_demand_usd"] + eng_summary["included_usd"] == pytest.approx(eng_summary["total_usd"])
    assert eng_summary["requests"] == 300
    assert eng_summary["daily_average_usd"] == 35.1
    assert eng_summary["change_pct"] is None
    # a home on the free plan: the reason names the plan that keeps too little
    assert eng_summary["change_note"] == "previous period 0/29 days synced: the free plan keeps 30 days"
    data_summary = report["integrations"][1]["summary"]
    assert data_summary["synced_days"] == 0 and data_summary["daily_average_usd"] is None
    # all together: no day is synced for both teams
    assert (report["summary"]["synced_days"], report["summary"]["daily_average_usd"]) == (0, None)
    assert report["summary"]["total_usd"] == pytest.approx(eng_summary["total_usd"])
    table = run_cli(capsys, monkeypatch, "report", "Eng", "--days", "30").out
    assert "Coverage: 30 of 30 days synced, 29 complete, today so far included" in table
    assert "Daily average (usage value): $35.10 over 29 complete days" in table
    assert (
        "vs previous: n/a (previous period 0/29 days synced: the free plan keeps 30 days; "
        "`grafient plan` shows what each plan keeps)" in table
    )
    assert "on-demand $631.80" in table
    # billed is Cursor's on-demand part, the usage value all of it; exact in JSON
    assert eng_summary["billed"] == "631.80000000" and eng_summary["usage_value"] == "1053.00000000"
    # Data has no synced day in the period: it adds nothing to the split (it was named with a $0 part), its
    # own amounts are unknown, and the summary of all names it as left out
    assert eng_summary["on_demand_of"] == ["Eng"] and report["summary"]["on_demand_of"] == ["Eng"]
    assert report["summary"]["unsynced"] == ["Data"] and data_summary["total_usd"] is None
    assert "Billed $631.80 · usage value $1,053.00 (Eng: on-demand $631.80 + included $421.20)" in table


def test_a_past_day_not_final_is_not_called_today(store, capsys, monkeypatch) -> None:
    monkeypatch.setenv("GRAFIENT_NOW", NOW.isoformat())
    iid = integration(store, "Eng")
    two_days_ago = TODAY - timedelta(days=2)
    put(store, iid, {two_days_ago: DOLLAR}, synced_at=datetime.combine(two_days_ago, time(12), UTC))
    table = run_cli(
        capsys,
        monkeypatch,
        "report",
        "--since",
        (TODAY - timedelta(days=4)).isoformat(),
        "--until",
        two_days_ago.isoformat(),
    ).out
    assert f"{two_days_ago.isoformat()}" in table and "(not final)" in table and "today so far" not in table


def test_today_is_marked_when_any_team_has_it(store) -> None:
    eng, data = integration(store, "Eng", "a"), integration(store, "Data", "b")
    put(store, eng, dict.fromkeys(days_back(6, 0), DOLLAR))
    put(store, data, dict.fromkeys(days_back(6, 1), DOLLAR))  # Data has not synced today yet
    s = period_summary(store[0], [eng, data], days=7, until=TODAY, today=TODAY)
    assert s.today_partial and s.total_micro == 13 * DOLLAR


# --------------------------------------------------------------------------- mixed providers (issue 21)


def provider_integration(store, label: str, provider: str, key_seed: str) -> int:
    db, vault = store
    row = add_integration(db, vault, label=label, provider=provider, api_key=Secret("key_" + key_seed * 64))
    return int(row.id)


def put_billed(store, iid: int, costs: dict[date, int], *, synced_at: datetime = NOW) -> None:
    """Days of a provider that bills everything per use: no on-demand / included split."""
    db, _ = store
    for day, cost in costs.items():
        totals = WindowSums()
        totals.days[day] = day_sums(cost, on_demand=None, requests=10)
        totals.models[(day, "anthropic/claude-sonnet-4.5")] = model_sums(cost, requests=10)
        totals.members[(day, "Default")] = MemberSums(cost_micro=cost, requests=10)
        write_window(db, iid, day, day, totals, synced_at)


def test_a_30_day_provider_is_left_out_of_the_change_and_named(store) -> None:
    """Cursor has 180 days; OpenRouter keeps 30 (and never today): the 90-day change compares Cursor
    alone and says so, the coverage is full, and the average adds each one's own average."""
    eng = integration(store, "Eng")
    put(store, eng, dict.fromkeys(days_back(90, 46), 10 * DOLLAR))
    put(store, eng, dict.fromkeys(days_back(45, 1), 11 * DOLLAR))
    put(store, eng, {TODAY: DOLLAR})
    alone = period_summary(store[0], eng, days=45, until=TODAY, today=TODAY)
    assert alone.change_pct == pytest.approx(10.0) and alone.change_note is None
    router = provider_integration(store, "Router", "openrouter", "r")
    put_billed(store, router, dict.fromkeys(days_back(30, 1), 2 * DOLLAR))
    s = period_summary(store[0], [eng, router], days=45, until=TODAY, today=TODAY)
    # the n/a the 30-day provider used to bring is gone: Cursor's change, OpenRouter named
    assert s.change_pct == pytest.approx(10.0)
    assert s.change_note == "Router left out: OpenRouter keeps 30 days"
    # every day either has what it can have: Eng all 45, Router its 30 finished days, today not reported
    assert (s.days, s.synced_days, s.expected_days, s.coverage()) == (45, 45, 45, None)
    assert s.limits == ("OpenRouter keeps 30 days", "Router: today not reported yet")
    # $11 a day (Eng's 44 complete days) + $2 a day (Router's 30), not the average of the last 30 days
    assert s.daily_average_micro == 13 * DOLLAR


def test_a_provider_that_reports_completed_days_never_counts_today_as_synced(store) -> None:
    router = provider_integration(store, "Router", "openrouter", "r")
    put_billed(store, router, dict.fromkeys(days_back(2, 1), DOLLAR))  # two finished days, no today
    s = period_summary(store[0], router, days=3, until=TODAY, today=TODAY)
    assert (s.days, s.synced_days, s.expected_days) == (3, 2, 2)
    assert s.fully_synced and s.coverage() is None
    assert s.limits == ("today not reported yet",)
    assert not s.today_partial


def test_a_provider_left_out_alone_gives_no_change_and_says_why(store) -> None:
    router = provider_integration(store, "OpenRouter", "openrouter", "r")
    put_billed(store, router, dict.fromkeys(days_back(30, 1), DOLLAR))
    s = period_summary(store[0], router, days=30, until=TODAY, today=TODAY)
    assert s.change_pct is None and s.change_note == "OpenRouter left out: keeps 30 days"


def test_the_plan_that_keeps_too_little_is_named_in_the_reason(store) -> None:
    eng = integration(store, "Eng")
    put(store, eng, dict.fromkeys(days_back(30, 0), DOLLAR))
    s = period_summary(store[0], eng, days=30, until=TODAY, today=TODAY, plan="free")
    assert s.change_pct is None and s.plan_limited
    assert s.change_note == "previous period 0/29 days synced: the free plan keeps 30 days"
    # on pro the same days are simply not synced yet: no plan to blame
    s = period_summary(store[0], eng, days=30, until=TODAY, today=TODAY, plan="pro")
    assert not s.plan_limited and s.change_note == "previous period 0/29 days synced"


def test_billed_and_usage_value_follow_each_provider_rule(store) -> None:
    """Billed: Cursor's on-demand part plus everything of a provider that bills it all; the usage value
    adds what Cursor's plan covers. The on-demand split is Cursor's, and says so."""
    eng = integration(store, "Eng")
    put(store, eng, dict.fromkeys(days_back(6, 0), 8 * DOLLAR), on_demand_share=0.25)
    router = provider_integration(store, "Router", "openrouter", "r")
    put_billed(store, router, dict.fromkeys(days_back(6, 1), 3 * DOLLAR))
    s = period_summary(store[0], [eng, router], days=7, until=TODAY, today=TODAY)
    assert s.usage_value_micro == s.total_micro == 7 * 8 * DOLLAR + 6 * 3 * DOLLAR
    assert s.billed_micro == 7 * 2 * DOLLAR + 6 * 3 * DOLLAR
    assert s.split_labels == ("Eng",)
    assert (s.on_demand_micro, s.included_micro) == (7 * 2 * DOLLAR, 7 * 6 * DOLLAR)
    alone = period_summary(store[0], router, days=7, until=TODAY, today=TODAY)
    assert alone.billed_micro == alone.total_micro and alone.on_demand_micro is None and alone.split_labels == ()


def put_model(
    store, iid: int, day: date, model: str, cost: int, *, on_demand: int | None = None, per_model: bool = False
) -> None:
    """One day with one model of a given name (on_demand None: no split, a provider billing it all).
    The model's own on-demand part is stored with `per_model`, as a sync does since migration 0012;
    without it the row is as one written before (NULL: unknown)."""
    db, _ = store
    totals = WindowSums()
    requests = 10 if on_demand is not None else None
    totals.days[day] = day_sums(cost, on_demand=on_demand, requests=requests)
    totals.models[(day, model)] = ModelSums(
        cost_micro=cost,
        requests=requests,
        input_tokens=5,
        output_tokens=5,
        cache_read_tokens=0,
        cache_write_tokens=0,
        on_demand_micro=on_demand if per_model else None,
    )
    totals.members[(day, "Default")] = MemberSums(cost_micro=cost)
    write_window(db, iid, day, day, totals, NOW)


def test_report_mixed_providers_models_by_key_unknowns_and_parts_that_add_up(store, capsys, monkeypatch) -> None:
    monkeypatch.setenv("GRAFIENT_NOW", NOW.isoformat())
    eng = integration(store, "Eng")
    claude = provider_integration(store, "Claude", "anthropic", "c")
    router = provider_integration(store, "Router", "openrouter", "r")
    yesterday = TODAY - timedelta(days=1)
    # one model under three names, each cost ending in a third of a cent so that rounding each alone drifts
    put_model(store, eng, yesterday, "claude-4.5-sonnet", 100 * DOLLAR + 1_333_333, on_demand=40 * DOLLAR)
    put_model(store, claude, yesterday, "claude-sonnet-4-5-20250929", 200 * DOLLAR + 1_333_333)
    put_model(store, router, yesterday, "anthropic/claude-sonnet-4.5", 300 * DOLLAR + 1_333_333)
    put_model(store, claude, TODAY, "claude-opus-4-1", 50 * DOLLAR)

    report = json.loads(run_cli(capsys, monkeypatch, "report", "--days", "2", "--by", "model", "--format", "json").out)
    sonnet, opus = report["models"]
    assert sonnet["model"] == "claude-sonnet-4.5" and opus["model"] == "claude-opus-4.1"
    assert sonnet["names"] == ["anthropic/claude-sonnet-4.5", "claude-4.5-sonnet", "claude-sonnet-4-5-20250929"]
    assert sonnet["providers"] == ["anthropic", "cursor", "openrouter"]
    assert sonnet["requests"] is None  # Anthropic gives no count: unknown, never a partial sum
    assert report["summary"]["billed"] == "590.02666666"  # exact: Eng's $40 on-demand, the others in full
    assert report["summary"]["usage_value"] == "650.03999999"

    # Eng's day was stored before billed was kept per model: the model's billed is unknown, never 0
    assert sonnet["billed_usd"] is None and opus["billed_usd"] == 50.0

    table = run_cli(capsys, monkeypatch, "report", "--days", "2", "--by", "model").out
    every = table.split("All 3 integrations")[1]
    assert "claude-sonnet-4.5" in every and "claude-4.5-sonnet, claude-sonnet-4-5-20250929" in every
    header, sonnet_line, opus_line, total_line = (
        line for line in every.splitlines() if line.startswith(("MODEL", "claude-", "TOTAL"))
    )
    assert header.split()[:4] == ["MODEL", "USAGE", "VALUE", "BILLED"]
    assert sonnet_line.split()[1:3] == ["$600.04", "—"] and opus_line.split()[1:3] == ["$50.00", "$50.00"]
    assert total_line.split()[1:3] == ["$650.04", "—"]
    # and in Eng's own report by model: null in JSON, empty in CSV, — in its table, never 0
    eng_json = json.loads(
        run_cli(capsys, monkeypatch, "report", "Eng", "--days", "2", "--by", "model", "--format", "json").out
    )
    assert eng_json["integrations"][0]["models"][0]["billed_usd"] is None
    eng_csv = run_cli(capsys, monkeypatch, "report", "Eng", "--days", "2", "--by", "model", "--format", "csv").out
    assert [row["billed_usd"] for row in csv.DictReader(io.StringIO(eng_csv))] == [""]
    eng_table = run_cli(capsys, monkeypatch, "report", "Eng", "--days", "2", "--by", "model").out
    assert eng_table.splitlines()[1].split()[:4] == ["MODEL", "USAGE", "VALUE", "BILLED"]
    assert next(line for line in eng_table.splitlines() if line.startswith("claude-")).split()[1:3] == ["$100.01", "—"]

    # A sync of that day keeps Eng's on-demand part per model: billed is known, and adds up
    put_model(
        store, eng, yesterday, "claude-4.5-sonnet", 100 * DOLLAR + 1_333_333, on_demand=40 * DOLLAR, per_model=True
    )
    report = json.loads(run_cli(capsys, monkeypatch, "report", "--days", "2", "--by", "model", "--format", "json").out)
    sonnet, opus = report["models"]
    assert sonnet["billed_usd"] == pytest.approx(540.026666) and opus["billed_usd"] == 50.0
    every = run_cli(capsys, monkeypatch, "report", "--days", "2", "--by", "model").out.split("All 3 integrations")[1]
    rows = [line.split() for line in every.splitlines() if line.startswith(("claude-", "TOTAL"))]
    assert [r[2] for r in rows] == ["$540.03", "$50.00", "$590.03"]  # as `summary.billed`, rounded once
    eng_json = json.loads(
        run_cli(capsys, monkeypatch, "report", "Eng", "--days", "2", "--by", "model", "--format", "json").out
    )
    assert eng_json["integrations"][0]["models"][0]["billed_usd"] == 40.0
    eng_csv = run_cli(capsys, monkeypatch, "report", "Eng", "--days", "2", "--by", "model", "--format", "csv").out
    assert [row["billed_usd"] for row in csv.DictReader(io.StringIO(eng_csv))] == ["40.00000000"]
    # Anthropic bills in full: its model's billed is its cost, and its table needs no second column
    claude_json = json.loads(
        run_cli(capsys, monkeypatch, "report", "Claude", "--days", "2", "--by", "model", "--format", "json").out
    )
    assert all(m["billed_usd"] == m["cost_usd"] for m in claude_json["integrations"][0]["models"])
    claude_table = run_cli(capsys, monkeypatch, "report", "Claude", "--days", "2", "--by", "model").out
    assert claude_table.splitlines()[1].split()[:3] == ["MODEL", "BILLED", "SHARE"]

    days = run_cli(capsys, monkeypatch, "report", "--days", "2", "--each").out  # a table per integration
    router_block = days.split("Router (openrouter")[1].split("\n\n")[0]
    assert f"{TODAY.isoformat()}  not reported yet" in router_block and "never synced" not in router_block
    # request units: Cursor's only; the others' are unknown (—), never 0.0
    claude_block = days.split("Claude (anthropic")[1].split("\n\n")[0]
    assert not re.search(r"\s0\.0\s", claude_block) and "—" in claude_block
    day_json = json.loads(run_cli(capsys, monkeypatch, "report", "Claude", "--days", "2", "--format", "json").out)
    assert all(d["request_units"] is None for d in day_json["integrations"][0]["days"])
    csv_rows = run_cli(capsys, monkeypatch, "report", "Claude", "--days", "2", "--format", "csv").out.splitlines()
    assert csv_rows[0].endswith("request_units,top_model,billed_usd,usage_value_usd,cost_basis")
    assert csv_rows[1].split(",")[9] == ""  # request units: empty, not 0

    # the all-integrations models table adds up to its total: $100.01 + $200.01 + $300.01 rounded alone would
    # make $600.03 under a $600.04 sum; one of them takes the cent
    sonnet_row = next(line for line in every.splitlines() if line.startswith("claude-sonnet-4.5"))
    assert "$600.04" in sonnet_row


def test_report_month_to_date_has_a_forecast_and_compares_with_the_same_days_of_last_month(
    store, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("GRAFIENT_NOW", NOW.isoformat())  # 2026-11-24
    eng = integration(store, "Eng")
    put(store, eng, dict.fromkeys(days_back(54, 31), 10 * DOLLAR))  # Oct 1 .. Oct 24
    put(store, eng, dict.fromkeys(days_back(23, 1), 12 * DOLLAR))  # Nov 1 .. Nov 23
    put(store, eng, {TODAY: DOLLAR})
    report = json.loads(run_cli(capsys, monkeypatch, "report", "--month", "2026-11", "--format", "json").out)
    s = report["summary"]
    assert report["month"] == "2026-11" and (report["since"], report["until"]) == ("2026-11-01", "2026-11-24")
    assert s["change_pct"] == pytest.approx(20.0)  # Nov 1-23 at $12 against Oct 1-23 at $10
    # spent through yesterday + the 14 complete days' $12 average x the 7 days left, today included
    assert s["forecast_usd"] == pytest.approx(23 * 12 + 7 * 12)
    table = run_cli(capsys, monkeypatch, "report", "--month", "2026-11").out
    assert "Forecast for the month (usage value): $360.00" in table
    assert "against the same days of Oct 2026 (2026-10-01 .. 2026-10-23)" in table
    october = json.loads(run_cli(capsys, monkeypatch, "report", "--month", "2026-10", "--format", "json").out)
    assert october["summary"]["forecast_usd"] is None and october["until"] == "2026-10-31"
    refused = run_cli(capsys, monkeypatch, "report", "--month", "2026-12")
    assert refused.code == 2 and "still to come" in refused.err
