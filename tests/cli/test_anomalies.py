"""`grafient anomalies` end to end with frozen dates, over rows stored through the sync engine's own
writer: the table, JSON's exact fields, the CSV, the "none" sentence, drops, the thresholds from
config.toml and the command line, and bad arguments (exit 2, one sentence)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, time, timedelta

import pytest

from grafient_tui.config import Settings
from grafient_tui.secret import Secret
from grafient_tui.store.integrations import add_integration
from grafient_tui.store.sums import DaySums, MemberSums, ModelSums, WindowSums
from grafient_tui.store.sync_writes import write_window
from tests.conftest import GOOD_KEY
from tests.factories import day_sums
from tests.helpers import run_cli

TODAY = date(2026, 11, 24)  # a Tuesday
SPIKE = date(2026, 11, 23)  # the Monday before: complete
NOW = datetime.combine(TODAY, time(10, 30), UTC)
DOLLAR = 100_000_000
ANTHROPIC_KEY = "sk-ant-admin01-" + "Qm7xZ2pL9vR4tW8k" * 5 + "-Ab1C2dAA"


@pytest.fixture(autouse=True)
def pinned_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFIENT_NOW", NOW.isoformat())


def model(cost: int) -> ModelSums:
    return ModelSums(cost_micro=cost, requests=1, input_tokens=0, output_tokens=0)


def five_weeks(store, *, lab_spike: int = 400, member: str = "ws-research") -> None:
    """Eng (Cursor: $100 a day, half of it on demand, billed $50) and Lab (Anthropic: $100 a day
    from ws-default on claude-opus) for five weeks to today; on SPIKE Lab spends `lab_spike`, the
    rise all from `member` on claude-opus."""
    db, vault = store
    eng = int(add_integration(db, vault, label="Eng", provider="cursor", api_key=Secret(GOOD_KEY)).id)
    lab = int(add_integration(db, vault, label="Lab", provider="anthropic", api_key=Secret(ANTHROPIC_KEY)).id)
    first = TODAY - timedelta(days=35)
    eng_sums, lab_sums = WindowSums(), WindowSums()
    day = first
    while day <= TODAY:
        eng_sums.days[day] = day_sums(100 * DOLLAR, on_demand=50 * DOLLAR, requests=1)
        eng_sums.models[(day, "gpt-5")] = model(100 * DOLLAR)
        eng_sums.members[(day, "a@x.io")] = MemberSums(cost_micro=100 * DOLLAR, requests=1)
        cost = (lab_spike if day == SPIKE else 100) * DOLLAR
        lab_sums.days[day] = DaySums(cost_micro=cost)
        lab_sums.models[(day, "claude-opus")] = model(cost)
        lab_sums.members[(day, "ws-default")] = MemberSums(cost_micro=min(cost, 100 * DOLLAR))
        if cost > 100 * DOLLAR:
            lab_sums.members[(day, member)] = MemberSums(cost_micro=cost - 100 * DOLLAR)
        day += timedelta(days=1)
    write_window(db, eng, first, TODAY, eng_sums, NOW)
    write_window(db, lab, first, TODAY, lab_sums, NOW)


def test_json_rows_have_exactly_the_contract_fields(store, capsys, monkeypatch):
    five_weeks(store)
    result = run_cli(capsys, monkeypatch, "anomalies", "--days", "7", "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert (data["since"], data["until"], data["ratio"], data["min_amount"]) == (
        "2026-11-18",
        "2026-11-24",
        1.5,
        "20.00000000",
    )
    assert data["anomalies"] == [
        {
            "day": "2026-11-23",
            "integration": "all",
            "provider": None,
            "billed": "450.00000000",  # Eng's $50 billed (its on-demand part) + Lab's $400
            "baseline": "150.00000000",
            "ratio": 3.0,
            "drivers": [
                {"kind": "member", "name": "Lab: ws-research", "delta": "300.00000000"},
                {"kind": "model", "name": "claude-opus", "delta": "300.00000000"},
            ],
        },
        {
            "day": "2026-11-23",
            "integration": "Lab",
            "provider": "anthropic",
            "billed": "400.00000000",
            "baseline": "100.00000000",
            "ratio": 4.0,
            "drivers": [
                {"kind": "member", "name": "ws-research", "delta": "300.00000000"},
                {"kind": "model", "name": "claude-opus", "delta": "300.00000000"},
            ],
        },
    ]
    one = json.loads(run_cli(capsys, monkeypatch, "anomalies", "Eng", "--format", "json").out)
    assert one["anomalies"] == []


def test_table_names_the_day_cost_baseline_ratio_and_drivers(store, capsys, monkeypatch):
    five_weeks(store)
    result = run_cli(capsys, monkeypatch, "anomalies", "Lab")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].startswith("Anomalies 2026-10-26 .. 2026-11-24 UTC, Lab:")
    assert lines[1].split() == ["DAY", "INTEGRATION", "BILLED", "BASELINE", "RATIO", "DRIVERS"]
    assert lines[2].split("  ")[0] == "2026-11-23"
    for cell in ("Lab (anthropic)", "$400.00", "$100.00", "x4.00"):
        assert cell in lines[2]
    assert "members: ws-research +$300.00 (100%); models: claude-opus +$300.00 (100%)" in lines[2]
    assert len(lines) == 3


def test_no_anomalies_says_what_was_covered(store, capsys, monkeypatch):
    five_weeks(store, lab_spike=110)
    result = run_cli(capsys, monkeypatch, "anomalies", "--since", "2026-11-01", "--until", "2026-11-23")
    assert result.code == 0
    assert result.out.strip() == (
        "No anomalies in 2026-11-01 .. 2026-11-23 UTC for all integrations (rises of a complete day's billed "
        "cost over x1.5 and $20.00 against the same weekday of the 4-8 weeks before)."
    )


def test_thresholds_from_config_and_the_command_line(store, capsys, monkeypatch, grafient_home):
    five_weeks(store)
    settings = Settings.from_env()
    settings.config_file.write_text("[anomalies]\nratio = 5\nmin_amount = 20\n")
    settings.config_file.chmod(0o600)
    assert json.loads(run_cli(capsys, monkeypatch, "anomalies", "Lab", "--format", "json").out)["anomalies"] == []
    found = json.loads(run_cli(capsys, monkeypatch, "anomalies", "Lab", "--ratio", "3", "--format", "json").out)
    assert [a["day"] for a in found["anomalies"]] == ["2026-11-23"]
    found = json.loads(
        run_cli(capsys, monkeypatch, "anomalies", "Lab", "--ratio", "3", "--min-amount", "301", "--format", "json").out
    )
    assert found["anomalies"] == []  # a rise of $300 is under $301
    settings.config_file.write_text('[anomalies]\nratio = "much"\n')
    bad = run_cli(capsys, monkeypatch, "anomalies")
    assert bad.code == 2 and bad.out == ""
    assert bad.err.startswith("grafient: ratio in [anomalies] of ") and "must be a number above 1" in bad.err
    assert len(bad.err.strip().splitlines()) == 1


def test_drops_only_with_drops(store, capsys, monkeypatch):
    five_weeks(store, lab_spike=10)  # Lab's Monday falls from $100 to $10; all together 150 -> 60
    plain = json.loads(run_cli(capsys, monkeypatch, "anomalies", "Lab", "--format", "json").out)
    assert plain["anomalies"] == []
    drops = json.loads(run_cli(capsys, monkeypatch, "anomalies", "Lab", "--drops", "--format", "json").out)
    (row,) = drops["anomalies"]
    assert (row["billed"], row["baseline"], row["ratio"]) == ("10.00000000", "100.00000000", 0.1)
    assert row["drivers"] == [
        {"kind": "member", "name": "ws-default", "delta": "-90.00000000"},
        {"kind": "model", "name": "claude-opus", "delta": "-90.00000000"},
    ]
    assert "2026-11-23 (drop)" in run_cli(capsys, monkeypatch, "anomalies", "Lab", "--drops").out


def test_csv_is_exact_and_neutralised(store, capsys, monkeypatch):
    five_weeks(store, member="=HYPERLINK(evil)")
    result = run_cli(capsys, monkeypatch, "anomalies", "Lab", "--format", "csv")
    assert result.code == 0
    rows = list(csv.reader(io.StringIO(result.out)))
    assert rows[0] == ["day", "integration", "provider", "direction", "billed", "baseline", "ratio", "drivers"]
    assert rows[1][:7] == ["2026-11-23", "Lab", "anthropic", "rise", "400.00000000", "100.00000000", "4.0000"]
    assert rows[1][7] == "member =HYPERLINK(evil) 300.00000000; model claude-opus 300.00000000"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (("--days", "0"), "--days must be between 1 and 366, not 0."),
        (("--until", "2026-11-01"), "--until goes with --since."),
        (("--since", "2026-11-10", "--until", "2026-11-01"), "--since 2026-11-10 is after --until 2026-11-01."),
        (("--since", "2026-13-01"), "--since must be a date as YYYY-MM-DD, not '2026-13-01'."),
        (("--since", "2030-01-01", "--until", "2030-01-02"), "2030-01-02 is in the future (today is 2026-11-24 UTC)."),
        (("--ratio", "1"), "--ratio must be a number above 1 and at most 1000, like 1.5, not '1'."),
        (
            ("--min-amount", "-5"),
            "--min-amount must be an amount in US dollars (at most two decimals), like 20 or 12.50, not '-5'.",
        ),
        (("Nobody",), None),
    ],
)
def test_bad_arguments_are_one_sentence_and_exit_2(store, capsys, monkeypatch, args, sentence):
    result = run_cli(capsys, monkeypatch, "anomalies", *args)
    assert result.code == 2 and result.out == ""
    assert len(result.err.strip().splitlines()) == 1 and result.err.startswith("grafient: ")
    if sentence is not None:
        assert result.err.strip() == f"grafient: {sentence}"


def test_a_bad_setting_never_breaks_the_apps_reads(store, grafient_home):
    """The home and the detail still read with a bad [anomalies]: no marks, and the detail says why."""
    from grafient_tui.service import GrafientService

    five_weeks(store)
    db, vault = store
    service = GrafientService(Settings.from_env(), db=db, vault=vault)
    lab = service.find("Lab").integration_id
    assert service.detail(lab, 30, TODAY).anomalies[0].day == SPIKE
    assert [f.anomaly_days for f in service.home(30, TODAY).integrations] == [(), (SPIKE,)]
    settings = Settings.from_env()
    settings.config_file.write_text("[anomalies]\nmin_amount = -3\n")
    settings.config_file.chmod(0o600)
    detail = service.detail(lab, 30, TODAY)
    assert detail.anomalies == () and detail.figures.anomaly_days == ()
    assert detail.anomaly_note is not None and "min_amount in [anomalies]" in detail.anomaly_note
    assert [f.anomaly_days for f in service.home(30, TODAY).integrations] == [(), ()]
