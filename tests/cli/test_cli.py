"""The `grafient` command end to end, in-process, with the Cursor API faked by respx."""

from __future__ import annotations

import csv
import io
import json
import logging
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import respx

from grafient_tui.providers.cursor.fake import make_events
from tests.conftest import GOOD_KEY
from tests.fakes import CountingCursorTeam
from tests.helpers import OTHER_KEY, PATIENCE, all_bytes_under, route_by_key, run_cli, wide_open_paths

NOW = "2026-11-24T10:30:00Z"
TODAY = datetime(2026, 11, 24, tzinfo=UTC).date()
MEMBERS = [
    {"id": "user_1", "name": "Alex", "email": "a@x.io", "role": "owner", "isRemoved": False},
    {"name": "Sam", "email": "b@x.io", "role": "member"},
]


@pytest.fixture(autouse=True)
def pinned_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFIENT_NOW", NOW)


@pytest.fixture
def team() -> CountingCursorTeam:
    events = make_events(
        seed=4,
        start=TODAY - timedelta(days=30),
        days=31,
        per_day=8,
        members=["a@x.io", "b@x.io"],
        models=["gpt-5", "claude-4.5-sonnet"],
    )
    cutoff = datetime.fromisoformat(NOW.replace("Z", "+00:00")).timestamp() * 1000
    return CountingCursorTeam(
        api_key=GOOD_KEY, events=[e for e in events if int(e["timestamp"]) <= cutoff], members=MEMBERS
    )


@pytest.fixture
def other_team(team: CountingCursorTeam) -> CountingCursorTeam:
    """A second team (its own key and people) with the same usage as `team`."""
    return CountingCursorTeam(
        api_key=OTHER_KEY, events=team.events, members=[{"name": "Kim", "email": "kim@y.io", "role": "owner"}]
    )


@pytest.fixture
def api(team: CountingCursorTeam, other_team: CountingCursorTeam):
    with respx.mock(base_url="https://api.cursor.com", assert_all_called=False) as router:
        router.route().mock(side_effect=route_by_key(team, other_team))
        yield router


def cli(capsys, monkeypatch, *args, stdin=""):
    return run_cli(capsys, monkeypatch, *args, stdin=stdin)


def listed(capsys, monkeypatch) -> list[dict]:
    result = cli(capsys, monkeypatch, "list", "--format", "json")
    assert result.code == 0
    return json.loads(result.out)


# ------------------------------------------------------------------ add / list / remove


def test_add_validates_stores_encrypted_and_backfills(
    capsys, monkeypatch, api, team, grafient_home: Path, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    result = cli(capsys, monkeypatch, "add", "cursor", "--label", "Engineering", stdin=GOOD_KEY + "\n")
    assert result.code == 0, result.err
    assert "added integration 1 'Engineering'" in result.out and "2 members" in result.out
    assert "Engineering: 31 days written" in result.out
    assert team.calls["/teams/members"] == 1
    auth = api.calls[0].request.headers["authorization"]
    assert auth == httpx.BasicAuth(GOOD_KEY, "")._auth_header
    rows = listed(capsys, monkeypatch)
    assert [(r["id"], r["label"], r["provider"], r["key_hint"], r["status"]) for r in rows] == [
        (1, "Engineering", "cursor", "key_…" + GOOD_KEY[-4:], "ok")
    ]
    assert rows[0]["last_sync"].endswith("Z")
    table = cli(capsys, monkeypatch, "list")
    assert "Engineering" in table.out and "key_…" in table.out
    everything = all_bytes_under(grafient_home)
    assert GOOD_KEY.encode() not in everything
    for text in (result.out, result.err, table.out, caplog.text):
        assert GOOD_KEY not in text
    assert wide_open_paths(grafient_home) == []


def test_add_with_no_backfill_makes_no_usage_request(capsys, monkeypatch, api, team) -> None:
    result = cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", "--no-backfill", stdin=GOOD_KEY)
    assert result.code == 0
    assert team.event_requests == 0
    assert listed(capsys, monkeypatch)[0]["status"] == "never synced"


@pytest.mark.parametrize(
    ("response", "sentence"),
    [
        (
            httpx.Response(401, json={"error": "Unauthorized", "message": "Invalid API key"}),
            "the key was rejected by Cursor",
        ),
        (
            httpx.Response(403, json={"error": "Forbidden", "message": "Enterprise access required"}),
            "Enterprise access required (the Admin API is only available on Cursor Enterprise plans)",
        ),
        (httpx.ConnectError("connection refused"), "cannot reach the Cursor API"),
        (httpx.ReadTimeout("timed out"), "the Cursor API did not answer in time"),
        (
            httpx.Response(500, json={"error": "Internal Server Error", "message": "An unexpected error occurred"}),
            "HTTP 500",
        ),
    ],
    ids=["401", "403", "offline", "timeout", "500"],
)
def test_add_failures_give_their_sentence_exit_2_and_store_nothing(
    capsys,
    monkeypatch,
    grafient_home: Path,
    response,
    sentence,
) -> None:
    with respx.mock(base_url="https://api.cursor.com") as router:
        router.get("/teams/members").mock(
            side_effect=[response] * 6 if isinstance(response, httpx.Response) else response
        )
        result = cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=GOOD_KEY)
    assert result.code == 2
    assert sentence in result.err
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert GOOD_KEY not in result.err + result.out
    assert listed(capsys, monkeypatch) == []
    assert GOOD_KEY.encode() not in all_bytes_under(grafient_home)


