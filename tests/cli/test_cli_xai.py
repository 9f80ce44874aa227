"""`grafient add xai`, `list`, `report`, `budget` and `pace` for xAI, end to end in-process: the fake team
answers at xAI's management address (or GRAFIENT_XAI_API_URL) through respx; the real client, engine and
store run; the management key arrives on stdin."""

from __future__ import annotations

import json
from datetime import date

import httpx
import pytest
import respx

from grafient_tui.providers.xai.api import WRONG_KEY
from grafient_tui.providers.xai.fake import DEMO_TEAM_ID, demo_account
from tests.helpers import all_bytes_under, run_cli

NOW = "2026-11-04T10:30:00+00:00"
TODAY = date(2026, 11, 4)
KEY = "xai-token-" + "Mn8Bv5Cx" * 10
API = "https://management-api.x.ai"


@pytest.fixture(autouse=True)
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFIENT_NOW", NOW)


def add(capsys, monkeypatch, *flags: str, key: str = KEY):
    return run_cli(capsys, monkeypatch, "add", "xai", "--label", "Grok", *flags, stdin=key + "\n")


def test_add_list_report_by_api_key(capsys, monkeypatch, grafient_home) -> None:
    team = demo_account(KEY, TODAY, seed=4)
    with respx.mock(base_url=API, assert_all_called=False) as router:
        router.route().mock(side_effect=team.handler)
        added = add(capsys, monkeypatch, "--team-id", DEMO_TEAM_ID)
    assert added.code == 0, added.err
    assert f"(xai --team-id {DEMO_TEAM_ID}, key xai-token-…" in added.out and "api keys)" in added.out
    [row] = json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out)
    assert row["provider"] == "xai" and row["status"] == "ok" and row["account"] == {"team_id": DEMO_TEAM_ID}

    report = json.loads(run_cli(capsys, monkeypatch, "report", "--days", "30", "--format", "json").out)
    [entry] = report["integrations"]
    assert entry["actor"] == "api_key"
    finished = [d for d in entry["days"] if d["complete"]]
    assert len(finished) == 29 and all(d["synced"] for d in entry["days"])  # a dense answer: every day synced
    assert all(d["requests"] is None and d["on_demand_usd"] is None for d in finished)  # unknown, not applicable
    by_key = json.loads(run_cli(capsys, monkeypatch, "report", "--by", "member", "--format", "json").out)
    actors = {m["actor"] for m in by_key["integrations"][0]["members"]}
    assert {"prod-backend", "eval-runner", "(no API key)"} <= actors
    assert sum(a.startswith("staging (") for a in actors) == 2  # two keys of one name, told apart
    table = run_cli(capsys, monkeypatch, "report", "--by", "member").out
    assert table.splitlines()[1].startswith("API KEY")
    everything = run_cli(capsys, monkeypatch, "report", "--by", "member", "--format", "csv").out
    assert "xai-..." not in everything and "xai-..." not in json.dumps(by_key)  # redacted keys never kept
    assert b"xai-..." not in all_bytes_under(grafient_home) and KEY.encode() not in all_bytes_under(grafient_home)


@pytest.mark.parametrize(
    ("answers", "sentence"),
    [
        ({"GET": httpx.Response(401, json={"code": 16, "message": "invalid key"})}, WRONG_KEY),
        (
            {
                "GET": httpx.Response(200, json={"scope": "SCOPE_TEAM", "scopeId": DEMO_TEAM_ID}),
                "POST": httpx.Response(403, json={"code": 7, "message": "team mismatch"}),
            },
            f"This management key does not belong to team {DEMO_TEAM_ID}.",
        ),
        (
            {
                "GET": httpx.Response(200, json={"scope": "SCOPE_TEAM", "scopeId": DEMO_TEAM_ID}),
                "POST": httpx.Response(403, json={"code": 7, "message": "denied"}),
            },
            "This management key cannot read the team's billing: give it Billing: Read Only.",
        ),
    ],
)
def test_refusals_are_one_sentence_exit_2_nothing_stored(capsys, monkeypatch, answers, sentence) -> None:
    with respx.mock(base_url=API, assert_all_called=False) as router:
        router.route().mock(side_effect=lambda request: answers[request.method])
        result = add(capsys, monkeypatch, "--team-id", DEMO_TEAM_ID)
    assert result.code == 2 and result.err == f"grafient: {sentence}\n"
    assert "team mismatch" not in result.err and KEY[-12:] not in result.err
    assert json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out) == []


