"""`check` judges each integration against what it can have (issue 21): days older than a provider keeps
are no gap in a budget's coverage, and its forecast counts the days they do have."""

from __future__ import annotations

from datetime import date

from grafient_tui.store.models import Integration
from tests.cli.test_budgets import check_json, cli, days, integration, pinned_now, put  # noqa: F401


def test_days_a_provider_cannot_have_are_no_gap_in_a_budget(store, capsys, monkeypatch) -> None:
    db, _ = store
    eng = integration(store, "Eng")
    put(store, eng, dict.fromkeys(days(date(2026, 11, 1), date(2026, 11, 23)), 10))
    router = integration(store, "Router", "openrouter", "sk-or-v1-" + "ab12" * 16)
    put(store, router, dict.fromkeys(days(date(2026, 11, 10), date(2026, 11, 23)), 2), split=False)
    with db.session(write=True) as session:  # the provider answered that it keeps nothing before Nov 10
        row = session.get(Integration, router)
        assert row is not None
        row.history_limit = date(2026, 11, 10)
        session.add(row)
    assert cli(capsys, monkeypatch, "budget", "set", "all", "500").code == 0
    _, [status] = check_json(capsys, monkeypatch)
    assert (status["synced_days"], status["finished_days"]) == (23, 23)
    assert status["spent_usd"] == 23 * 10 + 14 * 2
    assert "finished days synced" not in cli(capsys, monkeypatch, "check").out