def test_add_refuses_a_taken_label_before_asking_for_the_key(capsys, monkeypatch, api, team) -> None:
    assert cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", "--no-backfill", stdin=GOOD_KEY).code == 0
    result = cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=GOOD_KEY)
    assert result.code == 2 and "already exists" in result.err
    assert team.calls["/teams/members"] == 1
    assert len(listed(capsys, monkeypatch)) == 1


@pytest.mark.parametrize("label", ["eng", "ENG", " Eng ", "  eNg\t"])
def test_labels_that_differ_only_in_case_or_spaces_are_the_same(capsys, monkeypatch, api, label) -> None:
    assert cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", "--no-backfill", stdin=GOOD_KEY).code == 0
    result = cli(capsys, monkeypatch, "add", "cursor", "--label", label, stdin=OTHER_KEY)
    assert result.code == 2 and "already exists" in result.err and result.err.count("\n") == 1
    assert [r["label"] for r in listed(capsys, monkeypatch)] == ["Eng"]


def test_a_key_already_stored_is_refused_before_any_request(capsys, monkeypatch, api, team) -> None:
    assert cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=GOOD_KEY).code == 0
    calls = team.calls["/teams/members"]
    rows = json.loads(cli(capsys, monkeypatch, "report", "--format", "json").out)["summary"]
    result = cli(capsys, monkeypatch, "add", "cursor", "--label", "Platform", stdin=GOOD_KEY)
    assert result.code == 2 and result.out == ""
    assert result.err == (
        "grafient: this key is already stored for integration 1 ('Eng'); one team is added once, "
        "or every total counts it twice.\n"
    )
    assert team.calls["/teams/members"] == calls  # refused before the network
    assert [r["label"] for r in listed(capsys, monkeypatch)] == ["Eng"]
    assert json.loads(cli(capsys, monkeypatch, "report", "--format", "json").out)["summary"] == rows  # not doubled


def test_the_same_team_under_another_key_is_refused(capsys, monkeypatch, team) -> None:
    # a second Admin key of the same team: the same members answer /teams/members
    twin = CountingCursorTeam(api_key=OTHER_KEY, events=team.events, members=list(reversed(MEMBERS)))
    with respx.mock(base_url="https://api.cursor.com") as router:
        router.route().mock(side_effect=route_by_key(team, twin))
        assert cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=GOOD_KEY).code == 0
        result = cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng again", stdin=OTHER_KEY)
        assert result.code == 2 and "already connected as integration 1 ('Eng')" in result.err
        assert OTHER_KEY not in result.err
        assert [r["label"] for r in listed(capsys, monkeypatch)] == ["Eng"]
        # a rekey to the twin key is fine: it is the same team
        assert cli(capsys, monkeypatch, "rekey", "Eng", stdin=OTHER_KEY).code == 0