@pytest.mark.parametrize(
    ("flags", "sentence"),
    [
        (["--team-id", "acme"], "The xAI team ID is a UUID (xAI Console → team settings)."),
        ([], "xAI needs --team-id UUID: The team's ID, a UUID (xAI Console → team settings)."),
        (["--team-id", DEMO_TEAM_ID, "--org", "acme"], "--org is not an option of `grafient add xai`."),
    ],
)
def test_the_team_id_is_checked_before_any_call_and_the_key_is_never_read(capsys, monkeypatch, flags, sentence):
    with respx.mock(base_url=API, assert_all_called=False) as router:
        route = router.route().mock(return_value=httpx.Response(500))
        result = run_cli(capsys, monkeypatch, "add", "xai", "--label", "Grok", *flags, stdin="")
        assert not route.called
    assert result.code == 2 and result.err == f"grafient: {sentence}\n"


def test_a_team_flag_on_another_provider_is_refused(capsys, monkeypatch) -> None:
    result = run_cli(
        capsys, monkeypatch, "add", "copilot", "--label", "C", "--org", "acme", "--team-id", DEMO_TEAM_ID, stdin=""
    )
    assert result.code == 2 and result.err == "grafient: --team-id is not an option of `grafient add copilot`.\n"


def test_no_on_demand_budget_and_the_address_and_pace_from_the_environment(capsys, monkeypatch) -> None:
    team = demo_account(KEY, TODAY, seed=4)
    monkeypatch.setenv("GRAFIENT_XAI_API_URL", "http://localhost:8799")
    with respx.mock(base_url="http://localhost:8799", assert_all_called=True) as router:
        router.route().mock(side_effect=team.handler)
        assert add(capsys, monkeypatch, "--team-id", DEMO_TEAM_ID, "--no-backfill").code == 0
    refused = run_cli(capsys, monkeypatch, "budget", "set", "Grok", "100", "--on-demand")
    assert refused.code == 2 and "xAI bills everything per use" in refused.err
    assert run_cli(capsys, monkeypatch, "budget", "set", "Grok", "100").code == 0
    monkeypatch.delenv("GRAFIENT_XAI_RPM")  # the tests' own "no pacing"
    assert "xai: 30 requests per minute (the provider's default)" in run_cli(capsys, monkeypatch, "pace").out
    monkeypatch.setenv("GRAFIENT_XAI_RPM", "12")
    assert "xai: 12 requests per minute (GRAFIENT_XAI_RPM on this machine)" in run_cli(capsys, monkeypatch, "pace").out


def test_a_team_already_connected_is_refused_under_another_key(capsys, monkeypatch) -> None:
    """The team id xAI confirms is the account: another management key of the same team is refused."""
    import dataclasses

    team = demo_account(KEY, TODAY, seed=4)
    other = "xai-token-" + "Kk4Ll7Mm" * 10
    again = dataclasses.replace(team, api_key=other, calls=[])

    def handler(request: httpx.Request) -> httpx.Response:
        sent = request.headers.get("authorization", "").removeprefix("Bearer ")
        return (again if sent == other else team).handler(request)

    with respx.mock(base_url=API, assert_all_called=False) as router:
        router.route().mock(side_effect=handler)
        assert add(capsys, monkeypatch, "--team-id", DEMO_TEAM_ID, "--no-backfill").code == 0
        refused = run_cli(
            capsys,
            monkeypatch,
            "add",
            "xai",
            "--label",
            "Twice",
            "--team-id",
            DEMO_TEAM_ID.upper(),
            stdin=other + "\n",
        )
    assert refused.code == 2 and "already connected as integration 1 ('Grok')" in refused.err, refused.err
    assert again.calls  # refused once xAI named the key's team, not before
    assert len(json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out)) == 1


def test_rekey_checks_the_new_key_against_the_stored_team(capsys, monkeypatch) -> None:
    from grafient_tui.providers.xai.fake import FakeXaiTeam

    team = demo_account(KEY, TODAY, seed=4)
    rotated = "xai-token-" + "Rr3Tt6Yy" * 10
    other = FakeXaiTeam(api_key="xai-token-" + "Oo1Pp2Qq" * 10, team_id="1b7e2d40-0000-4000-8000-000000000000")

    def handler(request: httpx.Request) -> httpx.Response:
        sent = request.headers.get("authorization", "").removeprefix("Bearer ")
        if sent == rotated:
            team.api_key = rotated  # the same team, its key rotated
        return (other if sent == other.api_key else team).handler(request)

    with respx.mock(base_url=API, assert_all_called=False) as router:
        router.route().mock(side_effect=handler)
        assert add(capsys, monkeypatch, "--team-id", DEMO_TEAM_ID, "--no-backfill").code == 0
        refused = run_cli(capsys, monkeypatch, "rekey", "Grok", stdin=other.api_key + "\n")
        assert refused.code == 2
        assert refused.err == f"grafient: This management key does not belong to team {DEMO_TEAM_ID}.\n"
        replaced = run_cli(capsys, monkeypatch, "rekey", "Grok", stdin=rotated + "\n")
    assert replaced.code == 0, replaced.err
    [row] = json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out)
    assert row["key_hint"].endswith(rotated[-4:]) and row["account"] == {"team_id": DEMO_TEAM_ID}
