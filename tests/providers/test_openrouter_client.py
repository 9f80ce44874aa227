"""The OpenRouter client against a faked network (respx at the transport, the fake account behind it)."""

from __future__ import annotations

import collections
import datetime
import hashlib
import logging
import traceback
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
import respx

from grafient_tui.config import Settings
from grafient_tui.providers import fake as registered_fake
from grafient_tui.providers import get as registered
from grafient_tui.providers.base import AccountInfo, CostLine
from grafient_tui.providers.http import (
    AccessDenied,
    BadResponse,
    KeyRejected,
    LimitExceeded,
    RateLimited,
    ServerError,
    Unreachable,
)
from grafient_tui.providers.openrouter import (
    MAX_MODELS,
    REJECTED_SENTENCE,
    WRONG_KIND_SENTENCE,
    NotManagementKey,
    OpenRouterClient,
)
from grafient_tui.providers.openrouter.fake import FakeOpenRouterAccount, demo_account, workspace
from tests.helpers import RecordingSleep

KEY = "sk-or-v1-" + "5e3c9a7f" * 8
OTHER_KEY = "sk-or-v1-" + "0d4b1e62" * 8
API = "https://openrouter.ai/api/v1"
TODAY = datetime.date(2026, 8, 10)
YESTERDAY = TODAY - datetime.timedelta(days=1)
WS_MAIN, WS_LAB = "9b2d41c7-5e88", "c0ffee00-1234"
WORKSPACES = [workspace(WS_MAIN, "Main"), workspace(WS_LAB, "Lab")]