@pytest.mark.parametrize("stdin", ["", "\n", "   \n"])
def test_add_without_a_key_is_one_sentence(capsys, monkeypatch, api, stdin: str) -> None:
    result = cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=stdin)
    assert result.code == 2 and result.err.startswith("grafient: no API key given")
    assert listed(capsys, monkeypatch) == []


def test_the_key_is_never_read_from_argv(capsys, monkeypatch) -> None:
    result = cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", "--key", GOOD_KEY)
    assert result.code == 2 and "unrecognized arguments" in result.err
    assert "never from the command line" in result.err
    assert GOOD_KEY not in result.err and GOOD_KEY[4:30] not in result.err  # argparse echoes unknown args
    result = cli(capsys, monkeypatch, GOOD_KEY)
    assert result.code == 2 and GOOD_KEY[4:30] not in result.err


def test_remove_by_label_or_id_deletes_everything(capsys, monkeypatch, api) -> None:
    assert cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=GOOD_KEY).code == 0
    assert cli(capsys, monkeypatch, "add", "cursor", "--label", "Data", stdin=OTHER_KEY).code == 0
    report = json.loads(cli(capsys, monkeypatch, "report", "--format", "json").out)
    assert len(report["integrations"]) == 2
    refused = cli(capsys, monkeypatch, "remove", "eng")  # stdin piped: no terminal to confirm on
    assert (refused.code, refused.out) == (2, "")
    assert refused.err == "grafient: not removing 'Eng': there is no terminal to confirm on; add --yes to remove it.\n"
    assert len(listed(capsys, monkeypatch)) == 2  # nothing removed
    assert cli(capsys, monkeypatch, "remove", "eng", "--yes").code == 0  # case-insensitive label
    assert [r["label"] for r in listed(capsys, monkeypatch)] == ["Data"]
    from sqlmodel import select

    from grafient_tui.config import Settings
    from grafient_tui.store.db import Database
    from grafient_tui.store.models import DailyCost, SyncRun

    db = Database(Settings.from_env())
    with db.session() as session:
        assert set(session.exec(select(DailyCost.integration_id))) == {2}
        assert set(session.exec(select(SyncRun.integration_id))) == {2}
    result = cli(capsys, monkeypatch, "remove", "99", "--yes")
    assert result.code == 2 and "no integration with id or label '99'" in result.err


def test_plan_shows_and_sets(capsys, monkeypatch) -> None:
    assert cli(capsys, monkeypatch, "plan").out.startswith("free (backfills 30 days)")
    assert cli(capsys, monkeypatch, "plan", "pro").code == 0
    assert cli(capsys, monkeypatch, "plan").out == (
        "pro (backfills 365 days; OpenAI 180, OpenRouter 30, GitHub Copilot 730, xAI 90, ElevenLabs 90)\n"
    )
    bad = cli(capsys, monkeypatch, "plan", "enterprise")
    assert bad.code == 2 and "invalid choice" in bad.err and bad.err.count("\n") == 1


# ------------------------------------------------------------------ sync / report


def test_sync_prints_a_line_per_integration_and_exits_1_if_any_failed(capsys, monkeypatch, api, team) -> None:
    assert cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", "--no-backfill", stdin=GOOD_KEY).code == 0
    assert cli(capsys, monkeypatch, "add", "cursor", "--label", "Data", "--no-backfill", stdin=OTHER_KEY).code == 0
    result = cli(capsys, monkeypatch, "sync")
    assert result.code == 0
    assert result.out.splitlines() == [
        "Eng: 31 days written, 3 API calls, ok",
        "Data: 31 days written, 3 API calls, ok",
    ]  # two windows and /teams/spend
    # Data's key is revoked: Eng still syncs, Data fails, exit 1
    team_data_fail = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        team_data_fail["n"] += 1
        if team_data_fail["n"] > 1:
            return httpx.Response(401, json={"error": "Unauthorized", "message": "Invalid API key"})
        return team.handler(request)

    api.routes.clear()
    api.route().mock(side_effect=handler)
    result = cli(capsys, monkeypatch, "sync", "--force")
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0] == "Eng: 3 days written, 2 API calls, ok"  # its /teams/spend was refused: logged, the sync stands
    assert lines[1].startswith("Data: 0 days written, 1 API call, failed: the key was rejected by Cursor")


