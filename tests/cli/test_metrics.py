"""`grafient metrics`: the Prometheus text exposition of a synced multi-provider home, parsed with the
official client's parser and compared with `grafient report`'s figures; unknown figures have no sample;
label values from outside are cleaned and bounded; `--output` writes node_exporter's textfile atomically.

The home is the demo's: one simulated account per provider, added and synced through the real clients,
engine and store (the network is the demo's MockTransport), with the demo's budgets.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from grafient_tui.config import Settings
from grafient_tui.demo import build_demo
from grafient_tui.figures import BILLED, IntegrationMetrics, MetricsFigures, PeriodSpend, SyncStatus
from grafient_tui.metrics import MAX_LABEL_VALUE, MAX_MODEL_SERIES, label_value, render_metrics
from grafient_tui.service import GrafientService
from grafient_tui.untrusted import visible
from tests.factories import add_demo_teams
from tests.helpers import PATIENCE, run_cli

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo's accounts (free plan: 30 days each), added and synced once for the module."""
    home = tmp_path_factory.mktemp("metrics") / "home"
    env = build_demo(now=NOW, latency=0, home=home)
    env.settings.set_plan("free")
    service = GrafientService(env.settings, transport=env.transport)

    asyncio.run(add_demo_teams(service, env.teams, NOW))
    for target, amount, period, on_demand in env.budgets:
        service.set_budget(target, amount, period=period, on_demand=on_demand, now=NOW)
    service.close()
    yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def home(demo_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("GRAFIENT_DATABASE_URL", raising=False)  # the demo's home is SQLite
    monkeypatch.setenv("GRAFIENT_HOME", str(demo_home))
    monkeypatch.setenv("GRAFIENT_NOW", NOW.isoformat())
    return demo_home


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Every sample by metric name, as the official parser reads the text."""
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge", family.name
        assert family.documentation, family.name
        for sample in family.samples:
            out.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return out


def metrics(capsys, monkeypatch, *args: str) -> str:
    result = run_cli(capsys, monkeypatch, "metrics", *args)
    assert result.code == 0 and result.err == "", result.err
    return result.out


def report_summary(capsys, monkeypatch, since: date, label: str) -> dict:
    """`grafient report LABEL --since SINCE --format json`'s summary, through today."""
    result = run_cli(capsys, monkeypatch, "report", label, "--since", since.isoformat(), "--format", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)["integrations"][0]["summary"]


def by_labels(found: list[tuple[dict[str, str], float]], **wanted: str) -> list[float]:
    return [value for labels, value in found if all(labels.get(k) == v for k, v in wanted.items())]


def test_every_integrations_spend_is_the_reports_figure_and_unknown_has_no_sample(capsys, monkeypatch, home) -> None:
    found = samples(metrics(capsys, monkeypatch))
    listed = json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out)
    assert len(listed) == 8  # one account per provider
    month = TODAY.replace(day=1)
    checked = 0
    for row in listed:
        who = {"integration_id": str(row["id"]), "integration": row["label"], "provider": row["provider"]}
        # The demo's Cursor team is on day 20 of its billing cycle; the others bill by the calendar month.
        cycle = TODAY - timedelta(days=19) if row["provider"] == "cursor" else month
        for period, since in (("today", TODAY), ("month_to_date", month), ("billing_cycle", cycle)):
            summary = report_summary(capsys, monkeypatch, since, row["label"])
            [synced] = by_labels(found["grafient_spend_synced_dates"], **who, period=period)
            [expected] = by_labels(found["grafient_spend_expected_dates"], **who, period=period)
            assert (synced, expected) == (summary["synced_days"], summary["expected_days"])
            billed = by_labels(found["grafient_spend_usd"], **who, period=period, amount="billed")
            usage = by_labels(found["grafient_spend_usd"], **who, period=period, amount="usage_value")
            if summary["synced_days"] == 0:  # OpenRouter reports finished days only: today is unknown, not $0
                assert (row["provider"], period) == ("openrouter", "today")
                assert billed == usage == []
                continue
            assert billed == [float(Decimal(summary["billed"]))]
            assert usage == [float(Decimal(summary["usage_value"]))]
            checked += 1
    assert checked == 8 * 3 - 1
    # Cursor bills its on-demand part: billed is below the usage value there, the same elsewhere.
    [cursor_billed] = by_labels(found["grafient_spend_usd"], provider="cursor", period="month_to_date", amount="billed")
    [cursor_usage] = by_labels(
        found["grafient_spend_usd"], provider="cursor", period="month_to_date", amount="usage_value"
    )
    assert 0 < cursor_billed < cursor_usage
    kinds = {labels["provider"]: labels["cost_basis"] for labels, value in found["grafient_integration_info"]}
    assert kinds["elevenlabs"] == "estimate" and kinds["anthropic"] == "billed"


