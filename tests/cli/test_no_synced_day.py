"""A period with no synced day is unknown, never $0 (issue 21: "unknown is never 0 in any output"): `—` in
tables, null in JSON, empty in CSV, the same through `grafient mcp`'s `spend`; a home whose integrations
have no synced day of the period says so; a mixed home sums what is known and names what it leaves out.

The days are the real engine's: the demo's accounts (their fakes at the transport) added and backfilled
through the service. OpenRouter reports finished days only, so its `--days 1` (today) has no synced day.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from grafient_tui.demo import build_demo
from grafient_tui.mcp_server import spend_answer
from grafient_tui.report import ReportRange
from grafient_tui.service import GrafientService
from tests.factories import add_demo_teams
from tests.helpers import run_cli

NOW = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
TODAY = NOW.date()
AMOUNTS = ("total_usd", "billed", "usage_value", "on_demand_usd", "included_usd", "daily_average_usd")


@pytest.fixture
def demo(grafient_home, monkeypatch: pytest.MonkeyPatch):
    env = build_demo(now=NOW, latency=0, home=grafient_home)
    monkeypatch.setenv("GRAFIENT_NOW", NOW.isoformat())
    yield env
    env.cleanup()


async def add(env, *providers: str, backfill: bool = True) -> dict[str, str]:
    """The demo's teams of `providers` added (and backfilled by the real sync): provider -> label."""
    service = GrafientService(env.settings, transport=env.transport)
    teams = [next(t for t in env.teams if t.provider == name) for name in providers]
    try:
        await add_demo_teams(service, teams, NOW, backfill=backfill)
    finally:
        service.close()
    return {t.provider: t.label for t in teams}


def report(capsys, monkeypatch, *args: str) -> str:
    result = run_cli(capsys, monkeypatch, "report", *args)
    assert (result.code, result.err) == (0, ""), result.err
    return result.out


def assert_unknown(summary: dict) -> None:
    for key in AMOUNTS:
        assert summary[key] is None, key  # null, never 0.0 or "0.00000000"
    assert (summary["synced_days"], summary["requests"]) == (0, None)


async def test_openrouter_today_alone_is_unknown_in_table_json_and_csv(demo, capsys, monkeypatch) -> None:
    labels = await add(demo, "openrouter")
    router = labels["openrouter"]
    table = report(capsys, monkeypatch, router, "--days", "1")
    total_row = next(line for line in table.splitlines() if line.startswith("TOTAL"))
    assert total_row.split()[1] == "—"
    assert "Billed — · usage value — · requests — (no day of the period is synced)" in table
    assert "nothing synced in this period" in table and "today not reported yet" in table
    assert "$0.00" not in table

    data = json.loads(report(capsys, monkeypatch, router, "--days", "1", "--format", "json"))
    [entry] = data["integrations"]
    assert_unknown(entry["summary"])
    assert_unknown(data["summary"])
    assert entry["summary"]["unsynced"] == [router]
    assert [day["cost_usd"] for day in entry["days"]] == [None]

    rows = list(csv.DictReader(io.StringIO(report(capsys, monkeypatch, router, "--days", "1", "--format", "csv"))))
    assert [(r["date"], r["synced"], r["cost_usd"], r["billed_usd"]) for r in rows] == [
        (TODAY.isoformat(), "false", "", "")
    ]

    # The day before is synced: the same integration over two days sums it and says nothing is unknown.
    two = json.loads(report(capsys, monkeypatch, router, "--days", "2", "--format", "json"))["summary"]
    assert two["total_usd"] is not None and two["total_usd"] > 0 and two["unsynced"] == []


async def test_mcp_spend_passes_the_unknown_on(demo) -> None:
    labels = await add(demo, "openrouter")
    service = GrafientService(demo.settings)
    try:
        answer = spend_answer(service, ReportRange(TODAY, TODAY), "day", labels["openrouter"], TODAY)
    finally:
        service.close()
    assert_unknown(answer["summary"])
    assert (answer["covers"]["billed"], answer["covers"]["usage_value"], answer["covers"]["synced_days"]) == (
        None,
        None,
        0,
    )


async def test_a_mixed_home_sums_the_others_and_names_the_one_left_out(demo, capsys, monkeypatch) -> None:
    labels = await add(demo, "anthropic", "openrouter")
    claude, router = labels["anthropic"], labels["openrouter"]
    data = json.loads(report(capsys, monkeypatch, "--days", "1", "--format", "json"))
    by_label = {e["label"]: e["summary"] for e in data["integrations"]}
    assert_unknown(by_label[router])
    known = by_label[claude]
    assert known["total_usd"] is not None and known["total_usd"] > 0  # Anthropic reports today so far
    # the summary of all is Anthropic's alone, exactly, and names OpenRouter's integration as left out
    assert (data["summary"]["billed"], data["summary"]["usage_value"]) == (known["billed"], known["usage_value"])
    assert data["summary"]["unsynced"] == [router]

    table = report(capsys, monkeypatch, "--days", "1")  # one table, a column per integration
    total_row = next(line for line in table.splitlines() if line.startswith("TOTAL")).split()
    order = [e["label"] for e in data["integrations"]]
    assert total_row[1 + order.index(router)] == "—"
    assert total_row[1 + order.index(claude)] == total_row[-1] != "—"  # the total is Anthropic's
    assert f"no day synced: {router} (left out)" in table


async def test_a_home_whose_integrations_never_synced_claims_no_day_and_no_dollar(demo, capsys, monkeypatch) -> None:
    labels = await add(demo, "cursor", "openai", backfill=False)
    data = json.loads(report(capsys, monkeypatch, "--format", "json"))
    assert_unknown(data["summary"])
    assert sorted(data["summary"]["unsynced"]) == sorted(labels.values())
    for entry in data["integrations"]:
        assert_unknown(entry["summary"])
    table = report(capsys, monkeypatch)
    assert "$0.00" not in table and "Coverage: 0 of 30 days synced" in table
    assert "Billed — · usage value —" in table
    each = report(capsys, monkeypatch, "--each")
    assert "$0.00" not in each
    assert all(line.split()[1] == "—" for line in each.splitlines() if line.startswith("TOTAL"))


async def test_a_budget_with_no_synced_day_says_its_spend_is_unknown_and_stays_ok(demo, capsys, monkeypatch) -> None:
    await add(demo, "cursor", backfill=False)
    assert run_cli(capsys, monkeypatch, "budget", "set", "all", "500").code == 0
    result = run_cli(capsys, monkeypatch, "check", "--format", "json")
    assert result.code == 0  # nothing is known to be over: check's exit code as before
    [budget] = json.loads(result.out)
    assert (budget["spent_usd"], budget["percent"], budget["status"]) == (None, None, "ok")
    assert "no day of this period synced yet: spent unknown" in budget["note"]
    line = run_cli(capsys, monkeypatch, "check")
    assert line.code == 0 and "— spent, — of $500" in line.out and "$0.00 spent" not in line.out
    metrics = run_cli(capsys, monkeypatch, "metrics")
    assert metrics.code == 0 and "\ngrafient_budget_usd{" in metrics.out  # the budget itself is known
    # no sample of an unknown spend (never 0), as the integration's own spend has none
    assert "\ngrafient_budget_spent_usd{" not in metrics.out and "\ngrafient_budget_ratio{" not in metrics.out
    assert "\ngrafient_spend_usd{" not in metrics.out