def test_report_json_has_every_day_and_matches_the_store(capsys, monkeypatch, api, team) -> None:
    assert cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=GOOD_KEY).code == 0
    data = json.loads(cli(capsys, monkeypatch, "report", "--days", "40", "--format", "json").out)
    assert (data["currency"], data["timezone"], data["since"], data["until"]) == (
        "USD",
        "UTC",
        (TODAY - timedelta(days=39)).isoformat(),
        TODAY.isoformat(),
    )
    days = data["integrations"][0]["days"]
    assert len(days) == 40
    assert [d["synced"] for d in days] == [False] * 9 + [True] * 31  # free plan: today-30 .. today
    assert days[-1]["complete"] is False and days[-2]["complete"] is True
    served = sum(1 for _ in team.events)
    assert [d["requests"] for d in days[:9]] == [None] * 9  # never synced: unknown, never 0
    assert sum(d["requests"] for d in days[9:]) == served
    first = next(d for d in days if d["requests"])
    assert abs(sum(m["cost_usd"] for m in first["models"]) - first["cost_usd"]) < 1e-9
    assert set(first) >= {
        "date",
        "synced",
        "complete",
        "cost_usd",
        "on_demand_usd",
        "included_usd",
        "requests",
        "request_units",
        "models",
    }
    by_model = json.loads(cli(capsys, monkeypatch, "report", "Eng", "--by", "model", "--format", "json").out)
    models = {m["model"] for m in by_model["integrations"][0]["models"]}
    assert models == {"gpt-5", "claude-4.5-sonnet"}
    by_member = cli(capsys, monkeypatch, "report", "--by", "member", "--format", "csv").out
    rows = list(csv.DictReader(io.StringIO(by_member)))
    assert {r["email"] for r in rows} == {"a@x.io", "b@x.io"}
    day_csv = list(csv.DictReader(io.StringIO(cli(capsys, monkeypatch, "report", "--format", "csv").out)))
    assert len(day_csv) == 30 and day_csv[0]["date"] == (TODAY - timedelta(days=29)).isoformat()
    table = cli(capsys, monkeypatch, "report", "--since", (TODAY - timedelta(days=2)).isoformat())
    assert table.code == 0 and "TOTAL" in table.out and "(today so far)" in table.out


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (["--days", "0"], "--days must be between 1 and 3660"),
        (["--days", "-5"], "--days must be between 1 and 3660"),
        (["--days", "99999999"], "--days must be between 1 and 3660"),
        (["--since", "2026-02-30"], "--since must be a date as YYYY-MM-DD"),
        (["--since", "2026-11-20", "--until", "2026-11-01"], "is after --until"),
        (["--since", "2026-11-20", "--until", "2027-01-01"], "is in the future"),
        (
            ["--since", "0001-01-01", "--until", "0001-01-02"],
            "--since 0001-01-01 is before 1970-01-01",
        ),  # was an OverflowError
        (["--since", "1969-12-31", "--format", "focus"], "--since 1969-12-31 is before 1970-01-01"),
        (["--until", "2026-11-01"], "--until goes with --since"),
        (["--days", "3", "--since", "2026-11-01"], "not allowed with argument"),
        (["nobody"], "no integration with id or label 'nobody'"),
        (["--by", "week"], "invalid choice"),
    ],
)
def test_report_bad_arguments_are_one_sentence_and_exit_2(capsys, monkeypatch, args, sentence) -> None:
    result = cli(capsys, monkeypatch, "report", *args)
    assert result.code == 2
    assert sentence in result.err and result.err.count("\n") == 1 and result.out == ""


