"""A hostile API, round two, for the providers that came after it: GitHub Copilot, xAI, Google's
billing export and ElevenLabs read money through the one parser (money.py), their answers entry by
entry with the same bounds as the first four (tests/providers/test_hostile_answers.py), and names
no store can hold are replaced or cut, never a crash. Every server is faked at the transport
(httpx.MockTransport, respx); the real clients, engine and store run."""

from __future__ import annotations

import datetime
import json
import tracemalloc
from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest
import respx

from grafient_tui.providers.base import CostLine, Provider
from grafient_tui.providers.copilot import api as copilot_api
from grafient_tui.providers.copilot import costs as copilot_costs
from grafient_tui.providers.copilot.api import CopilotClient
from grafient_tui.providers.elevenlabs import ElevenLabsClient
from grafient_tui.providers.elevenlabs.fake import FakeElevenLabsWorkspace
from grafient_tui.providers.google import api as google_api
from grafient_tui.providers.google import costs as google_costs
from grafient_tui.providers.google.api import GoogleBillingClient
from grafient_tui.providers.google.fake import service_account_key
from grafient_tui.providers.http import BadResponse, LimitExceeded
from grafient_tui.providers.xai import costs as xai_costs
from grafient_tui.providers.xai.api import XaiClient
from tests.helpers import run_cli

DAY = datetime.date(2026, 7, 19)  # a day of every provider's history, yesterday of TODAY
TODAY = DAY + datetime.timedelta(days=1)
GITHUB_KEY = "github_pat_" + "11QwErTy42" * 8 + "zZ"
XAI_KEY = "xai-token-" + "Rt5Yu8Io" * 10
XAI_TEAM = "65c1e471-205f-4566-9c5a-07198bcdf4ce"
GOOGLE_KEY = service_account_key(seed=11)
TABLE = "billing-admin.billing_export.gcp_billing_export_resource_v1_0A1B2C_3D4E5F_6A7B8C"
VOICE_KEY = "sk_" + "5b8e2d9f" * 6
SAVED_NOTHING = "nothing from this window was saved"
PROVIDERS = ["copilot", "xai", "google", "elevenlabs"]


async def no_sleep(_: float) -> None:
    return None


def answer(text: str) -> httpx.Response:
    return httpx.Response(
        200, content=text.encode("utf-8", "surrogatepass"), headers={"content-type": "application/json"}
    )


# ------------------------------------------------------------------ one answer per provider, as text


def copilot_report(items: str, extra: str = "") -> str:
    period = f'{{"year": {DAY.year}, "month": {DAY.month}, "day": {DAY.day}}}'
    return f'{{"timePeriod": {period}, "usageItems": [{items}]{extra}}}'


def copilot_item(model: str = '"GPT-5.2"', gross: str = "1.25", net: str = "1.25") -> str:
    money = f'"grossAmount": {gross}, "netAmount": {net}'
    return f'{{"product": "Copilot", "sku": "Copilot AI Credits", "model": {model}, {money}}}'


def xai_usage(series: str, extra: str = "") -> str:
    return f'{{"timeSeries": [{series}], "limitReached": false{extra}}}'


def xai_series(description: str = '"Chat grok-4"', label: str = '"prod (xai-...1)"', value: str = "1.25") -> str:
    point = f'{{"timestamp": "{DAY.isoformat()}T00:00:00Z", "values": [{value}]}}'
    return (
        f'{{"group": ["chat", "0cfea97f-ead0-4e22-a8f9-46db941c962d"], "groupLabels": [{description}, {label}], '
        f'"dataPoints": [{point}]}}'
    )


JOB = {"projectId": "grafient-reader", "jobId": "job_Xq3v", "location": "US"}
SCHEMA = {"fields": [{"name": name} for name in google_costs.FIELDS]}


def google_row(
    sku: str = '"Generate content input token count gemini 2.5 flash"',
    project: str = '"chat-prod"',
    name: str = '"Chat Prod"',
    cost: str = '"1.25"',
    day: datetime.date = DAY,
) -> str:
    cells = [f'"{day.isoformat()}"', '"Gemini API"', sku, project, name, '"USD"', '"1"', cost, '"0"', '"1"']
    return '{"f": [' + ", ".join(f'{{"v": {c}}}' for c in cells) + "]}"


