"""`grafient add copilot`, `list`, `report`, `budget` and `pace` for GitHub Copilot, end to end in-process:
the fake organization answers at GitHub's address (or GRAFIENT_COPILOT_API_URL) through respx; the real
client, engine and store run; the token arrives on stdin."""

from __future__ import annotations

import json
from datetime import date

import httpx
import pytest
import respx

from grafient_tui.providers.copilot.fake import demo_account
from tests.helpers import all_bytes_under, run_cli

NOW = "2026-12-07T10:30:00+00:00"
TODAY = date(2026, 12, 7)
TOKEN = "ghp_" + "Hq7Lw2Xe9R" * 3 + "mN4bVc"
API = "https://api.github.com"


@pytest.fixture(autouse=True)
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFIENT_NOW", NOW)


@pytest.fixture
def github():
    account = demo_account(TOKEN, TODAY, seed=5)
    with respx.mock(base_url=API, assert_all_called=False) as router:
        router.route().mock(side_effect=account.handler)
        yield account


def add(capsys, monkeypatch, *flags: str, token: str = TOKEN):
    return run_cli(capsys, monkeypatch, "add", "copilot", "--label", "Copilot", *flags, stdin=token + "\n")


def test_add_list_report_for_an_organization(capsys, monkeypatch, grafient_home, github) -> None:
    added = add(capsys, monkeypatch, "--org", "acme")
    assert added.code == 0, added.err
    assert "(copilot --org acme, key ghp_…" in added.out and "12 members" in added.out
    [row] = json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out)
    assert row["provider"] == "copilot" and row["status"] == "ok" and row["account"] == {"org": "acme"}
    assert row["history_from"] is not None and TOKEN not in json.dumps(row)

    report = json.loads(run_cli(capsys, monkeypatch, "report", "--days", "40", "--format", "json").out)
    [entry] = report["integrations"]
    assert entry["actor"] == "member"
    finished = [d for d in entry["days"] if d["complete"]]
    assert finished and all(d["requests"] is None for d in finished)  # unknown, never 0
    for d in finished:  # the bill and the usage value kept apart: on-demand + included = cost
        assert d["on_demand_usd"] is not None and d["included_usd"] is not None
        assert round(d["on_demand_usd"] + d["included_usd"], 6) == round(d["cost_usd"], 6)
    assert any(d["on_demand_usd"] > 0 for d in finished) and any(d["included_usd"] > 0 for d in finished)

    people = json.loads(
        run_cli(capsys, monkeypatch, "report", "--days", "31", "--by", "member", "--format", "json").out
    )
    actors = {m["actor"] for m in people["integrations"][0]["members"]}
    assert all(m["email"] is None for m in people["integrations"][0]["members"])  # logins, not emails
    assert "maya-chen" in actors and "(other usage)" in actors and "(all users)" not in actors  # 31 days: split
    assert TOKEN.encode() not in all_bytes_under(grafient_home)


def test_an_on_demand_budget_watches_the_copilot_bill(capsys, monkeypatch) -> None:
    """Late in the month the pooled allowance has run out: the on-demand budget counts the bill only."""
    monkeypatch.setenv("GRAFIENT_NOW", "2026-11-28T10:30:00+00:00")
    account = demo_account(TOKEN, date(2026, 11, 28), seed=5)
    with respx.mock(base_url=API, assert_all_called=False) as router:
        router.route().mock(side_effect=account.handler)
        assert add(capsys, monkeypatch, "--org", "acme").code == 0
    result = run_cli(capsys, monkeypatch, "budget", "set", "Copilot", "50", "--on-demand")
    assert result.code == 0, result.err
    assert "counting on-demand cost" in result.out
    [status] = json.loads(run_cli(capsys, monkeypatch, "check", "--format", "json").out)
    days = json.loads(run_cli(capsys, monkeypatch, "report", "--since", "2026-11-01", "--format", "json").out)
    [entry] = days["integrations"]
    billed = sum(d["on_demand_usd"] for d in entry["days"])
    assert status["measure"] == "on_demand" and status["spent_usd"] > 0
    assert round(status["spent_usd"], 6) == round(billed, 6) < sum(d["cost_usd"] for d in entry["days"])


