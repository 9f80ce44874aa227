"""Unknown is never 0 (issue 21), through a real sync of the providers' fakes to every output of
`grafient report`: null in JSON, an empty cell in CSV, `—` in the table.

The cases: OpenAI's embeddings and web search (their costs come, no usage endpoint Grafient reads
counts them), a Cursor model whose events carry no token counts (and one whose tokens are missing
on one day only: the days that report them still add up), request units where the provider has
none, and a day a provider has not reported yet.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest
import respx

from grafient_tui.config import DEFAULT_API_URLS
from grafient_tui.figures import NOT_REPORTED, OVER_REPORTING, OVER_REPORTING_NOTE
from grafient_tui.providers.cursor.fake import FakeCursorTeam
from grafient_tui.providers.openai.fake import FakeOpenAIOrg
from tests.conftest import GOOD_KEY
from tests.helpers import run_cli

NOW = "2026-03-12T10:30:00+00:00"
TODAY = date(2026, 3, 12)
DAY1, DAY2 = TODAY - timedelta(days=2), TODAY - timedelta(days=1)
OPENAI_KEY = "sk-admin-" + "Hk3mP8qZ" * 4
UNKNOWN = "—"


@pytest.fixture(autouse=True)
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFIENT_NOW", NOW)


def _cost(line_item: str, value: str, project: str | None = "proj_chat") -> dict:
    return {
        "object": "organization.costs.result",
        "amount": {"value": value, "currency": "usd"},
        "line_item": line_item,
        "project_id": project,
    }


def _use(model: str, requests: int, tokens: int, output: int) -> dict:
    return {
        "object": "organization.usage.completions.result",
        "model": model,
        "project_id": None,
        "num_model_requests": requests,
        "input_tokens": tokens,
        "input_cached_tokens": 0,
        "input_cache_write_tokens": 0,
        "output_tokens": output,
    }


def openai_org() -> FakeOpenAIOrg:
    costs = {
        day: [
            _cost("gpt-5, input", "1.25"),
            _cost("gpt-5, output", "2.50"),
            _cost("text-embedding-3-large, input", "0.13"),
            _cost("Web search tool calls", "0.50", None),
        ]
        for day in (DAY1, DAY2)
    }
    usage = {day: [_use("gpt-5", 40, 1_000, 300)] for day in (DAY1, DAY2)}
    return FakeOpenAIOrg(
        api_key=OPENAI_KEY,
        projects=[{"id": "proj_chat", "name": "Chat assistant"}],
        costs=costs,
        usage=usage,
        today=TODAY,
    )


def _event(day: date, hour: int, model: str, *, tokens: bool) -> dict:
    event = {
        "timestamp": str(int((day - date(1970, 1, 1)).days * 86_400_000 + hour * 3_600_000)),
        "userEmail": "a@x.io",
        "model": model,
        "kind": "Usage-based",
        "isChargeable": True,
        "isTokenBasedCall": tokens,
        "requestsCosts": 1,
        "chargedCents": 10,
    }
    if tokens:
        event["tokenUsage"] = {"inputTokens": 100, "outputTokens": 20, "cacheWriteTokens": 0, "cacheReadTokens": 5}
    return event


def cursor_team() -> FakeCursorTeam:
    events = [
        # A model billed per request: none of its events counts tokens
        _event(DAY1, 9, "request-model", tokens=False),
        _event(DAY2, 9, "request-model", tokens=False),
        # gpt-5 counts tokens on DAY1; on DAY2 its one event does not (the day's other events do)
        _event(DAY1, 10, "gpt-5", tokens=True),
        _event(DAY1, 11, "gpt-5", tokens=True),
        _event(DAY2, 10, "gpt-5", tokens=False),
        _event(DAY2, 11, "claude-4.5-sonnet", tokens=True),
    ]
    return FakeCursorTeam(api_key=GOOD_KEY, events=events, members=[{"name": "A", "email": "a@x.io", "role": "owner"}])


def add(capsys, monkeypatch, provider: str, key: str, account: object) -> None:
    with respx.mock(base_url=DEFAULT_API_URLS[provider], assert_all_called=False) as router:
        router.route().mock(side_effect=account.handler)  # type: ignore[attr-defined]
        added = run_cli(capsys, monkeypatch, "add", provider, "--label", provider.title(), stdin=key + "\n")
    assert added.code == 0, added.err


def by_model(capsys, monkeypatch) -> tuple[dict[str, dict], dict[str, dict[str, str]], dict[str, list[str]]]:
    """The models of the only integration over DAY1..DAY2 as JSON, CSV and table rows, by model name."""
    span = ("--since", DAY1.isoformat(), "--until", DAY2.isoformat(), "--by", "model")
    as_json = json.loads(run_cli(capsys, monkeypatch, "report", *span, "--format", "json").out)
    models = {m["model"]: m for m in as_json["integrations"][0]["models"]}
    as_csv = {
        r["model"]: r
        for r in csv.DictReader(io.StringIO(run_cli(capsys, monkeypatch, "report", *span, "--format", "csv").out))
    }
    table = run_cli(capsys, monkeypatch, "report", *span).out.splitlines()
    rows = {name: line[len(name) :].split() for name in models for line in table if line.startswith(name + " ")}
    return models, as_csv, rows


def report_table(capsys, monkeypatch) -> str:
    span = ("--since", DAY1.isoformat(), "--until", DAY2.isoformat(), "--by", "model")
    return run_cli(capsys, monkeypatch, "report", *span).out


def total_row(table: str) -> list[str]:
    return next(line.split() for line in table.splitlines() if line.startswith("TOTAL"))


def test_openai_embeddings_and_web_search_have_unknown_requests_and_tokens(capsys, monkeypatch) -> None:
    add(capsys, monkeypatch, "openai", OPENAI_KEY, openai_org())
    models, as_csv, rows = by_model(capsys, monkeypatch)
    assert set(models) == {"gpt-5", "text-embedding-3-large", "Web search tool calls"}
    counts = ("requests", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
    # The completions model: its usage lines count it, its cost lines add nothing to the counts
    assert [models["gpt-5"][c] for c in counts] == [80, 2_000, 600, 0, 0]
    assert models["gpt-5"]["cost_usd"] == 7.5
    for silent in ("text-embedding-3-large", "Web search tool calls"):
        assert models[silent]["cost_usd"] > 0
        assert [models[silent][c] for c in counts] == [None] * 5  # null, never 0
        # not reported (no line of it counts them), which is not unknown: the flags say which
        assert (models[silent]["reports_requests"], models[silent]["reports_tokens"]) == (False, False)
        assert [as_csv[silent][c] for c in counts] == [""] * 5
        assert (as_csv[silent]["reports_requests"], as_csv[silent]["reports_tokens"]) == ("false", "false")
        assert rows[silent][-3:] == [NOT_REPORTED] * 3  # requests, input, output
    assert (models["gpt-5"]["reports_requests"], models["gpt-5"]["reports_tokens"]) == (True, True)
    assert [as_csv["gpt-5"][c] for c in counts] == ["80", "2000", "600", "0", "0"]
    assert rows["gpt-5"][-3:] == ["80", "2,000", "600"]
    # The total's requests are gpt-5's, the one model that reports them, and the table says so
    table = report_table(capsys, monkeypatch)
    assert total_row(table)[-2:] == ["80", OVER_REPORTING.strip()]
    assert OVER_REPORTING_NOTE in table

    # The days: their completion requests are known; OpenAI has no request units
    span = ("--since", DAY1.isoformat(), "--until", DAY2.isoformat())
    days = json.loads(run_cli(capsys, monkeypatch, "report", *span, "--format", "json").out)["integrations"][0]["days"]
    assert [(d["requests"], d["request_units"]) for d in days] == [(40, None), (40, None)]
    day_csv = list(csv.DictReader(io.StringIO(run_cli(capsys, monkeypatch, "report", *span, "--format", "csv").out)))
    assert [(r["requests"], r["request_units"]) for r in day_csv] == [("40", ""), ("40", "")]
    table = run_cli(capsys, monkeypatch, "report", *span).out
    assert "UNITS" in table and all(
        f"{UNKNOWN}  gpt-5" in line for line in table.splitlines() if line.startswith("2026")
    )


def test_a_cursor_model_without_token_counts_has_unknown_tokens(capsys, monkeypatch) -> None:
    add(capsys, monkeypatch, "cursor", GOOD_KEY, cursor_team())
    models, as_csv, rows = by_model(capsys, monkeypatch)
    request_model = models["request-model"]
    assert request_model["requests"] == 2  # each event is a request, counted
    tokens = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
    assert [request_model[t] for t in tokens] == [None] * 4
    assert (request_model["reports_requests"], request_model["reports_tokens"]) == (True, False)
    assert [as_csv["request-model"][t] for t in tokens] == [""] * 4
    assert rows["request-model"][-3:] == ["2", NOT_REPORTED, NOT_REPORTED]
    # every model reports its requests: a plain total
    assert total_row(report_table(capsys, monkeypatch))[-1] == "6"
    # gpt-5's one event without tokens adds nothing: the two that count them are its tokens
    assert (models["gpt-5"]["requests"], models["gpt-5"]["input_tokens"], models["gpt-5"]["output_tokens"]) == (
        3,
        200,
        40,
    )
    assert rows["gpt-5"][-3:] == ["3", "200", "40"]
    assert [as_csv["claude-4.5-sonnet"][t] for t in tokens] == ["100", "20", "5", "0"]
    # the days' units are Cursor's own, known
    span = ("--since", DAY1.isoformat(), "--until", DAY2.isoformat())
    days = json.loads(run_cli(capsys, monkeypatch, "report", *span, "--format", "json").out)["integrations"][0]["days"]
    assert [d["request_units"] for d in days] == [3.0, 3.0]


def test_a_day_not_reported_yet_has_no_figure_in_json_or_csv(capsys, monkeypatch) -> None:
    """OpenRouter reports completed days only: its today is null and empty, not $0 and 0 requests."""
    from grafient_tui.providers.openrouter.fake import demo_account

    key = "sk-or-v1-" + "5e2f9a7c" * 8
    add(capsys, monkeypatch, "openrouter", key, demo_account(key, TODAY, 1))
    span = ("--days", "2")
    [yesterday, today] = json.loads(run_cli(capsys, monkeypatch, "report", *span, "--format", "json").out)[
        "integrations"
    ][0]["days"]
    assert yesterday["synced"] and yesterday["cost_usd"] > 0 and yesterday["request_units"] is None
    assert not today["synced"]
    figures = ("cost_usd", "on_demand_usd", "included_usd", "requests", "request_units", "billed_usd")
    assert [today[f] for f in figures] == [None] * 6
    rows = list(csv.DictReader(io.StringIO(run_cli(capsys, monkeypatch, "report", *span, "--format", "csv").out)))
    assert rows[1]["synced"] == "false"
    cells = ("cost_usd", "on_demand_usd", "included_usd", "requests", "request_units", "billed_usd", "usage_value_usd")
    assert [rows[1][c] for c in cells] == [""] * 7
    assert rows[0]["request_units"] == "" and rows[0]["requests"] != ""