def google_answer(rows: list[str], extra: str = "", total: int | None = None, token: str | None = None) -> str:
    more = f', "pageToken": "{token}"' if token else ""
    return (
        f'{{"kind": "bigquery#queryResponse", "jobComplete": true, "jobReference": {json.dumps(JOB)}, '
        f'"schema": {json.dumps(SCHEMA)}, "totalRows": "{len(rows) if total is None else total}", '
        f'"rows": [{", ".join(rows)}]{more}{extra}}}'
    )


def voice_stats(models: str, extra: str = "") -> str:
    ms = (DAY - datetime.date(1970, 1, 1)).days * 86_400_000
    return f'{{"time": [{ms}], "usage": {{{models}}}{extra}}}'


VOICE_PLAN = {"tier": "pro", "character_count": 1, "character_limit": 500000}


# ------------------------------------------------------------------ the clients, each answering `texts`


def copilot(report: Callable[[httpx.Request], str], seats: Callable[[httpx.Request], httpx.Response] | None = None):
    def handler(request: httpx.Request) -> httpx.Response:
        if "/copilot/billing/seats" in request.url.path:
            return seats(request) if seats else httpx.Response(200, json={"total_seats": 0, "seats": []})
        return answer(report(request))

    c = CopilotClient(
        GITHUB_KEY,
        account={"org": "acme"},
        transport=httpx.MockTransport(handler),
        rpm=0,
        backoff_base=0,
        sleep=no_sleep,
        wall_clock=lambda: 1_784_500_000.0,
    )
    c.today = TODAY
    return c


def xai(usage: Callable[[httpx.Request], str]) -> XaiClient:
    c = XaiClient(
        XAI_KEY,
        account={"team_id": XAI_TEAM},
        transport=httpx.MockTransport(lambda r: answer(usage(r))),
        rpm=0,
        backoff_base=0,
        sleep=no_sleep,
    )
    c.today = TODAY
    return c


def google(query: Callable[[httpx.Request], str]) -> GoogleBillingClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "ya29." + "t0k3n" * 8, "expires_in": 3600})
        return answer(query(request))

    c = GoogleBillingClient(
        GOOGLE_KEY,
        account={"table": TABLE},
        token_url="http://127.0.0.1:9/oauth/token",
        wall_clock=lambda: datetime.datetime(2026, 7, 20, 10, tzinfo=datetime.UTC).timestamp(),
        monotonic=lambda: 0.0,
        transport=httpx.MockTransport(handler),
        rpm=0,
        backoff_base=0,
        sleep=no_sleep,
    )
    c.today = TODAY
    return c


def elevenlabs(stats: Callable[[httpx.Request], str]) -> ElevenLabsClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/user/subscription":
            return httpx.Response(200, json=VOICE_PLAN)
        return answer(stats(request))

    c = ElevenLabsClient(VOICE_KEY, transport=httpx.MockTransport(handler), rpm=0, backoff_base=0, sleep=no_sleep)
    c.today = TODAY
    return c


def provider_with(name: str, *, amount: str = "1.25", model: str | None = None, actor: str | None = None) -> Provider:
    """`name`'s client whose one answer for DAY holds `amount` (as JSON text) of `model` by `actor`."""
    if name == "copilot":
        return copilot(lambda _: copilot_report(copilot_item(model or '"GPT-5.2"', amount, amount)))
    if name == "xai":
        return xai(lambda _: xai_usage(xai_series(model or '"Chat grok-4"', actor or '"prod (xai-...1)"', amount)))
    if name == "google":
        quoted = amount if amount.startswith('"') else f'"{amount}"'  # BigQuery sends NUMERIC as text
        return google(
            lambda _: google_answer([google_row(model or '"Gemini Pro SKU"', name=actor or '"P"', cost=quoted)])
        )
    return elevenlabs(lambda _: voice_stats(f"{model or json.dumps('eleven_flash_v2_5')}: [{amount}]"))


async def lines_of(provider: Provider) -> list[CostLine]:
    async with provider:
        return [line async for batch in provider.cost_lines(DAY, DAY) for line in batch]


# ------------------------------------------------------------------ money no bill has


@pytest.mark.parametrize("provider", ["copilot", "xai", "google"])
@pytest.mark.parametrize("amount", ["1e999999999", "-1e999999999", '"1e999999999"', "5000000000", "1E+15"])
async def test_an_amount_no_bill_has_fails_the_window_in_one_sentence(provider: str, amount: str) -> None:
    """`1e999999999` used to end in "unexpected error (Overflow)" on Cursor; here too it is one sentence,
    as is a plausible-looking $5 billion for one model's day (past the $1,000,000 a line may hold)."""
    with pytest.raises(BadResponse) as raised:
        await lines_of(provider_with(provider, amount=amount))
    sentence = raised.value.sentence
    assert "beyond any plausible bill" in sentence and sentence.endswith(SAVED_NOTHING), sentence


