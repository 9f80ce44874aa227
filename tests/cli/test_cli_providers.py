"""`grafient add/list/report` for Anthropic, OpenAI and OpenRouter, end to end in-process.

Each provider's fake answers at its documented base URL through respx; the real clients, engine
and store run. Keys arrive on stdin.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import respx

from grafient_tui import providers
from grafient_tui.config import DEFAULT_API_URLS
from tests.helpers import all_bytes_under, run_cli

NOW = "2026-03-12T10:30:00+00:00"
TODAY = date(2026, 3, 12)
KEYS = {
    "anthropic": ("sk-ant-admin01-" + "Vb7nQ2" * 14, "sk-ant-api03-" + "Wr9x" * 20),
    "openai": ("sk-admin-" + "Hk3mP8qZ" * 4, "sk-proj-" + "Lt6w" * 10),
    "openrouter": ("sk-or-v1-" + "5e2f9a7c" * 8, "sk-or-v1-" + "0b1d3c4e" * 8),
}


def account(name: str, key: str, *, wrong_kind: str | None = None):
    """The provider's demo account for `key`; `wrong_kind` is a key the account takes as the wrong kind."""
    module = __import__(f"grafient_tui.providers.{name}.fake", fromlist=["demo_account"])
    good = module.demo_account(key, TODAY, 1)
    if wrong_kind is None:
        return good
    kind = {"anthropic": {"admin": False}, "openai": {"key_kind": "project"}, "openrouter": {"management": False}}[name]
    return providers.fake(name)(api_key=wrong_kind, **kind)


@pytest.fixture(autouse=True)
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFIENT_NOW", NOW)


def route(router: respx.Router, *accounts) -> None:
    def handler(request):
        sent = request.headers.get("x-api-key") or request.headers.get("authorization", "").removeprefix("Bearer ")
        for candidate in accounts:
            if candidate.api_key == sent:
                return candidate.handler(request)
        return accounts[0].handler(request)  # an unknown key: the account's own 401

    router.route().mock(side_effect=handler)


@pytest.mark.parametrize("name", ["anthropic", "openai", "openrouter"])
def test_add_list_and_report_for_each_provider(capsys, monkeypatch, grafient_home, name: str) -> None:
    good, _ = KEYS[name]
    with respx.mock(base_url=DEFAULT_API_URLS[name], assert_all_called=False) as router:
        route(router, account(name, good))
        added = run_cli(capsys, monkeypatch, "add", name, "--label", "Team", stdin=good + "\n")
        assert added.code == 0, added.err
    listed = run_cli(capsys, monkeypatch, "list", "--format", "json")
    [row] = json.loads(listed.out)
    assert row["provider"] == name and row["status"] == "ok"
    assert row["history_from"] is not None and row["key_hint"].endswith(good[-4:]) and good not in listed.out

    report = json.loads(run_cli(capsys, monkeypatch, "report", "--days", "7", "--format", "json").out)
    [entry] = report["integrations"]
    caps = providers.get(name).capabilities
    assert entry["provider"] == name and entry["actor"] == caps.actor_kind
    finished = [d for d in entry["days"] if d["complete"]]
    assert finished and all(d["cost_usd"] is not None for d in finished)
    if caps.has_requests:
        assert all(isinstance(d["requests"], int) for d in finished)
    else:
        assert all(d["requests"] is None for d in finished)  # unknown, never 0
        assert entry["summary"]["requests"] is None
    assert all(d["on_demand_usd"] is None for d in finished)  # not applicable outside Cursor
    by_member = json.loads(run_cli(capsys, monkeypatch, "report", "--by", "member", "--format", "json").out)
    actors = by_member["integrations"][0]["members"]
    assert actors and all(a["email"] is None and a["actor"] for a in actors)
    table = run_cli(capsys, monkeypatch, "report", "--by", "member").out
    assert caps.actor_kind.upper() in table
    assert good.encode() not in all_bytes_under(grafient_home)


@pytest.mark.parametrize("name", ["anthropic", "openai", "openrouter"])
def test_the_wrong_kind_of_key_is_one_sentence_exit_2_and_nothing_stored(capsys, monkeypatch, name: str) -> None:
    good, wrong = KEYS[name]
    with respx.mock(base_url=DEFAULT_API_URLS[name], assert_all_called=False) as router:
        route(router, account(name, good), account(name, good, wrong_kind=wrong))
        result = run_cli(capsys, monkeypatch, "add", name, "--label", "Team", stdin=wrong + "\n")
    assert result.code == 2
    assert result.err.count("\n") == 1 and providers.get(name).title in result.err
    expected = {"anthropic": "Admin key", "openai": "api.usage.read", "openrouter": "management key"}[name]
    assert expected in result.err and wrong not in result.err and wrong[-12:] not in result.err
    assert json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out) == []


