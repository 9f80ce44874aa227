"""A hostile API, round two: answers whose cost is in their shape, money no bill has, text no store
can hold. Every server here is faked at the transport (respx or httpx.MockTransport); the real
clients, engine and store run."""

from __future__ import annotations

import asyncio
import datetime
import json
import tracemalloc
from decimal import Decimal

import httpx
import pytest
import respx

from grafient_tui.providers.cursor.fake import FakeCursorTeam
from grafient_tui.providers.http import LimitExceeded
from grafient_tui.providers.openai import OpenAIClient
from grafient_tui.providers.openai import costs as openai_costs
from grafient_tui.providers.openai.costs import day_start
from grafient_tui.providers.openai.fake import FakeOpenAIOrg
from grafient_tui.providers.openrouter import OpenRouterClient
from tests.helpers import run_cli

NOW = "2026-03-12T10:30:00+00:00"
TODAY = datetime.date(2026, 3, 12)
DAY = datetime.date(2026, 3, 10)
CURSOR_KEY = "key_" + "c0ffee42" * 8
OPENAI_KEY = "sk-admin-" + "Hk3mP8qZ" * 4
OPENROUTER_KEY = "sk-or-v1-" + "5e2f9a7c" * 8


async def no_sleep(_: float) -> None:
    return None


def openai_client(transport: httpx.AsyncBaseTransport) -> OpenAIClient:
    c = OpenAIClient(OPENAI_KEY, rpm=0, backoff_base=0, sleep=no_sleep, transport=transport)
    c.today = TODAY
    return c


def costs_page(results_json: str, day: datetime.date = DAY) -> bytes:
    start = day_start(day)
    return (
        f'{{"object":"page","data":[{{"object":"bucket","start_time":{start},"end_time":{start + 86400},'
        f'"results":[{results_json}]}}],"has_more":false,"next_page":null}}'
    ).encode()


# ------------------------------------------------------------------ what one answer costs


async def test_a_page_of_tiny_objects_costs_its_size_not_23_times_it() -> None:
    """json.loads would build ~23 bytes of objects per byte of `{},{},...`; the answer is walked instead."""
    body = costs_page(",".join(["{}"] * 60_000))  # 180 KB of results that carry no money

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/costs"):
            return httpx.Response(200, content=body)
        return httpx.Response(200, json={"object": "list", "data": [], "has_more": False})

    async with openai_client(httpx.MockTransport(handler)) as c:
        tracemalloc.start()
        try:
            sums = await c.window_costs(DAY, DAY)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert sums == {}
    # The body is held as bytes by the transport and as text once, plus one entry's worth; json.loads
    # would have built over 4 MB of objects.
    assert peak < 4 * len(body) + 512 * 1024, f"peak {peak:,} bytes for an answer of {len(body):,}"