@pytest.mark.parametrize("provider", ["copilot", "xai", "google"])
@pytest.mark.parametrize("amount", ['"0E-6176"', "0.000000000000000000000000000000000000004", '"12.5"'])
async def test_amounts_any_bill_has_are_read_exactly_by_the_one_parser(provider: str, amount: str) -> None:
    """A zero is zero whatever its exponent, 39 decimals are read exactly, a numeric string is a number."""
    lines = await lines_of(provider_with(provider, amount=amount))
    expected = 1_250_000_000 if amount == '"12.5"' else 0
    assert sum(line.cost_micro for line in lines if provider != "google" or line.on_demand) == expected


async def test_elevenlabs_credits_no_number_holds_fail_the_window_in_one_sentence() -> None:
    with pytest.raises(BadResponse) as raised:
        await lines_of(provider_with("elevenlabs", amount="1e999999999"))
    assert "a value that is not a number" in raised.value.sentence
    assert raised.value.sentence.endswith(SAVED_NOTHING)


def test_credits_past_a_days_maximum_are_refused_and_every_report_still_works(
    capsys, monkeypatch, grafient_home
) -> None:
    """ElevenLabs' credits are stored in millionths and summed by the reports like money: a day of 5
    billion credits (each bucket plausible to read) would let SQLite's SUM overflow, and every report
    fail, within a few such days. A day past 100 million credits is refused, like money past $1M."""
    monkeypatch.setenv("GRAFIENT_NOW", "2026-07-20T10:30:00+00:00")
    healthy = FakeElevenLabsWorkspace(api_key=VOICE_KEY, usage={DAY: {"eleven_flash_v2_5": (Decimal(1000), 2000)}})
    with respx.mock(base_url="https://api.elevenlabs.io", assert_all_called=False) as router:
        router.route().mock(side_effect=healthy.handler)
        added = run_cli(
            capsys, monkeypatch, "add", "elevenlabs", "--label", "Voice", "--allow-unidentified", stdin=VOICE_KEY + "\n"
        )
    assert added.code == 0, added
    hostile = FakeElevenLabsWorkspace(
        api_key=VOICE_KEY, usage={DAY: {"eleven_flash_v2_5": (Decimal(5_000_000_000), None)}}
    )
    with respx.mock(base_url="https://api.elevenlabs.io", assert_all_called=False) as router:
        router.route().mock(side_effect=hostile.handler)
        synced = run_cli(capsys, monkeypatch, "sync")
    assert synced.code == 1, synced
    assert "whose credits for 2026-07-19 are beyond any real day's (more than 100,000,000)" in synced.out
    assert "unexpected error" not in synced.out + synced.err
    report = run_cli(capsys, monkeypatch, "report", "--format", "json")
    assert report.code == 0, report
    [entry] = json.loads(report.out)["integrations"]
    assert sum(Decimal(day.get("credits") or 0) for day in entry["days"]) == 1000  # the last good figures stand


# ------------------------------------------------------------------ text no store can hold


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_lone_surrogate_in_a_name_is_replaced_never_a_crash(provider: str) -> None:
    """JSON's "\\ud800" decodes to a lone surrogate, which no database or terminal encoder takes."""
    model = json.dumps("gpt\ud800-5")  # written as the escape, as a server would
    actor = json.dumps("team\udfff")
    lines = await lines_of(provider_with(provider, model=model, actor=actor))
    assert {line.model for line in lines} == {"gpt\ufffd-5"}
    if provider in ("xai", "google"):  # the ones whose actor is a name the answer gives
        assert {line.actor for line in lines} == {"team\ufffd"}
    for line in lines:  # what every database and terminal encoder takes
        assert line.model.encode("utf-8") and line.actor.encode("utf-8")


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_ten_kilobyte_name_is_cut_with_a_mark(provider: str) -> None:
    model = json.dumps("m" * 10_000)
    actor = json.dumps("a" * 10_000)
    lines = await lines_of(provider_with(provider, model=model, actor=actor))
    assert {line.model for line in lines} == {"m" * 254 + "…"}
    assert all(len(line.actor) <= 255 for line in lines)


