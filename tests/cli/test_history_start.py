"""Days before the earliest day a provider ever returned usage for (a Gemini billing export's first day)
are not kept, never synced $0 days: the report's rows, coverage, daily average and "vs previous", the
budgets' and the anomalies' days say so. The Google export's demo account answers through respx; the
real client, sync engine and store run."""

from __future__ import annotations

import json
from datetime import date

import pytest
import respx

from grafient_tui.providers.google.fake import demo_account, service_account_key
from tests.helpers import run_cli

NOW = "2026-12-07T10:30:00+00:00"
TODAY = date(2026, 12, 7)
KEY = service_account_key(seed=7)
TABLE = "billing-admin.billing_export.gcp_billing_export_resource_v1_0A1B2C_3D4E5F_6A7B8C"
SPAN = ("--since", "2026-10-08", "--until", "2026-11-07")


@pytest.fixture
def gemini(capsys, monkeypatch, grafient_home):
    """One Gemini integration whose export began on 2026-11-01, backfilled a year back (the pro plan)."""
    monkeypatch.setenv("GRAFIENT_NOW", NOW)
    monkeypatch.setenv("GRAFIENT_GOOGLE_TOKEN_URL", "http://127.0.0.1:9/oauth/token")
    account = demo_account(KEY, TODAY, 7)  # no clock of its own: the sign-in's time is the machine's
    assert run_cli(capsys, monkeypatch, "plan", "pro").code == 0
    with respx.mock(assert_all_called=False) as router:
        router.route().mock(side_effect=account.handler)
        added = run_cli(capsys, monkeypatch, "add", "google", "--label", "Gemini", "--table", TABLE, stdin=KEY)
        assert added.code == 0, added.err
    [row] = json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out)
    assert row["history_from"] == "2026-11-01"


def test_days_before_the_export_began_are_not_kept_never_zero(gemini, capsys, monkeypatch) -> None:
    data = json.loads(run_cli(capsys, monkeypatch, "report", "Gemini", *SPAN, "--format", "json").out)
    [entry] = data["integrations"]
    before = [d for d in entry["days"] if d["date"] < "2026-11-01"]
    assert len(before) == 24 and all(not d["synced"] and d["cost_usd"] is None for d in before)
    summary = entry["summary"]
    assert (summary["synced_days"], summary["complete_days"], summary["expected_days"]) == (7, 7, 7)
    # the average is over the 7 days the export has, not 31 with 24 made-up zeros
    kept = [d["cost_usd"] for d in entry["days"] if d["synced"]]
    assert summary["daily_average_usd"] == pytest.approx(sum(kept) / 7, abs=0.005)
    # the previous period lies wholly before the export: no change, and why
    assert summary["change_pct"] is None and "no usage before 2026-11-01" in summary["change_note"]

    shown = run_cli(capsys, monkeypatch, "report", "Gemini", *SPAN)
    assert shown.code == 0
    lines = shown.out.splitlines()
    row = next(line for line in lines if line.startswith("2026-10-31"))
    assert "$0.00" not in row and "before Google Gemini's history (from 2026-11-01)" in row
    assert "Coverage: 7 of 31 days synced, 7 complete (Google Gemini has no usage before 2026-11-01)" in shown.out


def test_a_month_that_began_with_the_export_compares_with_nothing(gemini, capsys, monkeypatch) -> None:
    data = json.loads(run_cli(capsys, monkeypatch, "report", "--month", "2026-11", "--format", "json").out)
    assert data["summary"]["change_pct"] is None and data["summary"]["change_note"]


def test_anomalies_never_judge_a_day_against_days_before_the_export(gemini, capsys, monkeypatch) -> None:
    found = run_cli(capsys, monkeypatch, "anomalies", "--days", "90", "--format", "json")
    assert found.code == 0, found.err
    # Four weeks of the same weekday are the least a baseline takes: the export's 37 days allow none
    # before 2026-11-29, and none of its days may be judged against the zeros before 2026-11-01.
    assert all(a["date"] >= "2026-11-29" for a in json.loads(found.out)["anomalies"]), found.out


def test_every_total_is_the_summarys_figure_and_moved_rows_are_said(gemini, capsys, monkeypatch) -> None:
    """A TOTAL row is the exact total rounded once (the summary's); rows may be a cent off so that they add
    up to it, and then a note says so. The summary's on-demand part is the billed figure beside it."""
    from grafient_tui.money import format_usd

    data = json.loads(run_cli(capsys, monkeypatch, "report", "Gemini", "--days", "30", "--format", "json").out)
    summary = data["integrations"][0]["summary"]
    billed, usage = (format_usd(round(float(summary[k]) * 10**8)) for k in ("billed", "usage_value"))
    some_moved = []
    for by in ("day", "model", "member"):
        out = run_cli(capsys, monkeypatch, "report", "Gemini", "--days", "30", "--by", by).out
        lines = out.splitlines()
        total = next(line for line in lines if line.startswith("TOTAL")).split()
        assert usage in total and (by == "member" or billed in total), (by, total)
        assert f"Billed {billed} · usage value {usage} (Gemini: on-demand {billed} + included" in out
        rows = json.loads(
            run_cli(capsys, monkeypatch, "report", "Gemini", "--days", "30", "--by", by, "--format", "json").out
        )["integrations"][0]
        exact = [r["cost_usd"] for r in rows[{"day": "days", "model": "models", "member": "members"}[by]]]
        exact = [e for e in exact if e is not None]
        # the test can fail: some row, rounded alone, would not add up to the TOTAL
        alone = sum(round(e * 100) for e in exact)
        moved = alone != round(float(summary["usage_value"]) * 100)
        assert not moved or "Rows rounded to the cent so that they add up to the TOTAL" in out, by
        some_moved.append(moved)
    assert any(some_moved)  # the data has rows that, each rounded alone, miss the total: the test can fail