def test_unexpected_errors_are_one_line_and_debug_shows_a_scrubbed_traceback(capsys, monkeypatch, api) -> None:
    assert cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", "--no-backfill", stdin=GOOD_KEY).code == 0

    def boom(*_a, **_k):
        raise RuntimeError(f"simulated bug holding {GOOD_KEY}")

    monkeypatch.setattr("grafient_tui.report.build_report", boom)
    result = cli(capsys, monkeypatch, "report")
    assert result.code == 1
    assert result.err == "grafient: unexpected error (RuntimeError); rerun with GRAFIENT_DEBUG=1 for details.\n"
    monkeypatch.setenv("GRAFIENT_DEBUG", "1")
    result = cli(capsys, monkeypatch, "report")
    assert result.code == 1 and "Traceback" in result.err and "simulated bug holding [redacted]" in result.err
    assert GOOD_KEY not in result.err


def test_help_and_version_run_as_a_module(grafient_home: Path) -> None:
    for args in (["--help"], ["--version"], ["report", "--help"]):
        done = subprocess.run(
            [sys.executable, "-m", "grafient_tui", *args], capture_output=True, text=True, timeout=PATIENCE
        )
        assert done.returncode == 0 and done.stdout
    assert (
        "grafient 0."
        in subprocess.run(
            [sys.executable, "-m", "grafient_tui", "--version"], capture_output=True, text=True, timeout=PATIENCE
        ).stdout
    )
    assert not grafient_home.exists()  # --help touches nothing


def test_rekey_replaces_the_key_and_keeps_history(capsys, monkeypatch, api, team, grafient_home) -> None:
    assert cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=GOOD_KEY).code == 0
    before = cli(capsys, monkeypatch, "report", "--format", "csv").out
    new_key = "crsr_" + "9f8e7d6c" * 8
    team.api_key = new_key  # Cursor rotated the key: the old one is now rejected
    rejected = cli(capsys, monkeypatch, "sync")
    assert rejected.code == 1 and "the key was rejected" in rejected.out
    bad = cli(capsys, monkeypatch, "rekey", "Eng", stdin=GOOD_KEY)
    assert bad.code == 2 and "the key was rejected" in bad.err
    result = cli(capsys, monkeypatch, "rekey", "Eng", stdin=new_key)
    assert result.code == 0 and "crsr_…" + new_key[-4:] in result.out
    assert listed(capsys, monkeypatch)[0]["key_hint"] == "crsr_…" + new_key[-4:]
    assert cli(capsys, monkeypatch, "report", "--format", "csv").out == before
    assert cli(capsys, monkeypatch, "sync").code == 0
    everything = all_bytes_under(grafient_home)
    assert new_key.encode() not in everything and GOOD_KEY.encode() not in everything


@pytest.mark.sqlite_only
def test_after_forgetting_the_master_key_rekey_brings_an_integration_back(
    capsys, monkeypatch, api, team, grafient_home
) -> None:
    assert cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=GOOD_KEY).code == 0
    history = cli(capsys, monkeypatch, "report", "--format", "csv").out
    (grafient_home / "master.key").unlink()
    failed = cli(capsys, monkeypatch, "sync")
    assert failed.code == 1 and "cannot decrypt stored keys" in failed.out
    assert cli(capsys, monkeypatch, "report", "--format", "csv").out == history  # history stays readable
    assert cli(capsys, monkeypatch, "rekey", "Eng", stdin=GOOD_KEY).code == 0
    assert (grafient_home / "master.key").stat().st_mode & 0o777 == 0o600
    assert cli(capsys, monkeypatch, "sync").code == 0


@pytest.mark.parametrize(("answer", "code", "left"), [("n", 0, ["Eng"]), ("", 0, ["Eng"]), ("y", 0, [])])
def test_remove_on_a_terminal_asks_and_a_no_keeps_everything_with_exit_0(
    capsys, monkeypatch, api, answer: str, code: int, left: list[str]
) -> None:
    """Declining is the user's choice, not a failure: README keeps exit 1 for failures."""
    import io

    assert cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", "--no-backfill", stdin=GOOD_KEY).code == 0

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    asked: list[str] = []
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or answer)
    monkeypatch.setattr("sys.stdin", Terminal())
    from grafient_tui.cli import main

    result = main(["remove", "Eng"])
    out = capsys.readouterr().out
    assert result == code and asked and "Eng" in asked[0]
    assert ("kept; nothing removed." in out) == (answer != "y")
    assert [r["label"] for r in listed(capsys, monkeypatch)] == left