# ------------------------------------------------------------------ lists that never end


async def test_an_endless_seat_list_is_counted_across_pages_as_it_arrives(monkeypatch: pytest.MonkeyPatch) -> None:
    """A seat list that pages forever, a new person on every line: it stops on the seat past the
    bound (logins alone are kept, never a page), and no day is split."""
    monkeypatch.setattr(copilot_api, "MAX_SEATS", 1_000)
    served: list[int] = []

    def seats(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        served.append(page)
        rows = [{"assignee": {"login": f"user-{page}-{i}", "type": "User"}, "pad": "p" * 100} for i in range(100)]
        link = f'<https://api.github.com/orgs/acme/copilot/billing/seats?page={page + 1}>; rel="next"'
        return httpx.Response(200, json={"total_seats": 10**6, "seats": rows}, headers={"link": link})

    c = copilot(lambda _: copilot_report(copilot_item()), seats)
    lines = await lines_of(c)
    assert served == list(range(1, 12))  # the eleventh page brought the 1,001st person
    assert {line.actor for line in lines} == {copilot_costs.ALL_USERS} and c.members_seen == 0


async def test_copilot_window_sums_are_bounded_as_they_grow_not_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reports that invent a new model on every item fail their window on the item past the bound:
    the days after it are never asked for."""
    monkeypatch.setattr(copilot_costs, "MAX_SUMS_PER_WINDOW", 250)
    asked: list[str] = []

    def report(request: httpx.Request) -> str:
        day = int(request.url.params["day"])
        asked.append(request.url.params["day"])
        items = ", ".join(copilot_item(f'"model-{day}-{i}"') for i in range(100))
        period = f'{{"year": 2026, "month": 7, "day": {day}}}'
        return f'{{"timePeriod": {period}, "usageItems": [{items}]}}'

    async with copilot(report) as c:
        with pytest.raises(LimitExceeded, match="more than 250 different days, models and actors in one window") as e:
            [line async for batch in c.cost_lines(DAY - datetime.timedelta(days=6), DAY) for line in batch]
    assert e.value.sentence.endswith(SAVED_NOTHING)
    assert len(asked) == 3  # the third day's report brought the 251st sum; four more days never asked


async def test_copilot_items_past_their_bound_are_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(copilot_costs, "MAX_ITEMS", 100)
    items = ", ".join(copilot_item() for _ in range(101))
    with pytest.raises(BadResponse, match=f"more than 100 usage items for one period for {DAY}; {SAVED_NOTHING}"):
        await lines_of(copilot(lambda _: copilot_report(items)))


async def test_xai_window_sums_are_bounded_over_the_halves_of_a_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """xAI cuts a wide answer short (limitReached) and the window is asked again in halves: the halves
    share one bound, so an answer that is cut forever cannot grow a window past it."""
    monkeypatch.setattr(xai_costs, "MAX_SUMS_PER_WINDOW", 30)
    first = DAY - datetime.timedelta(days=3)
    asked: list[str] = []

    def usage(request: httpx.Request) -> str:
        span = json.loads(request.content)["analyticsRequest"]["timeRange"]
        start = datetime.date.fromisoformat(span["startTime"][:10])
        asked.append(start.isoformat())
        end = datetime.date.fromisoformat(span["endTime"][:10])
        points = [
            f'{{"group": ["d{start}{i}", "k{i}"], "groupLabels": ["model {start} {i}", "key {i}"], '
            f'"dataPoints": [{{"timestamp": "{start}T00:00:00Z", "values": [1]}}]}}'
            for i in range(12)
        ]
        cut = "true" if (end - start).days > 1 else "false"  # wider than a day: cut short, asked in halves
        return f'{{"timeSeries": [{", ".join(points)}], "limitReached": {cut}}}'

    async with xai(usage) as c:
        with pytest.raises(LimitExceeded, match="more than 30 different days, models and actors in one window"):
            [line async for batch in c.cost_lines(first, DAY) for line in batch]
    # 4 days (cut), 2 days (cut), a day (12 sums kept), a day (24 kept), then 2 days: its twelve sums,
    # held while it is read though it is cut too, pass 30. A cut answer counts while it is held.
    assert len(asked) == 5


async def test_xai_series_past_their_bound_are_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xai_costs, "MAX_SERIES", 50)
    with pytest.raises(BadResponse, match=f"more than 50 series in one answer for {DAY}; {SAVED_NOTHING}"):
        await lines_of(xai(lambda _: xai_usage(", ".join(xai_series() for _ in range(51)))))


async def test_a_google_result_that_pages_forever_stops_at_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(google_api, "MAX_PAGES", 5)
    served = 0

    def query(request: httpx.Request) -> str:
        nonlocal served
        served += 1
        return google_answer([google_row()], total=10**6, token=f"page-{served}")

    with pytest.raises(LimitExceeded, match=f"still had more pages after 5; {SAVED_NOTHING}"):
        await lines_of(google(query))
    assert served == 5


async def test_google_window_sums_are_bounded_as_they_grow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows of a new SKU each: the window fails on the row past the bound, and what it held is sums
    and project names, never the rows."""
    monkeypatch.setattr(google_costs, "MAX_SUMS_PER_WINDOW", 100)
    rows = [google_row(sku=f'"SKU number {i}"') for i in range(101)]
    with pytest.raises(LimitExceeded, match="more than 100 different days, models and actors in one window"):
        await lines_of(google(lambda _: google_answer(rows)))


async def test_google_projects_past_their_bound_are_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(google_costs, "MAX_PROJECTS", 20)
    rows = [google_row(project=f'"project-{i}"') for i in range(21)]
    with pytest.raises(BadResponse, match=r"cannot read \(more than 20 projects\); nothing from this window"):
        await lines_of(google(lambda _: google_answer(rows)))


async def test_an_endless_elevenlabs_bucket_list_stops_at_the_first_bucket_a_window_cannot_have() -> None:
    ms = (DAY - datetime.date(1970, 1, 1)).days * 86_400_000
    endless = ", ".join(str(ms + 86_400_000 * i) for i in range(50_000))
    with pytest.raises(BadResponse, match=f"a bucket for {TODAY}, outside {DAY} .. {DAY}"):
        await lines_of(elevenlabs(lambda _: f'{{"time": [{endless}], "usage": {{}}}}'))


async def test_elevenlabs_models_past_their_bound_are_one_sentence() -> None:
    models = ", ".join(f'"model-{i}": [1]' for i in range(1_001))
    with pytest.raises(BadResponse, match="an object with more than 1,000 members"):
        await lines_of(elevenlabs(lambda _: voice_stats(models)))


# ------------------------------------------------------------------ what one answer costs


PADDING = ', "padding": [' + ",".join(["{}"] * 60_000) + "]"  # 180 KB of objects nobody reads


def padded(provider: str) -> tuple[Provider, int]:
    """`provider`'s client whose one answer is valid, with 60,000 tiny objects beside it; its size."""
    if provider == "copilot":
        text = copilot_report(copilot_item(), PADDING)
        return copilot(lambda _: text), len(text)
    if provider == "xai":
        text = xai_usage(xai_series(), PADDING)
        return xai(lambda _: text), len(text)
    if provider == "google":
        text = google_answer([google_row()], PADDING)
        return google(lambda _: text), len(text)
    text = voice_stats('"eleven_flash_v2_5": [1.25]', PADDING)
    return elevenlabs(lambda _: text), len(text)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_flood_of_tiny_objects_costs_its_size_not_23_times_it(provider: str) -> None:
    """json.loads would build ~23 bytes of objects per byte of `{},{},...`; the answers are walked."""
    await lines_of(provider_with(provider))  # whatever a first window imports is not the answer's cost
    client, size = padded(provider)
    tracemalloc.start()
    try:
        lines = await lines_of(client)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines, "the answer beside the padding is read"
    # The body is held as bytes by the transport and as text once, plus one entry's worth; json.loads
    # would have built over 4 MB of objects.
    assert peak < 4 * size + 512 * 1024, f"peak {peak:,} bytes for an answer of {size:,}"


async def test_a_flood_of_empty_seats_is_walked_one_at_a_time() -> None:
    """Seats that name nobody are skipped (not fatal): 60,000 of them cost the page, not 23 times it."""
    flood = '{"total_seats": 60000, "seats": [' + ",".join(["{}"] * 60_000) + "]}"
    c = copilot(
        lambda _: copilot_report(copilot_item()),
        lambda _: httpx.Response(200, content=flood.encode(), headers={"content-type": "application/json"}),
    )
    tracemalloc.start()
    try:
        lines = await lines_of(c)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert {line.actor for line in lines} == {copilot_costs.ALL_USERS}
    assert peak < 4 * len(flood) + 512 * 1024, f"peak {peak:,} bytes for a page of {len(flood):,}"
