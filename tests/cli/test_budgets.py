"""Budgets end to end with frozen dates: `grafient budget` and `grafient check` in-process, the
figures against hand computations from rows stored through the sync engine's own writer, each exit
code, bad input, thresholds announced once across restarts, and budgets on a shared database."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import httpx
import pytest

from grafient_tui.config import Settings
from grafient_tui.providers.cursor.fake import make_events
from grafient_tui.secret import Secret
from grafient_tui.service import GrafientService
from grafient_tui.store.integrations import add_integration
from grafient_tui.store.sums import MemberSums, WindowSums
from grafient_tui.store.sync_writes import write_window
from grafient_tui.sync.engine import run_sync
from tests.conftest import GOOD_KEY
from tests.factories import day_sums, model_sums
from tests.fakes import CountingCursorTeam
from tests.helpers import all_bytes_under, run_cli

TODAY = date(2026, 11, 24)
NOW = datetime.combine(TODAY, time(10, 30), UTC)
DOLLAR = 100_000_000  # micro-cents
ANTHROPIC_KEY = "sk-ant-admin01-" + "Qm7xZ2pL9vR4tW8k" * 5 + "-Ab1C2dAA"


@pytest.fixture(autouse=True)
def pinned_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFIENT_NOW", NOW.isoformat())


def integration(store, label: str, provider: str = "cursor", key: str = GOOD_KEY) -> int:
    db, vault = store
    return int(add_integration(db, vault, label=label, provider=provider, api_key=Secret(key)).id)


def put(
    store,
    iid: int,
    costs: dict[date, float],
    *,
    on_demand_share: float = 0.5,
    split: bool = True,
    synced_at: datetime = NOW,
) -> None:
    """Store each day (dollars) as a sync at `synced_at` would: a day before that day is complete."""
    db, _ = store
    for day, dollars in costs.items():
        cost = round(dollars * DOLLAR)
        on_demand = round(cost * on_demand_share)
        totals = WindowSums()
        totals.days[day] = day_sums(cost, on_demand=on_demand if split else None, requests=1)
        totals.models[(day, "gpt-5")] = model_sums(cost, requests=1)
        totals.members[(day, "a@x.io")] = MemberSums(cost_micro=cost, requests=1)
        write_window(db, iid, day, day, totals, synced_at)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def cli(capsys, monkeypatch, *args: str):
    return run_cli(capsys, monkeypatch, *args)


def check_json(capsys, monkeypatch) -> tuple[int, list[dict]]:
    result = cli(capsys, monkeypatch, "check", "--format", "json")
    return result.code, json.loads(result.out)


def november(store, iid: int) -> None:
    """$10 a day Nov 1-9, $20 a day Nov 10-23 (the 14 days before today), $3 so far today."""
    put(store, iid, dict.fromkeys(days(date(2026, 11, 1), date(2026, 11, 9)), 10))
    put(store, iid, dict.fromkeys(days(date(2026, 11, 10), date(2026, 11, 23)), 20))
    put(store, iid, {TODAY: 3})


# ------------------------------------------------------------------ the figures


def test_the_forecast_against_a_hand_computation(store, capsys, monkeypatch) -> None:
    november(store, integration(store, "Eng"))
    assert cli(capsys, monkeypatch, "budget", "set", "Eng", "500").code == 0
    code, (row,) = check_json(capsys, monkeypatch)
    # through yesterday 9 x $10 + 14 x $20 = $370; average $20; 7 days left with today -> $510
    assert row == {
        "target": "Eng",
        "target_id": 1,
        "period": "month",
        "period_start": "2026-11-01",
        "period_end": "2026-11-30",
        "measure": "cost",
        "budget_usd": 500.0,
        "spent_usd": 373.0,
        "forecast_usd": 510.0,
        "percent": 74.6,
        "status": "forecast_over",
        "day": 24,
        "days": 30,
        "resets": "2026-12-01",
        "follows_cycle": False,
        "forecast_note": None,
        "synced_days": 23,
        "finished_days": 23,
        "note": None,
        "cost_basis": "billed",
    }
    assert code == 3
    table = cli(capsys, monkeypatch, "check")
    assert table.code == 3
    assert table.out == (
        "▲ forecast over  Eng · monthly, usage value: $373.00 spent, 75% of $500 · forecast $510 · day 24 of 30 · "
        "resets 2026-12-01\n"
    )
    assert "_" not in table.out  # words, not the JSON's token


def test_the_forecast_window_reaches_into_the_previous_period(store, capsys, monkeypatch) -> None:
    monkeypatch.setenv("GRAFIENT_NOW", "2026-12-03T08:00:00Z")
    iid = integration(store, "Eng")
    synced = datetime(2026, 12, 3, 8, tzinfo=UTC)
    put(store, iid, dict.fromkeys(days(date(2026, 11, 19), date(2026, 11, 30)), 30), synced_at=synced)
    put(store, iid, {date(2026, 12, 1): 16, date(2026, 12, 2): 44, date(2026, 12, 3): 1}, synced_at=synced)
    cli(capsys, monkeypatch, "budget", "set", "all", "1000")
    code, (row,) = check_json(capsys, monkeypatch)
    # 14 days before Dec 3: Nov 19 .. Dec 2, $30 x 12 + $16 + $44 = $420, $30 a day; 29 days left
    assert (row["spent_usd"], row["forecast_usd"], row["day"], row["days"]) == (61.0, 60 + 30 * 29, 3, 31)
    assert code == 0  # $930 forecast, under $1,000


def test_days_that_were_not_final_are_left_out_of_the_average(store, capsys, monkeypatch) -> None:
    iid = integration(store, "Eng")
    put(store, iid, dict.fromkeys(days(date(2026, 11, 10), date(2026, 11, 16)), 10))  # 7 complete days
    for day in days(date(2026, 11, 17), date(2026, 11, 23)):  # synced while they ran: not final
        put(store, iid, {day: 1000}, synced_at=datetime.combine(day, time(12), UTC))
    cli(capsys, monkeypatch, "budget", "set", "Eng", "5000")
    _, (row,) = check_json(capsys, monkeypatch)
    assert row["forecast_usd"] == 70 + 7000 + 10 * 7  # through yesterday, then the 7 final days' $10 a day


def test_not_ready_with_fewer_than_seven_complete_days(store, capsys, monkeypatch) -> None:
    iid = integration(store, "Eng")
    put(store, iid, dict.fromkeys(days(date(2026, 11, 18), date(2026, 11, 23)), 100))  # six days, $600
    cli(capsys, monkeypatch, "budget", "set", "Eng", "550")
    code, (row,) = check_json(capsys, monkeypatch)
    assert row["forecast_usd"] is None and row["status"] == "over" and code == 4
    assert row["forecast_note"] == "6 of the 7 complete days it needs among the last 14"
    assert (row["synced_days"], row["finished_days"]) == (6, 23)
    line = cli(capsys, monkeypatch, "check").out
    assert "forecast not ready (6 of the 7 complete days it needs among the last 14)" in line
    assert "6 of 23 finished days synced" in line


def test_each_exit_code_and_the_worst_wins(store, capsys, monkeypatch) -> None:
    eng, ops = integration(store, "Eng"), integration(store, "Ops", key="crsr_" + "9f8e7d6c" * 8)
    november(store, eng)
    november(store, ops)
    assert cli(capsys, monkeypatch, "check").code == 0  # no budgets: nothing to be over
    cli(capsys, monkeypatch, "budget", "set", "Eng", "600")  # forecast $510
    assert check_json(capsys, monkeypatch)[0] == 0
    cli(capsys, monkeypatch, "budget", "set", "Ops", "500")  # forecast $510 > $500
    assert check_json(capsys, monkeypatch)[0] == 3
    cli(capsys, monkeypatch, "budget", "set", "all", "700")  # $746 spent
    code, rows = check_json(capsys, monkeypatch)
    assert code == 4 and [r["status"] for r in rows] == ["over", "ok", "forecast_over"]
    assert [r["target"] for r in rows] == ["all", "Eng", "Ops"]
    lines = cli(capsys, monkeypatch, "check").out.splitlines()  # one line per budget, its status in words
    assert [line[:17] for line in lines] == ["✗ over           ", "✓ ok             ", "▲ forecast over  "]
    cli(capsys, monkeypatch, "budget", "remove", "all")
    assert cli(capsys, monkeypatch, "check").code == 3


def test_an_on_demand_budget_on_all_counts_cursor_only_and_says_so(store, capsys, monkeypatch) -> None:
    eng = integration(store, "Eng")
    lab = integration(store, "Lab", provider="anthropic", key=ANTHROPIC_KEY)
    november(store, eng)  # half of it on-demand
    put(store, lab, dict.fromkeys(days(date(2026, 11, 1), date(2026, 11, 23)), 100), split=False)
    result = cli(capsys, monkeypatch, "budget", "set", "all", "250", "--on-demand")
    # Every registered provider with an on-demand split is named, as a list reads.
    assert result.code == 0 and "(Cursor, GitHub Copilot and Google Gemini only: the other providers" in result.out
    _, (row,) = check_json(capsys, monkeypatch)
    assert (row["measure"], row["spent_usd"], row["forecast_usd"]) == ("on_demand", 186.5, 255.0)
    assert row["status"] == "forecast_over"
    assert row["note"] == "on-demand of Cursor only (the others bill everything per use)"


def test_an_on_demand_note_names_three_providers_as_a_list(store, capsys, monkeypatch) -> None:
    from grafient_tui.providers.google.fake import service_account_key

    db, vault = store
    november(store, integration(store, "Eng"))
    integration(store, "Lab", provider="anthropic", key=ANTHROPIC_KEY)
    for label, provider, key, account in (
        ("Copilot", "copilot", "ghp_" + "a1B2c3D4e5" * 3 + "f6G7h8", {"org": "acme"}),
        (
            "Gemini",
            "google",
            service_account_key(seed=7),
            {"table": "billing.export.gcp_billing_export_resource_v1_0A"},
        ),
    ):
        add_integration(db, vault, label=label, provider=provider, api_key=Secret(key), account=account)
    assert cli(capsys, monkeypatch, "budget", "set", "all", "250", "--on-demand").code == 0
    _, (row,) = check_json(capsys, monkeypatch)
    assert (
        row["note"] == "on-demand of Cursor, GitHub Copilot and Google Gemini only (the others bill everything per use)"
    )


def test_a_cycle_budget_follows_cursors_billing_cycle(store, capsys, monkeypatch) -> None:
    db, vault = store
    iid = integration(store, "Eng")
    events = make_events(
        seed=2, start=TODAY - timedelta(days=29), days=30, per_day=6, members=["a@x.io"], models=["gpt-5"]
    )
    team = CountingCursorTeam(
        api_key=GOOD_KEY,
        events=[e for e in events if int(e["timestamp"]) <= NOW.timestamp() * 1000],
        cycle_start=date(2026, 1, 31),
    )
    assert cli(capsys, monkeypatch, "budget", "set", "1", "100", "--period", "cycle").code == 0
    _, (before,) = check_json(capsys, monkeypatch)
    assert (before["period_start"], before["follows_cycle"]) == ("2026-11-01", False)  # no cycle known yet
    assert "billing cycle (calendar month: no cycle known)" in cli(capsys, monkeypatch, "check").out
    settings = Settings.from_env()
    result = _run(run_sync(db, vault, settings, iid, "backfill", transport=httpx.MockTransport(team.handler), now=NOW))
    assert result.outcome == "success"
    _, (row,) = check_json(capsys, monkeypatch)
    # anchored on the 31st: this cycle began Oct 31 and the next begins Nov 30
    assert (row["period_start"], row["period_end"], row["resets"], row["days"], row["day"]) == (
        "2026-10-31",
        "2026-11-29",
        "2026-11-30",
        30,
        25,
    )
    assert row["follows_cycle"] is True


def test_a_cycle_budget_on_a_provider_without_cycles_is_the_calendar_month(store, capsys, monkeypatch) -> None:
    integration(store, "Lab", provider="anthropic", key=ANTHROPIC_KEY)
    assert cli(capsys, monkeypatch, "budget", "set", "Lab", "100", "--period", "cycle").code == 0
    _, (row,) = check_json(capsys, monkeypatch)
    assert (row["period"], row["period_start"], row["period_end"]) == ("cycle", "2026-11-01", "2026-11-30")


def _run(coroutine):
    import asyncio

    return asyncio.run(coroutine)


# ------------------------------------------------------------------ the commands


def test_set_replace_list_and_remove(store, capsys, monkeypatch) -> None:
    integration(store, "Eng")
    assert cli(capsys, monkeypatch, "budget", "list").out.startswith("No budgets yet.")
    first = cli(capsys, monkeypatch, "budget", "set", "eng", "500")
    assert (
        first.out == "set a budget of $500 per calendar month (UTC) on 'Eng' (id 1), counting the usage value "
        "(plan-included usage too)\n"
    )
    again = cli(capsys, monkeypatch, "budget", "set", "1", "1250.50", "--on-demand")
    assert again.out == (
        "replaced the budget per calendar month (UTC) on 'Eng' (id 1): it was $500, counting the usage value "
        "(plan-included usage too); it is now $1,250.50, counting on-demand cost\n"
    )
    same = cli(capsys, monkeypatch, "budget", "set", "1", "1300", "--on-demand")  # the same measure: the amount
    assert same.out == (
        "replaced the budget per calendar month (UTC) on 'Eng' (id 1): it was $1,250.50; it is now $1,300, "
        "counting on-demand cost\n"
    )
    cli(capsys, monkeypatch, "budget", "set", "1", "1250.50", "--on-demand")
    cli(capsys, monkeypatch, "budget", "set", "ALL", "2000", "--period", "cycle")
    listed = cli(capsys, monkeypatch, "budget", "list", "--format", "json")
    assert json.loads(listed.out) == [
        {"target": "all", "target_id": None, "period": "cycle", "measure": "cost", "budget_usd": 2000.0},
        {"target": "Eng", "target_id": 1, "period": "month", "measure": "on_demand", "budget_usd": 1250.5},
    ]
    table = cli(capsys, monkeypatch, "budget", "list").out.splitlines()
    assert table[0].split() == ["TARGET", "PERIOD", "MEASURE", "BUDGET"]
    assert table[2].split() == ["Eng", "month", "on-demand", "$1,250.50"]
    removed = cli(capsys, monkeypatch, "budget", "remove", "Eng")
    assert removed.code == 0 and removed.out == "removed the monthly, on-demand budget of $1,250.50 on 'Eng'\n"
    assert cli(capsys, monkeypatch, "budget", "remove", "all", "--period", "cycle").code == 0
    assert cli(capsys, monkeypatch, "budget", "list", "--format", "json").out.strip() == "[]"


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (("budget", "set", "Eng", "-5"), "grafient: a budget cannot be negative ('-5').\n"),
        (
            ("budget", "set", "Eng", "lots"),
            "grafient: the amount must be in US dollars, like 500 or 1250.50, not 'lots'.\n",
        ),
        (
            ("budget", "set", "Eng", "NaN"),
            "grafient: the amount must be in US dollars, like 500 or 1250.50, not 'NaN'.\n",
        ),
        (
            ("budget", "set", "Eng", "9.999"),
            "grafient: a budget is in dollars and cents, at most two decimals ('9.999').\n",
        ),
        (
            ("budget", "set", "Nobody", "5"),
            "grafient: no integration with id or label 'Nobody' (see `grafient list`).\n",
        ),
        (
            ("budget", "set", "Lab", "5", "--on-demand"),
            # the app's form shows the same sentence: no CLI flag in it
            "grafient: 'Lab' cannot have an on-demand budget: Anthropic bills everything per use, so a budget on it "
            "counts the usage value or the billed amount.\n",
        ),
        (
            ("budget", "remove", "Eng", "--period", "cycle"),
            "grafient: there is no billing-cycle budget on 'Eng' (see `grafient budget list`).\n",
        ),
        (("budget", "remove", "Nobody"), "grafient: no integration with id or label 'Nobody' (see `grafient list`).\n"),
    ],
)
def test_bad_input_is_one_sentence_exit_2_and_changes_nothing(
    store,
    capsys,
    monkeypatch,
    args,
    sentence,
    grafient_home: Path,
) -> None:
    integration(store, "Eng")
    integration(store, "Lab", provider="anthropic", key=ANTHROPIC_KEY)
    assert cli(capsys, monkeypatch, "budget", "set", "Eng", "500").code == 0
    before = cli(capsys, monkeypatch, "budget", "list", "--format", "json").out
    result = cli(capsys, monkeypatch, *args)
    assert (result.code, result.out, result.err) == (2, "", sentence)
    assert cli(capsys, monkeypatch, "budget", "list", "--format", "json").out == before


@pytest.mark.parametrize(
    "args",
    [("budget", "set", "Eng", "5", "--period", "week"), ("budget", "set", "Eng"), ("budget",), ("budget", "remove")],
)
def test_bad_arguments_exit_2(capsys, monkeypatch, args) -> None:
    result = cli(capsys, monkeypatch, *args)
    assert result.code == 2 and len(result.err.splitlines()) == 1 and result.err.startswith("grafient: ")


def test_a_key_typed_as_an_amount_or_target_is_never_echoed(store, capsys, monkeypatch, grafient_home) -> None:
    integration(store, "Eng")
    for args in (("budget", "set", "Eng", GOOD_KEY), ("budget", "set", GOOD_KEY, "5")):
        result = cli(capsys, monkeypatch, *args)
        assert result.code == 2 and GOOD_KEY not in result.err + result.out
    assert GOOD_KEY.encode() not in all_bytes_under(grafient_home)


def test_removing_an_integration_removes_its_budgets_but_not_the_all_budget(store, capsys, monkeypatch) -> None:
    integration(store, "Eng")
    cli(capsys, monkeypatch, "budget", "set", "Eng", "5")
    cli(capsys, monkeypatch, "budget", "set", "all", "9")
    assert cli(capsys, monkeypatch, "remove", "Eng", "--yes").code == 0
    assert [r["target"] for r in json.loads(cli(capsys, monkeypatch, "budget", "list", "--format", "json").out)] == [
        "all"
    ]


# ------------------------------------------------------------------ thresholds, once


def test_each_threshold_is_announced_once_per_period_across_restarts(store) -> None:
    iid = integration(store, "Eng")
    put(store, iid, dict.fromkeys(days(date(2026, 11, 1), date(2026, 11, 23)), 10))  # $230
    service = GrafientService(Settings.from_env())
    service.set_budget("Eng", "400", now=NOW)

    def announced(svc: GrafientService, now: datetime = NOW) -> list[tuple[str, ...]]:
        return [thresholds for _, thresholds in svc.budget_alerts(now)]

    assert announced(service) == [("50",)]  # $230 of $400; forecast $300
    assert announced(service) == []
    restarted = GrafientService(Settings.from_env())  # a new process, the same store
    assert announced(restarted) == []
    put(store, iid, {TODAY: 200})  # $430: past 80 and 100 at once, forecast too
    assert announced(restarted) == [("80", "100", "forecast")]
    assert announced(GrafientService(Settings.from_env())) == []
    # the next period starts afresh
    december = datetime(2026, 12, 2, 9, tzinfo=UTC)
    put(store, iid, {date(2026, 12, 1): 390}, synced_at=december)
    assert announced(restarted, december) == [("50", "80", "forecast")]  # Dec 1 weighs in the forecast
    # a new amount means new thresholds
    restarted.set_budget("Eng", "300", now=december)
    assert announced(restarted, december) == [("50", "80", "100", "forecast")]


def test_the_alert_sentence(store) -> None:
    from grafient_tui.budgets.wording import alert_text

    iid = integration(store, "Eng")
    november(store, iid)
    service = GrafientService(Settings.from_env())
    service.set_budget("Eng", "450", now=NOW)
    ((status, thresholds),) = service.budget_alerts(NOW)
    assert alert_text(status, thresholds) == (
        "Eng · monthly budget: 80% reached, $373.00 of $450; forecast $510 is above it · resets 2026-12-01"
    )
    # Spend that includes an estimate (ElevenLabs' credits priced) is marked so in the toast too.
    assert alert_text(replace(status, estimated=True), thresholds) == (
        "Eng · monthly budget: 80% reached, ≈$373.00 of $450; forecast ≈$510 is above it · resets 2026-12-01"
    )


# ------------------------------------------------------------------ a shared database


def test_budgets_and_their_announcements_are_shared_through_the_database(
    tmp_path: Path,
    monkeypatch,
    capsys,
) -> None:
    """Two homes on one database (a SQLite file here; the run's PostgreSQL database when the suite
    runs against one): a budget one sets the other checks, and a threshold one announced the other
    does not announce again."""
    url = os.environ.get("GRAFIENT_DATABASE_URL") or f"sqlite:///{tmp_path / 'team.db'}"
    alice_home, bob_home = tmp_path / "alice", tmp_path / "bob"

    def be(home: Path) -> GrafientService:
        monkeypatch.setenv("GRAFIENT_HOME", str(home))
        monkeypatch.setenv("GRAFIENT_DATABASE_URL", url)
        return GrafientService(Settings.from_env())

    alice = be(alice_home)
    add_integration(alice.db, alice.vault, label="Eng", provider="cursor", api_key=Secret(GOOD_KEY))
    put((alice.db, alice.vault), 1, dict.fromkeys(days(date(2026, 11, 1), date(2026, 11, 23)), 30))
    # bob syncs too, so he holds the team's master key (without it he would only view)
    bob_settings = Settings.from_env({"GRAFIENT_HOME": str(bob_home)})
    bob_settings.ensure_dirs()
    bob_settings.master_key_file.write_bytes(alice.settings.master_key_file.read_bytes())
    bob_settings.master_key_file.chmod(0o600)
    bob = be(bob_home)
    assert cli(capsys, monkeypatch, "budget", "set", "Eng", "600").code == 0  # bob, through the CLI
    assert [r.target for r in alice.budgets()] == ["Eng"]  # alice sees it
    assert [t for _, t in alice.budget_alerts(NOW)] == [("50", "80", "100", "forecast")]
    assert [t for _, t in bob.budget_alerts(NOW)] == []  # alice's app announced them already
    code, (row,) = check_json(capsys, monkeypatch)
    assert (code, row["spent_usd"], row["status"]) == (4, 690.0, "over")
    alice.db.dispose()
    bob.db.dispose()


def test_a_budget_on_billed_counts_what_invoices_charge_per_provider_rule(store, capsys, monkeypatch) -> None:
    """`--on billed`: Cursor's on-demand part plus every dollar of a provider that bills it all;
    `--on usage` (the default) the usage value, as before; the two flags and --on-demand exclude each other."""
    eng = integration(store, "Eng")
    claude = integration(store, "Claude", "anthropic", ANTHROPIC_KEY)
    put(store, eng, dict.fromkeys(days(date(2026, 11, 1), date(2026, 11, 23)), 10), on_demand_share=0.3)
    put(store, claude, dict.fromkeys(days(date(2026, 11, 1), date(2026, 11, 23)), 4), split=False)
    assert cli(capsys, monkeypatch, "budget", "set", "all", "500", "--on", "billed").code == 0
    assert cli(capsys, monkeypatch, "budget", "set", "all", "900", "--period", "cycle").code == 0
    _, [billed, usage] = check_json(capsys, monkeypatch)
    assert (billed["measure"], usage["measure"]) == ("billed", "cost")
    assert billed["spent_usd"] == pytest.approx(23 * (3 + 4))  # $3 on-demand of Eng's $10, Claude's $4
    assert usage["spent_usd"] == pytest.approx(23 * (10 + 4))
    listed = cli(capsys, monkeypatch, "budget", "list").out
    assert "billed" in listed and "usage value" in listed
    line = cli(capsys, monkeypatch, "check").out.splitlines()[0]
    assert "all integrations · monthly, billed: $161.00 spent" in line
    both = cli(capsys, monkeypatch, "budget", "set", "Eng", "5", "--on", "billed", "--on-demand")
    assert both.code == 2 and "not allowed with argument" in both.err