async def test_window_sums_are_bounded_as_they_grow_not_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer that invents a new (day, model, project) on every result fails its window on the first
    one past the bound: the next page is never asked for, nothing is summed past it."""
    monkeypatch.setattr(openai_costs, "MAX_SUMS_PER_WINDOW", 1_000)
    day2 = DAY - datetime.timedelta(days=1)
    results = {
        day: [
            {"amount": {"value": "0.01", "currency": "usd"}, "line_item": f"m{i}, input", "project_id": f"proj_{day}"}
            for i in range(600)
        ]
        for day in (day2, DAY)
    }
    org = FakeOpenAIOrg(api_key=OPENAI_KEY, projects=[], costs=results, today=TODAY, max_page=1)
    async with openai_client(httpx.MockTransport(org.handler)) as c:
        with pytest.raises(LimitExceeded, match="more than 1,000 different days, models and actors in one window") as e:
            await c.window_costs(day2, DAY)
    assert e.value.sentence.endswith("nothing from this window was saved")
    assert org.calls["/v1/organization/costs"] == 2  # the second page brought the 1,001st key; no third


async def test_an_entry_past_its_bound_is_one_sentence() -> None:
    huge = '{"amount":{"value":"1","currency":"usd"},"line_item":"' + "x" * 400_000 + '","project_id":null}'

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=costs_page(huge))

    async with openai_client(httpx.MockTransport(handler)) as c:
        with pytest.raises(
            LimitExceeded,
            match=r"^the OpenAI API sent an entry longer than 256 KB to /v1/organization/costs, more than Grafient",
        ):
            await c.window_costs(DAY, DAY)


async def test_the_openrouter_workspace_list_is_counted_across_pages_as_it_arrives() -> None:
    """A list that claims 50,000 workspaces in pages of 1,000 (the API's limit is 100): it stops on the
    entry past 10,000, and what was kept is id -> name alone, never the pages."""
    served = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/key"):
            return httpx.Response(200, json={"data": {"is_management_key": True}})
        if path.endswith("/workspaces"):
            offset = int(request.url.params["offset"])
            served.append(offset)
            page = [
                {"id": f"ws_{offset + i:06d}", "name": f"Workspace {offset + i}", "padding": "p" * 200}
                for i in range(1000)
            ]
            return httpx.Response(200, json={"data": page, "total_count": 50_000})
        return httpx.Response(404, json={"error": {"message": "no"}})

    c = OpenRouterClient(OPENROUTER_KEY, rpm=0, backoff_base=0, sleep=no_sleep, transport=httpx.MockTransport(handler))
    async with c:
        with pytest.raises(LimitExceeded, match="more than 10,000 workspaces"):
            await c._list_workspaces(1)
    assert served == [i * 1000 for i in range(11)]  # the eleventh page brought the 10,001st


async def test_openrouter_names_are_kept_cut_and_distinct() -> None:
    long_name = "Ω" * 10_000

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/workspaces"):
            data = [{"id": "ws_a", "name": long_name}, {"id": "ws_b", "name": long_name + "!"}]
            return httpx.Response(200, json={"data": data, "total_count": 2})
        return httpx.Response(404)

    c = OpenRouterClient(OPENROUTER_KEY, rpm=0, backoff_base=0, sleep=no_sleep, transport=httpx.MockTransport(handler))
    async with c:
        names = await c._workspaces(1)
    assert names is not None and set(names) == {"ws_a", "ws_b"}
    shown = list(names.values())
    assert len(set(shown)) == 2 and all(len(n) <= 255 for n in shown)  # cut, then told apart by id
    assert all("…" in n for n in shown)


# ------------------------------------------------------------------ money and text no store can hold


def cursor_team(*events: dict) -> FakeCursorTeam:
    return FakeCursorTeam(
        api_key=CURSOR_KEY, events=list(events), members=[{"name": "A", "email": "a@x.io", "role": "owner"}]
    )


def event(**fields: object) -> dict:
    ts = int(datetime.datetime(2026, 3, 11, 12, tzinfo=datetime.UTC).timestamp() * 1000)
    raw: dict = {"timestamp": str(ts), "userEmail": "a@x.io", "model": "gpt-5", "kind": "Usage-based"}
    raw.update(fields)
    return raw


def with_cursor(monkeypatch: pytest.MonkeyPatch, team: FakeCursorTeam) -> respx.MockRouter:
    monkeypatch.setenv("GRAFIENT_NOW", NOW)
    router = respx.mock(base_url="https://api.cursor.com", assert_all_called=False)
    router.route().mock(side_effect=team.handler)
    return router


@pytest.mark.parametrize("charged", ["1e999999999", "-1e999999999", "NaN", 10**9])
def test_a_charged_amount_no_bill_has_fails_the_window_in_one_sentence(
    capsys, monkeypatch, grafient_home, charged: object
) -> None:
    with with_cursor(monkeypatch, cursor_team(event(chargedCents=charged))):
        added = run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", "--no-backfill", stdin=CURSOR_KEY)
        assert added.code == 0, added
        synced = run_cli(capsys, monkeypatch, "sync")
    assert synced.code == 1, synced
    assert "unexpected error" not in synced.out + synced.err and "Traceback" not in synced.out + synced.err
    assert "usage event field chargedCents is" in synced.out
    assert "nothing from this window was saved" in synced.out


def test_a_lone_surrogate_in_a_name_is_stored_replaced_never_a_crash(capsys, monkeypatch, grafient_home) -> None:
    # JSON's "\ud800" decodes to a lone surrogate, which no database or terminal encoder takes.
    team = cursor_team(event(model="gpt\ud800-5", userEmail="a\udfff@x.io", chargedCents=12))
    with with_cursor(monkeypatch, team):
        added = run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=CURSOR_KEY)
    assert added.code == 0, added
    assert "unexpected error" not in added.out + added.err
    by_model = json.loads(run_cli(capsys, monkeypatch, "report", "--by", "model", "--format", "json").out)
    assert [m["model"] for m in by_model["integrations"][0]["models"]] == ["gpt\ufffd-5"]
    table = run_cli(capsys, monkeypatch, "report", "--by", "member")
    assert table.code == 0 and "a\ufffd@x.io" in table.out


def test_a_ten_kilobyte_name_is_stored_cut_with_a_mark(capsys, monkeypatch, grafient_home) -> None:
    team = cursor_team(event(model="m" * 10_000, userEmail="u" * 10_000 + "@x.io", chargedCents=5))
    with with_cursor(monkeypatch, team):
        assert run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=CURSOR_KEY).code == 0
    report = json.loads(run_cli(capsys, monkeypatch, "report", "--by", "model", "--format", "json").out)
    [model] = report["integrations"][0]["models"]
    assert model["model"] == "m" * 254 + "…"


# ------------------------------------------------------------------ sums no 64-bit integer holds


def openai_org(costs: dict[datetime.date, list[dict]]) -> FakeOpenAIOrg:
    return FakeOpenAIOrg(api_key=OPENAI_KEY, projects=[], costs=costs, today=TODAY)


def dollars(value: str, line_item: str = "gpt-5, input") -> dict:
    return {"amount": {"value": Decimal(value), "currency": "usd"}, "line_item": line_item, "project_id": None}


def with_openai(monkeypatch: pytest.MonkeyPatch, org: FakeOpenAIOrg) -> respx.MockRouter:
    monkeypatch.setenv("GRAFIENT_NOW", NOW)
    router = respx.mock(base_url="https://api.openai.com", assert_all_called=False)
    router.route().mock(side_effect=org.handler)
    return router


def test_amounts_that_would_overflow_a_report_are_refused_and_every_report_still_works(
    capsys, monkeypatch, grafient_home
) -> None:
    """Two days of $60 billion each fit a 64-bit integer one by one, but SQLite's SUM over both did not,
    and every report and the home failed for every integration. A row past $1,000,000 is refused."""
    healthy = openai_org({DAY: [dollars("12.50")]})
    with with_openai(monkeypatch, healthy):
        assert (
            run_cli(
                capsys, monkeypatch, "add", "openai", "--label", "Chat", "--allow-unidentified", stdin=OPENAI_KEY
            ).code
            == 0
        )
    hostile = openai_org({DAY: [dollars("60000000000")], DAY - datetime.timedelta(days=1): [dollars("60000000000")]})
    with with_openai(monkeypatch, hostile):
        synced = run_cli(capsys, monkeypatch, "sync")
    assert synced.code == 1 and "beyond any plausible bill" in synced.out, synced
    report = run_cli(capsys, monkeypatch, "report", "--format", "json")
    assert report.code == 0, report
    assert json.loads(report.out)["summary"]["total_usd"] == 12.5  # the last good figures stand


def test_a_day_past_its_maximum_is_refused_though_each_row_is_plausible(capsys, monkeypatch, grafient_home) -> None:
    rows = [dollars("600000", f"model-{i}, input") for i in range(2)]  # $600k twice: $1.2M in a day
    with with_openai(monkeypatch, openai_org({DAY: rows})):
        added = run_cli(
            capsys, monkeypatch, "add", "openai", "--label", "Chat", "--allow-unidentified", stdin=OPENAI_KEY
        )
    assert added.code == 1, added
    assert f"whose total for {DAY} is beyond any plausible bill (more than $1,000,000 in a day)" in added.out


# ------------------------------------------------------------------ time


def test_add_has_one_deadline_over_every_page_of_its_check(capsys, monkeypatch, grafient_home) -> None:
    """An endless project list of slow pages: each answer within its own deadline, and `add` ends at
    GRAFIENT_CHECK_DEADLINE with one sentence and nothing stored (it used to allow ~33 hours)."""
    monkeypatch.setenv("GRAFIENT_NOW", NOW)
    monkeypatch.setenv("GRAFIENT_CHECK_DEADLINE", "0.5")
    pages = 0

    async def endless_projects(request: httpx.Request) -> httpx.Response:
        nonlocal pages
        pages += 1
        await asyncio.sleep(0.05)
        data = [{"id": f"proj_{pages}", "name": "P", "status": "active"}]
        return httpx.Response(200, json={"object": "list", "data": data, "has_more": True, "last_id": f"proj_{pages}"})

    with respx.mock(base_url="https://api.openai.com", assert_all_called=False) as router:
        router.get("/v1/organization/costs").respond(200, json={"object": "page", "data": [], "has_more": False})
        router.get("/v1/organization/projects").mock(side_effect=endless_projects)
        added = run_cli(capsys, monkeypatch, "add", "openai", "--label", "Chat", stdin=OPENAI_KEY)
    assert added.code == 2, added
    assert added.err.strip() == (
        "grafient: checking the key with OpenAI took longer than 0.5 s, so nothing was stored "
        "(GRAFIENT_CHECK_DEADLINE raises the limit)"
    )
    assert pages < 1000  # stopped by the deadline, not by the page cap
    assert json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out) == []