def test_sync_state_and_last_success_are_the_lists(capsys, monkeypatch, home) -> None:
    found = samples(metrics(capsys, monkeypatch))
    for row in json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out):
        states = {
            labels["state"]: value
            for labels, value in found["grafient_sync_state"]
            if labels["integration"] == row["label"]
        }
        assert states.pop(row["status"]) == 1.0 and set(states.values()) == {0.0}
        [when] = by_labels(found["grafient_sync_last_success_timestamp_seconds"], integration=row["label"])
        assert int(when) == int(datetime.fromisoformat(row["last_sync"].replace("Z", "+00:00")).timestamp())


def test_each_budget_is_the_checks(capsys, monkeypatch, home) -> None:
    found = samples(metrics(capsys, monkeypatch))
    checked = json.loads(run_cli(capsys, monkeypatch, "check", "--format", "json").out)
    assert len(checked) == 2
    for budget in checked:
        who = {"budget": budget["target"], "period": budget["period"], "measure": "usage_value"}
        assert by_labels(found["grafient_budget_usd"], **who) == [budget["budget_usd"]]
        assert by_labels(found["grafient_budget_spent_usd"], **who) == [budget["spent_usd"]]
        assert by_labels(found["grafient_budget_forecast_usd"], **who) == [budget["forecast_usd"]]
        [ratio] = by_labels(found["grafient_budget_ratio"], **who)
        assert round(ratio * 100, 1) == budget["percent"]
        statuses = {
            labels["status"]: value
            for labels, value in found["grafient_budget_status"]
            if labels["budget"] == budget["target"]
        }
        assert statuses.pop(budget["status"]) == 1.0 and set(statuses.values()) == {0.0}


def test_models_only_with_by_model_and_they_add_up_to_the_usage_value(capsys, monkeypatch, home) -> None:
    plain = metrics(capsys, monkeypatch)
    assert "grafient_model_" not in plain and "model=" not in plain
    found = samples(metrics(capsys, monkeypatch, "--by-model"))
    assert "grafient_model_spend_others_usd" not in found  # the demo's accounts have fewer than 50 models
    month = TODAY.replace(day=1)
    for labels, usage in found["grafient_spend_usd"]:
        if labels["amount"] != "usage_value":
            continue
        who = {k: labels[k] for k in ("integration_id", "period")}
        models = by_labels(found["grafient_model_spend_usd"], **who)
        assert models and round(sum(models), 6) == round(usage, 6)
    # One integration's month against `report --by model`
    result = run_cli(
        capsys,
        monkeypatch,
        "report",
        "Acme Labs API",
        "--since",
        month.isoformat(),
        "--by",
        "model",
        "--format",
        "json",
    )
    reported = {m["model"]: m["cost_usd"] for m in json.loads(result.out)["integrations"][0]["models"]}
    exposed = {
        labels["model"]: value
        for labels, value in found["grafient_model_spend_usd"]
        if labels["integration"] == "Acme Labs API" and labels["period"] == "month_to_date"
    }
    assert exposed == reported