@pytest.mark.parametrize(
    ("flags", "answer", "sentence"),
    [
        (["--org", "acme"], httpx.Response(401, json={"message": "Bad credentials"}), "GitHub rejected this token"),
        (
            ["--org", "acme"],
            httpx.Response(403, json={"message": "Resource not accessible by personal access token"}),
            "This token cannot read the billing of acme: use a fine-grained token of acme",
        ),
        (["--org", "acme"], httpx.Response(404, json={"message": "Not Found"}), "GitHub shows no organization acme"),
        (
            ["--enterprise", "acme-corp"],
            httpx.Response(403, json={"message": "Resource not accessible by personal access token"}),
            "Enterprise billing needs a classic token (ghp_…)",
        ),
    ],
)
def test_refusals_are_one_sentence_exit_2_nothing_stored(capsys, monkeypatch, flags, answer, sentence) -> None:
    with respx.mock(base_url=API, assert_all_called=False) as router:
        router.route().mock(return_value=answer)
        result = add(capsys, monkeypatch, *flags)
    assert result.code == 2 and result.err.count("\n") == 1 and sentence in result.err
    assert "Resource not accessible" not in result.err and TOKEN[-12:] not in result.err
    assert json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out) == []


def test_an_organization_already_connected_is_refused_under_another_token(capsys, monkeypatch) -> None:
    """The organization (its name, case aside) is the account: another owner's token for it is refused,
    one integration per organization, or every total counts it twice."""
    import dataclasses

    account = demo_account(TOKEN, TODAY, seed=5)
    other = "ghp_" + "Zt5Kp8Ws3D" * 3 + "qR7yUi"
    again = dataclasses.replace(account, api_key=other, calls=[])

    def handler(request: httpx.Request) -> httpx.Response:
        sent = request.headers.get("authorization", "").removeprefix("Bearer ")
        return (again if sent == other else account).handler(request)

    with respx.mock(base_url=API, assert_all_called=False) as router:
        router.route().mock(side_effect=handler)
        assert add(capsys, monkeypatch, "--org", "acme", "--no-backfill").code == 0
        refused = run_cli(
            capsys, monkeypatch, "add", "copilot", "--label", "Twice", "--org", "ACME", stdin=other + "\n"
        )
    assert refused.code == 2 and "already connected as integration 1 ('Copilot')" in refused.err, refused.err
    assert again.calls  # refused after GitHub answered for the organization, not before
    assert [row["label"] for row in json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out)] == [
        "Copilot"
    ]


@pytest.mark.parametrize(
    ("flags", "sentence"),
    [
        ([], "GitHub Copilot needs one of --org ORG or --enterprise SLUG."),
        (
            ["--org", "acme", "--enterprise", "acme-corp"],
            "GitHub Copilot needs only one of --org ORG or --enterprise SLUG.",
        ),
        (["--org=-acme"], "A GitHub organization name is letters, digits and hyphens"),
        (["--org", "acme/../x"], "A GitHub organization name is letters, digits and hyphens"),
    ],
)
def test_the_organization_or_enterprise_is_checked_before_the_token_is_read(capsys, monkeypatch, flags, sentence):
    with respx.mock(base_url=API, assert_all_called=False) as router:
        route = router.route().mock(return_value=httpx.Response(500))
        result = run_cli(capsys, monkeypatch, "add", "copilot", "--label", "Copilot", *flags, stdin="")
        assert not route.called
    assert result.code == 2 and sentence in result.err and result.err.count("\n") == 1


def test_the_api_address_and_pace_come_from_the_environment(capsys, monkeypatch) -> None:
    account = demo_account(TOKEN, TODAY, seed=5)
    monkeypatch.setenv("GRAFIENT_COPILOT_API_URL", "http://127.0.0.1:8765/github")
    with respx.mock(base_url="http://127.0.0.1:8765/github", assert_all_called=True) as router:
        router.route().mock(side_effect=lambda request: account.handler(_strip(request, "/github")))
        assert add(capsys, monkeypatch, "--org", "acme", "--no-backfill").code == 0
    monkeypatch.setenv("GRAFIENT_COPILOT_RPM", "90")
    assert (
        "copilot: 90 requests per minute (GRAFIENT_COPILOT_RPM on this machine)"
        in run_cli(capsys, monkeypatch, "pace", "copilot").out
    )
    monkeypatch.delenv("GRAFIENT_COPILOT_RPM")
    assert "copilot: 240 requests per minute (the provider's default)" in run_cli(capsys, monkeypatch, "pace").out
    monkeypatch.setenv("GRAFIENT_COPILOT_API_URL", "http://github.example")
    result = run_cli(capsys, monkeypatch, "list")
    assert result.code == 2 and "GRAFIENT_COPILOT_API_URL must use https" in result.err


def _strip(request: httpx.Request, prefix: str) -> httpx.Request:
    """The request as the fake expects it at GitHub's root (the proxy's path prefix taken off)."""
    url = request.url.copy_with(path=request.url.path.removeprefix(prefix))
    return httpx.Request(request.method, url, headers=request.headers)