class CountingAccount(FakeOpenRouterAccount):
    """The fake account, counting the calls it serves per path and keeping their query strings."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.calls: collections.Counter[str] = collections.Counter()
        self.params: list[dict[str, str]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.calls[request.url.path.removeprefix("/api/v1")] += 1
        self.params.append(dict(request.url.params))
        return super().handler(request)


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def client(
    sleep: RecordingSleep, *, key: str = KEY, today: datetime.date | None = TODAY, **kwargs: object
) -> OpenRouterClient:
    options: dict = {"rpm": 0, "backoff_base": 0, "sleep": sleep}
    options.update(kwargs)
    c = OpenRouterClient(key, **options)
    c.today = today
    return c


def row(
    day: datetime.date | str,
    usage: object = 1.5,
    *,
    model: str = "openai/gpt-5",
    ws: str | None = WS_MAIN,
    **fields: object,
) -> dict:
    r: dict = {
        "date": day if isinstance(day, str) else day.isoformat(),
        "model": model,
        "model_permaslug": model,
        "endpoint_id": "e-1",
        "provider_name": "OpenAI",
        "usage": usage,
        "byok_usage_inference": 0,
        "requests": 3,
        "prompt_tokens": 100,
        "completion_tokens": 20,
        "reasoning_tokens": 5,
    }
    if ws is not None:
        r["workspace_id"] = ws
    r.update(fields)
    return r


def account(rows: list[dict] | None = None, **kwargs: object) -> CountingAccount:
    options: dict = {"api_key": KEY, "rows": rows or [], "workspaces": WORKSPACES, "today": TODAY}
    options.update(kwargs)
    return CountingAccount(**options)


def serve(mock: respx.MockRouter, fake: FakeOpenRouterAccount) -> respx.Route:
    return mock.route(host="openrouter.ai").mock(side_effect=fake.handler)


async def lines_of(c: OpenRouterClient, first: datetime.date, last: datetime.date) -> list[CostLine]:
    return [line async for batch in c.cost_lines(first, last) for line in batch]


def window() -> tuple[datetime.date, datetime.date]:
    return TODAY - datetime.timedelta(days=30), YESTERDAY


def assert_no_key(texts: list[str], *keys: str) -> None:
    for text in texts:
        for key in keys or (KEY,):
            assert key not in text
            assert key[9:] not in text and key[-12:] not in text and key[:12] not in text


def rendered(error: BaseException) -> list[str]:
    return [str(error), getattr(error, "sentence", ""), "".join(traceback.format_exception(error))]


# ------------------------------------------------------------------ the registry and settings


def test_registered_with_its_limits_and_capabilities() -> None:
    provider = registered("openrouter")
    assert provider is OpenRouterClient and registered_fake("openrouter") is FakeOpenRouterAccount
    assert provider.title == "OpenRouter" and provider.key_kind == "Management key"
    assert "management-keys" in provider.key_help and "today is never reported" in provider.key_help
    limits, caps = provider.limits, provider.capabilities
    assert limits.max_window_days == 30 and limits.max_history_days == 30 and limits.settle_days == 1
    assert all(limits.history_for(plan) == 30 for plan in ("free", "pro", "ultimate", "enterprise"))
    assert caps.has_requests and caps.actor_kind == "workspace" and caps.actor_title == "Workspaces"
    assert not caps.has_on_demand and caps.has_byok and not caps.has_today


async def test_from_settings_uses_the_openrouter_url(mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFIENT_OPENROUTER_API_URL", "https://proxy.example/or/api")
    monkeypatch.setenv("GRAFIENT_OPENROUTER_RPM", "0")
    route = mock.get("https://proxy.example/or/api/v1/key").respond(
        200, json={"data": {"is_management_key": True, "creator_user_id": "user_1"}}
    )
    mock.get("https://proxy.example/or/api/v1/workspaces").respond(200, json={"data": [], "total_count": 0})
    async with OpenRouterClient.from_settings(KEY, Settings.from_env()) as c:
        assert c.base_url == "https://proxy.example/or/api"
        assert (await c.validate()).members == 1
    assert route.call_count == 1


# ------------------------------------------------------------------ validate


async def test_a_management_key_gives_the_account(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    fake = account(creator_user_id="user_2xQm9Lr0")
    route = serve(mock, fake)
    async with client(sleep) as c:
        info = await c.validate()
    assert info == AccountInfo(members=2)
    # the account's workspaces, not the person who made the key (one person may hold keys of two accounts)
    want = hashlib.sha256("\n".join(sorted([WS_MAIN, WS_LAB])).encode()).hexdigest()
    assert info.fingerprint == want and info.name is None
    request = route.calls[0].request
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["user-agent"].startswith("grafient-tui/")
    assert str(request.url) == f"{API}/key"
    assert fake.calls == {"/key": 1, "/workspaces": 1}
    assert fake.params[1] == {"offset": "0", "limit": "100"}


async def test_the_fingerprint_is_the_workspaces_whoever_made_the_key(
    mock: respx.MockRouter, sleep: RecordingSleep
) -> None:
    serve(mock, account(creator_user_id=None))
    async with client(sleep) as c:
        info = await c.validate()
    want = hashlib.sha256("\n".join(sorted([WS_MAIN, WS_LAB])).encode()).hexdigest()
    assert info.fingerprint == want and info.members == 2


async def test_a_wrong_key_is_one_sentence_and_not_retried(
    mock: respx.MockRouter, sleep: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = account(api_key=OTHER_KEY)
    route = serve(mock, fake)
    c = client(sleep)
    with pytest.raises(KeyRejected) as raised:
        await c.validate()
    assert raised.value.sentence == REJECTED_SENTENCE and "OpenRouter" in REJECTED_SENTENCE
    assert "\n" not in REJECTED_SENTENCE and "management key" in REJECTED_SENTENCE
    assert route.call_count == 1
    assert raised.value.__cause__ is None and raised.value.__context__ is None
    assert_no_key([*rendered(raised.value), repr(c), caplog.text], KEY, OTHER_KEY)
    await c.aclose()


async def test_a_401_never_quotes_the_server(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    mock.get(f"{API}/key").respond(401, json={"error": {"code": 401, "message": f"bad key {KEY[:20]}"}})
    async with client(sleep) as c:
        with pytest.raises(KeyRejected) as raised:
            await c.validate()
    assert raised.value.sentence == REJECTED_SENTENCE


async def test_an_inference_key_is_the_wrong_kind(
    mock: respx.MockRouter, sleep: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = account(management=False)
    serve(mock, fake)
    c = client(sleep)
    with pytest.raises(NotManagementKey) as raised:
        await c.validate()
    assert isinstance(raised.value, AccessDenied)
    assert raised.value.sentence == WRONG_KIND_SENTENCE
    assert WRONG_KIND_SENTENCE.startswith("OpenRouter: this is an inference key;")
    assert fake.calls == {"/key": 1}  # decided by /key alone
    assert_no_key([*rendered(raised.value), repr(c), caplog.text])
    await c.aclose()


@pytest.mark.parametrize(("flag", "accepted"), [(True, True), (False, False)])
async def test_the_deprecated_provisioning_flag_decides_alone(
    mock: respx.MockRouter, sleep: RecordingSleep, flag: bool, accepted: bool
) -> None:
    mock.get(f"{API}/key").respond(200, json={"data": {"is_provisioning_key": flag, "creator_user_id": "u"}})
    credits = mock.get(f"{API}/credits").respond(200, json={"data": {"total_credits": 1, "total_usage": 0}})
    mock.get(f"{API}/workspaces").respond(200, json={"data": [workspace(WS_MAIN, "Main")], "total_count": 1})
    async with client(sleep) as c:
        if accepted:
            assert (await c.validate()).members == 1
        else:
            with pytest.raises(NotManagementKey):
                await c.validate()
    assert credits.call_count == 0


@pytest.mark.parametrize("management", [True, False])
async def test_without_flags_credits_decide(mock: respx.MockRouter, sleep: RecordingSleep, management: bool) -> None:
    fake = account(management=management, key_flags=False)
    serve(mock, fake)
    async with client(sleep) as c:
        if management:
            assert (await c.validate()).members == 2
        else:
            with pytest.raises(NotManagementKey) as raised:
                await c.validate()
            assert raised.value.sentence == WRONG_KIND_SENTENCE
    assert fake.calls["/credits"] == 1


async def test_a_bare_403_on_credits_also_means_the_wrong_kind(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    mock.get(f"{API}/key").respond(200, json={"data": {"usage": 0}})
    mock.get(f"{API}/credits").respond(403, json={"error": {"code": 403, "message": "Forbidden"}})
    async with client(sleep) as c:
        with pytest.raises(NotManagementKey):
            await c.validate()


async def test_the_label_is_never_kept_shown_or_logged(
    mock: respx.MockRouter, sleep: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = account([row(YESTERDAY)])
    serve(mock, fake)
    label = fake._key().json()["data"]["label"]
    assert label.startswith(KEY[:12])  # the fake's label is the key, masked, as OpenRouter's is
    async with client(sleep) as c:
        info = await c.validate()
        lines = await lines_of(c, *window())
        # Everything the provider holds besides the key itself (which it must, to send it).
        held = repr({k: v for k, v in vars(c).items() if k != "_key"}) + repr(c) + repr(info) + repr(lines)
    for text in (held, caplog.text):
        assert label not in text and KEY[:12] not in text


async def test_rate_limited_then_success(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    route = mock.get(f"{API}/key").mock(
        side_effect=[
            httpx.Response(
                429, headers={"Retry-After": "7"}, json={"error": {"code": 429, "message": "Rate limit exceeded"}}
            ),
            httpx.Response(200, json={"data": {"is_management_key": True, "creator_user_id": "u"}}),
        ]
    )
    mock.get(f"{API}/workspaces").respond(200, json={"data": WORKSPACES, "total_count": 2})
    async with client(sleep) as c:
        assert (await c.validate()).members == 2
        assert c.stats.rate_limited == 1 and c.stats.retries == 1
    assert route.call_count == 2 and sleep.delays == [7.0]


async def test_rate_limited_on_every_try(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    route = mock.get(f"{API}/activity").respond(429, json={"error": {"code": 429, "message": "Rate limit exceeded"}})
    async with client(sleep, max_attempts=4) as c:
        with pytest.raises(RateLimited) as raised:
            await lines_of(c, *window())
    assert route.call_count == 4 and "OpenRouter" in raised.value.sentence


async def test_server_errors_exhausted(
    mock: respx.MockRouter, sleep: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    route = mock.get(f"{API}/key").respond(500, json={"error": {"code": 500, "message": f"Internal {KEY}"}})
    c = client(sleep)
    with pytest.raises(ServerError) as raised:
        await c.validate()
    assert route.call_count == 3  # validation gives up after 3 tries
    assert "OpenRouter" in raised.value.sentence and "HTTP 500" in raised.value.sentence
    assert "[redacted]" in raised.value.sentence
    assert_no_key([*rendered(raised.value), repr(c), caplog.text])
    await c.aclose()


async def test_offline(mock: respx.MockRouter, sleep: RecordingSleep, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    route = mock.get(f"{API}/key").mock(side_effect=httpx.ConnectError("[Errno 111] Connection refused"))
    c = client(sleep)
    with pytest.raises(Unreachable) as raised:
        await c.validate()
    assert raised.value.sentence.startswith("cannot reach the OpenRouter API at openrouter.ai")
    assert "connection refused" in raised.value.sentence and route.call_count == 3
    assert_no_key([*rendered(raised.value), repr(c), caplog.text])
    await c.aclose()


async def test_offline_through_a_raising_transport(sleep: RecordingSleep) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("All connection attempts failed", request=request)

    async with client(sleep, transport=httpx.MockTransport(refuse)) as c:
        with pytest.raises(Unreachable):
            await c.validate()
        assert c.stats.requests == 3


async def test_a_key_answer_without_data_is_malformed(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    mock.get(f"{API}/key").respond(200, json={"is_management_key": True})
    async with client(sleep) as c:
        with pytest.raises(BadResponse) as raised:
            await c.validate()
    assert "/v1/key" in raised.value.sentence and "GRAFIENT_OPENROUTER_API_URL" in raised.value.sentence


# ------------------------------------------------------------------ workspaces


async def test_workspaces_are_paged_to_their_total(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    many = [workspace(f"ws-{i:04d}", f"Team {i}") for i in range(250)]
    fake = account(workspaces=many)
    serve(mock, fake)
    async with client(sleep) as c:
        assert (await c.validate()).members == 250
    assert [p for p in fake.params if "offset" in p] == [
        {"offset": "0", "limit": "100"},
        {"offset": "100", "limit": "100"},
        {"offset": "200", "limit": "100"},
    ]


async def test_workspaces_without_a_total_stop_at_a_short_page(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    mock.get(f"{API}/key").respond(200, json={"data": {"is_management_key": True}})
    pages = mock.get(f"{API}/workspaces").mock(
        side_effect=[
            httpx.Response(200, json={"data": [workspace(f"a{i}", f"A{i}") for i in range(100)]}),
            httpx.Response(200, json={"data": [workspace("b", "B")]}),
        ]
    )
    async with client(sleep) as c:
        assert (await c.validate()).members == 101
    assert pages.call_count == 2


async def test_a_workspace_list_that_ignores_offset_is_not_followed_forever(
    mock: respx.MockRouter, sleep: RecordingSleep
) -> None:
    mock.get(f"{API}/key").respond(200, json={"data": {"is_management_key": True, "creator_user_id": "u"}})
    page = mock.get(f"{API}/workspaces").respond(
        200, json={"data": [workspace(f"a{i}", f"A{i}") for i in range(100)], "total_count": 1000}
    )
    async with client(sleep) as c:
        info = await c.validate()
    assert page.call_count == 2 and info.members == 1  # a broken list counts as the default workspace


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(404, json={"error": {"code": 404, "message": "Resource not found"}}),
        httpx.Response(403, json={"error": {"code": 403, "message": "Forbidden"}}),
        httpx.Response(200, json={"workspaces": []}),
    ],
)
async def test_without_a_workspace_list_the_spend_is_still_right(
    mock: respx.MockRouter, sleep: RecordingSleep, answer: httpx.Response
) -> None:
    fake = account([row(YESTERDAY, 2, ws=WS_LAB)])

    def handler(request: httpx.Request) -> httpx.Response:
        return answer if request.url.path.endswith("/workspaces") else fake.handler(request)

    mock.route(host="openrouter.ai").mock(side_effect=handler)
    async with client(sleep) as c:
        info = await c.validate()
        lines = await lines_of(c, *window())
    assert info.members == 1 and info.fingerprint is None  # nothing names the account: no duplicate check
    assert [(line.actor, line.cost_micro) for line in lines] == [(WS_LAB, 200_000_000)]


async def test_a_workspace_list_that_cannot_be_reached_fails_the_sync(
    mock: respx.MockRouter, sleep: RecordingSleep
) -> None:
    fake = account([row(YESTERDAY)])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/workspaces"):
            return httpx.Response(503, json={"error": {"code": 503, "message": "busy"}})
        return fake.handler(request)

    mock.route(host="openrouter.ai").mock(side_effect=handler)
    async with client(sleep, max_attempts=2) as c:
        with pytest.raises(ServerError):
            await lines_of(c, *window())
        assert c.days_covered(*window()) == []


async def test_actors_are_workspace_names(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    twins = [workspace("11111111-aaaa", "Research"), workspace("22222222-bbbb", "Research"), workspace(WS_MAIN, "Main")]
    rows = [
        row(YESTERDAY, 1, ws=WS_MAIN),
        row(YESTERDAY, 2, ws=None),
        row(YESTERDAY, 3, ws="gone-1234"),
        row(YESTERDAY, 4, ws="11111111-aaaa"),
        row(YESTERDAY, 5, ws="22222222-bbbb"),
    ]
    serve(mock, account(rows, workspaces=twins))
    async with client(sleep) as c:
        actors = {line.actor: line.cost_micro for line in await lines_of(c, *window())}
    assert actors == {
        "Main": 100_000_000,
        "Default workspace": 200_000_000,
        "gone-1234": 300_000_000,
        "Research (11111111)": 400_000_000,
        "Research (22222222)": 500_000_000,
    }


async def test_no_workspace_call_when_no_row_names_one(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    fake = account([row(YESTERDAY, ws=None)])
    serve(mock, fake)
    async with client(sleep) as c:
        assert [line.actor for line in await lines_of(c, *window())] == ["Default workspace"]
    assert fake.calls == {"/activity": 1}


# ------------------------------------------------------------------ money and lines


async def test_the_documented_example_exactly(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    # The two rows of shared/openrouter-api.md, dated yesterday: one model served by two providers.
    body = b"""{"data": [
      {"date": "2026-08-09", "model": "anthropic/claude-sonnet-4",
       "model_permaslug": "anthropic/claude-4-sonnet-20250522", "endpoint_id": "3f0e6b1a-0c1d",
       "provider_name": "Anthropic", "usage": 1.28415, "byok_usage_inference": 0, "requests": 37,
       "prompt_tokens": 402112, "completion_tokens": 18420, "reasoning_tokens": 0,
       "workspace_id": "9b2d41c7-5e88"},
      {"date": "2026-08-09", "model": "anthropic/claude-sonnet-4",
       "model_permaslug": "anthropic/claude-4-sonnet-20250522", "endpoint_id": "c81a22f4-9b07",
       "provider_name": "Google Vertex", "usage": 0.0214, "byok_usage_inference": 0.428,
       "requests": 5, "prompt_tokens": 51003, "completion_tokens": 2210, "reasoning_tokens": 0,
       "workspace_id": "9b2d41c7-5e88"}]}"""
    route = mock.get(f"{API}/activity").respond(200, content=body)
    mock.get(f"{API}/workspaces").respond(200, json={"data": WORKSPACES, "total_count": 2})
    async with client(sleep) as c:
        lines = await lines_of(c, *window())
    # 1.28415 + 0.0214 = 1.30555 USD = 130,555,000 micro-cents; BYOK 0.428 USD = 42,800,000, not added.
    assert lines == [
        CostLine(
            YESTERDAY,
            "anthropic/claude-sonnet-4",
            "Main",
            False,
            130_555_000,
            42,
            input_tokens=453_115,
            output_tokens=20_630,
            cache_read_tokens=None,
            cache_write_tokens=None,
            reasoning_tokens=0,
            byok_micro=42_800_000,
        )
    ]
    assert dict(route.calls[0].request.url.params) == {"group_by": "workspace"}


async def test_money_is_read_from_its_literal(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    day = YESTERDAY.isoformat()
    # 1.000000015 USD is 100,000,001.5 micro-cents: half to even gives ...002 (a float reads it below the
    # half and would give ...001). Integers and numeric strings count too; sums are rounded once.
    body = (
        '{"data": ['
        f'{{"date": "{day}", "model": "a", "usage": 1.000000015}},'
        f'{{"date": "{day}", "model": "b", "usage": 2, "byok_usage_inference": "0.5"}},'
        f'{{"date": "{day}", "model": "c", "usage": "0.000000005"}},'
        f'{{"date": "{day}", "model": "c", "usage": 0.000000005}},'
        f'{{"date": "{day}", "model": "d", "usage": 0.000000005}},'
        f'{{"date": "{day}", "model": "e", "usage": -0.25}}'
        "]}"
    )
    mock.get(f"{API}/activity").respond(200, content=body.encode())
    async with client(sleep) as c:
        lines = {line.model: line for line in await lines_of(c, *window())}
    assert {m: line.cost_micro for m, line in lines.items()} == {
        "a": 100_000_002,
        "b": 200_000_000,
        "c": 1,
        "d": 0,
        "e": -25_000_000,
    }
    assert lines["b"].byok_micro == 50_000_000 and lines["a"].byok_micro is None
    # Counts that were not sent are unknown, never 0.
    assert lines["a"].requests is None and lines["a"].input_tokens is None and lines["a"].reasoning_tokens is None
    assert {line.actor for line in lines.values()} == {"Default workspace"}


async def test_a_count_missing_on_one_row_makes_its_line_unknown(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    rows = [
        row(YESTERDAY, 1),
        row(YESTERDAY, 1, endpoint_id="e-2", requests=None, byok_usage_inference=0.25),
        row(YESTERDAY, 1, model="x-ai/grok-4-fast"),
    ]
    serve(mock, account(rows))
    async with client(sleep) as c:
        lines = {line.model: line for line in await lines_of(c, *window())}
    gpt, grok = lines["openai/gpt-5"], lines["x-ai/grok-4-fast"]
    assert gpt.requests is None and gpt.input_tokens == 200 and gpt.output_tokens == 40
    assert gpt.reasoning_tokens == 10 and gpt.byok_micro == 25_000_000 and gpt.cost_micro == 200_000_000
    assert grok.requests == 3 and grok.byok_micro == 0 and not grok.on_demand


async def test_only_the_window_and_never_today(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    days = [TODAY - datetime.timedelta(days=n) for n in (12, 11, 10, 1, 0, -1)]
    rows = [row(day, 1) for day in days]
    rows.append(row(TODAY - datetime.timedelta(days=12), 1, ws=WS_LAB))
    mock.get(f"{API}/activity").respond(200, json={"data": rows})
    mock.get(f"{API}/workspaces").respond(200, json={"data": WORKSPACES, "total_count": 2})
    async with client(sleep) as c:
        middle = await lines_of(c, days[1], days[2])
        newest = await lines_of(c, days[2] + datetime.timedelta(days=1), TODAY + datetime.timedelta(days=3))
        first = await lines_of(c, days[0] - datetime.timedelta(days=5), days[0])
    assert sorted(line.day for line in middle) == [days[1], days[2]]
    assert [line.day for line in newest] == [YESTERDAY]  # today and later are never read
    assert sorted((line.day, line.actor) for line in first) == [(days[0], "Lab"), (days[0], "Main")]


async def test_one_activity_call_for_every_window(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    fake = account([row(TODAY - datetime.timedelta(days=n), n) for n in range(1, 31)])
    serve(mock, fake)
    async with client(sleep) as c:
        total = 0
        for start in range(30, 0, -10):
            first = TODAY - datetime.timedelta(days=start)
            total += sum(line.cost_micro for line in await lines_of(c, first, first + datetime.timedelta(days=9)))
    assert total == sum(range(1, 31)) * 100_000_000
    assert fake.calls == {"/activity": 1, "/workspaces": 1}
    assert fake.params[0] == {"group_by": "workspace"}


async def test_a_window_is_checked_before_anything_is_sent(sleep: RecordingSleep) -> None:
    async with client(sleep) as c:
        with pytest.raises(ValueError):
            c.cost_lines(TODAY - datetime.timedelta(days=30), TODAY)  # 31 days
        with pytest.raises(ValueError):
            c.cost_lines(TODAY, YESTERDAY)
        assert c.stats.requests == 0


# ------------------------------------------------------------------ malformed answers


MALFORMED = {
    "no data": {},
    "data not a list": {"data": {"rows": []}},
    "data null": {"data": None},
    "row not an object": {"data": [["2026-08-09", 1]]},
    "row without a date": {"data": [{"model": "a", "usage": 1}]},
    "date unreadable": {"data": [{"date": "09/08/2026", "model": "a", "usage": 1}]},
    "date a number": {"data": [{"date": 20260809, "model": "a", "usage": 1}]},
    "date impossible": {"data": [{"date": "2026-02-30", "model": "a", "usage": 1}]},
    "usage missing": {"data": [{"date": "2026-08-09", "model": "a"}]},
    "usage null": {"data": [{"date": "2026-08-09", "model": "a", "usage": None}]},
    "usage text": {"data": [{"date": "2026-08-09", "model": "a", "usage": f"{KEY}"}]},
    "usage a boolean": {"data": [{"date": "2026-08-09", "model": "a", "usage": True}]},
    "usage an object": {"data": [{"date": "2026-08-09", "model": "a", "usage": {"usd": 1}}]},
    "usage absurd": {"data": [{"date": "2026-08-09", "model": "a", "usage": 1e30}]},
    "byok text": {"data": [{"date": "2026-08-09", "model": "a", "usage": 1, "byok_usage_inference": "n/a"}]},
    "requests fractional": {"data": [{"date": "2026-08-09", "model": "a", "usage": 1, "requests": 2.5}]},
    "tokens negative": {"data": [{"date": "2026-08-09", "model": "a", "usage": 1, "prompt_tokens": -4}]},
    "model not a string": {"data": [{"date": "2026-08-09", "model": 42, "usage": 1}]},
    "workspace not a string": {"data": [{"date": "2026-08-09", "model": "a", "usage": 1, "workspace_id": 7}]},
}


@pytest.mark.parametrize("shape", list(MALFORMED))
async def test_a_malformed_answer_fails_the_sync(
    mock: respx.MockRouter, sleep: RecordingSleep, caplog: pytest.LogCaptureFixture, shape: str
) -> None:
    caplog.set_level(logging.DEBUG)
    # A good row of another day beside the bad one: still nothing is yielded, no day is covered.
    body = MALFORMED[shape]
    if isinstance(body.get("data"), list):
        body = {"data": [row("2026-08-01", ws=None), *body["data"]]}
    route = mock.get(f"{API}/activity").respond(200, json=body)
    c = client(sleep)
    batches = []
    with pytest.raises(BadResponse) as raised:
        async for batch in c.cost_lines(*window()):
            batches.append(batch)
    sentence = raised.value.sentence
    assert batches == [] and c.days_covered(*window()) == []
    assert sentence.startswith("the OpenRouter API") and sentence.endswith("nothing from this window was saved")
    assert "\n" not in sentence and route.call_count == 1
    assert_no_key([*rendered(raised.value), caplog.text])
    await c.aclose()


async def test_a_body_that_is_not_json_is_retried_then_malformed(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    route = mock.get(f"{API}/activity").respond(200, content=b'{"data": [{"date": "2026-08-')
    async with client(sleep, max_attempts=3) as c:
        with pytest.raises(BadResponse):
            await lines_of(c, *window())
    assert route.call_count == 3


async def test_too_many_models_is_a_limit(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    rows = [{"date": "2026-08-09", "model": f"m/{i}", "usage": 0} for i in range(MAX_MODELS + 1)]
    mock.get(f"{API}/activity").respond(200, json={"data": rows})
    async with client(sleep) as c:
        with pytest.raises(LimitExceeded) as raised:
            await lines_of(c, *window())
    assert "models" in raised.value.sentence and raised.value.sentence.endswith("nothing from this window was saved")


async def test_an_inference_key_reading_activity_gets_the_same_sentence(
    mock: respx.MockRouter, sleep: RecordingSleep
) -> None:
    serve(mock, account(management=False))
    async with client(sleep) as c:
        with pytest.raises(NotManagementKey) as raised:
            await lines_of(c, *window())
    assert raised.value.sentence == WRONG_KIND_SENTENCE


# ------------------------------------------------------------------ days covered


async def test_days_covered(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    with_rows = {TODAY - datetime.timedelta(days=n) for n in (20, 9)}
    serve(mock, account([row(day) for day in sorted(with_rows)]))
    first, last = TODAY - datetime.timedelta(days=40), TODAY + datetime.timedelta(days=1)
    async with client(sleep) as c:
        assert c.days_covered(TODAY - datetime.timedelta(days=5), YESTERDAY) == []  # nothing read yet
        await lines_of(c, TODAY - datetime.timedelta(days=29), YESTERDAY)
        covered = c.days_covered(first, last)
        window_days = c.days_covered(*window())
    oldest = TODAY - datetime.timedelta(days=30)
    assert covered == [oldest + datetime.timedelta(days=i) for i in range(29)]  # oldest .. the day before yesterday
    assert with_rows <= set(covered) and YESTERDAY not in covered and TODAY not in covered
    assert window_days == covered


async def test_yesterday_is_covered_once_it_has_rows(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    serve(mock, account([row(YESTERDAY), row(TODAY)]))
    async with client(sleep) as c:
        await lines_of(c, YESTERDAY, TODAY)
        assert c.days_covered(YESTERDAY, TODAY) == [YESTERDAY]


async def test_today_follows_the_sync_clock(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    fake = account([row(YESTERDAY)], today=TODAY + datetime.timedelta(days=1))
    serve(mock, fake)
    async with client(sleep, today=YESTERDAY) as c:  # the sync's today: the row's own day
        assert await lines_of(c, *window()) == []
        assert c.days_covered(YESTERDAY - datetime.timedelta(days=1), YESTERDAY) == []


# ------------------------------------------------------------------ the fake and the demo


async def test_the_fake_answers_like_openrouter() -> None:
    rows = [row(TODAY - datetime.timedelta(days=n), 0.5, ws=ws) for n in (31, 30, 1, 0) for ws in (WS_MAIN, WS_LAB)]
    fake = account(rows)
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handler), base_url=API) as http:
        bearer = {"Authorization": f"Bearer {KEY}"}
        unauthorized = (await http.get("/activity")).json()
        assert unauthorized == {"error": {"code": 401, "message": "Missing Authentication header"}}
        served = (await http.get("/activity", params={"group_by": "workspace"}, headers=bearer)).json()["data"]
        dates = [(TODAY - datetime.timedelta(days=n)).isoformat() for n in (30, 1)]
        assert sorted({r["date"] for r in served}) == dates
        assert {r["workspace_id"] for r in served} == {WS_MAIN, WS_LAB}
        merged = (await http.get("/activity", headers=bearer)).json()["data"]
        assert len(merged) == 2 and all(
            "workspace_id" not in r and r["usage"] == 1.0 and r["requests"] == 6 for r in merged
        )
        one_day = (await http.get("/activity", params={"date": YESTERDAY.isoformat()}, headers=bearer)).json()["data"]
        assert [r["date"] for r in one_day] == [YESTERDAY.isoformat()]
        for bad in (TODAY.isoformat(), (TODAY - datetime.timedelta(days=31)).isoformat(), "yesterday"):
            assert (await http.get("/activity", params={"date": bad}, headers=bearer)).status_code == 400
        assert (await http.get("/workspaces", params={"limit": 101}, headers=bearer)).status_code == 400
        page = (await http.get("/workspaces", params={"offset": 1, "limit": 1}, headers=bearer)).json()
        assert page == {"data": [WORKSPACES[1]], "total_count": 2}
    fake.management = False
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handler), base_url=API) as http:
        for path in ("/activity", "/credits", "/workspaces"):
            answer = await http.get(path, headers=bearer)
            assert answer.status_code == 403
            assert answer.json()["error"]["message"] == "Only management keys can perform this operation"
        assert (await http.get("/key", headers=bearer)).json()["data"]["is_management_key"] is False


def test_the_demo_account_is_a_bursty_hobby_month() -> None:
    one, two = demo_account(KEY, TODAY, 3), demo_account(KEY, TODAY, 3)
    assert one.rows == two.rows and one.workspaces == two.workspaces
    assert one.rows != demo_account(KEY, TODAY, 4).rows
    served = one.served_rows()
    assert {w["name"] for w in one.workspaces} == {"Default workspace", "Prototypes"}
    assert {r["model"] for r in served} == {
        "anthropic/claude-sonnet-4.5",
        "openai/gpt-5",
        "google/gemini-2.5-flash",
        "deepseek/deepseek-chat-v3.1",
        "meta-llama/llama-3.3-70b-instruct",
        "x-ai/grok-4-fast",
    }
    per_day: dict[str, Decimal] = collections.defaultdict(Decimal)
    for r in served:
        per_day[r["date"]] += Decimal(repr(r["usage"]))
        assert r["workspace_id"] in {w["id"] for w in one.workspaces}
    days = {(TODAY - datetime.timedelta(days=n)).isoformat() for n in range(1, 31)}
    assert set(per_day) <= days  # the 30 completed days before today, never today
    assert all(Decimal(0) <= spend <= Decimal(40) for spend in per_day.values())
    assert len(days - set(per_day)) >= 2  # quiet days
    assert max(per_day.values()) >= 12  # an experiment day
    assert any(r["byok_usage_inference"] > 0 for r in served)
    keys = [(r["date"], r["model"], r["endpoint_id"], r["workspace_id"]) for r in served]
    assert len(keys) == len(set(keys))  # one row per day, model, endpoint and workspace


async def test_the_demo_account_syncs_through_the_client(sleep: RecordingSleep) -> None:
    demo = demo_account(KEY, TODAY, 11)
    async with client(sleep, transport=httpx.MockTransport(demo.handler)) as c:
        info = await c.validate()
        lines = await lines_of(c, *window())
    want = sum(Decimal(repr(r["usage"])) for r in demo.served_rows())
    assert info.members == 2 and sum(line.cost_micro for line in lines) == int(want * 100_000_000)
    assert {line.actor for line in lines} <= {"Default workspace", "Prototypes"}