@pytest.mark.parametrize("name", ["anthropic", "openai", "openrouter"])
@pytest.mark.parametrize("status", [401, 429, 500, "offline"])
def test_faults_at_add_are_one_sentence_and_exit_2(capsys, monkeypatch, name: str, status) -> None:
    import httpx

    good, _ = KEYS[name]
    with respx.mock(base_url=DEFAULT_API_URLS[name], assert_all_called=False) as router:
        if status == "offline":
            router.route().mock(side_effect=httpx.ConnectError("refused"))
        else:
            router.route().mock(return_value=httpx.Response(status, json={"error": {"message": "nope"}}))
        result = run_cli(capsys, monkeypatch, "add", name, "--label", "Team", stdin=good + "\n")
    assert result.code == 2 and result.err.count("\n") == 1, result.err
    assert good not in result.err and providers.get(name).title in result.err
    assert json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out) == []


def test_the_add_help_names_every_provider(capsys, monkeypatch) -> None:
    result = run_cli(capsys, monkeypatch, "add", "--help")
    assert result.code == 0
    out = result.out
    for name in providers.names():
        assert name in out


def test_day_totals_in_the_report_equal_the_sum_of_models(capsys, monkeypatch) -> None:
    good, _ = KEYS["openrouter"]
    with respx.mock(base_url=DEFAULT_API_URLS["openrouter"], assert_all_called=False) as router:
        route(router, account("openrouter", good))
        assert run_cli(capsys, monkeypatch, "add", "openrouter", "--label", "Proto", stdin=good + "\n").code == 0
    report = json.loads(run_cli(capsys, monkeypatch, "report", "--days", "30", "--format", "json").out)
    days = report["integrations"][0]["days"]
    today = [d for d in days if d["date"] == TODAY.isoformat()]
    assert today and not today[0]["synced"]  # OpenRouter never reports today: not a $0 day
    for d in days:
        if d["synced"]:
            assert round(sum(m["cost_usd"] for m in d["models"]), 6) == round(d["cost_usd"], 6)


def test_an_anthropic_integration_with_nothing_stored_has_unknown_requests_not_0(capsys, monkeypatch) -> None:
    good, _ = KEYS["anthropic"]
    with respx.mock(base_url=DEFAULT_API_URLS["anthropic"], assert_all_called=False) as router:
        route(router, account("anthropic", good))
        assert (
            run_cli(capsys, monkeypatch, "add", "anthropic", "--label", "Labs", "--no-backfill", stdin=good + "\n").code
            == 0
        )
    summary = json.loads(run_cli(capsys, monkeypatch, "report", "--format", "json").out)["summary"]
    assert summary["requests"] is None and summary["on_demand_usd"] is None


def test_a_total_over_cursor_and_anthropic_says_its_request_count_is_partial(capsys, monkeypatch) -> None:
    from grafient_tui.providers.cursor.fake import make_events
    from tests.conftest import GOOD_KEY
    from tests.fakes import CountingCursorTeam

    good, _ = KEYS["anthropic"]
    team = CountingCursorTeam(
        api_key=GOOD_KEY,
        events=make_events(
            seed=2, start=TODAY - timedelta(days=10), days=10, per_day=3, members=["a@x.io"], models=["gpt-5"]
        ),
    )
    with respx.mock(base_url=DEFAULT_API_URLS["anthropic"], assert_all_called=False) as router:
        route(router, account("anthropic", good))
        assert run_cli(capsys, monkeypatch, "add", "anthropic", "--label", "Labs", stdin=good + "\n").code == 0
    with respx.mock(base_url=DEFAULT_API_URLS["cursor"], assert_all_called=False) as router:
        router.route().mock(side_effect=team.handler)
        assert run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=GOOD_KEY + "\n").code == 0
    report = json.loads(run_cli(capsys, monkeypatch, "report", "--days", "7", "--format", "json").out)
    assert report["summary"]["requests"] > 0 and report["summary"]["requests_partial"] is True
    cursor = next(i for i in report["integrations"] if i["provider"] == "cursor")
    assert cursor["summary"]["requests_partial"] is False
    words = run_cli(capsys, monkeypatch, "report", "--days", "7").out
    assert "where counted; some providers give none" in words


UNIDENTIFIED_OPENAI = (
    "grafient: the key works, but OpenAI did not say which account it belongs to (the key may not list its "
    "projects), so Grafient cannot check that this account is not connected already (an account added twice "
    "counts twice in every total); if you are sure it is not, add it again with --allow-unidentified. Nothing "
    "was stored.\n"
)


def test_a_key_whose_account_cannot_be_identified_is_added_only_when_allowed(capsys, monkeypatch) -> None:
    """An OpenAI key that may not list projects names no organization, so "one account, one integration"
    cannot be checked: `add` says so (exit 2, nothing stored) rather than skip the check, and adds it
    with --allow-unidentified."""
    good, _ = KEYS["openai"]
    org = account("openai", good)
    org.key_kind = "costs_only"  # the projects list answers 403
    with respx.mock(base_url=DEFAULT_API_URLS["openai"], assert_all_called=False) as router:
        route(router, org)
        refused = run_cli(capsys, monkeypatch, "add", "openai", "--label", "Chat", stdin=good + "\n")
        assert (refused.code, refused.out, refused.err) == (2, "", UNIDENTIFIED_OPENAI)
        assert json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out) == []
        added = run_cli(
            capsys, monkeypatch, "add", "openai", "--label", "Chat", "--allow-unidentified", stdin=good + "\n"
        )
        assert (added.code, added.err) == (0, ""), added
    [row] = json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out)
    assert (row["label"], row["status"]) == ("Chat", "ok")