def test_promtool_accepts_the_output(capsys, monkeypatch, home) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not on PATH (Debian's prometheus package ships it; .ci/run installs it)")
    for args in ((), ("--by-model",)):
        text = metrics(capsys, monkeypatch, *args)
        checked = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
        assert checked.returncode == 0 and checked.stdout + checked.stderr == "", checked.stdout + checked.stderr


# --------------------------------------------------------------------------- unknown figures


def test_a_never_synced_integration_and_an_unknown_cost_have_no_spend_samples(
    capsys, monkeypatch, grafient_home
) -> None:
    """Anthropic added without its backfill (nothing synced: not $0), ElevenLabs synced but with a cost
    its provider cannot price (as a plan without a list price stores it)."""
    monkeypatch.delenv("GRAFIENT_DATABASE_URL", raising=False)
    monkeypatch.setenv("GRAFIENT_NOW", NOW.isoformat())
    env = build_demo(now=NOW, latency=0, home=grafient_home)
    env.settings.set_plan("free")
    service = GrafientService(env.settings, transport=env.transport)
    chosen = {team.provider: team for team in env.teams if team.provider in ("anthropic", "elevenlabs")}
    asyncio.run(add_demo_teams(service, [chosen["anthropic"]], NOW, backfill=False))
    asyncio.run(add_demo_teams(service, [chosen["elevenlabs"]], NOW))
    service.close()
    with sqlite3.connect(env.settings.data_dir / "grafient.db") as connection:
        connection.execute(
            "UPDATE integration SET cost_basis = ? WHERE provider = 'elevenlabs'", ('{"cost_known": false}',)
        )
    report = json.loads(run_cli(capsys, monkeypatch, "report", "--format", "json").out)
    voice = next(i for i in report["integrations"] if i["provider"] == "elevenlabs")
    assert voice["summary"]["synced_days"] > 0 and voice["summary"]["billed"] is None  # the report's unknown

    found = samples(metrics(capsys, monkeypatch, "--by-model"))
    assert "grafient_spend_usd" not in found and "grafient_model_spend_usd" not in found  # never 0
    kinds = {labels["provider"]: labels["cost_basis"] for labels, _ in found["grafient_integration_info"]}
    assert kinds == {"anthropic": "billed", "elevenlabs": "unknown"}
    states = {labels["provider"]: labels["state"] for labels, value in found["grafient_sync_state"] if value == 1.0}
    assert states == {"anthropic": "never_synced", "elevenlabs": "ok"}
    synced = {labels["provider"] for labels, _ in found["grafient_sync_last_success_timestamp_seconds"]}
    assert synced == {"elevenlabs"}  # never succeeded: no sample, not 1970
    month_days = by_labels(found["grafient_spend_synced_dates"], provider="anthropic", period="month_to_date")
    assert month_days == [0.0] and by_labels(
        found["grafient_spend_expected_dates"], provider="anthropic", period="month_to_date"
    ) == [24.0]


# --------------------------------------------------------------------------- label values from outside

HOSTILE = ["\x1b[2J\x1b]52;c;ZXZpbA==\x07", 'quote " and \\ backslash', "line\nbreak", "a\u202eb", "\ud800", "x" * 400]


def hostile_figures() -> MetricsFigures:
    status = SyncStatus(status="ok", last_sync=NOW, error=None)
    spend = PeriodSpend(
        period="today",
        since=TODAY,
        until=TODAY,
        billed_micro=1_234_000_000,
        usage_value_micro=1_234_000_000,
        synced_days=1,
        expected_days=1,
        # two names the same in their first 128 characters: one series, summed; 60 models, 50 series
        models={**dict.fromkeys(HOSTILE, 100_000_000), "y" * 200 + "1": 500_000_000, "y" * 200 + "2": 600_000_000}
        | {f"model-{n:02d}": 1_000_000 * n for n in range(52)},
    )
    integrations = tuple(
        IntegrationMetrics(integration_id=n, label=text, provider=text, basis=BILLED, status=status, spend=(spend,))
        for n, text in enumerate(HOSTILE, start=1)
    )
    return MetricsFigures(today=TODAY, integrations=integrations, budgets=(), by_model=True)


def test_label_values_from_outside_are_made_visible_and_bounded(tmp_path) -> None:
    data = render_metrics(hostile_figures())
    assert b'period="today",provider="line\\\\nbreak"} 12.34\n' in data  # exact cents, the escape escaped once more
    assert b"\x1b" not in data and b"\x07" not in data and "\u202e".encode() not in data
    found = samples(data.decode("utf-8"))
    labels = {values["integration"] for values, _ in found["grafient_integration_info"]}
    assert labels == {label_value(text) for text in HOSTILE} and all(len(text) <= MAX_LABEL_VALUE for text in labels)
    assert visible("line\nbreak") in labels and 'quote " and \\ backslash' in labels  # escaped, read back the same
    assert "x" * (MAX_LABEL_VALUE - 1) + "…" in labels
    first = [(values, value) for values, value in found["grafient_model_spend_usd"] if values["integration_id"] == "1"]
    assert len(first) == MAX_MODEL_SERIES
    merged = [value for values, value in first if values["model"].startswith("yyy")]
    assert merged == [11.0]  # the two long names read the same once cut: one series, both summed
    [others] = by_labels(found["grafient_model_spend_others_usd"], integration_id="1")
    everything = sum(value for _, value in first) + others
    assert round(everything, 6) == round(
        sum(m for m in hostile_figures().integrations[0].spend[0].models.values()) / 1e8, 6
    )
    promtool = shutil.which("promtool")
    if promtool is not None:
        checked = subprocess.run([promtool, "check", "metrics"], input=data, capture_output=True, timeout=60)
        assert checked.returncode == 0, checked.stdout + checked.stderr


# --------------------------------------------------------------------------- --output


def test_output_writes_the_textfile_readable_by_node_exporter(capsys, monkeypatch, home, tmp_path) -> None:
    target = tmp_path / "grafient.prom"
    result = run_cli(capsys, monkeypatch, "metrics", "--output", str(target))
    assert (result.code, result.out, result.err) == (0, "", "")
    assert target.read_text(encoding="utf-8") == metrics(capsys, monkeypatch)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # node_exporter runs as another user
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grafient.prom"]  # no temporary file left
    target.chmod(0o640)  # an administrator's choice is kept
    assert run_cli(capsys, monkeypatch, "metrics", "--output", str(target), "--by-model").code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o640 and "grafient_model_spend_usd" in target.read_text()


def test_a_failed_write_leaves_the_old_file_whole(capsys, monkeypatch, home, tmp_path) -> None:
    target = tmp_path / "grafient.prom"
    target.write_text("# the previous run's metrics\n")
    inode = target.stat().st_ino

    def fails(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fails)  # the disk fills while the new file is written
    result = run_cli(capsys, monkeypatch, "metrics", "--output", str(target))
    assert result.code == 2 and result.err == f"grafient: cannot write {target}: No space left on device.\n"
    assert target.read_text() == "# the previous run's metrics\n" and target.stat().st_ino == inode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grafient.prom"]


def test_a_planted_symlink_is_never_followed(capsys, monkeypatch, home, tmp_path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    target = tmp_path / "grafient.prom"
    target.symlink_to(victim)
    result = run_cli(capsys, monkeypatch, "metrics", "--output", str(target))
    assert result.code == 2 and result.err == (
        f"grafient: {target} is a symbolic link; Grafient does not write through one (name the file itself).\n"
    )
    assert victim.read_text() == "precious\n" and target.is_symlink()


def test_another_users_file_is_not_replaced(capsys, monkeypatch, home, tmp_path) -> None:
    """A .prom file someone else planted in a folder both can write (a textfile folder shared with a
    group) is refused, not replaced with its planted mode (0666 would let them rewrite the figures)."""
    target = tmp_path / "grafient.prom"
    target.write_text("# planted\n")
    target.chmod(0o666)
    owner = target.stat().st_uid
    monkeypatch.setattr(os, "getuid", lambda: owner + 1)  # the file is another user's
    result = run_cli(capsys, monkeypatch, "metrics", "--output", str(target))
    assert (
        result.code == 2
        and result.err == f"grafient: {target} belongs to another user; Grafient does not replace it.\n"
    )
    assert target.read_text() == "# planted\n" and sorted(p.name for p in tmp_path.iterdir()) == ["grafient.prom"]


@pytest.mark.parametrize(
    ("name", "sentence"),
    [
        (
            "grafient.txt",
            "node_exporter's textfile collector reads only files whose name ends in .prom (to write anywhere else, "
            "redirect standard output).",
        ),
        ("missing/grafient.prom", "{tmp}/missing is not a directory; create it first."),
        ("folder.prom", "{tmp}/folder.prom is not a regular file; Grafient writes only to one."),
    ],
)
def test_an_output_it_cannot_use_is_one_sentence_and_exit_2(
    capsys, monkeypatch, home, tmp_path, name, sentence
) -> None:
    (tmp_path / "folder.prom").mkdir()
    target = tmp_path / name
    result = run_cli(capsys, monkeypatch, "metrics", "--output", str(target))
    assert result.code == 2 and result.out == ""
    assert result.err.startswith("grafient: ") and result.err.endswith(sentence.format(tmp=tmp_path) + "\n")
    assert result.err.count("\n") == 1 and not (tmp_path / "grafient.txt").exists()


def test_a_store_fault_is_one_sentence_and_exit_2(capsys, monkeypatch, grafient_home, tmp_path) -> None:
    monkeypatch.delenv("GRAFIENT_DATABASE_URL", raising=False)
    settings = Settings.from_env()
    settings.ensure_dirs()
    (settings.data_dir / "grafient.db").write_bytes(b"this is not a database " * 200)
    target = tmp_path / "grafient.prom"
    target.write_text("# the previous run's metrics\n")
    for args in ((), ("--output", str(target))):
        result = run_cli(capsys, monkeypatch, "metrics", *args)
        assert result.code == 2 and result.out == "" and result.err.count("\n") == 1, result.err
        assert result.err.startswith("grafient: ") and "Traceback" not in result.err
    assert target.read_text() == "# the previous run's metrics\n"


def test_metrics_on_a_sqlite_home_load_no_sqlalchemy(home) -> None:
    probe = (
        "import sys\nfrom grafient_tui.cli import main\ncode = main(['metrics'])\n"
        "heavy = {'sqlalchemy', 'sqlmodel', 'alembic', 'httpx', 'textual'}\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & heavy)\n"
        "print('LOADED', ','.join(loaded) or 'none', 'CODE', code, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=PATIENCE, check=False
    )
    assert result.stderr.strip().splitlines()[-1] == "LOADED none CODE 0", result.stderr
    assert "grafient_spend_usd{" in result.stdout
