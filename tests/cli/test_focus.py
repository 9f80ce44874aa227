"""`grafient report --format focus` (FOCUS 1.2 CSV) and `--output FILE`, end to end in-process.

The FinOps Foundation's validator (focus-validator 2.2.1, Python >= 3.12, so in a venv of its own)
checks the demo's export and a mixed-provider home's: GRAFIENT_TEST_FOCUS_PYTHON names that venv's
python (`.ci/run` builds it); without it those two tests skip, saying so. The other tests check
the columns, the figures against the report's, unknowns, hostile names and the file written.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import respx
from sqlalchemy import text

from grafient_tui.config import DEFAULT_API_URLS, Settings
from grafient_tui.focus import COLUMNS
from grafient_tui.service import GrafientService
from grafient_tui.store.db import Database
from grafient_tui.store.focus_charges import _shares
from grafient_tui.store.vault import Vault
from tests.factories import add_demo_teams, seed_history
from tests.helpers import PATIENCE, run_cli

NOW = datetime(2026, 3, 12, 10, 30, tzinfo=UTC)
TODAY = NOW.date()
KEYS = {
    "anthropic": "sk-ant-admin01-" + "Vb7nQ2" * 14,
    "openai": "sk-admin-" + "Hk3mP8qZ" * 4,
    "openrouter": "sk-or-v1-" + "5e2f9a7c" * 8,
}
HOSTILE = "=cmd|' /C calc'!A0\x1b[2J\u202e"
# FOCUS 1.2's mandatory columns (the validator's CostAndUsage-D-*-M presence rules)
MANDATORY = {
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
}
FOCUS_PYTHON = os.environ.get("GRAFIENT_TEST_FOCUS_PYTHON")
needs_validator = pytest.mark.skipif(
    not FOCUS_PYTHON,
    reason="GRAFIENT_TEST_FOCUS_PYTHON (a Python >= 3.12 with focus-validator==2.2.1; .ci/run builds it) is not set",
)


@pytest.fixture(autouse=True)
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFIENT_NOW", NOW.isoformat())


@pytest.fixture
def mixed_home(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """Anthropic, OpenAI and OpenRouter added and synced from their fakes, and a Cursor team (billed
    its on-demand part) whose stored history names a hostile model."""
    accounts = {
        name: __import__(f"grafient_tui.providers.{name}.fake", fromlist=["demo_account"]).demo_account(key, TODAY, 1)
        for name, key in KEYS.items()
    }
    with respx.mock(assert_all_called=False) as router:
        for name, account in accounts.items():
            router.route(url__startswith=DEFAULT_API_URLS[name]).mock(side_effect=account.handler)
        for name, key in KEYS.items():
            added = run_cli(capsys, monkeypatch, "add", name, "--label", f"{name} team", stdin=key + "\n")
            assert added.code == 0, added.err
    settings = Settings.from_env()
    db, vault = Database(settings), Vault(settings)
    seed_history(
        db,
        vault,
        label="Cursor team",
        until=TODAY,
        days=20,
        models=["claude-4-sonnet", HOSTILE],
        members=["a@acme.dev", "b@acme.dev"],
        seed=3,
        synced_at=NOW,
    )
    db.dispose()


def focus_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    return header, [dict(zip(header, line, strict=True)) for line in reader]


def validate(path: Path) -> ET.Element:
    """The validator's unittest report on `path`, with no failed MUST rule of the dataset or of a
    column the file has (it exits 0 whatever fails, so the report is read)."""
    assert FOCUS_PYTHON
    where = subprocess.run(
        [
            FOCUS_PYTHON,
            "-c",
            "import focus_validator, os; print(os.path.dirname(os.path.dirname(focus_validator.__file__)))",
        ],
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        check=True,
    ).stdout.strip()
    report = path.with_suffix(".xml")
    # its package folder: it opens focus_validator/rules/currency_codes.csv relatively
    run = subprocess.run(
        [
            FOCUS_PYTHON,
            "-m",
            "focus_validator.main",
            "--data-file",
            str(path),
            "--validate-version",
            "1.2",
            "--block-download",
            "--output-type",
            "unittest",
            "--output-destination",
            str(report),
        ],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        check=False,
    )
    assert run.returncode == 0 and report.exists(), run.stderr[-2000:]
    root = ET.parse(report).getroot()
    header, _ = focus_rows(path.read_text(encoding="utf-8"))
    failed = []
    passed = []
    for case in root.iter("testcase"):
        rule = re.match(r"(\w+)-([CD])-\d+-M\b", case.get("name", ""))
        outcome = [child for child in case if child.tag in ("failure", "error")]
        if rule is None:
            continue
        ours = rule[2] == "D" or rule[1] in header  # the dataset's, or a column the file has
        if ours and outcome:
            failed.append(f"{case.get('name')}: {outcome[0].get('message')}")
        elif ours and not [child for child in case if child.tag == "skipped"]:
            passed.append(case.get("name"))
    assert not failed, "\n".join(failed)
    # It did check them (a validator that ran nothing would pass everything)
    assert any(name.startswith("BilledCost-C-") for name in passed), passed
    assert any(name.startswith("PricingQuantity-C-") for name in passed), passed
    assert int(root.get("tests", "0")) > 500
    return root


@needs_validator
async def test_the_demos_export_passes_the_focus_validator(grafient_home: Path, tmp_path: Path, capsys, monkeypatch):
    from grafient_tui.demo import build_demo

    env = build_demo(now=NOW, latency=0, home=grafient_home)
    env.settings.set_plan("free")
    service = GrafientService(env.settings, transport=env.transport)
    await add_demo_teams(service, env.teams, NOW, backfill=False)
    results = await service.sync(trigger="backfill", now=NOW)
    service.close()
    assert results and all(r.outcome == "success" for r in results), [r.error for r in results]
    out = tmp_path / "demo-focus.csv"
    done = run_cli(capsys, monkeypatch, "report", "--days", "30", "--format", "focus", "--output", str(out))
    assert done.code == 0, done.err
    _, rows = focus_rows(out.read_text(encoding="utf-8"))
    assert {r["x_IntegrationId"] for r in rows} == {str(i.integration_id) for i in service.integrations()}
    validate(out)


@needs_validator
def test_a_mixed_provider_homes_export_passes_the_focus_validator(mixed_home, tmp_path: Path, capsys, monkeypatch):
    out = tmp_path / "mixed-focus.csv"
    done = run_cli(capsys, monkeypatch, "report", "--days", "30", "--format", "focus", "--output", str(out))
    assert done.code == 0, done.err
    _, rows = focus_rows(out.read_text(encoding="utf-8"))
    assert {r["ProviderName"] for r in rows} == {"Anthropic", "OpenAI", "OpenRouter", "Cursor"}
    validate(out)


def test_columns_figures_and_unknowns_match_the_report(mixed_home, capsys, monkeypatch) -> None:
    done = run_cli(capsys, monkeypatch, "report", "--days", "30", "--format", "focus")
    assert done.code == 0, done.err
    header, rows = focus_rows(done.out)
    assert tuple(header) == COLUMNS and set(header) >= MANDATORY
    assert all(
        c in MANDATORY
        or c.startswith("x_")
        or c in ("ChargeFrequency", "ServiceSubcategory", "SubAccountId", "SubAccountName")
        for c in header
    )

    # Per integration and day, the rows add up exactly to the report's billed and usage value
    report_csv = run_cli(capsys, monkeypatch, "report", "--days", "30", "--format", "csv")
    assert report_csv.code == 0
    want = {
        (d["integration_id"], d["date"]): (Decimal(d["billed_usd"]), Decimal(d["usage_value_usd"]))
        for d in csv.DictReader(io.StringIO(report_csv.out))
        if d["synced"] == "true" and d["usage_value_usd"] and Decimal(d["usage_value_usd"])
    }
    got: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for r in rows:
        key = (r["x_IntegrationId"], r["ChargePeriodStart"][:10])
        got[key][0] += Decimal(r["BilledCost"])
        got[key][1] += Decimal(r["x_UsageValue"])
        assert r["ChargePeriodEnd"] > r["ChargePeriodStart"] and r["ChargeCategory"] == "Usage"
        assert re.fullmatch(r"-?\d+\.\d{6,}", r["BilledCost"]) and r["PricingQuantity"] == "1.0"
        assert r["EffectiveCost"] == r["BilledCost"] and r["ListCost"] == r["x_UsageValue"]
    assert {k: tuple(v) for k, v in got.items()} == want

    # A row's figures are the report JSON's: an Anthropic model's billed = usage value = its cost
    by_model = json.loads(
        run_cli(capsys, monkeypatch, "report", "anthropic team", "--by", "model", "--format", "json").out
    )
    [entry] = by_model["integrations"]
    anthropic = [r for r in rows if r["ProviderName"] == "Anthropic"]
    assert anthropic
    for model in entry["models"]:
        mine = [r for r in anthropic if r["x_Model"] == model["model"]]
        assert float(sum(Decimal(r["BilledCost"]) for r in mine)) == pytest.approx(model["cost_usd"], abs=1e-6)
    assert all(r["BilledCost"] == r["x_UsageValue"] and r["x_BilledCostSplit"] == "exact" for r in anthropic)
    # Anthropic gives no request count: unknown is an empty cell, never 0
    assert {r["x_Requests"] for r in anthropic} == {""}
    # OpenAI counts completions' requests; its embeddings and web search report none: empty there, never 0
    openai_requests = {r["x_Model"]: r["x_Requests"] for r in rows if r["ProviderName"] == "OpenAI"}
    assert any(v.isdigit() for v in openai_requests.values())
    assert all(v.isdigit() or (v == "" and not m.startswith("gpt")) for m, v in openai_requests.items())
    # Workspaces and projects are sub accounts where a day has one; members are Grafient's own column
    assert all(r["x_Member"] == "" for r in rows if r["ProviderName"] != "Cursor")

    # Cursor's days here were stored without its on-demand part per model (as before migration 0012,
    # seed_history): billed is shared among a day's models by usage value, and said so
    cursor = [r for r in rows if r["ProviderName"] == "Cursor"]
    assert cursor and all(r["x_BilledCostSplit"] == "proportional" for r in cursor)
    assert all(Decimal(r["BilledCost"]) < Decimal(r["x_UsageValue"]) for r in cursor)
    assert {r["BillingPeriodStart"] for r in cursor} <= {"2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"}


def test_a_synced_cursor_team_s_rows_carry_each_model_s_own_billed_part(capsys, monkeypatch) -> None:
    """A Cursor team synced through its fake keeps its on-demand part per day x model: each FOCUS row's
    BilledCost is that model's on-demand events to the micro-cent (`exact`), never a proportional share,
    and a day's rows add up to the day's billed as `report` gives it."""
    from grafient_tui.providers.cursor.fake import FakeCursorTeam, make_events
    from tests.conftest import GOOD_KEY
    from tests.oracle import event_timestamp, expected_model_on_demand

    events = make_events(
        seed=9,
        start=date(2026, 3, 1),
        days=12,
        per_day=25,
        members=["a@acme.dev", "b@acme.dev"],
        models=["gpt-5", "claude-4.5-sonnet", "o3"],
    )
    events = [e for e in events if event_timestamp(e) <= NOW.timestamp() * 1000]
    team = FakeCursorTeam(api_key=GOOD_KEY, events=events)
    with respx.mock(assert_all_called=False) as router:
        router.route(url__startswith=DEFAULT_API_URLS["cursor"]).mock(side_effect=team.handler)
        added = run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Cursor live", stdin=GOOD_KEY + "\n")
    assert added.code == 0, added.err
    done = run_cli(capsys, monkeypatch, "report", "Cursor live", "--days", "7", "--format", "focus")
    assert done.code == 0, done.err
    _, rows = focus_rows(done.out)
    assert rows and all(r["x_BilledCostSplit"] == "exact" for r in rows)
    want = {
        (day.isoformat(), model): Decimal(micro) / 100_000_000  # micro-cents
        for (day, model), micro in expected_model_on_demand(events).items()
        if day >= date(2026, 3, 6)
    }
    got = {(r["ChargePeriodStart"][:10], r["x_Model"]): Decimal(r["BilledCost"]) for r in rows}
    assert got == want
    # an included-only model bills 0 and a mixed one less than its usage value: not a proportional share
    assert any(Decimal(0) < Decimal(r["BilledCost"]) < Decimal(r["x_UsageValue"]) for r in rows)
    report = run_cli(capsys, monkeypatch, "report", "Cursor live", "--days", "7", "--format", "csv")
    billed = {
        d["date"]: Decimal(d["billed_usd"]) for d in csv.DictReader(io.StringIO(report.out)) if d["synced"] == "true"
    }
    per_day: dict[str, Decimal] = defaultdict(Decimal)
    for (day, _), amount in got.items():
        per_day[day] += amount
    assert {d: v for d, v in billed.items() if v or d in per_day} == dict(per_day)


def test_a_hostile_model_name_is_neutralised(mixed_home, capsys, monkeypatch) -> None:
    done = run_cli(capsys, monkeypatch, "report", "Cursor team", "--days", "7", "--format", "focus")
    assert done.code == 0, done.err
    assert "\x1b" not in done.out and "\u202e" not in done.out
    _, rows = focus_rows(done.out)
    hostile = [r for r in rows if "cmd|" in r["x_Model"]]
    assert hostile
    for r in hostile:
        assert r["x_Model"].startswith("'=cmd|") and "\\x1b" in r["x_Model"]
        assert not r["ChargeDescription"].startswith(("=", "+", "-", "@"))
        assert r["x_ModelKey"] and not r["x_ModelKey"].startswith(("=", "+", "-", "@"))


def test_output_writes_0600_atomically_and_refuses_a_planted_link(mixed_home, tmp_path, capsys, monkeypatch) -> None:
    shown = run_cli(capsys, monkeypatch, "report", "--days", "7", "--format", "focus")
    out = tmp_path / "focus.csv"
    out.write_text("old\n")
    out.chmod(0o644)
    done = run_cli(capsys, monkeypatch, "report", "--days", "7", "--format", "focus", "--output", str(out))
    assert done.code == 0 and done.out == "", done.err
    assert out.read_text(encoding="utf-8") == shown.out
    assert out.stat().st_mode & 0o777 == 0o600  # a new file renamed over the old one, 0600 from its first byte
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left

    # Any format goes to a file
    table = tmp_path / "table.txt"
    assert run_cli(capsys, monkeypatch, "report", "--days", "7", "--output", str(table)).code == 0
    assert "TOTAL" in table.read_text(encoding="utf-8")

    # A link planted where the file goes is refused, its target untouched
    target = tmp_path / "victim"
    target.write_text("precious\n")
    link = tmp_path / "planted.csv"
    link.symlink_to(target)
    refused = run_cli(capsys, monkeypatch, "report", "--format", "focus", "--output", str(link))
    assert refused.code == 2 and "symbolic link" in refused.err and refused.err.count("\n") == 1
    assert target.read_text() == "precious\n" and link.is_symlink()

    missing = run_cli(capsys, monkeypatch, "report", "--format", "focus", "--output", str(tmp_path / "no" / "f.csv"))
    assert missing.code == 2 and "not a directory" in missing.err
    a_dir = run_cli(capsys, monkeypatch, "report", "--format", "focus", "--output", str(tmp_path))
    assert a_dir.code == 2 and "not a regular file" in a_dir.err


def test_focus_has_its_own_rows(capsys, monkeypatch) -> None:
    done = run_cli(capsys, monkeypatch, "report", "--format", "focus", "--by", "model")
    assert done.code == 2 and "--format focus" in done.err


def test_billed_shares_add_up_exactly() -> None:
    assert _shares(100, [30, 70], 100) == ([30, 70], True)  # every dollar billed
    assert _shares(0, [30, 70], 100) == ([0, 0], True)  # none billed
    assert _shares(7, [100], 100) == ([7], True)
    shares, exact = _shares(10, [1, 1, 1], 3)
    assert not exact and sum(shares) == 10 and sorted(shares) == [3, 3, 4]
    shares, exact = _shares(999_999_937, [333, 667, 1], 1001)
    assert not exact and sum(shares) == 999_999_937


def test_each_model_s_own_billed_part_is_used_only_when_every_row_has_one() -> None:
    from grafient_tui.store.focus_charges import _own_shares, _Row

    a, b = _Row("a", None, 60, None, 20), _Row("b", None, 40, None, 0)
    assert _own_shares(20, [a, b]) == [20, 0]
    assert _own_shares(25, [a, b, _Row(None, None, 10, None)]) == [20, 0, 5]  # a cost no model holds: the rest
    assert _own_shares(20, [a, _Row("b", None, 40, None, None)]) is None  # a row stored before 0012
    assert _own_shares(30, [a, b]) is None  # parts that do not add up to the day's: not claimed exact
    # one model's day shared among its actors' rows: not known per row
    assert _own_shares(20, [_Row("a", "x@y", 30, None, 20), _Row("a", "z@y", 30, None, 20)]) is None


def test_no_day_never_synced_becomes_a_row(capsys, monkeypatch) -> None:
    settings = Settings.from_env()
    settings.ensure_dirs()
    db, vault = Database(settings), Vault(settings)
    seed_history(
        db, vault, label="T", until=date(2026, 3, 5), days=3, models=["m"], members=["a@x.dev"], seed=1, synced_at=NOW
    )
    db.dispose()
    done = run_cli(capsys, monkeypatch, "report", "--days", "30", "--format", "focus")
    _, rows = focus_rows(done.out)
    assert sorted({r["ChargePeriodStart"][:10] for r in rows}) == ["2026-03-03", "2026-03-04", "2026-03-05"]
    # One member on every day: the rows name them (exactly: the day's whole cost is theirs)
    assert {r["x_Member"] for r in rows} == {"a@x.dev"}


def test_an_integration_whose_cost_is_unknown_is_left_out_with_a_warning(capsys, monkeypatch) -> None:
    from sqlalchemy import text

    settings = Settings.from_env()
    settings.ensure_dirs()
    db, vault = Database(settings), Vault(settings)
    for label in ("Known", "Unpriced"):
        seed_history(
            db, vault, label=label, until=TODAY, days=3, models=["m"], members=["a@x.dev"], seed=2, synced_at=NOW
        )
    with db.engine.begin() as connection:
        connection.execute(
            text("UPDATE integration SET cost_basis = :basis WHERE label = 'Unpriced'"),
            {"basis": '{"cost_known": false}'},
        )
    db.dispose()
    done = run_cli(capsys, monkeypatch, "report", "--days", "7", "--format", "focus")
    assert done.code == 0
    assert (
        done.err == "grafient: warning: 'Unpriced' is left out: its cost is unknown, and FOCUS has no unknown cost.\n"
    )
    _, rows = focus_rows(done.out)
    assert rows and {r["BillingAccountName"] for r in rows} == {"Known"}  # never a $0 row for it


def test_a_name_planted_in_the_store_is_neutralised_in_every_csv_cell_and_a_100kb_one_refused(
    capsys, monkeypatch
) -> None:
    """A row written straight into a shared database (no provider's cap on the way): a formula at the
    longest a sync writes (255 characters) is neutralised in the FOCUS export and in the report's CSV;
    a 100 kB one is no row Grafient wrote (store/row_check.py): one sentence naming its place, exit 2,
    none of it on the screen."""
    from grafient_tui.untrusted import MAX_CSV_CELL

    def planted(name: str) -> None:
        settings = Settings.from_env()
        db, vault = Database(settings), Vault(settings)
        seed_history(
            db,
            vault,
            label="Cursor team",
            until=TODAY,
            days=3,
            models=[name],
            members=["a@acme.dev"],
            seed=5,
            synced_at=NOW,
        )
        db.dispose()

    planted("=cmd|" + "Z" * 250)
    focus = run_cli(capsys, monkeypatch, "report", "--days", "3", "--format", "focus")
    assert focus.code == 0, focus.err
    _, rows = focus_rows(focus.out)
    assert rows and all(len(cell) <= MAX_CSV_CELL for r in rows for cell in r.values())
    named = [r for r in rows if r["x_Model"]]
    assert named and all(r["x_Model"] == "'=cmd|" + "Z" * 250 for r in named)
    plain = run_cli(capsys, monkeypatch, "report", "--days", "3", "--by", "model", "--format", "csv")
    assert plain.code == 0, plain.err
    cells = [cell for line in csv.reader(io.StringIO(plain.out)) for cell in line]
    assert "'=cmd|" + "Z" * 250 in cells and not any(cell.startswith("=") for cell in cells)

    db = Database(Settings.from_env())
    with db.write_engine.begin() as connection:  # SQLite or the team's PostgreSQL alike
        connection.execute(text("UPDATE dailymodelcost SET model = :m"), {"m": "=cmd|" + "Z" * 100_000})
    db.dispose()
    for args in (("--format", "focus"), ("--by", "model", "--format", "csv")):
        refused = run_cli(capsys, monkeypatch, "report", "--days", "3", *args)
        assert refused.code == 2 and refused.out == ""
        assert "table dailymodelcost has a damaged value" in refused.err and "column model" in refused.err
        assert "ZZZZ" not in refused.err and len(refused.err.splitlines()) == 1