@pytest.mark.parametrize("command", ["report", "list", "sync", "check"])
def test_demo_with_a_command_is_refused_in_one_sentence(capsys, monkeypatch, command: str) -> None:
    """`grafient --demo report` read the real home while the user thought it the demo's."""
    result = cli(capsys, monkeypatch, "--demo", command)
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        f"grafient: --demo opens the app on simulated accounts; `grafient {command}` has no demo "
        "(run `grafient --demo` for the app, or leave --demo out).\n"
    )


@pytest.mark.parametrize("command", ["add", "list", "remove", "rekey", "plan", "sync", "report"])
def test_every_subcommand_help_describes_itself_and_its_options(capsys, monkeypatch, command: str) -> None:
    result = cli(capsys, monkeypatch, command, "--help")
    assert result.code == 0
    text = " ".join(result.out.split())
    assert len(text) > 250  # a description, not only a usage line
    if command in ("add", "plan"):
        assert "pro and ultimate" in text and "30 days" in text  # the plans
    if command == "report":
        assert "--by" in text and "member, workspace or project" in text and "--format" in text
    if command == "list":
        assert "json for scripts" in text


def _every_parser(parser, prefix=()):
    """(the command's words, its parser) for the program and every subcommand, however deep."""
    import argparse

    yield prefix, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _every_parser(sub, (*prefix, name))


def test_every_subcommands_help_has_a_description_and_no_doubled_percent(capsys, monkeypatch) -> None:
    """argparse %-formats help strings but not descriptions: a '%%' there was printed as is."""
    from grafient_tui.cli import build_parser

    commands = [words for words, _ in _every_parser(build_parser()) if words]
    assert ("alert", "test") in commands and ("pace",) in commands
    for words in commands:
        result = cli(capsys, monkeypatch, *words, "--help")
        assert result.code == 0, words
        assert "%%" not in result.out, words
        _usage, _, rest = result.out.partition("\n\n")
        assert rest and not rest.startswith(("positional arguments:", "options:")), f"{words}: no description"
        for line in result.out.splitlines():
            if line.strip() in ("LABEL", "ID|LABEL"):
                raise AssertionError(f"{words}: {line.strip()} is not described")


def test_help_names_every_alert_event_and_mcp_tool(capsys, monkeypatch) -> None:
    alert = " ".join(cli(capsys, monkeypatch, "alert", "--help").out.split())
    assert "50/80/100%," in alert and "anomalies" in alert
    mcp = " ".join(cli(capsys, monkeypatch, "mcp", "--help").out.split())
    for tool in ("integrations", "spend", "budgets", "anomalies"):
        assert tool in mcp


def test_while_the_app_runs_debug_lines_go_to_a_private_file_not_the_terminal(
    capsys, monkeypatch, grafient_home: Path
) -> None:
    """`GRAFIENT_DEBUG=1 grafient --demo` wrote log lines over the app's screen."""
    from grafient_tui.cli import _debug_log_while_the_app_runs, _say_debug_log
    from grafient_tui.config import Settings

    loggers = [logging.getLogger("grafient"), logging.getLogger("psycopg")]
    kept = [(log.handlers[:], log.level, log.propagate) for log in loggers]
    try:
        monkeypatch.delenv("GRAFIENT_DEBUG", raising=False)
        assert _debug_log_while_the_app_runs(Settings.from_env()) is None
        monkeypatch.setenv("GRAFIENT_DEBUG", "1")
        path = _debug_log_while_the_app_runs(Settings.from_env())
        assert path == grafient_home / "debug.log"
        logging.getLogger("grafient.cursor").debug("GET /teams/spend -> 200 (attempt 1)")
        assert capsys.readouterr().err == ""  # nothing on the terminal the app draws on
        assert path.stat().st_mode & 0o777 == 0o600
        assert "grafient: grafient.cursor: GET /teams/spend -> 200 (attempt 1)" in path.read_text()
        _say_debug_log(path)
        assert capsys.readouterr().err == f"grafient: the debug log is {path}\n"
    finally:
        for log, (handlers, level, propagate) in zip(loggers, kept, strict=True):
            for handler in log.handlers:
                handler.close()
            log.handlers[:], log.level, log.propagate = handlers, level, propagate
